package tfgraph

import (
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/image/draw"
)

// testdataDir finds the shared test photos: $FACEKIT_TESTDATA, else
// ../shared/testdata next to the repo.
func testdataDir(tb testing.TB) string {
	tb.Helper()
	for _, d := range []string{os.Getenv("FACEKIT_TESTDATA"), filepath.Join(repoRoot(), "..", "shared", "testdata")} {
		if d == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "faces")); err == nil {
			return d
		}
	}
	tb.Skip("shared test photos not found; set FACEKIT_TESTDATA")
	return ""
}

// loadJPEG decodes a photo of the shared test data.
func loadJPEG(tb testing.TB, rel string) image.Image {
	tb.Helper()
	f, err := os.Open(filepath.Join(testdataDir(tb), rel))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		tb.Fatalf("decode %s: %v", rel, err)
	}
	return img
}

// pixelScale maps an 8-bit channel value v to lo + v*(hi-lo)/255.
type pixelScale struct{ lo, hi float32 }

var (
	unit      = pixelScale{0, 1}
	signed    = pixelScale{-1, 1}
	byteRange = pixelScale{0, 255}
)

// faceTensor crops r from img, resizes it bilinearly to size×size and
// returns a [1,size,size,3] RGB tensor, or [1,size,size,1] with gray (ITU-R
// BT.601 luma) when gray is set.
func faceTensor(img image.Image, r image.Rectangle, size int, gray bool, s pixelScale) *Tensor {
	dst := image.NewRGBA(image.Rect(0, 0, size, size))
	draw.BiLinear.Scale(dst, dst.Bounds(), img, r, draw.Src, nil)
	ch := 3
	if gray {
		ch = 1
	}
	t := NewTensor(1, size, size, ch)
	k := (s.hi - s.lo) / 255
	for i := 0; i < size*size; i++ {
		p := dst.Pix[4*i : 4*i+3]
		if gray {
			y := 0.299*float32(p[0]) + 0.587*float32(p[1]) + 0.114*float32(p[2])
			t.Data[i] = s.lo + y*k
			continue
		}
		for c := 0; c < 3; c++ {
			t.Data[3*i+c] = s.lo + float32(p[c])*k
		}
	}
	return t
}

// jiminFace is the face box of faces/jimin.jpg (a smiling young woman),
// measured by eye: forehead to chin, ear to ear.
var jiminFace = image.Rect(760, 200, 1180, 620)
