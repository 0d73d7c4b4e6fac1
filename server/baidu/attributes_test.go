package baidu

import (
	"encoding/json"
	"testing"

	"github.com/facekit/facekit/engine/attributes"
	"github.com/facekit/facekit/engine/liveness"
	"github.com/facekit/facekit/quality"
)

// TestWireMapping checks each engine value against the JSON Baidu's v3
// documentation shows for its field: the key names, their order, the
// type spellings and the four-decimal rounding.
func TestWireMapping(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"GenderMale", genderOf(attributes.Gender{Female: false, Probability: 0.912345}),
			`{"type":"male","probability":0.9123}`},
		{"GenderFemale", genderOf(attributes.Gender{Female: true, Probability: 0.5}),
			`{"type":"female","probability":0.5}`},
		{"EmotionHappy", emotionOf(attributes.Emotion{Label: "happy", Probability: 0.77777}),
			`{"type":"happy","probability":0.7778}`},
		{"EmotionNeutral", emotionOf(attributes.Emotion{Label: "neutral", Probability: 1}),
			`{"type":"neutral","probability":1}`},
		{"GlassesNone", glassesOf(attributes.Glasses{Kind: attributes.NoGlasses, Probability: 0.70004}),
			`{"type":"none","probability":0.7}`},
		{"GlassesClearIsCommon", glassesOf(attributes.Glasses{Kind: attributes.ClearGlasses, Probability: 0.57}),
			`{"type":"common","probability":0.57}`},
		{"GlassesSun", glassesOf(attributes.Glasses{Kind: attributes.Sunglasses, Probability: 0.99995}),
			`{"type":"sun","probability":1}`},
		{"GlassesUnknownKindOmitted", glassesOf(attributes.Glasses{Kind: attributes.GlassesKind(7), Probability: 1}),
			`null`},
		{"Occlusion", occlusionOf(quality.Occlusion{LeftEye: 0.1, RightEye: 0.23456, Nose: 0, Mouth: 1,
			LeftCheek: 0.00004, RightCheek: 0.5, ChinContour: 0.33335}),
			`{"left_eye":0.1,"right_eye":0.2346,"nose":0,"mouth":1,"left_cheek":0,"right_cheek":0.5,"chin_contour":0.3334}`},
		{"Quality", qualityOf(quality.Report{Blur: 0.123456, Illumination: 140.6, Completeness: 1,
			Occlusion: quality.Occlusion{Nose: 0.25}, FaceWidth: 200, FaceHeight: 210}),
			`{"occlusion":{"left_eye":0,"right_eye":0,"nose":0.25,"mouth":0,"left_cheek":0,"right_cheek":0,"chin_contour":0},"blur":0.1235,"illumination":141,"completeness":1}`},
		{"LivenessThresholds", thresholdsOf(liveness.Thresholds{FRR1e4: 0.0258254, FRR1e3: 0.04639, FRR1e2: 0.0923159}),
			`{"frr_1e-4":0.0258254,"frr_1e-3":0.04639,"frr_1e-2":0.0923159}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestGlassesTypesCoverEveryKind fails when the engine learns a kind of
// glasses the dialect has no spelling for.
func TestGlassesTypesCoverEveryKind(t *testing.T) {
	for k := attributes.NoGlasses; k <= attributes.Sunglasses; k++ {
		if _, ok := glassesTypes[k]; !ok {
			t.Errorf("no Baidu type for %v", k)
		}
	}
}
