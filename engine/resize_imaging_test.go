package engine_test

import (
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/disintegration/imaging"
	"golang.org/x/image/draw"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/dlib"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/internal/testenv"
)

// The design names github.com/disintegration/imaging for resizing and
// cropping. These benchmarks measure it against the code facekit runs, on
// real photos, so that docs/architecture.md can say why it is or is not
// used. Run: go test ./engine -run '^$' -bench 'Imaging' -benchtime 20x

// benchPhotos are three real photos of different shapes: landscape
// 1800×1198, portrait 1277×1920 and square 1000×1000.
var benchPhotos = []string{"jimin.jpg", "chaeyeon2.jpg", "bona.jpg"}

const benchMaxSide = 960 // the shrink detection uses in the docs' examples

func loadPhoto(tb testing.TB, name string) *imageio.Image {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.TestData(tb), "faces", name))
	if err != nil {
		tb.Skipf("photo %s: %v", name, err)
	}
	img, err := imageio.Decode(data, imageio.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

// imagingDownscale is engine.Downscale done with imaging: its Box filter is the
// same area average. imaging returns *image.NRGBA, so the result is packed
// back into the RGB buffer dlib reads.
func imagingDownscale(src image.Image, w, h int) *dlib.RGB {
	n := imaging.Resize(src, w, h, imaging.Box)
	out := &dlib.RGB{Pix: make([]byte, w*h*3), Width: w, Height: h, Stride: w * 3}
	for i, j := 0, 0; j < len(out.Pix); i, j = i+4, j+3 {
		out.Pix[j], out.Pix[j+1], out.Pix[j+2] = n.Pix[i], n.Pix[i+1], n.Pix[i+2]
	}
	return out
}

func toNRGBA(img *imageio.Image) *image.NRGBA {
	n := image.NewNRGBA(image.Rect(0, 0, img.Width, img.Height))
	for y := 0; y < img.Height; y++ {
		row := img.Pix[y*img.Stride:]
		for x := 0; x < img.Width; x++ {
			o := n.PixOffset(x, y)
			n.Pix[o], n.Pix[o+1], n.Pix[o+2], n.Pix[o+3] = row[3*x], row[3*x+1], row[3*x+2], 255
		}
	}
	return n
}

func dlibRGBOf(img *imageio.Image) *dlib.RGB {
	return &dlib.RGB{Pix: img.Pix, Width: img.Width, Height: img.Height, Stride: img.Stride}
}

// meanAbsDiff is the mean per-channel difference of two same-size images,
// reported with the benchmark so the speed comparison says how different
// the pixels are (imaging's Box weights the edge pixels of a box by
// coverage, downscale counts every pixel a box touches in full; they
// differ most at shrink factors near 1).
func meanAbsDiff(a, b *dlib.RGB) float64 {
	var sum float64
	for i := range a.Pix {
		sum += math.Abs(float64(a.Pix[i]) - float64(b.Pix[i]))
	}
	return sum / float64(len(a.Pix))
}

func BenchmarkImagingDownscale(b *testing.B) {
	for _, name := range benchPhotos {
		img := loadPhoto(b, name)
		src := dlibRGBOf(img)
		ref, _ := engine.Downscale(src, benchMaxSide)
		w, h := ref.Width, ref.Height
		b.Run(name+"/handwritten", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				engine.Downscale(src, benchMaxSide)
			}
		})
		// imaging reads an image type it does not know (imageio.Image)
		// through At(), as it would in production.
		b.Run(name+"/imaging-Box", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				imagingDownscale(img, w, h)
			}
			b.ReportMetric(meanAbsDiff(imagingDownscale(img, w, h), ref), "mean|Δ|")
		})
		// Its best case: the source already *image.NRGBA (conversion not
		// timed), output left as NRGBA.
		n := toNRGBA(img)
		b.Run(name+"/imaging-Box-NRGBA", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				imaging.Resize(n, w, h, imaging.Box)
			}
		})
	}
}

// BenchmarkImagingFaceCrop is the crop-and-scale every TF.js model input
// and the liveness statistics take (tfgraph.ImageTensor: x/image/draw's
// BiLinear over a face square, 224 px for faceres) against imaging's Crop
// followed by Resize with its Linear filter.
func BenchmarkImagingFaceCrop(b *testing.B) {
	for _, name := range benchPhotos {
		img := loadPhoto(b, name)
		side := min(img.Width, img.Height) / 2
		r := image.Rect((img.Width-side)/2, (img.Height-side)/2, (img.Width+side)/2, (img.Height+side)/2)
		b.Run(name+"/xdraw-BiLinear", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				dst := image.NewRGBA(image.Rect(0, 0, 224, 224))
				draw.BiLinear.Scale(dst, dst.Bounds(), img, r, draw.Src, nil)
			}
		})
		b.Run(name+"/imaging-Crop-Linear", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				imaging.Resize(imaging.Crop(img, r), 224, 224, imaging.Linear)
			}
		})
	}
}
