package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"image"

	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/internal/blob"
)

// PutFaceToken remembers a detected face under its token, replacing an
// entry with the same token (which then counts as newest), and evicts the
// application's oldest entries beyond Options.MaxFaceTokens. It returns
// store.ErrInvalidID, store.ErrInvalidEmbedding or store.ErrAppNotFound.
func (db *DB) PutFaceToken(ctx context.Context, app string, f store.DetectedFace) error {
	return db.PutFaceTokens(ctx, []store.FaceTokenEntry{{App: app, Face: f}})
}

// PutFaceTokens remembers a batch of detected faces in one transaction
// committed without an fsync (writeCache), and evicts each application's
// oldest entries beyond Options.MaxFaceTokens. Invalid entries and entries
// of unknown applications are skipped and reported in the returned error;
// the others are stored.
func (db *DB) PutFaceTokens(ctx context.Context, entries []store.FaceTokenEntry) error {
	var errs []error
	valid := make([]store.FaceTokenEntry, 0, len(entries))
	now := db.opts.Now()
	for _, e := range entries {
		if err := validIDs(e.Face.Token); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := e.Face.Embedding.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("sqlite: face token %s: %w", e.Face.Token, err))
			continue
		}
		if e.Face.Created.IsZero() {
			e.Face.Created = now
		}
		valid = append(valid, e)
	}
	if len(valid) == 0 {
		return errors.Join(errs...)
	}
	err := db.writeCache(ctx, func(tx *sql.Tx) error {
		del, err := tx.PrepareContext(ctx, `DELETE FROM face_tokens WHERE app_id = ? AND face_token = ?`)
		if err != nil {
			return fmt.Errorf("sqlite: put face tokens: %w", err)
		}
		defer del.Close()
		ins, err := tx.PrepareContext(ctx, `INSERT INTO face_tokens (app_id, face_token, model, vector, created,
			box_left, box_top, box_right, box_bottom, box_roll) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("sqlite: put face tokens: %w", err)
		}
		defer ins.Close()
		known := map[string]bool{} // app → exists
		var apps []string          // the existing apps written to, in order
		for _, e := range valid {
			ok, seen := known[e.App]
			if !seen {
				err := checkApp(ctx, tx, e.App)
				switch {
				case errors.Is(err, store.ErrAppNotFound):
				case err != nil:
					return err
				default:
					ok = true
					apps = append(apps, e.App)
				}
				known[e.App] = ok
			}
			if !ok {
				errs = append(errs, fmt.Errorf("sqlite: face token %s: app %q: %w", e.Face.Token, e.App, store.ErrAppNotFound))
				continue
			}
			f := e.Face
			// Delete and insert (not an upsert): the entry gets a new id
			// and so counts as newest for eviction.
			if _, err := del.ExecContext(ctx, e.App, f.Token); err != nil {
				return fmt.Errorf("sqlite: put face token: %w", err)
			}
			// An unknown box is stored as NULLs, like rows from before
			// migration 0002.
			var box [5]any
			if !f.Box.Empty() {
				box = [5]any{f.Box.Min.X, f.Box.Min.Y, f.Box.Max.X, f.Box.Max.Y, f.Roll}
			}
			if _, err := ins.ExecContext(ctx, e.App, f.Token, f.Embedding.Model, blob.EncodeVector(f.Embedding.Vector),
				nanos(f.Created), box[0], box[1], box[2], box[3], box[4]); err != nil {
				return fmt.Errorf("sqlite: put face token: %w", err)
			}
		}
		// The bound is per application: evicting across applications
		// would let one application's detects flush another's tokens.
		for _, app := range apps {
			if _, err := tx.ExecContext(ctx, `DELETE FROM face_tokens WHERE id IN (SELECT id FROM face_tokens
				WHERE app_id = ? ORDER BY id
				LIMIT max(0, coalesce((SELECT n FROM face_token_counts WHERE app_id = ?), 0) - ?))`,
				app, app, db.opts.MaxFaceTokens); err != nil {
				return fmt.Errorf("sqlite: evict face tokens of %q: %w", app, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return errors.Join(errs...)
}

// GetFaceToken returns a remembered face or store.ErrFaceNotFound.
func (db *DB) GetFaceToken(ctx context.Context, app, token string) (store.DetectedFace, error) {
	var (
		f                        = store.DetectedFace{Token: token}
		raw                      []byte
		created                  int64
		left, top, right, bottom sql.NullInt64
		roll                     sql.NullFloat64
	)
	err := db.r.QueryRowContext(ctx, `SELECT model, vector, created, box_left, box_top, box_right, box_bottom, box_roll
		FROM face_tokens WHERE app_id = ? AND face_token = ?`,
		app, token).Scan(&f.Embedding.Model, &raw, &created, &left, &top, &right, &bottom, &roll)
	if errors.Is(err, sql.ErrNoRows) {
		return store.DetectedFace{}, fmt.Errorf("sqlite: face token %s: %w", token, store.ErrFaceNotFound)
	}
	if err != nil {
		return store.DetectedFace{}, fmt.Errorf("sqlite: face token %s: %w", token, err)
	}
	if f.Embedding.Vector, err = blob.DecodeVector(nil, raw); err != nil {
		return store.DetectedFace{}, fmt.Errorf("sqlite: face token %s: %w", token, err)
	}
	f.Created = fromNanos(created)
	if left.Valid && top.Valid && right.Valid && bottom.Valid {
		f.Box = image.Rect(int(left.Int64), int(top.Int64), int(right.Int64), int(bottom.Int64))
		f.Roll = roll.Float64
	}
	return f, nil
}

// PutSessionCode stores a voice-code session, replacing one with the same
// id, and purges expired sessions. It returns store.ErrInvalidID (session
// id not [A-Za-z0-9_]{1,128}) or store.ErrAppNotFound.
func (db *DB) PutSessionCode(ctx context.Context, app string, c store.SessionCode) error {
	if err := validIDs(c.SessionID); err != nil {
		return err
	}
	if c.Code == "" {
		return errors.New("sqlite: empty session code")
	}
	return db.write(ctx, func(tx *sql.Tx) (indexUpdate, error) {
		if err := checkApp(ctx, tx, app); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM session_codes WHERE expires <= ?`, nanos(db.opts.Now())); err != nil {
			return nil, fmt.Errorf("sqlite: purge sessions: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO session_codes (app_id, session_id, code, expires) VALUES (?, ?, ?, ?)
			ON CONFLICT (app_id, session_id) DO UPDATE SET code = excluded.code, expires = excluded.expires`,
			app, c.SessionID, c.Code, nanos(c.Expires)); err != nil {
			return nil, fmt.Errorf("sqlite: put session %s: %w", c.SessionID, err)
		}
		return nil, nil
	})
}

// GetSessionCode returns a session or store.ErrSessionNotFound or
// store.ErrSessionExpired.
func (db *DB) GetSessionCode(ctx context.Context, app, sessionID string) (store.SessionCode, error) {
	c := store.SessionCode{SessionID: sessionID}
	var expires int64
	err := db.r.QueryRowContext(ctx, `SELECT code, expires FROM session_codes WHERE app_id = ? AND session_id = ?`,
		app, sessionID).Scan(&c.Code, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.SessionCode{}, fmt.Errorf("sqlite: session %s: %w", sessionID, store.ErrSessionNotFound)
	}
	if err != nil {
		return store.SessionCode{}, fmt.Errorf("sqlite: session %s: %w", sessionID, err)
	}
	c.Expires = fromNanos(expires)
	if !db.opts.Now().Before(c.Expires) {
		return store.SessionCode{}, fmt.Errorf("sqlite: session %s: %w", sessionID, store.ErrSessionExpired)
	}
	return c, nil
}
