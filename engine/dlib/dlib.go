// Package dlib is facekit's cgo boundary over dlib: HOG and MMOD CNN face
// detection, the 68-point shape predictor, aligned chips and the ResNet face
// descriptor. It is the only package that imports "C"; above it code sees
// image.Rectangle, []image.Point, [128]float32 and Go errors.
//
// An *Instance holds dlib networks, which are not re-entrant: an Instance
// must be used by one goroutine at a time (package engine pools them).
// *Models is read-only after loading and may be shared by many Instances.
package dlib

/*
#cgo CXXFLAGS: -std=c++14 -O3 -DNDEBUG -DDLIB_NO_GUI_SUPPORT -Wno-deprecated-declarations
#cgo pkg-config: dlib-1
#include <stdlib.h>
#include "facekit.h"
#ifdef __GLIBC__
#include <malloc.h>
#endif

// fk_trim returns the free pages of every malloc arena to the OS; 0 where
// the C library has no malloc_trim.
static int fk_trim(void) {
#ifdef __GLIBC__
	return malloc_trim(0);
#else
	return 0;
#endif
}
*/
import "C"

import (
	"errors"
	"fmt"
	"image"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Errors returned by the native core.
var (
	ErrModel    = errors.New("dlib: model file unreadable or invalid")
	ErrArgument = errors.New("dlib: invalid argument")
	ErrInternal = errors.New("dlib: native error")
	ErrNoMemory = errors.New("dlib: out of memory")
	ErrClosed   = errors.New("dlib: handle is closed")
)

// DetectorKind selects the face detector.
type DetectorKind int

// The detectors dlib offers.
const (
	HOG DetectorKind = 0
	CNN DetectorKind = 1
)

// liveHandles counts native handles not yet closed; tests assert it returns
// to zero.
var liveHandles atomic.Int64

// LiveHandles reports how many native handles are open.
func LiveHandles() int64 { return liveHandles.Load() }

func init() { C.fk_init_threads() }

// TrimMemory hands the C heap's free pages back to the OS (glibc's
// malloc_trim). glibc keeps freed memory in its per-thread arenas, so after
// dlib and OpenCV worked on large images the process's RSS stays up to
// about a hundred MB above its baseline until this is called. It reports
// whether any memory was released. Safe for concurrent use; it only takes
// the arenas' locks.
func TrimMemory() bool { return C.fk_trim() != 0 }

// statusErr maps a native status to a typed Go error.
func statusErr(op string, st *C.fk_status) error {
	msg := C.GoString(&st.msg[0])
	var base error
	switch st.code {
	case C.FK_OK:
		return nil
	case C.FK_ERR_MODEL:
		base = ErrModel
	case C.FK_ERR_ARG:
		base = ErrArgument
	case C.FK_ERR_NOMEM:
		base = ErrNoMemory
	default:
		base = ErrInternal
	}
	if msg == "" {
		return fmt.Errorf("%s: %w", op, base)
	}
	return fmt.Errorf("%s: %w: %s", op, base, msg)
}

// Models holds the read-only shape predictor shared by all instances.
// Safe for concurrent use. It is reference-counted: the owner holds one
// reference (dropped by Close) and every Instance made from it another
// (dropped by Instance.Close), and the native models are freed when the last
// is gone, so closing them before an instance that still uses them cannot
// free memory under it.
type Models struct {
	mu     sync.Mutex
	ptr    *C.fk_models
	refs   int
	closed bool
}

// LoadModels reads the 68-point shape predictor.
func LoadModels(shapePath string) (*Models, error) {
	cs := C.CString(shapePath)
	defer C.free(unsafe.Pointer(cs))
	var st C.fk_status
	p := C.fk_models_load(cs, &st)
	if p == nil {
		return nil, statusErr("load shape predictor "+shapePath, &st)
	}
	liveHandles.Add(1)
	return &Models{ptr: p, refs: 1}, nil
}

// Close drops the owner's reference; the models are freed once every
// instance made from them is closed too. No new instance can be made from
// closed models. Idempotent.
func (m *Models) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		m.releaseLocked()
	}
	return nil
}

// acquire takes a reference for a new instance.
func (m *Models) acquire() (*C.fk_models, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || m.ptr == nil {
		return nil, ErrClosed
	}
	m.refs++
	return m.ptr, nil
}

func (m *Models) release() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.releaseLocked()
}

func (m *Models) releaseLocked() {
	if m.refs--; m.refs == 0 && m.ptr != nil {
		C.fk_models_free(m.ptr)
		m.ptr = nil
		liveHandles.Add(-1)
	}
}

// Instance is one set of dlib networks (HOG detector, ResNet, optional MMOD
// CNN). Not safe for concurrent use.
type Instance struct {
	ptr    *C.fk_instance
	models *Models
	hasCNN bool
}

// NewInstance loads the networks. mmodPath may be "" (CNN detection then
// returns ErrModel).
func NewInstance(m *Models, resnetPath, mmodPath string) (*Instance, error) {
	if m == nil {
		return nil, fmt.Errorf("new instance: %w", ErrClosed)
	}
	mp, err := m.acquire()
	if err != nil {
		return nil, fmt.Errorf("new instance: %w", err)
	}
	cr := C.CString(resnetPath)
	defer C.free(unsafe.Pointer(cr))
	var cm *C.char
	if mmodPath != "" {
		cm = C.CString(mmodPath)
		defer C.free(unsafe.Pointer(cm))
	}
	var st C.fk_status
	p := C.fk_instance_new(mp, cr, cm, &st)
	if p == nil {
		m.release()
		return nil, statusErr("load networks", &st)
	}
	liveHandles.Add(1)
	return &Instance{ptr: p, models: m, hasCNN: mmodPath != ""}, nil
}

// Close frees the networks and drops the instance's reference to its
// models. Idempotent. Not safe to call while a method of in is running
// (the Engine's pool guarantees that by draining first).
func (in *Instance) Close() error {
	if in.ptr != nil {
		C.fk_instance_free(in.ptr)
		in.ptr = nil
		liveHandles.Add(-1)
		in.models.release()
	}
	return nil
}

// HasCNN reports whether the MMOD CNN detector was loaded.
func (in *Instance) HasCNN() bool { return in.hasCNN }

// RGB is a packed 3-bytes-per-pixel image handed to C without copying.
type RGB struct {
	Pix           []byte
	Width, Height int
	Stride        int
}

func (img *RGB) c() (C.fk_image, error) {
	if img == nil || img.Width <= 0 || img.Height <= 0 || img.Stride < img.Width*3 ||
		len(img.Pix) < (img.Height-1)*img.Stride+img.Width*3 {
		return C.fk_image{}, fmt.Errorf("image: %w: inconsistent RGB buffer", ErrArgument)
	}
	return C.fk_image{
		pix:    (*C.uint8_t)(unsafe.Pointer(&img.Pix[0])),
		width:  C.long(img.Width),
		height: C.long(img.Height),
		stride: C.long(img.Stride),
	}, nil
}

// Detection is one detector hit in input-image coordinates.
type Detection struct {
	Rect       image.Rectangle
	Confidence float64
}

// Upsample says how Detect enlarges the image before detecting, which finds
// faces smaller than the detectors' windows (80×80 px for HOG).
type Upsample struct {
	// Levels is the number of dlib pyramid_up steps (0–3); each makes a
	// w×h image (2w+1)×(2h+1).
	Levels int
	// Width and Height, when positive, resize the pyramid's result
	// bilinearly to exactly this size: a last step smaller than a doubling,
	// used where a doubling would exceed a size bound.
	Width, Height int
}

// Detect finds faces in img after enlarging it as up says; the boxes are in
// img's coordinates, mapped back the way dlib's Python binding maps them.
func (in *Instance) Detect(img *RGB, kind DetectorKind, up Upsample) ([]Detection, error) {
	if in.ptr == nil {
		return nil, fmt.Errorf("detect: %w", ErrClosed)
	}
	ci, err := img.c()
	if err != nil {
		return nil, err
	}
	var (
		st  C.fk_status
		out *C.fk_rect
		n   C.int
	)
	// The pinner keeps img.Pix in place while C holds a pointer into it.
	var pin runtime.Pinner
	pin.Pin(&img.Pix[0])
	defer pin.Unpin()
	if C.fk_detect(in.ptr, &ci, C.int(kind), C.int(up.Levels), C.long(up.Width), C.long(up.Height), &out, &n, &st) != C.FK_OK {
		return nil, statusErr("detect", &st)
	}
	if n == 0 {
		return nil, nil
	}
	defer C.fk_free(unsafe.Pointer(out))
	rects := unsafe.Slice(out, int(n))
	dets := make([]Detection, len(rects))
	for i, r := range rects {
		dets[i] = Detection{
			Rect:       image.Rect(int(r.left), int(r.top), int(r.right)+1, int(r.bottom)+1),
			Confidence: float64(r.confidence),
		}
	}
	return dets, nil
}

// Landmarks fits dlib's 68-point shape to each box.
func (in *Instance) Landmarks(img *RGB, boxes []image.Rectangle) ([][]image.Point, error) {
	if in.ptr == nil {
		return nil, fmt.Errorf("landmarks: %w", ErrClosed)
	}
	if len(boxes) == 0 {
		return nil, nil
	}
	ci, err := img.c()
	if err != nil {
		return nil, err
	}
	cb := make([]C.fk_rect, len(boxes))
	for i, b := range boxes {
		// dlib rectangles are inclusive on all sides.
		cb[i] = C.fk_rect{left: C.long(b.Min.X), top: C.long(b.Min.Y), right: C.long(b.Max.X - 1), bottom: C.long(b.Max.Y - 1)}
	}
	pts := make([]C.long, len(boxes)*68*2)
	var pin runtime.Pinner
	pin.Pin(&img.Pix[0])
	defer pin.Unpin()
	var st C.fk_status
	if C.fk_landmarks(in.ptr, &ci, &cb[0], C.int(len(boxes)), &pts[0], &st) != C.FK_OK {
		return nil, statusErr("landmarks", &st)
	}
	shapes := make([][]image.Point, len(boxes))
	for i := range shapes {
		s := make([]image.Point, 68)
		for p := range s {
			s[p] = image.Pt(int(pts[(i*68+p)*2]), int(pts[(i*68+p)*2+1]))
		}
		shapes[i] = s
	}
	return shapes, nil
}

func flattenShapes(shapes [][]image.Point) ([]C.long, error) {
	pts := make([]C.long, 0, len(shapes)*68*2)
	for i, s := range shapes {
		if len(s) != 68 {
			return nil, fmt.Errorf("shape %d: %w: want 68 points, have %d", i, ErrArgument, len(s))
		}
		for _, p := range s {
			pts = append(pts, C.long(p.X), C.long(p.Y))
		}
	}
	return pts, nil
}

// Describe computes the 128-d descriptor of each face from its 68-point
// shape, in one batched forward pass. jitter > 0 averages that many
// jittered copies per face (slower, slightly more accurate).
func (in *Instance) Describe(img *RGB, shapes [][]image.Point, jitter int) ([][128]float32, error) {
	if in.ptr == nil {
		return nil, fmt.Errorf("describe: %w", ErrClosed)
	}
	if len(shapes) == 0 {
		return nil, nil
	}
	ci, err := img.c()
	if err != nil {
		return nil, err
	}
	pts, err := flattenShapes(shapes)
	if err != nil {
		return nil, fmt.Errorf("describe: %w", err)
	}
	out := make([][128]float32, len(shapes))
	var pin runtime.Pinner
	pin.Pin(&img.Pix[0])
	pin.Pin(&out[0])
	defer pin.Unpin()
	var st C.fk_status
	if C.fk_describe(in.ptr, &ci, &pts[0], C.int(len(shapes)), C.int(jitter), (*C.float)(unsafe.Pointer(&out[0][0])), &st) != C.FK_OK {
		return nil, statusErr("describe", &st)
	}
	return out, nil
}

// Chip extracts the aligned size×size face chip (packed RGB) for a 68-point
// shape; size 150 and padding 0.25 give exactly what Describe sees.
func Chip(img *RGB, shape []image.Point, size int, padding float64) (*RGB, error) {
	ci, err := img.c()
	if err != nil {
		return nil, err
	}
	pts, err := flattenShapes([][]image.Point{shape})
	if err != nil {
		return nil, fmt.Errorf("chip: %w", err)
	}
	if size < 8 || size > 1024 {
		return nil, fmt.Errorf("chip: %w: size %d", ErrArgument, size)
	}
	out := &RGB{Pix: make([]byte, size*size*3), Width: size, Height: size, Stride: size * 3}
	var pin runtime.Pinner
	pin.Pin(&img.Pix[0])
	pin.Pin(&out.Pix[0])
	defer pin.Unpin()
	var st C.fk_status
	if C.fk_chip(&ci, &pts[0], C.int(size), C.double(padding), (*C.uint8_t)(unsafe.Pointer(&out.Pix[0])), &st) != C.FK_OK {
		return nil, statusErr("chip", &st)
	}
	return out, nil
}
