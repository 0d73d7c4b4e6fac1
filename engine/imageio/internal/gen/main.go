// Command gen writes the intake fixtures in testdata/intake: valid small
// images in every allowed format and deliberately malicious or broken files.
// The outputs are committed; rerun it only to change them:
//
//	go run ./engine/imageio/internal/gen -out testdata/intake
package main

import (
	"bytes"
	"flag"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/png"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/facekit/facekit/engine/imageio/internal/craft"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

var (
	red   = color.RGBA{220, 30, 30, 255}
	green = color.RGBA{30, 200, 40, 255}
	blue  = color.RGBA{30, 40, 220, 255}
	white = color.RGBA{250, 250, 250, 255}
)

func main() {
	out := flag.String("out", "testdata/intake", "output directory")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	q := craft.Quadrants(32, 24, red, green, blue, white)
	jpg := craft.JPEG(q)

	files := map[string][]byte{
		// valid images
		"valid.jpg":  jpg,
		"valid.png":  encode(png.Encode, q),
		"valid.gif":  encodeGIF(q),
		"valid.bmp":  encode(bmp.Encode, q),
		"valid.tiff": encodeTIFF(q),
		"valid.webp": craft.VP8L(16, 16, green),
		// a photo-sized scene without a face, for "no face found" paths
		"no-face-scene.jpg": craft.JPEG(craft.Scene(480, 360)),
		// stored turned 90° counter-clockwise, to be shown turned clockwise
		"exif-orientation-6.jpg": craft.WithExifOrientation(craft.JPEG(craft.Quadrants(24, 32, green, white, red, blue)), 6),

		// broken or hostile
		"empty.bin":                  {},
		"text.txt":                   []byte("this is not an image, it is a text file\n"),
		"truncated.jpg":              jpg[:len(jpg)/2],
		"one-pixel.png":              encode(png.Encode, image.NewGray(image.Rect(0, 0, 1, 1))),
		"png-bomb-20000x20000.png":   craft.PNGHeader(20000, 20000),
		"gif-bomb-65535x65535.gif":   craft.GIFHeader(65535, 65535),
		"bmp-huge-50000x50000.bmp":   craft.BMPHeader(50000, 50000),
		"webp-bomb-16384x16384.webp": craft.VP8L(16384, 16384, red),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(*out, name), data, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// encode runs one of the standard encoders into memory.
func encode(enc func(io.Writer, image.Image) error, m image.Image) []byte {
	var b bytes.Buffer
	if err := enc(&b, m); err != nil {
		log.Fatal(err)
	}
	return b.Bytes()
}

// encodeGIF stores m with an exact four-colour palette so the fixture
// decodes to the same colours as the other lossless formats.
func encodeGIF(m image.Image) []byte {
	p := image.NewPaletted(m.Bounds(), color.Palette{red, green, blue, white})
	draw.Draw(p, p.Bounds(), m, image.Point{}, draw.Src)
	return encode(func(w io.Writer, m image.Image) error { return gif.Encode(w, m, nil) }, p)
}

func encodeTIFF(m image.Image) []byte {
	return encode(func(w io.Writer, m image.Image) error {
		return tiff.Encode(w, m, &tiff.Options{Compression: tiff.Deflate})
	}, m)
}
