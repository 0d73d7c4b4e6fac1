package index

import (
	"math"
	"sort"
)

// Int8Matrix is an int8-quantised copy of a row-major float32 matrix: a
// quarter of the memory and of the bytes a scan streams. It is an
// experiment measured against the float32 scan (see quant_test.go and
// BenchmarkInt8); Index itself searches float32.
//
// Quantisation is symmetric with one scale for the whole matrix: value ≈
// code × scale with scale = max|value| / 127. Face descriptors have
// components of similar range, so per-dimension scales buy little.
type Int8Matrix struct {
	dim   int
	scale float32
	codes []int8
}

// QuantizeInt8 quantises vecs (rows of dim floats).
func QuantizeInt8(vecs []float32, dim int) *Int8Matrix {
	var maxAbs float32
	for _, v := range vecs {
		maxAbs = max(maxAbs, float32(math.Abs(float64(v))))
	}
	m := &Int8Matrix{dim: dim, scale: maxAbs / 127, codes: make([]int8, len(vecs))}
	if m.scale == 0 {
		m.scale = 1 // all zero: any scale encodes it exactly
	}
	m.quantize(m.codes, vecs)
	return m
}

// quantize encodes src into dst with the matrix's scale, clamping values
// outside the range seen at construction (probes may exceed it).
func (m *Int8Matrix) quantize(dst []int8, src []float32) {
	inv := 1 / m.scale
	for i, v := range src {
		q := math.Round(float64(v * inv))
		dst[i] = int8(max(-127, min(127, q)))
	}
}

// Len returns the number of rows.
func (m *Int8Matrix) Len() int { return len(m.codes) / m.dim }

// Nearest returns the indices of the k rows nearest to probe by the
// quantised distance, nearest first (ties by row index).
func (m *Int8Matrix) Nearest(probe []float32, k int) []int {
	q := make([]int8, m.dim)
	m.quantize(q, probe)
	n := m.Len()
	k = min(k, n)
	if k <= 0 {
		return nil
	}
	// A sorted slice of k beats a heap for the small k of face search.
	type hit struct {
		d   int32
		row int
	}
	best := make([]hit, 0, k+1)
	for r := 0; r < n; r++ {
		d := squaredL2Int8(q, m.codes[r*m.dim:(r+1)*m.dim])
		if len(best) == k && d >= best[k-1].d {
			continue
		}
		i := sort.Search(len(best), func(i int) bool { return best[i].d > d })
		best = append(best, hit{})
		copy(best[i+1:], best[i:])
		best[i] = hit{d, r}
		if len(best) > k {
			best = best[:k]
		}
	}
	out := make([]int, len(best))
	for i, h := range best {
		out[i] = h.row
	}
	return out
}

// squaredL2Int8 is the squared distance in code units. Each term is at
// most 254² so an int32 sum holds rows of up to 33000 dimensions.
func squaredL2Int8(a, b []int8) int32 {
	if len(a) == 128 {
		return squaredL2Int8x128((*[128]int8)(a), (*[128]int8)(b))
	}
	b = b[:len(a)]
	var s0, s1, s2, s3 int32
	for len(a) >= 4 && len(b) >= 4 {
		d0 := int32(a[0]) - int32(b[0])
		d1 := int32(a[1]) - int32(b[1])
		d2 := int32(a[2]) - int32(b[2])
		d3 := int32(a[3]) - int32(b[3])
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
		a, b = a[4:], b[4:]
	}
	for i := range a {
		d := int32(a[i]) - int32(b[i])
		s0 += d * d
	}
	return s0 + s1 + s2 + s3
}

// squaredL2Int8x128 is squaredL2Int8 for 128-d rows, free of bounds checks.
func squaredL2Int8x128(a, b *[128]int8) int32 {
	var s0, s1, s2, s3 int32
	for i := 0; i < 128; i += 8 {
		d0 := int32(a[i]) - int32(b[i])
		d1 := int32(a[i+1]) - int32(b[i+1])
		d2 := int32(a[i+2]) - int32(b[i+2])
		d3 := int32(a[i+3]) - int32(b[i+3])
		d4 := int32(a[i+4]) - int32(b[i+4])
		d5 := int32(a[i+5]) - int32(b[i+5])
		d6 := int32(a[i+6]) - int32(b[i+6])
		d7 := int32(a[i+7]) - int32(b[i+7])
		s0 += d0*d0 + d4*d4
		s1 += d1*d1 + d5*d5
		s2 += d2*d2 + d6*d6
		s3 += d3*d3 + d7*d7
	}
	return s0 + s1 + s2 + s3
}
