package tfgraph

import (
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"github.com/facekit/facekit/internal/missing"
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
	missing.Data(tb, missing.TestData, "shared test photos not found")
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

func TestImageTensor(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for i := 0; i < 16; i++ {
		copy(img.Pix[4*i:], []byte{255, 0, 51, 255})
	}
	rgb := ImageTensor(img, img.Bounds(), 2, false, RangeSigned)
	if !sameShape(rgb.Shape, []int{1, 2, 2, 3}) || !closeAll(rgb.Data[:3], []float32{1, -1, -0.6}, 1e-6) {
		t.Fatalf("RGB tensor %v %v", rgb.Shape, rgb.Data[:3])
	}
	gray := ImageTensor(img, img.Bounds(), 2, true, Range255)
	want := float32(0.299*255 + 0.114*51)
	if !sameShape(gray.Shape, []int{1, 2, 2, 1}) || !closeAll(gray.Data, []float32{want, want, want, want}, 1e-3) {
		t.Fatalf("gray tensor %v %v, want %v", gray.Shape, gray.Data, want)
	}
}

// jiminFace is the face box of faces/jimin.jpg (a smiling young woman),
// measured by eye: forehead to chin, ear to ear.
var jiminFace = image.Rect(760, 200, 1180, 620)
