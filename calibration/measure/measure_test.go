package measure

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/facekit/facekit/calibration"
	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/internal/testenv"
)

// cachePath is where the full-LFW descriptors are kept between runs (about
// 10 minutes of engine time to recompute).
// cacheUsable reports whether the descriptor cache exists and was made
// from this photo tree by this model (a cache left by a run on another
// checkout of the photos does not count).
func cacheUsable(root string) bool {
	abs, err := filepath.Abs(root)
	if err != nil {
		return false
	}
	c, err := readCache(cachePath())
	return err == nil && c.Root == abs && c.Model == engine.ModelName
}

func cachePath() string {
	if p := os.Getenv("FACEKIT_CALIBRATE_CACHE"); p != "" {
		return p
	}
	return filepath.Join(os.TempDir(), "facekit-lfw-"+engine.ModelName+".json")
}

var (
	engOnce sync.Once
	eng     *engine.Engine
	engErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if eng != nil {
		eng.Close()
	}
	os.Exit(code)
}

func mustEngine(tb testing.TB) *engine.Engine {
	tb.Helper()
	dir := testenv.ModelDir(tb)
	engOnce.Do(func() { eng, engErr = engine.New(engine.Config{ModelDir: dir}) })
	if engErr != nil {
		tb.Fatal(engErr)
	}
	return eng
}

func lfwRoot(tb testing.TB) string {
	tb.Helper()
	root := filepath.Join(testenv.TestData(tb), "lfw", "images")
	if _, err := os.Stat(root); err != nil {
		tb.Skipf("LFW not provisioned at %s", root)
	}
	return root
}

// TestCalibrate regenerates calibration/dlib_resnet_v1.json from all of
// LFW. It runs only when FACEKIT_CALIBRATE=1 because it rewrites a source
// file; the descriptors are cached (FACEKIT_CALIBRATE_CACHE) so a second
// run takes seconds. The table for docs/calibration.md is printed with -v.
func TestCalibrate(t *testing.T) {
	if os.Getenv("FACEKIT_CALIBRATE") != "1" {
		t.Skip("set FACEKIT_CALIBRATE=1 to measure LFW and rewrite calibration/dlib_resnet_v1.json")
	}
	root := lfwRoot(t)
	var e *engine.Engine
	if _, err := os.Stat(cachePath()); err != nil {
		e = mustEngine(t)
	}
	res, err := Run(context.Background(), e, Config{
		Root:  root,
		Cache: cachePath(),
		Fit: calibration.FitOptions{Source: "LFW, the 7,701 greyscale 250x250 images referenced by the 10-fold pairs.txt " +
			"(shared/testdata/lfw/images); HOG detection with one 2x upsample on a miss, face nearest the centre, 68-point " +
			"alignment, no jitter; all pairs of different people as impostors; empirical quantiles where at least 100 " +
			"impostor pairs support a point, log-linear tail below; see docs/calibration.md"},
		Progress: func(done, total int) {
			if done%500 == 0 || done == total {
				fmt.Fprintf(os.Stderr, "described %d/%d\n", done, total)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(testenv.RepoRoot(t), "calibration", engine.ModelName+".json")
	if err := WriteCurve(out, res.Curve); err != nil {
		t.Fatal(err)
	}
	d := res.Distributions
	t.Logf("photos %d, described %d, no face %d, failed %d; people %d", res.Stats.Photos, res.Stats.Described,
		res.Stats.NoFace, res.Stats.Failed, d.Labels)
	t.Logf("impostor pairs %d, genuine pairs %d; genuine median %.4f; impostor 1%% %.4f, 0.1%% %.4f",
		len(d.Impostor), len(d.Genuine), d.Genuine[len(d.Genuine)/2],
		d.Impostor[len(d.Impostor)/100], d.Impostor[len(d.Impostor)/1000])
	t.Logf("smallest impostor distances: %v", d.Impostor[:20])
	t.Logf("\n%s", Markdown(res.Table(FARs)))
	t.Logf("wrote %s", out)
}

// TestResNetCurveHitsAnchors checks the committed ResNet curve
// (calibration/dlib_resnet_v1.json, the one this package measures) against measured
// data: the full-LFW descriptor cache when a calibration run left one,
// otherwise a small LFW subset described now. At every decade the data
// can support, the measured FAR at the curve's distance must agree with
// the decade within sampling error (plus slack for the subset being a
// different population than the full set).
func TestResNetCurveHitsAnchors(t *testing.T) {
	root := lfwRoot(t)
	cfg := Config{Root: root, Cache: cachePath()}
	full := true
	if !cacheUsable(root) {
		if testing.Short() {
			t.Skip("no descriptor cache; describing an LFW subset is not short")
		}
		full = false
		cfg.Cache = ""
		cfg.Limit = 40 // ~200 photos, ~20,000 impostor pairs: decades 1e-1 and 1e-2
	}
	var e *engine.Engine
	if !full {
		e = mustEngine(t)
	}
	samples, _, err := Samples(context.Background(), e, cfg)
	if err != nil {
		t.Fatal(err)
	}
	d, err := calibration.Measure(samples)
	if err != nil {
		t.Fatal(err)
	}
	curve, err := calibration.ForModel(engine.ModelName)
	if err != nil {
		t.Fatal(err)
	}
	n := float64(len(d.Impostor))
	checked := 0
	for _, far := range FARs {
		if far*n < 100 { // too few pairs to test this decade
			continue
		}
		dist := curve.DistanceAtFAR(far)
		got := d.FAR(dist)
		sigma := math.Sqrt(far * (1 - far) / n)
		slack := 4 * sigma
		if !full {
			slack += 0.5 * far // a subset of 20-odd people is not all of LFW
		}
		if math.Abs(got-far) > slack {
			t.Errorf("FAR %.0e: curve distance %.4f, measured FAR %.3e (tolerance ±%.2e, %d impostor pairs)",
				far, dist, got, slack, len(d.Impostor))
		}
		checked++
	}
	if checked == 0 {
		t.Fatalf("no decade testable with %d impostor pairs", len(d.Impostor))
	}
	t.Logf("checked %d decades on %d impostor pairs (full LFW: %v)", checked, len(d.Impostor), full)
}

// TestFitOnMeasuredData fits a fresh curve on the measured data and checks
// that it is strictly monotone and reproduces the measured FAR at each
// supported decade.
func TestFitOnMeasuredData(t *testing.T) {
	if testing.Short() {
		t.Skip("describes LFW photos")
	}
	root := lfwRoot(t)
	cfg := Config{Root: root, Limit: 20, Fit: calibration.FitOptions{MinSupport: 20}}
	var e *engine.Engine
	if cacheUsable(root) {
		cfg.Cache = cachePath()
	} else {
		e = mustEngine(t)
	}
	res, err := Run(context.Background(), e, cfg)
	if err != nil {
		t.Fatal(err)
	}
	pts := res.Curve.Points
	for i := 1; i < len(pts); i++ {
		if pts[i].Distance <= pts[i-1].Distance || pts[i].FAR <= pts[i-1].FAR {
			t.Fatalf("curve not strictly increasing at %d: %+v then %+v", i, pts[i-1], pts[i])
		}
	}
	for _, row := range res.Table(FARs) {
		if row.Extrapolated {
			continue
		}
		if r := row.MeasuredFAR / row.FAR; r < 0.8 || r > 1.25 {
			t.Errorf("FAR %.0e: measured %.3e at the fitted distance %.4f", row.FAR, row.MeasuredFAR, row.Distance)
		}
	}
	if res.Stats.Described == 0 && res.Stats.Photos > 0 {
		t.Fatal("no photo described")
	}
}
