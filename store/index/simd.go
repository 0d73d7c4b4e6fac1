package index

import "math"

// Batched 128-d distance kernels for the exhaustive scan.
//
// A scan of a big gallery is bound by memory bandwidth, not arithmetic: 1M
// float32 rows are 512 MB that stream through the core once per search. The
// kernels below therefore (1) score a whole block of rows per call, so the
// per-row cost is only the arithmetic (AVX2 + FMA where available, eight
// lanes and four accumulators), and (2) offer rows stored as IEEE float16,
// which halves the bytes per row; the probe stays float32 and every row is
// widened exactly (F16C), so only the rounding of the stored vector differs
// from float32 search.

// scan128 sets dist[r] to the squared Euclidean distance between probe and
// row r of vecs (rows of 128 float32, len(vecs) >= 128*len(dist)).
func scan128(probe, vecs, dist []float32) {
	n := len(dist)
	if len(probe) != 128 || len(vecs) < n*128 {
		panic("index: scan128: probe must have 128 values and vecs 128 per row")
	}
	if n == 0 {
		return
	}
	if useAVX2 {
		l2x128AVX2(&probe[0], &vecs[0], n, &dist[0])
		return
	}
	for r := range dist {
		dist[r] = squaredL2x128(probe, vecs[r*128:r*128+128])
	}
}

// scan128F16 is scan128 for rows stored as float16 (see toFloat16).
func scan128F16(probe []float32, vecs []uint16, dist []float32) {
	n := len(dist)
	if len(probe) != 128 || len(vecs) < n*128 {
		panic("index: scan128F16: probe must have 128 values and vecs 128 per row")
	}
	if n == 0 {
		return
	}
	if useAVX2 {
		l2x128F16AVX2(&probe[0], &vecs[0], n, &dist[0])
		return
	}
	x := (*[128]float32)(probe)
	for r := range dist {
		row := (*[128]uint16)(vecs[r*128 : r*128+128])
		var s0, s1, s2, s3 float32
		for i := 0; i < 128; i += 4 {
			d0 := fromFloat16(row[i]) - x[i]
			d1 := fromFloat16(row[i+1]) - x[i+1]
			d2 := fromFloat16(row[i+2]) - x[i+2]
			d3 := fromFloat16(row[i+3]) - x[i+3]
			s0 += d0 * d0
			s1 += d1 * d1
			s2 += d2 * d2
			s3 += d3 * d3
		}
		dist[r] = (s0 + s1) + (s2 + s3)
	}
}

// toFloat16 stores src in dst as IEEE 754 binary16, rounding to nearest
// even (what F16C's VCVTPS2PH does with its default rounding). Values
// beyond ±65504 become ±Inf; face descriptors stay far below (|x| < 1).
// With F16C whole runs of 8 convert in one instruction (loading a 1M-face
// library converts 128M values); finite values give the same bits either
// way.
func toFloat16(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	if n := len(src) &^ 7; useAVX2 && n > 0 {
		toFloat16F16C(&dst[0], &src[0], n)
		dst, src = dst[n:], src[n:]
	}
	for i, f := range src {
		dst[i] = float16Bits(f)
	}
}

func float16Bits(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	switch {
	case exp == 0xff: // Inf or NaN (keep NaN quiet and non-zero)
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	case exp-127 > 15: // overflow
		return sign | 0x7c00
	case exp-127 >= -14: // normal half
		e := uint32(exp-127+15) << 10
		m := mant >> 13
		h := e | m
		// Round to nearest even on the 13 dropped bits; a carry into the
		// exponent is correct (it may round up to Inf).
		rest := mant & 0x1fff
		if rest > 0x1000 || rest == 0x1000 && m&1 == 1 {
			h++
		}
		return sign | uint16(h)
	case exp-127 >= -25: // subnormal half (or rounds up to the smallest)
		m := mant | 0x800000 // implicit leading one
		shift := uint32(-14-(exp-127)) + 13
		h := m >> shift
		rest := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rest > half || rest == half && h&1 == 1 {
			h++
		}
		return sign | uint16(h)
	default: // underflow to signed zero
		return sign
	}
}

// widenFloat16 sets dst to the exact float32 values of src (F16C where
// available, 8 at a time).
func widenFloat16(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	if n := len(src) &^ 7; useAVX2 && n > 0 {
		fromFloat16F16C(&dst[0], &src[0], n)
		dst, src = dst[n:], src[n:]
	}
	for i, h := range src {
		dst[i] = fromFloat16(h)
	}
}

// fromFloat16 widens a binary16 value exactly.
func fromFloat16(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	case mant == 0:
		return math.Float32frombits(sign)
	default: // subnormal: value = mant * 2^-24
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	}
}
