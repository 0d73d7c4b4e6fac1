package imageio

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	xdraw "golang.org/x/image/draw"

	"github.com/facekit/facekit/engine/imageio/internal/craft"
	"github.com/facekit/facekit/internal/missing"
)

// intakeDir holds the committed fixtures made by internal/gen.
const intakeDir = "../../testdata/intake"

var (
	red   = color.RGBA{220, 30, 30, 255}
	green = color.RGBA{30, 200, 40, 255}
	blue  = color.RGBA{30, 40, 220, 255}
	white = color.RGBA{250, 250, 250, 255}
)

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(intakeDir, name))
	if err != nil {
		tb.Fatalf("read fixture: %v", err)
	}
	return b
}

// near reports whether two colours match within a JPEG-sized tolerance.
func near(r, g, b uint8, want color.RGBA) bool {
	d := func(a, b uint8) int {
		if a > b {
			return int(a - b)
		}
		return int(b - a)
	}
	return d(r, want.R) <= 24 && d(g, want.G) <= 24 && d(b, want.B) <= 24
}

// checkQuadrants asserts that the quadrant centres of m have the given
// colours.
func checkQuadrants(t *testing.T, m *Image, tl, tr, bl, br color.RGBA) {
	t.Helper()
	w, h := m.Width, m.Height
	for _, c := range []struct {
		name string
		x, y int
		want color.RGBA
	}{
		{"top-left", w / 4, h / 4, tl},
		{"top-right", 3 * w / 4, h / 4, tr},
		{"bottom-left", w / 4, 3 * h / 4, bl},
		{"bottom-right", 3 * w / 4, 3 * h / 4, br},
	} {
		if r, g, b := m.RGBAt(c.x, c.y); !near(r, g, b, c.want) {
			t.Errorf("%s quadrant = (%d,%d,%d), want %v", c.name, r, g, b, c.want)
		}
	}
}

func TestDecodeFixtures(t *testing.T) {
	tests := []struct {
		file          string
		wantErr       error
		format        string
		width, height int
	}{
		{"valid.jpg", nil, FormatJPEG, 32, 24},
		{"valid.png", nil, FormatPNG, 32, 24},
		{"valid.gif", nil, FormatGIF, 32, 24},
		{"valid.bmp", nil, FormatBMP, 32, 24},
		{"valid.tiff", nil, FormatTIFF, 32, 24},
		{"valid.webp", nil, FormatWebP, 16, 16},
		{"exif-orientation-6.jpg", nil, FormatJPEG, 32, 24},
		{"empty.bin", ErrEmpty, "", 0, 0},
		{"text.txt", ErrImageFormat, "", 0, 0},
		{"truncated.jpg", ErrImageCorrupt, "", 0, 0},
		{"one-pixel.png", ErrImageDimensions, "", 0, 0},
		{"png-bomb-20000x20000.png", ErrImageDimensions, "", 0, 0},
		{"gif-bomb-65535x65535.gif", ErrImageDimensions, "", 0, 0},
		{"bmp-huge-50000x50000.bmp", ErrImageDimensions, "", 0, 0},
		{"webp-bomb-16384x16384.webp", ErrImageDimensions, "", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			img, err := Decode(readFixture(t, tt.file), DefaultLimits())
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Decode error = %v, want %v", err, tt.wantErr)
				}
				if img != nil {
					t.Errorf("Decode returned an image with error %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if img.Format != tt.format || img.Width != tt.width || img.Height != tt.height {
				t.Errorf("got %s %dx%d, want %s %dx%d", img.Format, img.Width, img.Height, tt.format, tt.width, tt.height)
			}
			if img.Stride != 3*img.Width || len(img.Pix) != img.Stride*img.Height {
				t.Errorf("stride %d, len(Pix) %d for %dx%d", img.Stride, len(img.Pix), img.Width, img.Height)
			}
		})
	}
}

func TestDecodeValidPixels(t *testing.T) {
	// Every lossless fixture must reproduce the source quadrants; JPEG within
	// tolerance.
	for _, f := range []string{"valid.jpg", "valid.png", "valid.gif", "valid.bmp", "valid.tiff"} {
		t.Run(f, func(t *testing.T) {
			img, err := Decode(readFixture(t, f), DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			checkQuadrants(t, img, red, green, blue, white)
		})
	}
	t.Run("valid.webp", func(t *testing.T) {
		img, err := Decode(readFixture(t, "valid.webp"), DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		checkQuadrants(t, img, green, green, green, green)
	})
}

func TestDecodeLimits(t *testing.T) {
	jpg := craft.JPEG(craft.Quadrants(64, 48, red, green, blue, white))
	tests := []struct {
		name    string
		data    []byte
		lim     Limits
		wantErr error
	}{
		{"Accepted", jpg, DefaultLimits(), nil},
		{"TooManyBytes", jpg, Limits{MaxBytes: int64(len(jpg)) - 1}, ErrImageTooLarge},
		{"ExactlyMaxBytes", jpg, Limits{MaxBytes: int64(len(jpg))}, nil},
		{"SideTooSmall", jpg, Limits{MinSide: 49}, ErrImageDimensions},
		{"SideTooLarge", jpg, Limits{MaxSide: 63}, ErrImageDimensions},
		{"SideAtMax", jpg, Limits{MaxSide: 64}, nil},
		{"TooManyPixels", jpg, Limits{MaxPixels: 64*48 - 1}, ErrImageDimensions},
		{"PixelsAtMax", jpg, Limits{MaxPixels: 64 * 48}, nil},
		{"PNGBombWithinSideLimit", craft.PNGHeader(9000, 9000), DefaultLimits(), ErrImageDimensions},
		{"PNGHeaderPassesButDataTruncated", craft.PNGHeader(100, 100), DefaultLimits(), ErrImageCorrupt},
		{"GIFHeaderPassesButDataTruncated", craft.GIFHeader(100, 100), DefaultLimits(), ErrImageCorrupt},
		{"BMPNegativeDimensions", craft.BMPHeader(-5, -5), DefaultLimits(), ErrImageCorrupt},
		{"WebPBombAtVP8LMaximum", craft.VP8L(16384, 16384, red), Limits{MaxSide: 20000, MaxPixels: 40e6}, ErrImageDimensions},
		{"UnknownMagic", []byte("\x00\x00\x01\x00 icon"), DefaultLimits(), ErrImageFormat},
		{"OnlyJPEGMagic", []byte{0xFF, 0xD8, 0xFF}, DefaultLimits(), ErrImageCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Decode(tt.data, tt.lim)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Decode error = %v, want %v", err, tt.wantErr)
			}
			if err == nil && (img.Width != 64 || img.Height != 48) {
				t.Errorf("decoded %dx%d, want 64x48", img.Width, img.Height)
			}
		})
	}
}

// TestDecodeExifOrientation builds, for every EXIF orientation, the stored
// image a camera would write for an upright picture and checks that Decode
// returns the upright picture. The stored layout comes straight from the
// EXIF definition ("the 0th row is the visual <side>, the 0th column is the
// visual <side>"), independent of the transform code under test.
func TestDecodeExifOrientation(t *testing.T) {
	// The upright picture: 48×32 with these corner colours.
	corner := map[[2]string]color.RGBA{
		{"top", "left"}: red, {"top", "right"}: green,
		{"bottom", "left"}: blue, {"bottom", "right"}: white,
	}
	opposite := map[string]string{"top": "bottom", "bottom": "top", "left": "right", "right": "left"}
	at := func(a, b string) color.RGBA {
		if c, ok := corner[[2]string{a, b}]; ok {
			return c
		}
		return corner[[2]string{b, a}]
	}
	tests := []struct {
		orientation uint16
		row0, col0  string
		swapsSides  bool
	}{
		{1, "top", "left", false},
		{2, "top", "right", false},
		{3, "bottom", "right", false},
		{4, "bottom", "left", false},
		{5, "left", "top", true},
		{6, "right", "top", true},
		{7, "right", "bottom", true},
		{8, "left", "bottom", true},
	}
	for _, tt := range tests {
		sw, sh := 48, 32
		if tt.swapsSides {
			sw, sh = 32, 48
		}
		stored := craft.Quadrants(sw, sh,
			at(tt.row0, tt.col0), at(tt.row0, opposite[tt.col0]),
			at(opposite[tt.row0], tt.col0), at(opposite[tt.row0], opposite[tt.col0]))

		check := func(t *testing.T, data []byte) {
			img, err := Decode(data, DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			if img.Orientation != int(tt.orientation) {
				t.Errorf("Orientation = %d, want %d", img.Orientation, tt.orientation)
			}
			if img.Width != 48 || img.Height != 32 {
				t.Fatalf("upright size %dx%d, want 48x32", img.Width, img.Height)
			}
			checkQuadrants(t, img, red, green, blue, white)
		}
		t.Run("JPEG/"+string(rune('0'+tt.orientation)), func(t *testing.T) {
			check(t, craft.WithExifOrientation(craft.JPEG(stored), tt.orientation))
		})
		t.Run("PNG/"+string(rune('0'+tt.orientation)), func(t *testing.T) {
			var b bytes.Buffer
			if err := png.Encode(&b, stored); err != nil {
				t.Fatal(err)
			}
			check(t, craft.WithPNGExif(b.Bytes(), tt.orientation))
		})
	}
}

func TestTIFFOrientation(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want int
	}{
		{"LittleEndian", craft.ExifTIFF("II", 6), 6},
		{"BigEndian", craft.ExifTIFF("MM", 8), 8},
		{"OutOfRangeIsIgnored", craft.ExifTIFF("II", 9), 1},
		{"ZeroIsIgnored", craft.ExifTIFF("MM", 0), 1},
		{"TruncatedIFD", craft.ExifTIFF("II", 6)[:14], 1},
		{"BadMagic", []byte("XX*\x00\x08\x00\x00\x00"), 1},
		{"Empty", nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tiffOrientation(tt.data); got != tt.want {
				t.Errorf("tiffOrientation = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestWebPExif(t *testing.T) {
	// A RIFF container with an unrelated chunk of odd size (padded) and then
	// an EXIF chunk with the JPEG-style prefix some writers keep.
	exif := append([]byte("Exif\x00\x00"), craft.ExifTIFF("II", 3)...)
	var b []byte
	b = append(b, "RIFF\x00\x00\x00\x00WEBP"...)
	b = append(b, "ICCP\x03\x00\x00\x00abc\x00"...)
	b = append(b, "EXIF"...)
	b = append(b, byte(len(exif)), 0, 0, 0)
	b = append(b, exif...)
	if got := orientation(FormatWebP, b); got != 3 {
		t.Errorf("orientation = %d, want 3", got)
	}
}

func TestJPEGExifIgnoresBrokenSegments(t *testing.T) {
	jpg := craft.JPEG(craft.Quadrants(16, 16, red, green, blue, white))
	// An APP1 whose length runs past the end of the file must be ignored,
	// not trusted.
	broken := append([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xF0}, "Exif\x00\x00"...)
	if got := orientation(FormatJPEG, broken); got != 1 {
		t.Errorf("orientation of broken APP1 = %d, want 1", got)
	}
	if got := orientation(FormatJPEG, jpg); got != 1 {
		t.Errorf("orientation without EXIF = %d, want 1", got)
	}
}

func TestRotate(t *testing.T) {
	src := NewImage(4, 2)
	// Upright: red at (0,0), green at (3,0), blue at (0,1), white at (3,1).
	src.SetRGB(0, 0, red.R, red.G, red.B)
	src.SetRGB(3, 0, green.R, green.G, green.B)
	src.SetRGB(0, 1, blue.R, blue.G, blue.B)
	src.SetRGB(3, 1, white.R, white.G, white.B)
	type px struct {
		x, y int
		c    color.RGBA
	}
	tests := []struct {
		name    string
		degrees int
		w, h    int
		want    []px
	}{
		{"Zero", 0, 4, 2, []px{{0, 0, red}, {3, 0, green}, {0, 1, blue}, {3, 1, white}}},
		// Clockwise: the left column becomes the top row.
		{"Clockwise90", 90, 2, 4, []px{{1, 0, red}, {1, 3, green}, {0, 0, blue}, {0, 3, white}}},
		{"Half", 180, 4, 2, []px{{3, 1, red}, {0, 1, green}, {3, 0, blue}, {0, 0, white}}},
		{"Clockwise270", 270, 2, 4, []px{{0, 3, red}, {0, 0, green}, {1, 3, blue}, {1, 0, white}}},
		{"NegativeIsCounterClockwise", -90, 2, 4, []px{{0, 3, red}, {0, 0, green}, {1, 3, blue}, {1, 0, white}}},
		{"FullTurn", 720, 4, 2, []px{{0, 0, red}, {3, 0, green}, {0, 1, blue}, {3, 1, white}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Rotate(src, tt.degrees)
			if got.Width != tt.w || got.Height != tt.h {
				t.Fatalf("size %dx%d, want %dx%d", got.Width, got.Height, tt.w, tt.h)
			}
			for _, p := range tt.want {
				if r, g, b := got.RGBAt(p.x, p.y); r != p.c.R || g != p.c.G || b != p.c.B {
					t.Errorf("(%d,%d) = (%d,%d,%d), want %v", p.x, p.y, r, g, b, p.c)
				}
			}
		})
	}
	t.Run("DoesNotAlias", func(t *testing.T) {
		got := Rotate(src, 0)
		got.SetRGB(0, 0, 1, 2, 3)
		if r, _, _ := src.RGBAt(0, 0); r != red.R {
			t.Error("Rotate(0) shares pixels with its input")
		}
	})
	t.Run("NotRightAnglePanics", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("Rotate(45) did not panic")
			}
		}()
		Rotate(src, 45)
	})
}

func TestImageInterfaces(t *testing.T) {
	m := toRGB(craft.Quadrants(10, 10, red, green, blue, white), 10, 10)
	// image.Image lets std draw read it.
	dst := image.NewRGBA(m.Bounds())
	draw.Draw(dst, dst.Bounds(), m, image.Point{}, draw.Src)
	if got := dst.RGBAAt(9, 0); got != green {
		t.Errorf("draw copied %v at (9,0), want %v", got, green)
	}
	if got := m.At(10, 0); got != (color.RGBA{}) {
		t.Errorf("At outside bounds = %v, want transparent", got)
	}
	g := m.ToGray()
	want := color.GrayModel.Convert(red).(color.Gray).Y
	if got := g.GrayAt(0, 0).Y; got != want {
		t.Errorf("gray of red = %d, want %d (color.GrayModel)", got, want)
	}
}

func TestToRGBComposesAlphaOverWhite(t *testing.T) {
	n := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	n.SetNRGBA(0, 0, color.NRGBA{0, 0, 0, 0})     // fully transparent black
	n.SetNRGBA(1, 0, color.NRGBA{0, 0, 255, 255}) // opaque blue
	m := toRGB(n, 2, 1)
	if r, g, b := m.RGBAt(0, 0); r != 255 || g != 255 || b != 255 {
		t.Errorf("transparent pixel = (%d,%d,%d), want white", r, g, b)
	}
	if r, g, b := m.RGBAt(1, 0); r != 0 || g != 0 || b != 255 {
		t.Errorf("opaque pixel = (%d,%d,%d), want blue", r, g, b)
	}
}

// testdataDir returns the shared photo directory, or "" if it is absent.
func testdataDir() string {
	if d := os.Getenv("FACEKIT_TESTDATA"); d != "" {
		return d
	}
	d := "../../../shared/testdata"
	if _, err := os.Stat(d); err != nil {
		return ""
	}
	return d
}

func BenchmarkDecodeJPEG640x480(b *testing.B) {
	dir := testdataDir()
	if dir == "" {
		missing.Data(b, missing.TestData, "shared test photos not present")
	}
	raw, err := os.ReadFile(filepath.Join(dir, "faces", "jimin.jpg"))
	if err != nil {
		missing.Data(b, missing.TestData, "%v", err)
	}
	photo, err := jpeg.Decode(bytes.NewReader(raw))
	if err != nil {
		b.Fatal(err)
	}
	small := image.NewRGBA(image.Rect(0, 0, 640, 480))
	xdraw.ApproxBiLinear.Scale(small, small.Bounds(), photo, photo.Bounds(), xdraw.Src, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, small, &jpeg.Options{Quality: 90}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	lim := DefaultLimits()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data, lim); err != nil {
			b.Fatal(err)
		}
	}
}

func TestToRGBFastPathsMatchGeneric(t *testing.T) {
	// The format-specific loops must agree with the generic At() path.
	n := image.NewNRGBA(image.Rect(0, 0, 16, 3))
	r := image.NewRGBA(image.Rect(0, 0, 16, 3))
	for x := 0; x < 16; x++ {
		for y := 0; y < 3; y++ {
			c := color.NRGBA{uint8(x * 16), uint8(y * 100), uint8(255 - x*16), uint8(x*17 + y)}
			n.SetNRGBA(x, y, c)
			r.Set(x, y, c)
		}
	}
	for _, src := range []image.Image{n, r} {
		fast := toRGB(src, 16, 3)
		slow := toRGB(struct{ image.Image }{src}, 16, 3) // hides the concrete type
		for i := range fast.Pix {
			if d := int(fast.Pix[i]) - int(slow.Pix[i]); d < -1 || d > 1 {
				t.Fatalf("%T: byte %d fast %d, generic %d", src, i, fast.Pix[i], slow.Pix[i])
			}
		}
	}
}

func TestDecodeGIFFirstFrameOnLogicalScreen(t *testing.T) {
	// A 20×20 screen whose first frame covers only (5,5)-(15,15), followed by
	// a second full frame that must be ignored.
	pal := color.Palette{color.Black, red, green}
	f1 := image.NewPaletted(image.Rect(5, 5, 15, 15), pal)
	for i := range f1.Pix {
		f1.Pix[i] = 1
	}
	f2 := image.NewPaletted(image.Rect(0, 0, 20, 20), pal)
	for i := range f2.Pix {
		f2.Pix[i] = 2
	}
	var b bytes.Buffer
	err := gif.EncodeAll(&b, &gif.GIF{
		Image: []*image.Paletted{f1, f2}, Delay: []int{0, 0},
		Config: image.Config{ColorModel: pal, Width: 20, Height: 20},
	})
	if err != nil {
		t.Fatal(err)
	}
	img, err := Decode(b.Bytes(), DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if img.Width != 20 || img.Height != 20 {
		t.Fatalf("size %dx%d, want the 20x20 logical screen", img.Width, img.Height)
	}
	if r, g, bb := img.RGBAt(10, 10); !near(r, g, bb, red) {
		t.Errorf("inside the first frame: (%d,%d,%d), want red", r, g, bb)
	}
	if r, g, bb := img.RGBAt(1, 1); r != 255 || g != 255 || bb != 255 {
		t.Errorf("outside the first frame: (%d,%d,%d), want white", r, g, bb)
	}
}

func TestYCbCrRowWalkMatchesPerPixel(t *testing.T) {
	// The row walk must give exactly color.YCbCrToRGB's bytes for every
	// subsampling a JPEG can have, on odd sizes and on a sub-rectangle.
	rnd := rand.New(rand.NewPCG(3, 4))
	ratios := []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	}
	for _, ratio := range ratios {
		for _, rect := range []image.Rectangle{image.Rect(0, 0, 37, 23), image.Rect(0, 0, 1, 1), image.Rect(0, 0, 64, 8)} {
			t.Run(fmt.Sprintf("%v/%v", ratio, rect.Size()), func(t *testing.T) {
				src := image.NewYCbCr(rect, ratio)
				for _, p := range [][]byte{src.Y, src.Cb, src.Cr} {
					for i := range p {
						p[i] = byte(rnd.IntN(256))
					}
				}
				// Extremes that saturate every channel.
				src.Y[0], src.Cb[0], src.Cr[0] = 255, 255, 255
				for _, r := range []image.Rectangle{rect, image.Rect(1, 1, rect.Dx()-1, rect.Dy()-1)} {
					fast, want := NewImage(rect.Dx(), rect.Dy()), NewImage(rect.Dx(), rect.Dy())
					if !ycbcrToRGB(fast, src, r) {
						t.Fatalf("no row walk for %v", ratio)
					}
					ycbcrToRGBGeneric(want, src, r)
					if !bytes.Equal(fast.Pix, want.Pix) {
						t.Fatalf("row walk differs from color.YCbCrToRGB on %v", r)
					}
				}
			})
		}
	}
}

// TestDecodeTruncatedJPEG cuts a JPEG at several points: every cut is
// ErrImageCorrupt (the header still parses, so the size gate passes and the
// decoder itself must notice), never a partly grey image.
func TestDecodeTruncatedJPEG(t *testing.T) {
	m := image.NewRGBA(image.Rect(0, 0, 320, 240))
	r := rand.New(rand.NewPCG(5, 6))
	for i := range m.Pix {
		m.Pix[i] = byte(r.IntN(256))
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	for _, frac := range []float64{0.2, 0.5, 0.9, 0.999} {
		t.Run(fmt.Sprint(frac), func(t *testing.T) {
			cut := data[:int(float64(len(data))*frac)]
			img, err := Decode(cut, DefaultLimits())
			if !errors.Is(err, ErrImageCorrupt) {
				t.Fatalf("got image %v, error %v; want ErrImageCorrupt", img != nil, err)
			}
		})
	}
	if _, err := Decode(data, DefaultLimits()); err != nil {
		t.Fatalf("whole file: %v", err)
	}
}
