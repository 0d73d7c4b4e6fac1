// Package sqlite implements the store interfaces on an embedded SQLite
// database (github.com/mattn/go-sqlite3) and keeps the in-memory search
// index of store/index in step with it.
//
// All writes go through one connection (SQLite allows one writer at a time;
// queueing in Go is cheaper than SQLITE_BUSY retries) and take the write
// lock when they begin, so a transaction never fails half-way on an upgrade
// from read to write. Reads use a separate pool and, in WAL mode, never
// wait for the writer. Library writes are durable when they return nil
// (synchronous=FULL).
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver

	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/index"
	"github.com/facekit/facekit/store/internal/blob"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Options tune a DB. The zero value is usable.
type Options struct {
	// MaxFaceTokens bounds the detected-face cache of each application;
	// its oldest entries are evicted first. 0 means 100000.
	MaxFaceTokens int
	// ReadConns is the size of the read pool. 0 means max(4, GOMAXPROCS).
	ReadConns int
	// BusyTimeout is how long a connection waits for a lock held by another
	// process before failing. 0 means 5 s.
	BusyTimeout time.Duration
	// Now returns the current time; nil means time.Now. Tests set it to
	// move token and session expiry.
	Now func() time.Time
	// FollowInterval, when positive, makes the DB check this often whether
	// another process (e.g. `facekit enroll` on the same file) committed,
	// and then reload the search index, so a running server sees faces
	// enrolled beside it. 0 disables following.
	FollowInterval time.Duration
	// IndexPrecision is how the in-memory search index stores 128-d
	// descriptors: index.Float16 (the default, "") or index.Float32.
	IndexPrecision index.Precision
}

// DB is a face library in one SQLite file. It implements store.Library,
// store.Searcher, store.Apps, store.FaceTokens and store.SessionCodes and is
// safe for concurrent use.
type DB struct {
	w, r *sql.DB
	idx  *index.Index
	opts Options

	// writeMu serialises a write transaction with the index update that
	// follows its commit, so the index applies writes in commit order.
	writeMu sync.Mutex

	// dataVersion is the writer connection's last seen PRAGMA
	// data_version, which changes only when another connection commits.
	dataVersion int64
	stopFollow  chan struct{}
	followDone  sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

var (
	_ store.Library      = (*DB)(nil)
	_ store.Searcher     = (*DB)(nil)
	_ store.Apps         = (*DB)(nil)
	_ store.FaceTokens   = (*DB)(nil)
	_ store.SessionCodes = (*DB)(nil)
)

// Open opens (creating if needed) the database at path, applies pending
// migrations and loads the search index.
func Open(path string, opts Options) (*DB, error) {
	if opts.MaxFaceTokens <= 0 {
		opts.MaxFaceTokens = 100000
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = max(4, runtime.GOMAXPROCS(0))
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	idx, err := index.NewWithOptions(index.Options{Precision: opts.IndexPrecision})
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db := &DB{idx: idx, opts: opts}

	// go-sqlite3 applies these per connection as it opens it, busy_timeout
	// before anything else, so every pooled connection has them.
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10))
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	wq := url.Values{}
	for k, v := range q {
		wq[k] = v
	}
	wq.Set("_synchronous", "FULL")
	wq.Set("_txlock", "immediate")
	// SQLite decodes %XX in file: URIs; escape what would end the path.
	uri := "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	if db.w, err = sql.Open("sqlite3", uri+"?"+wq.Encode()); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.w.SetMaxOpenConns(1)
	db.w.SetMaxIdleConns(1)

	// Reads never write; query_only turns a bug that tries into an error.
	q.Set("_query_only", "on")
	if db.r, err = sql.Open("sqlite3", uri+"?"+q.Encode()); err != nil {
		db.w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.r.SetMaxOpenConns(opts.ReadConns)
	db.r.SetMaxIdleConns(opts.ReadConns)

	ctx := context.Background()
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.loadIndex(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if db.dataVersion, err = db.readDataVersion(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if opts.FollowInterval > 0 {
		db.stopFollow = make(chan struct{})
		db.followDone.Add(1)
		go db.follow(opts.FollowInterval)
	}
	return db, nil
}

// readDataVersion asks the writer connection for PRAGMA data_version. The
// writer pool holds exactly one connection, so successive calls compare
// like with like: the value moves only when some other connection (another
// process, or this DB's read pool, which never writes) has committed.
func (db *DB) readDataVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := db.w.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("sqlite: data_version: %w", err)
	}
	return v, nil
}

// Refresh reloads the search index if another process committed to the
// database since the last check, and reports whether it did. Searches wait
// while the index reloads.
func (db *DB) Refresh(ctx context.Context) (bool, error) {
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	v, err := db.readDataVersion(ctx)
	if err != nil {
		return false, err
	}
	if v == db.dataVersion {
		return false, nil
	}
	if err := db.loadIndex(ctx); err != nil {
		return false, err
	}
	db.dataVersion = v
	return true, nil
}

func (db *DB) follow(every time.Duration) {
	defer db.followDone.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-db.stopFollow:
			return
		case <-t.C:
			// A failed check is retried at the next tick; the index keeps
			// serving the last good snapshot meanwhile.
			_, _ = db.Refresh(context.Background())
		}
	}
}

// Close closes the database. It is safe to call more than once.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		if db.stopFollow != nil {
			close(db.stopFollow)
			db.followDone.Wait()
		}
		var errs []error
		if db.r != nil {
			errs = append(errs, db.r.Close())
		}
		if db.w != nil {
			errs = append(errs, db.w.Close())
		}
		db.closeErr = errors.Join(errs...)
	})
	return db.closeErr
}

// Index returns the in-memory search index (read-only use: searches and
// statistics). Writes to it belong to DB.
func (db *DB) Index() *index.Index { return db.idx }

// migrate applies every embedded migration not yet recorded in
// schema_migrations, each in its own transaction together with its record,
// so a crash leaves the schema at a whole version.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name    TEXT NOT NULL,
		applied INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("sqlite: create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("sqlite: list migrations: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: name must start with a number: %w", base, err)
		}
		if err := db.applyMigration(ctx, version, name, base); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) applyMigration(ctx context.Context, version int, path, name string) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migration %s: begin: %w", name, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
		return fmt.Errorf("sqlite: migration %s: %w", name, err)
	}
	if n > 0 {
		return nil
	}
	body, err := migrationFiles.ReadFile(path)
	if err != nil {
		return fmt.Errorf("sqlite: migration %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("sqlite: migration %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)`,
		version, name, db.opts.Now().UnixNano()); err != nil {
		return fmt.Errorf("sqlite: migration %s: record: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migration %s: commit: %w", name, err)
	}
	return nil
}

// loadIndex (re)builds the search index: it empties it and streams every
// group and face into it. Vectors are decoded straight from the driver's
// buffer (sql.RawBytes) to avoid a copy per row.
func (db *DB) loadIndex(ctx context.Context) error {
	return db.idx.Update(func(w *index.Writer) error { return db.fillIndex(ctx, w) })
}

// fillIndex empties the index behind w and loads the committed library
// into it.
func (db *DB) fillIndex(ctx context.Context, w *index.Writer) error {
	w.Reset()
	// Each group's face count (read from the users and faces indexes,
	// not the rows) sizes its matrix once instead of regrowing it.
	rows, err := db.r.QueryContext(ctx, `SELECT g.app_id, g.group_id,
			(SELECT COUNT(*) FROM users u JOIN faces f ON f.user_ref = u.id WHERE u.group_ref = g.id)
		FROM groups g ORDER BY g.id`)
	if err != nil {
		return fmt.Errorf("sqlite: load groups: %w", err)
	}
	for rows.Next() {
		var app, group string
		var faces int
		if err := rows.Scan(&app, &group, &faces); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: load groups: %w", err)
		}
		w.Reserve(app, group, faces)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: load groups: %w", err)
	}

	rows, err = db.r.QueryContext(ctx, `SELECT g.app_id, g.group_id, u.user_id, u.info, f.face_token, f.model, f.vector
		FROM faces f JOIN users u ON u.id = f.user_ref JOIN groups g ON g.id = u.group_ref
		ORDER BY f.id`)
	if err != nil {
		return fmt.Errorf("sqlite: load faces: %w", err)
	}
	defer rows.Close()
	var (
		app, group, user, info, token, model sql.RawBytes
		raw                                  sql.RawBytes
		vec                                  []float32
		// Strings repeat across consecutive rows; reuse the previous
		// string rather than allocating a copy of the same bytes.
		lastApp, lastGroup, lastUser, lastInfo, lastModel string
	)
	reuse := func(b sql.RawBytes, last *string) string {
		if string(b) != *last {
			*last = string(b)
		}
		return *last
	}
	for rows.Next() {
		if err := rows.Scan(&app, &group, &user, &info, &token, &model, &raw); err != nil {
			return fmt.Errorf("sqlite: load faces: %w", err)
		}
		if vec, err = blob.DecodeVector(vec[:0], raw); err != nil {
			return fmt.Errorf("sqlite: load face %s: %w", token, err)
		}
		u := store.User{GroupID: reuse(group, &lastGroup), UserID: reuse(user, &lastUser), Info: reuse(info, &lastInfo)}
		e := store.Embedding{Model: reuse(model, &lastModel), Vector: vec}
		if err := w.AddFace(reuse(app, &lastApp), u.GroupID, u, string(token), e); err != nil {
			return fmt.Errorf("sqlite: load face %s: %w", token, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: load faces: %w", err)
	}
	return nil
}
