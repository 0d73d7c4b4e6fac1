package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/facekit/facekit/server/ops"
	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/index"
	"github.com/facekit/facekit/store/postgres"
	"github.com/facekit/facekit/store/sqlite"
)

// Library backends ([library] backend).
const (
	backendSQLite   = "sqlite"
	backendPostgres = "postgres"
)

// Library is the face library as facekit's commands use it: every store
// interface, implemented by either backend.
type Library interface {
	store.Library
	store.Searcher
	store.Apps
	store.FaceTokens
	store.SessionCodes
	store.Reembedder
	SourceCrop(ctx context.Context, app, group, user, token string) (*store.SourceCrop, error)
	// Models lists the descriptor models of the library's faces, cheaply.
	Models(ctx context.Context) ([]string, error)
	Index() *index.Index
	Close() error
}

var (
	_ Library = (*sqlite.DB)(nil)
	_ Library = (*postgres.DB)(nil)
)

// libraryUse says how a command uses the library.
type libraryUse struct {
	// create makes a missing SQLite library (app create, serve); other
	// commands need an existing one.
	create bool
	// follow keeps the index in step with other writers: other processes
	// on the SQLite file, other nodes on PostgreSQL (serve).
	follow bool
	// maxFaceTokens bounds the detected-face cache; 0 = the default.
	maxFaceTokens int
}

// sqlitePath is the SQLite library file under the data directory.
func sqlitePath(cfg Config) string { return filepath.Join(cfg.Data, "facekit.db") }

// openLibrary opens the configured backend's library.
func openLibrary(ctx context.Context, cfg Config, use libraryUse) (Library, error) {
	precision := index.Precision(cfg.Library.IndexPrecision)
	switch cfg.Library.Backend {
	case "", backendSQLite:
		path := sqlitePath(cfg)
		if use.create {
			if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
				return nil, fmt.Errorf("data directory: %w", err)
			}
		} else if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no library at %s (create an application first: facekit app create --data %s --name NAME)", path, cfg.Data)
		}
		opts := sqlite.Options{IndexPrecision: precision, MaxFaceTokens: use.maxFaceTokens}
		if use.follow {
			// Follow other writers so that `facekit enroll` and
			// `import` on the same file show up without a restart.
			opts.FollowInterval = 2 * time.Second
		}
		return sqlite.Open(path, opts)
	case backendPostgres:
		if cfg.Library.DSN == "" {
			return nil, fmt.Errorf("library backend postgres needs [library] dsn or FACEKIT_DATABASE_URL")
		}
		opts := postgres.Options{IndexPrecision: precision, MaxFaceTokens: use.maxFaceTokens, Groups: cfg.Library.Groups}
		if !use.follow {
			// A one-shot command sees its own writes; it needs no
			// listener or poll.
			opts.NoListen, opts.PollInterval = true, -1
		}
		return postgres.Open(ctx, cfg.Library.DSN, opts)
	default:
		return nil, fmt.Errorf("config: [library] backend %q: want %q or %q", cfg.Library.Backend, backendSQLite, backendPostgres)
	}
}

// libraryReadyCheck is the library's readiness check: SQLite's file and
// directory are writable; PostgreSQL answers.
func libraryReadyCheck(cfg Config, lib Library) ops.Check {
	if pg, ok := lib.(*postgres.DB); ok {
		return pg.Check
	}
	return ops.WritableCheck(sqlitePath(cfg))
}
