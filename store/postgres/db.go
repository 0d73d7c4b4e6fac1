// Package postgres implements the store interfaces on a PostgreSQL
// database (github.com/jackc/pgx/v5), shared by any number of facekit
// nodes, each keeping its own in-memory search index (store/index).
//
// Writes are transactions. The per-user face limit holds across nodes
// because a write locks the user's row (SELECT ... FOR UPDATE) before it
// counts the faces, and REPLACE deletes and inserts in one transaction. A
// write returns nil only after PostgreSQL acknowledged the commit, so a
// node killed afterwards loses nothing.
//
// Every write that changes what the index holds also records, in the same
// transaction, what it touched under the next number of a change sequence
// (see migrations/0001_library.sql) and sends a NOTIFY. Each node LISTENs,
// and on a notification, on a periodic poll, and after reconnecting it
// applies the changes after the last number it saw. The index therefore
// never misses a change, whether or not a notification arrived.
package postgres

import (
	"context"
	"embed"
	"encoding/binary"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/index"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Options tune a DB. The zero value is usable.
type Options struct {
	// MaxFaceTokens bounds the detected-face cache of each application;
	// the oldest entries are evicted first. 0 means 100000.
	MaxFaceTokens int
	// MaxConns is the size of the connection pool. 0 means 8.
	MaxConns int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// PollInterval is how often the node checks the change sequence even
	// without a notification (a missed NOTIFY costs at most this long).
	// 0 means 1 s; negative disables the poll.
	PollInterval time.Duration
	// ConnectTimeout bounds connecting to PostgreSQL, and so how long a
	// write waits before failing with store.ErrUnavailable while the
	// database is down. 0 means 3 s.
	ConnectTimeout time.Duration
	// IndexPrecision is how the in-memory search index stores 128-d
	// descriptors: index.Float16 (the default, "") or index.Float32.
	IndexPrecision index.Precision
	// Groups, when non-empty, limits this node's index to these groups
	// (of every application): searches of other groups answer
	// store.ErrGroupNotFound. Writes go to the whole library.
	Groups []string
	// NoListen turns LISTEN/NOTIFY off: the node then follows by polling
	// alone (tests use it to prove catch-up without notifications).
	NoListen bool
}

// DB is a face library in one PostgreSQL database. It implements
// store.Library, store.Searcher, store.Apps, store.FaceTokens,
// store.SessionCodes and store.Reembedder and is safe for concurrent use.
type DB struct {
	pool *pgxpool.Pool
	dsn  string
	idx  *index.Index
	opts Options
	only map[string]bool // Options.Groups as a set; nil = all

	// followMu serialises changes to the index with seq, the last change
	// number the index reflects.
	followMu sync.Mutex
	seq      int64

	// down is set when an operation found the database unreachable and
	// cleared when it answers again; Check reports it.
	down     atomic.Bool
	lastErr  atomic.Pointer[string]
	wake     chan struct{}
	stop     chan struct{}
	done     sync.WaitGroup
	appCache appCache

	closeOnce sync.Once
}

var (
	_ store.Library      = (*DB)(nil)
	_ store.Searcher     = (*DB)(nil)
	_ store.Apps         = (*DB)(nil)
	_ store.FaceTokens   = (*DB)(nil)
	_ store.SessionCodes = (*DB)(nil)
	_ store.Reembedder   = (*DB)(nil)
)

// Open connects to the database at dsn (a postgres:// URL or key=value
// string), applies pending migrations, loads the search index and starts
// following other nodes' changes.
func Open(ctx context.Context, dsn string, opts Options) (*DB, error) {
	if opts.MaxFaceTokens <= 0 {
		opts.MaxFaceTokens = 100000
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = 8
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = time.Second
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 3 * time.Second
	}
	idx, err := index.NewWithOptions(index.Options{Precision: opts.IndexPrecision})
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse dsn: %w", err)
	}
	cfg.MaxConns = int32(opts.MaxConns)
	cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	// A connection broken by a server restart is noticed at its next use;
	// checking idle ones in the background finds them sooner.
	cfg.HealthCheckPeriod = 5 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	db := &DB{pool: pool, dsn: dsn, idx: idx, opts: opts, wake: make(chan struct{}, 1), stop: make(chan struct{})}
	if len(opts.Groups) > 0 {
		db.only = map[string]bool{}
		for _, g := range opts.Groups {
			db.only[g] = true
		}
	}
	db.appCache.init()
	if err := db.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := db.reload(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	db.done.Add(1)
	go db.follow()
	if !opts.NoListen {
		db.done.Add(1)
		go db.listen()
	}
	return db, nil
}

// Close stops following and closes the pool. It is safe to call more
// than once.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		close(db.stop)
		db.done.Wait()
		db.pool.Close()
	})
	return nil
}

// Index returns the in-memory search index (read-only use).
func (db *DB) Index() *index.Index { return db.idx }

// Seq returns the last change number the node's index reflects.
func (db *DB) Seq() int64 {
	db.followMu.Lock()
	defer db.followMu.Unlock()
	return db.seq
}

// Check reports whether the database answers: nil, or an error wrapping
// store.ErrUnavailable. It is the library's readiness check.
func (db *DB) Check(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return db.fail("ping", err)
	}
	db.down.Store(false)
	return nil
}

// migrate applies every embedded migration not yet recorded in
// schema_migrations, each in its own transaction with its record. An
// advisory lock makes nodes starting together apply them once.
func (db *DB) migrate(ctx context.Context) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return db.fail("migrate", err)
	}
	defer conn.Release()
	const lockKey = 0x66616365 // "face"
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockKey); err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockKey)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY,
		name    text NOT NULL,
		applied bigint NOT NULL)`); err != nil {
		return fmt.Errorf("postgres: create schema_migrations: %w", err)
	}
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("postgres: list migrations: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		version, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("postgres: migration %s: name must start with a number: %w", base, err)
		}
		body, err := migrationFiles.ReadFile(name)
		if err != nil {
			return fmt.Errorf("postgres: migration %s: %w", base, err)
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, version).Scan(&n); err != nil || n > 0 {
				return err
			}
			if _, err := tx.Exec(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied) VALUES ($1, $2, $3)`,
				version, base, db.opts.Now().UnixNano())
			return err
		})
		if err != nil {
			return fmt.Errorf("postgres: migration %s: %w", base, err)
		}
	}
	return nil
}

// reload rebuilds the whole index from one snapshot of the library and
// sets seq to the change number of that snapshot.
func (db *DB) reload(ctx context.Context) error {
	db.followMu.Lock()
	defer db.followMu.Unlock()
	return db.reloadLocked(ctx)
}

func (db *DB) reloadLocked(ctx context.Context) error {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return db.fail("load index", err)
	}
	defer tx.Rollback(ctx)
	var seq int64
	if err := tx.QueryRow(ctx, `SELECT seq FROM change_seq`).Scan(&seq); err != nil {
		return db.fail("load index", err)
	}
	err = db.idx.Update(func(w *index.Writer) error { return db.fillIndex(ctx, tx, w) })
	if err != nil {
		return err
	}
	db.seq = seq
	return nil
}

// fillIndex empties the index behind w and loads the library as tx sees
// it, in three streams: groups with their face counts (to size each
// group's matrix once), users, then faces in id order. Joining users to
// faces here rather than in SQL spares PostgreSQL a sort of every vector
// (an external merge on disk past work_mem: a 1M-face load took 54 s that
// way, see BenchmarkLoad); faces come by their primary key, in the binary
// protocol, decoded from pgx's buffers (RawValues) without a copy per row.
func (db *DB) fillIndex(ctx context.Context, tx pgx.Tx, w *index.Writer) error {
	w.Reset()
	type groupRow struct{ app, group string }
	groups := map[int64]*groupRow{}
	total := 0 // faces of the held groups: a bound on their users
	rows, err := tx.Query(ctx, `SELECT g.id, g.app_id, g.group_id, count(f.id)
		FROM groups g LEFT JOIN users u ON u.group_ref = g.id LEFT JOIN faces f ON f.user_ref = u.id
		GROUP BY g.id ORDER BY g.id`)
	if err != nil {
		return db.fail("load groups", err)
	}
	for rows.Next() {
		var (
			id    int64
			g     groupRow
			faces int
		)
		if err := rows.Scan(&id, &g.app, &g.group, &faces); err != nil {
			rows.Close()
			return db.fail("load groups", err)
		}
		if db.holds(g.group) {
			groups[id] = &g
			w.Reserve(g.app, g.group, faces)
			total += faces
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return db.fail("load groups", err)
	}

	type userRow struct {
		g        *groupRow
		id, info string
	}
	// Sized once: growing a million-entry map took a third of the load.
	users := make(map[int64]userRow, total)
	rows, err = tx.Query(ctx, `SELECT id, group_ref, user_id, info FROM users`)
	if err != nil {
		return db.fail("load users", err)
	}
	for rows.Next() {
		var (
			id, gref int64
			u        userRow
		)
		if err := rows.Scan(&id, &gref, &u.id, &u.info); err != nil {
			rows.Close()
			return db.fail("load users", err)
		}
		if u.g = groups[gref]; u.g != nil {
			users[id] = u
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return db.fail("load users", err)
	}

	rows, err = tx.Query(ctx, `SELECT user_ref, face_token, model, vector FROM faces ORDER BY id`)
	if err != nil {
		return db.fail("load faces", err)
	}
	defer rows.Close()
	if fd := rows.FieldDescriptions(); len(fd) != 4 || fd[0].Format != pgx.BinaryFormatCode || fd[3].Format != pgx.BinaryFormatCode {
		return fmt.Errorf("postgres: load faces: not in the binary format")
	}
	var (
		vec       []float32
		lastModel string
	)
	for rows.Next() {
		v := rows.RawValues()
		if len(v[0]) != 8 {
			return fmt.Errorf("postgres: load faces: user_ref of %d bytes", len(v[0]))
		}
		u, ok := users[int64(binary.BigEndian.Uint64(v[0]))]
		if !ok {
			continue // a group this node does not hold
		}
		if vec, err = decodeVector(vec[:0], v[3]); err != nil {
			return fmt.Errorf("postgres: load face %s: %w", v[1], err)
		}
		if string(v[2]) != lastModel {
			lastModel = string(v[2])
		}
		e := store.Embedding{Model: lastModel, Vector: vec}
		if err := w.AddFace(u.g.app, u.g.group, store.User{GroupID: u.g.group, UserID: u.id, Info: u.info}, string(v[1]), e); err != nil {
			return fmt.Errorf("postgres: load face %s: %w", v[1], err)
		}
	}
	if err := rows.Err(); err != nil {
		return db.fail("load faces", err)
	}
	return nil
}

// groupFilter is the $1 of queries limited to Options.Groups (NULL: all).
func (db *DB) groupFilter() []string {
	if db.only == nil {
		return nil
	}
	return db.opts.Groups
}

// holds reports whether this node's index keeps group.
func (db *DB) holds(group string) bool { return db.only == nil || db.only[group] }

// addFaceRows runs query, which must return app, group, user, info,
// token, model and vector, and adds each row to the index.
func (db *DB) addFaceRows(ctx context.Context, tx pgx.Tx, w *index.Writer, query string, args ...any) error {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return db.fail("load faces", err)
	}
	defer rows.Close()
	if fd := rows.FieldDescriptions(); len(fd) != 7 || fd[6].Format != pgx.BinaryFormatCode {
		return fmt.Errorf("postgres: load faces: vectors not in the binary format")
	}
	var (
		vec                                               []float32
		lastApp, lastGroup, lastUser, lastInfo, lastModel string
	)
	reuse := func(b []byte, last *string) string {
		if string(b) != *last {
			*last = string(b)
		}
		return *last
	}
	for rows.Next() {
		v := rows.RawValues()
		if len(v) != 7 {
			return fmt.Errorf("postgres: load faces: %d columns", len(v))
		}
		if vec, err = decodeVector(vec[:0], v[6]); err != nil {
			return fmt.Errorf("postgres: load face %s: %w", v[4], err)
		}
		u := store.User{GroupID: reuse(v[1], &lastGroup), UserID: reuse(v[2], &lastUser), Info: reuse(v[3], &lastInfo)}
		e := store.Embedding{Model: reuse(v[5], &lastModel), Vector: vec}
		if err := w.AddFace(reuse(v[0], &lastApp), u.GroupID, u, string(v[4]), e); err != nil {
			return fmt.Errorf("postgres: load face %s: %w", v[4], err)
		}
	}
	if err := rows.Err(); err != nil {
		return db.fail("load faces", err)
	}
	return nil
}
