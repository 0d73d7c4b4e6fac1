package tfgraph

import (
	"encoding/binary"
	"fmt"
	"math"
)

// decodeWeights splits the concatenated weight bytes of every manifest group
// into named tensors. readPath returns the bytes of one shard file; a group's
// shards are concatenated in order before slicing, as tfjs writes them.
func decodeWeights(groups []manifestGroup, readPath func(string) ([]byte, error)) (map[string]*value, error) {
	out := make(map[string]*value)
	for _, g := range groups {
		var buf []byte
		for _, p := range g.Paths {
			b, err := readPath(p)
			if err != nil {
				return nil, fmt.Errorf("read weights shard %q: %w", p, err)
			}
			buf = append(buf, b...)
		}
		off := 0
		for _, w := range g.Weights {
			v, n, err := decodeWeight(w, buf[off:])
			if err != nil {
				return nil, fmt.Errorf("%w: weight %q: %v", ErrFormat, w.Name, err)
			}
			off += n
			out[w.Name] = v
		}
		if off != len(buf) {
			return nil, fmt.Errorf("%w: weights use %d bytes but shards %v hold %d", ErrFormat, off, g.Paths, len(buf))
		}
	}
	return out, nil
}

// decodeWeight decodes one weight from the front of b and reports how many
// bytes it used. Quantized weights are expanded to float32 here, once, so
// kernels only ever see float32 or int32.
func decodeWeight(w weightJSON, b []byte) (*value, int, error) {
	n, err := checkedElements(w.Shape)
	if err != nil {
		return nil, 0, err
	}
	shape := append([]int{}, w.Shape...)
	isInt := false
	switch w.Dtype {
	case "float32":
	case "int32":
		isInt = true
	default:
		return nil, 0, fmt.Errorf("unsupported dtype %q", w.Dtype)
	}

	var f []float32
	var used int
	if q := w.Quantization; q != nil {
		f, used, err = dequantize(q, b, n)
		if err != nil {
			return nil, 0, err
		}
	} else {
		used = 4 * n
		if len(b) < used {
			return nil, 0, fmt.Errorf("needs %d bytes, %d left", used, len(b))
		}
		if isInt {
			d := make([]int32, n)
			for k := range d {
				d[k] = int32(binary.LittleEndian.Uint32(b[4*k:]))
			}
			return intValue(shape, d), used, nil
		}
		f = make([]float32, n)
		for k := range f {
			f[k] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*k:]))
		}
	}
	if isInt {
		// Quantized int weights round back to the nearest integer.
		d := make([]int32, n)
		for k, x := range f {
			d[k] = int32(math.Round(float64(x)))
		}
		return intValue(shape, d), used, nil
	}
	return floatValue(shape, f), used, nil
}

// dequantize expands n quantized values: affine uint8/uint16 (q*scale + min)
// or IEEE half floats.
func dequantize(q *quantizationJSON, b []byte, n int) ([]float32, int, error) {
	width := map[string]int{"uint8": 1, "uint16": 2, "float16": 2}[q.Dtype]
	if width == 0 {
		return nil, 0, fmt.Errorf("unsupported quantization dtype %q", q.Dtype)
	}
	// Check the length before allocating: a bogus shape must not cost memory.
	if len(b) < width*n {
		return nil, 0, fmt.Errorf("needs %d bytes, %d left", width*n, len(b))
	}
	out := make([]float32, n)
	switch q.Dtype {
	case "uint8", "uint16":
		if q.Scale == nil || q.Min == nil {
			return nil, 0, fmt.Errorf("%s quantization without scale/min", q.Dtype)
		}
		scale, min := float32(*q.Scale), float32(*q.Min)
		if q.Dtype == "uint8" {
			if len(b) < n {
				return nil, 0, fmt.Errorf("needs %d bytes, %d left", n, len(b))
			}
			for k := range out {
				out[k] = float32(b[k])*scale + min
			}
			return out, n, nil
		}
		if len(b) < 2*n {
			return nil, 0, fmt.Errorf("needs %d bytes, %d left", 2*n, len(b))
		}
		for k := range out {
			out[k] = float32(binary.LittleEndian.Uint16(b[2*k:]))*scale + min
		}
		return out, 2 * n, nil
	case "float16":
		if len(b) < 2*n {
			return nil, 0, fmt.Errorf("needs %d bytes, %d left", 2*n, len(b))
		}
		for k := range out {
			out[k] = halfToFloat(binary.LittleEndian.Uint16(b[2*k:]))
		}
		return out, 2 * n, nil
	default:
		return nil, 0, fmt.Errorf("unsupported quantization dtype %q", q.Dtype)
	}
}

// halfToFloat converts an IEEE 754 binary16 value, including subnormals,
// infinities and NaN.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0:
		// Subnormal half: value = mant * 2^-24.
		v := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	default:
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	}
}

// decodeInlineTensor decodes a Const node's attr.value.tensor: raw
// little-endian tensorContent, or floatVal/intVal lists where a single value
// fills the whole shape (TF's splat convention).
func decodeInlineTensor(t *tensorJSON) (*value, error) {
	shape := t.TensorShape.dims()
	if shape == nil {
		shape = []int{}
	}
	n, err := checkedElements(shape)
	if err != nil {
		return nil, err
	}
	if len(t.TensorContent) > 0 && len(t.TensorContent) != 4*n {
		return nil, fmt.Errorf("tensorContent has %d bytes, shape %v needs %d", len(t.TensorContent), shape, 4*n)
	}
	switch t.Dtype {
	case "DT_FLOAT":
		f := make([]float32, n)
		switch {
		case len(t.TensorContent) > 0:
			if len(t.TensorContent) != 4*n {
				return nil, fmt.Errorf("tensorContent has %d bytes, shape %v needs %d", len(t.TensorContent), shape, 4*n)
			}
			for k := range f {
				f[k] = math.Float32frombits(binary.LittleEndian.Uint32(t.TensorContent[4*k:]))
			}
		case len(t.FloatVal) > 0:
			if err := splat(len(t.FloatVal), n, func(dst, src int) { f[dst] = float32(t.FloatVal[src]) }); err != nil {
				return nil, err
			}
		}
		return floatValue(shape, f), nil
	case "DT_INT32":
		d := make([]int32, n)
		switch {
		case len(t.TensorContent) > 0:
			if len(t.TensorContent) != 4*n {
				return nil, fmt.Errorf("tensorContent has %d bytes, shape %v needs %d", len(t.TensorContent), shape, 4*n)
			}
			for k := range d {
				d[k] = int32(binary.LittleEndian.Uint32(t.TensorContent[4*k:]))
			}
		case len(t.IntVal) > 0:
			if err := splat(len(t.IntVal), n, func(dst, src int) { d[dst] = int32(t.IntVal[src]) }); err != nil {
				return nil, err
			}
		}
		return intValue(shape, d), nil
	default:
		return nil, fmt.Errorf("unsupported inline tensor dtype %q", t.Dtype)
	}
}

// maxElements caps one constant at 256 MiB of float32: far above any face
// model (the largest weight in the mirror has 1M elements), low enough that
// a corrupt shape fails cleanly instead of exhausting memory.
const maxElements = 1 << 26

// checkedElements is numElements for shapes read from a file: no negative
// dimensions and no product beyond maxElements (checked per step, so it
// cannot overflow).
func checkedElements(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d > 0 && n > maxElements/d {
			return 0, fmt.Errorf("shape %v exceeds %d elements", shape, maxElements)
		}
		n *= d
	}
	return n, nil
}

// splat copies have values into n slots; a shorter list repeats its last
// value, as TensorProto does.
func splat(have, n int, set func(dst, src int)) error {
	if have > n {
		return fmt.Errorf("%d values for %d elements", have, n)
	}
	for k := 0; k < n; k++ {
		src := k
		if src >= have {
			src = have - 1
		}
		set(k, src)
	}
	return nil
}
