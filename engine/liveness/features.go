package liveness

import (
	"context"
	"fmt"
	"image"
	"math"
	"sort"

	"github.com/facekit/facekit/engine/imageio"

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
	featFRLiveness          // log P(live) of faceplugin's fr_liveness net, 128×128 BGR 0..255
	numFeatures
)

// featureNames name the features in docs and generated code.
var featureNames = [numFeatures]string{"liveness_net", "antispoof_net", "detail", "saturation", "dynamic_range", "specular", "fr_liveness"}

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

// frBox is where the fr_liveness net looks: the detector's face box
// scaled by 2.7 about its centre, shrunk to fit the image and shifted
// inside it, as faceplugin's lib/fr_liveness.js frames it (on NUAA's tight
// crops that is nearly the whole crop). Chosen because it is the net's own
// convention; on every second NUAA crop the fitted model's held-out AUC is
// 0.956 / 0.914 (odd→even / even→odd) with it and 0.945 / 0.939 with the
// landmark square of the other features (docs/faceplugin.md).
func frBox(b image.Rectangle, w, h int) image.Rectangle {
	bw, bh := max(b.Dx(), 1), max(b.Dy(), 1)
	s := math.Min(float64(h-1)/float64(bh), math.Min(float64(w-1)/float64(bw), 2.7))
	nw, nh := float64(bw)*s, float64(bh)*s
	cx, cy := float64(b.Min.X)+float64(bw)/2, float64(b.Min.Y)+float64(bh)/2
	x0 := math.Max(0, math.Min(cx-nw/2, float64(w-1)-nw))
	y0 := math.Max(0, math.Min(cy-nh/2, float64(h-1)-nh))
	return image.Rect(int(x0), int(y0), int(x0+nw), int(y0+nh))
}

// frSide is fr_liveness's input side.
const frSide = 128

// frInput is fr_liveness's input for region r of img: resized to 128×128,
// planar BGR (the only order it works with), raw 0..255.
func frInput(img image.Image, r image.Rectangle) []float32 {
	dst := image.NewRGBA(image.Rect(0, 0, frSide, frSide))
	draw.BiLinear.Scale(dst, dst.Bounds(), img, r, draw.Src, nil)
	const plane = frSide * frSide
	out := make([]float32, 3*plane)
	for i := 0; i < plane; i++ {
		p := dst.Pix[4*i:]
		out[i], out[plane+i], out[2*plane+i] = float32(p[2]), float32(p[1]), float32(p[0])
	}
	return out
}

// logSoftmax is log of the softmax of x at k.
func logSoftmax(x []float32, k int) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, float64(v))
	}
	var s float64
	for _, v := range x {
		s += math.Exp(float64(v) - m)
	}
	return float64(x[k]) - m - math.Log(s)
}

// frFeature runs fr_liveness on the face's wide box. Its three outputs are
// logits of a softmax; class 0 is live (live above print on NUAA: AUC
// 0.88 and 0.85 on the two halves, where classes 1 and 2 are below 0.5).
func (c *Checker) frFeature(ctx context.Context, img *imageio.Image, box image.Rectangle, f *[numFeatures]float64) error {
	m, err := c.fr.get()
	if err != nil {
		return err
	}
	out, err := m.Run(ctx, frInput(img, frBox(box, img.Width, img.Height)))
	if err != nil {
		return fmt.Errorf("liveness: run fr_liveness: %w", err)
	}
	if len(out) != 3 {
		return fmt.Errorf("liveness: fr_liveness gave %d values: %w", len(out), ErrBadOutput)
	}
	f[featFRLiveness] = logSoftmax(out, 0)
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
