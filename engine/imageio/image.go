package imageio

import (
	"fmt"
	"image"
	"image/color"
)

// Image is a decoded, upright image stored as packed 8-bit RGB, three bytes
// per pixel with no padding between pixels. The layout matches what dlib's
// and OpenCV's RGB loaders expect, so the buffer can be handed to C without
// conversion. Image implements image.Image, so the standard draw functions
// accept it.
type Image struct {
	// Pix holds the pixels row by row: pixel (x, y) starts at
	// Pix[y*Stride+3*x] as R, G, B.
	Pix []byte
	// Stride is the distance in bytes between two rows (3*Width for images
	// made by this package).
	Stride int
	// Width and Height are the upright dimensions in pixels.
	Width, Height int
	// Format is the source format (FormatJPEG, ...), empty for images made
	// by NewImage.
	Format string
	// Orientation is the EXIF orientation (1..8) found in the source and
	// already applied to Pix; 1 when there was none.
	Orientation int
}

// NewImage returns a black w×h image. It panics if w or h is negative, like
// image.NewRGBA.
func NewImage(w, h int) *Image {
	if w < 0 || h < 0 {
		panic(fmt.Sprintf("imageio: negative image size %dx%d", w, h))
	}
	return &Image{Pix: make([]byte, 3*w*h), Stride: 3 * w, Width: w, Height: h, Orientation: 1}
}

// Bounds returns the image rectangle, always anchored at (0, 0).
func (m *Image) Bounds() image.Rectangle { return image.Rect(0, 0, m.Width, m.Height) }

// ColorModel returns color.RGBAModel: pixels are opaque RGB.
func (m *Image) ColorModel() color.Model { return color.RGBAModel }

// At returns the pixel at (x, y) as an opaque color.RGBA, or transparent
// black outside the bounds (as the standard image types do).
func (m *Image) At(x, y int) color.Color {
	if !(image.Point{x, y}.In(m.Bounds())) {
		return color.RGBA{}
	}
	r, g, b := m.RGBAt(x, y)
	return color.RGBA{r, g, b, 0xFF}
}

// RGBAt returns the components of pixel (x, y), which must be inside the
// bounds.
func (m *Image) RGBAt(x, y int) (r, g, b uint8) {
	i := y*m.Stride + 3*x
	p := m.Pix[i : i+3 : i+3]
	return p[0], p[1], p[2]
}

// SetRGB sets pixel (x, y), which must be inside the bounds.
func (m *Image) SetRGB(x, y int, r, g, b uint8) {
	i := y*m.Stride + 3*x
	p := m.Pix[i : i+3 : i+3]
	p[0], p[1], p[2] = r, g, b
}

// ToGray returns the luma of the image (ITU-R BT.601 weights, the same as
// color.GrayModel), the input of blur and illumination metrics.
func (m *Image) ToGray() *image.Gray {
	g := image.NewGray(m.Bounds())
	for y := 0; y < m.Height; y++ {
		row := m.Pix[y*m.Stride : y*m.Stride+3*m.Width]
		out := g.Pix[y*g.Stride : y*g.Stride+m.Width]
		for x := range out {
			r, gg, b := uint32(row[3*x]), uint32(row[3*x+1]), uint32(row[3*x+2])
			out[x] = uint8((19595*r + 38470*gg + 7471*b + 1<<15) >> 16)
		}
	}
	return g
}

// Rotate returns a new image turned clockwise by degrees, which must be a
// multiple of 90 (negative values turn counter-clockwise). Other angles are a
// programming error and panic. The Orientation and Format fields are copied.
func Rotate(img *Image, degrees int) *Image {
	if degrees%90 != 0 {
		panic(fmt.Sprintf("imageio: Rotate by %d degrees; want a multiple of 90", degrees))
	}
	switch ((degrees % 360) + 360) % 360 {
	case 90:
		return orient(img, 6)
	case 180:
		return orient(img, 3)
	case 270:
		return orient(img, 8)
	}
	out := *img
	out.Pix = append([]byte(nil), img.Pix...)
	return &out
}

// orient returns img transformed by EXIF orientation o (2..8) so that it is
// displayed upright; for o outside 2..8 it returns img itself. For each
// output pixel (x, y) it reads the stored pixel that the EXIF definition of o
// puts there.
func orient(img *Image, o int) *Image {
	w, h := img.Width, img.Height
	ow, oh := w, h
	if o >= 5 && o <= 8 {
		ow, oh = h, w
	}
	var src func(x, y int) (int, int)
	switch o {
	case 2: // mirrored left-right
		src = func(x, y int) (int, int) { return w - 1 - x, y }
	case 3: // upside down
		src = func(x, y int) (int, int) { return w - 1 - x, h - 1 - y }
	case 4: // mirrored top-bottom
		src = func(x, y int) (int, int) { return x, h - 1 - y }
	case 5: // transposed
		src = func(x, y int) (int, int) { return y, x }
	case 6: // stored turned 90° counter-clockwise: turn it clockwise
		src = func(x, y int) (int, int) { return y, h - 1 - x }
	case 7: // transversed
		src = func(x, y int) (int, int) { return w - 1 - y, h - 1 - x }
	case 8: // stored turned 90° clockwise: turn it counter-clockwise
		src = func(x, y int) (int, int) { return w - 1 - y, x }
	default:
		return img
	}
	out := NewImage(ow, oh)
	out.Format, out.Orientation = img.Format, img.Orientation
	for y := 0; y < oh; y++ {
		d := out.Pix[y*out.Stride:]
		for x := 0; x < ow; x++ {
			sx, sy := src(x, y)
			s := img.Pix[sy*img.Stride+3*sx:]
			d[3*x], d[3*x+1], d[3*x+2] = s[0], s[1], s[2]
		}
	}
	return out
}

// toRGB copies src into a new packed RGB image of the header's size w×h.
// Pixels the decoded image does not cover (a GIF's first frame may be smaller
// than its logical screen) stay white, and translucent pixels are composed
// over white, which is how a viewer would show them.
func toRGB(src image.Image, w, h int) *Image {
	out := NewImage(w, h)
	r := src.Bounds().Intersect(out.Bounds())
	if r != out.Bounds() {
		for i := range out.Pix {
			out.Pix[i] = 0xFF
		}
	}
	switch s := src.(type) {
	case *image.YCbCr: // JPEG, the common case: a row walk (ycbcr.go)
		if !ycbcrToRGB(out, s, r) {
			ycbcrToRGBGeneric(out, s, r)
		}
	case *image.Gray:
		for y := r.Min.Y; y < r.Max.Y; y++ {
			d := out.Pix[y*out.Stride:]
			for x := r.Min.X; x < r.Max.X; x++ {
				v := s.Pix[s.PixOffset(x, y)]
				d[3*x], d[3*x+1], d[3*x+2] = v, v, v
			}
		}
	case *image.NRGBA: // PNG with alpha
		for y := r.Min.Y; y < r.Max.Y; y++ {
			d := out.Pix[y*out.Stride:]
			for x := r.Min.X; x < r.Max.X; x++ {
				p := s.Pix[s.PixOffset(x, y):]
				a := uint32(p[3])
				if a == 0xFF {
					d[3*x], d[3*x+1], d[3*x+2] = p[0], p[1], p[2]
					continue
				}
				// c·a + white·(1−a), rounded
				k := 255 * (255 - a)
				d[3*x] = uint8((uint32(p[0])*a + k + 127) / 255)
				d[3*x+1] = uint8((uint32(p[1])*a + k + 127) / 255)
				d[3*x+2] = uint8((uint32(p[2])*a + k + 127) / 255)
			}
		}
	case *image.RGBA: // already premultiplied: add the white that shows through
		for y := r.Min.Y; y < r.Max.Y; y++ {
			d := out.Pix[y*out.Stride:]
			for x := r.Min.X; x < r.Max.X; x++ {
				p := s.Pix[s.PixOffset(x, y):]
				k := 255 - p[3]
				d[3*x], d[3*x+1], d[3*x+2] = sat(p[0], k), sat(p[1], k), sat(p[2], k)
			}
		}
	case *image.Paletted:
		// Resolve the palette once; indices past its end are black, as in
		// the standard library.
		var pal [256][3]uint8
		for i, c := range s.Palette {
			if i >= len(pal) {
				break
			}
			pal[i] = over16(c.RGBA())
		}
		for y := r.Min.Y; y < r.Max.Y; y++ {
			d := out.Pix[y*out.Stride:]
			for x := r.Min.X; x < r.Max.X; x++ {
				p := pal[s.Pix[s.PixOffset(x, y)]]
				d[3*x], d[3*x+1], d[3*x+2] = p[0], p[1], p[2]
			}
		}
	default:
		for y := r.Min.Y; y < r.Max.Y; y++ {
			d := out.Pix[y*out.Stride:]
			for x := r.Min.X; x < r.Max.X; x++ {
				p := over16(src.At(x, y).RGBA())
				d[3*x], d[3*x+1], d[3*x+2] = p[0], p[1], p[2]
			}
		}
	}
	return out
}

// sat adds two bytes, saturating at 255 (a malformed premultiplied pixel
// can have a colour above its alpha).
func sat(a, b uint8) uint8 {
	if c := uint16(a) + uint16(b); c < 0xFF {
		return uint8(c)
	}
	return 0xFF
}

// over16 composes a premultiplied 16-bit colour over white and returns 8-bit
// RGB, saturating like sat.
func over16(r, g, b, a uint32) [3]uint8 {
	k := 0xFFFF - a
	c := func(v uint32) uint8 { return uint8(min(v+k, 0xFFFF) >> 8) }
	return [3]uint8{c(r), c(g), c(b)}
}
