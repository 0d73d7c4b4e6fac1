package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/internal/blob"
)

// scopeFaces restricts a query on faces f to application $1, or to all
// when $1 is "".
const scopeFaces = `f.user_ref IN (SELECT u.id FROM users u JOIN groups g ON g.id = u.group_ref WHERE $1 = '' OR g.app_id = $1)`

// unstaged selects faces neither of model $2 nor with $2 staged.
const unstaged = `f.model != $2 AND (f.next_model IS NULL OR f.next_model != $2)`

// PendingFaces implements store.Reembedder.
func (db *DB) PendingFaces(ctx context.Context, app, model string, after int64, limit int) ([]store.SourceFace, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []store.SourceFace
	err := db.read(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT f.id, g.app_id, g.group_id, u.user_id, f.face_token, f.model, f.source_crop, f.source_landmarks
			FROM faces f JOIN users u ON u.id = f.user_ref JOIN groups g ON g.id = u.group_ref
			WHERE ($1 = '' OR g.app_id = $1) AND f.id > $3 AND `+unstaged+`
			ORDER BY f.id LIMIT $4`, app, model, after, limit)
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
		return nil, fmt.Errorf("postgres: pending faces: %w", err)
	}
	return out, nil
}

// StageEmbeddings implements store.Reembedder. The index is untouched:
// searches go on with the current descriptors until SwapModel.
func (db *DB) StageEmbeddings(ctx context.Context, model string, staged []store.StagedEmbedding) (int, error) {
	for _, s := range staged {
		if err := (store.Embedding{Model: model, Vector: s.Vector}).Validate(); err != nil {
			return 0, fmt.Errorf("postgres: stage face %s: %w", s.Token, err)
		}
	}
	ids := make([]int64, len(staged))
	tokens := make([]string, len(staged))
	vectors := make([][]byte, len(staged))
	for i, s := range staged {
		ids[i], tokens[i], vectors[i] = s.ID, s.Token, encodeVector(s.Vector)
	}
	n := 0
	err := db.write(ctx, func(tx *wtx) (indexUpdate, error) {
		tag, err := tx.Exec(ctx, `UPDATE faces f SET next_model = $1, next_vector = s.v
			FROM unnest($2::bigint[], $3::text[], $4::bytea[]) AS s(id, token, v)
			WHERE f.id = s.id AND f.face_token = s.token`, model, ids, tokens, vectors)
		if err != nil {
			return nil, fmt.Errorf("postgres: stage: %w", err)
		}
		n = int(tag.RowsAffected())
		return nil, nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// SwapModel implements store.Reembedder. The index is rebuilt from the
// committed library before SwapModel returns; other nodes rebuild theirs
// when they follow the change (kind "all").
func (db *DB) SwapModel(ctx context.Context, app, model string) (store.SwapResult, error) {
	var r store.SwapResult
	err := db.write(ctx, func(tx *wtx) (indexUpdate, error) {
		var left int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM faces f WHERE `+scopeFaces+` AND `+unstaged,
			app, model).Scan(&left); err != nil {
			return nil, fmt.Errorf("postgres: swap: %w", err)
		}
		if left > 0 {
			return nil, fmt.Errorf("postgres: swap to %s: %d faces: %w", model, left, store.ErrNotStaged)
		}
		tag, err := tx.Exec(ctx, `UPDATE faces AS f SET model = next_model, vector = next_vector, next_model = NULL, next_vector = NULL
			WHERE `+scopeFaces+` AND f.model != $2 AND f.next_model = $2`, app, model)
		if err != nil {
			return nil, fmt.Errorf("postgres: swap: %w", err)
		}
		r.Faces = int(tag.RowsAffected())
		// Staged vectors left over (faces already of model, or staged for
		// a model a run was abandoned on) are stale now.
		if _, err := tx.Exec(ctx, `UPDATE faces AS f SET next_model = NULL, next_vector = NULL
			WHERE `+scopeFaces+` AND f.next_model IS NOT NULL`, app); err != nil {
			return nil, fmt.Errorf("postgres: swap: %w", err)
		}
		tag, err = tx.Exec(ctx, `DELETE FROM face_tokens WHERE model != $1 AND ($2 = '' OR app_id = $2)`, model, app)
		if err != nil {
			return nil, fmt.Errorf("postgres: swap: drop face tokens: %w", err)
		}
		r.FaceTokens = int(tag.RowsAffected())
		tx.changes = append(tx.changes, change{kind: "all"})
		// Every vector of the scope changed: the follower rebuilds the
		// index from the committed state (no local update).
		return nil, nil
	})
	if err != nil {
		return store.SwapResult{}, err
	}
	return r, nil
}

// ModelCounts implements store.Reembedder.
func (db *DB) ModelCounts(ctx context.Context, app string) (map[string]int, error) {
	out := map[string]int{}
	err := db.read(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT f.model, count(*) FROM faces f WHERE `+scopeFaces+` GROUP BY f.model`, app)
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
		return nil, fmt.Errorf("postgres: model counts: %w", err)
	}
	return out, nil
}

// Models returns the descriptor models of the library's faces (every
// application), sorted, walking the model index one distinct value at a
// time (a few lookups however many faces there are).
func (db *DB) Models(ctx context.Context) ([]string, error) {
	var out []string
	for {
		var m *string
		last := ""
		if len(out) > 0 {
			last = out[len(out)-1]
		}
		if err := db.pool.QueryRow(ctx, `SELECT min(model) FROM faces WHERE model > $1`, last).Scan(&m); err != nil {
			return nil, db.fail("models", err)
		}
		if m == nil {
			return out, nil
		}
		out = append(out, *m)
	}
}
