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

// FuzzDecodeBase64 fuzzes DecodeBase64Bytes, the decoder production calls
// (service.LoadImage, the Linkface dialect), and DecodeBase64 built on it:
// arbitrary strings only ever produce the package's typed errors, never
// more bytes than the limit, and the bytes DecodeBase64 decodes are the
// ones DecodeBase64Bytes returns.
func FuzzDecodeBase64(f *testing.F) {
	for _, s := range []string{"", "==", "data:image/png;base64,", "Data:image/png;BASE64,aGVsbG8", "aGVsbG8", "a-_b", "a+/b", "data:,x", " \r\n "} {
		f.Add(s)
	}
	lim := Limits{MaxBytes: 1 << 16, MinSide: 1, MaxSide: 512, MaxPixels: 1 << 16}
	typed := []error{ErrEmpty, ErrBase64, ErrImageTooLarge, ErrImageFormat, ErrImageCorrupt, ErrImageDimensions}
	isTyped := func(err error) bool {
		for _, e := range typed {
			if errors.Is(err, e) {
				return true
			}
		}
		return false
	}
	f.Fuzz(func(t *testing.T, s string) {
		raw, err := DecodeBase64Bytes(s, lim.MaxBytes)
		switch {
		case err != nil && !isTyped(err):
			t.Fatalf("DecodeBase64Bytes: untyped error: %v", err)
		case err == nil && int64(len(raw)) > lim.MaxBytes:
			t.Fatalf("DecodeBase64Bytes returned %d bytes, limit %d", len(raw), lim.MaxBytes)
		}
		img, ierr := DecodeBase64(s, lim)
		if ierr != nil && !isTyped(ierr) {
			t.Fatalf("DecodeBase64: untyped error: %v", ierr)
		}
		if err != nil && ierr == nil {
			t.Fatalf("DecodeBase64 decoded an image from a string DecodeBase64Bytes refused (%v)", err)
		}
		if err == nil {
			want, derr := Decode(raw, lim)
			if (derr == nil) != (ierr == nil) || (derr == nil && (want.Width != img.Width || want.Height != img.Height)) {
				t.Fatalf("DecodeBase64 = %v, Decode of the bytes = %v", ierr, derr)
			}
		}
	})
}
