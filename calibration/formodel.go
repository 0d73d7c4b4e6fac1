package calibration

import (
	"errors"
	"fmt"
)

// ErrNoCurve means no calibration curve is known for a descriptor model.
var ErrNoCurve = errors.New("calibration: no curve")

// ForModel returns the calibration curve of the named descriptor model.
func ForModel(name string) (*Curve, error) {
	if name == "dlib_resnet_v1" {
		return Default(), nil
	}
	return nil, fmt.Errorf("%w: no calibration curve for model %s (measure one with facekit eval pairs --calibrate)", ErrNoCurve, name)
}
