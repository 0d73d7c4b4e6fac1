package index

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/facekit/facekit/store"
)

// buildIndex fills one group of an index of precision p with n synthetic
// random unit vectors (128-d, one face per user, ids shaped like
// production's: 32-hex-digit face tokens). Real descriptors cluster by
// identity; for an exhaustive scan only the row count and dimension matter.
func buildIndex(tb testing.TB, p Precision, n int) *Index {
	tb.Helper()
	r := rand.New(rand.NewPCG(11, uint64(n)))
	x := mustNewIndex(tb, p)
	err := x.Update(func(w *Writer) error {
		w.Reserve("app", "g", n)
		for i := 0; i < n; i++ {
			u := store.User{UserID: fmt.Sprintf("user_%07d", i)}
			if err := w.AddFace("app", "g", u, fmt.Sprintf("%032x", r.Uint64()), store.Embedding{Model: testModel, Vector: unitVector(r, 128)}); err != nil {
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

// heapInUse is the live Go heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkSearch is exhaustive top-10 search of one group of synthetic
// random unit vectors through Index.Search, for both row precisions. It
// reports rows scanned per second, CPU ms per search (on a shared machine
// wall time mostly measures the other tenants; with -cpu 1 the two agree on
// an idle one), the heap the index holds and, for float16, how many rows
// the int8 prefilter leaves to score in float16.
//
//	go test -run '^$' -bench Search -cpu 1 ./store/index
func BenchmarkSearch(b *testing.B) {
	for _, p := range []Precision{Float32, Float16} {
		for _, n := range []int{10_000, 100_000, 1_000_000} {
			b.Run(fmt.Sprintf("%s/Rows%d", p, n), func(b *testing.B) {
				if n > 100_000 && testing.Short() {
					b.Skip("1M rows in -short")
				}
				before := heapInUse()
				x := buildIndex(b, p, n)
				held := heapInUse() - before
				probe := store.Embedding{Model: testModel, Vector: unitVector(rand.New(rand.NewPCG(1, 2)), 128)}
				b.ReportAllocs()
				b.ResetTimer()
				t0 := processCPUNanos()
				for b.Loop() {
					if _, err := x.Search("app", []string{"g"}, probe, "", 10); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(processCPUNanos()-t0)/1e6/float64(b.N), "cpu-ms/op")
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
				b.ReportMetric(float64(held)/(1<<20), "heap-MB")
				if n, _ := x.Shortlist("app", "g", probe.Vector, 10); n >= 0 {
					b.ReportMetric(float64(n), "float16-rows")
				}
				runtime.KeepAlive(x)
			})
		}
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
