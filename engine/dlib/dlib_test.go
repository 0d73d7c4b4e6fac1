package dlib_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/dlib"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/internal/testenv"
)

// TestMain is the handle-leak check: after every test, including the
// failed loads and the calls on closed handles, no native handle may be
// left open.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	closeShared()
	if n := dlib.LiveHandles(); n != 0 && code == 0 {
		fmt.Fprintf(os.Stderr, "leak: %d native handles still open after the tests\n", n)
		code = 1
	}
	os.Exit(code)
}

var (
	sharedOnce   sync.Once
	sharedModels *dlib.Models
	sharedErr    error
)

// shapeModel returns the path of the 68-point shape predictor, skipping
// when it is not installed.
func shapeModel(tb testing.TB) string {
	tb.Helper()
	if _, err := os.Stat(engine.DefaultShapeModel); err != nil {
		tb.Skipf("shape predictor not installed: %v", err)
	}
	return engine.DefaultShapeModel
}

// mustModels loads the shape predictor once for the test binary (about
// 100 MB); TestMain closes it before the leak check.
func mustModels(tb testing.TB) *dlib.Models {
	tb.Helper()
	path := shapeModel(tb)
	sharedOnce.Do(func() { sharedModels, sharedErr = dlib.LoadModels(path) })
	if sharedErr != nil {
		tb.Fatalf("LoadModels: %v", sharedErr)
	}
	return sharedModels
}

func closeShared() {
	if sharedModels != nil {
		sharedModels.Close()
	}
}

// mustInstance opens an instance with the real ResNet (no CNN detector)
// and closes it when the test ends.
func mustInstance(tb testing.TB) *dlib.Instance {
	tb.Helper()
	m := mustModels(tb)
	in, err := dlib.NewInstance(m, filepath.Join(testenv.ModelDir(tb), engine.ResNetFile), "")
	if err != nil {
		tb.Fatalf("NewInstance: %v", err)
	}
	tb.Cleanup(func() { in.Close() })
	return in
}

// rgbOf decodes a test photo; imageio's packed RGB is dlib's layout.
func rgbOf(tb testing.TB, name string) *dlib.RGB {
	tb.Helper()
	img, err := imageio.Decode(testenv.Photo(tb, name), imageio.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	return &dlib.RGB{Pix: img.Pix, Width: img.Width, Height: img.Height, Stride: img.Stride}
}

// gray is a uniform w×h image: enough for calls whose arguments are
// refused before any pixel is read.
func gray(w, h int) *dlib.RGB {
	return &dlib.RGB{Pix: bytes.Repeat([]byte{128}, w*h*3), Width: w, Height: h, Stride: w * 3}
}

// shape is 68 points spread over a face-sized box of a 200×200 image.
func shape() []image.Point {
	pts := make([]image.Point, 68)
	for i := range pts {
		pts[i] = image.Pt(60+(i%10)*8, 60+(i/10)*12)
	}
	return pts
}

// wantErr fails unless err wraps target and carries the native message
// (something after the sentinel's own text), i.e. the status made it from
// C++ to Go with its explanation.
func wantErr(t *testing.T, err, target error, msgPart string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
	if !strings.Contains(err.Error(), msgPart) {
		t.Fatalf("err = %q, want it to mention %q", err, msgPart)
	}
	t.Logf("%v", err)
}

// TestCorruptModelsThrowInsideC drives dlib's deserializer into throwing
// (dlib::serialization_error, a std::exception) on bad model files. The
// exception must be caught in C++ and come out as ErrModel with dlib's
// message, and a failed load must leave no handle open.
func TestCorruptModelsThrowInsideC(t *testing.T) {
	dir := testenv.ModelDir(t)
	tmp := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	resnet, err := os.ReadFile(filepath.Join(dir, engine.ResNetFile))
	if err != nil {
		t.Fatal(err)
	}
	garbage := write("garbage.dat", bytes.Repeat([]byte("not a dlib model "), 64))
	truncated := write("truncated.dat", resnet[:len(resnet)/3])
	empty := write("empty.dat", nil)
	missing := filepath.Join(tmp, "absent.dat")
	// A real dlib file of the wrong kind: the MMOD detector where the
	// ResNet is expected.
	wrongNet := filepath.Join(dir, engine.MMODFile)

	t.Run("ShapePredictor", func(t *testing.T) {
		for _, tt := range []struct{ name, path string }{
			{"Garbage", garbage}, {"Empty", empty}, {"Missing", missing},
			// The ResNet file is a valid dlib file, but not a shape predictor.
			{"ResNetInstead", filepath.Join(dir, engine.ResNetFile)},
		} {
			t.Run(tt.name, func(t *testing.T) {
				before := dlib.LiveHandles()
				m, err := dlib.LoadModels(tt.path)
				if m != nil {
					m.Close()
				}
				wantErr(t, err, dlib.ErrModel, "load shape predictor")
				if msg := strings.TrimSpace(err.Error()[strings.Index(err.Error(), dlib.ErrModel.Error())+len(dlib.ErrModel.Error()):]); msg == "" {
					t.Errorf("no native message in %q", err)
				}
				if n := dlib.LiveHandles(); n != before {
					t.Errorf("live handles %d after a failed load, want %d", n, before)
				}
			})
		}
	})

	t.Run("Networks", func(t *testing.T) {
		m := mustModels(t)
		for _, tt := range []struct{ name, resnet, mmod string }{
			{"GarbageResNet", garbage, ""},
			{"TruncatedResNet", truncated, ""},
			{"WrongNetwork", wrongNet, ""},
			// The ResNet loads, then the MMOD detector throws: the
			// half-built instance must be freed, not leaked.
			{"GarbageMMOD", filepath.Join(dir, engine.ResNetFile), garbage},
		} {
			t.Run(tt.name, func(t *testing.T) {
				// Each attempt builds the networks' layers before reading
				// weights (seconds here); -short keeps two.
				if testing.Short() && tt.name != "GarbageResNet" && tt.name != "GarbageMMOD" {
					t.Skip("-short")
				}
				before := dlib.LiveHandles()
				in, err := dlib.NewInstance(m, tt.resnet, tt.mmod)
				if in != nil {
					in.Close()
				}
				wantErr(t, err, dlib.ErrModel, "load networks")
				if n := dlib.LiveHandles(); n != before {
					t.Errorf("live handles %d after a failed load, want %d", n, before)
				}
			})
		}
	})
}

// TestBadArguments covers ErrArgument from both sides of the boundary:
// what Go refuses before calling C, and what C refuses and reports through
// its status (the "bad ... arguments" messages come from facekit.cc).
func TestBadArguments(t *testing.T) {
	in := mustInstance(t)
	img := gray(200, 200)
	good := [][]image.Point{shape()}
	tests := []struct {
		name string
		call func() error
		msg  string
	}{
		// Refused in C.
		{"DetectUpsampleTooHigh", func() error { _, err := in.Detect(img, dlib.HOG, dlib.Upsample{Levels: 4}); return err }, "bad detect arguments"},
		{"DetectUpsampleNegative", func() error { _, err := in.Detect(img, dlib.HOG, dlib.Upsample{Levels: -1}); return err }, "bad detect arguments"},
		{"DescribeJitterTooHigh", func() error { _, err := in.Describe(img, good, 101); return err }, "bad describe arguments"},
		{"DescribeJitterNegative", func() error { _, err := in.Describe(img, good, -1); return err }, "bad describe arguments"},
		{"ChipPaddingNegative", func() error { _, err := dlib.Chip(img, shape(), 150, -0.5); return err }, "bad chip arguments"},
		{"ChipPaddingTooLarge", func() error { _, err := dlib.Chip(img, shape(), 150, 3); return err }, "bad chip arguments"},
		// Refused in Go before C sees a pointer.
		{"StrideTooShort", func() error {
			_, err := in.Detect(&dlib.RGB{Pix: make([]byte, 300), Width: 10, Height: 10, Stride: 20}, dlib.HOG, dlib.Upsample{})
			return err
		}, "inconsistent RGB buffer"},
		{"BufferTooSmall", func() error {
			_, err := in.Landmarks(&dlib.RGB{Pix: make([]byte, 100), Width: 10, Height: 10, Stride: 30}, []image.Rectangle{image.Rect(0, 0, 5, 5)})
			return err
		}, "inconsistent RGB buffer"},
		{"NilImage", func() error { _, err := dlib.Chip(nil, shape(), 150, 0.25); return err }, "inconsistent RGB buffer"},
		{"ShapeNot68Points", func() error { _, err := in.Describe(img, [][]image.Point{shape()[:5]}, 0); return err }, "want 68 points"},
		{"ChipSizeTooSmall", func() error { _, err := dlib.Chip(img, shape(), 4, 0.25); return err }, "size 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, tt.call(), dlib.ErrArgument, tt.msg)
		})
	}
	// Asking an instance loaded without the MMOD file for CNN detection
	// is ErrModel, reported by C without an exception.
	t.Run("CNNWithoutModel", func(t *testing.T) {
		if in.HasCNN() {
			t.Fatal("HasCNN without an MMOD file")
		}
		_, err := in.Detect(img, dlib.CNN, dlib.Upsample{})
		wantErr(t, err, dlib.ErrModel, "CNN detector model not loaded")
	})
	// The instance still works after refusing all of that.
	if _, err := in.Detect(img, dlib.HOG, dlib.Upsample{}); err != nil {
		t.Errorf("Detect after bad calls: %v", err)
	}
}

// TestClosedHandles: every call on a closed instance, and a new instance
// on closed models, is ErrClosed (never a call into freed C++ memory);
// Close is idempotent and the handle count drops exactly once.
func TestClosedHandles(t *testing.T) {
	dir := testenv.ModelDir(t)
	resnet := filepath.Join(dir, engine.ResNetFile)
	models := mustModels(t)
	img := rgbOf(t, "jimin.jpg")

	before := dlib.LiveHandles()
	in, err := dlib.NewInstance(models, resnet, "")
	if err != nil {
		t.Fatal(err)
	}
	// Real results first, so the closed calls below are refusing work that
	// would otherwise succeed.
	dets, err := in.Detect(img, dlib.HOG, dlib.Upsample{})
	if err != nil || len(dets) == 0 {
		t.Fatalf("Detect on an open instance: %d faces, %v", len(dets), err)
	}
	boxes := []image.Rectangle{dets[0].Rect}
	shapes, err := in.Landmarks(img, boxes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Describe(img, shapes, 0); err != nil {
		t.Fatal(err)
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	if err := in.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if n := dlib.LiveHandles(); n != before {
		t.Fatalf("live handles %d after closing twice, want %d", n, before)
	}
	for _, tt := range []struct {
		name string
		call func() error
	}{
		{"Detect", func() error { _, err := in.Detect(img, dlib.HOG, dlib.Upsample{}); return err }},
		{"DetectCNN", func() error { _, err := in.Detect(img, dlib.CNN, dlib.Upsample{}); return err }},
		{"Landmarks", func() error { _, err := in.Landmarks(img, boxes); return err }},
		{"Describe", func() error { _, err := in.Describe(img, shapes, 0); return err }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, dlib.ErrClosed) {
				t.Fatalf("err = %v, want ErrClosed", err)
			}
		})
	}

	t.Run("NewInstanceOnClosedModels", func(t *testing.T) {
		m, err := dlib.LoadModels(shapeModel(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if err := m.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		in, err := dlib.NewInstance(m, resnet, "")
		if in != nil {
			in.Close()
		}
		if !errors.Is(err, dlib.ErrClosed) {
			t.Fatalf("err = %v, want ErrClosed", err)
		}
		if _, err := dlib.NewInstance(nil, resnet, ""); !errors.Is(err, dlib.ErrClosed) {
			t.Fatalf("nil models: err = %v, want ErrClosed", err)
		}
		if n := dlib.LiveHandles(); n != before {
			t.Fatalf("live handles %d, want %d", n, before)
		}
	})
}
