package engine

import (
	"context"
	"image"
)

// CNNToHOGBox exposes the box mapping to the external tests.
var CNNToHOGBox = cnnToHOGBox

// LandmarksForBoxes fits the 68 points to given boxes, so that tests can
// compare the landmarks of differently mapped boxes.
func (e *Engine) LandmarksForBoxes(ctx context.Context, img image.Image, boxes []image.Rectangle) ([][]image.Point, error) {
	in, err := e.borrow(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { e.pool <- in }()
	return in.Landmarks(toRGB(img), boxes)
}

// CNNToHOGBoxInverse maps a reported (HOG-convention) CNN box back to the
// CNN's own convention.
var CNNToHOGBoxInverse = hogToCNNBox

// Downscale exposes downscale to the external tests and benchmarks, which
// need testenv (and testenv imports engine).
var Downscale = downscale

// SSDToHOGBoxInverse maps a reported (HOG-convention) SSD box back to the
// SSD's own convention.
var SSDToHOGBoxInverse = hogToSSDBox
