// Command photos writes the benchmark photos: one test photo cropped to the
// target aspect ratio and resized to 640×480 (vga.jpg) and 1920×1080
// (hd.jpg), JPEG quality 90. facekit and the raw-dlib baseline then read the
// very same bytes, so their per-image costs are comparable.
//
//	go run ./bench/photos -src ../shared/testdata/faces/jimin5.jpg -out /tmp/bench
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/jpeg"
	"log"
	"os"
	"path/filepath"

	"golang.org/x/image/draw"

	"github.com/facekit/facekit/engine/imageio"
)

// sizes are the photo sizes the benchmarks are quoted at.
var sizes = []struct {
	name string
	w, h int
}{
	{"vga.jpg", 640, 480},
	{"hd.jpg", 1920, 1080},
}

func main() {
	src := flag.String("src", "../shared/testdata/faces/jimin5.jpg", "source photo (one frontal face)")
	out := flag.String("out", ".", "directory to write vga.jpg and hd.jpg into")
	flag.Parse()
	if err := run(*src, *out); err != nil {
		log.Fatalf("photos: %v", err)
	}
}

func run(srcPath, outDir string) error {
	data, err := os.ReadFile(srcPath)
	if err != nil {
		return err
	}
	img, err := imageio.Decode(data, imageio.DefaultLimits())
	if err != nil {
		return fmt.Errorf("decode %s: %w", srcPath, err)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	for _, s := range sizes {
		b, err := resized(img, s.w, s.h)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(outDir, s.name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// resized crops the centre of img to w:h and scales it to w×h.
func resized(img *imageio.Image, w, h int) ([]byte, error) {
	cw, ch := img.Width, img.Width*h/w
	if ch > img.Height {
		cw, ch = img.Height*w/h, img.Height
	}
	crop := image.Rect((img.Width-cw)/2, (img.Height-ch)/2, (img.Width+cw)/2, (img.Height+ch)/2)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, crop, draw.Src, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 90}); err != nil {
		return nil, fmt.Errorf("encode %dx%d: %w", w, h, err)
	}
	return buf.Bytes(), nil
}
