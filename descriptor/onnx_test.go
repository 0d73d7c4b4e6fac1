package descriptor

import (
	"context"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/internal/testenv"
)

func TestFRFeatureOpenErrors(t *testing.T) {
	dir := t.TempDir()
	for _, env := range []Env{
		{},                                     // no directory at all
		{Faceplugin: dir},                      // directory without the network
		{HumanModels: filepath.Join(dir, "h")}, // sibling faceplugin/ missing
	} {
		if d, err := Open(FRFeature.Name, env); err == nil {
			t.Errorf("Open(%+v) succeeded: %v", env, d)
		}
	}
	if got := (Env{HumanModels: "/m/human-models"}).faceplugin(); got != "/m/faceplugin" {
		t.Errorf("faceplugin next to human-models = %q", got)
	}
	if got := (Env{HumanModels: "/m/human-models", Faceplugin: "/x"}).faceplugin(); got != "/x" {
		t.Errorf("explicit faceplugin = %q", got)
	}
}

// frFeature opens the network, skipping the test when it is not provisioned.
func frFeature(tb testing.TB) *onnxDescriber {
	tb.Helper()
	p := filepath.Join(testenv.ModelDir(tb), "faceplugin", FRFeature.File)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("%s not provisioned (run `make models`)", p)
	}
	d, err := OpenONNX(p, FRFeature, 1)
	if err != nil {
		tb.Fatal(err)
	}
	return d.(*onnxDescriber)
}

// TestFRFeatureInput checks the input preparation against the package's
// documented convention on a face whose landmarks already sit on the
// ArcFace reference (so the warp is the identity): planar RGB, (p−127)/128.
func TestFRFeatureInput(t *testing.T) {
	d := frFeature(t)
	defer d.Close()
	img := imageio.NewImage(112, 112)
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7 % 251)
	}
	f := engine.Face{Rect: image.Rect(20, 20, 92, 92), Landmarks: make([]image.Point, 68)}
	// Eye centres are the mean of six points; put all six on the reference
	// (rounded: landmarks are integers, so the warp is only nearly the
	// identity and the check below compares at whole-pixel positions the
	// warp cannot move by more than a fraction of a pixel).
	set := func(from, to int, p engine.PointF) {
		for i := from; i < to; i++ {
			f.Landmarks[i] = image.Pt(int(p.X+0.5), int(p.Y+0.5))
		}
	}
	set(36, 42, ArcFace5[0])
	set(42, 48, ArcFace5[1])
	set(30, 31, ArcFace5[2])
	set(48, 49, ArcFace5[3])
	set(54, 55, ArcFace5[4])
	pts, _ := FivePoints(f)
	s := EstimateSimilarity(pts[:], ArcFace5[:])
	chip := WarpSimilarity(img, s, 112)
	in, err := d.Input(img, f)
	if err != nil {
		t.Fatal(err)
	}
	if len(in) != 3*112*112 {
		t.Fatalf("%d values", len(in))
	}
	for _, px := range []int{0, 57, 112*56 + 56, 112*112 - 1} {
		for c := 0; c < 3; c++ {
			want := (float32(chip.Pix[3*px+c]) - 127) / 128
			if got := in[c*112*112+px]; got != want {
				t.Errorf("pixel %d channel %d: %v, want %v", px, c, got, want)
			}
		}
	}
	if _, err := d.Input(img, engine.Face{}); err == nil {
		t.Error("a face without landmarks gave an input")
	}
	if _, err := d.Describe(context.Background(), img, engine.Face{}); err == nil {
		t.Error("Describe without landmarks succeeded")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
