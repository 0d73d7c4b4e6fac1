package tfgraph

import "testing"

// BenchmarkGEMM measures the GEMM alone on a wide 1×1-conv shape
// (K = N = 512, B larger than L2); GFLOPS counts CPU time, not wall time.
func BenchmarkGEMM(b *testing.B) {
	m, n, k := 256, 512, 512
	a := patterned(m, k).f
	bp := packB(patterned(k, n).f, k, n)
	c := make([]float32, m*n)
	b.ResetTimer()
	cpu := processCPU()
	for i := 0; i < b.N; i++ {
		gemm(m, n, k, a, k, bp, c, n)
	}
	b.ReportMetric(float64(2*m*n*k)*float64(b.N)/(processCPU()-cpu)/1e9, "GFLOPS")
}

func TestGEMMMatchesNaive(t *testing.T) {
	// Odd sizes exercise the single-row tail and the zero-padded panel.
	for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 7}, {7, 9, 3}, {16, 4, 16}} {
		m, n, k := sz[0], sz[1], sz[2]
		a, bm := patterned(m, k).f, patterned(k, n).f
		c := make([]float32, m*n)
		gemm(m, n, k, a, k, packB(bm, k, n), c, n)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var s float32
				for x := 0; x < k; x++ {
					s += a[i*k+x] * bm[x*n+j]
				}
				if d := s - c[i*n+j]; d > 1e-5 || d < -1e-5 {
					t.Fatalf("%v: C[%d,%d] = %v, want %v", sz, i, j, c[i*n+j], s)
				}
			}
		}
	}
}
