// Package imageio is facekit's image intake: it turns untrusted request bytes
// into an upright, packed RGB image that is cheap to hand to the native core.
//
// Every image goes through the same gate, in this order:
//
//  1. a cap on the raw byte size (ErrEmpty, ErrImageTooLarge);
//  2. a format allowlist by magic bytes: JPEG, PNG, BMP, GIF (first frame
//     only), TIFF and WebP (ErrImageFormat);
//  3. the header is parsed with the format's DecodeConfig and the side and
//     pixel limits are checked before any pixel buffer is allocated, so a tiny
//     file that declares 20000×20000 pixels is refused cheaply
//     (ErrImageDimensions);
//  4. the pixels are decoded: JPEG by libjpeg-turbo (package turbojpeg:
//     twice as fast, and libjpeg's pixels, the ones dlib's own loader sees;
//     CMYK JPEGs, which it cannot turn into RGB, by image/jpeg), every other
//     format by the Go decoders (memory safe); any failure or warning, or a
//     panic inside a Go decoder, becomes ErrImageCorrupt;
//  5. the EXIF orientation (JPEG APP1, TIFF IFD0, PNG eXIf, WebP EXIF) is
//     applied so the result is upright.
//
// All functions are safe for concurrent use; Image values are not
// synchronised and should not be written while being read.
package imageio

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"github.com/facekit/facekit/engine/imageio/turbojpeg"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// Errors returned by Decode and DecodeBase64. They are always wrapped with
// details; test for them with errors.Is.
var (
	// ErrEmpty means there were no image bytes at all.
	ErrEmpty = errors.New("imageio: empty image")
	// ErrImageTooLarge means the encoded image exceeds Limits.MaxBytes.
	ErrImageTooLarge = errors.New("imageio: image file too large")
	// ErrImageFormat means the bytes are not one of the allowed formats.
	ErrImageFormat = errors.New("imageio: unsupported image format")
	// ErrImageCorrupt means the format was recognised but the data could
	// not be decoded (truncated, malformed, decoder failure).
	ErrImageCorrupt = errors.New("imageio: corrupt image")
	// ErrImageDimensions means the width, height or pixel count is outside
	// Limits, including headers that declare decompression bombs.
	ErrImageDimensions = errors.New("imageio: image dimensions out of range")
	// ErrBase64 means a base64 image string could not be decoded.
	ErrBase64 = errors.New("imageio: invalid base64 image")
)

// Limits bounds what Decode accepts. A zero field means "no limit" for that
// field, except that a zero Limits value is not useful; start from
// DefaultLimits and override what a caller (for example a vendor dialect)
// needs.
type Limits struct {
	// MaxBytes caps the size of the encoded image.
	MaxBytes int64
	// MinSide is the smallest allowed width and height in pixels.
	MinSide int
	// MaxSide is the largest allowed width and height in pixels.
	MaxSide int
	// MaxPixels caps width×height; it bounds decoder memory (about 3 bytes
	// per pixel for the result plus the decoder's own buffer).
	MaxPixels int64
}

// DefaultLimits returns generous but safe limits: 10 MiB of encoded data,
// sides from 9 to 10000 pixels and at most 40 million pixels (about 120 MB
// of RGB). The vendor dialects pass stricter limits of their own (Linkface:
// sides > 8 and <= 4000 px, 2 MB files).
func DefaultLimits() Limits {
	return Limits{
		MaxBytes:  10 << 20,
		MinSide:   9,
		MaxSide:   10000,
		MaxPixels: 40_000_000,
	}
}

// Format names returned in Image.Format.
const (
	FormatJPEG = "jpeg"
	FormatPNG  = "png"
	FormatBMP  = "bmp"
	FormatGIF  = "gif"
	FormatTIFF = "tiff"
	FormatWebP = "webp"
)

// codec pairs a format's header parser with its full decoder. The decoders
// are called directly rather than through image.Decode so that the
// allowlist does not depend on which packages happen to register themselves.
type codec struct {
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

var codecs = map[string]codec{
	FormatJPEG: {jpeg.DecodeConfig, jpeg.Decode},
	FormatPNG:  {png.DecodeConfig, png.Decode},
	FormatBMP:  {bmp.DecodeConfig, bmp.Decode},
	// gif.Decode returns the first frame only; gif.DecodeAll would let a
	// small file expand into thousands of full-size frames.
	FormatGIF:  {gif.DecodeConfig, gif.Decode},
	FormatTIFF: {tiff.DecodeConfig, tiff.Decode},
	FormatWebP: {webp.DecodeConfig, webp.Decode},
}

// Sniff returns the format named by the magic bytes at the start of data, or
// "" if it is not an allowed format.
func Sniff(data []byte) string {
	switch {
	case len(data) >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF:
		return FormatJPEG
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return FormatPNG
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return FormatGIF
	case bytes.HasPrefix(data, []byte("BM")):
		return FormatBMP
	case bytes.HasPrefix(data, []byte("II*\x00")), bytes.HasPrefix(data, []byte("MM\x00*")):
		return FormatTIFF
	case len(data) >= 12 && string(data[0:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return FormatWebP
	}
	return ""
}

// Dimensions returns the width and height that data's header declares,
// without decoding any pixel (callers size their work before decoding);
// ok is false for a format outside the allowlist or an unreadable header,
// which Decode then reports.
func Dimensions(data []byte) (w, h int, ok bool) {
	format := Sniff(data)
	if format == "" {
		return 0, 0, false
	}
	cfg, err := safeConfig(codecs[format], data)
	if err != nil {
		return 0, 0, false
	}
	return cfg.Width, cfg.Height, true
}

// Decode checks data against lim, decodes it and returns an upright image.
// It returns ErrEmpty, ErrImageTooLarge, ErrImageFormat, ErrImageDimensions
// or ErrImageCorrupt (wrapped) for bad input, and never panics.
func Decode(data []byte, lim Limits) (*Image, error) {
	if len(data) == 0 {
		return nil, ErrEmpty
	}
	if lim.MaxBytes > 0 && int64(len(data)) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrImageTooLarge, len(data), lim.MaxBytes)
	}
	format := Sniff(data)
	if format == "" {
		return nil, fmt.Errorf("%w: unrecognised header % x", ErrImageFormat, data[:min(len(data), 8)])
	}
	c := codecs[format]

	cfg, err := safeConfig(c, data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s header: %v", ErrImageCorrupt, format, err)
	}
	if err := lim.check(cfg.Width, cfg.Height); err != nil {
		return nil, fmt.Errorf("%s: %w", format, err)
	}

	var img *Image
	if format == FormatJPEG {
		img, err = decodeTurbo(data, cfg.Width, cfg.Height)
	}
	if img == nil && err == nil {
		src, err := safeDecode(c, data)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrImageCorrupt, format, err)
		}
		// The decoder's bounds should match the header; if a decoder ever
		// disagrees, the header-sized canvas below still bounds our memory
		// and the limits stay true for the returned image.
		img = toRGB(src, cfg.Width, cfg.Height)
	}
	if err != nil {
		return nil, err
	}
	img.Format = format

	img.Orientation = orientation(format, data)
	if img.Orientation != 1 {
		img = orient(img, img.Orientation)
	}
	return img, nil
}

// decodeTurbo decodes a JPEG whose header declared w×h with libjpeg-turbo.
// It returns nil and no error for a CMYK JPEG, which image/jpeg decodes
// instead.
func decodeTurbo(data []byte, w, h int) (*Image, error) {
	pix, err := turbojpeg.Decode(data, w, h)
	switch {
	case errors.Is(err, turbojpeg.ErrCMYK):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("%w: jpeg: %v", ErrImageCorrupt, err)
	}
	return &Image{Pix: pix, Stride: 3 * w, Width: w, Height: h, Orientation: 1}, nil
}

// check reports whether a w×h image is inside the limits.
func (lim Limits) check(w, h int) error {
	switch {
	case w <= 0 || h <= 0:
		return fmt.Errorf("%w: %dx%d is empty", ErrImageDimensions, w, h)
	case lim.MinSide > 0 && (w < lim.MinSide || h < lim.MinSide):
		return fmt.Errorf("%w: %dx%d is smaller than %d px", ErrImageDimensions, w, h, lim.MinSide)
	case lim.MaxSide > 0 && (w > lim.MaxSide || h > lim.MaxSide):
		return fmt.Errorf("%w: %dx%d is larger than %d px", ErrImageDimensions, w, h, lim.MaxSide)
	case lim.MaxPixels > 0 && int64(w)*int64(h) > lim.MaxPixels:
		return fmt.Errorf("%w: %dx%d has more than %d pixels", ErrImageDimensions, w, h, lim.MaxPixels)
	}
	return nil
}

// safeConfig and safeDecode turn decoder panics into errors: the decoders are
// well tested, but a panic on hostile input must never take the server down.
func safeConfig(c codec, data []byte) (cfg image.Config, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder panic: %v", r)
		}
	}()
	return c.config(bytes.NewReader(data))
}

func safeDecode(c codec, data []byte) (img image.Image, err error) {
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("decoder panic: %v", r)
		}
	}()
	img, err = c.decode(bytes.NewReader(data))
	if err == nil && img == nil {
		err = errors.New("decoder returned no image")
	}
	return img, err
}
