package descriptor

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/facekit/facekit/engine/tfgraph"
	"github.com/facekit/facekit/internal/missing"
	"github.com/facekit/facekit/internal/testenv"
)

func TestMirrorTensor(t *testing.T) {
	// 1×2×3×2: rows (a b c), (d e f), two channels each.
	in := &tfgraph.Tensor{Shape: []int{1, 2, 3, 2}, Data: []float32{
		1, 2, 3, 4, 5, 6,
		7, 8, 9, 10, 11, 12,
	}}
	want := []float32{
		5, 6, 3, 4, 1, 2,
		11, 12, 9, 10, 7, 8,
	}
	mirrorTensor(in)
	if !slices.Equal(in.Data, want) {
		t.Errorf("mirrored %v, want %v", in.Data, want)
	}
}

// TestFlipDescriptor checks mobilefacenet_flip on a real face against the
// plain model: it is the normalised sum of the plain model's raw
// embeddings of the crop and of the crop mirrored (built here pixel by
// pixel), and so the same for a crop and its mirror.
func TestFlipDescriptor(t *testing.T) {
	if testing.Short() {
		t.Skip("runs MobileFaceNet")
	}
	e := mustEngine(t)
	img, f := mustFace(t, e, "jimin.jpg")
	path := filepath.Join(testenv.ModelDir(t), "human-models", MobileFaceNet.File)
	flipD, err := OpenTF(path, MobileFaceNetFlip)
	if err != nil {
		missing.Data(t, missing.ModelDir, "mobilefacenet not available: %v", err)
	}
	flip := flipD.(*tfDescriber)
	in, err := flip.Input(img, f)
	if err != nil {
		t.Fatal(err)
	}
	const size = 112
	mirrored := tfgraph.NewTensor(1, size, size, 3)
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			for c := 0; c < 3; c++ {
				mirrored.Data[(y*size+x)*3+c] = in.Data[(y*size+size-1-x)*3+c]
			}
		}
	}
	raw := func(t0 *tfgraph.Tensor) []float32 {
		out, err := flip.model.Run(map[string]*tfgraph.Tensor{flip.input: t0}, MobileFaceNet.Output)
		if err != nil {
			t.Fatal(err)
		}
		return out[MobileFaceNet.Output].Data
	}
	a, b := raw(in), raw(mirrored)
	want := make([]float32, len(a))
	for i := range a {
		want[i] = a[i] + b[i]
	}
	l2normalize(want)

	got, err := flip.Describe(t.Context(), img, f)
	if err != nil {
		t.Fatal(err)
	}
	fromMirror, err := flip.embed(mirrored)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string][]float32{"Describe": got, "mirrored crop": fromMirror} {
		if len(v) != MobileFaceNet.Dim {
			t.Fatalf("%s: %d values, want %d", name, len(v), MobileFaceNet.Dim)
		}
		for i := range v {
			if math.Abs(float64(v[i]-want[i])) > 1e-5 {
				t.Fatalf("%s: value %d is %g, want %g", name, i, v[i], want[i])
			}
		}
	}
	// The mirror is a different view: the two raw embeddings differ, and
	// the flip descriptor is not the plain one.
	l2normalize(a)
	l2normalize(b)
	ab, _ := Distance(Cosine, a, b)
	ag, _ := Distance(Cosine, a, got)
	t.Logf("cosine distance crop–mirror %.4f, crop–flip %.4f", ab, ag)
	if ab < 1e-3 || ag < 1e-4 {
		t.Errorf("mirror changes nothing: crop–mirror %.4g, crop–flip %.4g", ab, ag)
	}
}
