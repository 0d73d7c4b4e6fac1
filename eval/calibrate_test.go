package eval

import (
	"fmt"
	"math"
	"testing"

	"github.com/facekit/facekit/descriptor"
)

// TestCalibrateCosineReadsCosineDistance checks that a cosine model's curve
// is expressed in cosine distance: for unit vectors at known angles the
// measured FAR at a cosine distance must match the fraction of impostor
// pairs at most that far apart.
func TestCalibrateCosineReadsCosineDistance(t *testing.T) {
	emb := &Embeddings{Vectors: map[string]map[string][]float32{"m": {}}}
	var vecs [][]float32
	for i := 0; i < 80; i++ {
		a := float64(i) * 0.037 // spread over ~3 radians
		v := []float32{float32(math.Cos(a)), float32(math.Sin(a))}
		vecs = append(vecs, v)
		emb.Vectors["m"][fmt.Sprintf("p%02d/img.jpg", i/2)] = v // two images per person
		emb.Vectors["m"][fmt.Sprintf("p%02d/img2.jpg", i/2)] = v
	}
	curve, err := Calibrate(emb, descriptor.Info{Name: "m", Metric: descriptor.Cosine}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if curve.Model != "m" || len(curve.Points) == 0 {
		t.Fatalf("curve %+v", curve)
	}
	// Empirical FAR at cosine distance 0.1 over impostor pairs.
	const d = 0.1
	var imp, close int
	type img struct {
		person int
		v      []float32
	}
	var all []img
	for i, v := range vecs {
		all = append(all, img{i / 2, v}, img{i / 2, v})
	}
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			if all[i].person == all[j].person {
				continue
			}
			imp++
			c, _ := descriptor.Distance(descriptor.Cosine, all[i].v, all[j].v)
			if c <= d {
				close++
			}
		}
	}
	want := float64(close) / float64(imp)
	if got := curve.FAR(d); math.Abs(got-want) > 0.25*want {
		t.Errorf("FAR(%v) = %v, measured %v", d, got, want)
	}
	for _, p := range curve.Points {
		if p.Distance < 0 || p.Distance > 2 {
			t.Errorf("point %+v outside cosine range", p)
		}
	}
}
