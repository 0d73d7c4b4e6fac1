package quality

import (
	"math"

	"github.com/facekit/facekit/engine/imageio"
)

// blurWindow is the length of the box filter that re-blurs the chip; 9 px on
// a 150 px chip is the value the no-reference blur-effect metric was
// published with (Crété-Roffet et al., 2007).
const blurWindow = 9

// blurEffect measures how much sharpness the face chip has left to lose: it
// blurs the chip again with a 1×9 box filter (horizontally, then separately
// vertically) and compares the total absolute difference between
// neighbouring pixels before and after. A sharp face loses most of its
// neighbour differences to the re-blur (result near 0); an already blurred
// face loses little (result near 1). The ratio is independent of contrast
// and brightness, so a dim but sharp face does not read as blurred, which a
// raw variance of the Laplacian would. Returns a value in [0, 1], the worse
// of the two directions.
func blurEffect(g []float64, w, h int) float64 {
	if w < blurWindow+2 || h < blurWindow+2 {
		return 1
	}
	dir := func(stepX, stepY int) float64 {
		// b is the re-blurred image along the direction.
		b := make([]float64, len(g))
		half := blurWindow / 2
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				var s float64
				for k := -half; k <= half; k++ {
					xx := min(max(x+k*stepX, 0), w-1)
					yy := min(max(y+k*stepY, 0), h-1)
					s += g[yy*w+xx]
				}
				b[y*w+x] = s / blurWindow
			}
		}
		var sumF, sumV float64
		for y := stepY; y < h; y++ {
			for x := stepX; x < w; x++ {
				i, j := y*w+x, (y-stepY)*w+(x-stepX)
				dF := math.Abs(g[i] - g[j])
				dB := math.Abs(b[i] - b[j])
				sumF += dF
				sumV += math.Max(0, dF-dB)
			}
		}
		if sumF == 0 {
			return 1 // a flat patch has no detail at all
		}
		return (sumF - sumV) / sumF
	}
	return math.Max(dir(1, 0), dir(0, 1))
}

// Calibration of the blur score: on the 31 test photos (shrunk to at most
// 1024 px, faces 73–447 px) the raw blur effect of the chip is 0.29–0.58
// as taken (median 0.45), 0.39–0.78 after a Gaussian blur of sigma 1 px,
// 0.46–0.88 at sigma 2 and 0.60–0.92 at sigma 4 (median 0.83). The linear
// map below sends blurLow to 0 and blurHigh to 1, so that the typical sharp
// face scores ≲ 0.3 and sigma 4 ≳ 0.7, matching Baidu's scale (blur < 0.7
// passes NORMAL). Small faces, which the chip has to enlarge, and the
// largest faces, which a fixed sigma blurs least, sit at the ends. The
// per-photo table is in docs/quality.md.
const (
	blurLow  = 0.30
	blurHigh = 0.90
)

// blurScore maps the blur effect of a chip to the 0–1 reporting scale.
func blurScore(c *imageio.Image) float64 {
	g := make([]float64, c.Width*c.Height)
	for y := 0; y < c.Height; y++ {
		for x := 0; x < c.Width; x++ {
			r, gg, b := c.RGBAt(x, y)
			g[y*c.Width+x] = 0.299*float64(r) + 0.587*float64(gg) + 0.114*float64(b)
		}
	}
	return clamp01((blurEffect(g, c.Width, c.Height) - blurLow) / (blurHigh - blurLow))
}

func clamp01(x float64) float64 {
	if math.IsNaN(x) {
		return 1
	}
	return math.Min(1, math.Max(0, x))
}
