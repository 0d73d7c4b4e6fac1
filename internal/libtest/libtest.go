// Package libtest runs a test binary's tests once per library backend, so
// that the vendor end-to-end suites check every backend from one set of
// tests: call Main from TestMain and Open wherever a harness needs a
// library.
//
// FACEKIT_TEST_BACKENDS chooses the backends (comma-separated; default
// "sqlite,postgres"). Without PostgreSQL installed its round is skipped
// with a note, unless CI=true, where that fails.
package libtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facekit/facekit/internal/pgtest"
	"github.com/facekit/facekit/store/backend"
)

// current is the backend of the running round.
var current = backend.SQLite

// Backends returns the backends the binary runs its tests on.
func Backends() []string {
	v := os.Getenv("FACEKIT_TEST_BACKENDS")
	if v == "" {
		return []string{backend.SQLite, backend.Postgres}
	}
	return strings.Split(v, ",")
}

// Main runs m once per backend and exits with the first failure's code.
func Main(m *testing.M) {
	code := 0
	for _, b := range Backends() {
		if b == backend.Postgres {
			if err := pgtest.Available(); err != nil {
				fmt.Fprintf(os.Stderr, "libtest: skipping the %s round: %v\n", b, err)
				if os.Getenv("CI") == "true" {
					code = 1
				}
				continue
			}
		}
		current = b
		fmt.Printf("libtest: library backend %s\n", b)
		if c := m.Run(); c != 0 && code == 0 {
			code = c
		}
	}
	pgtest.Stop()
	os.Exit(code)
}

// Backend is the backend of the running round.
func Backend() string { return current }

// Open opens a new, empty library on the round's backend, closed when tb
// ends. now (nil: time.Now) moves token and session expiry.
func Open(tb testing.TB, now func() time.Time) backend.Library {
	tb.Helper()
	c := backend.Config{Kind: current, Now: now}
	switch current {
	case backend.Postgres:
		// A migrated template, copied per test: a third of the cost of
		// migrating each test's database.
		tmpl := pgtest.Template(tb, "libtest_template", func(dsn string) error {
			lib, err := backend.Open(context.Background(), backend.Config{Kind: backend.Postgres, DSN: dsn})
			if err != nil {
				return err
			}
			return lib.Close()
		})
		c.DSN = pgtest.NewDatabaseFrom(tb, tmpl)
	default:
		c.Path = filepath.Join(tb.TempDir(), "facekit.db")
	}
	lib, err := backend.Open(context.Background(), c)
	if err != nil {
		tb.Fatalf("libtest: open %s library: %v", current, err)
	}
	tb.Cleanup(func() { lib.Close() })
	return lib
}
