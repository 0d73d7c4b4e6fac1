package descriptor

import (
	"errors"
	"image"
	"math"
	"strings"
	"testing"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
)

func pt(x, y float64) engine.PointF { return engine.PointF{X: x, Y: y} }

func nearF(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestEstimateSimilarityRecoversTransform(t *testing.T) {
	want := Similarity{A: 1.2 * math.Cos(0.3), B: 1.2 * math.Sin(0.3), Tx: -15, Ty: 7.5}
	src := []engine.PointF{pt(10, 20), pt(80, 25), pt(45, 60), pt(20, 90), pt(70, 95)}
	dst := make([]engine.PointF, len(src))
	for i, p := range src {
		dst[i] = want.Apply(p)
	}
	got := EstimateSimilarity(src, dst)
	for _, c := range [][2]float64{{got.A, want.A}, {got.B, want.B}, {got.Tx, want.Tx}, {got.Ty, want.Ty}} {
		if !nearF(c[0], c[1], 1e-9) {
			t.Fatalf("got %+v, want %+v", got, want)
		}
	}
	// Inverse undoes Apply.
	for _, p := range src {
		q := got.Inverse().Apply(got.Apply(p))
		if !nearF(q.X, p.X, 1e-9) || !nearF(q.Y, p.Y, 1e-9) {
			t.Fatalf("inverse: %v -> %v", p, q)
		}
	}
	// A mirrored target cannot be matched by a similarity: the estimate
	// must stay a rotation+scale (never a reflection), so the fit is poor
	// but the transform is still proper.
	mirror := make([]engine.PointF, len(src))
	for i, p := range src {
		mirror[i] = engine.PointF{X: -p.X, Y: p.Y}
	}
	if m := EstimateSimilarity(src, mirror); m.A*m.A+m.B*m.B > 1 {
		t.Errorf("mirror fit %+v has scale > 1", m)
	}
	if s := EstimateSimilarity(nil, nil); s != (Similarity{A: 1}) {
		t.Errorf("empty: %+v, want identity", s)
	}
}

func TestWarpSimilarity(t *testing.T) {
	// A 20×20 image whose pixel value encodes x; warping with a pure
	// translation by (−5, −3) must read pixel (u+5, v+3).
	img := imageio.NewImage(20, 20)
	for y := 0; y < 20; y++ {
		for x := 0; x < 20; x++ {
			img.SetRGB(x, y, uint8(10*x), uint8(10*y), 7)
		}
	}
	out := WarpSimilarity(img, Similarity{A: 1, Tx: -5, Ty: -3}, 10)
	for _, c := range []struct{ u, v int }{{0, 0}, {4, 6}, {9, 9}} {
		r, g, b := out.RGBAt(c.u, c.v)
		if int(r) != 10*(c.u+5) || int(g) != 10*(c.v+3) || b != 7 {
			t.Errorf("(%d,%d) = %d,%d,%d", c.u, c.v, r, g, b)
		}
	}
	// Half-pixel offset interpolates; outside the image is black.
	out = WarpSimilarity(img, Similarity{A: 1, Tx: -0.5}, 5)
	if r, _, _ := out.RGBAt(1, 0); r != 15 {
		t.Errorf("bilinear: r = %d, want 15", r)
	}
	out = WarpSimilarity(img, Similarity{A: 1, Ty: 25}, 5)
	if r, g, b := out.RGBAt(1, 0); r != 0 || g != 0 || b != 0 {
		t.Errorf("outside the image: %d,%d,%d, want black", r, g, b)
	}
}

func TestFivePoints(t *testing.T) {
	lm := make([]image.Point, 68)
	for i := 36; i < 42; i++ {
		lm[i] = image.Pt(30+i-36, 40) // mean x 32.5
	}
	for i := 42; i < 48; i++ {
		lm[i] = image.Pt(60, 38+i-42) // mean y 40.5
	}
	lm[30], lm[48], lm[54] = image.Pt(45, 55), image.Pt(35, 70), image.Pt(58, 71)
	p, err := FivePoints(engine.Face{Landmarks: lm})
	if err != nil {
		t.Fatal(err)
	}
	want := [5]engine.PointF{pt(32.5, 40), pt(60, 40.5), pt(45, 55), pt(35, 70), pt(58, 71)}
	if p != want {
		t.Errorf("got %v, want %v", p, want)
	}
	if _, err := FivePoints(engine.Face{}); !errors.Is(err, engine.ErrNoLandmarks) {
		t.Errorf("no landmarks: err = %v", err)
	}
	if r := Reference(112, 1); r != ArcFace5 {
		t.Errorf("Reference(112, 1) = %v", r)
	}
	if r := Reference(224, 0.5); !nearF(r[0].X, 2*(56+(38.2946-56)*0.5), 1e-9) {
		t.Errorf("Reference(224, 0.5)[0] = %v", r[0])
	}
}

func TestDistanceAndCompare(t *testing.T) {
	a, b := []float32{1, 0}, []float32{0, 2}
	if d, _ := Distance(Euclidean, a, b); !nearF(d, math.Sqrt(5), 1e-9) {
		t.Errorf("euclidean %v", d)
	}
	if d, _ := Distance(Cosine, a, b); !nearF(d, 1, 1e-9) {
		t.Errorf("cosine orthogonal %v", d)
	}
	if d, _ := Distance(Cosine, a, []float32{3, 0}); !nearF(d, 0, 1e-9) {
		t.Errorf("cosine parallel %v", d)
	}
	if _, err := Distance(Cosine, a, []float32{1}); !errors.Is(err, ErrDimension) {
		t.Errorf("length mismatch: %v", err)
	}

	v128 := make([]float32, 128)
	v192 := make([]float32, 192)
	for _, tc := range []struct {
		name string
		a, b Stored
		want error
	}{
		{"SameModel", Stored{ResNet, v128}, Stored{ResNet, v128}, nil},
		{"DifferentModels", Stored{ResNet, v128}, Stored{"mobilefacenet", v192}, ErrModelMismatch},
		{"UnknownModel", Stored{"nope", v128}, Stored{"nope", v128}, ErrUnknownModel},
		{"WrongLength", Stored{ResNet, v192}, Stored{ResNet, v192}, ErrDimension},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compare(tc.a, tc.b)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestRegistry(t *testing.T) {
	names := Names()
	if len(names) < 4 || names[0] != Default {
		t.Fatalf("Names() = %v", names)
	}
	for _, n := range names {
		info, err := Lookup(n)
		if err != nil || info.Dim <= 0 || info.Summary == "" {
			t.Errorf("Lookup(%s) = %+v, %v", n, info, err)
		}
		// Listings mark exactly the default model.
		if marked := strings.HasSuffix(info.Summary, " (default)"); marked != (n == Default) {
			t.Errorf("Lookup(%s).Summary = %q: default mark %v", n, info.Summary, marked)
		}
	}
	// Callers load the native engine only for the models that say they
	// need it (facekit reembed does): the ResNet and its mirrored variant.
	for name, want := range map[string]bool{ResNet: true, ResNet + MirrorSuffix: true, "mobilefacenet": false, "faceres": false} {
		info, err := Lookup(name)
		if err != nil || info.NeedsEngine != want {
			t.Errorf("Lookup(%s).NeedsEngine = %v (%v), want %v", name, info.NeedsEngine, err, want)
		}
		if _, err := Open(name, Env{HumanModels: t.TempDir()}); want && (err == nil || !strings.Contains(err.Error(), "needs an engine")) {
			t.Errorf("Open(%s) without an engine: %v, want a missing-engine error", name, err)
		}
	}
	// File names what Open loads: the engine's own file for the ResNet,
	// the graph or network under the configured directories otherwise.
	env := Env{HumanModels: "/m/human-models"}
	for name, want := range map[string]string{ResNet: "", ResNet + MirrorSuffix: "", "mobilefacenet": "/m/human-models/mobilefacenet.json", FRFeature.Name: "/m/faceplugin/fr_feature.onnx"} {
		if got, err := File(name, env); err != nil || got != want {
			t.Errorf("File(%s) = %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := File("nope", env); !errors.Is(err, ErrUnknownModel) {
		t.Errorf("File(nope): %v", err)
	}
	if _, err := Open("nope", Env{}); !errors.Is(err, ErrUnknownModel) {
		t.Errorf("Open(nope): %v", err)
	}
	if _, err := Open(Default, Env{}); err == nil {
		t.Error("Open(default) without a model directory: no error")
	}
	if _, err := Open("mobileface", Env{HumanModels: t.TempDir()}); err == nil {
		t.Error("Open(mobileface) with no graph: no error")
	}
}
