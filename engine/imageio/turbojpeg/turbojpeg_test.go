package turbojpeg_test

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"testing"

	"github.com/facekit/facekit/engine/imageio/turbojpeg"
	"github.com/facekit/facekit/internal/testenv"
)

// photos are test photos of several sizes and JPEG flavours (baseline and
// progressive, 4:2:0 and 4:4:4, EXIF-rotated).
var photos = []string{"jimin.jpg", "bona.jpg", "bona2.jpg", "bona3.jpg", "pristin.jpg", "eunseo.jpg"}

// goRGB decodes data with image/jpeg, an independent implementation, into
// packed RGB.
func goRGB(tb testing.TB, data []byte) ([]byte, int, int) {
	tb.Helper()
	m, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		tb.Fatalf("image/jpeg: %v", err)
	}
	b := m.Bounds()
	out := make([]byte, 0, b.Dx()*b.Dy()*3)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(m.At(x, y)).(color.RGBA)
			out = append(out, c.R, c.G, c.B)
		}
	}
	return out, b.Dx(), b.Dy()
}

// TestDecodeAgreesWithImageJPEG: both decoders implement the same standard;
// they differ only in IDCT rounding and chroma upsampling (image/jpeg
// replicates chroma, libjpeg interpolates it), so pixels agree to a few
// levels on average and the worst pixel sits on a sharp colour edge.
func TestDecodeAgreesWithImageJPEG(t *testing.T) {
	for _, name := range photos {
		t.Run(name, func(t *testing.T) {
			data := testenv.Photo(t, name)
			want, w, h := goRGB(t, data)
			got, err := turbojpeg.Decode(data, w, h)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d bytes, want %d", len(got), len(want))
			}
			var sum, exact int
			for i := range got {
				d := int(got[i]) - int(want[i])
				if d < 0 {
					d = -d
				}
				sum += d
				if d == 0 {
					exact++
				}
			}
			mean := float64(sum) / float64(len(got))
			t.Logf("%dx%d: mean |difference| %.3f levels, %.1f%% identical", w, h, mean, 100*float64(exact)/float64(len(got)))
			if mean > 2 {
				t.Fatalf("mean difference %.2f levels from image/jpeg: not the same picture", mean)
			}
		})
	}
}

func encode(tb testing.TB, m image.Image, q int) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: q}); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func TestDecodeErrors(t *testing.T) {
	m := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := range m.Pix {
		m.Pix[i] = byte(i * 7)
	}
	good := encode(t, m, 90)
	garbled := bytes.Clone(good)
	for i := len(garbled) / 2; i < len(garbled)-2; i++ {
		garbled[i] = 0xFF
	}
	tests := []struct {
		name string
		data []byte
		w, h int
	}{
		{"Empty", nil, 64, 48},
		{"HeaderOnly", good[:200], 64, 48},
		{"TruncatedInScan", good[:len(good)*3/4], 64, 48},
		{"GarbledScan", garbled, 64, 48},
		{"NotJPEG", []byte("\x89PNG\r\n\x1a\nrest of a png"), 64, 48},
		{"SizeDisagreesWithHeader", good, 640, 480},
		{"ZeroSize", good, 0, 48},
		{"AbsurdSize", good, 1 << 20, 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pix, err := turbojpeg.Decode(tt.data, tt.w, tt.h)
			if !errors.Is(err, turbojpeg.ErrCorrupt) {
				t.Fatalf("got %d bytes, error %v; want ErrCorrupt", len(pix), err)
			}
		})
	}
	if _, err := turbojpeg.Decode(good, 64, 48); err != nil {
		t.Fatalf("the untouched file: %v", err)
	}
}

// BenchmarkDecoders compares libjpeg-turbo with image/jpeg (the decode
// alone, to a decoder's native output) on test photos.
func BenchmarkDecoders(b *testing.B) {
	for _, name := range []string{"jimin.jpg", "bona3.jpg"} {
		data, err := os.ReadFile(testenv.Face(b, name))
		if err != nil {
			b.Fatal(err)
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		mpx := float64(cfg.Width*cfg.Height) / 1e6
		b.Run(fmt.Sprintf("%s/%dx%d/turbojpeg", name, cfg.Width, cfg.Height), func(b *testing.B) {
			for b.Loop() {
				if _, err := turbojpeg.Decode(data, cfg.Width, cfg.Height); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(mpx*float64(b.N)/b.Elapsed().Seconds(), "Mpx/s")
		})
		b.Run(fmt.Sprintf("%s/%dx%d/image-jpeg", name, cfg.Width, cfg.Height), func(b *testing.B) {
			for b.Loop() {
				if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(mpx*float64(b.N)/b.Elapsed().Seconds(), "Mpx/s")
		})
	}
}
