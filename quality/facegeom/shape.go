package facegeom

import (
	"image"
	"math"
)

// JawMeasures describe the jaw line, relative to the face length (nasion,
// landmark 27, to chin, landmark 8, along the face's vertical axis).
type JawMeasures struct {
	// Width is the face width at the cheekbones (jaw points 1–15) over
	// the face length.
	Width float64
	// Jaw is the width at the mouth level (points 4–12) over the
	// cheekbone width: near 1 for a square or triangular jaw, lower for a
	// tapering one.
	Jaw float64
	// Chin is the width just above the chin (points 6–10) over the
	// cheekbone width: small for a pointed chin.
	Chin float64
}

// MeasureJaw computes the face-shape features.
func MeasureJaw(lm []image.Point) (JawMeasures, error) {
	v, err := points(lm)
	if err != nil {
		return JawMeasures{}, err
	}
	ux, uy := axes(v)
	h := v[8].sub(v[27]).dot(uy)
	w1 := v[15].sub(v[1]).dot(ux)
	if h <= 0 || w1 <= 0 {
		return JawMeasures{}, ErrDegenerate
	}
	return JawMeasures{Width: w1 / h, Jaw: v[12].sub(v[4]).dot(ux) / w1, Chin: v[10].sub(v[6]).dot(ux) / w1}, nil
}

// FaceShape is Baidu's face_shape field.
type FaceShape struct {
	// Type is "square", "triangle", "oval", "heart" or "round".
	Type string `json:"type"`
	// Probability is the softmax weight of Type (see ShapeFrom).
	Probability float64 `json:"probability"`
}

// shapePrototype is a face shape's typical jaw measures, written as
// offsets from the test photos' mean in units of their spread, so that
// the descriptions ("wide", "tapering", "pointed") become numbers:
type shapePrototype struct {
	name             string
	width, jaw, chin float64 // in spreads from the mean
}

// Mean and spread of the jaw measures over the test photos (frontal
// faces, dlib landmarks); see docs/quality.md.
const (
	meanWidth, sdWidth = 1.23, 0.09
	meanJaw, sdJaw     = 0.79, 0.035
	meanChin, sdChin   = 0.45, 0.037
)

var shapePrototypes = []shapePrototype{
	{"oval", -0.5, 0, 0},     // a little longer than wide, even taper
	{"round", 1, 0.3, 0.5},   // as wide as long, soft full jaw
	{"square", 0.5, 1.2, 1},  // wide straight jaw, broad chin
	{"triangle", 0, 1.5, 0},  // jaw as wide as the cheekbones
	{"heart", 0, -1.2, -1.2}, // wide cheekbones tapering to a pointed chin
}

// ShapeFrom classifies jaw measures. Each shape is a prototype point in
// the space of the three measures standardised by the test photos' mean
// and spread; the probability of each shape is the softmax of minus half
// the squared distance to its prototype (a Gaussian of unit spread around
// every prototype with equal priors). It is a geometric heuristic: the
// prototypes encode the usual verbal definitions of the shapes, not
// labelled data, and the probability says how clearly the measured jaw
// sits closer to one prototype than to the others.
func ShapeFrom(m JawMeasures) FaceShape {
	z := [3]float64{(m.Width - meanWidth) / sdWidth, (m.Jaw - meanJaw) / sdJaw, (m.Chin - meanChin) / sdChin}
	d := make([]float64, len(shapePrototypes))
	dmin := math.Inf(1)
	for i, p := range shapePrototypes {
		d[i] = math.Pow(z[0]-p.width, 2) + math.Pow(z[1]-p.jaw, 2) + math.Pow(z[2]-p.chin, 2)
		dmin = math.Min(dmin, d[i])
	}
	// Subtracting the smallest distance keeps exp from underflowing for
	// faces far from every prototype; the softmax is unchanged.
	w := make([]float64, len(d))
	var sum float64
	for i := range d {
		w[i] = math.Exp(-(d[i] - dmin) / 2)
		sum += w[i]
	}
	best := 0
	for i := range w {
		if w[i] > w[best] {
			best = i
		}
	}
	if sum == 0 || math.IsNaN(sum) {
		return FaceShape{Type: shapePrototypes[0].name, Probability: 0}
	}
	return FaceShape{Type: shapePrototypes[best].name, Probability: round3(w[best] / sum)}
}

// Shape measures the face shape from the landmarks.
func Shape(lm []image.Point) (FaceShape, error) {
	m, err := MeasureJaw(lm)
	if err != nil {
		return FaceShape{}, err
	}
	return ShapeFrom(m), nil
}
