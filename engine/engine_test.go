package engine_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/dlib"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/internal/testenv"
)

var (
	sharedEngine *engine.Engine
	engineOnce   sync.Once
	engineErr    error
)

// TestMain closes the shared engine and then checks that every native
// handle was freed.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if sharedEngine != nil {
		sharedEngine.Close()
	}
	if n := dlib.LiveHandles(); n != 0 && code == 0 {
		fmt.Fprintf(os.Stderr, "leak: %d native handles still open after the tests\n", n)
		code = 1
	}
	os.Exit(code)
}

func mustEngine(tb testing.TB) *engine.Engine {
	tb.Helper()
	dir := testenv.ModelDir(tb)
	engineOnce.Do(func() {
		sharedEngine, engineErr = engine.New(engine.Config{ModelDir: dir, PoolSize: 2})
	})
	if engineErr != nil {
		tb.Fatalf("engine.New: %v", engineErr)
	}
	return sharedEngine
}

func mustImage(tb testing.TB, name string) *imageio.Image {
	tb.Helper()
	data, err := os.ReadFile(testenv.Face(tb, name))
	if err != nil {
		tb.Fatal(err)
	}
	img, err := imageio.Decode(data, imageio.DefaultLimits())
	if err != nil {
		tb.Fatalf("decode %s: %v", name, err)
	}
	return img
}

func analyze(tb testing.TB, img image.Image, opts engine.Options) []engine.Face {
	tb.Helper()
	faces, err := mustEngine(tb).Analyze(context.Background(), img, opts)
	if err != nil {
		tb.Fatalf("Analyze: %v", err)
	}
	return faces
}

func TestGroupPhotoHasTenFaces(t *testing.T) {
	faces := analyze(t, mustImage(t, "pristin.jpg"), engine.Options{})
	if len(faces) != 10 {
		t.Fatalf("pristin.jpg: got %d faces, want 10", len(faces))
	}
	for i := 1; i < len(faces); i++ {
		if a, b := faces[i-1].Rect, faces[i].Rect; a.Dx()*a.Dy() < b.Dx()*b.Dy() {
			t.Errorf("faces not sorted by area at %d: %v before %v", i, a, b)
		}
	}
	for _, f := range faces {
		if f.Probability <= 0.5 || f.Probability > 1 {
			t.Errorf("face %v: probability %.3f outside (0.5, 1]", f.Rect, f.Probability)
		}
	}
	t.Run("MaxFaces", func(t *testing.T) {
		if got := analyze(t, mustImage(t, "pristin.jpg"), engine.Options{MaxFaces: 3}); len(got) != 3 {
			t.Fatalf("MaxFaces 3: got %d", len(got))
		}
	})
	t.Run("SortByCenter", func(t *testing.T) {
		img := mustImage(t, "pristin.jpg")
		got := analyze(t, img, engine.Options{SortByCenter: true})
		cx, cy := float64(img.Width)/2, float64(img.Height)/2
		dist := func(r image.Rectangle) float64 {
			return math.Hypot(float64(r.Min.X+r.Max.X)/2-cx, float64(r.Min.Y+r.Max.Y)/2-cy)
		}
		for i := 1; i < len(got); i++ {
			if dist(got[i-1].Rect) > dist(got[i].Rect) {
				t.Errorf("face %d farther from centre than face %d", i-1, i)
			}
		}
	})
}

// profiles are test photos of a face in profile: dlib's HOG detector is a
// frontal detector and rightly finds nothing there; the CNN detector must.
var profiles = map[string]bool{"eunseo.jpg": true, "jimin3.jpg": true}

// singles are the test photos that show one frontal face.
func singles(tb testing.TB) []string {
	entries, err := os.ReadDir(filepath.Join(testenv.TestData(tb), "faces"))
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".jpg") && e.Name() != "pristin.jpg" && !profiles[e.Name()] {
			names = append(names, e.Name())
		}
	}
	return names
}

// person is the photo name without its trailing number: jimin3.jpg -> jimin.
func person(name string) string {
	return strings.TrimRight(strings.TrimSuffix(name, ".jpg"), "0123456789")
}

func TestSinglePhotosHaveOneFaceAndSamePersonIsCloser(t *testing.T) {
	type described struct {
		name string
		desc engine.Descriptor
	}
	var all []described
	for _, name := range singles(t) {
		faces := analyze(t, mustImage(t, name), engine.Options{Descriptors: true, Upsample: -1})
		if len(faces) != 1 {
			t.Errorf("%s: got %d faces, want 1", name, len(faces))
			continue
		}
		if !faces[0].HasDescriptor || len(faces[0].Landmarks) != 68 {
			t.Errorf("%s: descriptor %v, %d landmarks", name, faces[0].HasDescriptor, len(faces[0].Landmarks))
			continue
		}
		all = append(all, described{name, faces[0].Descriptor})
	}
	var same, diff []float64
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			d := engine.Distance(all[i].desc, all[j].desc)
			if person(all[i].name) == person(all[j].name) {
				same = append(same, d)
			} else {
				diff = append(diff, d)
			}
		}
	}
	if len(same) == 0 || len(diff) == 0 {
		t.Fatalf("need same and different pairs, have %d and %d", len(same), len(diff))
	}
	ms, md := mean(same), mean(diff)
	t.Logf("mean distance: same person %.3f (%d pairs), different %.3f (%d pairs)", ms, len(same), md, len(diff))
	if ms >= md {
		t.Fatalf("same-person pairs (%.3f) are not closer than different-person pairs (%.3f)", ms, md)
	}
	// dlib's documented operating point is 0.6: most same-person pairs fall below it.
	sort.Float64s(same)
	if med := same[len(same)/2]; med >= 0.6 {
		t.Errorf("median same-person distance %.3f >= 0.6", med)
	}
}

func TestCNNFindsProfileFaces(t *testing.T) {
	if testing.Short() {
		t.Skip("the CNN detector takes seconds per photo")
	}
	if !mustEngine(t).HasCNN() {
		t.Skip("mmod_human_face_detector.dat not provisioned")
	}
	for name := range profiles {
		t.Run(name, func(t *testing.T) {
			img := mustImage(t, name)
			hog := analyze(t, img, engine.Options{DetectMaxSide: 640})
			cnn := analyze(t, img, engine.Options{Detector: engine.DetectorCNN, DetectMaxSide: 640, Descriptors: true})
			if len(hog) != 0 {
				t.Logf("HOG found %d faces in a profile photo", len(hog))
			}
			if len(cnn) == 0 {
				t.Fatalf("CNN found no face in %s", name)
			}
			if !cnn[0].HasDescriptor {
				t.Errorf("CNN face has no descriptor")
			}
		})
	}
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func TestPose(t *testing.T) {
	// chaeyeon.jpg is a frontal portrait (looked at by eye). A mean 3D
	// face fitted to one person's landmarks is off by a few degrees, so the
	// bound is 10°, not 0.
	img := mustImage(t, "chaeyeon.jpg")
	faces := analyze(t, img, engine.Options{Landmarks: true, Upsample: -1})
	if len(faces) != 1 {
		t.Fatalf("got %d faces", len(faces))
	}
	base := faces[0].Pose
	t.Logf("chaeyeon.jpg pose: %+v", base)
	for _, angle := range []float64{math.Abs(base.Yaw), math.Abs(base.Pitch), math.Abs(base.Roll)} {
		if angle > 10 {
			t.Errorf("frontal photo has a pose angle of %.1f°", angle)
		}
	}
	for _, deg := range []float64{-20, 15} {
		t.Run(fmt.Sprintf("Roll%+.0f", deg), func(t *testing.T) {
			rotated := rotateImage(img, deg)
			faces := analyze(t, rotated, engine.Options{Landmarks: true, Upsample: -1})
			if len(faces) != 1 {
				t.Fatalf("rotated by %.0f°: got %d faces", deg, len(faces))
			}
			got := faces[0].Pose.Roll - base.Roll
			t.Logf("rotated %+.0f° clockwise: roll %+.1f (change %+.1f)", deg, faces[0].Pose.Roll, got)
			if math.Abs(got-deg) > 5 {
				t.Errorf("roll changed by %.1f°, want %.0f±5", got, deg)
			}
		})
	}
}

// rotateImage turns img clockwise by deg degrees about its centre (bilinear),
// keeping the size.
func rotateImage(src *imageio.Image, deg float64) *imageio.Image {
	dst := imageio.NewImage(src.Width, src.Height)
	s, c := math.Sincos(deg * math.Pi / 180)
	cx, cy := float64(src.Width)/2, float64(src.Height)/2
	for y := 0; y < dst.Height; y++ {
		for x := 0; x < dst.Width; x++ {
			// Inverse mapping: rotate the destination pixel back.
			dx, dy := float64(x)-cx, float64(y)-cy
			sx, sy := c*dx+s*dy+cx, -s*dx+c*dy+cy
			x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
			if x0 < 0 || y0 < 0 || x0+1 >= src.Width || y0+1 >= src.Height {
				continue
			}
			fx, fy := sx-float64(x0), sy-float64(y0)
			var px [3]float64
			for _, p := range [4]struct {
				x, y int
				w    float64
			}{{x0, y0, (1 - fx) * (1 - fy)}, {x0 + 1, y0, fx * (1 - fy)}, {x0, y0 + 1, (1 - fx) * fy}, {x0 + 1, y0 + 1, fx * fy}} {
				r, g, b := src.RGBAt(p.x, p.y)
				px[0] += p.w * float64(r)
				px[1] += p.w * float64(g)
				px[2] += p.w * float64(b)
			}
			dst.SetRGB(x, y, uint8(px[0]+0.5), uint8(px[1]+0.5), uint8(px[2]+0.5))
		}
	}
	return dst
}

func TestChipMatchesDescriptorInput(t *testing.T) {
	img := mustImage(t, "bona.jpg")
	faces := analyze(t, img, engine.Options{Landmarks: true, Upsample: -1})
	if len(faces) != 1 {
		t.Fatalf("got %d faces", len(faces))
	}
	chip, err := engine.Chip(img, faces[0], 150, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	if chip.Width != 150 || chip.Height != 150 {
		t.Fatalf("chip is %dx%d", chip.Width, chip.Height)
	}
	// Describing the face again through the chip path must agree with
	// describing it in one Analyze call.
	withDesc := append([]engine.Face(nil), faces...)
	if err := mustEngine(t).Describe(context.Background(), img, withDesc); err != nil {
		t.Fatal(err)
	}
	full := analyze(t, img, engine.Options{Descriptors: true, Upsample: -1})
	if d := engine.Distance(withDesc[0].Descriptor, full[0].Descriptor); d > 1e-4 {
		t.Errorf("Describe and Analyze disagree by %g", d)
	}
	if _, err := engine.Chip(img, engine.Face{}, 150, 0.25); !errors.Is(err, engine.ErrNoLandmarks) {
		t.Errorf("chip without landmarks: %v, want ErrNoLandmarks", err)
	}
}

func TestNoFace(t *testing.T) {
	blank := imageio.NewImage(320, 240)
	if faces := analyze(t, blank, engine.Options{Descriptors: true, Upsample: -1}); len(faces) != 0 {
		t.Fatalf("blank image: %d faces", len(faces))
	}
}

func TestMissingModels(t *testing.T) {
	_, err := engine.New(engine.Config{ModelDir: t.TempDir()})
	if !errors.Is(err, engine.ErrModelMissing) {
		t.Fatalf("err = %v, want ErrModelMissing", err)
	}
	if !strings.Contains(err.Error(), engine.ResNetFile) || !strings.Contains(err.Error(), "make models") {
		t.Errorf("error %q should name the file and the command that fetches it", err)
	}
}

func TestConcurrentAnalyze(t *testing.T) {
	e := mustEngine(t)
	img := mustImage(t, "jimin2.jpg")
	want := analyze(t, img, engine.Options{Descriptors: true, Upsample: -1})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := e.Analyze(context.Background(), img, engine.Options{Descriptors: true, Upsample: -1})
			if err != nil {
				errs <- err
				return
			}
			if len(got) != len(want) || engine.Distance(got[0].Descriptor, want[0].Descriptor) > 1e-5 {
				errs <- fmt.Errorf("concurrent result differs")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
