// Package facegeom derives face attributes from the 68 iBUG landmarks by
// measured geometry: eye openness (eye_status), expression (none, smile,
// laugh) and face shape (square, triangle, oval, heart, round). Each value
// comes with a probability computed from the measurement; the rules and
// their calibration are documented on each function and in
// docs/quality.md. These are geometric heuristics, not trained
// classifiers: they read what the landmark fit shows and inherit its
// errors.
//
// Left and right are the image's (Baidu's convention, see
// quality.Occlusion): LeftEye is landmarks 36–41.
//
// Every function is pure and safe for concurrent use.
package facegeom

import (
	"errors"
	"fmt"
	"image"
	"math"
)

// ErrLandmarks means the input is not 68 landmarks.
var ErrLandmarks = errors.New("facegeom: need 68 landmarks")

// ErrDegenerate means the landmarks collapse (zero-width eyes or mouth,
// eyes on one point), so no ratio can be formed.
var ErrDegenerate = errors.New("facegeom: degenerate landmarks")

type vec struct{ x, y float64 }

func (a vec) sub(b vec) vec       { return vec{a.x - b.x, a.y - b.y} }
func (a vec) dist(b vec) float64  { return math.Hypot(a.x-b.x, a.y-b.y) }
func (a vec) dot(b vec) float64   { return a.x*b.x + a.y*b.y }
func (a vec) scale(k float64) vec { return vec{a.x * k, a.y * k} }
func (a vec) add(b vec) vec       { return vec{a.x + b.x, a.y + b.y} }
func centre(ps ...vec) (m vec) {
	for _, p := range ps {
		m = m.add(p)
	}
	return m.scale(1 / float64(len(ps)))
}

// points converts and validates landmarks.
func points(lm []image.Point) ([]vec, error) {
	if len(lm) != 68 {
		return nil, fmt.Errorf("%w: got %d", ErrLandmarks, len(lm))
	}
	v := make([]vec, 68)
	for i, p := range lm {
		v[i] = vec{float64(p.X), float64(p.Y)}
	}
	if centre(v[36:42]...).dist(centre(v[42:48]...)) < 2 {
		return nil, fmt.Errorf("%w: eyes on one point", ErrDegenerate)
	}
	return v, nil
}

// axes returns unit vectors along the eye line (image left to right) and
// perpendicular to it (downwards in an upright face), so that ratios do
// not depend on the head's roll.
func axes(v []vec) (ux, uy vec) {
	d := centre(v[42:48]...).sub(centre(v[36:42]...))
	ux = d.scale(1 / math.Hypot(d.x, d.y))
	return ux, vec{-ux.y, ux.x}
}

func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func clamp01(x float64) float64 { return math.Min(1, math.Max(0, x)) }

// round3 keeps reported probabilities to three decimals: the heuristics
// are not more precise than that.
func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
