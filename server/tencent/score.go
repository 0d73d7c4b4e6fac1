package tencent

import (
	"math"

	"github.com/facekit/facekit/eval"
)

// Similarity maps a calibrated false-accept rate to Tencent's 0–100
// similarity. The idcardcompare page recommends 75 without naming a FAR;
// its successor (照片人脸核身, ImageRecognition) documents 70 as 1e-3 and 80
// as 1e-4, ten points per decade, so facekit uses that scale:
//
//	FAR   1    1e-1  1e-2  1e-3  10^-3.5  1e-4  1e-5  1e-6
//	score 0    40    60    70    75       80    90    100
//
// and 75 means FAR ≈ 3.2e-4 (docs/calibration.md). Piecewise linear in
// -log10(FAR), clamped to [0, 100], non-increasing in far.
func Similarity(far float64) float64 {
	if math.IsNaN(far) || far >= 1 {
		return 0
	}
	if far <= 0 {
		return 100
	}
	l := -math.Log10(far)
	var s float64
	switch {
	case l < 1:
		s = 40 * l
	case l < 2:
		s = 40 + 20*(l-1)
	default:
		s = 60 + 10*(l-2)
	}
	return math.Min(100, math.Max(0, s))
}

// round2 keeps two decimals (the documented example prints 100.0; the
// successor API documents two decimals).
func round2(v float64) float64 { return math.Round(v*100) / 100 }

// CompareSimilarity is the similarity idcardcompare answers for a
// calibrated false-accept rate: Similarity rounded to two decimals.
func CompareSimilarity(far float64) float64 { return round2(Similarity(far)) }

// Thresholds is the recommended "similarity greater than 75" of the
// idcardcompare page, which names no false-accept rate.
func Thresholds() []eval.VendorThreshold {
	return []eval.VendorThreshold{{Vendor: "Tencent idcardcompare", Threshold: 75, Strict: true, Score: CompareSimilarity}}
}
