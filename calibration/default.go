package calibration

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"
)

// The curve for dlib's ResNet descriptor. `facekit calibrate` regenerates it
// from the impostor distribution it measures; docs/calibration.md records how.
//
//go:embed dlib_resnet_v1.json
var dlibResNetJSON []byte

var (
	defaultOnce  sync.Once
	defaultCurve *Curve
)

// Default returns the calibration curve of the default descriptor model.
func Default() *Curve {
	defaultOnce.Do(func() {
		c, err := Parse(dlibResNetJSON)
		if err != nil {
			panic(fmt.Sprintf("calibration: embedded curve is invalid: %v", err))
		}
		defaultCurve = c
	})
	return defaultCurve
}

// Parse reads a curve from JSON and checks that it is monotone.
func Parse(data []byte) (*Curve, error) {
	var c Curve
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("calibration: parse curve: %w", err)
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return &c, nil
}

// check verifies that the curve is usable: points present, distance and FAR
// strictly increasing, FAR in (0, 1].
func (c *Curve) check() error {
	if len(c.Points) == 0 {
		return fmt.Errorf("calibration: curve %q has no points", c.Model)
	}
	for i := 1; i < len(c.Points); i++ {
		a, b := c.Points[i-1], c.Points[i]
		if b.Distance <= a.Distance || b.FAR <= a.FAR {
			return fmt.Errorf("calibration: curve %q not strictly increasing at point %d", c.Model, i)
		}
	}
	if c.Points[0].FAR <= 0 || c.Points[len(c.Points)-1].FAR > 1 {
		return fmt.Errorf("calibration: curve %q has a FAR outside (0, 1]", c.Model)
	}
	return nil
}
