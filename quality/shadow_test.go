package quality

import (
	"math"
	"testing"

	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/quality/internal/qtest"
)

// shadeEyeSockets darkens both eye sockets as a light from above darkens
// deep-set eyes: every pixel is multiplied by 1 − depth inside an ellipse
// round each eye (0.55 × 0.40 inter-ocular distances, centred a tenth of
// that distance above the eye) and by a factor ramping back to 1 over the
// next 0.15. A shadow scales the light falling on lids, iris and pupil
// alike, so the eye's own contrast survives it; nothing covers the eye.
func shadeEyeSockets(img *imageio.Image, fr faceFrame, depth float64) {
	for _, e := range []pt{fr.eyeL, fr.eyeR} {
		c := fr.at(e, 0, -0.1)
		rx, ry, soft := 0.55*fr.iod, 0.40*fr.iod, 0.15*fr.iod
		x0, x1 := max(int(c.X-rx-soft), 0), min(int(c.X+rx+soft)+1, img.Width-1)
		y0, y1 := max(int(c.Y-rx-soft), 0), min(int(c.Y+rx+soft)+1, img.Height-1)
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				p := pt{float64(x), float64(y)}.sub(c)
				a := p.X*fr.ux.X + p.Y*fr.ux.Y // along the eye axis
				b := p.X*fr.uy.X + p.Y*fr.uy.Y // across it
				// distance outside the ellipse, approximately, in pixels
				out := (math.Hypot(a/rx, b/ry) - 1) * math.Min(rx, ry)
				k := 1 - depth*clamp01(1-out/soft)
				i := 3 * (y*img.Width + x)
				for j := range 3 {
					img.Pix[i+j] = uint8(math.Round(float64(img.Pix[i+j]) * k))
				}
			}
		}
	}
}

// TestEyeSocketShadowIsNotOcclusion: a shadow in the eye sockets that
// lets through 55% of the light (depth 0.45) must not read as a covered
// eye. Measured on the 31 test photos: 1 reads an eye covered; 11 did
// before the eye ring was discounted where the eye's own detail shows
// (issue 13, Omar_Sharif_0003). Deeper shadows still trip it: at 40% of
// the light the whole ring is darker than any skin, the ring alone scores
// its share of the region (0.67), and 19 photos read covered (24 before).
func TestEyeSocketShadowIsNotOcclusion(t *testing.T) {
	normal, _ := LevelThresholds(LevelNormal)
	ps := photosForTest(t)
	n := 0
	for _, p := range ps {
		img := qtest.Clone(p.Img)
		shadeEyeSockets(img, frameOf(p.Face), 0.45)
		r, err := Measure(img, p.Face)
		if err != nil {
			t.Fatal(err)
		}
		if r.Occlusion.LeftEye >= normal.Occlusion[regLeftEye] || r.Occlusion.RightEye >= normal.Occlusion[regRightEye] {
			n++
			t.Logf("%s: eyes %.2f %.2f", p.Name, r.Occlusion.LeftEye, r.Occlusion.RightEye)
		}
	}
	// The pasted-occluder tests allow 13% misses on the same photos.
	if allowed := math.Floor(float64(len(ps)) * (1 - minOccluderPassRate)); float64(n) > allowed {
		t.Errorf("%d of %d photos with shadowed eye sockets read an eye covered at NORMAL, want at most %.0f", n, len(ps), allowed)
	}
}
