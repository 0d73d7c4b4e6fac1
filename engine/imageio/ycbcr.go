package imageio

import (
	"image"
	"image/color"
)

// The YCbCr → RGB conversion of every decoded JPEG. Go's per-pixel
// YOffset/COffset/YCbCrToRGB calls cost about as much as the JPEG decoding
// itself; walking each row once with precomputed chroma terms gives the very
// same bytes (the arithmetic below is color.YCbCrToRGB's, term for term) at a
// fraction of the cost.

// Chroma terms of color.YCbCrToRGB in 16.16 fixed point, indexed by the 8-bit
// Cb or Cr value.
var (
	crToR, cbToG, crToG, cbToB [256]int32
)

func init() {
	for i := range 256 {
		c := int32(i) - 128
		crToR[i] = 91881 * c
		cbToG[i] = -22554 * c
		crToG[i] = -46802 * c
		cbToB[i] = 116130 * c
	}
}

// clamp16 turns a 16.16 fixed-point value into a byte, saturating as
// color.YCbCrToRGB does.
func clamp16(v int32) uint8 {
	if uint32(v)&0xff000000 == 0 {
		return uint8(v >> 16)
	}
	return uint8(^(v >> 31))
}

// ycbcrToRGB writes the pixels of s inside r (which lies inside both s and
// dst, at non-negative coordinates) into dst. It reports false, writing
// nothing, for subsampling ratios it has no row walk for.
func ycbcrToRGB(dst *Image, s *image.YCbCr, r image.Rectangle) bool {
	// hshift is log2 of the horizontal chroma subsampling; vertical
	// subsampling is handled by COffset at the start of each row.
	var hshift uint
	switch s.SubsampleRatio {
	case image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio440:
		hshift = 0
	case image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420:
		hshift = 1
	case image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410:
		hshift = 2
	default:
		return false
	}
	w := r.Dx()
	if w <= 0 {
		return true
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		yrow := s.Y[s.YOffset(r.Min.X, y):][:w]
		c0 := s.COffset(r.Min.X, y)
		// Chroma sample of column x: c0 + (x>>hshift − r.Min.X>>hshift).
		nc := (r.Max.X-1)>>hshift - r.Min.X>>hshift + 1
		cbrow := s.Cb[c0:][:nc]
		crrow := s.Cr[c0:][:nc]
		d := dst.Pix[y*dst.Stride+3*r.Min.X:][:3*w]
		if hshift == 1 && r.Min.X%2 == 0 {
			pairsToRGB(d, yrow, cbrow, crrow)
			continue
		}
		base := r.Min.X >> hshift
		for i, yv := range yrow {
			ci := (r.Min.X+i)>>hshift - base
			cb, cr := cbrow[ci], crrow[ci]
			yy := int32(yv) * 0x10101
			p := d[3*i : 3*i+3 : 3*i+3]
			p[0] = clamp16(yy + crToR[cr])
			p[1] = clamp16(yy + cbToG[cb] + crToG[cr])
			p[2] = clamp16(yy + cbToB[cb])
		}
	}
	return true
}

// ycbcrToRGBGeneric is the per-pixel path for subsampling ratios without a
// row walk.
func ycbcrToRGBGeneric(dst *Image, s *image.YCbCr, r image.Rectangle) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		d := dst.Pix[y*dst.Stride:]
		for x := r.Min.X; x < r.Max.X; x++ {
			yi, ci := s.YOffset(x, y), s.COffset(x, y)
			d[3*x], d[3*x+1], d[3*x+2] = color.YCbCrToRGB(s.Y[yi], s.Cb[ci], s.Cr[ci])
		}
	}
}

// pairsToRGB converts one row of 4:2:2 or 4:2:0 samples starting at an even
// column: each chroma pair serves two luma samples, so its terms are looked
// up once.
func pairsToRGB(d, yrow, cbrow, crrow []byte) {
	for i := 0; i+1 < len(yrow); i += 2 {
		cb, cr := cbrow[i/2], crrow[i/2]
		rc, gc, bc := crToR[cr], cbToG[cb]+crToG[cr], cbToB[cb]
		p := d[3*i : 3*i+6 : 3*i+6]
		y0, y1 := int32(yrow[i])*0x10101, int32(yrow[i+1])*0x10101
		p[0], p[1], p[2] = clamp16(y0+rc), clamp16(y0+gc), clamp16(y0+bc)
		p[3], p[4], p[5] = clamp16(y1+rc), clamp16(y1+gc), clamp16(y1+bc)
	}
	if n := len(yrow); n%2 == 1 {
		cb, cr := cbrow[n/2], crrow[n/2]
		yy := int32(yrow[n-1]) * 0x10101
		p := d[3*(n-1) : 3*n : 3*n]
		p[0], p[1], p[2] = clamp16(yy+crToR[cr]), clamp16(yy+cbToG[cb]+crToG[cr]), clamp16(yy+cbToB[cb])
	}
}
