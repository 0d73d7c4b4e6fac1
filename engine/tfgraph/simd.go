package tfgraph

// AVX2/FMA kernels for the two ops that dominate the CNNs here: 1×1 and
// im2col convolutions (GEMM) and depthwise convolutions. Go compiles the
// portable kernels to scalar SSE code (GOAMD64=v1 is the default), which
// reaches about 9 GFLOPS on one core; the assembly micro-kernel keeps a
// 6×16 block of C in twelve YMM registers and runs near the FMA units'
// peak. MobileFaceNet measured 76 → see docs/benchmarks.md. Bias and a
// per-channel PReLU (ReLU is PReLU with slope 0) are applied to the block
// while it is still in registers, so the common conv+BN+PReLU layer writes
// its output once.

const simdNR = 16 // columns per packed panel for sgemm6x16AVX2
const simdMR = 6  // rows of A per micro-kernel call

// packB16 is packB with panels of 16 columns, the layout sgemm6x16AVX2
// streams.
func packB16(b []float32, k, n int) []float32 {
	panels := (n + simdNR - 1) / simdNR
	out := make([]float32, panels*k*simdNR)
	for p := 0; p < panels; p++ {
		dst := out[p*k*simdNR : (p+1)*k*simdNR]
		for r := 0; r < k; r++ {
			row := b[r*n : r*n+n]
			for c := 0; c < simdNR; c++ {
				if col := p*simdNR + c; col < n {
					dst[r*simdNR+c] = row[col]
				}
			}
		}
	}
	return out
}

// simdEpilogue is an epilogue split into what the assembly kernels apply in
// registers (bias, then one per-channel slope) and the rest, which Go
// applies afterwards.
type simdEpilogue struct {
	bias, slope []float32 // padded to a multiple of simdNR; nil when unused
	flags       int       // bit 0 bias, bit 1 slope
	rest        epilogue
	hasRest     bool
}

// split moves the epilogue's bias and its first activation into the
// kernel's registers when that activation is a ReLU or a PReLU (fused, or
// the first folded element-wise node); everything else stays in rest.
func (e *epilogue) split(c int) simdEpilogue {
	var s simdEpilogue
	if e.b != nil {
		s.bias, s.flags = padded(e.b, c, false), s.flags|1
	}
	post := e.post
	switch e.act {
	case actNone:
		if len(post) > 0 {
			switch p := post[0]; {
			case p.isAct && p.act == actRelu:
				s.slope = padded(nil, c, false)
				post = post[1:]
			case !p.isAct && p.op == opPrelu && !p.constFirst:
				s.slope = padded(p.vec, c, true)
				post = post[1:]
			}
		}
	case actRelu:
		s.slope = padded(nil, c, false)
	case actPrelu:
		s.slope = padded(e.prelu, c, true)
	default:
		s.rest.fusion = e.fusion
		s.rest.bias = false
		s.rest.prelu = e.prelu
	}
	if s.slope != nil {
		s.flags |= 2
		// A PReLU whose slopes are all ≥ 0 keeps negative values negative,
		// so a following PReLU composes into one with the product of the
		// slopes (converted graphs put a fused ReLU before a spelled-out
		// PReLU, which this turns back into the ReLU it computes).
		for len(post) > 0 && !post[0].isAct && post[0].op == opPrelu && !post[0].constFirst && nonNegative(s.slope) {
			next := padded(post[0].vec, c, true)
			for i := range s.slope {
				s.slope[i] *= next[i]
			}
			post = post[1:]
		}
	}
	s.rest.post = post
	s.hasRest = s.rest.act != actNone || len(post) > 0
	return s
}

// padded copies v (c values, or one value to repeat when broadcast is set;
// nil gives zeros) into a slice rounded up to whole panels.
func padded(v []float32, c int, broadcast bool) []float32 {
	out := make([]float32, (c+simdNR-1)/simdNR*simdNR)
	switch {
	case broadcast && len(v) == 1:
		for i := range out[:c] {
			out[i] = v[0]
		}
	default:
		copy(out, v)
	}
	return out
}

// gemmAVX2 computes C[m×n] = A[m×k]·B for B packed by packB16, applying the
// register part of ep. Panels are taken in blocks that fit in L2 and each
// block is swept over all rows, as gemm does; six rows of A (at most 12 KB
// at k = 512) stay in L1 across a block. Tiles that hang over the edge of
// A or C go through small scratch buffers.
func gemmAVX2(m, n, k int, a []float32, lda int, bp []float32, c []float32, ldc int, ep *simdEpilogue) {
	if m == 0 || n == 0 {
		return
	}
	panels := (n + simdNR - 1) / simdNR
	if k < 1 || len(a) < (m-1)*lda+k || len(c) < (m-1)*ldc+n || len(bp) < panels*k*simdNR {
		panic("tfgraph: gemmAVX2: operands too short")
	}
	var bias, slope *float32
	if ep.flags&1 != 0 {
		bias = &ep.bias[0]
	}
	if ep.flags&2 != 0 {
		slope = &ep.slope[0]
	}
	var tmpA []float32
	var tmpC [simdMR * simdNR]float32
	block := max(1, gemmPanelBytes/(4*simdNR*k))
	for p0 := 0; p0 < panels; p0 += block {
		p1 := min(panels, p0+block)
		for i := 0; i < m; i += simdMR {
			rows := min(simdMR, m-i)
			ap, lda2 := &a[i*lda], lda
			if rows < simdMR {
				if tmpA == nil {
					tmpA = make([]float32, simdMR*k)
				}
				clear(tmpA)
				for r := 0; r < rows; r++ {
					copy(tmpA[r*k:(r+1)*k], a[(i+r)*lda:(i+r)*lda+k])
				}
				ap, lda2 = &tmpA[0], k
			}
			for p := p0; p < p1; p++ {
				j0 := p * simdNR
				cols := min(simdNR, n-j0)
				var bb, sl *float32
				if bias != nil {
					bb = &ep.bias[j0]
				}
				if slope != nil {
					sl = &ep.slope[j0]
				}
				panel := &bp[p*k*simdNR]
				if rows == simdMR && cols == simdNR {
					sgemm6x16AVX2(k, ap, lda2, panel, &c[i*ldc+j0], ldc, bb, sl, ep.flags)
					continue
				}
				sgemm6x16AVX2(k, ap, lda2, panel, &tmpC[0], simdNR, bb, sl, ep.flags)
				for r := 0; r < rows; r++ {
					copy(c[(i+r)*ldc+j0:(i+r)*ldc+j0+cols], tmpC[r*simdNR:r*simdNR+cols])
				}
			}
		}
	}
}

func nonNegative(v []float32) bool {
	for _, x := range v {
		if !(x >= 0) {
			return false
		}
	}
	return true
}

// SetSIMD switches the AVX2 kernels on or off (off runs the portable Go
// kernels even on an AVX2 machine) and returns the previous setting. It
// exists for tests and benchmarks that compare the two kernel sets; it is
// not safe to call while a Run is in flight. On a CPU without AVX2 and FMA
// the assembly kernels stay off.
func SetSIMD(on bool) (was bool) {
	was = useAVX2
	useAVX2 = on && hasAVX2
	return was
}
