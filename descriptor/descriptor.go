// Package descriptor is the registry of face-descriptor models. Each model
// turns one face of an image (found and landmarked by the engine) into a
// vector; vectors of different models live in different spaces, so every
// stored vector carries the name of its model and comparing across models is
// refused. MobileFaceNet (TF.js graph through engine/tfgraph) is the
// default: on East Asian faces its LFW-calibrated vendor thresholds come
// closest to their promise, it passes 99% on LFW, and it is the cheapest
// accurate model (docs/accuracy.md). The dlib ResNet runs in the native
// engine, frfeature (ONNX) through OpenCV DNN; the TF.js graph models of
// the human-models mirror run through engine/tfgraph, each with its own
// alignment and input normalisation.
package descriptor

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
)

// Default names the default descriptor model, mobilefacenet: the model a
// server describes faces with when none is configured and its library is
// empty (docs/accuracy.md has the measurements that chose it).
const Default = "mobilefacenet"

// ResNet names the dlib ResNet, the default before mobilefacenet, computed in
// the native engine's own pass (libraries enrolled before the switch hold
// its descriptors).
const ResNet = engine.ModelName

// Errors returned by this package; match them with errors.Is.
var (
	// ErrUnknownModel means no descriptor model of that name is registered.
	ErrUnknownModel = errors.New("descriptor: unknown model")
	// ErrModelMismatch means two descriptors of different models were
	// compared; their distance would be meaningless.
	ErrModelMismatch = errors.New("descriptor: descriptors of different models")
	// ErrDimension means a vector does not have its model's length.
	ErrDimension = errors.New("descriptor: wrong descriptor length")
)

// Describer computes one model's descriptor of a face. Implementations are
// safe for concurrent use.
type Describer interface {
	// Name is the model name stored with every descriptor.
	Name() string
	// Dim is the length of the vectors Describe returns.
	Dim() int
	// Describe returns the descriptor of face f of img. f must carry the 68
	// landmarks (engine.ErrNoLandmarks otherwise): every model aligns from
	// them.
	Describe(ctx context.Context, img *imageio.Image, f engine.Face) ([]float32, error)
}

// Metric is how a model's descriptors are compared.
type Metric string

// The metrics in use.
const (
	// Euclidean is the L2 distance of raw vectors (dlib's metric; its
	// decision threshold is 0.6).
	Euclidean Metric = "euclidean"
	// Cosine is 1 − cos(a, b), in [0, 2]; the angular-margin models are
	// trained for it.
	Cosine Metric = "cosine"
)

// Metered is implemented by describers whose descriptors are not compared by
// Euclidean distance.
type Metered interface {
	Metric() Metric
}

// MetricOf returns the metric d's descriptors are compared with.
func MetricOf(d Describer) Metric {
	if m, ok := d.(Metered); ok {
		return m.Metric()
	}
	return Euclidean
}

// Distance compares two vectors of the same model under metric m; lower
// means more alike. Vectors of different lengths give ErrDimension.
func Distance(m Metric, a, b []float32) (float64, error) {
	if len(a) != len(b) || len(a) == 0 {
		return 0, fmt.Errorf("%w: %d vs %d", ErrDimension, len(a), len(b))
	}
	switch m {
	case Cosine:
		var dot, na, nb float64
		for i := range a {
			x, y := float64(a[i]), float64(b[i])
			dot += x * y
			na += x * x
			nb += y * y
		}
		if na == 0 || nb == 0 {
			return 1, nil // a zero vector is orthogonal to everything
		}
		return 1 - dot/math.Sqrt(na*nb), nil
	default:
		var s float64
		for i := range a {
			d := float64(a[i]) - float64(b[i])
			s += d * d
		}
		return math.Sqrt(s), nil
	}
}

// Stored is a descriptor with the model it came from, the unit a face
// library keeps.
type Stored struct {
	Model  string    `json:"model"`
	Vector []float32 `json:"vector"`
}

// Compare returns the distance between two stored descriptors, refusing
// (ErrModelMismatch) to compare vectors of different models and using the
// model's registered metric.
func Compare(a, b Stored) (float64, error) {
	if a.Model != b.Model {
		return 0, fmt.Errorf("%w: %q vs %q (re-embed the library with `facekit reembed`)", ErrModelMismatch, a.Model, b.Model)
	}
	spec, ok := lookup(a.Model)
	if !ok {
		return 0, fmt.Errorf("%w: %q", ErrUnknownModel, a.Model)
	}
	if len(a.Vector) != spec.dim || len(b.Vector) != spec.dim {
		return 0, fmt.Errorf("%w: %s wants %d, got %d and %d", ErrDimension, a.Model, spec.dim, len(a.Vector), len(b.Vector))
	}
	return Distance(spec.metric, a.Vector, b.Vector)
}

// l2normalize scales v to unit length in place (a zero vector stays zero).
func l2normalize(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return
	}
	k := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= k
	}
}
