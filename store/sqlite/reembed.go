package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/index"
	"github.com/facekit/facekit/store/internal/blob"
)

var _ store.Reembedder = (*DB)(nil)

// scopeFaces restricts a query on faces f to one application, or to all
// when its two parameters are "".
const scopeFaces = `f.user_ref IN (SELECT u.id FROM users u JOIN groups g ON g.id = u.group_ref WHERE ? = '' OR g.app_id = ?)`

// unstaged selects faces neither of model nor with model staged; it takes
// the model twice.
const unstaged = `f.model != ? AND (f.next_model IS NULL OR f.next_model != ?)`

// PendingFaces implements store.Reembedder.
func (db *DB) PendingFaces(ctx context.Context, app, model string, after int64, limit int) ([]store.SourceFace, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []store.SourceFace
	err := db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT f.id, g.app_id, g.group_id, u.user_id, f.face_token, f.model, f.source_crop, f.source_landmarks
			FROM faces f JOIN users u ON u.id = f.user_ref JOIN groups g ON g.id = u.group_ref
			WHERE (? = '' OR g.app_id = ?) AND f.id > ? AND `+unstaged+`
			ORDER BY f.id LIMIT ?`, app, app, after, model, model, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				f           store.SourceFace
				crop, marks []byte
			)
			if err := rows.Scan(&f.ID, &f.App, &f.GroupID, &f.UserID, &f.Token, &f.Model, &crop, &marks); err != nil {
				return err
			}
			if f.Source, err = blob.DecodeSource(crop, marks); err != nil {
				return fmt.Errorf("face %s: %w", f.Token, err)
			}
			out = append(out, f)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: pending faces: %w", err)
	}
	return out, nil
}

// StageEmbeddings implements store.Reembedder. The index is untouched:
// searches go on with the current descriptors until SwapModel.
func (db *DB) StageEmbeddings(ctx context.Context, model string, staged []store.StagedEmbedding) (int, error) {
	for _, s := range staged {
		if err := (store.Embedding{Model: model, Vector: s.Vector}).Validate(); err != nil {
			return 0, fmt.Errorf("sqlite: stage face %s: %w", s.Token, err)
		}
	}
	n := 0
	err := db.write(ctx, func(tx *sql.Tx) (indexUpdate, error) {
		stmt, err := tx.PrepareContext(ctx, `UPDATE faces SET next_model = ?, next_vector = ? WHERE id = ? AND face_token = ?`)
		if err != nil {
			return nil, fmt.Errorf("sqlite: stage: %w", err)
		}
		defer stmt.Close()
		for _, s := range staged {
			res, err := stmt.ExecContext(ctx, model, blob.EncodeVector(s.Vector), s.ID, s.Token)
			if err != nil {
				return nil, fmt.Errorf("sqlite: stage face %s: %w", s.Token, err)
			}
			k, _ := res.RowsAffected()
			n += int(k)
		}
		return nil, nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// SwapModel implements store.Reembedder. The search index is rebuilt from
// the committed library before SwapModel returns; other processes
// following the file (Options.FollowInterval) rebuild theirs at their next
// check.
func (db *DB) SwapModel(ctx context.Context, app, model string) (store.SwapResult, error) {
	var r store.SwapResult
	err := db.write(ctx, func(tx *sql.Tx) (indexUpdate, error) {
		var left int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM faces f WHERE `+scopeFaces+` AND `+unstaged,
			app, app, model, model).Scan(&left); err != nil {
			return nil, fmt.Errorf("sqlite: swap: %w", err)
		}
		if left > 0 {
			return nil, fmt.Errorf("sqlite: swap to %s: %d faces: %w", model, left, store.ErrNotStaged)
		}
		res, err := tx.ExecContext(ctx, `UPDATE faces AS f SET model = next_model, vector = next_vector, next_model = NULL, next_vector = NULL
			WHERE `+scopeFaces+` AND f.model != ? AND f.next_model = ?`, app, app, model, model)
		if err != nil {
			return nil, fmt.Errorf("sqlite: swap: %w", err)
		}
		k, _ := res.RowsAffected()
		r.Faces = int(k)
		// Staged vectors left over (faces already of model, or staged for
		// a model a run was abandoned on) are stale now.
		if _, err := tx.ExecContext(ctx, `UPDATE faces AS f SET next_model = NULL, next_vector = NULL
			WHERE `+scopeFaces+` AND f.next_model IS NOT NULL`, app, app); err != nil {
			return nil, fmt.Errorf("sqlite: swap: %w", err)
		}
		res, err = tx.ExecContext(ctx, `DELETE FROM face_tokens WHERE model != ? AND (? = '' OR app_id = ?)`, model, app, app)
		if err != nil {
			return nil, fmt.Errorf("sqlite: swap: drop face tokens: %w", err)
		}
		k, _ = res.RowsAffected()
		r.FaceTokens = int(k)
		// Every vector of the scope changed: rebuild rather than patch.
		return func(w *index.Writer) error { return db.fillIndex(ctx, w) }, nil
	})
	if err != nil {
		return store.SwapResult{}, err
	}
	return r, nil
}

// ModelCounts implements store.Reembedder.
func (db *DB) ModelCounts(ctx context.Context, app string) (map[string]int, error) {
	out := map[string]int{}
	err := db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT f.model, count(*) FROM faces f WHERE `+scopeFaces+` GROUP BY f.model`, app, app)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				m string
				n int
			)
			if err := rows.Scan(&m, &n); err != nil {
				return err
			}
			out[m] = n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: model counts: %w", err)
	}
	return out, nil
}

// Models returns the descriptor models of the library's faces (every
// application), sorted. It walks the model index one distinct value at a
// time, so it costs a few lookups however many faces there are: cheap
// enough for a readiness check.
func (db *DB) Models(ctx context.Context) ([]string, error) {
	var out []string
	for {
		var m sql.NullString
		err := db.r.QueryRowContext(ctx, `SELECT min(model) FROM faces WHERE model > ?`, lastOr(out)).Scan(&m)
		if err != nil {
			return nil, fmt.Errorf("sqlite: models: %w", err)
		}
		if !m.Valid {
			return out, nil
		}
		out = append(out, m.String)
	}
}

func lastOr(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}
