package imageio

import (
	"bytes"
	"encoding/binary"
)

// tagOrientation is the EXIF/TIFF Orientation tag in IFD0.
const tagOrientation = 0x0112

// orientation returns the EXIF orientation (1..8) stored in an encoded image
// of the given format, or 1 when there is none or it is malformed. A broken
// EXIF block is not a reason to refuse a photo whose pixels decode fine.
func orientation(format string, data []byte) int {
	var tiffData []byte
	switch format {
	case FormatJPEG:
		tiffData = jpegExif(data)
	case FormatTIFF:
		tiffData = data
	case FormatPNG:
		tiffData = pngExif(data)
	case FormatWebP:
		tiffData = webpExif(data)
	}
	if tiffData == nil {
		return 1
	}
	return tiffOrientation(tiffData)
}

// jpegExif returns the TIFF structure inside a JPEG's APP1 "Exif" segment.
// It walks the marker segments up to the start of scan, where the metadata
// ends.
func jpegExif(data []byte) []byte {
	i := 2 // after SOI
	for i+4 <= len(data) {
		if data[i] != 0xFF {
			return nil
		}
		marker := data[i+1]
		switch {
		case marker == 0xFF: // fill byte before a marker
			i++
			continue
		case marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8): // no length field
			i += 2
			continue
		case marker == 0xDA || marker == 0xD9: // start of scan / end of image
			return nil
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return nil
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return seg[6:]
		}
		i += 2 + n
	}
	return nil
}

// pngExif returns the payload of a PNG eXIf chunk (a TIFF structure).
func pngExif(data []byte) []byte {
	i := 8 // after the signature
	for i+8 <= len(data) {
		n := int(binary.BigEndian.Uint32(data[i:]))
		typ := string(data[i+4 : i+8])
		if n < 0 || n > len(data)-i-12 {
			return nil
		}
		if typ == "eXIf" {
			return data[i+8 : i+8+n]
		}
		if typ == "IEND" {
			return nil
		}
		i += 12 + n // length, type, data, CRC
	}
	return nil
}

// webpExif returns the payload of a WebP EXIF chunk. Some writers keep the
// JPEG-style "Exif\0\0" prefix, so it is dropped when present.
func webpExif(data []byte) []byte {
	i := 12 // after "RIFF" size "WEBP"
	for i+8 <= len(data) {
		n := int(binary.LittleEndian.Uint32(data[i+4:]))
		if n < 0 || n > len(data)-i-8 {
			return nil
		}
		if string(data[i:i+4]) == "EXIF" {
			return bytes.TrimPrefix(data[i+8:i+8+n], []byte("Exif\x00\x00"))
		}
		i += 8 + n + n&1 // chunks are padded to an even size
	}
	return nil
}

// tiffOrientation reads the Orientation tag from IFD0 of a TIFF structure
// (the layout EXIF uses too). It returns 1 when the tag is absent or invalid.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	ifd := int64(bo.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > int64(len(t)) {
		return 1
	}
	count := int64(bo.Uint16(t[ifd:]))
	for k := int64(0); k < count; k++ {
		e := ifd + 2 + 12*k
		if e+12 > int64(len(t)) {
			return 1
		}
		if bo.Uint16(t[e:]) != tagOrientation {
			continue
		}
		// SHORT (type 3), one value, stored left-justified in the value
		// field.
		if bo.Uint16(t[e+2:]) != 3 || bo.Uint32(t[e+4:]) != 1 {
			return 1
		}
		o := int(bo.Uint16(t[e+8:]))
		if o < 1 || o > 8 {
			return 1
		}
		return o
	}
	return 1
}
