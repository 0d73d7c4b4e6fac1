// Package blob encodes the binary columns the library backends share:
// descriptor vectors and source-crop landmarks as little-endian float32.
// Both backends use one layout so that `facekit export`/`import` and the
// backends agree byte for byte.
package blob

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/facekit/facekit/store"
)

// EncodeVector stores v as little-endian float32, the layout of the
// vector columns.
func EncodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

// DecodeVector appends the floats of b to dst.
func DecodeVector(dst []float32, b []byte) ([]float32, error) {
	if len(b)%4 != 0 || len(b) == 0 {
		return dst, fmt.Errorf("vector blob of %d bytes is not float32s", len(b))
	}
	for i := 0; i+4 <= len(b); i += 4 {
		dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(b[i:])))
	}
	return dst, nil
}

// EncodeSource returns the column values of a source crop: the JPEG and
// the landmarks as little-endian float32 x,y pairs; nils (NULLs) for nil.
func EncodeSource(src *store.SourceCrop) (crop, marks []byte, err error) {
	if src == nil {
		return nil, nil, nil
	}
	if len(src.JPEG) == 0 || len(src.Landmarks) == 0 {
		return nil, nil, errors.New("source crop without pixels or landmarks")
	}
	flat := make([]float32, 0, 2*len(src.Landmarks))
	for _, p := range src.Landmarks {
		flat = append(flat, p[0], p[1])
	}
	return src.JPEG, EncodeVector(flat), nil
}

// DecodeSource is the inverse of EncodeSource; nil for NULL columns.
func DecodeSource(crop, marks []byte) (*store.SourceCrop, error) {
	if crop == nil {
		return nil, nil
	}
	flat, err := DecodeVector(nil, marks)
	if err != nil || len(flat)%2 != 0 {
		return nil, fmt.Errorf("landmarks blob of %d bytes is not x,y float32 pairs", len(marks))
	}
	src := &store.SourceCrop{JPEG: crop, Landmarks: make([][2]float32, len(flat)/2)}
	for i := range src.Landmarks {
		src.Landmarks[i] = [2]float32{flat[2*i], flat[2*i+1]}
	}
	return src, nil
}
