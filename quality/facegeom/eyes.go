package facegeom

import "image"

// Eye aspect ratio (EAR, Soukupová and Čech 2016): the mean of the two
// lid-to-lid distances over the corner-to-corner distance. Open eyes of
// adults measure about 0.25–0.35, closed eyes about 0.05–0.15 on dlib's
// landmarks; earClosed and earOpen are the ends of the linear map to
// openness.
const (
	earClosed = 0.10
	earOpen   = 0.28
)

// EyeStatus is Baidu's eye_status: the openness of each eye, 0 (closed) …
// 1 (open).
type EyeStatus struct {
	LeftEye  float64 `json:"left_eye"`
	RightEye float64 `json:"right_eye"`
}

// EyeAspectRatios returns the raw EAR of the image-left (36–41) and
// image-right (42–47) eyes.
func EyeAspectRatios(lm []image.Point) (left, right float64, err error) {
	v, err := points(lm)
	if err != nil {
		return 0, 0, err
	}
	ear := func(a int) float64 {
		w := v[a].dist(v[a+3])
		if w == 0 {
			return 0
		}
		return (v[a+1].dist(v[a+5]) + v[a+2].dist(v[a+4])) / (2 * w)
	}
	return ear(36), ear(42), nil
}

// Eyes measures eye_status: openness = (EAR − 0.10)/(0.28 − 0.10), clamped
// to 0..1, so an EAR of 0.28 or more (a normally open eye) is 1 and 0.10 or
// less (lids together) is 0. Smiling narrows the eyes, so a broad smile
// reads as partly closed, which is what the lids show.
func Eyes(lm []image.Point) (EyeStatus, error) {
	l, r, err := EyeAspectRatios(lm)
	if err != nil {
		return EyeStatus{}, err
	}
	open := func(ear float64) float64 { return round3(clamp01((ear - earClosed) / (earOpen - earClosed))) }
	return EyeStatus{LeftEye: open(l), RightEye: open(r)}, nil
}
