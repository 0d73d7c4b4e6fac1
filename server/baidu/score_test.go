package baidu

import (
	"math"
	"testing"

	"github.com/facekit/facekit/calibration"
)

func TestScoreFromFAR(t *testing.T) {
	t.Run("HitsAnchors", func(t *testing.T) {
		for far, want := range map[float64]float64{1e-2: 60, 1e-3: 70, 1e-4: 80, 1e-5: 90, 1e-6: 100, 1e-1: 40} {
			if got := ScoreFromFAR(far); math.Abs(got-want) > 1e-9 {
				t.Errorf("ScoreFromFAR(%g) = %g, want %g", far, got, want)
			}
		}
	})
	t.Run("Clamped", func(t *testing.T) {
		for _, far := range []float64{-1, 0, 1e-9, 1e-300, 0.5, 1, 2, math.NaN(), math.Inf(1)} {
			if s := ScoreFromFAR(far); s < 0 || s > 100 || math.IsNaN(s) {
				t.Errorf("ScoreFromFAR(%g) = %g, outside [0,100]", far, s)
			}
		}
	})
	t.Run("MonotoneInDistance", func(t *testing.T) {
		curve := calibration.Default()
		prev := math.Inf(1)
		for d := 0.0; d <= 1.5; d += 0.001 {
			s := ScoreFromFAR(curve.FAR(d))
			if s > prev+1e-9 {
				t.Fatalf("score rises from %g to %g at distance %g", prev, s, d)
			}
			prev = s
		}
	})
	t.Run("EightyAtCalibratedDistance", func(t *testing.T) {
		curve := calibration.Default()
		d := curve.DistanceAtFAR(1e-4)
		if s := ScoreFromFAR(curve.FAR(d)); math.Abs(s-80) > 0.01 {
			t.Fatalf("score at the 1e-4 distance %g = %g, want 80", d, s)
		}
	})
}
