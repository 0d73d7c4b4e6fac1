package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/facekit/facekit/server/ops"
	"github.com/facekit/facekit/store/backend"
	"github.com/facekit/facekit/store/index"
	"github.com/facekit/facekit/store/postgres"
)

// Library backends ([library] backend).
const (
	backendSQLite   = backend.SQLite
	backendPostgres = backend.Postgres
)

// Library is the face library as facekit's commands use it.
type Library = backend.Library

// libraryUse says how a command uses the library.
type libraryUse struct {
	// create makes a missing SQLite library (app create, serve, import);
	// other commands need an existing one.
	create bool
	// follow keeps the index in step with other writers (serve).
	follow bool
	// maxFaceTokens bounds the detected-face cache; 0 = the default.
	maxFaceTokens int
}

// sqlitePath is the SQLite library file under the data directory.
func sqlitePath(cfg Config) string { return filepath.Join(cfg.Data, "facekit.db") }

// openLibrary opens the configured backend's library.
func openLibrary(ctx context.Context, cfg Config, use libraryUse) (Library, error) {
	if cfg.Library.Backend == "" || cfg.Library.Backend == backendSQLite {
		path := sqlitePath(cfg)
		if use.create {
			if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
				return nil, fmt.Errorf("data directory: %w", err)
			}
		} else if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no library at %s (create an application first: facekit app create --data %s --name NAME)", path, cfg.Data)
		}
	}
	return backend.Open(ctx, backend.Config{
		Kind:           cfg.Library.Backend,
		Path:           sqlitePath(cfg),
		DSN:            cfg.Library.DSN,
		IndexPrecision: index.Precision(cfg.Library.IndexPrecision),
		MaxFaceTokens:  use.maxFaceTokens,
		Follow:         use.follow,
		Groups:         cfg.Library.Groups,
	})
}

// libraryReadyCheck is the library's readiness check: SQLite's file and
// directory are writable; PostgreSQL answers.
func libraryReadyCheck(cfg Config, lib Library) ops.Check {
	if pg, ok := lib.(*postgres.DB); ok {
		return pg.Check
	}
	return ops.WritableCheck(sqlitePath(cfg))
}
