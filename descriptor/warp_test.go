package descriptor

import (
	"testing"

	"github.com/facekit/facekit/engine/imageio"
)

func TestWarpSimilarityArea(t *testing.T) {
	// A one-pixel checkerboard of 0 and 200: shrunk 4× it is a flat 100
	// (its mean). Plain bilinear sampling reads one pixel in four, all of
	// one colour here (aliasing: the pattern turns black).
	img := imageio.NewImage(64, 64)
	for y := 0; y < 64; y++ {
		for x := 0; x < 64; x++ {
			c := uint8(200 * ((x + y) % 2))
			img.SetRGB(x, y, c, c, c)
		}
	}
	// Chip pixel (u, v) is centred on source (4u+1, 4v+1).
	shrink := Similarity{A: 0.25, Tx: -0.25, Ty: -0.25}
	plain, area := WarpSimilarity(img, shrink, 16), WarpSimilarityArea(img, shrink, 16)
	for _, p := range [][2]int{{1, 1}, {5, 9}, {14, 14}} {
		if r, g, b := area.RGBAt(p[0], p[1]); r != 100 || g != 100 || b != 100 {
			t.Errorf("area (%d,%d) = %d,%d,%d, want 100", p[0], p[1], r, g, b)
		}
		if r, _, _ := plain.RGBAt(p[0], p[1]); r != 0 {
			t.Errorf("bilinear (%d,%d) = %d, want the aliased 0", p[0], p[1], r)
		}
	}
	// Not shrinking (scale ≥ 1), the two warps are the same.
	grow := Similarity{A: 1.5, B: 0.2, Tx: -3, Ty: 2}
	a, b := WarpSimilarity(img, grow, 32), WarpSimilarityArea(img, grow, 32)
	for i := range a.Pix {
		if a.Pix[i] != b.Pix[i] {
			t.Fatalf("scale 1.5: byte %d differs (%d against %d)", i, a.Pix[i], b.Pix[i])
		}
	}
}
