package descriptor

import (
	"context"
	"errors"
	"image"
	"path/filepath"
	"testing"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/internal/testenv"
)

func TestMirror68IsAnInvolution(t *testing.T) {
	for i, j := range mirror68 {
		if mirror68[j] != i {
			t.Errorf("point %d ↔ %d, but %d ↔ %d", i, j, j, mirror68[j])
		}
	}
	// The eyes' outer corners (36, 45) and the mouth corners (48, 54) swap;
	// the nose tip (30) and chin (8) stay.
	for _, c := range [][2]int{{36, 45}, {48, 54}, {30, 30}, {8, 8}, {0, 16}} {
		if mirror68[c[0]] != c[1] {
			t.Errorf("mirror68[%d] = %d, want %d", c[0], mirror68[c[0]], c[1])
		}
	}
}

func TestMirrorFace(t *testing.T) {
	// A 40×30 image whose pixel encodes its position, and a face whose
	// landmarks all sit at distinct points.
	img := imageio.NewImage(40, 30)
	for y := 0; y < 30; y++ {
		for x := 0; x < 40; x++ {
			img.SetRGB(x, y, uint8(x), uint8(y), 9)
		}
	}
	f := engine.Face{Rect: image.Rect(12, 8, 20, 16), Landmarks: make([]image.Point, 68)}
	for i := range f.Landmarks {
		f.Landmarks[i] = image.Pt(12+i%8, 8+i/8)
	}
	m, mf, err := MirrorFace(img, f)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range f.Landmarks {
		q := mf.Landmarks[mirror68[i]]
		// The mirrored landmark must show the pixel the original showed.
		r, g, _ := m.RGBAt(q.X, q.Y)
		if int(r) != p.X || int(g) != p.Y {
			t.Fatalf("landmark %d at %v shows (%d,%d) in the mirror, want (%d,%d)", i, q, r, g, p.X, p.Y)
		}
	}
	if mf.Rect.Dx() != f.Rect.Dx() || mf.Rect.Dy() != f.Rect.Dy() {
		t.Errorf("box %v became %v", f.Rect, mf.Rect)
	}
	r, _, _ := m.RGBAt(mf.Rect.Min.X, mf.Rect.Min.Y)
	if int(r) != f.Rect.Max.X-1 {
		t.Errorf("mirrored box's left column shows x=%d, want %d", r, f.Rect.Max.X-1)
	}
	if _, _, err := MirrorFace(img, engine.Face{}); !errors.Is(err, engine.ErrNoLandmarks) {
		t.Errorf("no landmarks: %v, want ErrNoLandmarks", err)
	}
}

// TestMirroredDescriptorsAgree checks on a real photo that the mirrored
// face describes the same person: its descriptor is close to the
// original's, and the averaged one closer still to both.
func TestMirroredDescriptorsAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the ResNet")
	}
	e := mustEngine(t)
	img, f := mustFace(t, e, "jimin.jpg")
	env := Env{Engine: e, HumanModels: filepath.Join(testenv.ModelDir(t), "human-models")}
	d, err := Open(ResNet, env)
	if err != nil {
		t.Fatal(err)
	}
	mimg, mf, err := MirrorFace(img, f)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := d.Describe(ctx, img, f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.Describe(ctx, mimg, mf)
	if err != nil {
		t.Fatal(err)
	}
	flip, err := Open(ResNet+MirrorSuffix, env)
	if err != nil {
		t.Fatal(err)
	}
	avg, err := flip.Describe(ctx, img, f)
	if err != nil {
		t.Fatal(err)
	}
	ab, _ := Distance(Euclidean, a, b)
	aAvg, _ := Distance(Euclidean, a, avg)
	t.Logf("face vs mirror %.3f, face vs mean %.3f", ab, aAvg)
	// Same person well inside dlib's 0.6 threshold; the mean sits halfway.
	if ab >= 0.45 || ab == 0 {
		t.Errorf("face and its mirror are %.3f apart", ab)
	}
	if aAvg > ab/2+1e-4 || aAvg < ab/2-1e-4 {
		t.Errorf("mean is %.4f from the face, want half of %.4f", aAvg, ab)
	}
}
