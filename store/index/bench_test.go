package index

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/facekit/facekit/store"
)

// buildIndex fills one group with n synthetic random unit vectors (128-d,
// one face per user). Real descriptors cluster by identity; for an
// exhaustive scan only the row count and dimension matter.
func buildIndex(tb testing.TB, n int) *Index {
	tb.Helper()
	r := rand.New(rand.NewPCG(11, uint64(n)))
	x := New()
	vec := make([]float32, 128)
	err := x.Update(func(w *Writer) error {
		for i := 0; i < n; i++ {
			copy(vec, unitVector(r, 128))
			if err := w.AddFace("app", "g", store.User{UserID: fmt.Sprintf("u%d", i)}, fmt.Sprintf("t%d", i), store.Embedding{Model: testModel, Vector: vec}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return x
}

// BenchmarkSearch is exhaustive top-10 search of one group of synthetic
// random unit vectors.
func BenchmarkSearch(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("Rows%d", n), func(b *testing.B) {
			if n > 100_000 && testing.Short() {
				b.Skip("1M rows in -short")
			}
			x := buildIndex(b, n)
			probe := store.Embedding{Model: testModel, Vector: unitVector(rand.New(rand.NewPCG(1, 2)), 128)}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := x.Search("app", []string{"g"}, probe, "", 10); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
		})
	}
}

func BenchmarkSquaredL2x128(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 5))
	p, q := unitVector(r, 128), unitVector(r, 128)
	var sink float32
	b.Run("Generic", func(b *testing.B) {
		for b.Loop() {
			sink += SquaredL2(p, q)
		}
	})
	b.Run("Fixed128", func(b *testing.B) {
		for b.Loop() {
			sink += squaredL2x128(p, q)
		}
	})
	_ = sink
}
