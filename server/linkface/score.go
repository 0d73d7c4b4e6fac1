package linkface

import (
	"math"

	"github.com/facekit/facekit/eval"
)

// Confidence maps a calibrated false-accept rate to Linkface's 0–1
// confidence. Linkface documents the thresholds 0.4, 0.5, 0.6, 0.7, 0.8 and
// 0.9 as false-accept rates of 1e-1 down to 1e-6, i.e. 0.1 per decade:
//
//	confidence = 0.3 + 0.1·L   for L = -log10(FAR) >= 1
//
// Above FAR 1e-1 the scale falls linearly to 0 at FAR 1 (0.4·L), so that
// clear strangers land near 0 rather than crowding at 0.4; past 1e-7 it is
// clamped at 1. The result is non-increasing in far.
func Confidence(far float64) float64 {
	if math.IsNaN(far) || far >= 1 {
		return 0
	}
	if far <= 0 {
		return 1
	}
	l := -math.Log10(far)
	var c float64
	if l < 1 {
		c = 0.4 * l
	} else {
		c = 0.3 + 0.1*l
	}
	return math.Min(1, math.Max(0, c))
}

// round6 keeps six decimals, as the documented example does (0.312779).
func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// VerifyConfidence is the confidence the verification call answers for a
// calibrated false-accept rate: Confidence rounded to six decimals.
func VerifyConfidence(far float64) float64 { return round6(Confidence(far)) }

// Thresholds are the documented confidence thresholds 0.4 … 0.9 and their
// error rates 1e-1 … 1e-6 ("大于等于0.7是同一人"), with VerifyConfidence
// as the scale.
func Thresholds() []eval.VendorThreshold {
	out := make([]eval.VendorThreshold, 0, 6)
	far := 1e-1
	for i := 4; i <= 9; i++ {
		out = append(out, eval.VendorThreshold{Vendor: "Linkface verification", Threshold: float64(i) / 10, ClaimedFAR: far, Score: VerifyConfidence})
		far /= 10
	}
	return out
}
