package quality

import (
	"math"
	"sort"
)

// skinModel is the colour of this face's own visible skin: a robust centre
// and spread of normalised chroma (u, v) and of log-luma, learnt from the
// reference regions of the same face. Learning per face (instead of a fixed
// skin-colour box) copes with every skin tone, white balance and make-up.
type skinModel struct {
	u, v, lnY    float64 // centre
	su, sv, slnY float64 // robust spread (1.4826·MAD, floored)
	// grey is set when the photo carries no colour (greyscale); then only
	// luma evidence is available.
	grey bool
}

// Skin-gamut bounds in normalised chroma. Human skin of any tone is redder
// than neutral (v > 0) and not bluer than neutral (u < 0); the bounds only
// pick which colour mode is skin when the reference area is mixed with an
// occluder, they are not the match test.
const (
	gamutMinV = 0.0
	gamutMaxU = 0.03
)

// Floors of the spreads: a perfectly uniform reference (a flat-lit face, a
// JPEG that quantised chroma away) must not make the match test reject
// ordinary variation.
const (
	minChromaSpread = 0.025
	minLumaSpread   = 0.18
)

// skinSpan (normalised chroma) and skinLumaSpan (a brightness factor) bound
// the reference pixels the spread is measured on.
const (
	skinSpan     = 0.15
	skinLumaSpan = 2.5
)

// learnSkin fits the skin model to reference areas of the face. Each area
// that shows enough skin-gamut pixels votes with its own median colour and
// brightness; the model's centre is the median of those votes. An occluder
// that covers a minority of the areas cannot move that centre, however
// uniform or large it is (a mode or a pooled mean would follow a big flat
// patch of hair or a hand). The spread is then measured over all reference
// pixels near the centre.
func learnSkin(c *chip, areas [][]int) skinModel {
	var all []int
	coloured := 0
	for _, a := range areas {
		for _, i := range a {
			if c.valid[i] {
				all = append(all, i)
				if math.Abs(float64(c.u[i])) > 0.01 || math.Abs(float64(c.v[i])) > 0.01 {
					coloured++
				}
			}
		}
	}
	m := skinModel{u: 0, v: 0.1, lnY: math.Log(129), su: minChromaSpread, sv: minChromaSpread, slnY: minLumaSpread}
	if len(all) == 0 {
		return m
	}
	// A greyscale photo has no chroma at all; then the gamut means nothing
	// and only brightness is compared.
	m.grey = coloured*20 < len(all)
	inGamut := func(i int) bool {
		return m.grey || (float64(c.v[i]) > gamutMinV && float64(c.u[i]) < gamutMaxU)
	}
	var vu, vv, vy []float64
	for _, a := range areas {
		var us, vs, ys []float64
		n := 0
		for _, i := range a {
			if !c.valid[i] {
				continue
			}
			n++
			if inGamut(i) {
				us, vs = append(us, float64(c.u[i])), append(vs, float64(c.v[i]))
				ys = append(ys, math.Log(float64(c.y[i])+1))
			}
		}
		if len(us) < 20 || 10*len(us) < 3*n {
			continue // mostly covered or off-image: no vote
		}
		mu, _ := medianMAD(us)
		mv, _ := medianMAD(vs)
		my, _ := medianMAD(ys)
		vu, vv, vy = append(vu, mu), append(vv, mv), append(vy, my)
	}
	if len(vu) == 0 {
		// Nothing looks like skin anywhere: keep the pooled medians so the
		// regions are at least compared with the face's dominant colour.
		for _, i := range all {
			vu, vv = append(vu, float64(c.u[i])), append(vv, float64(c.v[i]))
			vy = append(vy, math.Log(float64(c.y[i])+1))
		}
	}
	m.u, _ = medianMAD(vu)
	m.v, _ = medianMAD(vv)
	m.lnY, _ = medianMAD(vy)
	// A face's skin is not one colour: cheeks are redder than the
	// forehead, make-up and light shift it. The spread is therefore taken
	// over every reference pixel that is plausibly skin (chroma within
	// skinSpan of the centre, luma within a factor skinLumaSpan).
	var us, vs, ys []float64
	for _, i := range all {
		ly := math.Log(float64(c.y[i]) + 1)
		if math.Hypot(float64(c.u[i])-m.u, float64(c.v[i])-m.v) <= skinSpan && math.Abs(ly-m.lnY) <= math.Log(skinLumaSpan) {
			us, vs, ys = append(us, float64(c.u[i])), append(vs, float64(c.v[i])), append(ys, ly)
		}
	}
	if len(us) > 0 {
		_, su := medianMAD(us)
		_, sv := medianMAD(vs)
		_, sy := medianMAD(ys)
		m.su = math.Max(1.4826*su, minChromaSpread)
		m.sv = math.Max(1.4826*sv, minChromaSpread)
		m.slnY = math.Max(1.4826*sy, minLumaSpread)
	}
	return m
}

// Match tolerances: a pixel is skin when its chroma lies within skinChromaK
// spreads of the model and its luma within skinLumaK spreads (in log
// terms: shading of a lit face spans a factor of about 2 either way).
const (
	skinChromaK = 3.5
	skinLumaK   = 3.5
)

// isSkin reports whether chip pixel i looks like this face's skin.
func (m skinModel) isSkin(c *chip, i int) bool {
	if !c.valid[i] {
		return false
	}
	du := (float64(c.u[i]) - m.u) / m.su
	dv := (float64(c.v[i]) - m.v) / m.sv
	dy := (math.Log(float64(c.y[i])+1) - m.lnY) / m.slnY
	return du*du+dv*dv <= skinChromaK*skinChromaK && math.Abs(dy) <= skinLumaK
}

// nonSkinFraction is the share of the pixels idx that are not skin
// (pixels outside the image count as not skin: that part of the face is not
// visible either).
func (m skinModel) nonSkinFraction(c *chip, idx []int) float64 {
	if len(idx) == 0 {
		return 1
	}
	n := 0
	for _, i := range idx {
		if !m.isSkin(c, i) {
			n++
		}
	}
	return float64(n) / float64(len(idx))
}

func medianMAD(xs []float64) (med, mad float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	med = s[len(s)/2]
	for i := range s {
		s[i] = math.Abs(s[i] - med)
	}
	sort.Float64s(s)
	return med, s[len(s)/2]
}

// percentileY returns the p-quantile (0..1) of the luma of the valid pixels
// idx, and false if there are none.
func percentileY(c *chip, idx []int, p float64) (float64, bool) {
	var ys []float64
	for _, i := range idx {
		if c.valid[i] {
			ys = append(ys, float64(c.y[i]))
		}
	}
	if len(ys) == 0 {
		return 0, false
	}
	sort.Float64s(ys)
	return ys[min(int(p*float64(len(ys))), len(ys)-1)], true
}
