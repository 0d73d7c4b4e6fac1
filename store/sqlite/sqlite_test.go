package sqlite

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/index"
	"github.com/facekit/facekit/store/storetest"
)

const model = "test_model"

// MustOpenDB opens a database in a temporary directory and closes it when
// the test ends.
func MustOpenDB(tb testing.TB, opts Options) (*DB, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "facekit.db")
	db, err := Open(path, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db, path
}

// MustCreateApp creates an application and returns its id.
func MustCreateApp(tb testing.TB, db *DB) string {
	tb.Helper()
	a, _, err := db.CreateApp(context.Background(), "test")
	if err != nil {
		tb.Fatal(err)
	}
	return a.ID
}

func emb(v ...float32) store.Embedding { return store.Embedding{Model: model, Vector: v} }

// MustAddFace enrolls a face with ActionAppend.
func MustAddFace(tb testing.TB, db *DB, app, group, user, token string, e store.Embedding) {
	tb.Helper()
	if _, err := db.AddFace(context.Background(), app, store.User{GroupID: group, UserID: user}, store.Face{Token: token, Embedding: e}, store.ActionAppend); err != nil {
		tb.Fatalf("AddFace(%s/%s/%s): %v", group, user, token, err)
	}
}

func tokens(faces []store.Face) []string {
	var out []string
	for _, f := range faces {
		out = append(out, f.Token)
	}
	return out
}

func TestOpenSetsPragmas(t *testing.T) {
	db, path := MustOpenDB(t, Options{})
	ctx := context.Background()
	for _, c := range []struct {
		name, pragma, want string
		pool               string
	}{
		{"WriterWAL", "journal_mode", "wal", "w"},
		{"WriterForeignKeys", "foreign_keys", "1", "w"},
		{"WriterSynchronousFull", "synchronous", "2", "w"},
		{"WriterBusyTimeout", "busy_timeout", "5000", "w"},
		{"ReaderForeignKeys", "foreign_keys", "1", "r"},
		{"ReaderBusyTimeout", "busy_timeout", "5000", "r"},
		{"ReaderQueryOnly", "query_only", "1", "r"},
	} {
		t.Run(c.name, func(t *testing.T) {
			pool := db.w
			if c.pool == "r" {
				pool = db.r
			}
			var got string
			if err := pool.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Fatalf("PRAGMA %s = %s, want %s", c.pragma, got, c.want)
			}
		})
	}
	t.Run("MigrationsRecordedOnce", func(t *testing.T) {
		db.Close()
		db2, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		var n int
		if err := db2.r.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		files, err := fs.Glob(migrationFiles, "migrations/*.sql")
		if err != nil {
			t.Fatal(err)
		}
		if n != len(files) {
			t.Fatalf("%d migrations recorded, want %d", n, len(files))
		}
	})
}

func TestOpenOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a#b?c%20d")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "x.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	MustCreateApp(t, db)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at %s: %v", path, err)
	}
}

// TestIndexPrecision: the option reaches the index, which a reopen rebuilds
// with the same precision, and an unknown precision fails Open.
func TestIndexPrecision(t *testing.T) {
	for _, p := range []index.Precision{"", index.Float16, index.Float32} {
		t.Run("Precision"+string(p), func(t *testing.T) {
			db, path := MustOpenDB(t, Options{IndexPrecision: p})
			app := MustCreateApp(t, db)
			e := crashVector(3)
			MustAddFace(t, db, app, "g", "u", "t", e)
			db.Close()
			db, err := Open(path, Options{IndexPrecision: p})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			want := p
			if want == "" {
				want = index.Float16
			}
			if got := db.Index().Precision(); got != want {
				t.Fatalf("index precision %q, want %q", got, want)
			}
			c, err := db.Search(context.Background(), app, []string{"g"}, e, "", 1)
			if err != nil || len(c) != 1 || c[0].Distance > 1e-3 {
				t.Fatalf("search of the enrolled vector after reopen: %v, %v", c, err)
			}
		})
	}
	t.Run("Unknown", func(t *testing.T) {
		if db, err := Open(filepath.Join(t.TempDir(), "x.db"), Options{IndexPrecision: "int8"}); err == nil {
			db.Close()
			t.Fatal("Open accepted index precision int8")
		}
	})
}

// TestStore runs the backend conformance suite (store/storetest) on SQLite.
func TestStore(t *testing.T) { storetest.Run(t, backend) }

// backend opens SQLite files for the conformance suite. A second Open of a
// file is a second process on it; Sync is its data_version check.
var backend = storetest.Backend{
	New: func(tb testing.TB) string { return filepath.Join(tb.TempDir(), "facekit.db") },
	Open: func(tb testing.TB, path string, o storetest.Options) storetest.Store {
		tb.Helper()
		db, err := Open(path, Options{Now: o.Now, MaxFaceTokens: o.MaxFaceTokens})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { db.Close() })
		return db
	},
	Sync: func(tb testing.TB, s storetest.Store) {
		tb.Helper()
		if _, err := s.(*DB).Refresh(context.Background()); err != nil {
			tb.Fatal(err)
		}
	},
	Count: func(tb testing.TB, s storetest.Store, query string, args ...any) int {
		tb.Helper()
		var n int
		if err := s.(*DB).r.QueryRow(query, args...).Scan(&n); err != nil {
			tb.Fatalf("%s: %v", query, err)
		}
		return n
	},
}

// TestFaceTokenCounter: the trigger-kept per-app row counts of
// face_tokens (which spare eviction a count of the table) match the table.
func TestFaceTokenCounter(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpenDB(t, Options{MaxFaceTokens: 3})
	app, other := MustCreateApp(t, db), MustCreateApp(t, db)
	for _, tok := range []string{"t1", "t2", "t3", "t1", "t4"} {
		if err := db.PutFaceToken(ctx, app, store.DetectedFace{Token: tok, Embedding: emb(1, 2)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.PutFaceToken(ctx, other, store.DetectedFace{Token: "t1", Embedding: emb(1, 2)}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		app  string
		want int
	}{{app, 3}, {other, 1}} {
		var n, counted int
		db.r.QueryRow(`SELECT count(*) FROM face_tokens WHERE app_id = ?`, tt.app).Scan(&n)
		db.r.QueryRow(`SELECT n FROM face_token_counts WHERE app_id = ?`, tt.app).Scan(&counted)
		if n != tt.want || counted != tt.want {
			t.Errorf("app %s: %d cached faces (counter %d), want %d", tt.app, n, counted, tt.want)
		}
	}
}

// TestCacheWriteKeepsLibraryDurable: face tokens commit at
// synchronous=NORMAL, and the writer connection is back at FULL (2)
// afterwards, so the next enrollment is still fsynced.
func TestCacheWriteKeepsLibraryDurable(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpenDB(t, Options{})
	app := MustCreateApp(t, db)
	if err := db.PutFaceToken(ctx, app, store.DetectedFace{Token: "t1", Embedding: emb(1, 2)}); err != nil {
		t.Fatal(err)
	}
	var level int
	if err := db.w.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&level); err != nil {
		t.Fatal(err)
	}
	if level != 2 {
		t.Fatalf("writer connection at synchronous=%d after a cache write, want 2 (FULL)", level)
	}
}
