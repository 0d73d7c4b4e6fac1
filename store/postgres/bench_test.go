package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/facekit/facekit/internal/pgtest"
	"github.com/facekit/facekit/store"
)

// benchFaces is the library size of BenchmarkLoad: $FACEKIT_BENCH_FACES,
// default 100000 (1000000 is the documented measurement; filling it takes
// a few minutes and about 1 GB of disk).
func benchFaces() int {
	if n, err := strconv.Atoi(os.Getenv("FACEKIT_BENCH_FACES")); err == nil && n > 0 {
		return n
	}
	return 100000
}

// fillByCopy writes n faces (128-d, one per user, 10000 users per group)
// straight into the tables with COPY and returns the app id.
func fillByCopy(tb testing.TB, dsn string, n int) string {
	tb.Helper()
	ctx := context.Background()
	db := mustOpen(tb, dsn, Options{PollInterval: -1, NoListen: true})
	app := mustApp(tb, db)
	db.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	const perGroup = 10000
	groups := (n + perGroup - 1) / perGroup
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"groups"}, []string{"id", "app_id", "group_id", "created"},
		pgx.CopyFromSlice(groups, func(i int) ([]any, error) {
			return []any{int64(i + 1), app, fmt.Sprintf("g%d", i), int64(0)}, nil
		}))
	if err != nil {
		tb.Fatal(err)
	}
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"users"}, []string{"id", "group_ref", "user_id", "info", "created"},
		pgx.CopyFromSlice(n, func(i int) ([]any, error) {
			return []any{int64(i + 1), int64(i/perGroup + 1), fmt.Sprintf("u%d", i), "", int64(0)}, nil
		}))
	if err != nil {
		tb.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	v := make([]float32, 128)
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"faces"}, []string{"id", "user_ref", "face_token", "model", "vector", "created"},
		pgx.CopyFromSlice(n, func(i int) ([]any, error) {
			for j := range v {
				v[j] = float32(r.NormFloat64() * 0.1)
			}
			return []any{int64(i + 1), int64(i + 1), fmt.Sprintf("f%d", i), "test_model", encodeVector(v), int64(0)}, nil
		}))
	if err != nil {
		tb.Fatal(err)
	}
	for _, t := range []string{"groups", "users", "faces"} {
		if _, err := conn.Exec(ctx, fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT max(id) FROM %s))`, t, t)); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		tb.Fatal(err)
	}
	return app
}

// BenchmarkLoad measures how long a node takes to build its index from
// PostgreSQL (Open), the CPU time it and the server spent (on a shared
// machine wall time mostly measures the other tenants; node and server
// run in parallel, so on an idle machine wall time is about the larger
// CPU time), and the index's heap per face.
func BenchmarkLoad(b *testing.B) {
	n := benchFaces()
	dsn := pgtest.NewDatabase(b)
	fillByCopy(b, dsn, n)
	b.ResetTimer()
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		srv := pgtest.Shared(b)
		start, cpu0, srvCPU0 := time.Now(), processCPUNanos(), srv.CPUTime()
		db, err := Open(context.Background(), dsn, Options{PollInterval: -1, NoListen: true})
		if err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		b.ReportMetric(float64(processCPUNanos()-cpu0)/1e9, "node-cpu-s")
		b.ReportMetric((srv.CPUTime() - srvCPU0).Seconds(), "pg-cpu-s")
		runtime.GC()
		runtime.ReadMemStats(&after)
		if db.Index().Len() != n {
			b.Fatalf("index holds %d faces, want %d", db.Index().Len(), n)
		}
		b.ReportMetric(elapsed.Seconds(), "s/load")
		b.ReportMetric(float64(n)/elapsed.Seconds(), "faces/s")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "heapB/face")
		db.Close()
	}
}

// BenchmarkAddFace measures enrollment throughput (library write plus
// index update) with one node and with two nodes writing at once.
func BenchmarkAddFace(b *testing.B) {
	for _, nodes := range []int{1, 2} {
		b.Run(fmt.Sprintf("Nodes%d", nodes), func(b *testing.B) {
			dsn := pgtest.NewDatabase(b)
			var dbs []*DB
			for range nodes {
				dbs = append(dbs, mustOpen(b, dsn, Options{}))
			}
			app := mustApp(b, dbs[0])
			var wg sync.WaitGroup
			b.ResetTimer()
			// Two writers per node: what a loaded node's HTTP handlers do.
			for w := range 2 * nodes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					db := dbs[w%nodes]
					for i := w; i < b.N; i += 2 * nodes {
						v := crashVector(i)
						if err := addFace(db, app, fmt.Sprintf("g%d", i%10), fmt.Sprintf("u%d", i), "t", v); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
		})
	}
}

// BenchmarkFollowLatency measures the time from AddFace returning on node
// A to node B's search finding the face, reported as p50 and p99.
func BenchmarkFollowLatency(b *testing.B) {
	dsn := pgtest.NewDatabase(b)
	a := mustOpen(b, dsn, Options{})
	nodeB := mustOpen(b, dsn, Options{})
	app := mustApp(b, a)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		v := crashVector(i)
		tok := fmt.Sprintf("t%d", i)
		if err := addFace(a, app, "g", fmt.Sprintf("u%d", i), tok, v); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for !found(nodeB, app, "g", tok, v) {
			if time.Since(start) > 20*time.Second {
				b.Fatalf("B never saw %s", tok)
			}
			time.Sleep(200 * time.Microsecond)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkSearch measures search latency (p50, p99) on a node holding a
// 10000-face group: alone, and while another node enrolls into the group
// continuously, so that the follower's index updates contend with the
// searches. PostgreSQL is not on the search path either way.
func BenchmarkSearch(b *testing.B) {
	for _, writer := range []bool{false, true} {
		name := "Alone"
		if writer {
			name = "WhileOtherNodeEnrolls"
		}
		b.Run(name, func(b *testing.B) {
			dsn := pgtest.NewDatabase(b)
			app := fillByCopy(b, dsn, 10000)
			node := mustOpen(b, dsn, Options{})
			stop := make(chan struct{})
			var wg sync.WaitGroup
			if writer {
				other := mustOpen(b, dsn, Options{})
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						if err := addFace(other, app, "g0", fmt.Sprintf("w%d", i), "t", crashVector(i)); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			probe := store.Embedding{Model: "test_model", Vector: make([]float32, 128)}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if _, err := node.Search(context.Background(), app, []string{"g0"}, probe, "", 5); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			close(stop)
			wg.Wait()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
