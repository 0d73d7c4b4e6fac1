// Package standin holds the stand-ins of tests that must never reach the
// engine or a descriptor model (authentication, library management,
// request validation, middleware): reaching one returns an error, which
// fails the test. They produce no results, so no test can pass on them.
package standin

import (
	"context"
	"errors"
	"image"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
)

// Engine stands in for *engine.Engine with a pool of Pool instances.
type Engine struct{ Pool int }

// Analyze always fails: the test reached the engine.
func (Engine) Analyze(context.Context, image.Image, engine.Options) ([]engine.Face, error) {
	return nil, errors.New("test bug: the engine was reached in a test that runs without one")
}

// PoolSize returns Pool.
func (e Engine) PoolSize() int { return e.Pool }

// Describer stands in for a descriptor model (the dlib ResNet's name and
// length, the model the tests with a real engine describe with).
type Describer struct{}

// Name is the ResNet's, so that its embedded calibration applies.
func (Describer) Name() string { return descriptor.ResNet }

// Dim is the ResNet's.
func (Describer) Dim() int { return engine.DescriptorSize }

// Describe always fails: the test reached the descriptor model.
func (Describer) Describe(context.Context, *imageio.Image, engine.Face) ([]float32, error) {
	return nil, errors.New("test bug: the descriptor model was reached in a test that runs without one")
}
