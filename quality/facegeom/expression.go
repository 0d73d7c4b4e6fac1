package facegeom

import (
	"image"
)

// MouthMeasures are the expression features, all relative to the face's
// own scale so that they compare across photo sizes.
type MouthMeasures struct {
	// Width is the corner-to-corner mouth width over the distance between
	// the eye centres.
	Width float64
	// Opening is the gap between the inner lip contours over the mouth
	// width.
	Opening float64
	// CornerLift is how far the mouth corners sit above the middle of the
	// lips (along the face's vertical axis), over the mouth width;
	// positive when the corners are raised, as in a smile.
	CornerLift float64
}

// MeasureMouth computes the expression features.
func MeasureMouth(lm []image.Point) (MouthMeasures, error) {
	v, err := points(lm)
	if err != nil {
		return MouthMeasures{}, err
	}
	ux, uy := axes(v)
	iod := centre(v[42:48]...).sub(centre(v[36:42]...)).dot(ux)
	mw := v[54].sub(v[48]).dot(ux)
	if mw <= 0 || iod <= 0 {
		return MouthMeasures{}, ErrDegenerate
	}
	gap := (v[61].dist(v[67]) + v[62].dist(v[66]) + v[63].dist(v[65])) / 3
	mid := centre(v[51], v[57], v[62], v[66]).dot(uy)
	corners := centre(v[48], v[54]).dot(uy)
	return MouthMeasures{Width: mw / iod, Opening: gap / mw, CornerLift: (mid - corners) / mw}, nil
}

// Expression is Baidu's expression field.
type Expression struct {
	// Type is "none", "smile" or "laugh".
	Type string `json:"type"`
	// Probability is the probability of Type under the model below.
	Probability float64 `json:"probability"`
}

// Calibration of the expression model (see ExpressionFrom). On the 31
// single-face test photos, labelled by eye as none/smile/laugh, smiling
// mouths have raised corners (CornerLift 0.08–0.21, neutral ones −0.08 to
// 0.06 with one pout at 0.09) and are wider (Width 0.80–1.05 against
// 0.59–0.92); mouths of laughing faces open by 0.16–0.38 of their width,
// closed ones by 0.01–0.10. The midpoints and scales below sit between
// those groups; the agreement with the labels is in docs/quality.md.
const (
	smileWidthMid, smileWidthScale = 0.85, 0.10
	smileLiftMid, smileLiftScale   = 0.065, 0.02
	openMid, openScale             = 0.12, 0.04
)

// ExpressionFrom turns mouth measures into an expression. A smile widens
// the mouth and raises its corners: the smile evidence is
// z = (Width − 0.85)/0.10 + (CornerLift − 0.065)/0.02, and P(smiling) =
// logistic(z). An open mouth is P(open) = logistic((Opening − 0.12)/0.04).
// Then P(laugh) = P(smiling)·P(open), P(smile) = P(smiling)·(1 − P(open)),
// P(none) = 1 − P(smiling); the most probable is reported with its
// probability. An open mouth without a smile (talking, surprise) stays
// "none".
func ExpressionFrom(m MouthMeasures) Expression {
	ps := logistic((m.Width-smileWidthMid)/smileWidthScale + (m.CornerLift-smileLiftMid)/smileLiftScale)
	po := logistic((m.Opening - openMid) / openScale)
	cands := []Expression{{"none", 1 - ps}, {"smile", ps * (1 - po)}, {"laugh", ps * po}}
	best := cands[0]
	for _, c := range cands[1:] {
		if c.Probability > best.Probability {
			best = c
		}
	}
	best.Probability = round3(best.Probability)
	return best
}

// Expr measures the expression of a face from its landmarks.
func Expr(lm []image.Point) (Expression, error) {
	m, err := MeasureMouth(lm)
	if err != nil {
		return Expression{}, err
	}
	return ExpressionFrom(m), nil
}
