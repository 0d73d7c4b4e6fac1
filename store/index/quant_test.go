package index

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// clusteredRows makes n rows of dim 128 around n/2 identities: each
// identity's two faces lie ~0.4 apart and identities ~0.9 apart, the
// distances dlib's descriptors show for same and different people. It
// returns the rows and one fresh probe per identity of the first queries
// identities (a third sample of that person).
func clusteredRows(r *rand.Rand, n, queries int) (rows []float32, probes [][]float32) {
	const dim = 128
	mean := unitVector(r, dim)
	sample := func(center []float32) []float32 {
		v := make([]float32, dim)
		for i := range v {
			v[i] = center[i] + float32(r.NormFloat64()*0.4/math.Sqrt(2*dim))
		}
		return v
	}
	for id := 0; id < n/2; id++ {
		center := unitVector(r, dim)
		for i := range center {
			center[i] = mean[i]*0.5 + center[i]*0.64
		}
		rows = append(rows, sample(center)...)
		rows = append(rows, sample(center)...)
		if id < queries {
			probes = append(probes, sample(center))
		}
	}
	return rows, probes
}

func exactNearest(rows []float32, probe []float32) int {
	best, bestD := -1, math.Inf(1)
	for r := 0; r*128 < len(rows); r++ {
		var d float64
		for i, p := range probe {
			x := float64(p) - float64(rows[r*128+i])
			d += x * x
		}
		if d < bestD {
			best, bestD = r, d
		}
	}
	return best
}

// recallAt1 is the fraction of probes whose int8 top-1 (after re-ranking
// the int8 top rerank rows in float32, when rerank > 1) is the exact
// nearest row (exact[i] for probe i). With rowsPerID > 1 a hit is the
// right identity (rows r/rowsPerID), which is what 1:N search reports.
func recallAt1(m *Int8Matrix, rows []float32, probes [][]float32, exact []int, rerank, rowsPerID int) float64 {
	hits := 0
	for i, p := range probes {
		cands := m.Nearest(p, rerank)
		best, bestD := -1, float32(math.Inf(1))
		for _, c := range cands {
			if d := SquaredL2(p, rows[c*128:(c+1)*128]); d < bestD {
				best, bestD = c, d
			}
		}
		if best/rowsPerID == exact[i]/rowsPerID {
			hits++
		}
	}
	return float64(hits) / float64(len(probes))
}

// TestInt8Recall measures recall@1 of the int8 scan against exact float
// search, on face-like clustered data and on structureless random unit
// vectors (the worst case: neighbours nearly equidistant).
func TestInt8Recall(t *testing.T) {
	n, queries := 10000, 200
	if testing.Short() {
		n, queries = 4000, 100
	}
	exactAll := func(rows []float32, probes [][]float32) []int {
		out := make([]int, len(probes))
		for i, p := range probes {
			out[i] = exactNearest(rows, p)
		}
		return out
	}
	r := rand.New(rand.NewPCG(21, 21))
	clustered, cprobes := clusteredRows(r, n, queries)
	random := make([]float32, 0, n*128)
	var rprobes [][]float32
	for i := 0; i < n; i++ {
		random = append(random, unitVector(r, 128)...)
	}
	for i := 0; i < queries; i++ {
		rprobes = append(rprobes, unitVector(r, 128))
	}
	cm, rm := QuantizeInt8(clustered, 128), QuantizeInt8(random, 128)
	cexact, rexact := exactAll(clustered, cprobes), exactAll(random, rprobes)
	tests := []struct {
		name      string
		m         *Int8Matrix
		rows      []float32
		probes    [][]float32
		exact     []int
		rerank    int
		rowsPerID int
		minimum   float64
	}{
		// The two faces of one identity are often nearly equidistant from
		// a third sample, so the exact row is the stricter measure.
		{"ClusteredInt8OnlyRow", cm, clustered, cprobes, cexact, 1, 1, 0.95},
		{"ClusteredInt8OnlyIdentity", cm, clustered, cprobes, cexact, 1, 2, 0.99},
		{"ClusteredRerank8Row", cm, clustered, cprobes, cexact, 8, 1, 1},
		{"RandomInt8Only", rm, random, rprobes, rexact, 1, 1, 0.90},
		{"RandomRerank8", rm, random, rprobes, rexact, 8, 1, 0.99},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := recallAt1(tt.m, tt.rows, tt.probes, tt.exact, tt.rerank, tt.rowsPerID)
			t.Logf("recall@1 = %.4f over %d probes, %d rows", got, len(tt.probes), len(tt.rows)/128)
			if got < tt.minimum {
				t.Fatalf("recall@1 %.4f below %.2f", got, tt.minimum)
			}
		})
	}
}

func TestQuantizeInt8(t *testing.T) {
	m := QuantizeInt8([]float32{0, 0.5, -1, 1}, 2)
	if m.Len() != 2 || fmt.Sprint(m.codes) != "[0 64 -127 127]" {
		t.Fatalf("codes %v", m.codes)
	}
	// Probes beyond the matrix's range are clamped, not wrapped.
	if got := m.Nearest([]float32{0, 5}, 1); len(got) != 1 || got[0] != 0 {
		t.Fatalf("Nearest = %v", got)
	}
	if got := QuantizeInt8(make([]float32, 4), 2).Nearest([]float32{0, 0}, 5); fmt.Sprint(got) != "[0 1]" {
		t.Fatalf("all-zero matrix: %v", got)
	}
}

// BenchmarkInt8 compares a top-10 int8 scan with the float32 Index scan
// on the same 1M (or 100k) synthetic random unit vectors, single-threaded
// for the int8 side.
func BenchmarkInt8(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("Rows%d", n), func(b *testing.B) {
			if n > 100_000 && testing.Short() {
				b.Skip("1M rows in -short")
			}
			r := rand.New(rand.NewPCG(9, 9))
			rows := make([]float32, 0, n*128)
			for i := 0; i < n; i++ {
				rows = append(rows, unitVector(r, 128)...)
			}
			m := QuantizeInt8(rows, 128)
			probe := unitVector(r, 128)
			b.ResetTimer()
			for b.Loop() {
				m.Nearest(probe, 10)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
		})
	}
}
