package attributes

import (
	"image"
	"math"

	"github.com/facekit/facekit/engine/imageio"
)

// Doctored copies of real photos for the glasses detector: frames and dark
// lenses drawn where glasses sit, placed from the face's own landmarks.

// frameStyle is one kind of drawn frame.
type frameStyle struct {
	name      string
	r, g, b   uint8
	thickness float64 // as a share of the eye distance
}

var frameStyles = []frameStyle{
	{"black", 20, 20, 22, 0.05},
	{"brown", 95, 62, 40, 0.04},
	{"metal", 160, 160, 170, 0.02},
	{"red", 150, 30, 35, 0.035},
}

// eyeGeometry returns the eye centres, their distance and the unit vectors
// along and across the eye line (across points down the face).
func eyeGeometry(lm []image.Point) (l, r [2]float64, d float64, ex, ey [2]float64) {
	for i := 36; i < 42; i++ {
		l[0] += float64(lm[i].X) / 6
		l[1] += float64(lm[i].Y) / 6
		r[0] += float64(lm[i+6].X) / 6
		r[1] += float64(lm[i+6].Y) / 6
	}
	d = math.Hypot(r[0]-l[0], r[1]-l[1])
	ex = [2]float64{(r[0] - l[0]) / d, (r[1] - l[1]) / d}
	ey = [2]float64{-ex[1], ex[0]}
	return
}

// drawGlasses paints a frame (and with dark lenses, sunglasses) onto a
// copy of img.
func drawGlasses(src *imageio.Image, lm []image.Point, st frameStyle, dark bool) *imageio.Image {
	img := clone(src)
	l, r, d, ex, ey := eyeGeometry(lm)
	a, b := 0.44*d, 0.31*d
	half := st.thickness * d / 2
	centres := [2][2]float64{
		{l[0] + 0.06*d*ey[0], l[1] + 0.06*d*ey[1]},
		{r[0] + 0.06*d*ey[0], r[1] + 0.06*d*ey[1]},
	}
	// Bridge from the inner lens edges, a little above the eye line; temples
	// from the outer edges outwards.
	segs := [][4]float64{}
	bl := [2]float64{centres[0][0] + a*ex[0] - 0.12*d*ey[0], centres[0][1] + a*ex[1] - 0.12*d*ey[1]}
	br := [2]float64{centres[1][0] - a*ex[0] - 0.12*d*ey[0], centres[1][1] - a*ex[1] - 0.12*d*ey[1]}
	segs = append(segs, [4]float64{bl[0], bl[1], br[0], br[1]})
	for k, sgn := range []float64{-1, 1} {
		o := [2]float64{centres[k][0] + sgn*a*ex[0] - 0.1*d*ey[0], centres[k][1] + sgn*a*ex[1] - 0.1*d*ey[1]}
		segs = append(segs, [4]float64{o[0], o[1], o[0] + sgn*0.35*d*ex[0], o[1] + sgn*0.35*d*ex[1]})
	}
	x0 := int(math.Max(0, math.Min(l[0], r[0])-1.2*d))
	x1 := int(math.Min(float64(img.Width), math.Max(l[0], r[0])+1.2*d))
	y0 := int(math.Max(0, math.Min(l[1], r[1])-0.8*d))
	y1 := int(math.Min(float64(img.Height), math.Max(l[1], r[1])+0.8*d))
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			px, py := float64(x), float64(y)
			paint, fill := false, false
			for _, c := range centres {
				u := (px-c[0])*ex[0] + (py-c[1])*ex[1]
				v := (px-c[0])*ey[0] + (py-c[1])*ey[1]
				rr := math.Hypot(u/a, v/b)
				if math.Abs(rr-1)*b < half {
					paint = true
				} else if rr < 1 && dark {
					fill = true
				}
			}
			for _, s := range segs {
				if segDist(px, py, s) < half {
					paint = true
				}
			}
			switch {
			case paint:
				img.SetRGB(x, y, st.r, st.g, st.b)
			case fill:
				// Tinted lens: 90% dark glass over the eye, so a trace of the
				// face shows through as it does with real lenses.
				cr, cg, cb := img.RGBAt(x, y)
				mix := func(v uint8, tint float64) uint8 { return uint8(0.1*float64(v) + 0.9*tint) }
				img.SetRGB(x, y, mix(cr, 28), mix(cg, 26), mix(cb, 30))
			}
		}
	}
	return img
}

func segDist(px, py float64, s [4]float64) float64 {
	dx, dy := s[2]-s[0], s[3]-s[1]
	t := ((px-s[0])*dx + (py-s[1])*dy) / (dx*dx + dy*dy + 1e-12)
	t = math.Max(0, math.Min(1, t))
	return math.Hypot(px-s[0]-t*dx, py-s[1]-t*dy)
}

// ridge is the L2 penalty of fit2. The doctored classes separate almost
// perfectly, where an unpenalised logistic fit has no unique answer and
// puts the boundary wherever the nearest samples happen to be; the penalty
// keeps the weights moderate and the boundary near the middle of the gap.
const ridge = 0.02

// fit2 fits a two-feature logistic regression (with intercept) by Newton's
// method with a small ridge on the weights; y is 1 for positives. The
// classes are weighted to equal total mass, so that the several doctored
// copies per photo do not make the model expect glasses on most faces:
// the fitted probability assumes even prior odds.
func fit2(x [][2]float64, y []float64) [3]float64 {
	var w [3]float64
	var npos float64
	for _, v := range y {
		npos += v
	}
	wPos, wNeg := float64(len(y))/(2*npos), float64(len(y))/(2*(float64(len(y))-npos))
	for iter := 0; iter < 100; iter++ {
		var g [3]float64
		var h [3][3]float64
		for i := range x {
			z := [3]float64{1, x[i][0], x[i][1]}
			p := sigmoid(w[0] + w[1]*z[1] + w[2]*z[2])
			cw := wNeg
			if y[i] == 1 {
				cw = wPos
			}
			for a := 0; a < 3; a++ {
				g[a] += cw * (y[i] - p) * z[a]
				for b := 0; b < 3; b++ {
					h[a][b] += cw * p * (1 - p) * z[a] * z[b]
				}
			}
		}
		for a := 1; a < 3; a++ {
			g[a] -= ridge * w[a]
			h[a][a] += ridge
		}
		// Solve the 3×3 system by Cramer's rule.
		det := func(m [3][3]float64) float64 {
			return m[0][0]*(m[1][1]*m[2][2]-m[1][2]*m[2][1]) - m[0][1]*(m[1][0]*m[2][2]-m[1][2]*m[2][0]) + m[0][2]*(m[1][0]*m[2][1]-m[1][1]*m[2][0])
		}
		dh := det(h)
		if dh == 0 {
			break
		}
		var step [3]float64
		for c := 0; c < 3; c++ {
			m := h
			for r := 0; r < 3; r++ {
				m[r][c] = g[r]
			}
			step[c] = det(m) / dh
		}
		n := 0.0
		for a := range w {
			w[a] += step[a]
			n += step[a] * step[a]
		}
		if n < 1e-14 {
			break
		}
	}
	return w
}
