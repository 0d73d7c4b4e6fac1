package quality

import (
	"image"
	"math"

	"github.com/facekit/facekit/engine/imageio"
)

// The canonical frame every occlusion and illumination measurement is made
// in: a crop chipSize wide and chipRows tall, turned upright and scaled so
// that the eye centres and the mouth centre land on fixed points. Fixing
// the face's scale makes texture statistics comparable between a 60 px and
// a 600 px face.
const (
	chipSize = 160
	// chipRows is the chip's height: it runs on below the chin, so that
	// what lies below it is in it too (see chinBelowContrast); rows
	// 0..chipSize-1 are the square frame.
	chipRows = 208
	// canonical positions (x, y) of the image-left eye centre, the
	// image-right eye centre and the mouth centre; inter-ocular distance 50.
	chipEyeLX, chipEyeRX, chipEyeY = 55.0, 105.0, 62.0
	chipMouthX, chipMouthY         = 80.0, 112.0
)

// chip is a face resampled into the canonical frame, stored as planes of
// luma and normalised chroma (see toYUV), with a mask of the pixels that
// fell inside the source image.
type chip struct {
	y, u, v []float32
	valid   []bool
	// lm are the 68 landmarks in chip coordinates.
	lm [68]pt
	// scale is source pixels per chip pixel.
	scale float64
}

// pt is a point in chip coordinates.
type pt struct{ X, Y float64 }

func (p pt) add(q pt) pt         { return pt{p.X + q.X, p.Y + q.Y} }
func (p pt) sub(q pt) pt         { return pt{p.X - q.X, p.Y - q.Y} }
func (p pt) mul(k float64) pt    { return pt{p.X * k, p.Y * k} }
func (p pt) dist(q pt) float64   { return math.Hypot(p.X-q.X, p.Y-q.Y) }
func lerp(p, q pt, t float64) pt { return p.add(q.sub(p).mul(t)) }
func mean(ps ...pt) (m pt) {
	for _, p := range ps {
		m = m.add(p)
	}
	return m.mul(1 / float64(len(ps)))
}

// similarity is x' = a·x − b·y + tx, y' = b·x + a·y + ty.
type similarity struct{ a, b, tx, ty float64 }

func (s similarity) apply(p pt) pt {
	return pt{s.a*p.X - s.b*p.Y + s.tx, s.b*p.X + s.a*p.Y + s.ty}
}

func (s similarity) inverse() similarity {
	d := s.a*s.a + s.b*s.b
	a, b := s.a/d, -s.b/d
	return similarity{a, b, -(a*s.tx - b*s.ty), -(b*s.tx + a*s.ty)}
}

// fitSimilarity is the least-squares similarity taking src onto dst.
func fitSimilarity(src, dst []pt) similarity {
	ms, md := mean(src...), mean(dst...)
	var sxx, sab, sba float64
	for i := range src {
		p, q := src[i].sub(ms), dst[i].sub(md)
		sxx += p.X*p.X + p.Y*p.Y
		sab += p.X*q.X + p.Y*q.Y
		sba += p.X*q.Y - p.Y*q.X
	}
	a, b := sab/sxx, sba/sxx
	return similarity{a, b, md.X - (a*ms.X - b*ms.Y), md.Y - (b*ms.X + a*ms.Y)}
}

func toPt(p image.Point) pt { return pt{float64(p.X), float64(p.Y)} }

// anchorPoints returns the centres of the image-left (36–41) and image-right
// (42–47) eyes and of the mouth (48–59) from 68 landmarks.
func anchorPoints(lm []pt) (eyeL, eyeR, mouth pt) {
	return mean(lm[36:42]...), mean(lm[42:48]...), mean(lm[48:60]...)
}

// makeChip resamples the face into the canonical frame. Each chip pixel
// averages k×k bilinear samples (k = ceil(source pixels per chip pixel)) so
// that shrinking a large face does not alias fine texture into it.
func makeChip(img *imageio.Image, landmarks []image.Point) *chip {
	lm := make([]pt, 68)
	for i := range lm {
		lm[i] = toPt(landmarks[i])
	}
	eL, eR, m := anchorPoints(lm)
	toChip := fitSimilarity([]pt{eL, eR, m},
		[]pt{{chipEyeLX, chipEyeY}, {chipEyeRX, chipEyeY}, {chipMouthX, chipMouthY}})
	toImg := toChip.inverse()
	c := &chip{
		y: make([]float32, chipSize*chipRows), u: make([]float32, chipSize*chipRows),
		v: make([]float32, chipSize*chipRows), valid: make([]bool, chipSize*chipRows),
		scale: math.Hypot(toImg.a, toImg.b),
	}
	for i := range lm {
		c.lm[i] = toChip.apply(lm[i])
	}
	k := int(math.Ceil(c.scale - 1e-6))
	k = min(max(k, 1), 6)
	w, h := float64(img.Width), float64(img.Height)
	for cy := 0; cy < chipRows; cy++ {
		for cx := 0; cx < chipSize; cx++ {
			var r, g, b float64
			n, in := 0, 0
			for sy := 0; sy < k; sy++ {
				for sx := 0; sx < k; sx++ {
					p := toImg.apply(pt{float64(cx) + (float64(sx)+0.5)/float64(k) - 0.5, float64(cy) + (float64(sy)+0.5)/float64(k) - 0.5})
					n++
					if p.X < 0 || p.Y < 0 || p.X > w-1 || p.Y > h-1 {
						continue
					}
					pr, pg, pb := bilinear(img, p.X, p.Y)
					r, g, b = r+pr, g+pg, b+pb
					in++
				}
			}
			i := cy*chipSize + cx
			// A chip pixel counts as inside the image when most of its
			// footprint is.
			if 2*in < n {
				continue
			}
			r, g, b = r/float64(in), g/float64(in), b/float64(in)
			c.y[i], c.u[i], c.v[i] = toYUV(r, g, b)
			c.valid[i] = true
		}
	}
	return c
}

// bilinear samples img at a sub-pixel position inside its bounds.
func bilinear(img *imageio.Image, x, y float64) (r, g, b float64) {
	x0, y0 := int(x), int(y)
	x1, y1 := min(x0+1, img.Width-1), min(y0+1, img.Height-1)
	fx, fy := x-float64(x0), y-float64(y0)
	p00 := img.Pix[y0*img.Stride+3*x0:]
	p01 := img.Pix[y0*img.Stride+3*x1:]
	p10 := img.Pix[y1*img.Stride+3*x0:]
	p11 := img.Pix[y1*img.Stride+3*x1:]
	mix := func(c int) float64 {
		top := float64(p00[c])*(1-fx) + float64(p01[c])*fx
		bot := float64(p10[c])*(1-fx) + float64(p11[c])*fx
		return top*(1-fy) + bot*fy
	}
	return mix(0), mix(1), mix(2)
}

// toYUV returns BT.601 luma (0–255) and chroma normalised by brightness:
// u = (Cb−128)/(Y+10), v = (Cr−128)/(Y+10). Dividing by luma makes the
// chroma of one surface roughly constant under shading, so a shadowed cheek
// still matches the lit forehead; the +10 keeps near-black pixels (whose
// chroma is noise) close to neutral, i.e. away from skin.
func toYUV(r, g, b float64) (y, u, v float32) {
	yy := 0.299*r + 0.587*g + 0.114*b
	cb := -0.168736*r - 0.331264*g + 0.5*b
	cr := 0.5*r - 0.418688*g - 0.081312*b
	return float32(yy), float32(cb / (yy + 10)), float32(cr / (yy + 10))
}

// polygonPixels returns the indices of the valid and invalid chip pixels
// whose centres lie inside the polygon (even–odd rule).
func (c *chip) polygonPixels(poly []pt) []int {
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range poly {
		minX, maxX = math.Min(minX, p.X), math.Max(maxX, p.X)
		minY, maxY = math.Min(minY, p.Y), math.Max(maxY, p.Y)
	}
	x0, x1 := max(int(math.Floor(minX)), 0), min(int(math.Ceil(maxX)), chipSize-1)
	y0, y1 := max(int(math.Floor(minY)), 0), min(int(math.Ceil(maxY)), chipRows-1)
	var out []int
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			if inPolygon(poly, float64(x), float64(y)) {
				out = append(out, y*chipSize+x)
			}
		}
	}
	return out
}

func inPolygon(poly []pt, x, y float64) bool {
	in := false
	for i, j := 0, len(poly)-1; i < len(poly); j, i = i, i+1 {
		a, b := poly[i], poly[j]
		if (a.Y > y) != (b.Y > y) && x < (b.X-a.X)*(y-a.Y)/(b.Y-a.Y)+a.X {
			in = !in
		}
	}
	return in
}

// shrink moves every vertex towards the polygon's centroid by the fraction
// t, keeping a region off its own boundary, where landmark error puts
// neighbouring parts (hair, background, lips) into it.
func shrink(poly []pt, t float64) []pt {
	m := mean(poly...)
	out := make([]pt, len(poly))
	for i, p := range poly {
		out[i] = lerp(p, m, t)
	}
	return out
}

// box returns the axis-aligned rectangle polygon centred at c.
func box(c pt, w, h float64) []pt {
	return []pt{{c.X - w/2, c.Y - h/2}, {c.X + w/2, c.Y - h/2}, {c.X + w/2, c.Y + h/2}, {c.X - w/2, c.Y + h/2}}
}

// minus returns the indices of a that are not in b.
func minus(a, b []int) []int {
	drop := make(map[int]bool, len(b))
	for _, i := range b {
		drop[i] = true
	}
	out := a[:0:0]
	for _, i := range a {
		if !drop[i] {
			out = append(out, i)
		}
	}
	return out
}
