package tfgraph

import (
	"runtime"
	"testing"
	"time"
)

// BenchmarkRun times one Run per model with the deterministic pattern
// input; use -cpu 1,2 to see single-core and parallel numbers.
func BenchmarkRun(b *testing.B) {
	for _, name := range modelNames {
		b.Run(name, func(b *testing.B) {
			m := MustLoad(b, name)
			in := patternInput(m)
			b.ResetTimer()
			cpu := processCPU()
			for i := 0; i < b.N; i++ {
				if _, err := m.Run(in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((processCPU()-cpu)*1e3/float64(b.N), "cpu-ms/op")
		})
	}
}

// BenchmarkOpTime breaks one Run per model down by op type and reports the
// milliseconds spent in each as custom metrics (ms/<op>), to show where
// optimisation pays.
func BenchmarkOpTime(b *testing.B) {
	for _, name := range modelNames {
		b.Run(name, func(b *testing.B) {
			m := MustLoad(b, name)
			in := patternInput(m)
			spent := map[string]time.Duration{}
			rc := &runCtx{workers: runtime.GOMAXPROCS(0), trace: func(n *node, d time.Duration) { spent[n.op] += d }}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := m.run(rc, in, nil); err != nil {
					b.Fatal(err)
				}
			}
			for op, d := range spent {
				b.ReportMetric(float64(d.Microseconds())/1e3/float64(b.N), "ms/"+op)
			}
		})
	}
}
