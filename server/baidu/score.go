package baidu

import (
	"math"

	"github.com/facekit/facekit/eval"
)

// The Baidu score scale is 0–100 with 80 documented as "the same person at a
// false-accept rate of 1 in 10,000". facekit derives it from the calibrated
// false-accept rate (calibration.Curve.FAR) of a descriptor distance:
// piecewise linear in L = -log10(FAR) through these anchors, clamped to
// [0, 100].
//
//	FAR   1      1e-1  1e-2  1e-3  1e-4  1e-5  1e-6
//	L     0      1     2     3     4     5     6
//	score 0      40    60    70    80    90    100
//
// From 1e-2 on every decade of FAR is 10 points, as Baidu documents its
// thresholds (70 ≈ 1e-3, 80 ≈ 1e-4, 90 ≈ 1e-5). Below that the scale is
// stretched so that clear strangers (FAR near 1) land near 0 instead of all
// crowding at 40, which keeps impostor scores ordered and far below 80.
var scoreAnchors = [...]struct{ l, score float64 }{
	{0, 0}, {1, 40}, {2, 60}, {3, 70}, {4, 80}, {5, 90}, {6, 100},
}

// ScoreFromFAR maps a false-accept rate to Baidu's 0–100 scale. It is
// non-increasing in far; far <= 0 scores 100 and far >= 1 scores 0.
func ScoreFromFAR(far float64) float64 {
	if math.IsNaN(far) || far >= 1 {
		return 0
	}
	if far <= 0 {
		return 100
	}
	l := -math.Log10(far)
	last := scoreAnchors[len(scoreAnchors)-1]
	if l >= last.l {
		return last.score
	}
	for i := 1; i < len(scoreAnchors); i++ {
		a, b := scoreAnchors[i-1], scoreAnchors[i]
		if l <= b.l {
			return a.score + (l-a.l)/(b.l-a.l)*(b.score-a.score)
		}
	}
	return last.score
}

// round2 keeps two decimals, as the cloud API's scores usually have no more
// meaningful digits than that.
func round2(v float64) float64 { return math.Round(v*100) / 100 }

// MatchScore is the score /match answers for a calibrated false-accept
// rate: ScoreFromFAR rounded to two decimals.
func MatchScore(far float64) float64 { return round2(ScoreFromFAR(far)) }

// Thresholds are the decision points the Baidu documentation gives the
// match score, with MatchScore as the scale.
func Thresholds() []eval.VendorThreshold {
	return []eval.VendorThreshold{{Vendor: "Baidu /match", Threshold: defaultThreshold, ClaimedFAR: 1e-4, Score: MatchScore}}
}
