package index

import "math"

// Int8 prefilter for float16 groups.
//
// A 1M-row float16 scan streams 256 MB and is bound by memory bandwidth, so
// the remaining lever is fewer bytes per row. Each row of a float16 group
// therefore also keeps an int8 code (128 B: half the bytes) with one scale
// per group, and the exact norm e_r of its quantisation error. A search
// first scores the codes against the quantised probe (error e_p); by the
// triangle inequality a row's true distance is at least
//
//	scale·sqrt(integer squared distance) − e_r − e_p,
//
// so a row whose lower bound exceeds the distance of the k-th user kept so
// far cannot enter the top k: the plain scan would have skipped it too.
// Every other row is scored with the float16 kernel and offered to the same
// top-k in the same row order, so results equal the plain float16 scan's
// bit for bit; only the number of float16 rows read changes.

// quantRows is the group size from which a float16 search scans the int8
// codes first. Below it the codes still exist (they follow every row
// change) but the plain scan is used.
const quantRows = 1024

// boundSlack widens the lower bound against rounding: the kernels' float32
// sums are within ~1e-5 relatively of the exact distance, the bound's own
// float64 arithmetic within ~1e-15.
const boundSlack = 1e-4

// quantize sets code (128 int8) to v/scale rounded and clamped to ±127 and
// returns the exact norm of v − scale·code. Which code a value gets only
// moves the bound; the error norm must be exact, so it is summed in float64.
func quantize(code []int8, v []float32, scale float64) float64 {
	code = code[:len(v)]
	inv := 1 / scale
	var e float64
	for i, x := range v {
		// RoundToEven is one instruction on amd64 (math.Round is not), and
		// plain compares clamp faster than min/max with their NaN rules.
		q := math.RoundToEven(float64(x) * inv)
		if q > 127 {
			q = 127
		} else if q < -127 {
			q = -127
		}
		code[i] = int8(q)
		d := float64(x) - q*scale
		e += d * d
	}
	return math.Sqrt(e)
}

// codeRow quantises float16 row r of g (widened exactly, as the kernel
// sees it) into its code and error slots, raising the group's scale first
// (and requantising every row) when the row does not fit in ±127 steps.
func (g *group) codeRow(r int) {
	var v [128]float32
	widenFloat16(v[:], g.halfs[r*128:r*128+128])
	// The largest |value|: finite non-negative floats order as their bits,
	// which a branch-free integer max finds fastest.
	var mbits uint32
	for _, x := range v {
		mbits = max(mbits, math.Float32bits(x)&^(1<<31))
	}
	m := math.Float32frombits(mbits)
	if float64(m) > 127*g.codeScale {
		// The scale only grows, with headroom: a new largest value is rare
		// in a big group, and one 1/8 beyond the last requantisation's
		// rarer still, so a 1M-row load requantises about 10% of its rows
		// in all instead of about 100% (at codes 1/8 coarser).
		g.codeScale = float64(m) * (1 + 1.0/8) / 127
		g.codeErrMax = 0
		for rr := 0; rr < r; rr++ {
			g.codeRow(rr)
		}
	}
	if g.codeScale == 0 { // all-zero rows so far: codes 0, no error
		clear(g.codes[r*128 : r*128+128])
		g.codeErr[r] = 0
		return
	}
	e := quantize(g.codes[r*128:r*128+128], v[:], g.codeScale)
	// Stored rounded up, so the float32 never understates the error.
	ef := float32(e)
	if float64(ef) < e {
		ef = math.Nextafter32(ef, float32(math.Inf(1)))
	}
	g.codeErr[r] = ef
	g.codeErrMax = max(g.codeErrMax, ef)
}

// scanRangeCoded is scanRange for a float16 group through its int8 codes;
// it leaves top exactly as scanRangePlain would and returns how many rows
// it scored in float16 (the shortlist).
func (g *group) scanRangeCoded(probe []float32, lo, hi int, top *topK) (rescored int) {
	var pcode [128]int8
	ep := quantize(pcode[:], probe, g.codeScale)
	var pwide [128]int16
	for i, q := range pcode {
		pwide[i] = int16(q)
	}
	invScale := 1 / g.codeScale
	var ibuf [blockRows]int32
	bound := float32(math.Inf(1))
	// A row is rescored when its code distance D satisfies
	// scale·sqrt(D) − e_r − e_p ≤ sqrt(bound)·(1+slack) + tiny, that is
	// D ≤ ((reach + e_r)/scale)² with reach = the right side plus e_p.
	// coarse is that limit for the group's largest e_r: rows above it skip
	// with one compare.
	reach, coarse := math.Inf(1), math.Inf(1)
	for b := lo; b < hi; b += blockRows {
		e := min(b+blockRows, hi)
		dq := ibuf[:e-b]
		scan128I8(&pwide, g.codes[b*128:e*128], dq)
		for i, d := range dq {
			fd := float64(d)
			if fd > coarse {
				continue
			}
			r := b + i
			if t := (reach + float64(g.codeErr[r])) * invScale; fd > t*t {
				continue
			}
			rescored++
			dist := g.rowDistance(probe, int32(r))
			if dist > bound {
				continue
			}
			top.offer(dist, int32(r))
			if len(top.items) == top.k && top.items[0].dist != bound {
				bound = top.items[0].dist
				reach = math.Sqrt(float64(bound))*(1+boundSlack) + 1e-9 + ep
				t := (reach + float64(g.codeErrMax)) * invScale
				coarse = t * t
			}
		}
	}
	return rescored
}

// useCodes reports whether a search of g for k users scans the codes first:
// a float16 group big enough to pay, with more users than k (otherwise the
// top k never fills, nothing is ever skipped, and every row would be read
// twice).
func (g *group) useCodes(n, k int) bool {
	return g.half && g.codeScale > 0 && n >= quantRows && k < len(g.slotOf)
}

// scan128I8 sets dist[r] to the squared distance between the int8 codes of
// probe (sign-extended to int16) and row r of codes (128 per row). The sum
// is exact: at most 128·254² < 2³¹.
func scan128I8(probe *[128]int16, codes []int8, dist []int32) {
	n := len(dist)
	if len(codes) < n*128 {
		panic("index: scan128I8: codes must have 128 values per row")
	}
	if n == 0 {
		return
	}
	if useAVX2 {
		l2x128I8AVX2(&probe[0], &codes[0], n, &dist[0])
		return
	}
	for r := range dist {
		row := (*[128]int8)(codes[r*128 : r*128+128])
		var s0, s1, s2, s3 int32
		for i := 0; i < 128; i += 4 {
			d0 := int32(row[i]) - int32(probe[i])
			d1 := int32(row[i+1]) - int32(probe[i+1])
			d2 := int32(row[i+2]) - int32(probe[i+2])
			d3 := int32(row[i+3]) - int32(probe[i+3])
			s0 += d0 * d0
			s1 += d1 * d1
			s2 += d2 * d2
			s3 += d3 * d3
		}
		dist[r] = s0 + s1 + s2 + s3
	}
}
