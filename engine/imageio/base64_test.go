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
		{"DataURIMixedCase", "Data:Image/JPEG;Base64," + std, DefaultLimits(), nil},
		{"DataURISurroundingSpace", " \tdata:image/jpeg;base64," + std + "\r\n", DefaultLimits(), nil},
		{"MIMELineBreaks", wrapped, DefaultLimits(), nil},
		{"SurroundingSpace", "  \n" + std + "\n ", DefaultLimits(), nil},
		{"Empty", "", DefaultLimits(), ErrEmpty},
		{"OnlyPadding", "==", DefaultLimits(), ErrEmpty},
		{"EmptyDataURI", "data:image/png;base64,", DefaultLimits(), ErrEmpty},
		{"DataURINotBase64", "data:image/png," + std, DefaultLimits(), ErrBase64},
		{"DataURIWithoutComma", "data:image/png;base64" + std, DefaultLimits(), ErrBase64},
		{"DataURIMixedCaseNotBase64", "Data:image/png," + std, DefaultLimits(), ErrBase64},
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

// TestDecodeBase64Bytes checks that the bytes form returns exactly the
// encoded bytes (face tokens are derived from them), under every spelling
// DecodeBase64 accepts, and the same typed errors before any image decoding.
func TestDecodeBase64Bytes(t *testing.T) {
	data := []byte("\xff\xd8\xff\xe0 some jpeg-ish bytes ~~~ ???")
	std := base64.StdEncoding.EncodeToString(data)
	ok := map[string]string{
		"Standard":      std,
		"Unpadded":      strings.TrimRight(std, "="),
		"URLSafe":       base64.URLEncoding.EncodeToString(data),
		"LineBreaks":    std[:10] + "\r\n" + std[10:],
		"DataURI":       "data:image/jpeg;base64," + std,
		"DataURIMixed":  "Data:image/jpeg;BASE64," + std,
		"DataURISpaced": "  DATA:image/jpeg;base64," + std + "\n",
	}
	for name, s := range ok {
		t.Run(name, func(t *testing.T) {
			got, err := DecodeBase64Bytes(s, 1<<20)
			if err != nil || string(got) != string(data) {
				t.Fatalf("DecodeBase64Bytes = %q, %v", got, err)
			}
		})
	}
	bad := []struct {
		name, in string
		want     error
	}{
		{"Empty", "  ", ErrEmpty},
		{"NotBase64", "%%%%", ErrBase64},
		{"DataNoBase64", "data:image/png,abc", ErrBase64},
		{"TooLarge", strings.Repeat("A", 4000), ErrImageTooLarge},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeBase64Bytes(tt.in, 1000); !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
}
