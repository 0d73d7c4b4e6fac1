package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/index"
	"github.com/facekit/facekit/store/internal/blob"
)

// indexUpdate is what a committed write changes in the search index.
type indexUpdate func(w *index.Writer) error

// change is one entry of the change log: what a transaction touched.
type change struct {
	kind             string // "group", "user" or "all"
	app, group, user string
}

// wtx is a write transaction with the change entries it will record.
type wtx struct {
	pgx.Tx
	changes []change
}

// touched records that the transaction changed what the index holds for
// a group (user "") or a user.
func (t *wtx) touched(app, group, user string) {
	kind := "user"
	if user == "" {
		kind = "group"
	}
	t.changes = append(t.changes, change{kind, app, group, user})
}

// writeTimeout bounds one write with its retries: a write to a database
// that stopped answering mid-transaction fails (store.ErrUnavailable)
// rather than hang.
const writeTimeout = 30 * time.Second

// maxAttempts bounds the retries of a transaction that lost a deadlock
// or serialization conflict to another node's.
const maxAttempts = 5

// write runs fn in one transaction and, once it committed, brings the
// index up to date: with fn's update when no other node's change came in
// between, else by catching up from the change log. Like the SQLite
// backend it ignores ctx cancellation once begun, so a write either
// reports success or why not, never "cancelled" after it may have
// committed; ConnectTimeout and the statement timeout bound it instead.
func (db *DB) write(ctx context.Context, fn func(tx *wtx) (indexUpdate, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	var err error
	for attempt := 1; ; attempt++ {
		var (
			apply indexUpdate
			seq   int64
		)
		apply, seq, err = db.writeOnce(ctx, fn)
		if err == nil {
			db.applyLocal(ctx, seq, apply)
			return nil
		}
		if attempt == maxAttempts || !retryable(err) {
			return err
		}
		time.Sleep(time.Duration(attempt) * 5 * time.Millisecond)
	}
}

func (db *DB) writeOnce(ctx context.Context, fn func(tx *wtx) (indexUpdate, error)) (indexUpdate, int64, error) {
	ptx, err := db.pool.Begin(ctx)
	if err != nil {
		return nil, 0, db.fail("begin", err)
	}
	tx := &wtx{Tx: ptx}
	defer tx.Rollback(ctx)
	apply, err := fn(tx)
	if err != nil {
		return nil, 0, db.fail("", err)
	}
	var seq int64
	if len(tx.changes) > 0 {
		// The row lock on change_seq is held until commit: numbers are
		// handed out in commit order, so a node that has applied n has
		// seen every change numbered up to n.
		if err := tx.QueryRow(ctx, `UPDATE change_seq SET seq = seq + 1 RETURNING seq`).Scan(&seq); err != nil {
			return nil, 0, db.fail("change sequence", err)
		}
		kinds := make([]string, len(tx.changes))
		apps := make([]string, len(tx.changes))
		groups := make([]string, len(tx.changes))
		users := make([]string, len(tx.changes))
		for i, c := range tx.changes {
			kinds[i], apps[i], groups[i], users[i] = c.kind, c.app, c.group, c.user
		}
		if _, err := tx.Exec(ctx, `INSERT INTO changes (seq, kind, app_id, group_id, user_id)
			SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])`, seq, kinds, apps, groups, users); err != nil {
			return nil, 0, db.fail("record change", err)
		}
		if _, err := tx.Exec(ctx, `SELECT pg_notify('facekit_changes', $1)`, strconv64(seq)); err != nil {
			return nil, 0, db.fail("notify", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, 0, db.fail("commit", err)
	}
	db.down.Store(false)
	return apply, seq, nil
}

// applyLocal brings the index up to a write's change number seq. The
// write's own update suffices when the index stood at seq-1; otherwise
// other nodes' changes came first and the log is replayed up to (at
// least) seq, in order.
func (db *DB) applyLocal(ctx context.Context, seq int64, apply indexUpdate) {
	if seq == 0 {
		return
	}
	db.followMu.Lock()
	defer db.followMu.Unlock()
	if db.seq == seq-1 && apply != nil {
		if err := db.idx.Update(apply); err == nil {
			db.seq = seq
			return
		}
	}
	if db.seq >= seq {
		return
	}
	// The data is committed whatever happens here; a failed catch-up is
	// retried by the follower, which leaves the index behind, not wrong.
	_ = db.catchUpLocked(ctx)
}

// fail wraps err with what was being done. Errors that mean the database
// is unreachable wrap store.ErrUnavailable as well and mark the node down.
// Domain errors pass unchanged.
func (db *DB) fail(what string, err error) error {
	if err == nil {
		return nil
	}
	if unreachable(err) {
		db.down.Store(true)
		msg := err.Error()
		db.lastErr.Store(&msg)
		if what == "" {
			return fmt.Errorf("postgres: %w: %w", store.ErrUnavailable, err)
		}
		return fmt.Errorf("postgres: %s: %w: %w", what, store.ErrUnavailable, err)
	}
	if what == "" {
		return err
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// unreachable reports whether err means PostgreSQL could not be reached or
// went away (as opposed to refusing a statement).
func unreachable(err error) bool {
	if errors.Is(err, store.ErrUnavailable) {
		return false // already wrapped
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01-57P03: the server is
		// shutting down or starting up.
		return pe.Code[:2] == "08" || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) || pgconn.SafeToRetry(err) || pgconn.Timeout(err)
}

// retryable reports whether a transaction lost to a concurrent one
// (deadlock, serialization failure, or a group deleted under it) and may
// simply run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01" || pe.Code == "23503")
}

// isUnique reports whether err is a unique-constraint violation.
func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// read runs fn in a read-only transaction, so its queries see one
// snapshot.
func (db *DB) read(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return db.fail("begin read", err)
	}
	defer tx.Rollback(ctx)
	return db.fail("", fn(tx))
}

func encodeVector(v []float32) []byte { return blob.EncodeVector(v) }

func decodeVector(dst []float32, b []byte) ([]float32, error) { return blob.DecodeVector(dst, b) }

func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n) }

func strconv64(n int64) string { return fmt.Sprint(n) }

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func validIDs(ids ...string) error {
	for _, id := range ids {
		if !store.ValidID(id) {
			return fmt.Errorf("postgres: id %q: %w", id, store.ErrInvalidID)
		}
	}
	return nil
}

func validPage(start, length int) error {
	if start < 0 || length < 1 || length > store.MaxPageLength {
		return fmt.Errorf("postgres: start %d length %d: %w", start, length, store.ErrInvalidPage)
	}
	return nil
}

// checkApp returns store.ErrAppNotFound unless app exists.
func checkApp(ctx context.Context, tx pgx.Tx, app string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM apps WHERE id = $1`, app).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: app %q: %w", app, store.ErrAppNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres: look up app %q: %w", app, err)
	}
	return nil
}

// groupRef returns the row id of (app, group) or store.ErrGroupNotFound;
// lock is "" or a locking clause (FOR SHARE keeps the group from being
// deleted under the transaction).
func groupRef(ctx context.Context, tx pgx.Tx, app, group, lock string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM groups WHERE app_id = $1 AND group_id = $2 `+lock, app, group).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("postgres: group %q: %w", group, store.ErrGroupNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: look up group %q: %w", group, err)
	}
	return id, nil
}

// userRef returns the row id and info of a user in a group, locking the
// row when lock says so, or store.ErrUserNotFound.
func userRef(ctx context.Context, tx pgx.Tx, gref int64, user, lock string) (int64, string, error) {
	var (
		id   int64
		info string
	)
	err := tx.QueryRow(ctx, `SELECT id, info FROM users WHERE group_ref = $1 AND user_id = $2 `+lock, gref, user).Scan(&id, &info)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", fmt.Errorf("postgres: user %q: %w", user, store.ErrUserNotFound)
	}
	if err != nil {
		return 0, "", fmt.Errorf("postgres: look up user %q: %w", user, err)
	}
	return id, info, nil
}

// groupModel returns the model and vector length of the faces already in
// a group, or "" when it has none.
func groupModel(ctx context.Context, tx pgx.Tx, gref int64) (string, int, error) {
	var (
		model string
		size  int
	)
	err := tx.QueryRow(ctx, `SELECT f.model, length(f.vector) FROM faces f JOIN users u ON u.id = f.user_ref
		WHERE u.group_ref = $1 LIMIT 1`, gref).Scan(&model, &size)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, fmt.Errorf("postgres: group model: %w", err)
	}
	return model, size / 4, nil
}

// checkModel returns store.ErrModelMismatch or store.ErrInvalidEmbedding
// when embeddings of model/dim may not join the group's faces.
func checkModel(ctx context.Context, tx pgx.Tx, gref int64, group, model string, dim int) error {
	have, haveDim, err := groupModel(ctx, tx, gref)
	if err != nil {
		return err
	}
	switch {
	case have == "":
		return nil
	case have != model:
		return fmt.Errorf("postgres: group %q holds %q faces, not %q: %w", group, have, model, store.ErrModelMismatch)
	case haveDim != dim:
		return fmt.Errorf("postgres: group %q has %d-d vectors, not %d-d: %w", group, haveDim, dim, store.ErrInvalidEmbedding)
	}
	return nil
}

// queryStrings runs a query returning one text column.
func queryStrings(ctx context.Context, tx pgx.Tx, query string, args ...any) ([]string, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if out == nil {
		out = []string{}
	}
	return out, err
}
