package quality

import (
	"errors"
	"github.com/facekit/facekit/engine/imageio"
	"testing"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/control"
	"github.com/facekit/facekit/quality/internal/qtest"
)

// goodReport passes every level.
func goodReport() Report {
	return Report{Blur: 0.1, Illumination: 150, Completeness: 1, FaceWidth: 200, FaceHeight: 200}
}

func TestCheckEachCriterion(t *testing.T) {
	with := func(f func(*Report)) Report { r := goodReport(); f(&r); return r }
	tests := []struct {
		name string
		r    Report
		// want is the first failure at LOW, NORMAL and HIGH (nil: passes).
		want [3]error
	}{
		{"CleanPasses", goodReport(), [3]error{nil, nil, nil}},
		{"IncompleteFailsNormal", with(func(r *Report) { r.Completeness = 0 }), [3]error{nil, ErrIncomplete, ErrIncomplete}},
		{"Size90FailsHigh", with(func(r *Report) { r.FaceWidth, r.FaceHeight = 90, 95 }), [3]error{nil, nil, ErrFaceTooSmall}},
		{"Size40FailsAll", with(func(r *Report) { r.FaceWidth, r.FaceHeight = 40, 40 }), [3]error{ErrFaceTooSmall, ErrFaceTooSmall, ErrFaceTooSmall}},
		{"Yaw17FailsHigh", with(func(r *Report) { r.Pose.Yaw = -17 }), [3]error{nil, nil, ErrPose}},
		{"Roll25FailsNormal", with(func(r *Report) { r.Pose.Roll = 25 }), [3]error{nil, ErrPose, ErrPose}},
		{"Pitch35FailsAll", with(func(r *Report) { r.Pose.Pitch = -35 }), [3]error{ErrPose, ErrPose, ErrPose}},
		{"Blur0.6FailsHigh", with(func(r *Report) { r.Blur = 0.6 }), [3]error{nil, nil, ErrBlur}},
		{"Blur0.75FailsNormal", with(func(r *Report) { r.Blur = 0.75 }), [3]error{nil, ErrBlur, ErrBlur}},
		{"Dark30FailsNormal", with(func(r *Report) { r.Illumination = 30 }), [3]error{nil, ErrIllumination, ErrIllumination}},
		{"Dark10FailsAll", with(func(r *Report) { r.Illumination = 10 }), [3]error{ErrIllumination, ErrIllumination, ErrIllumination}},
		{"LeftEye0.65FailsNormal", with(func(r *Report) { r.Occlusion.LeftEye = 0.65 }), [3]error{nil, ErrOcclusionLeftEye, ErrOcclusionLeftEye}},
		{"RightEye0.9FailsAll", with(func(r *Report) { r.Occlusion.RightEye = 0.9 }), [3]error{ErrOcclusionRightEye, ErrOcclusionRightEye, ErrOcclusionRightEye}},
		{"Nose0.6FailsHigh", with(func(r *Report) { r.Occlusion.Nose = 0.6 }), [3]error{nil, nil, ErrOcclusionNose}},
		{"Mouth0.75FailsNormal", with(func(r *Report) { r.Occlusion.Mouth = 0.75 }), [3]error{nil, ErrOcclusionMouth, ErrOcclusionMouth}},
		{"LeftCheek0.85FailsNormal", with(func(r *Report) { r.Occlusion.LeftCheek = 0.85 }), [3]error{nil, ErrOcclusionLeftCheek, ErrOcclusionLeftCheek}},
		{"RightCheek0.7FailsHigh", with(func(r *Report) { r.Occlusion.RightCheek = 0.7 }), [3]error{nil, nil, ErrOcclusionRightCheek}},
		{"Chin0.6FailsNormal", with(func(r *Report) { r.Occlusion.ChinContour = 0.6 }), [3]error{nil, ErrOcclusionChin, ErrOcclusionChin}},
		{"IncompleteComesFirst", with(func(r *Report) { r.Completeness, r.Blur, r.Occlusion.Mouth = 0, 0.95, 1 }), [3]error{ErrBlur, ErrIncomplete, ErrIncomplete}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Check(tt.r, LevelNone); err != nil {
				t.Fatalf("NONE: %v", err)
			}
			for i, level := range []Level{LevelLow, LevelNormal, LevelHigh} {
				err := Check(tt.r, level)
				if tt.want[i] == nil {
					if err != nil {
						t.Errorf("%s: %v, want pass", level, err)
					}
					continue
				}
				var ce *CheckError
				if !errors.As(err, &ce) || len(ce.Failures) == 0 {
					t.Errorf("%s: %v, want a *CheckError", level, err)
					continue
				}
				if !errors.Is(ce.Failures[0], tt.want[i]) {
					t.Errorf("%s: first failure %v, want %v", level, ce.Failures[0], tt.want[i])
				}
				if !errors.Is(err, tt.want[i]) || ce.Level != level {
					t.Errorf("%s: errors.Is/Level wrong on %v", level, err)
				}
			}
		})
	}
	t.Run("UnknownLevel", func(t *testing.T) {
		if err := Check(goodReport(), Level(9)); !errors.Is(err, control.ErrUnknownLevel) {
			t.Fatalf("got %v", err)
		}
	})
}

// frontalPhotos are clean, near-frontal test photos (no glasses, hair or
// hands over the face, |angles| < 15°), which every level must accept.
var frontalPhotos = []string{"nayoung.jpg", "sejeong.jpg", "chaeyeon2.jpg", "luda.jpg", "rena.jpg", "chaeyoung2.jpg"}

func TestCheckRealPhotos(t *testing.T) {
	byName := map[string]qtest.PhotoFace{}
	for _, p := range qtest.Photos(t) {
		byName[p.Name] = p
	}
	for _, name := range frontalPhotos {
		p, ok := byName[name]
		if !ok {
			t.Fatalf("%s: no face detected", name)
		}
		t.Run(name, func(t *testing.T) {
			measure := func(img *imageio.Image, f engine.Face) Report {
				t.Helper()
				r, err := Measure(img, f)
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			clean := measure(p.Img, p.Face)
			for _, level := range []Level{LevelLow, LevelNormal, LevelHigh} {
				if err := Check(clean, level); err != nil {
					t.Errorf("clean photo fails %s: %v (report %+v)", level, err, clean)
				}
			}
			doctored := []struct {
				name string
				img  *imageio.Image
				face engine.Face
				want error
			}{
				{"BlackBarOverEyes", pasted(p, 0), p.Face, ErrOcclusionLeftEye},
				{"Mask", pasted(p, 3), p.Face, ErrOcclusionNose},
				{"GaussianBlurSigma8", qtest.GaussianBlur(p.Img, 8), p.Face, ErrBlur},
				{"DarkenedTo15Percent", qtest.ScaleBrightness(p.Img, 0.15), p.Face, ErrIllumination},
			}
			half, halfFace := cropFrom(p.Img, p.Face, (p.Face.Rect.Min.X+p.Face.Rect.Max.X)/2)
			doctored = append(doctored, struct {
				name string
				img  *imageio.Image
				face engine.Face
				want error
			}{"HalfCropped", half, halfFace, ErrIncomplete})
			for _, d := range doctored {
				r := measure(d.img, d.face)
				err := Check(r, LevelNormal)
				var ce *CheckError
				if !errors.As(err, &ce) || !errors.Is(ce.Failures[0], d.want) {
					t.Errorf("%s: NORMAL gives %v, want first failure %v", d.name, err, d.want)
				}
			}
		})
	}
}

// pasted returns a copy of the photo with occluder i pasted on its face.
func pasted(p qtest.PhotoFace, i int) *imageio.Image {
	img := qtest.Clone(p.Img)
	occluders[i].paste(img, frameOf(p.Face))
	return img
}
