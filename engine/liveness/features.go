package liveness

import (
	"fmt"
	"image"
	"math"
	"sort"

	"github.com/facekit/facekit/engine/tfgraph"
	"golang.org/x/image/draw"
)

// Feature indices. Every feature is computed on a square crop centred on
// the 68 landmarks (faceSquare with cropScale), which frames a face the
// way the NUAA crops the liveness model and the calibration saw do.
const (
	featLivenessNet  = iota // logit of the liveness net's P(live), 32×32 RGB
	featAntispoofNet        // logit of the antispoof net's output, 128×128 RGB
	featDetail              // log of the Laplacian-to-gradient energy ratio (fine texture)
	featSaturation          // mean HSV saturation of the inner face
	featRange               // luma 1st–99th percentile spread / 255
	featSpecular            // share of near-white pixels (glossy print highlights)
	numFeatures
)

// featureNames name the features in docs and generated code.
var featureNames = [numFeatures]string{"liveness_net", "antispoof_net", "detail", "saturation", "dynamic_range", "specular"}

// cropScale is the side of the feature crop as a multiple of the landmark
// extent: the NUAA crops (203 px) are on average 1.14 times the 68-point
// extent of the faces HOG finds in them.
const cropScale = 1.15

// faceSquare returns a square centred on the landmarks' bounding box whose
// side is scale times its longer side.
func faceSquare(lm []image.Point, scale float64) image.Rectangle {
	minX, minY, maxX, maxY := lm[0].X, lm[0].Y, lm[0].X, lm[0].Y
	for _, p := range lm[1:] {
		minX, maxX = min(minX, p.X), max(maxX, p.X)
		minY, maxY = min(minY, p.Y), max(maxY, p.Y)
	}
	cx, cy := float64(minX+maxX)/2, float64(minY+maxY)/2
	h := scale * float64(max(maxX-minX, maxY-minY, 1)) / 2
	return image.Rect(int(math.Round(cx-h)), int(math.Round(cy-h)), int(math.Round(cx+h)), int(math.Round(cy+h)))
}

// logit maps a probability to the real line, clamped so that saturated
// net outputs stay finite.
func logit(p float32) float64 {
	q := math.Min(math.Max(float64(p), 1e-6), 1-1e-6)
	return math.Log(q / (1 - q))
}

// netFeatures runs the liveness net on the face crop, and the antispoof
// net too when withAntispoof (only the calibration measures it: it has
// weight 0 in the fitted model, see docs/liveness.md).
func (c *Checker) netFeatures(img image.Image, r image.Rectangle, f *[numFeatures]float64, withAntispoof bool) error {
	lv, err := c.live.get()
	if err != nil {
		return err
	}
	out, err := lv.Run(map[string]*tfgraph.Tensor{"conv2d_1_input": tfgraph.ImageTensor(img, r, 32, false, tfgraph.Range01)}, "Identity")
	if err != nil {
		return fmt.Errorf("liveness: run liveness net: %w", err)
	}
	if p := out["Identity"].Data; len(p) == 2 {
		f[featLivenessNet] = logit(p[0])
	} else {
		return fmt.Errorf("liveness: liveness net gave %d values: %w", len(p), ErrBadOutput)
	}
	if !withAntispoof {
		return nil
	}
	as, err := c.anti.get()
	if err != nil {
		return err
	}
	out, err = as.Run(map[string]*tfgraph.Tensor{"conv2d_input": tfgraph.ImageTensor(img, r, 128, false, tfgraph.Range01)}, "Identity")
	if err != nil {
		return fmt.Errorf("liveness: run antispoof net: %w", err)
	}
	if p := out["Identity"].Data; len(p) == 1 {
		f[featAntispoofNet] = logit(p[0])
	} else {
		return fmt.Errorf("liveness: antispoof net gave %d values: %w", len(p), ErrBadOutput)
	}
	return nil
}

// statSide is the side of the resampled crop the image statistics use:
// fixed so that they do not depend on the face's size in pixels.
const statSide = 128

// imageFeatures measures recapture evidence on the crop resampled to
// statSide: prints and screens lose fine skin texture (detail), colour
// saturation and dynamic range, and glossy paper adds specular patches.
func imageFeatures(img image.Image, r image.Rectangle, f *[numFeatures]float64) {
	dst := image.NewRGBA(image.Rect(0, 0, statSide, statSide))
	draw.BiLinear.Scale(dst, dst.Bounds(), img, r, draw.Src, nil)
	n := statSide * statSide
	gray := make([]float64, n)
	var satSum float64
	var satN, white int
	// The inner face (middle 60%) avoids background and hair, which differ
	// between captures for reasons that have nothing to do with liveness.
	lo, hi := statSide/5, statSide-statSide/5
	for y := 0; y < statSide; y++ {
		for x := 0; x < statSide; x++ {
			p := dst.Pix[4*(y*statSide+x):]
			r, g, b := float64(p[0]), float64(p[1]), float64(p[2])
			gray[y*statSide+x] = 0.299*r + 0.587*g + 0.114*b
			if x >= lo && x < hi && y >= lo && y < hi {
				mx, mn := max(r, g, b), min(r, g, b)
				if mx > 0 {
					satSum += (mx - mn) / mx
				}
				satN++
				if mn > 235 {
					white++
				}
			}
		}
	}
	f[featSaturation] = satSum / float64(satN)
	f[featSpecular] = float64(white) / float64(satN)

	var lap, grad float64
	for y := 1; y < statSide-1; y++ {
		for x := 1; x < statSide-1; x++ {
			i := y*statSide + x
			l := 4*gray[i] - gray[i-1] - gray[i+1] - gray[i-statSide] - gray[i+statSide]
			gx, gy := gray[i+1]-gray[i-1], gray[i+statSide]-gray[i-statSide]
			lap += l * l
			grad += gx*gx + gy*gy
		}
	}
	f[featDetail] = math.Log((lap + 1) / (grad + 1))

	inner := make([]float64, 0, satN)
	for y := lo; y < hi; y++ {
		inner = append(inner, gray[y*statSide+lo:y*statSide+hi]...)
	}
	sort.Float64s(inner)
	f[featRange] = (inner[len(inner)*99/100] - inner[len(inner)/100]) / 255
}
