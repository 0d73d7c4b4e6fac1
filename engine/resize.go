package engine

import "github.com/facekit/facekit/engine/dlib"

// downscale returns src shrunk by an area-average filter so that its longer
// side is at most maxSide, and the factor that maps its coordinates back to
// src (>= 1). Detection on the smaller copy is several times cheaper and
// loses only faces smaller than the detector's window at that scale.
func downscale(src *dlib.RGB, maxSide int) (*dlib.RGB, float64) {
	long := max(src.Width, src.Height)
	if maxSide <= 0 || long <= maxSide {
		return src, 1
	}
	scale := float64(long) / float64(maxSide)
	w := max(1, int(float64(src.Width)/scale+0.5))
	h := max(1, int(float64(src.Height)/scale+0.5))
	dst := &dlib.RGB{Pix: make([]byte, w*h*3), Width: w, Height: h, Stride: w * 3}
	sx := float64(src.Width) / float64(w)
	sy := float64(src.Height) / float64(h)
	for y := 0; y < h; y++ {
		y0, y1 := int(float64(y)*sy), min(src.Height, int(float64(y+1)*sy+0.999))
		for x := 0; x < w; x++ {
			x0, x1 := int(float64(x)*sx), min(src.Width, int(float64(x+1)*sx+0.999))
			var r, g, b, n int
			for yy := y0; yy < y1; yy++ {
				row := src.Pix[yy*src.Stride:]
				for xx := x0; xx < x1; xx++ {
					r += int(row[3*xx])
					g += int(row[3*xx+1])
					b += int(row[3*xx+2])
					n++
				}
			}
			o := y*dst.Stride + 3*x
			dst.Pix[o], dst.Pix[o+1], dst.Pix[o+2] = byte(r/n), byte(g/n), byte(b/n)
		}
	}
	return dst, float64(src.Width) / float64(w)
}
