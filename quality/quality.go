package quality

import (
	"errors"
	"fmt"
	"image"
	"math"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
)

// Errors returned by Measure.
var (
	// ErrLandmarks means the face does not carry the 68 iBUG landmarks
	// every metric is anchored on.
	ErrLandmarks = errors.New("quality: face needs 68 landmarks")
	// ErrEmptyImage means the image has no pixels.
	ErrEmptyImage = errors.New("quality: empty image")
	// ErrDegenerateFace means the landmarks collapse (eyes on one point),
	// so no face frame can be built from them.
	ErrDegenerateFace = errors.New("quality: degenerate landmarks")
)

// Report is the quality of one face, with Baidu's scales.
type Report struct {
	// Blur is 0 (sharp) … 1 (blurred).
	Blur float64
	// Illumination is the mean BT.601 luma of the face region, 0–255.
	Illumination float64
	// Completeness is 1 when the face box and all landmarks lie inside the
	// image, else 0.
	Completeness int
	// Occlusion is the covered share of each face part.
	Occlusion Occlusion
	// FaceWidth and FaceHeight are the detector box's size in pixels.
	FaceWidth  int
	FaceHeight int
	// Pose is the head pose from the engine, in degrees.
	Pose engine.Pose
}

// FaceSize is the smaller side of the face box, the figure the size
// criterion checks.
func (r Report) FaceSize() int { return min(r.FaceWidth, r.FaceHeight) }

// blurChipSize and blurChipPadding are the aligned chip blur is measured
// on: the descriptor network's own input, so "blurred" means blurred at
// the scale recognition works at, whatever the face's size in the photo.
const (
	blurChipSize    = 150
	blurChipPadding = 0.25
)

// Measure computes the quality report of face f of img. The face must have
// its 68 landmarks (engine.Options.Landmarks). Returns ErrLandmarks,
// ErrEmptyImage or ErrDegenerateFace for unusable input. Measure is safe
// for concurrent use.
func Measure(img *imageio.Image, f engine.Face) (Report, error) {
	if img == nil || img.Width <= 0 || img.Height <= 0 {
		return Report{}, ErrEmptyImage
	}
	if len(f.Landmarks) != 68 {
		return Report{}, fmt.Errorf("%w: got %d", ErrLandmarks, len(f.Landmarks))
	}
	lm := make([]pt, 68)
	for i, p := range f.Landmarks {
		lm[i] = toPt(p)
	}
	eL, eR, m := anchorPoints(lm)
	if eL.dist(eR) < 2 || mean(eL, eR).dist(m) < 2 {
		return Report{}, fmt.Errorf("%w: eyes %.1f px apart", ErrDegenerateFace, eL.dist(eR))
	}
	r := Report{
		Completeness: completeness(img.Bounds(), f),
		FaceWidth:    f.Rect.Dx(),
		FaceHeight:   f.Rect.Dy(),
		Pose:         f.Pose,
	}
	c := makeChip(img, f.Landmarks)
	r.Illumination = illumination(c)
	r.Occlusion, _ = measureOcclusion(c)
	bc, err := engine.Chip(img, f, blurChipSize, blurChipPadding)
	if err != nil {
		return Report{}, fmt.Errorf("quality: blur chip: %w", err)
	}
	r.Blur = blurScore(bc)
	return r, nil
}

// completeness is 1 when the detector box and every landmark are inside
// the image: Baidu's 0 means "the face overflows the image border".
func completeness(bounds image.Rectangle, f engine.Face) int {
	if !f.Rect.In(bounds) {
		return 0
	}
	for _, p := range f.Landmarks {
		if !p.In(bounds) {
			return 0
		}
	}
	return 1
}

// illumination is the mean luma over the face: the hull of the jaw line
// closed over the brows (the area Baidu calls 脸部区域), measured in the
// chip so that every face counts its own area once whatever its size.
// Pixels outside the image are left out.
func illumination(c *chip) float64 {
	poly := append([]pt(nil), c.lm[0:17]...)
	for i := 26; i >= 17; i-- {
		poly = append(poly, c.lm[i])
	}
	var sum float64
	n := 0
	for _, i := range c.polygonPixels(poly) {
		if c.valid[i] {
			sum += float64(c.y[i])
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return math.Round(sum/float64(n)*10) / 10
}
