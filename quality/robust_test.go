package quality

import (
	"image"
	"math"
	"math/rand"
	"testing"

	"github.com/facekit/facekit/engine"
)

// TestMeasureNeverPanicsOnOddLandmarks feeds landmark sets a buggy or
// hostile caller could pass (random points, points far outside the image,
// a face squeezed to a few pixels) and requires an error or an in-range
// report, never a panic.
func TestMeasureNeverPanicsOnOddLandmarks(t *testing.T) {
	p := photosForTest(t)[0]
	rng := rand.New(rand.NewSource(1))
	gen := []struct {
		name string
		pt   func(i int) image.Point
	}{
		{"RandomInside", func(int) image.Point { return image.Pt(rng.Intn(p.Img.Width), rng.Intn(p.Img.Height)) }},
		{"FarOutside", func(int) image.Point { return image.Pt(rng.Intn(2e6)-1e6, rng.Intn(2e6)-1e6) }},
		{"Tiny", func(i int) image.Point {
			q := p.Face.Landmarks[i]
			return image.Pt(100+q.X/100, 100+q.Y/100)
		}},
		{"Mirrored", func(i int) image.Point {
			q := p.Face.Landmarks[i]
			return image.Pt(p.Img.Width-1-q.X, q.Y)
		}},
	}
	for _, g := range gen {
		t.Run(g.name, func(t *testing.T) {
			for k := 0; k < 20; k++ {
				f := engine.Face{Rect: p.Face.Rect, Landmarks: make([]image.Point, 68)}
				for i := range f.Landmarks {
					f.Landmarks[i] = g.pt(i)
				}
				r, err := Measure(p.Img, f)
				if err != nil {
					continue
				}
				occ := r.Occlusion.values()
				vals := append(occ[:], r.Blur, r.Illumination/255)
				for _, v := range vals {
					if math.IsNaN(v) || v < 0 || v > 1 {
						t.Fatalf("out of range: %+v", r)
					}
				}
			}
		})
	}
}
