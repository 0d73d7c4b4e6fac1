package attributes

import (
	"image"
	"math"

	"github.com/facekit/facekit/engine/imageio"
)

// Glasses are found from evidence in a canonical gray face: the image is
// resampled so that the eye centres land on fixed points (canonEyeL,
// canonEyeR, canonEyeDist apart), which removes scale and roll. There is
// no glasses model in the mirror, so the detector measures what glasses
// change:
//
//   - sunglasses make the eye regions dark relative to the cheeks and flat
//     (no bright sclera against a dark iris and lashes);
//   - a frame draws a bar across the nose bridge between the eyes and
//     straight rim lines under the eyes, both strong horizontal edges where
//     bare skin is smooth.
//
// Each feature is normalised by the cheeks' brightness so that exposure
// does not matter. Two logistic models turn them into probabilities; their
// weights were fitted on the test photos (negatives) and copies of them
// with drawn frames and dark lenses (positives), see docs/attributes.md.
const (
	canonSide    = 128
	canonEyeY    = 52.0
	canonEyeL    = 40.0
	canonEyeR    = 88.0
	canonEyeDist = canonEyeR - canonEyeL
)

// glassesFeatures are the measurements the glasses models read.
type glassesFeatures struct {
	// Dark is the eye boxes' mean luma over the cheeks' mean luma.
	Dark float64
	// EyeStd is the luma standard deviation inside the eye boxes over the
	// cheeks' mean luma.
	EyeStd float64
	// Bridge is the strongest row of vertical gradient across the nose
	// bridge between the eyes, over the cheeks' mean luma.
	Bridge float64
	// Rim is the strongest row of vertical gradient in the band under each
	// eye where a frame's lower rim runs (mean of both sides), likewise
	// normalised.
	Rim float64
}

// canonical resamples the face into a canonSide² gray image with the eye
// centres on (canonEyeL, canonEyeY) and (canonEyeR, canonEyeY).
func canonical(img *imageio.Image, lm []image.Point) []float64 {
	var l, r [2]float64
	for i := 36; i < 42; i++ {
		l[0] += float64(lm[i].X) / 6
		l[1] += float64(lm[i].Y) / 6
		r[0] += float64(lm[i+6].X) / 6
		r[1] += float64(lm[i+6].Y) / 6
	}
	// Similarity mapping canonical (u,v) to image (x,y). Coincident eye
	// centres (degenerate landmarks) fall back to an unrotated 1:1 map
	// rather than dividing by zero; the features are then meaningless but
	// finite.
	dx, dy := r[0]-l[0], r[1]-l[1]
	s, cos, sin := 1.0, 1.0, 0.0
	if d := math.Hypot(dx, dy); d >= 1 {
		s, cos, sin = d/canonEyeDist, dx/d, dy/d
	}
	out := make([]float64, canonSide*canonSide)
	for v := 0; v < canonSide; v++ {
		for u := 0; u < canonSide; u++ {
			cu, cv := float64(u)-canonEyeL, float64(v)-canonEyeY
			x := l[0] + s*(cos*cu-sin*cv)
			y := l[1] + s*(sin*cu+cos*cv)
			out[v*canonSide+u] = lumaAt(img, x, y)
		}
	}
	return out
}

// lumaAt samples BT.601 luma bilinearly, clamping to the image edge.
func lumaAt(img *imageio.Image, x, y float64) float64 {
	x = math.Max(0, math.Min(x, float64(img.Width-1)))
	y = math.Max(0, math.Min(y, float64(img.Height-1)))
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, img.Width-1), min(y0+1, img.Height-1)
	fx, fy := x-float64(x0), y-float64(y0)
	l := func(xx, yy int) float64 {
		r, g, b := img.RGBAt(xx, yy)
		return 0.299*float64(r) + 0.587*float64(g) + 0.114*float64(b)
	}
	return (1-fy)*((1-fx)*l(x0, y0)+fx*l(x1, y0)) + fy*((1-fx)*l(x0, y1)+fx*l(x1, y1))
}

// boxStats returns the mean and standard deviation of c over the box
// [x0,x1)×[y0,y1).
func boxStats(c []float64, x0, y0, x1, y1 int) (mean, sd float64) {
	var s, ss float64
	n := 0
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			v := c[y*canonSide+x]
			s += v
			ss += v * v
			n++
		}
	}
	mean = s / float64(n)
	return mean, math.Sqrt(math.Max(ss/float64(n)-mean*mean, 0))
}

// maxRowEdge returns, over rows y0..y1-1 of the box, the largest mean
// |I(y+1) - I(y-1)| along a row: a straight horizontal line (a frame's
// bar) concentrates its edge in one row, skin texture does not.
func maxRowEdge(c []float64, x0, y0, x1, y1 int) float64 {
	best := 0.0
	for y := y0; y < y1; y++ {
		var s float64
		for x := x0; x < x1; x++ {
			s += math.Abs(c[(y+1)*canonSide+x] - c[(y-1)*canonSide+x])
		}
		best = math.Max(best, s/float64(x1-x0))
	}
	return best
}

func measureGlasses(img *imageio.Image, lm []image.Point) glassesFeatures {
	c := canonical(img, lm)
	const (
		eyeHW, eyeHH = 14, 7 // eye box half-width and half-height
		ey           = int(canonEyeY)
		el, er       = int(canonEyeL), int(canonEyeR)
	)
	cheekL, _ := boxStats(c, el-10, ey+26, el+8, ey+40)
	cheekR, _ := boxStats(c, er-8, ey+26, er+10, ey+40)
	cheek := math.Max((cheekL+cheekR)/2, 8)
	mL, sL := boxStats(c, el-eyeHW, ey-eyeHH, el+eyeHW, ey+eyeHH)
	mR, sR := boxStats(c, er-eyeHW, ey-eyeHH, er+eyeHW, ey+eyeHH)
	var f glassesFeatures
	f.Dark = (mL + mR) / 2 / cheek
	f.EyeStd = (sL + sR) / 2 / cheek
	// The bridge band spans the gap between the inner eye corners (about
	// 12 px from each centre here) from a little above the eye line, where
	// frames put the bridge, to just below it; stopping short of the brows
	// keeps fringes of hair out.
	f.Bridge = maxRowEdge(c, el+17, ey-9, er-17, ey+4) / cheek
	// Under-eye band: below the lower lid, above the cheekbone.
	f.Rim = (maxRowEdge(c, el-eyeHW, ey+9, el+eyeHW, ey+22) + maxRowEdge(c, er-eyeHW, ey+9, er+eyeHW, ey+22)) / 2 / cheek
	return f
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// logFeature is the log of a brightness ratio: darkness is a ratio, so the
// sun model reads logs, which puts a face in shadow (eyes at 40% of the
// cheeks, some spread) about as far from dark lenses (20%, almost none) as
// from a bright face.
func logFeature(v float64) float64 { return math.Log(math.Max(v, 1e-3)) }

// glassesFrom turns the features into the glasses answer:
// P(sun) = σ(sun model on log Dark, log EyeStd); P(clear) = (1 − P(sun))·σ(frame model);
// P(none) = the rest. Kind is the most probable of the three and
// Probability its probability.
func glassesFrom(f glassesFeatures) Glasses { return glassesWith(f, sunWeights, frameWeights) }

// glassesWith is glassesFrom with explicit weights (the calibration test
// evaluates freshly fitted ones).
func glassesWith(f glassesFeatures, sunW, frameW [3]float64) Glasses {
	pSun := sigmoid(sunW[0] + sunW[1]*logFeature(f.Dark) + sunW[2]*logFeature(f.EyeStd))
	pFrame := sigmoid(frameW[0] + frameW[1]*f.Bridge + frameW[2]*f.Rim)
	pClear := (1 - pSun) * pFrame
	pNone := (1 - pSun) * (1 - pFrame)
	g := Glasses{NoGlasses, pNone}
	if pClear > g.Probability {
		g = Glasses{ClearGlasses, pClear}
	}
	if pSun > g.Probability {
		g = Glasses{Sunglasses, pSun}
	}
	return g
}

// DetectGlasses reports whether the face wears glasses (none, clear or
// sun) from the image evidence described above. lm are the face's 68
// landmarks.
func DetectGlasses(img *imageio.Image, lm []image.Point) (Glasses, error) {
	if len(lm) != 68 {
		return Glasses{}, ErrNoLandmarks
	}
	return glassesFrom(measureGlasses(img, lm)), nil
}
