package console

import (
	"encoding/json"
	"testing"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/quality"
)

// TestReportJSON pins the quality_report keys app.js reads (it lists the
// occlusion regions by key), now that quality.Report carries no JSON tags.
func TestReportJSON(t *testing.T) {
	r := quality.Report{Blur: 0.25, Illumination: 120.5, Completeness: 1,
		Occlusion: quality.Occlusion{LeftEye: 0.1, RightEye: 0.2, Nose: 0.3, Mouth: 0.4, LeftCheek: 0.5, RightCheek: 0.6, ChinContour: 0.7},
		FaceWidth: 200, FaceHeight: 210, Pose: engine.Pose{Yaw: 1, Pitch: -2, Roll: 3}}
	got, err := json.Marshal(reportOf(r))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"blur":0.25,"illumination":120.5,"completeness":1,` +
		`"occlusion":{"left_eye":0.1,"right_eye":0.2,"nose":0.3,"mouth":0.4,"left_cheek":0.5,"right_cheek":0.6,"chin_contour":0.7},` +
		`"face_width":200,"face_height":210,"pose":{"yaw":1,"pitch":-2,"roll":3}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
