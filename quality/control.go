package quality

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/facekit/facekit/engine/control"
)

// Level is a quality_control level: the control level shared with
// liveness (engine/control), so both parse and print the same way.
type Level = control.Level

// The control levels, from no checks to the strictest.
const (
	LevelNone   = control.LevelNone
	LevelLow    = control.LevelLow
	LevelNormal = control.LevelNormal
	LevelHigh   = control.LevelHigh
)

// Errors reported by Check, one per criterion. The Baidu codes are the
// server's business (server/baidu owns the table); this is the
// correspondence its author should use, from the error list in
// vendor-docs/baidu-aipface-php-sdk.txt:
//
//	ErrIncomplete          223116 incomplete face
//	ErrBlur                223114 face is fuzzy
//	ErrIllumination        223115 face light is not good
//	ErrOcclusionLeftEye    223121 left eye is occlusion
//	ErrOcclusionRightEye   223122 right eye is occlusion
//	ErrOcclusionLeftCheek  223123 left cheek is occlusion
//	ErrOcclusionRightCheek 223124 right cheek is occlusion
//	ErrOcclusionChin       223125 chin contour is occlusion
//	ErrOcclusionNose       223126 nose is occlusion
//	ErrOcclusionMouth      223127 mouth is occlusion
//
// 223113 (face is covered) is Baidu's older catch-all for any occlusion.
// The shipped doc has no code for pose or face size: Baidu's later error
// list has 223129 "face not forward" (人脸未面向正前方) for the pose; for a
// face below the minimum size 223118 (quality control error) is the
// closest documented code. Both are the server author's call.
var (
	ErrIncomplete          = errors.New("quality: face overflows the image")
	ErrFaceTooSmall        = errors.New("quality: face too small")
	ErrPose                = errors.New("quality: face not frontal enough")
	ErrBlur                = errors.New("quality: face is blurred")
	ErrIllumination        = errors.New("quality: face is too dark")
	ErrOcclusionLeftEye    = errors.New("quality: left eye occluded")
	ErrOcclusionRightEye   = errors.New("quality: right eye occluded")
	ErrOcclusionNose       = errors.New("quality: nose occluded")
	ErrOcclusionMouth      = errors.New("quality: mouth occluded")
	ErrOcclusionLeftCheek  = errors.New("quality: left cheek occluded")
	ErrOcclusionRightCheek = errors.New("quality: right cheek occluded")
	ErrOcclusionChin       = errors.New("quality: chin contour occluded")
)

// occlusionErrors are the region errors in region order.
var occlusionErrors = [numRegions]error{
	ErrOcclusionLeftEye, ErrOcclusionRightEye, ErrOcclusionNose, ErrOcclusionMouth,
	ErrOcclusionLeftCheek, ErrOcclusionRightCheek, ErrOcclusionChin,
}

// Thresholds is one control level's set of limits. A face passes when
// every occlusion score is below its limit, Blur is below MaxBlur,
// Illumination is above MinIllumination, |yaw|, |pitch| and |roll| are
// below MaxAngle, the face size is at least MinFaceSize and, if
// RequireComplete, Completeness is 1.
type Thresholds struct {
	// Occlusion limits in region order: left eye, right eye, nose, mouth,
	// left cheek, right cheek, chin contour.
	Occlusion       [7]float64
	MaxBlur         float64
	MinIllumination float64
	MaxAngle        float64
	MinFaceSize     int
	RequireComplete bool
}

// LevelThresholds returns the limits of a level and false for LevelNone
// (which checks nothing) or an unknown level.
//
//   - NORMAL is Baidu's recommended table: occlusion eyes 0.6, nose 0.7,
//     mouth 0.7, cheeks 0.8, chin 0.6; blur < 0.7; illumination > 40;
//     angles < 20°; a complete face of at least 80 px (the lower end of
//     Baidu's recommended 80–200 px face size).
//   - LOW loosens each by about a third of the way to "anything goes":
//     occlusion eyes 0.8, nose 0.85, mouth 0.85, cheeks 0.9, chin 0.8; blur
//     < 0.8; illumination > 25; angles < 30°; faces of 48 px and faces
//     partly outside the image are accepted.
//   - HIGH tightens them: occlusion eyes 0.5, nose 0.5, mouth 0.5, cheeks
//     0.6, chin 0.5; blur < 0.5; illumination > 60; angles < 15°; a
//     complete face of at least 100 px (Baidu's "不小于100*100").
func LevelThresholds(l Level) (Thresholds, bool) {
	switch l {
	case LevelLow:
		return Thresholds{Occlusion: [7]float64{0.8, 0.8, 0.85, 0.85, 0.9, 0.9, 0.8},
			MaxBlur: 0.8, MinIllumination: 25, MaxAngle: 30, MinFaceSize: 48}, true
	case LevelNormal:
		return Thresholds{Occlusion: [7]float64{0.6, 0.6, 0.7, 0.7, 0.8, 0.8, 0.6},
			MaxBlur: 0.7, MinIllumination: 40, MaxAngle: 20, MinFaceSize: 80, RequireComplete: true}, true
	case LevelHigh:
		return Thresholds{Occlusion: [7]float64{0.5, 0.5, 0.5, 0.5, 0.6, 0.6, 0.5},
			MaxBlur: 0.5, MinIllumination: 60, MaxAngle: 15, MinFaceSize: 100, RequireComplete: true}, true
	}
	return Thresholds{}, false
}

// CheckError lists every criterion a face failed, in Check's fixed order.
// errors.Is(err, ErrBlur) tells whether blur was among them; Failures[0]
// is the one to report when an API has room for a single code.
type CheckError struct {
	Level    Level
	Failures []error
}

// Error joins the failures.
func (e *CheckError) Error() string {
	parts := make([]string, len(e.Failures))
	for i, f := range e.Failures {
		parts[i] = f.Error()
	}
	return fmt.Sprintf("quality control %s failed: %s", e.Level, strings.Join(parts, "; "))
}

// Unwrap returns the failures, so errors.Is finds each of them.
func (e *CheckError) Unwrap() []error { return e.Failures }

// Check applies a control level to a report. It returns nil when the face
// passes (LevelNone always passes) and a *CheckError otherwise; an unknown
// level is control.ErrUnknownLevel. The failures come in a fixed order: the face
// as a whole first (incomplete, too small, turned away), because they make
// every other measurement less reliable, then blur, illumination and the
// occlusion regions in the order of the Occlusion fields.
func Check(r Report, level Level) error {
	if level == LevelNone {
		return nil
	}
	t, ok := LevelThresholds(level)
	if !ok {
		return fmt.Errorf("quality: %w: %d", control.ErrUnknownLevel, int(level))
	}
	return t.Check(r, level)
}

// Check applies these thresholds; level only labels the error.
func (t Thresholds) Check(r Report, level Level) error {
	var fails []error
	if t.RequireComplete && r.Completeness != 1 {
		fails = append(fails, ErrIncomplete)
	}
	if r.FaceSize() < t.MinFaceSize {
		fails = append(fails, fmt.Errorf("%w: %d px, want at least %d", ErrFaceTooSmall, r.FaceSize(), t.MinFaceSize))
	}
	if a := maxAbs(r.Pose.Yaw, r.Pose.Pitch, r.Pose.Roll); !(a < t.MaxAngle) {
		fails = append(fails, fmt.Errorf("%w: yaw %.0f, pitch %.0f, roll %.0f; limit %.0f", ErrPose, r.Pose.Yaw, r.Pose.Pitch, r.Pose.Roll, t.MaxAngle))
	}
	if !(r.Blur < t.MaxBlur) {
		fails = append(fails, fmt.Errorf("%w: %.2f, limit %.2f", ErrBlur, r.Blur, t.MaxBlur))
	}
	if !(r.Illumination > t.MinIllumination) {
		fails = append(fails, fmt.Errorf("%w: %.0f, want above %.0f", ErrIllumination, r.Illumination, t.MinIllumination))
	}
	for i, v := range r.Occlusion.values() {
		if !(v < t.Occlusion[i]) {
			fails = append(fails, fmt.Errorf("%w: %.2f, limit %.2f", occlusionErrors[i], v, t.Occlusion[i]))
		}
	}
	if len(fails) == 0 {
		return nil
	}
	return &CheckError{Level: level, Failures: fails}
}

func maxAbs(xs ...float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = math.Max(m, math.Abs(x))
	}
	return m
}
