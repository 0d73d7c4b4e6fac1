package tfgraph

import "testing"

// BenchmarkRun times one Run per model with the deterministic pattern
// input; use -cpu 1,2 to see single-core and parallel numbers.
func BenchmarkRun(b *testing.B) {
	for _, name := range modelNames {
		b.Run(name, func(b *testing.B) {
			m := MustLoad(b, name)
			in := patternInput(m)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := m.Run(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
