// Package turbojpeg decodes JPEG with libjpeg-turbo (Debian
// libturbojpeg0-dev) into packed 8-bit RGB.
//
// It exists for two reasons, both measured: libjpeg-turbo's SIMD decoder is
// about twice as fast as Go's image/jpeg, and it produces libjpeg's pixels
// (accurate integer IDCT, "fancy" chroma upsampling), which are the pixels
// dlib's own load_image and face_recognition see; image/jpeg's differ by a
// few levels and move landmarks by pixels.
//
// The package only decodes: callers (package imageio) check the byte size,
// the magic bytes and the header's dimensions before calling it. Decode
// still refuses a header larger than the caller allows, so that no pixel
// buffer is ever sized by untrusted data alone. libjpeg warnings (truncated
// data, corrupt entropy segments) are errors here, like in image/jpeg.
package turbojpeg

/*
#cgo pkg-config: libturbojpeg
#include <stdio.h>
#include <stdlib.h>
#include <turbojpeg.h>

// fk_tj_decode decodes buf into a caller-owned w*h*3 RGB buffer after
// checking that the header's size is exactly w x h. It returns 0, or -1
// with the library's message in msg.
static int fk_tj_decode(const unsigned char *buf, unsigned long n, int w, int h, int *cs,
                        unsigned char *dst, char *msg, int msglen) {
	tjhandle t = tjInitDecompress();
	if (!t) {
		snprintf(msg, msglen, "%s", tjGetErrorStr2(NULL));
		return -1;
	}
	int hw = 0, hh = 0, sub = 0;
	int rc = tjDecompressHeader3(t, buf, n, &hw, &hh, &sub, cs);
	if (rc == 0 && (hw != w || hh != h)) {
		snprintf(msg, msglen, "header says %dx%d, expected %dx%d", hw, hh, w, h);
		rc = -1;
	} else if (rc == 0 && (*cs == TJCS_CMYK || *cs == TJCS_YCCK)) {
		snprintf(msg, msglen, "CMYK JPEG");
		rc = -2;
	} else if (rc == 0) {
		rc = tjDecompress2(t, buf, n, dst, w, w * 3, h, TJPF_RGB,
		                   TJFLAG_ACCURATEDCT | TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS);
		if (rc != 0) snprintf(msg, msglen, "%s", tjGetErrorStr2(t));
	} else {
		snprintf(msg, msglen, "%s", tjGetErrorStr2(t));
	}
	tjDestroy(t);
	return rc;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// ErrCorrupt means libjpeg-turbo could not decode the data, or reported a
// warning (truncation, corrupt data) while decoding it.
var ErrCorrupt = errors.New("turbojpeg: corrupt JPEG")

// ErrCMYK means the JPEG is CMYK or YCCK, which libjpeg-turbo cannot convert
// to RGB; decode it some other way.
var ErrCMYK = errors.New("turbojpeg: CMYK JPEG")

// Decode decodes a JPEG whose header the caller has already read and
// accepted as width×height, returning packed RGB rows of 3*width bytes. A
// header that disagrees with width×height is an error, so the buffer's size
// is always the one the caller checked.
func Decode(data []byte, width, height int) ([]byte, error) {
	if len(data) == 0 || width <= 0 || height <= 0 {
		return nil, fmt.Errorf("%w: empty input or size %dx%d", ErrCorrupt, width, height)
	}
	if int64(width)*int64(height) > 1<<31/3 {
		return nil, fmt.Errorf("%w: %dx%d is too large to decode", ErrCorrupt, width, height)
	}
	pix := make([]byte, width*height*3)
	var cs C.int
	msg := make([]byte, 256)
	// Both buffers hold no Go pointers, so C may use them for the call.
	rc := C.fk_tj_decode((*C.uchar)(unsafe.Pointer(&data[0])), C.ulong(len(data)), C.int(width), C.int(height), &cs,
		(*C.uchar)(unsafe.Pointer(&pix[0])), (*C.char)(unsafe.Pointer(&msg[0])), C.int(len(msg)))
	switch rc {
	case 0:
		return pix, nil
	case -2:
		return nil, ErrCMYK
	}
	return nil, fmt.Errorf("%w: %s", ErrCorrupt, C.GoString((*C.char)(unsafe.Pointer(&msg[0]))))
}
