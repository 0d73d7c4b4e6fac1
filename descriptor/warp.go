package descriptor

import (
	"math"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
)

// Similarity is a rotation, uniform scale and translation of the plane:
//
//	x' = A·x − B·y + Tx
//	y' = B·x + A·y + Ty
//
// (scale √(A²+B²), angle atan2(B, A)).
type Similarity struct {
	A, B, Tx, Ty float64
}

// Apply maps p.
func (s Similarity) Apply(p engine.PointF) engine.PointF {
	return engine.PointF{X: s.A*p.X - s.B*p.Y + s.Tx, Y: s.B*p.X + s.A*p.Y + s.Ty}
}

// Inverse returns the transform undoing s. A degenerate s (zero scale)
// inverts to the zero transform, which maps everything to the origin.
func (s Similarity) Inverse() Similarity {
	d := s.A*s.A + s.B*s.B
	if d == 0 {
		return Similarity{}
	}
	a, b := s.A/d, -s.B/d
	return Similarity{A: a, B: b, Tx: -(a*s.Tx - b*s.Ty), Ty: -(b*s.Tx + a*s.Ty)}
}

// EstimateSimilarity returns the least-squares similarity taking src onto
// dst (Umeyama's method restricted to the plane, so never a reflection). The
// slices must have the same length; fewer than two distinct points give the
// pure translation between their centroids.
func EstimateSimilarity(src, dst []engine.PointF) Similarity {
	n := min(len(src), len(dst))
	if n == 0 {
		return Similarity{A: 1}
	}
	var sx, sy, dx, dy float64
	for i := 0; i < n; i++ {
		sx += src[i].X
		sy += src[i].Y
		dx += dst[i].X
		dy += dst[i].Y
	}
	fn := float64(n)
	sx, sy, dx, dy = sx/fn, sy/fn, dx/fn, dy/fn
	// With centred points the optimum is a = Σ(s·d)/Σ|s|², b = Σ(s×d)/Σ|s|².
	var dot, cross, norm float64
	for i := 0; i < n; i++ {
		px, py := src[i].X-sx, src[i].Y-sy
		qx, qy := dst[i].X-dx, dst[i].Y-dy
		dot += px*qx + py*qy
		cross += px*qy - py*qx
		norm += px*px + py*py
	}
	a, b := 1.0, 0.0
	if norm > 0 {
		a, b = dot/norm, cross/norm
	}
	return Similarity{A: a, B: b, Tx: dx - (a*sx - b*sy), Ty: dy - (b*sx + a*sy)}
}

// WarpSimilarity returns the size×size image whose pixel (u, v) is img
// sampled bilinearly at toChip⁻¹(u, v); toChip maps image coordinates to chip
// coordinates. Samples outside img are black, as in the reference crops.
func WarpSimilarity(img *imageio.Image, toChip Similarity, size int) *imageio.Image {
	return warp(img, toChip, size, 1)
}

// WarpSimilarityArea is WarpSimilarity with a box prefilter when the chip
// shrinks the face: each chip pixel is the mean of n×n bilinear samples
// spread over its footprint in img, n the source pixels per chip pixel
// (rounded up). Bilinear sampling alone reads 4 source pixels per chip
// pixel and aliases when a large face (a 640×480 portrait, eyes 150 px
// apart against the chip's 35) is shrunk several times; at scales up to 1
// the two warps are the same.
func WarpSimilarityArea(img *imageio.Image, toChip Similarity, size int) *imageio.Image {
	n := 1
	if sc := math.Hypot(toChip.A, toChip.B); sc > 0 && sc < 1 {
		n = int(math.Ceil(1/sc - 1e-9))
	}
	return warp(img, toChip, size, min(n, 16))
}

// warp samples each chip pixel n×n times over its footprint (n = 1: at its
// centre only).
func warp(img *imageio.Image, toChip Similarity, size, n int) *imageio.Image {
	out := imageio.NewImage(size, size)
	inv := toChip.Inverse()
	w, h := img.Width, img.Height
	var offs []float64
	for i := 0; i < n; i++ {
		offs = append(offs, (float64(i)+0.5)/float64(n)-0.5)
	}
	wn := 1 / float64(n*n)
	for v := 0; v < size; v++ {
		for u := 0; u < size; u++ {
			var acc [3]float64
			for _, dv := range offs {
				for _, du := range offs {
					// Pixel centres sit at integer coordinates in both
					// images, as the reference points are given.
					p := inv.Apply(engine.PointF{X: float64(u) + du, Y: float64(v) + dv})
					sampleBilinear(img, p, w, h, wn, &acc)
				}
			}
			o := v*out.Stride + 3*u
			for k := 0; k < 3; k++ {
				out.Pix[o+k] = uint8(math.Min(255, math.Max(0, math.Round(acc[k]))))
			}
		}
	}
	return out
}

// sampleBilinear adds weight times img's bilinear sample at p to acc;
// samples outside img are black.
func sampleBilinear(img *imageio.Image, p engine.PointF, w, h int, weight float64, acc *[3]float64) {
	x0f, y0f := math.Floor(p.X), math.Floor(p.Y)
	fx, fy := p.X-x0f, p.Y-y0f
	x0, y0 := int(x0f), int(y0f)
	for _, c := range [4]struct {
		x, y int
		wt   float64
	}{
		{x0, y0, (1 - fx) * (1 - fy)}, {x0 + 1, y0, fx * (1 - fy)},
		{x0, y0 + 1, (1 - fx) * fy}, {x0 + 1, y0 + 1, fx * fy},
	} {
		if c.wt == 0 || c.x < 0 || c.y < 0 || c.x >= w || c.y >= h {
			continue
		}
		o := c.y*img.Stride + 3*c.x
		wt := weight * c.wt
		acc[0] += wt * float64(img.Pix[o])
		acc[1] += wt * float64(img.Pix[o+1])
		acc[2] += wt * float64(img.Pix[o+2])
	}
}
