package service

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/internal/testenv"
	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/sqlite"
)

// realService returns a service on the test engine, the ResNet and a fresh
// SQLite library opened with opts; tokens, when not nil, replaces the
// library as Deps.FaceTokens.
func realService(tb testing.TB, opts sqlite.Options, cfg Config, tokens func(*sqlite.DB) store.FaceTokens) (*Service, *sqlite.DB) {
	tb.Helper()
	eng := testenv.Engine(tb)
	resnet, err := descriptor.Open(descriptor.ResNet, descriptor.Env{Engine: eng})
	if err != nil {
		tb.Fatal(err)
	}
	db, err := sqlite.Open(filepath.Join(tb.TempDir(), "facekit.db"), opts)
	if err != nil {
		tb.Fatal(err)
	}
	var ft store.FaceTokens = db
	if tokens != nil {
		ft = tokens(db)
	}
	s, err := New(cfg, Deps{Engine: eng, Descriptor: resnet, Library: db, Searcher: db, Apps: db, FaceTokens: ft})
	if err != nil {
		tb.Fatal(err)
	}
	// Registered after db.Close, so it runs first: the writer finishes
	// before the database closes.
	tb.Cleanup(func() { s.FlushFaceTokens(context.Background()) })
	tb.Cleanup(func() { db.Close() })
	return s, db
}

func mustApp(tb testing.TB, db *sqlite.DB) string {
	tb.Helper()
	a, _, err := db.CreateApp(context.Background(), "t")
	if err != nil {
		tb.Fatal(err)
	}
	return a.ID
}

// photoNames lists the shared test photos.
func photoNames(tb testing.TB) []string {
	tb.Helper()
	entries, err := os.ReadDir(filepath.Join(testenv.TestData(tb), "faces"))
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// TestFaceTokensBoundPerApp: with max_face_tokens=10, app B's token still
// resolves after 12 detects by app A (issue 13: it answered 222209,
// face token not found, because eviction ignored the owner).
func TestFaceTokensBoundPerApp(t *testing.T) {
	if testing.Short() {
		t.Skip("detects 13 photos")
	}
	ctx := context.Background()
	s, db := realService(t, sqlite.Options{MaxFaceTokens: 10}, Config{}, nil)
	appA, appB := mustApp(t, db), mustApp(t, db)
	names := photoNames(t)
	fb, err := s.DetectOne(ctx, appB, ImageSource{Kind: ImageBytes, Bytes: testenv.Photo(t, names[0])})
	if err != nil {
		t.Fatal(err)
	}
	var tokensA []string
	for _, name := range names[1:] {
		if len(tokensA) == 12 {
			break
		}
		f, err := s.DetectOne(ctx, appA, ImageSource{Kind: ImageBytes, Bytes: testenv.Photo(t, name)})
		if errors.Is(err, ErrNoFace) {
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		tokensA = append(tokensA, f.Token)
	}
	if len(tokensA) < 12 {
		t.Fatalf("only %d photos with a face", len(tokensA))
	}
	if err := s.FlushFaceTokens(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecallFace(ctx, appB, fb.Token); err != nil {
		t.Fatalf("app B's token after 12 detects by app A: %v", err)
	}
	if _, err := s.RecallFace(ctx, appA, tokensA[0]); !errors.Is(err, ErrFaceTokenNotFound) {
		t.Errorf("app A's oldest token: %v, want evicted (ErrFaceTokenNotFound)", err)
	}
	if _, err := s.RecallFace(ctx, appA, tokensA[11]); err != nil {
		t.Errorf("app A's newest token: %v", err)
	}
}

// gatedTokens is the real SQLite cache behind a gate: PutFaceTokens waits
// until the test opens it, as a slow disk would make it wait.
type gatedTokens struct {
	*sqlite.DB
	gate    chan struct{}
	started chan struct{}
}

func (g gatedTokens) PutFaceTokens(ctx context.Context, e []store.FaceTokenEntry) error {
	select {
	case g.started <- struct{}{}:
	default:
	}
	<-g.gate
	return g.DB.PutFaceTokens(ctx, e)
}

// TestFaceTokenReadYourWrites: a detect answers, and frees its analysis
// slot, without waiting for its token rows; a FACE_TOKEN call right after
// it still finds the face (from the writer's pending entries), and once the
// writer is done the store has it.
func TestFaceTokenReadYourWrites(t *testing.T) {
	ctx := context.Background()
	g := gatedTokens{gate: make(chan struct{}), started: make(chan struct{}, 1)}
	s, db := realService(t, sqlite.Options{}, Config{Concurrency: 1, QueueTimeout: 2 * time.Second}, func(db *sqlite.DB) store.FaceTokens {
		g.DB = db
		return g
	})
	app := mustApp(t, db)
	opened := false
	defer func() {
		if !opened {
			close(g.gate)
		}
	}()
	f, err := s.DetectOne(ctx, app, ImageSource{Kind: ImageBytes, Bytes: testenv.Photo(t, "bona.jpg")})
	if err != nil {
		t.Fatal(err)
	}
	<-g.started // the writer holds the batch at the gate
	if _, err := db.GetFaceToken(ctx, app, f.Token); !errors.Is(err, store.ErrFaceNotFound) {
		t.Fatalf("store has the token before the write: %v", err)
	}
	got, err := s.RecallFace(ctx, app, f.Token)
	if err != nil || got.Rect != f.Rect || len(got.Vector) != len(f.Vector) {
		t.Fatalf("RecallFace right after detect = %+v, %v", got, err)
	}
	// The one analysis slot is free although the write still waits.
	if _, err := s.DetectOne(ctx, app, ImageSource{Kind: ImageBytes, Bytes: testenv.Photo(t, "joy.jpg")}); err != nil {
		t.Fatalf("second detect while the first one's tokens wait: %v", err)
	}
	opened = true
	close(g.gate)
	if err := s.FlushFaceTokens(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.tokens.get(app, f.Token); ok {
		t.Error("token still pending after the flush")
	}
	if _, err := db.GetFaceToken(ctx, app, f.Token); err != nil {
		t.Fatalf("store after the flush: %v", err)
	}
}

// BenchmarkDetectFaces measures a detect of the group photo (up to 10
// faces, each cached under its token) on a file-backed library: before
// issue 13 every face's token row was a synchronous=FULL transaction
// written while the request held its analysis slot.
func BenchmarkDetectFaces(b *testing.B) {
	ctx := context.Background()
	s, db := realService(b, sqlite.Options{}, Config{}, nil)
	app := mustApp(b, db)
	raw := testenv.Photo(b, "pristin.jpg")
	b.ResetTimer()
	for range b.N {
		det, err := s.DetectFaces(ctx, app, ImageSource{Kind: ImageBytes, Bytes: raw}, DetectOptions{MaxFaces: 10})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(det.Faces)), "faces")
	}
}
