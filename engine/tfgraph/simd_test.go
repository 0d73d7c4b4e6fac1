package tfgraph

import (
	"fmt"
	"math"
	"testing"
)

// maxAbsDiff is the largest |a[i] − b[i]|, +Inf when the lengths differ.
func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
		if a[i] != a[i] || b[i] != b[i] {
			return math.Inf(1)
		}
	}
	return d
}

// withSIMD runs f with the AVX2 kernels switched on or off.
func withSIMD(tb testing.TB, on bool, f func()) {
	tb.Helper()
	saved := useAVX2
	useAVX2 = on
	defer func() { useAVX2 = saved }()
	f()
}

func TestGEMMAVX2MatchesNaive(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2/FMA on this CPU")
	}
	// Sizes around the 6×16 tile: row and column tails, k = 1, and an
	// lda/ldc wider than the matrix.
	for _, sz := range [][3]int{{1, 1, 1}, {6, 16, 1}, {7, 17, 3}, {5, 15, 9}, {12, 32, 64}, {13, 40, 27}, {100, 64, 128}} {
		for flags := 0; flags < 4; flags++ {
			m, n, k := sz[0], sz[1], sz[2]
			lda, ldc := k+3, n+5
			a := patterned(m * lda).f
			bm := patterned(k, n).f
			bias, slope := patterned(n).f, patterned(n).f
			c := make([]float32, (m-1)*ldc+n)
			e := epilogue{b: bias, prelu: slope}
			if flags&1 == 0 {
				e.b = nil
			}
			if flags&2 != 0 {
				e.act = actPrelu
			}
			sep := e.split(n)
			gemmAVX2(m, n, k, a, lda, packB16(bm, k, n), c, ldc, &sep)
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					var s float32
					for x := 0; x < k; x++ {
						s += a[i*lda+x] * bm[x*n+j]
					}
					if flags&1 != 0 {
						s += bias[j]
					}
					if flags&2 != 0 && s < 0 {
						s *= slope[j]
					}
					if d := s - c[i*ldc+j]; d > 1e-5 || d < -1e-5 {
						t.Fatalf("%v flags %d: C[%d,%d] = %v, want %v", sz, flags, i, j, c[i*ldc+j], s)
					}
				}
			}
		}
	}
}

// TestSIMDKernelsMatchPortable runs convolutions and depthwise
// convolutions of assorted shapes, strides, paddings and epilogues through
// both kernel sets.
func TestSIMDKernelsMatchPortable(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2/FMA on this CPU")
	}
	type tc struct {
		op           string
		h, w, c      int
		kh, kw, mult int
		stride       int
		pad          string
		fused        []string
	}
	var cases []tc
	for _, pad := range []string{"SAME", "VALID"} {
		for _, s := range []int{1, 2} {
			cases = append(cases,
				tc{"_FusedConv2D", 9, 7, 8, 1, 1, 24, s, pad, []string{"BiasAdd", "Relu"}},
				tc{"_FusedConv2D", 9, 7, 3, 3, 3, 20, s, pad, []string{"BiasAdd"}},
				tc{"Conv2D", 5, 11, 16, 1, 1, 7, s, pad, nil},
				tc{"_FusedConv2D", 8, 8, 8, 3, 3, 16, s, pad, []string{"BiasAdd", "Relu6"}},
				tc{"FusedDepthwiseConv2dNative", 9, 7, 40, 3, 3, 1, s, pad, []string{"BiasAdd", "Relu"}},
				tc{"FusedDepthwiseConv2dNative", 7, 7, 64, 7, 7, 1, s, pad, []string{"BiasAdd"}},
				tc{"DepthwiseConv2dNative", 6, 10, 8, 5, 3, 1, s, pad, nil},
				tc{"DepthwiseConv2dNative", 6, 10, 8, 3, 3, 2, s, pad, nil}, // multiplier 2: portable
			)
		}
	}
	for _, c := range cases {
		name := fmt.Sprintf("%s/%dx%dx%d/k%dx%d/s%d/%s/%v", c.op, c.h, c.w, c.c, c.kh, c.kw, c.stride, c.pad, c.fused)
		t.Run(name, func(t *testing.T) {
			x := patterned(2, c.h, c.w, c.c)
			f := patterned(c.kh, c.kw, c.c, c.mult)
			in := []*value{x, f}
			a := attrs{"padding": sAttr(c.pad), "strides": iList(1, c.stride, c.stride, 1)}
			if c.fused != nil {
				a["fused_ops"] = sList(c.fused...)
				in = append(in, patterned(c.c*c.mult))
				if c.op == "_FusedConv2D" {
					in[2] = patterned(c.mult)
				}
			}
			k, err := compileOp(c.op, a, len(in), in)
			if err != nil {
				t.Fatal(err)
			}
			var got, want *value
			withSIMD(t, true, func() { got, err = k(&runCtx{workers: 2, arena: newArena()}, in) })
			if err != nil {
				t.Fatal(err)
			}
			withSIMD(t, false, func() { want, err = k(&runCtx{workers: 1}, in) })
			if err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(got.f, want.f); !sameShape(got.shape, want.shape) || d > 1e-5 {
				t.Fatalf("AVX2 %v and portable %v differ by %g", got.shape, want.shape, d)
			}
		})
	}
}

// TestModelsSIMDMatchPortable runs every model with both kernel sets; the
// largest difference is logged for the docs.
func TestModelsSIMDMatchPortable(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2/FMA on this CPU")
	}
	for _, name := range modelNames {
		t.Run(name, func(t *testing.T) {
			m := MustLoad(t, name)
			in := patternInput(m)
			var a, b map[string]*Tensor
			var err error
			withSIMD(t, true, func() { a, err = m.Run(in) })
			if err != nil {
				t.Fatal(err)
			}
			withSIMD(t, false, func() { b, err = m.Run(in) })
			if err != nil {
				t.Fatal(err)
			}
			var worst float64
			for k, v := range a {
				// Relative to the output's scale: faceres' features reach
				// ~1e3, where 1e-4 is below float32 resolution.
				var scale float64 = 1
				for _, x := range b[k].Data {
					scale = math.Max(scale, math.Abs(float64(x)))
				}
				d := maxAbsDiff(v.Data, b[k].Data) / scale
				if d > 1e-4 {
					t.Errorf("%s: AVX2 and portable outputs differ by %g of the largest value %g", k, d, scale)
				}
				worst = math.Max(worst, d)
			}
			t.Logf("largest difference %.3g (relative to each output's largest value)", worst)
		})
	}
}

// TestArenaReuseKeepsResults runs each model on one input, then on another,
// then on the first again: the third Run reuses the buffers of the first
// two and must reproduce the first exactly (a kernel that relied on fresh,
// zeroed memory would not).
func TestArenaReuseKeepsResults(t *testing.T) {
	for _, name := range modelNames {
		t.Run(name, func(t *testing.T) {
			m := MustLoad(t, name)
			in := patternInput(m)
			other := map[string]*Tensor{}
			for k, v := range in {
				w := &Tensor{Shape: v.Shape, Data: make([]float32, len(v.Data))}
				for i := range w.Data {
					w.Data[i] = 1 - v.Data[len(v.Data)-1-i]
				}
				other[k] = w
			}
			first, err := m.Run(in)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Run(other); err != nil {
				t.Fatal(err)
			}
			again, err := m.Run(in)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range first {
				if d := maxAbsDiff(v.Data, again[k].Data); d != 0 {
					t.Errorf("%s: the same input gave outputs %g apart after buffer reuse", k, d)
				}
			}
		})
	}
}
