package imageio

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/facekit/facekit/engine/imageio/internal/craft"
)

// FuzzDecode runs the whole intake on arbitrary bytes, seeded with the
// malicious fixtures. Decode must never panic, must only fail with the
// package's typed errors, and must never return an image outside the
// limits.
func FuzzDecode(f *testing.F) {
	entries, err := os.ReadDir(intakeDir)
	if err != nil {
		f.Fatalf("read fixtures: %v", err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(intakeDir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(craft.WithPNGExif(craft.PNGHeader(64, 64), 6))
	f.Add(craft.VP8L(300, 200, red))

	// Small limits keep each fuzz iteration cheap.
	lim := Limits{MaxBytes: 1 << 20, MinSide: 1, MaxSide: 2048, MaxPixels: 1 << 20}
	typed := []error{ErrEmpty, ErrImageTooLarge, ErrImageFormat, ErrImageCorrupt, ErrImageDimensions}
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := Decode(data, lim)
		if err != nil {
			for _, e := range typed {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("untyped error: %v", err)
		}
		w, h := img.Width, img.Height
		if w < lim.MinSide || h < lim.MinSide || w > lim.MaxSide || h > lim.MaxSide || int64(w)*int64(h) > lim.MaxPixels {
			t.Fatalf("decoded %dx%d outside limits %+v", w, h, lim)
		}
		if img.Stride != 3*w || len(img.Pix) != 3*w*h {
			t.Fatalf("stride %d, len(Pix) %d for %dx%d", img.Stride, len(img.Pix), w, h)
		}
		if img.Orientation < 1 || img.Orientation > 8 {
			t.Fatalf("orientation %d", img.Orientation)
		}
	})
}

// FuzzDecodeBase64 checks that arbitrary strings only ever produce the
// package's typed errors.
func FuzzDecodeBase64(f *testing.F) {
	for _, s := range []string{"", "==", "data:image/png;base64,", "aGVsbG8", "a-_b", "a+/b", "data:,x", " \r\n "} {
		f.Add(s)
	}
	lim := Limits{MaxBytes: 1 << 16, MinSide: 1, MaxSide: 512, MaxPixels: 1 << 16}
	typed := []error{ErrEmpty, ErrBase64, ErrImageTooLarge, ErrImageFormat, ErrImageCorrupt, ErrImageDimensions}
	f.Fuzz(func(t *testing.T, s string) {
		_, err := DecodeBase64(s, lim)
		if err == nil {
			return
		}
		for _, e := range typed {
			if errors.Is(err, e) {
				return
			}
		}
		t.Fatalf("untyped error: %v", err)
	})
}
