// Package craft builds small, deliberately odd image files for the intake
// tests and for the fixtures in testdata/intake: headers that declare huge
// dimensions, JPEGs with an injected EXIF orientation, and a hand-assembled
// lossless WebP (the Go libraries have no WebP encoder).
package craft

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
)

// Quadrants returns a w×h image whose four quadrants are painted tl, tr, bl
// and br. It is asymmetric under every rotation and mirror, so orientation
// handling can be checked by sampling the quadrant centres.
func Quadrants(w, h int, tl, tr, bl, br color.RGBA) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := tl
			switch {
			case x >= w/2 && y < h/2:
				c = tr
			case x < w/2 && y >= h/2:
				c = bl
			case x >= w/2 && y >= h/2:
				c = br
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

// JPEG encodes m at quality 95.
func JPEG(m image.Image) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 95}); err != nil {
		panic(err) // encoding an in-memory image cannot fail
	}
	return b.Bytes()
}

// ExifTIFF returns a minimal TIFF structure (the body of an EXIF block) whose
// IFD0 has a single Orientation tag, in the given byte order ("II" or "MM").
func ExifTIFF(order string, orientation uint16) []byte {
	var bo binary.ByteOrder = binary.LittleEndian
	if order == "MM" {
		bo = binary.BigEndian
	}
	t := make([]byte, 8+2+12+4)
	copy(t, order)
	bo.PutUint16(t[2:], 42)
	bo.PutUint32(t[4:], 8) // IFD0 right after the header
	bo.PutUint16(t[8:], 1) // one entry
	bo.PutUint16(t[10:], 0x0112)
	bo.PutUint16(t[12:], 3) // SHORT
	bo.PutUint32(t[14:], 1) // count
	bo.PutUint16(t[18:], orientation)
	// next-IFD offset stays 0
	return t
}

// WithExifOrientation inserts an APP1 Exif segment carrying orientation
// right after the SOI marker of a JPEG, where cameras put it.
func WithExifOrientation(jpg []byte, orientation uint16) []byte {
	body := append([]byte("Exif\x00\x00"), ExifTIFF("MM", orientation)...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(body)+2))
	seg = append(seg, body...)
	out := append([]byte(nil), jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// pngChunk returns one PNG chunk with its CRC.
func pngChunk(typ string, data []byte) []byte {
	c := make([]byte, 8, 12+len(data))
	binary.BigEndian.PutUint32(c, uint32(len(data)))
	copy(c[4:], typ)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// PNGHeader returns a well-formed PNG (valid signature, IHDR, CRCs) that
// declares a w×h 8-bit RGB image but carries only one compressed row. A
// decoder that trusts the header allocates w×h×3 bytes before noticing.
func PNGHeader(w, h uint32) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // bit depth 8, colour type RGB
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 1+3*min(w, 64))) // part of the first row only
	zw.Close()
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, pngChunk("IHDR", ihdr)...)
	out = append(out, pngChunk("IDAT", z.Bytes())...)
	return append(out, pngChunk("IEND", nil)...)
}

// WithPNGExif inserts an eXIf chunk carrying orientation after the IHDR
// chunk of a PNG.
func WithPNGExif(p []byte, orientation uint16) []byte {
	const afterIHDR = 8 + 12 + 13
	out := append([]byte(nil), p[:afterIHDR]...)
	out = append(out, pngChunk("eXIf", ExifTIFF("II", orientation))...)
	return append(out, p[afterIHDR:]...)
}

// GIFHeader returns a GIF whose logical screen is w×h and whose only frame
// fills it, with an image data block that ends after a few codes.
func GIFHeader(w, h uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	b = append(b, 0x80, 0, 0)             // global colour table of 2 entries
	b = append(b, 0, 0, 0, 255, 255, 255) // black, white
	b = append(b, 0x2C, 0, 0, 0, 0)       // image descriptor at (0, 0)
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	b = append(b, 0)                   // no local table, not interlaced
	b = append(b, 2, 2, 0x4C, 0x01, 0) // LZW min code size 2, tiny data
	return append(b, 0x3B)             // trailer
}

// BMPHeader returns a 24-bit BMP file header and info header that declare a
// w×h image, followed by one row of pixel data.
func BMPHeader(w, h int32) []byte {
	const hdr = 14 + 40
	b := []byte("BM")
	b = binary.LittleEndian.AppendUint32(b, uint32(hdr+3*64))
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, hdr) // pixel data offset
	b = binary.LittleEndian.AppendUint32(b, 40)  // BITMAPINFOHEADER
	b = binary.LittleEndian.AppendUint32(b, uint32(w))
	b = binary.LittleEndian.AppendUint32(b, uint32(h))
	b = binary.LittleEndian.AppendUint16(b, 1)  // planes
	b = binary.LittleEndian.AppendUint16(b, 24) // bits per pixel
	b = binary.LittleEndian.AppendUint32(b, 0)  // BI_RGB
	b = binary.LittleEndian.AppendUint32(b, 0)  // image size (may be 0)
	b = append(b, make([]byte, 16)...)          // resolution, palette sizes
	return append(b, make([]byte, 3*64)...)
}

// bitWriter packs bits least-significant first, as VP8L requires.
type bitWriter struct {
	buf  []byte
	acc  uint64
	nacc uint
}

func (w *bitWriter) write(v uint64, n uint) {
	w.acc |= v << w.nacc
	w.nacc += n
	for w.nacc >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.nacc -= 8
	}
}

func (w *bitWriter) bytes() []byte {
	if w.nacc > 0 {
		return append(w.buf, byte(w.acc))
	}
	return w.buf
}

// VP8L returns a lossless WebP file of a w×h image filled with one colour
// (w, h in 1..16384). Each of the five prefix codes is a "simple" code with a
// single symbol, which takes zero bits per pixel, so the whole image is a
// few header bytes. Declaring large dimensions makes a tiny header bomb that
// is nevertheless a complete, valid image.
func VP8L(w, h int, c color.RGBA) []byte {
	var bw bitWriter
	bw.write(0x2f, 8)
	bw.write(uint64(w-1), 14)
	bw.write(uint64(h-1), 14)
	bw.write(0, 1) // alpha hint
	bw.write(0, 3) // version
	bw.write(0, 1) // no transform
	bw.write(0, 1) // no colour cache
	bw.write(0, 1) // no meta prefix codes
	// green, red, blue, alpha, distance
	for _, sym := range []uint8{c.G, c.R, c.B, c.A, 0} {
		bw.write(1, 1) // simple code
		bw.write(0, 1) // one symbol
		bw.write(1, 1) // 8-bit symbol
		bw.write(uint64(sym), 8)
	}
	payload := bw.bytes()

	chunk := []byte("VP8L")
	chunk = binary.LittleEndian.AppendUint32(chunk, uint32(len(payload)))
	chunk = append(chunk, payload...)
	if len(payload)%2 == 1 {
		chunk = append(chunk, 0)
	}
	out := []byte("RIFF")
	out = binary.LittleEndian.AppendUint32(out, uint32(4+len(chunk)))
	out = append(out, "WEBP"...)
	return append(out, chunk...)
}

// Scene draws a w×h landscape with no face in it (sky, striped grass, a
// house, a sun): a photo-sized negative for "no face found" paths, where a
// face-free crop of a real photo cannot be committed and a tiny or flat
// image would be refused before detection runs.
func Scene(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	horizon := h * 2 / 3
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{uint8(90 + y*60/h), uint8(150 + y*50/h), 235, 255}
			if y >= horizon {
				c = color.RGBA{40, uint8(120 + (x/12+y/6)%2*20), 50, 255}
			}
			hx, hy := x-w*7/12, y-h/2 // house: body with a door, triangular roof
			bodyW, roofH := w/4, h/7
			switch {
			case hx >= 0 && hx < bodyW && hy >= 0 && hy < h/6:
				c = color.RGBA{180, 70, 50, 255}
				if hx >= bodyW*2/5 && hx < bodyW*3/5 && hy >= h/16 {
					c = color.RGBA{70, 40, 20, 255}
				}
			case hy < 0 && hy >= -roofH:
				inset := (roofH + hy) * bodyW / 2 / roofH // 0 at the apex, widest at the eaves
				if hx >= bodyW/2-inset-w/48 && hx < bodyW/2+inset+w/48 {
					c = color.RGBA{90, 50, 40, 255}
				}
			}
			if dx, dy := x-w*3/16, y-h/5; dx*dx+dy*dy < (h/10)*(h/10) { // sun
				c = color.RGBA{250, 220, 80, 255}
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}
