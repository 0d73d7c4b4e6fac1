package postgres

import (
	"context"
	"testing"

	"github.com/facekit/facekit/internal/pgtest"
	"github.com/facekit/facekit/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestStore runs the backend conformance suite (store/storetest) on
// PostgreSQL: the same tests as SQLite's.
func TestStore(t *testing.T) { storetest.Run(t, backend) }

// backend opens databases on the test binary's PostgreSQL server. Two
// Opens of one database are two nodes; Sync is a node's catch-up.
var backend = storetest.Backend{
	New: pgtest.NewDatabase,
	Open: func(tb testing.TB, dsn string, o storetest.Options) storetest.Store {
		tb.Helper()
		return mustOpen(tb, dsn, Options{Now: o.Now, MaxFaceTokens: o.MaxFaceTokens})
	},
	Sync: func(tb testing.TB, s storetest.Store) {
		tb.Helper()
		if err := s.(*DB).CatchUp(context.Background()); err != nil {
			tb.Fatal(err)
		}
	},
	Count: func(tb testing.TB, s storetest.Store, query string, args ...any) int {
		tb.Helper()
		var n int
		if err := s.(*DB).pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
			tb.Fatalf("%s: %v", query, err)
		}
		return n
	},
}

// mustOpen opens a node on dsn, closed when tb ends.
func mustOpen(tb testing.TB, dsn string, o Options) *DB {
	tb.Helper()
	db, err := Open(context.Background(), dsn, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}
