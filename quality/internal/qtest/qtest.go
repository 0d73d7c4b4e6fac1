// Package qtest is shared test support for quality and its sub-packages:
// one engine per test binary, the single-face test photos with their
// largest face, image doctoring (blur, brightness, shrinking) and the
// hand-made expression labels of the photos. It is only imported by
// tests.
package qtest

import (
	"context"
	"math"
	"os"
	"sync"
	"testing"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/internal/testenv"
)

// Engine returns the test binary's one engine (loading takes ~1 s); it
// skips the test when the models are not provisioned.
func Engine(tb testing.TB) *engine.Engine {
	tb.Helper()
	return testenv.Engine(tb)
}

// Photo decodes one photo of the shared test set.
func Photo(tb testing.TB, name string) *imageio.Image {
	tb.Helper()
	return DecodeFile(tb, testenv.Face(tb, name))
}

// DecodeFile reads and decodes one image file.
func DecodeFile(tb testing.TB, path string) *imageio.Image {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	img, err := imageio.Decode(data, imageio.DefaultLimits())
	if err != nil {
		tb.Fatalf("decode %s: %v", path, err)
	}
	return img
}

// Detect returns the largest face of img with landmarks, or false.
func Detect(tb testing.TB, img *imageio.Image) (engine.Face, bool) {
	tb.Helper()
	faces, err := Engine(tb).Analyze(context.Background(), img, engine.Options{Upsample: -1, Landmarks: true})
	if err != nil {
		tb.Fatalf("analyze: %v", err)
	}
	if len(faces) == 0 {
		return engine.Face{}, false
	}
	return faces[0], true
}

// SingleFacePhotos are the test photos with one face that the HOG
// detector finds (pristin.jpg is a group photo; eunseo.jpg and jimin3.jpg
// are profiles HOG misses).
var SingleFacePhotos = []string{
	"bona.jpg", "bona2.jpg", "bona3.jpg", "bona4.jpg", "chaeyeon.jpg", "chaeyeon2.jpg", "chaeyeon3.jpg",
	"chaeyoung.jpg", "chaeyoung2.jpg", "elkie.jpg", "eunseo2.jpg", "eunseo3.jpg", "eunwoo.jpg",
	"jimin.jpg", "jimin2.jpg", "jimin4.jpg", "jimin5.jpg", "jimin6.jpg", "jimin7.jpg", "joy.jpg",
	"luda.jpg", "luda2.jpg", "meiqi.jpg", "nana.jpg", "nayoung.jpg", "rena.jpg", "sejeong.jpg",
	"seulgi.jpg", "tzuyu.jpg", "tzuyu2.jpg", "yujin.jpg",
}

// Expressions are the expressions of SingleFacePhotos as judged by eye
// from the photos (none: lips relaxed or pouting; smile: corners raised,
// lips closed or barely parted; laugh: a smile with the mouth open).
// Borderline faces are labelled with the reading a careful viewer would
// most likely give; the measured agreement is reported, not assumed.
var Expressions = map[string]string{
	"bona.jpg": "laugh", "bona2.jpg": "none", "bona3.jpg": "smile", "bona4.jpg": "none",
	"chaeyeon.jpg": "smile", "chaeyeon2.jpg": "none", "chaeyeon3.jpg": "none", "chaeyoung.jpg": "none",
	"chaeyoung2.jpg": "smile", "elkie.jpg": "none", "eunseo2.jpg": "none", "eunseo3.jpg": "none",
	"eunwoo.jpg": "none", "jimin.jpg": "laugh", "jimin2.jpg": "smile", "jimin4.jpg": "none",
	"jimin5.jpg": "none", "jimin6.jpg": "none", "jimin7.jpg": "none", "joy.jpg": "none",
	"luda.jpg": "none", "luda2.jpg": "laugh", "meiqi.jpg": "smile", "nana.jpg": "smile",
	"nayoung.jpg": "laugh", "rena.jpg": "smile", "sejeong.jpg": "laugh", "seulgi.jpg": "laugh",
	"tzuyu.jpg": "smile", "tzuyu2.jpg": "laugh", "yujin.jpg": "smile",
}

// PhotoFace is a decoded test photo with its largest face.
type PhotoFace struct {
	Name string
	Img  *imageio.Image
	Face engine.Face
}

var (
	photosOnce sync.Once
	photos     []PhotoFace
)

// MaxSide bounds the test photos' longer side: the originals are up to
// 4000 px, which only slows detection down, while at 1024 px every face is
// still 73 px or larger.
const MaxSide = 1024

// Photos decodes, shrinks to MaxSide and detects every single-face photo
// once per test binary. Photos where HOG finds no face are left out.
func Photos(tb testing.TB) []PhotoFace {
	tb.Helper()
	testenv.TestData(tb)
	Engine(tb)
	photosOnce.Do(func() {
		for _, n := range SingleFacePhotos {
			img := ShrinkTo(Photo(tb, n), MaxSide)
			if f, ok := Detect(tb, img); ok {
				photos = append(photos, PhotoFace{n, img, f})
			}
		}
	})
	return photos
}

// Clone deep-copies an image.
func Clone(img *imageio.Image) *imageio.Image {
	out := *img
	out.Pix = append([]byte(nil), img.Pix...)
	return &out
}

// ShrinkTo scales img down by an integer box filter until its longer side
// is at most side.
func ShrinkTo(img *imageio.Image, side int) *imageio.Image {
	k := (max(img.Width, img.Height) + side - 1) / side
	if k <= 1 {
		return img
	}
	out := imageio.NewImage(img.Width/k, img.Height/k)
	for y := 0; y < out.Height; y++ {
		for x := 0; x < out.Width; x++ {
			var s [3]int
			for dy := 0; dy < k; dy++ {
				for dx := 0; dx < k; dx++ {
					p := img.Pix[(y*k+dy)*img.Stride+3*(x*k+dx):]
					s[0], s[1], s[2] = s[0]+int(p[0]), s[1]+int(p[1]), s[2]+int(p[2])
				}
			}
			n := k * k
			out.SetRGB(x, y, uint8(s[0]/n), uint8(s[1]/n), uint8(s[2]/n))
		}
	}
	return out
}

// Resize returns img resampled bilinearly to w×h.
func Resize(img *imageio.Image, w, h int) *imageio.Image {
	out := imageio.NewImage(w, h)
	for y := 0; y < h; y++ {
		sy := math.Min((float64(y)+0.5)*float64(img.Height)/float64(h)-0.5, float64(img.Height-1))
		sy = math.Max(sy, 0)
		y0 := int(sy)
		y1 := min(y0+1, img.Height-1)
		fy := sy - float64(y0)
		for x := 0; x < w; x++ {
			sx := math.Min((float64(x)+0.5)*float64(img.Width)/float64(w)-0.5, float64(img.Width-1))
			sx = math.Max(sx, 0)
			x0 := int(sx)
			x1 := min(x0+1, img.Width-1)
			fx := sx - float64(x0)
			var c [3]uint8
			for k := 0; k < 3; k++ {
				a := float64(img.Pix[y0*img.Stride+3*x0+k])*(1-fx) + float64(img.Pix[y0*img.Stride+3*x1+k])*fx
				b := float64(img.Pix[y1*img.Stride+3*x0+k])*(1-fx) + float64(img.Pix[y1*img.Stride+3*x1+k])*fx
				c[k] = uint8(math.Round(a*(1-fy) + b*fy))
			}
			out.SetRGB(x, y, c[0], c[1], c[2])
		}
	}
	return out
}

// GaussianBlur returns img blurred with a separable Gaussian of the given
// sigma in pixels.
func GaussianBlur(img *imageio.Image, sigma float64) *imageio.Image {
	r := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*r+1)
	var s float64
	for i := range k {
		d := float64(i - r)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		s += k[i]
	}
	for i := range k {
		k[i] /= s
	}
	w, h := img.Width, img.Height
	tmp := make([]float64, w*h*3)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < 3; c++ {
				var acc float64
				for i, kv := range k {
					xx := min(max(x+i-r, 0), w-1)
					acc += kv * float64(img.Pix[y*img.Stride+3*xx+c])
				}
				tmp[(y*w+x)*3+c] = acc
			}
		}
	}
	out := Clone(img)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < 3; c++ {
				var acc float64
				for i, kv := range k {
					yy := min(max(y+i-r, 0), h-1)
					acc += kv * tmp[(yy*w+x)*3+c]
				}
				out.Pix[y*out.Stride+3*x+c] = uint8(math.Round(math.Min(255, math.Max(0, acc))))
			}
		}
	}
	return out
}

// ScaleBrightness multiplies every channel by k, clamped to 255.
func ScaleBrightness(img *imageio.Image, k float64) *imageio.Image {
	out := Clone(img)
	for i, v := range out.Pix {
		out.Pix[i] = uint8(math.Min(255, math.Round(float64(v)*k)))
	}
	return out
}
