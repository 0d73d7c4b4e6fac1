package sqlite

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/internal/blob"
)

// fillLibrary writes n synthetic faces (random unit 128-d vectors, two
// faces per user, groups of 100k faces) straight into the tables in one
// transaction; going through AddFace would spend the benchmark's time on
// per-face commits that Open does not care about.
func fillLibrary(tb testing.TB, db *DB, app string, n int) {
	tb.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, uint64(n)))
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	insGroup, _ := tx.Prepare(`INSERT INTO groups (app_id, group_id, created) VALUES (?, ?, 0)`)
	insUser, _ := tx.Prepare(`INSERT INTO users (group_ref, user_id, info, created) VALUES (?, ?, 'info', 0)`)
	insFace, _ := tx.Prepare(`INSERT INTO faces (user_ref, face_token, model, vector, created) VALUES (?, ?, ?, ?, 0)`)
	vec := make([]float32, 128)
	var gref, uref int64
	for i := 0; i < n; i++ {
		if i%100_000 == 0 {
			res, err := insGroup.Exec(app, fmt.Sprintf("g%d", i/100_000))
			if err != nil {
				tb.Fatal(err)
			}
			gref, _ = res.LastInsertId()
		}
		if i%2 == 0 {
			res, err := insUser.Exec(gref, fmt.Sprintf("u%d", i/2))
			if err != nil {
				tb.Fatal(err)
			}
			uref, _ = res.LastInsertId()
		}
		var norm float64
		for j := range vec {
			vec[j] = float32(r.NormFloat64())
			norm += float64(vec[j]) * float64(vec[j])
		}
		for j := range vec {
			vec[j] /= float32(math.Sqrt(norm))
		}
		if _, err := insFace.Exec(uref, fmt.Sprintf("%032x", i), model, blob.EncodeVector(vec)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkOpen measures Open (migrations check plus streaming every face
// into the index) until the index answers a search, on libraries of
// synthetic random unit vectors (two faces per user, generated-shape face
// tokens), with the default index precision. The library is written once
// per size, outside the timing.
//
//	go test -run '^$' -bench Open/Faces1000000 -benchtime 3x ./store/sqlite
func BenchmarkOpen(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("Faces%d", n), func(b *testing.B) {
			if n > 100_000 && testing.Short() {
				b.Skip("1M faces in -short")
			}
			path := filepath.Join(b.TempDir(), "bench.db")
			db, err := Open(path, Options{})
			if err != nil {
				b.Fatal(err)
			}
			app := MustCreateApp(b, db)
			fillLibrary(b, db, app, n)
			db.Close()
			probe := store.Embedding{Model: model, Vector: make([]float32, 128)}
			probe.Vector[0] = 1
			b.ResetTimer()
			t0 := processCPUNanos()
			for b.Loop() {
				db, err := Open(path, Options{})
				if err != nil {
					b.Fatal(err)
				}
				// Open returns with the index searchable: one search of
				// the first group proves it and is part of the time.
				if db.Index().Len() != n {
					b.Fatalf("index has %d faces, want %d", db.Index().Len(), n)
				}
				if c, err := db.Index().Search(app, []string{"g0"}, probe, "", 1); err != nil || len(c) != 1 {
					b.Fatalf("search after open: %v, %v", c, err)
				}
				db.Close()
			}
			b.ReportMetric(float64(processCPUNanos()-t0)/1e9/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "faces/s")
		})
	}
}

// BenchmarkAddFace is one durable enrollment (synchronous=FULL commit).
func BenchmarkAddFace(b *testing.B) {
	db, _ := MustOpenDB(b, Options{})
	app := MustCreateApp(b, db)
	ctx := context.Background()
	e := crashVector(1)
	i := 0
	for b.Loop() {
		_, err := db.AddFace(ctx, app, store.User{GroupID: "g", UserID: fmt.Sprintf("u%d", i)},
			store.Face{Token: fmt.Sprintf("t%d", i), Embedding: e}, store.ActionAppend)
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkFaceTokens writes detected faces to the face-token cache of a
// file-backed library: one at a time (what a detect of one face costs) and
// as a batch of 8 (what the service's background writer sends under
// load). Before issue 13 each put was a synchronous=FULL commit, an fsync
// per token.
func BenchmarkFaceTokens(b *testing.B) {
	for _, batch := range []int{1, 8} {
		b.Run(fmt.Sprintf("Batch%d", batch), func(b *testing.B) {
			db, _ := MustOpenDB(b, Options{})
			app := MustCreateApp(b, db)
			ctx := context.Background()
			entries := make([]store.FaceTokenEntry, batch)
			b.ResetTimer()
			for i := range b.N {
				for j := range entries {
					entries[j] = store.FaceTokenEntry{App: app, Face: store.DetectedFace{
						Token: fmt.Sprintf("t%d_%d", i, j), Embedding: emb(1, 2)}}
				}
				if err := db.PutFaceTokens(ctx, entries); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/token")
		})
	}
}
