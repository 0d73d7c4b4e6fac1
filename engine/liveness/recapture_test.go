package liveness

import (
	"math"

	"github.com/facekit/facekit/engine/imageio"
)

// Recaptures made from real photos: each imitates one way a photo of a
// photo differs from a live capture. The geometry is unchanged, so the
// original's landmarks still fit.
var recaptures = []struct {
	name string
	make func(*imageio.Image) *imageio.Image
}{
	{"print", printed},
	{"screen", screen},
	{"resampled", resampled},
}

// printed imitates a photo of an inkjet print: colours desaturated by 40%,
// the tonal range squeezed into 25..215 with a warm paper tint, the fine
// detail softened by a 3×3 box blur, and a faint paper grain.
func printed(src *imageio.Image) *imageio.Image {
	img := boxBlur(src)
	for y := 0; y < img.Height; y++ {
		for x := 0; x < img.Width; x++ {
			r, g, b := img.RGBAt(x, y)
			fr, fg, fb := float64(r), float64(g), float64(b)
			l := 0.299*fr + 0.587*fg + 0.114*fb
			grain := 6 * math.Sin(float64(x)*1.7+float64(y)*0.9) * math.Sin(float64(y)*2.3-float64(x)*0.4)
			conv := func(v, tint float64) uint8 {
				v = l + 0.6*(v-l)
				return clampByte(25 + v*190/255 + tint + grain)
			}
			img.SetRGB(x, y, conv(fr, 8), conv(fg, 3), conv(fb, -6))
		}
	}
	return img
}

// screen imitates a phone photo of an LCD: a moiré beat between the pixel
// grid and the camera (a ~3.3 px diagonal brightness ripple of ±12%) over
// the subpixel stripes (each column a little stronger in one channel).
func screen(src *imageio.Image) *imageio.Image {
	img := clone(src)
	for y := 0; y < img.Height; y++ {
		for x := 0; x < img.Width; x++ {
			r, g, b := img.RGBAt(x, y)
			m := 1 + 0.12*math.Sin(2*math.Pi*(0.23*float64(x)+0.19*float64(y)))
			c := [3]float64{0.94, 0.94, 0.94}
			c[x%3] = 1.06
			img.SetRGB(x, y, clampByte(float64(r)*m*c[0]), clampByte(float64(g)*m*c[1]), clampByte(float64(b)*m*c[2]))
		}
	}
	return img
}

// resampled imitates a low-resolution recapture: down to a third with a
// box filter, then back up bilinearly.
func resampled(src *imageio.Image) *imageio.Image {
	const k = 3
	w, h := src.Width/k, src.Height/k
	small := imageio.NewImage(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var s [3]int
			for dy := 0; dy < k; dy++ {
				for dx := 0; dx < k; dx++ {
					r, g, b := src.RGBAt(x*k+dx, y*k+dy)
					s[0], s[1], s[2] = s[0]+int(r), s[1]+int(g), s[2]+int(b)
				}
			}
			small.SetRGB(x, y, uint8(s[0]/(k*k)), uint8(s[1]/(k*k)), uint8(s[2]/(k*k)))
		}
	}
	out := imageio.NewImage(src.Width, src.Height)
	for y := 0; y < out.Height; y++ {
		fy := math.Max(0, math.Min((float64(y)+0.5)/k-0.5, float64(h-1)))
		y0 := int(fy)
		y1 := min(y0+1, h-1)
		ty := fy - float64(y0)
		for x := 0; x < out.Width; x++ {
			fx := math.Max(0, math.Min((float64(x)+0.5)/k-0.5, float64(w-1)))
			x0 := int(fx)
			x1 := min(x0+1, w-1)
			tx := fx - float64(x0)
			var c [3]uint8
			for ch := 0; ch < 3; ch++ {
				p := func(xx, yy int) float64 { return float64(small.Pix[yy*small.Stride+3*xx+ch]) }
				v := (1-ty)*((1-tx)*p(x0, y0)+tx*p(x1, y0)) + ty*((1-tx)*p(x0, y1)+tx*p(x1, y1))
				c[ch] = clampByte(v)
			}
			out.SetRGB(x, y, c[0], c[1], c[2])
		}
	}
	return out
}

func boxBlur(src *imageio.Image) *imageio.Image {
	out := clone(src)
	for y := 1; y < src.Height-1; y++ {
		for x := 1; x < src.Width-1; x++ {
			for ch := 0; ch < 3; ch++ {
				var s int
				for dy := -1; dy <= 1; dy++ {
					for dx := -1; dx <= 1; dx++ {
						s += int(src.Pix[(y+dy)*src.Stride+3*(x+dx)+ch])
					}
				}
				out.Pix[y*out.Stride+3*x+ch] = uint8(s / 9)
			}
		}
	}
	return out
}

func clone(img *imageio.Image) *imageio.Image {
	out := *img
	out.Pix = append([]byte(nil), img.Pix...)
	return &out
}

func clampByte(v float64) uint8 { return uint8(math.Max(0, math.Min(255, math.Round(v)))) }
