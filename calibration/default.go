package calibration

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
)

// The embedded curves, one file per descriptor model named MODEL.json. The
// dlib ResNet's (dlib_resnet_v1.json) comes from `facekit calibrate`
// (docs/calibration.md); the others, the default model's included, from
// `facekit eval pairs --calibrate` on the same LFW images
// (docs/accuracy.md).
//
//go:embed *.json
var curveFiles embed.FS

// DefaultModel is the descriptor model Default's curve was measured for:
// the default descriptor model (descriptor.Default; cmd/facekit's tests
// check the two agree).
const DefaultModel = "mobilefacenet"

// ErrNoCurve means no calibration curve is embedded for a model.
var ErrNoCurve = errors.New("calibration: no curve for model")

var (
	curvesOnce sync.Once
	curves     map[string]*Curve
	curvesErr  error
)

func loadCurves() {
	curves = map[string]*Curve{}
	names, _ := fs.Glob(curveFiles, "*.json")
	for _, n := range names {
		data, err := curveFiles.ReadFile(n)
		if err != nil {
			curvesErr = err
			return
		}
		c, err := Parse(data)
		if err != nil {
			curvesErr = fmt.Errorf("calibration: embedded %s: %w", n, err)
			return
		}
		model := strings.TrimSuffix(n, ".json")
		if c.Model != model {
			curvesErr = fmt.Errorf("calibration: embedded %s is the curve of model %q", n, c.Model)
			return
		}
		curves[model] = c
	}
}

// ForModel returns the embedded calibration curve of the named descriptor
// model: distances of different models mean different things, so each model
// is mapped to a false-accept rate by its own curve. Returns ErrNoCurve for
// a model without one. The curves are shared and must not be modified.
func ForModel(model string) (*Curve, error) {
	curvesOnce.Do(loadCurves)
	if curvesErr != nil {
		return nil, curvesErr
	}
	c, ok := curves[model]
	if !ok {
		return nil, fmt.Errorf("%w %q (have %v)", ErrNoCurve, model, Models())
	}
	return c, nil
}

// Models lists the models with an embedded curve, sorted.
func Models() []string {
	curvesOnce.Do(loadCurves)
	out := make([]string, 0, len(curves))
	for m := range curves {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// Default returns the calibration curve of the default descriptor model.
func Default() *Curve {
	c, err := ForModel(DefaultModel)
	if err != nil {
		panic(fmt.Sprintf("calibration: embedded default curve: %v", err))
	}
	return c
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
