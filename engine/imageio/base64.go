package imageio

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// DecodeBase64 decodes a base64 image string and then the image, as Decode
// does. It accepts the standard and the URL-safe alphabet, with or without
// padding, line breaks and surrounding spaces, and an optional
// "data:image/...;base64," prefix, because each vendor's clients send a
// different mix of these.
//
// lim.MaxBytes applies to the decoded bytes; it is checked from the string's
// length before anything is allocated. Returns ErrEmpty, ErrBase64,
// ErrImageTooLarge or any error of Decode.
func DecodeBase64(s string, lim Limits) (*Image, error) {
	data, err := DecodeBase64Bytes(s, lim.MaxBytes)
	if err != nil {
		return nil, err
	}
	return Decode(data, lim)
}

// DecodeBase64Bytes turns a base64 image string into the encoded image
// bytes, with DecodeBase64's leniency, without decoding the image: callers
// that name images by their bytes (face tokens) need the bytes themselves.
// maxBytes (0 = no limit) applies to the decoded length and is checked
// before anything is allocated. Returns ErrEmpty, ErrBase64 or
// ErrImageTooLarge. It is the one base64 decoder of facekit's image intake,
// and FuzzDecodeBase64 fuzzes it.
func DecodeBase64Bytes(s string, maxBytes int64) ([]byte, error) {
	s = strings.TrimSpace(s)
	// A URI scheme is case-insensitive (RFC 3986 §3.1), so "Data:" is as
	// much a data URI as "data:" and "DATA:"; matching only those two
	// spellings sent "Data:..." on to the base64 decoder, which failed on
	// the ':'.
	if len(s) >= 5 && strings.EqualFold(s[:5], "data:") {
		comma := strings.IndexByte(s, ',')
		if comma < 0 || !strings.HasSuffix(strings.ToLower(s[:comma]), ";base64") {
			return nil, fmt.Errorf("%w: data URI without ;base64,", ErrBase64)
		}
		s = s[comma+1:]
	}
	if strings.ContainsAny(s, " \t\r\n") {
		s = strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, s)
	}
	s = strings.TrimRight(s, "=")
	if s == "" {
		return nil, ErrEmpty
	}
	// Unpadded base64 carries 6 bits per character.
	if n := int64(len(s)) * 6 / 8; maxBytes > 0 && n > maxBytes {
		return nil, fmt.Errorf("%w: about %d bytes after base64, limit %d", ErrImageTooLarge, n, maxBytes)
	}
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		// Mixing both alphabets is refused by the decoder below.
		enc = base64.RawURLEncoding
	}
	data, err := enc.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBase64, err)
	}
	return data, nil
}
