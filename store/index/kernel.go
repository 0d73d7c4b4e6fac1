package index

// SquaredL2 returns the squared Euclidean distance between a and b, which
// must have the same length. It sums in four independent accumulators so the
// CPU can overlap the floating-point adds (a single running sum serialises
// on the add latency).
func SquaredL2(a, b []float32) float32 {
	b = b[:len(a)] // panics here, not mid-loop, on a length mismatch
	var s0, s1, s2, s3 float32
	// Checking both lengths in the loop condition lets the compiler drop
	// the bounds checks of the eight loads.
	for len(a) >= 4 && len(b) >= 4 {
		d0 := a[0] - b[0]
		d1 := a[1] - b[1]
		d2 := a[2] - b[2]
		d3 := a[3] - b[3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
		a, b = a[4:], b[4:]
	}
	for i := range a {
		d := a[i] - b[i]
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// squaredL2x128 is SquaredL2 specialised for 128-d dlib descriptors: the
// fixed-size array views let the compiler drop every bounds check, and the
// loop is unrolled eight ways into four accumulators.
func squaredL2x128(a, b []float32) float32 {
	x := (*[128]float32)(a)
	y := (*[128]float32)(b)
	var s0, s1, s2, s3 float32
	for i := 0; i < 128; i += 8 {
		d0 := x[i] - y[i]
		d1 := x[i+1] - y[i+1]
		d2 := x[i+2] - y[i+2]
		d3 := x[i+3] - y[i+3]
		d4 := x[i+4] - y[i+4]
		d5 := x[i+5] - y[i+5]
		d6 := x[i+6] - y[i+6]
		d7 := x[i+7] - y[i+7]
		s0 += d0*d0 + d4*d4
		s1 += d1*d1 + d5*d5
		s2 += d2*d2 + d6*d6
		s3 += d3*d3 + d7*d7
	}
	return (s0 + s1) + (s2 + s3)
}
