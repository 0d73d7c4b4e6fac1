package linkface

import (
	"math"
	"testing"

	"github.com/facekit/facekit/calibration"
)

func TestConfidence(t *testing.T) {
	t.Run("HitsDocumentedAnchors", func(t *testing.T) {
		for far, want := range map[float64]float64{1e-1: 0.4, 1e-2: 0.5, 1e-3: 0.6, 1e-4: 0.7, 1e-5: 0.8, 1e-6: 0.9, 1: 0} {
			if got := Confidence(far); math.Abs(got-want) > 1e-12 {
				t.Errorf("Confidence(%g) = %g; want %g", far, got, want)
			}
		}
	})
	t.Run("Clamped", func(t *testing.T) {
		for _, far := range []float64{-1, 0, 1e-300, 1e-7, 1e-9, 0.5, 1, 2, math.NaN(), math.Inf(1)} {
			if c := Confidence(far); c < 0 || c > 1 || math.IsNaN(c) {
				t.Errorf("Confidence(%g) = %g, outside [0,1]", far, c)
			}
		}
	})
	t.Run("MonotoneInDistance", func(t *testing.T) {
		curve := calibration.Default()
		prev := math.Inf(1)
		for d := 0.0; d <= 1.6; d += 0.001 {
			c := Confidence(curve.FAR(d))
			if c > prev+1e-12 {
				t.Fatalf("confidence rises from %g to %g at distance %g", prev, c, d)
			}
			prev = c
		}
	})
	t.Run("SevenTenthsAtCalibratedDistance", func(t *testing.T) {
		curve := calibration.Default()
		for far, want := range map[float64]float64{1e-1: 0.4, 1e-4: 0.7, 1e-6: 0.9} {
			d := curve.DistanceAtFAR(far)
			if c := Confidence(curve.FAR(d)); math.Abs(c-want) > 1e-6 {
				t.Errorf("confidence at the %g distance %.4f = %g; want %g", far, d, c, want)
			}
		}
	})
}
