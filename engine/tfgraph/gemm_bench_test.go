package tfgraph

import "testing"

func BenchmarkGEMM(b *testing.B) {
	m, n, k := 256, 128, 576
	a := make([]float32, m*k)
	bm := make([]float32, k*n)
	for i := range a {
		a[i] = float32(i%7) * 0.1
	}
	for i := range bm {
		bm[i] = float32(i%5) * 0.1
	}
	bp := packB(bm, k, n)
	c := make([]float32, m*n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		gemm(m, n, k, a, k, bp, c, n)
	}
	b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
}
