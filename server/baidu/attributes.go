package baidu

import (
	"github.com/facekit/facekit/engine/attributes"
	"github.com/facekit/facekit/engine/liveness"
	"github.com/facekit/facekit/quality"
)

// The engine returns plain values; this file turns them into Baidu's wire
// structs, so that Baidu's field names and spellings live only here. Each
// struct keeps Baidu's field order, which is the order the JSON is written
// in.

// typedProbability is Baidu's {type, probability} pair of gender, emotion
// and glasses.
type typedProbability struct {
	Type        string  `json:"type"`
	Probability float64 `json:"probability"`
}

// glassesTypes spells each kind of glasses as Baidu's glasses.type does:
// ordinary (clear) glasses are "common".
var glassesTypes = map[attributes.GlassesKind]string{
	attributes.NoGlasses:    "none",
	attributes.ClearGlasses: "common",
	attributes.Sunglasses:   "sun",
}

// genderOf is Baidu's gender field: type male or female.
func genderOf(g attributes.Gender) *typedProbability {
	t := "male"
	if g.Female {
		t = "female"
	}
	return &typedProbability{Type: t, Probability: round4(g.Probability)}
}

// emotionOf is Baidu's emotion field. The model's seven FER-2013 classes
// are spelt as Baidu spells them (angry, disgust, fear, happy, sad,
// surprise, neutral); Baidu's pouty and grimace have no model here and are
// never sent.
func emotionOf(e attributes.Emotion) *typedProbability {
	return &typedProbability{Type: e.Label, Probability: round4(e.Probability)}
}

// glassesOf is Baidu's glasses field; nil for a kind Baidu has no name for
// (none exists today), so that the field is left out rather than sent
// with an empty type.
func glassesOf(g attributes.Glasses) *typedProbability {
	t, ok := glassesTypes[g.Kind]
	if !ok {
		return nil
	}
	return &typedProbability{Type: t, Probability: round4(g.Probability)}
}

// occlusion is Baidu's quality.occlusion object.
type occlusion struct {
	LeftEye     float64 `json:"left_eye"`
	RightEye    float64 `json:"right_eye"`
	Nose        float64 `json:"nose"`
	Mouth       float64 `json:"mouth"`
	LeftCheek   float64 `json:"left_cheek"`
	RightCheek  float64 `json:"right_cheek"`
	ChinContour float64 `json:"chin_contour"`
}

// occlusionOf rounds each region's share to Baidu's four decimals.
func occlusionOf(o quality.Occlusion) occlusion {
	return occlusion{
		LeftEye: round4(o.LeftEye), RightEye: round4(o.RightEye),
		Nose: round4(o.Nose), Mouth: round4(o.Mouth),
		LeftCheek: round4(o.LeftCheek), RightCheek: round4(o.RightCheek),
		ChinContour: round4(o.ChinContour),
	}
}

// livenessThresholds is faceverify's thresholds object, keyed by the false
// rejection rate each threshold is calibrated for.
type livenessThresholds struct {
	FRR1e4 float64 `json:"frr_1e-4"`
	FRR1e3 float64 `json:"frr_1e-3"`
	FRR1e2 float64 `json:"frr_1e-2"`
}

func thresholdsOf(t liveness.Thresholds) livenessThresholds {
	return livenessThresholds{FRR1e4: t.FRR1e4, FRR1e3: t.FRR1e3, FRR1e2: t.FRR1e2}
}
