package imageio

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/facekit/facekit/engine/imageio/internal/craft"
)

func TestDecodeBase64(t *testing.T) {
	jpg := craft.JPEG(craft.Quadrants(32, 24, red, green, blue, white))
	// Find an image whose encoding uses the characters that differ between
	// the two alphabets, so the URL-safe cases really exercise them.
	std := base64.StdEncoding.EncodeToString(jpg)
	if !strings.ContainsAny(std, "+/") {
		t.Fatal("fixture encoding has no '+' or '/'; pick another image")
	}
	wrapped := ""
	for s := std; s != ""; {
		n := min(76, len(s))
		wrapped += s[:n] + "\r\n"
		s = s[n:]
	}
	tests := []struct {
		name    string
		in      string
		lim     Limits
		wantErr error
	}{
		{"StdPadded", std, DefaultLimits(), nil},
		{"StdUnpadded", base64.RawStdEncoding.EncodeToString(jpg), DefaultLimits(), nil},
		{"URLPadded", base64.URLEncoding.EncodeToString(jpg), DefaultLimits(), nil},
		{"URLUnpadded", base64.RawURLEncoding.EncodeToString(jpg), DefaultLimits(), nil},
		{"DataURI", "data:image/jpeg;base64," + std, DefaultLimits(), nil},
		{"DataURIUpperCase", "DATA:IMAGE/JPEG;BASE64," + std, DefaultLimits(), nil},
		{"MIMELineBreaks", wrapped, DefaultLimits(), nil},
		{"SurroundingSpace", "  \n" + std + "\n ", DefaultLimits(), nil},
		{"Empty", "", DefaultLimits(), ErrEmpty},
		{"OnlyPadding", "==", DefaultLimits(), ErrEmpty},
		{"EmptyDataURI", "data:image/png;base64,", DefaultLimits(), ErrEmpty},
		{"DataURINotBase64", "data:image/png," + std, DefaultLimits(), ErrBase64},
		{"InvalidCharacter", std[:40] + "*" + std[41:], DefaultLimits(), ErrBase64},
		{"MixedAlphabets", "ab+-" + std, DefaultLimits(), ErrBase64},
		{"ImpossibleLength", std[:len(std)-1] + "A" + "A", DefaultLimits(), ErrBase64},
		{"TooLargeBeforeDecoding", strings.Repeat("A", 4000), Limits{MaxBytes: 1000}, ErrImageTooLarge},
		{"DecodesToText", base64.StdEncoding.EncodeToString([]byte("hello world")), DefaultLimits(), ErrImageFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := DecodeBase64(tt.in, tt.lim)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("DecodeBase64 error = %v, want %v", err, tt.wantErr)
			}
			if err == nil && (img.Width != 32 || img.Height != 24) {
				t.Errorf("decoded %dx%d, want 32x24", img.Width, img.Height)
			}
		})
	}
}
