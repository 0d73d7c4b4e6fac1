// Package backend names what a library backend provides and opens the
// configured one, so that commands and tests need not know which it is.
package backend

import (
	"context"
	"fmt"
	"time"

	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/index"
	"github.com/facekit/facekit/store/postgres"
	"github.com/facekit/facekit/store/sqlite"
)

// The backends.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Library is a face library with every store interface, as both backends
// implement it.
type Library interface {
	store.Library
	store.Searcher
	store.Apps
	store.FaceTokens
	store.SessionCodes
	store.Reembedder
	// SourceCrop returns a face's source crop (nil without one).
	SourceCrop(ctx context.Context, app, group, user, token string) (*store.SourceCrop, error)
	// RestoreApp creates an application with its id and credentials
	// unless one with its id exists (created false).
	RestoreApp(ctx context.Context, a store.App) (created bool, err error)
	// Models lists the descriptor models of the library's faces, cheaply.
	Models(ctx context.Context) ([]string, error)
	// Index is the in-memory search index (read-only use).
	Index() *index.Index
	Close() error
}

var (
	_ Library = (*sqlite.DB)(nil)
	_ Library = (*postgres.DB)(nil)
)

// Config says which library to open and how.
type Config struct {
	// Kind is SQLite (the default, "") or Postgres.
	Kind string
	// Path is the SQLite file.
	Path string
	// DSN is the PostgreSQL connection string.
	DSN string
	// IndexPrecision, MaxFaceTokens and Now are the backends' options of
	// the same names.
	IndexPrecision index.Precision
	MaxFaceTokens  int
	Now            func() time.Time
	// Follow keeps the index in step with other writers: other processes
	// on the SQLite file (checked every 2 s), other nodes on PostgreSQL
	// (notifications and a 1 s poll). One-shot commands leave it off.
	Follow bool
	// Groups limits a PostgreSQL node's index to these groups.
	Groups []string
}

// Open opens the library c describes.
func Open(ctx context.Context, c Config) (Library, error) {
	switch c.Kind {
	case "", SQLite:
		if len(c.Groups) > 0 {
			return nil, fmt.Errorf("backend: groups need backend %q (a SQLite library is one node's)", Postgres)
		}
		opts := sqlite.Options{IndexPrecision: c.IndexPrecision, MaxFaceTokens: c.MaxFaceTokens, Now: c.Now}
		if c.Follow {
			opts.FollowInterval = 2 * time.Second
		}
		return sqlite.Open(c.Path, opts)
	case Postgres:
		if c.DSN == "" {
			return nil, fmt.Errorf("backend: postgres needs a connection string ([library] dsn or FACEKIT_DATABASE_URL)")
		}
		opts := postgres.Options{IndexPrecision: c.IndexPrecision, MaxFaceTokens: c.MaxFaceTokens, Now: c.Now, Groups: c.Groups}
		if !c.Follow {
			// A one-shot command sees its own writes; it needs no
			// listener or poll.
			opts.NoListen, opts.PollInterval = true, -1
		}
		return postgres.Open(ctx, c.DSN, opts)
	default:
		return nil, fmt.Errorf("backend: unknown library backend %q: want %q or %q", c.Kind, SQLite, Postgres)
	}
}
