package index

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
)

// randomRows returns n 128-d rows of Gaussian values scaled like dlib
// descriptors (norm ≈ 0.5).
func randomRows(r *rand.Rand, n int) []float32 {
	v := make([]float32, n*128)
	for i := range v {
		v[i] = float32(r.NormFloat64() * 0.5 / math.Sqrt(128))
	}
	return v
}

// withKernel runs f once with the SIMD kernels (when the CPU has them) and
// once with the portable Go loops, naming the subtests by path.
func withKernel(t *testing.T, f func(t *testing.T)) {
	t.Run("Portable", func(t *testing.T) {
		saved := useAVX2
		setUseAVX2(false)
		defer setUseAVX2(saved)
		f(t)
	})
	t.Run("SIMD", func(t *testing.T) {
		if !useAVX2 {
			t.Skip("no AVX2/FMA/F16C on this CPU")
		}
		f(t)
	})
}

func TestScan128MatchesScalarKernel(t *testing.T) {
	withKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		probe := randomRows(r, 1)
		for _, n := range []int{0, 1, 7, 1000} {
			t.Run(fmt.Sprintf("Rows%d", n), func(t *testing.T) {
				vecs := randomRows(r, n)
				dist := make([]float32, n)
				scan128(probe, vecs, dist)
				for i := range dist {
					want := squaredL2x128(probe, vecs[i*128:i*128+128])
					if d := math.Abs(float64(dist[i] - want)); d > 1e-6*float64(want)+1e-9 {
						t.Fatalf("row %d: scan128 %v, scalar %v", i, dist[i], want)
					}
				}
			})
		}
	})
}

func TestScan128RejectsShortInput(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("scan128 with too few rows did not panic")
		}
	}()
	scan128(make([]float32, 128), make([]float32, 128), make([]float32, 2))
}

func TestFloat16Bits(t *testing.T) {
	tests := []struct {
		name string
		in   float32
		want uint16
	}{
		{"Zero", 0, 0x0000},
		{"NegativeZero", float32(math.Copysign(0, -1)), 0x8000},
		{"One", 1, 0x3c00},
		{"Half", 0.5, 0x3800},
		{"MinusTwo", -2, 0xc000},
		{"PointOneRoundsToNearest", 0.1, 0x2e66},
		{"Max", 65504, 0x7bff},
		{"OverflowIsInf", 70000, 0x7c00},
		{"Inf", float32(math.Inf(-1)), 0xfc00},
		{"NaNStaysNaN", float32(math.NaN()), 0x7e00},
		{"SmallestNormal", 1.0 / (1 << 14), 0x0400},
		{"SmallestSubnormal", 1.0 / (1 << 24), 0x0001},
		{"TieToEvenUnderflowsToZero", 1.0 / (1 << 25), 0x0000},
		{"AboveTieRoundsUp", 1.5 / (1 << 25), 0x0001},
		{"TinyIsZero", 1e-10, 0x0000},
		{"TieRoundsToEven", 1 + 1.0/(1<<11), 0x3c00},
		{"TieRoundsUpToEven", 1 + 3.0/(1<<11), 0x3c02},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := float16Bits(tt.in); got != tt.want {
				t.Fatalf("float16Bits(%g) = %#04x, want %#04x", tt.in, got, tt.want)
			}
		})
	}
}

// TestFloat16RoundTripIsExactForHalves: every finite half widens and
// narrows back to itself.
func TestFloat16RoundTripIsExactForHalves(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		if h&0x7c00 == 0x7c00 && h&0x3ff != 0 {
			continue // NaN payloads are not preserved
		}
		if got := float16Bits(fromFloat16(uint16(h))); got != uint16(h) {
			t.Fatalf("%#04x -> %g -> %#04x", h, fromFloat16(uint16(h)), got)
		}
	}
}

func TestScan128F16MatchesWidenedRows(t *testing.T) {
	withKernel(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		probe := randomRows(r, 1)
		const n = 513
		vecs := randomRows(r, n)
		half := make([]uint16, len(vecs))
		toFloat16(half, vecs)
		wide := make([]float32, len(half))
		for i, h := range half {
			wide[i] = fromFloat16(h)
		}
		dist := make([]float32, n)
		scan128F16(probe, half, dist)
		for i := range dist {
			want := squaredL2x128(probe, wide[i*128:i*128+128])
			if d := math.Abs(float64(dist[i] - want)); d > 1e-6*float64(want)+1e-9 {
				t.Fatalf("row %d: f16 scan %v, widened scalar %v", i, dist[i], want)
			}
		}
	})
}

// TestFloat16SearchKeepsRecallAt1 compares the nearest row of float16
// search with exact float32 search on a clustered synthetic gallery shaped
// like face descriptors: identities whose genuine distance is ≈ 0.4 and
// impostor distance ≈ 0.7-0.8, as dlib's ResNet gives. The nearest row must
// agree for at least 99.9% of probes and distances stay within 1e-3.
func TestFloat16SearchKeepsRecallAt1(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	ids, probes := 20000, 2000
	if testing.Short() {
		ids, probes = 5000, 500
	}
	centres := randomRows(r, ids)
	for i := range centres {
		centres[i] *= 1.1
	}
	noisy := func(id int) []float32 {
		v := make([]float32, 128)
		for i := range v {
			v[i] = centres[id*128+i] + float32(r.NormFloat64()*0.3/math.Sqrt(128))
		}
		return v
	}
	gallery := make([]float32, 0, ids*128)
	for id := 0; id < ids; id++ {
		gallery = append(gallery, noisy(id)...)
	}
	half := make([]uint16, len(gallery))
	toFloat16(half, gallery)
	d32, d16 := make([]float32, ids), make([]float32, ids)
	argmin := func(d []float32) int {
		best := 0
		for i, v := range d {
			if v < d[best] {
				best = i
			}
		}
		return best
	}
	differ, wrong := 0, 0
	maxErr := 0.0
	for p := 0; p < probes; p++ {
		id := r.IntN(ids)
		probe := noisy(id)
		scan128(probe, gallery, d32)
		scan128F16(probe, half, d16)
		a, b := argmin(d32), argmin(d16)
		if a != b {
			differ++
		}
		if a != id {
			wrong++
		}
		maxErr = max(maxErr, math.Abs(math.Sqrt(float64(d32[a]))-math.Sqrt(float64(d16[a]))))
	}
	t.Logf("%d probes over %d rows: float32 recall@1 %.4f, float16 top-1 differs on %d, max distance error %.2g",
		probes, ids, 1-float64(wrong)/float64(probes), differ, maxErr)
	if float64(differ) > 0.001*float64(probes) {
		t.Fatalf("float16 top-1 differs from float32 on %d of %d probes (> 0.1%%)", differ, probes)
	}
	if maxErr > 1e-3 {
		t.Fatalf("float16 distance error %g > 1e-3", maxErr)
	}
}

// benchRows is the gallery size of the kernel benchmarks (1M faces).
const benchRows = 1_000_000

var benchGallery = sync.OnceValues(func() ([]float32, []uint16) {
	v := randomRows(rand.New(rand.NewPCG(9, 9)), benchRows)
	h := make([]uint16, len(v))
	toFloat16(h, v)
	return v, h
})

// int8Codes quantises rows (128 values each) with one scale, as a float16
// group's prefilter codes, and returns them with the probe's codes.
func int8Codes(rows, probe []float32) ([]int8, *[128]int16) {
	var m float64
	for _, x := range rows {
		m = max(m, math.Abs(float64(x)))
	}
	codes := make([]int8, len(rows))
	for r := 0; r < len(rows); r += 128 {
		quantize(codes[r:r+128], rows[r:r+128], m/127)
	}
	var pc [128]int8
	quantize(pc[:], probe, m/127)
	var pw [128]int16
	for i, q := range pc {
		pw[i] = int16(q)
	}
	return codes, &pw
}

// BenchmarkScan1M times one exhaustive distance pass over 1M rows (no
// top-k): the scalar Go kernel row by row, the batched kernel on float32
// rows, on float16 rows and on the int8 prefilter codes, on one goroutine
// and split across GOMAXPROCS.
func BenchmarkScan1M(b *testing.B) {
	if testing.Short() {
		b.Skip("1M rows in -short")
	}
	vecs, half := benchGallery()
	probe := randomRows(rand.New(rand.NewPCG(1, 1)), 1)
	dist := make([]float32, benchRows)
	codes, pcodes := int8Codes(vecs, probe)
	idist := make([]int32, benchRows)
	parallel := func(f func(lo, hi int)) {
		w := runtime.GOMAXPROCS(0)
		var wg sync.WaitGroup
		chunk := (benchRows + w - 1) / w
		for lo := 0; lo < benchRows; lo += chunk {
			hi := min(lo+chunk, benchRows)
			wg.Add(1)
			go func() { defer wg.Done(); f(lo, hi) }()
		}
		wg.Wait()
	}
	cases := []struct {
		name string
		run  func(lo, hi int)
	}{
		{"ScalarGo", func(lo, hi int) {
			for r := lo; r < hi; r++ {
				dist[r] = squaredL2x128(probe, vecs[r*128:r*128+128])
			}
		}},
		{"Float32", func(lo, hi int) { scan128(probe, vecs[lo*128:hi*128], dist[lo:hi]) }},
		{"Float16", func(lo, hi int) { scan128F16(probe, half[lo*128:hi*128], dist[lo:hi]) }},
		{"Int8", func(lo, hi int) { scan128I8(pcodes, codes[lo*128:hi*128], idist[lo:hi]) }},
	}
	// cpu reports CPU ms per scan next to the wall-clock ns/op: with one
	// goroutine they agree on an idle machine.
	cpu := func(b *testing.B, t0 int64) {
		b.ReportMetric(float64(processCPUNanos()-t0)/1e6/float64(b.N), "cpu-ms/scan")
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			t0 := processCPUNanos()
			for b.Loop() {
				c.run(0, benchRows)
			}
			cpu(b, t0)
		})
		b.Run(c.name+"Parallel", func(b *testing.B) {
			t0 := processCPUNanos()
			for b.Loop() {
				parallel(c.run)
			}
			cpu(b, t0)
		})
	}
}

// BenchmarkScanCached times the kernels on 4096 rows (2 MB of float32),
// which stay in cache: the arithmetic cost per row, free of the memory
// bandwidth that bounds a 1M-row scan (and that other tenants of a shared
// machine eat into).
func BenchmarkScanCached(b *testing.B) {
	const n = 4096
	r := rand.New(rand.NewPCG(2, 2))
	vecs := randomRows(r, n)
	half := make([]uint16, len(vecs))
	toFloat16(half, vecs)
	probe := randomRows(r, 1)
	dist := make([]float32, n)
	codes, pcodes := int8Codes(vecs, probe)
	idist := make([]int32, n)
	perRow := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/row")
	}
	b.Run("ScalarGo", func(b *testing.B) {
		for b.Loop() {
			for i := range dist {
				dist[i] = squaredL2x128(probe, vecs[i*128:i*128+128])
			}
		}
		perRow(b)
	})
	b.Run("Float32", func(b *testing.B) {
		for b.Loop() {
			scan128(probe, vecs, dist)
		}
		perRow(b)
	})
	b.Run("Float16", func(b *testing.B) {
		for b.Loop() {
			scan128F16(probe, half, dist)
		}
		perRow(b)
	})
	b.Run("Int8", func(b *testing.B) {
		for b.Loop() {
			scan128I8(pcodes, codes, idist)
		}
		perRow(b)
	})
}

// forEachVariant runs f for both row precisions, each with the SIMD kernels
// and with the portable loops.
func forEachVariant(t *testing.T, f func(t *testing.T, p Precision)) {
	for _, p := range []Precision{Float32, Float16} {
		t.Run(string(p), func(t *testing.T) {
			withKernel(t, func(t *testing.T) { f(t, p) })
		})
	}
}

// TestToFloat16MatchesBits: the F16C conversion gives float16Bits' result
// for every finite value class: normal, subnormal, ties, overflow, zeros.
func TestToFloat16MatchesBits(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	var src []float32
	for _, v := range []float32{0, float32(math.Copysign(0, -1)), 1, -2, 0.1, 65504, 65519, 65520, -70000,
		1.0 / (1 << 14), 1.0 / (1 << 24), 1.0 / (1 << 25), 1.5 / (1 << 25), 1e-10, 1 + 1.0/(1<<11), 1 + 3.0/(1<<11)} {
		src = append(src, v)
	}
	for len(src) < 4099 { // not a multiple of 8: the tail takes the Go path
		switch r.IntN(3) {
		case 0:
			src = append(src, float32(r.NormFloat64()*0.1))
		case 1:
			src = append(src, math.Float32frombits(r.Uint32()&^(0xff<<23)|uint32(100+r.IntN(50))<<23)) // around float16's range edges
		default:
			src = append(src, float32(r.NormFloat64()*1e5))
		}
	}
	withKernel(t, func(t *testing.T) {
		dst := make([]uint16, len(src))
		toFloat16(dst, src)
		for i, v := range src {
			if want := float16Bits(v); dst[i] != want {
				t.Fatalf("toFloat16(%g) = %#04x, want %#04x", v, dst[i], want)
			}
		}
	})
}
