package liveness

import (
	"errors"
	"image"
	"math"
	"sync"
	"testing"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/internal/testenv"
)

func TestThresholdsOrdered(t *testing.T) {
	th := CalibratedThresholds()
	if !(0 < th.FRR1e4 && th.FRR1e4 <= th.FRR1e3 && th.FRR1e3 <= th.FRR1e2 && th.FRR1e2 < 1) {
		t.Fatalf("thresholds %+v not 0 < 1e-4 ≤ 1e-3 ≤ 1e-2 < 1", th)
	}
	if !(Threshold(LevelLow) <= Threshold(LevelNormal) && Threshold(LevelNormal) <= Threshold(LevelHigh)) {
		t.Fatal("stricter levels must not have lower thresholds")
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name  string
		score float64
		level Level
		fail  bool
	}{
		{"NoneAlwaysPasses", 0, LevelNone, false},
		{"LowPassesAtThreshold", Threshold(LevelLow), LevelLow, false},
		{"LowFailsBelow", Threshold(LevelLow) * 0.99, LevelLow, true},
		{"HighFailsBetweenNormalAndHigh", (Threshold(LevelNormal) + Threshold(LevelHigh)) / 2, LevelHigh, true},
		{"NormalPassesThere", (Threshold(LevelNormal) + Threshold(LevelHigh)) / 2, LevelNormal, Threshold(LevelNormal) == Threshold(LevelHigh)},
		{"LiveFacePassesHigh", 0.99, LevelHigh, false},
		{"NaNFails", math.NaN(), LevelLow, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.score, tt.level)
			if tt.fail != errors.Is(err, ErrLivenessFailed) || (!tt.fail && err != nil) {
				t.Fatalf("Check(%v, %v) = %v, want fail=%v", tt.score, tt.level, err, tt.fail)
			}
		})
	}
}

func TestFitLogisticRecoversDirection(t *testing.T) {
	// Live samples have a larger detail feature; the fit must weight it
	// positively and ignore unused features.
	var xs [][numFeatures]float64
	var y []float64
	for i := 0; i < 200; i++ {
		var x [numFeatures]float64
		live := i%2 == 0
		x[featDetail] = math.Sin(float64(i)) // noise
		if live {
			x[featDetail] += 1.5
		}
		x[featSaturation] = math.Cos(float64(i) * 0.7)
		xs = append(xs, x)
		y = append(y, map[bool]float64{true: 1}[live])
	}
	m := fitLogistic(xs, y, [numFeatures]bool{featDetail: true}, 1)
	if m.W[featDetail] <= 0 || m.W[featSaturation] != 0 {
		t.Fatalf("weights %v: want detail > 0 and saturation 0", m.W)
	}
	var hi, lo [numFeatures]float64
	hi[featDetail], lo[featDetail] = 2, -1
	if m.prob(hi) <= 0.5 || m.prob(lo) >= 0.5 {
		t.Fatalf("prob(high detail) = %v, prob(low) = %v", m.prob(hi), m.prob(lo))
	}
}

func TestScoreErrors(t *testing.T) {
	c := mustChecker(t)
	img := imageio.NewImage(64, 64)
	lm := make([]image.Point, 68)
	for i := range lm {
		lm[i] = image.Pt(1000+i%10, 1000+i/10)
	}
	tests := []struct {
		name string
		face engine.Face
		want error
	}{
		{"NoLandmarks", engine.Face{Rect: image.Rect(0, 0, 10, 10)}, ErrNoLandmarks},
		{"FaceOutsideImage", engine.Face{Landmarks: lm}, ErrFaceOutside},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.Score(img, tt.face); !errors.Is(err, tt.want) {
				t.Fatalf("Score: %v, want %v", err, tt.want)
			}
		})
	}
}

func TestPreload(t *testing.T) {
	c, err := New(testenv.ModelDir(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Preload(); err != nil || c.live.m == nil {
		t.Fatalf("Preload: %v (liveness net loaded: %v)", err, c.live.m != nil)
	}
}

func TestNewMissingModels(t *testing.T) {
	if _, err := New(t.TempDir()); !errors.Is(err, engine.ErrModelMissing) {
		t.Fatalf("New(empty dir) = %v, want ErrModelMissing", err)
	}
}

func TestScoreInRangeAndDeterministic(t *testing.T) {
	testenv.TestData(t)
	c := mustChecker(t)
	ps := testPhotos(t, 10)
	if len(ps) == 0 {
		t.Fatal("no face found in the test photos")
	}
	for _, p := range ps {
		s1, err := c.Score(p.img, p.face)
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		s2, _ := c.Score(p.img, p.face)
		if s1 < 0 || s1 > 1 || s1 != s2 {
			t.Fatalf("%s: scores %v, %v: want equal and in [0,1]", p.name, s1, s2)
		}
	}
}

// aucMargin allows for the held-out test using every third crop rather
// than all of them (the measured AUC is over all held-out crops).
const aucMargin = 0.06

// TestHeldOutNUAASeparation: on the NUAA subjects the model was not fitted
// on, live crops must outscore print crops about as well as measured when
// it was fitted.
func TestHeldOutNUAASeparation(t *testing.T) {
	if testing.Short() {
		t.Skip("reads and detects ~250 NUAA crops")
	}
	c := mustChecker(t)
	ss, _ := nuaaSamples(t, 3, func(s int) bool { return !trainSubject(s) })
	var live, spoof []float64
	for _, s := range ss {
		p, err := c.Score(s.img, s.face)
		if err != nil {
			t.Fatalf("%s: %v", s.path, err)
		}
		if s.live {
			live = append(live, p)
		} else {
			spoof = append(spoof, p)
		}
	}
	a := auc(live, spoof)
	t.Logf("held-out AUC %.3f on %d live / %d print crops (measured at fit: %.3f)", a, len(live), len(spoof), measuredHeldOutAUC)
	if a < measuredHeldOutAUC-aucMargin {
		t.Fatalf("held-out AUC %.3f < %.3f", a, measuredHeldOutAUC-aucMargin)
	}
}

// minRecaptureAUC is the bar for print-style and resampled recaptures of
// the test photos scoring below their originals; 0.85 and 0.77 were
// measured on all 31 photos (docs/liveness.md), this test uses half. The
// screen recapture is not tested: its moiré adds fine texture and raises
// the score (documented).
const minRecaptureAUC = 0.65

func TestRecapturesScoreLower(t *testing.T) {
	if testing.Short() {
		t.Skip("re-renders 16 photos")
	}
	c := mustChecker(t)
	ps := testPhotos(t, 2)
	var orig []float64
	rec := map[string][]float64{}
	for _, p := range ps {
		s, err := c.Score(p.img, p.face)
		if err != nil {
			t.Fatal(err)
		}
		orig = append(orig, s)
		for _, r := range recaptures {
			if r.name == "screen" {
				continue
			}
			s, err := c.Score(r.make(p.img), p.face)
			if err != nil {
				t.Fatal(err)
			}
			rec[r.name] = append(rec[r.name], s)
		}
	}
	for name, v := range rec {
		t.Run(name, func(t *testing.T) {
			if a := auc(orig, v); a < minRecaptureAUC {
				t.Fatalf("AUC originals vs %s recaptures %.3f < %.2f", name, a, minRecaptureAUC)
			}
		})
	}
}

func BenchmarkScore(b *testing.B) {
	c := mustChecker(b)
	img := decodeFile(b, testenv.Face(b, "jimin.jpg"))
	img = shrinkTo(img, 1024)
	f, ok := largestFace(b, img)
	if !ok {
		b.Fatal("no face")
	}
	r := faceSquare(f.Landmarks, cropScale)
	b.Run("LivenessNet", func(b *testing.B) {
		var x [numFeatures]float64
		for i := 0; i < b.N; i++ {
			if err := c.netFeatures(img, r, &x, false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("LivenessAndAntispoofNets", func(b *testing.B) {
		var x [numFeatures]float64
		for i := 0; i < b.N; i++ {
			if err := c.netFeatures(img, r, &x, true); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ImageFeatures", func(b *testing.B) {
		var x [numFeatures]float64
		for i := 0; i < b.N; i++ {
			imageFeatures(img, r, &x)
		}
	})
	b.Run("Score", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := c.Score(img, f); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestDegenerateLandmarks: coincident landmarks (a tiny or broken face)
// give a finite score in range, never a panic.
func TestDegenerateLandmarks(t *testing.T) {
	c := mustChecker(t)
	img := imageio.NewImage(40, 30)
	for _, pt := range []image.Point{{20, 15}, {0, 0}, {39, 29}} {
		lm := make([]image.Point, 68)
		for i := range lm {
			lm[i] = pt
		}
		s, err := c.Score(img, engine.Face{Landmarks: lm})
		if err != nil {
			t.Fatalf("point %v: %v", pt, err)
		}
		if !(s >= 0 && s <= 1) {
			t.Fatalf("point %v: score %v", pt, s)
		}
	}
}

// TestConcurrentScore: one Checker shared by goroutines gives the same
// scores as sequential calls.
func TestConcurrentScore(t *testing.T) {
	c, err := New(testenv.ModelDir(t))
	if err != nil {
		t.Fatal(err)
	}
	ps := testPhotos(t, 12)
	got := make([]float64, len(ps))
	errs := make([]error, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = c.Score(p.img, p.face)
		}()
	}
	wg.Wait()
	for i, p := range ps {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if want, _ := c.Score(p.img, p.face); want != got[i] {
			t.Fatalf("%s: concurrent %v, sequential %v", p.name, got[i], want)
		}
	}
}
