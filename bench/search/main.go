// Command search measures 1:N search in store/index at gallery sizes a
// facekit deployment meets: build time, memory held by the index (vectors,
// user ids, face tokens) and exhaustive top-k latency.
//
// The descriptors are synthetic (seeded Gaussian vectors scaled to the
// norm of dlib descriptors): an exhaustive scan's cost depends only on
// rows and dimension, not on where the vectors lie. Ids have production
// shapes: 32-hex-digit face tokens as facekit generates them, and user ids
// of -id-len characters (default 48, the longest Baidu's API documents;
// facekit accepts up to 128), -faces-per-user faces each (default 1, the
// most users and so the most memory for a number of faces).
//
// Each output line is one gallery size and index precision; heap_mb is
// the live heap the index holds after a full GC (runtime.ReadMemStats).
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
	precisions := flag.String("precision", "float16,float32", "comma-separated index precisions")
	idLen := flag.Int("id-len", 48, "user id length in characters (at least 12)")
	perUser := flag.Int("faces-per-user", 1, "faces per user")
	flag.Parse()
	if *idLen < 12 || *perUser < 1 {
		log.Fatal("search: -id-len must be at least 12 and -faces-per-user at least 1")
	}
	fmt.Printf("gomaxprocs %d\n", runtime.GOMAXPROCS(0))
	for _, f := range strings.Split(*rowsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			log.Fatalf("search: bad -rows entry %q", f)
		}
		for _, ps := range strings.Split(*precisions, ",") {
			p, err := index.ParsePrecision(strings.TrimSpace(ps))
			if err != nil {
				log.Fatalf("search: %v", err)
			}
			g := gallery{rows: n, precision: p, idLen: *idLen, perUser: *perUser}
			if err := measure(g, *queries, *k); err != nil {
				log.Fatalf("search: %d rows, %s: %v", n, p, err)
			}
		}
	}
}

// gallery describes the index one measurement builds.
type gallery struct {
	rows      int
	precision index.Precision
	idLen     int
	perUser   int
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

func measure(gal gallery, queries, k int) error {
	n := gal.rows
	r := rand.New(rand.NewPCG(1, uint64(n)))
	before := heapBytes()
	x, err := index.NewWithOptions(index.Options{Precision: gal.precision})
	if err != nil {
		return err
	}
	t0 := time.Now()
	err = x.Update(func(w *index.Writer) error {
		w.Reserve("app", "g", n) // as store/sqlite does when it loads a library
		for i := 0; i < n; i++ {
			u := store.User{GroupID: "g", UserID: fmt.Sprintf("user_%0*d", gal.idLen-5, i/gal.perUser)}
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
		if users := (n + gal.perUser - 1) / gal.perUser; len(c) != min(k, users) {
			return fmt.Errorf("got %d candidates, want %d", len(c), min(k, users))
		}
		lat[i] = float64(time.Since(t)) / 1e6
	}
	cpu := float64(cputime.Nanos()-c0) / 1e6 / float64(queries)
	sort.Float64s(lat)
	p99 := lat[min(len(lat)-1, int(math.Ceil(0.99*float64(len(lat))))-1)]
	fmt.Printf("rows %d build_s %.2f heap_mb %.1f bytes_per_face %.0f p50_ms %.2f p99_ms %.2f min_ms %.2f cpu_ms %.2f precision %s id_len %d faces_per_user %d\n",
		n, build.Seconds(), float64(held)/(1<<20), float64(held)/float64(n), lat[len(lat)/2], p99, lat[0], cpu, gal.precision, gal.idLen, gal.perUser)
	runtime.KeepAlive(x)
	// Hand the freed gallery back to the OS before the next size.
	debug.FreeOSMemory()
	return nil
}
