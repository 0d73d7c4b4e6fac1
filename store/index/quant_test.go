package index

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/facekit/facekit/store"
)

// TestCodedScanEqualsPlainScan: on galleries built to loosen or break the
// int8 bound, the coded scan leaves the top-k heap exactly as the plain
// float16 scan does (same users, rows and float32 distances, in the same
// heap order), for several k, with the SIMD and portable kernels; and
// Index.Search through it matches the naive reference.
func TestCodedScanEqualsPlainScan(t *testing.T) {
	const n = 3*blockRows + 77
	r := rand.New(rand.NewPCG(7, 3))
	unit := func(int) []float32 { return unitVector(r, 128) }
	centres := make([][]float32, 40)
	for i := range centres {
		centres[i] = unitVector(r, 128)
	}
	// clustered: tight clusters around few centres, many near ties.
	clustered := func(i int) []float32 {
		v := slices.Clone(centres[i%len(centres)])
		for j := range v {
			v[j] += float32(r.NormFloat64() * 1e-3)
		}
		return v
	}
	tests := []struct {
		name   string
		users  int // row i belongs to user i%users
		row    func(i int) []float32
		remove int // every remove-th row is removed before searching (0: none)
		probes []func() []float32
		naive  bool // also compare with the naive float64 reference
		skips  bool // the prefilter must skip most rows for k = 1
	}{
		{"RandomUnit", 2000, unit, 0, []func() []float32{func() []float32 { return unitVector(r, 128) }}, true, true},
		{"Clustered", 1500, clustered, 0, []func() []float32{func() []float32 { return clustered(3) }, func() []float32 { return unitVector(r, 128) }}, true, true},
		// Every row identical: all distances tie, order by user id and token.
		{"Duplicates", 700, func(int) []float32 { return constVector(0.125) }, 0, []func() []float32{func() []float32 { return constVector(0.125) }, func() []float32 { return constVector(-1) }}, true, false},
		// Few distinct values: exact ties between users at many distances.
		{"IntegerTies", 900, func(int) []float32 { return intVector(r, 128) }, 0, []func() []float32{func() []float32 { return intVector(r, 128) }}, true, false},
		// float16's extremes next to tiny values: one code step is huge,
		// small rows all quantise to 0 and rely on their error norm.
		{"Extremes", 1000, func(i int) []float32 {
			switch i % 500 {
			case 7:
				return constVector(65504)
			case 8:
				return constVector(-65504)
			}
			return unitVector(r, 128)
		}, 0, []func() []float32{func() []float32 { return unitVector(r, 128) }, func() []float32 { return constVector(60000) }}, false, false},
		// Rows grow beyond the int8 range as they arrive: the scale is
		// raised and every earlier row requantised, again and again.
		{"GrowingScale", 1200, func(i int) []float32 {
			v := unitVector(r, 128)
			for j := range v {
				v[j] *= float32(1 + i/200)
			}
			return v
		}, 0, []func() []float32{func() []float32 { return unitVector(r, 128) }}, true, false},
		// A probe far beyond the codes' range is clamped; its error bound
		// is large but the result stays exact.
		{"ProbeBeyondRange", 2000, unit, 0, []func() []float32{func() []float32 { return constVector(100) }, func() []float32 { return constVector(0) }}, false, false},
		// Removals move the last row into the hole: codes must follow.
		{"Removals", 1000, unit, 3, []func() []float32{func() []float32 { return unitVector(r, 128) }}, true, true},
		// Distances shrinking row after row: the bound tightens all scan long.
		{"Decreasing", 2500, func(i int) []float32 { return constVector(1 - float32(i)/n) }, 0, []func() []float32{func() []float32 { return constVector(0) }}, true, false},
	}
	withKernel(t, func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				x, ref := mustNewIndex(t, Float16), newNaive()
				ref.groups[[2]string{"a", "g"}] = true
				rows := make([][]float32, n)
				for i := range rows {
					rows[i] = tt.row(i)
				}
				err := x.Update(func(w *Writer) error {
					for i, v := range rows {
						if err := w.AddFace("a", "g", store.User{UserID: fmt.Sprint("u", i%tt.users)}, hexToken(i), store.Embedding{Model: testModel, Vector: v}); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				for i, v := range rows {
					if tt.remove > 0 && i%tt.remove == 1 {
						x.Update(func(w *Writer) error { w.RemoveFace("a", "g", fmt.Sprint("u", i%tt.users), hexToken(i)); return nil })
						continue
					}
					ref.faces = append(ref.faces, naiveFace{"a", "g", fmt.Sprint("u", i%tt.users), hexToken(i), stored(Float16, v)})
				}
				g := x.apps["a"]["g"]
				if !g.half {
					t.Fatal("group left float16")
				}
				checkCodes(t, g)
				for pi, mk := range tt.probes {
					probe := mk()
					for _, k := range []int{1, 10, 50} {
						plain, coded := newTopK(g, k), newTopK(g, k)
						m := len(g.rowUser)
						g.scanRangePlain(probe, 0, m, &plain)
						rescored := g.scanRangeCoded(probe, 0, m, &coded)
						if !slices.Equal(plain.items, coded.items) {
							t.Fatalf("probe %d, k %d: coded heap\n %v\nplain heap\n %v", pi, k, coded.items, plain.items)
						}
						t.Logf("probe %d, k %d: %d of %d rows rescored", pi, k, rescored, m)
						if tt.skips && k == 1 && rescored > m/2 {
							t.Errorf("probe %d: the prefilter kept %d of %d rows", pi, rescored, m)
						}
						got, err := x.Search("a", []string{"g"}, store.Embedding{Model: testModel, Vector: probe}, "", k)
						if err != nil {
							t.Fatal(err)
						}
						want := g.candidates("g", plain.items)
						sortCandidates(want)
						if !slices.Equal(got, want) {
							t.Fatalf("probe %d, k %d: search\n got  %v\n plain %v", pi, k, got, want)
						}
						// 1:1 against a returned user scores its rows alone,
						// without the codes, and gives the very same result.
						for _, c := range got[:min(len(got), 3)] {
							one, err := x.Search("a", []string{"g"}, store.Embedding{Model: testModel, Vector: probe}, c.UserID, 1)
							if err != nil || len(one) != 1 || one[0] != c {
								t.Fatalf("1:1 with %s: %v %v, want %v", c.UserID, one, err, c)
							}
						}
						// Far from descriptors' magnitudes float32 sums
						// stray from the float64 reference; both scans
						// agree with each other there (above).
						if tt.naive {
							want, _ := ref.search("a", []string{"g"}, probe, "", k)
							if !sameCandidates(got, want) {
								t.Fatalf("probe %d, k %d: search\n got  %v\n naive %v", pi, k, got, want)
							}
						}
					}
				}
			})
		}
	})
}

// checkCodes verifies every row's code and error slot against the row as
// it is stored now (after removals moved rows around), and the bounds the
// scan relies on.
func checkCodes(t *testing.T, g *group) {
	t.Helper()
	n := len(g.rowUser)
	if len(g.codes) != n*128 || len(g.codeErr) != n {
		t.Fatalf("%d rows, %d codes, %d error norms", n, len(g.codes)/128, len(g.codeErr))
	}
	for r := 0; r < n; r++ {
		var v [128]float32
		for i, h := range g.halfs[r*128 : r*128+128] {
			v[i] = fromFloat16(h)
		}
		var code [128]int8
		e := quantize(code[:], v[:], g.codeScale)
		if !slices.Equal(code[:], g.codes[r*128:r*128+128]) {
			t.Fatalf("row %d: stale code", r)
		}
		if float64(g.codeErr[r]) < e || g.codeErr[r] > g.codeErrMax {
			t.Fatalf("row %d: error norm %g stored as %g (max %g)", r, e, g.codeErr[r], g.codeErrMax)
		}
	}
}

// TestCodedScanPathChoice: the codes are used only where they can pay and
// skip rows.
func TestCodedScanPathChoice(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 9))
	build := func(p Precision, rows, users int) *group {
		x := mustNewIndex(t, p)
		x.Update(func(w *Writer) error {
			for i := 0; i < rows; i++ {
				w.AddFace("a", "g", store.User{UserID: fmt.Sprint("u", i%users)}, hexToken(i), store.Embedding{Model: testModel, Vector: unitVector(r, 128)})
			}
			return nil
		})
		return x.apps["a"]["g"]
	}
	tests := []struct {
		name string
		g    *group
		k    int
		want bool
	}{
		{"BigFloat16", build(Float16, quantRows, quantRows), 10, true},
		{"SmallFloat16", build(Float16, quantRows-1, quantRows), 10, false},
		{"KNotBelowUsers", build(Float16, quantRows, 10), 10, false},
		{"Float32", build(Float32, quantRows, quantRows), 10, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.g.useCodes(len(tt.g.rowUser), tt.k); got != tt.want {
				t.Fatalf("useCodes = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestScan128I8MatchesScalar: the AVX2 int8 kernel gives the portable
// loop's exact integer sums, including the extreme codes ±127.
func TestScan128I8MatchesScalar(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 on this CPU")
	}
	r := rand.New(rand.NewPCG(2, 8))
	var probe [128]int16
	for i := range probe {
		probe[i] = int16(r.IntN(255) - 127)
	}
	probe[0], probe[1] = 127, -127
	for _, n := range []int{1, 3, 1000} {
		codes := make([]int8, n*128)
		for i := range codes {
			codes[i] = int8(r.IntN(255) - 127)
		}
		codes[0], codes[1] = -127, 127
		simd, portable := make([]int32, n), make([]int32, n)
		scan128I8(&probe, codes, simd)
		setUseAVX2(false)
		scan128I8(&probe, codes, portable)
		setUseAVX2(true)
		if !slices.Equal(simd, portable) {
			t.Fatalf("%d rows: AVX2 %v, portable %v", n, simd[:min(n, 5)], portable[:min(n, 5)])
		}
		var want int32
		for i := range 128 {
			d := int32(codes[i]) - int32(probe[i])
			want += d * d
		}
		if simd[0] != want {
			t.Fatalf("row 0: %d, want %d", simd[0], want)
		}
	}
}

// TestQuantizeErrorNorm: the error norm is the exact distance between a
// row and its dequantised code, and clamping beyond ±127 steps shows in it.
func TestQuantizeErrorNorm(t *testing.T) {
	tests := []struct {
		name  string
		v     float32
		scale float64
		code  int8
	}{
		{"OnStep", 0.5, 0.25, 2},
		{"RoundsToNearest", 0.3, 0.25, 1},
		{"ClampedHigh", 100, 0.25, 127},
		{"ClampedLow", -100, 0.25, -127},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := constVector(tt.v)
			code := make([]int8, 128)
			e := quantize(code, v, tt.scale)
			want := math.Sqrt(128) * math.Abs(float64(tt.v)-float64(tt.code)*tt.scale)
			if code[5] != tt.code || math.Abs(e-want) > 1e-12*max(1, want) {
				t.Fatalf("code %d error %g, want %d %g", code[5], e, tt.code, want)
			}
		})
	}
}

// TestWidenFloat16: the F16C widening gives fromFloat16's bits for every
// half that is not a NaN (rows never hold NaNs), with a tail that is not a
// multiple of 8.
func TestWidenFloat16(t *testing.T) {
	var src []uint16
	for h := 0; h < 1<<16; h++ {
		if h&0x7c00 == 0x7c00 && h&0x3ff != 0 {
			continue // NaN
		}
		src = append(src, uint16(h))
	}
	src = append(src, 0x3c00, 0xbc00, 0x0001) // 63490 values: a tail of 2
	withKernel(t, func(t *testing.T) {
		dst := make([]float32, len(src))
		widenFloat16(dst, src)
		for i, h := range src {
			if want := fromFloat16(h); math.Float32bits(dst[i]) != math.Float32bits(want) {
				t.Fatalf("%#04x: %g, want %g", h, dst[i], want)
			}
		}
	})
}
