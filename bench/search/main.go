// Command search measures 1:N search in store/index at gallery sizes a
// facekit deployment meets: build time, memory held by the index (vectors,
// user ids, face tokens) and exhaustive top-k latency.
//
// The descriptors are synthetic (seeded Gaussian vectors scaled to the
// norm of dlib descriptors): an exhaustive scan's cost depends only on
// rows and dimension, not on where the vectors lie. Ids have production
// shapes: 32-hex-digit face tokens and 12-character user ids.
//
//	GOMAXPROCS=1 go run ./bench/search -rows 10000,100000,1000000
package main

import (
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/facekit/facekit/bench/internal/cputime"
	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/index"
)

// model is the embedding model name the synthetic rows claim.
const model = "dlib_resnet_v1"

func main() {
	rowsFlag := flag.String("rows", "10000,100000,1000000", "comma-separated gallery sizes")
	queries := flag.Int("queries", 30, "searches per gallery size")
	k := flag.Int("k", 10, "top-k")
	flag.Parse()
	fmt.Printf("gomaxprocs %d\n", runtime.GOMAXPROCS(0))
	for _, f := range strings.Split(*rowsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			log.Fatalf("search: bad -rows entry %q", f)
		}
		if err := measure(n, *queries, *k); err != nil {
			log.Fatalf("search: %d rows: %v", n, err)
		}
	}
}

// vector returns a 128-d Gaussian vector with norm ≈ 0.5 (the typical
// length of a dlib face descriptor).
func vector(r *rand.Rand) []float32 {
	v := make([]float32, 128)
	var s float64
	for i := range v {
		x := r.NormFloat64()
		v[i] = float32(x)
		s += x * x
	}
	scale := float32(0.5 / math.Sqrt(s))
	for i := range v {
		v[i] *= scale
	}
	return v
}

func heapBytes() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func measure(n, queries, k int) error {
	r := rand.New(rand.NewPCG(1, uint64(n)))
	before := heapBytes()
	x := index.New()
	t0 := time.Now()
	err := x.Update(func(w *index.Writer) error {
		for i := 0; i < n; i++ {
			u := store.User{GroupID: "g", UserID: fmt.Sprintf("user_%07d", i)}
			token := fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64())
			if err := w.AddFace("app", "g", u, token, store.Embedding{Model: model, Vector: vector(r)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	build := time.Since(t0)
	held := heapBytes() - before

	probes := make([]store.Embedding, queries)
	for i := range probes {
		probes[i] = store.Embedding{Model: model, Vector: vector(r)}
	}
	// One untimed search: first touch of the scratch buffers.
	if _, err := x.Search("app", []string{"g"}, probes[0], "", k); err != nil {
		return err
	}
	lat := make([]float64, queries)
	c0 := cputime.Nanos()
	for i, p := range probes {
		t := time.Now()
		c, err := x.Search("app", []string{"g"}, p, "", k)
		if err != nil {
			return err
		}
		if len(c) != min(k, n) {
			return fmt.Errorf("got %d candidates, want %d", len(c), min(k, n))
		}
		lat[i] = float64(time.Since(t)) / 1e6
	}
	cpu := float64(cputime.Nanos()-c0) / 1e6 / float64(queries)
	sort.Float64s(lat)
	p99 := lat[min(len(lat)-1, int(math.Ceil(0.99*float64(len(lat))))-1)]
	fmt.Printf("rows %d build_s %.2f heap_mb %.1f bytes_per_face %.0f p50_ms %.2f p99_ms %.2f min_ms %.2f cpu_ms %.2f\n",
		n, build.Seconds(), float64(held)/(1<<20), float64(held)/float64(n), lat[len(lat)/2], p99, lat[0], cpu)
	runtime.KeepAlive(x)
	// Hand the freed gallery back to the OS before the next size.
	debug.FreeOSMemory()
	return nil
}
