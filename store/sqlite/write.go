package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/index"
)

// indexUpdate is what a committed write changes in the search index.
type indexUpdate func(w *index.Writer) error

// write runs fn in one immediate transaction on the writer connection and,
// once it has committed, applies the index update fn returned. The
// transaction ignores ctx cancellation once begun: a write either commits
// and reports success or reports why not, never "cancelled" after it may
// have committed.
func (db *DB) write(ctx context.Context, fn func(tx *sql.Tx) (indexUpdate, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	tx, err := db.w.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	apply, err := fn(tx)
	if err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	if apply != nil {
		if err := db.idx.Update(apply); err != nil {
			// Cannot happen while the transaction checks what the index
			// checks; say plainly that the data is saved.
			return fmt.Errorf("sqlite: committed, but the search index rejected the change (reopen to rebuild it): %w", err)
		}
	}
	return nil
}

// writeCache runs fn in one immediate transaction on the writer
// connection, like write, but commits it with synchronous=NORMAL: the
// face-token cache needs no fsync per commit, and a detect should not wait
// on the disk for it. In WAL mode a NORMAL commit is still atomic; a power
// failure may lose the last cache commits, and the next FULL commit (any
// library write) syncs them with its own. The connection is set back to
// FULL before it returns to the pool, and discarded if that fails, so
// library writes never run at NORMAL.
func (db *DB) writeCache(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	db.writeMu.Lock()
	defer db.writeMu.Unlock()
	ctx = context.WithoutCancel(ctx)
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: writer connection: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		return fmt.Errorf("sqlite: cache write: %w", err)
	}
	defer func() {
		if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = FULL`); err != nil {
			// ErrBadConn makes database/sql close the connection; the
			// pool reopens it from the DSN, which says FULL.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// read runs fn in a read transaction on the read pool, so its queries see
// one snapshot of the database.
func (db *DB) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("sqlite: begin read: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n) }

// randomHex returns n random bytes as hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand panics rather than return an error)
	return hex.EncodeToString(b)
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation.
func isUnique(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
}

// checkApp returns store.ErrAppNotFound unless app exists.
func checkApp(ctx context.Context, tx *sql.Tx, app string) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM apps WHERE id = ?`, app).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlite: app %q: %w", app, store.ErrAppNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: look up app %q: %w", app, err)
	}
	return nil
}

// groupRef returns the row id of (app, group) or store.ErrGroupNotFound.
func groupRef(ctx context.Context, tx *sql.Tx, app, group string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM groups WHERE app_id = ? AND group_id = ?`, app, group).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("sqlite: group %q: %w", group, store.ErrGroupNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: look up group %q: %w", group, err)
	}
	return id, nil
}

// userRef returns the row id and info of a user in a group (by group row
// id) or store.ErrUserNotFound.
func userRef(ctx context.Context, tx *sql.Tx, gref int64, user string) (int64, string, error) {
	var (
		id   int64
		info string
	)
	err := tx.QueryRowContext(ctx, `SELECT id, info FROM users WHERE group_ref = ? AND user_id = ?`, gref, user).Scan(&id, &info)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", fmt.Errorf("sqlite: user %q: %w", user, store.ErrUserNotFound)
	}
	if err != nil {
		return 0, "", fmt.Errorf("sqlite: look up user %q: %w", user, err)
	}
	return id, info, nil
}

// groupModel returns the model and vector length of the faces already in
// a group, or "" when it has none.
func groupModel(ctx context.Context, tx *sql.Tx, gref int64) (string, int, error) {
	var (
		model string
		size  int
	)
	err := tx.QueryRowContext(ctx, `SELECT f.model, length(f.vector) FROM faces f JOIN users u ON u.id = f.user_ref
		WHERE u.group_ref = ? LIMIT 1`, gref).Scan(&model, &size)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, fmt.Errorf("sqlite: group model: %w", err)
	}
	return model, size / 4, nil
}

// checkModel returns store.ErrModelMismatch or store.ErrInvalidEmbedding
// when embeddings of model/dim may not join the group's faces.
func checkModel(ctx context.Context, tx *sql.Tx, gref int64, group, model string, dim int) error {
	have, haveDim, err := groupModel(ctx, tx, gref)
	if err != nil {
		return err
	}
	switch {
	case have == "":
		return nil
	case have != model:
		return fmt.Errorf("sqlite: group %q holds %q faces, not %q: %w", group, have, model, store.ErrModelMismatch)
	case haveDim != dim:
		return fmt.Errorf("sqlite: group %q has %d-d vectors, not %d-d: %w", group, haveDim, dim, store.ErrInvalidEmbedding)
	}
	return nil
}

func validIDs(ids ...string) error {
	for _, id := range ids {
		if !store.ValidID(id) {
			return fmt.Errorf("sqlite: id %q: %w", id, store.ErrInvalidID)
		}
	}
	return nil
}

func validPage(start, length int) error {
	if start < 0 || length < 1 || length > store.MaxPageLength {
		return fmt.Errorf("sqlite: start %d length %d: %w", start, length, store.ErrInvalidPage)
	}
	return nil
}
