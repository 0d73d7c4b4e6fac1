package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"image"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/internal/secret"
)

// appCache remembers the applications and access tokens this node looked
// up, so that while PostgreSQL is unreachable requests of known clients
// still authenticate and searches keep answering. It is consulted only
// when the database is unreachable; otherwise the database decides.
type appCache struct {
	mu     sync.Mutex
	byID   map[string]store.App
	keyID  map[string]string // API key -> app id
	tokens map[string]cachedToken
}

type cachedToken struct {
	appID   string
	expires time.Time
}

// maxCachedTokens bounds the token map; beyond it the map restarts
// (tokens are re-learnt at their next use while the database is up).
const maxCachedTokens = 100000

func (c *appCache) init() {
	c.byID, c.keyID, c.tokens = map[string]store.App{}, map[string]string{}, map[string]cachedToken{}
}

func (c *appCache) putApp(a store.App) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byID[a.ID] = a
	c.keyID[a.APIKey] = a.ID
}

func (c *appCache) putToken(token, appID string, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.tokens) >= maxCachedTokens {
		c.tokens = map[string]cachedToken{}
	}
	c.tokens[string(secret.TokenKey(token))] = cachedToken{appID, expires}
}

func (c *appCache) app(id string) (store.App, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.byID[id]
	return a, ok
}

func (c *appCache) appByKey(key string) (store.App, bool) {
	c.mu.Lock()
	id, ok := c.keyID[key]
	c.mu.Unlock()
	if !ok {
		return store.App{}, false
	}
	return c.app(id)
}

func (c *appCache) token(token string) (cachedToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.tokens[string(secret.TokenKey(token))]
	return t, ok
}

const appColumns = `id, name, api_key, secret_hash, created, qps, quota, calls_used`

func scanApp(row pgx.Row) (store.App, error) {
	var (
		a       store.App
		created int64
	)
	err := row.Scan(&a.ID, &a.Name, &a.APIKey, &a.SecretHash, &created, &a.QPS, &a.Quota, &a.CallsUsed)
	a.Created = fromNanos(created)
	return a, err
}

// CreateApp creates an application with a random id, API key and secret
// and returns the secret in plain text; only its salted hash is stored.
func (db *DB) CreateApp(ctx context.Context, name string) (store.App, string, error) {
	key := rand.Text()
	salt := make([]byte, secret.SaltSize)
	rand.Read(salt)
	a := store.App{
		ID:         randomHex(8),
		Name:       name,
		APIKey:     rand.Text(),
		SecretHash: secret.Hash(salt, key),
		Created:    db.opts.Now(),
	}
	err := db.write(ctx, func(tx *wtx) (indexUpdate, error) {
		_, err := tx.Exec(ctx, `INSERT INTO apps (id, name, api_key, secret_hash, created) VALUES ($1, $2, $3, $4, $5)`,
			a.ID, a.Name, a.APIKey, a.SecretHash, nanos(a.Created))
		return nil, err
	})
	if err != nil {
		return store.App{}, "", fmt.Errorf("postgres: create app %q: %w", name, err)
	}
	db.appCache.putApp(a)
	return a, key, nil
}

// RestoreApp creates application a exactly as given (id, API key, secret
// hash, limits, calls used), as `facekit import` moves it from another
// library. An application with a's id is left alone: created is false.
func (db *DB) RestoreApp(ctx context.Context, a store.App) (created bool, err error) {
	err = db.write(ctx, func(tx *wtx) (indexUpdate, error) {
		tag, err := tx.Exec(ctx, `INSERT INTO apps (id, name, api_key, secret_hash, created, qps, quota, calls_used)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
			a.ID, a.Name, a.APIKey, a.SecretHash, nanos(a.Created), a.QPS, a.Quota, a.CallsUsed)
		if err != nil {
			return nil, err
		}
		created = tag.RowsAffected() == 1
		return nil, nil
	})
	if err != nil {
		return false, fmt.Errorf("postgres: restore app %q: %w", a.ID, err)
	}
	return created, nil
}

// AppByKey returns the application with the API key or store.ErrAppNotFound.
func (db *DB) AppByKey(ctx context.Context, apiKey string) (store.App, error) {
	a, err := db.appWhere(ctx, `api_key = $1`, apiKey)
	if errors.Is(err, store.ErrUnavailable) {
		if c, ok := db.appCache.appByKey(apiKey); ok {
			return c, nil
		}
	}
	return a, err
}

// AppByID returns the application or store.ErrAppNotFound.
func (db *DB) AppByID(ctx context.Context, id string) (store.App, error) {
	a, err := db.appWhere(ctx, `id = $1`, id)
	if errors.Is(err, store.ErrUnavailable) {
		if c, ok := db.appCache.app(id); ok {
			return c, nil
		}
	}
	return a, err
}

func (db *DB) appWhere(ctx context.Context, cond, arg string) (store.App, error) {
	a, err := scanApp(db.pool.QueryRow(ctx, `SELECT `+appColumns+` FROM apps WHERE `+cond, arg))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.App{}, fmt.Errorf("postgres: app: %w", store.ErrAppNotFound)
	}
	if err != nil {
		return store.App{}, db.fail("look up app", err)
	}
	db.appCache.putApp(a)
	return a, nil
}

// VerifySecret reports whether key is the application's secret key, in
// time independent of where the two differ.
func (db *DB) VerifySecret(app store.App, key string) bool {
	return secret.Verify(app.SecretHash, key)
}

// IssueToken stores a new access token for the application, valid for
// ttl, and purges expired ones; see the SQLite backend for its shape. It
// returns store.ErrAppNotFound.
func (db *DB) IssueToken(ctx context.Context, appID string, ttl time.Duration) (string, time.Time, error) {
	now := db.opts.Now()
	expires := now.Add(ttl)
	token := fmt.Sprintf("24.%s.%d.%d.%s", randomHex(16), int64(ttl/time.Second), expires.Unix(), appID)
	err := db.write(ctx, func(tx *wtx) (indexUpdate, error) {
		if err := checkApp(ctx, tx, appID); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM access_tokens WHERE expires <= $1`, nanos(now)); err != nil {
			return nil, fmt.Errorf("postgres: purge tokens: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO access_tokens (token_hash, app_id, expires) VALUES ($1, $2, $3)`,
			secret.TokenKey(token), appID, nanos(expires)); err != nil {
			return nil, fmt.Errorf("postgres: store token: %w", err)
		}
		return nil, nil
	})
	if err != nil {
		return "", time.Time{}, err
	}
	db.appCache.putToken(token, appID, expires)
	return token, expires, nil
}

// AppByToken returns the application an access token was issued to, or
// store.ErrTokenNotFound or store.ErrTokenExpired. While the database is
// unreachable, tokens this node has seen still resolve.
func (db *DB) AppByToken(ctx context.Context, token string) (store.App, error) {
	var (
		a       store.App
		expires int64
		created int64
	)
	err := db.pool.QueryRow(ctx, `SELECT t.expires, a.id, a.name, a.api_key, a.secret_hash, a.created, a.qps, a.quota, a.calls_used
		FROM access_tokens t JOIN apps a ON a.id = t.app_id WHERE t.token_hash = $1`, secret.TokenKey(token)).
		Scan(&expires, &a.ID, &a.Name, &a.APIKey, &a.SecretHash, &created, &a.QPS, &a.Quota, &a.CallsUsed)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.App{}, fmt.Errorf("postgres: access token: %w", store.ErrTokenNotFound)
	case err != nil:
		err = db.fail("look up access token", err)
		t, ok := db.appCache.token(token)
		if !ok || !errors.Is(err, store.ErrUnavailable) {
			return store.App{}, err
		}
		if a, ok = db.appCache.app(t.appID); !ok {
			return store.App{}, err
		}
		expires = nanos(t.expires)
	default:
		a.Created = fromNanos(created)
		db.appCache.putApp(a)
		db.appCache.putToken(token, a.ID, fromNanos(expires))
	}
	if !db.opts.Now().Before(fromNanos(expires)) {
		return store.App{}, fmt.Errorf("postgres: access token: %w", store.ErrTokenExpired)
	}
	return a, nil
}

// SetAppLimits sets an application's QPS and quota. It returns
// store.ErrAppNotFound.
func (db *DB) SetAppLimits(ctx context.Context, appID string, qps int, quota int64) error {
	return db.write(ctx, func(tx *wtx) (indexUpdate, error) {
		tag, err := tx.Exec(ctx, `UPDATE apps SET qps = $1, quota = $2 WHERE id = $3`, qps, quota, appID)
		if err != nil {
			return nil, fmt.Errorf("postgres: set limits of %q: %w", appID, err)
		}
		if tag.RowsAffected() == 0 {
			return nil, fmt.Errorf("postgres: app %q: %w", appID, store.ErrAppNotFound)
		}
		return nil, nil
	})
}

// CountCall counts one call against the application's quota. It returns
// store.ErrQuotaExceeded (without counting) or store.ErrAppNotFound. The
// conditional UPDATE is atomic, so nodes sharing an application together
// never exceed its quota.
func (db *DB) CountCall(ctx context.Context, appID string) error {
	return db.write(ctx, func(tx *wtx) (indexUpdate, error) {
		tag, err := tx.Exec(ctx, `UPDATE apps SET calls_used = calls_used + 1 WHERE id = $1 AND (quota = 0 OR calls_used < quota)`, appID)
		if err != nil {
			return nil, fmt.Errorf("postgres: count call of %q: %w", appID, err)
		}
		if tag.RowsAffected() == 1 {
			return nil, nil
		}
		if err := checkApp(ctx, tx, appID); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("postgres: app %q: %w", appID, store.ErrQuotaExceeded)
	})
}

// PutFaceToken remembers a detected face under its token, replacing an
// entry with the same token (which then counts as newest), and evicts the
// application's oldest entries beyond Options.MaxFaceTokens. While the
// database is known to be down it fails at once (the caller only loses a
// cache entry).
func (db *DB) PutFaceToken(ctx context.Context, app string, f store.DetectedFace) error {
	return db.PutFaceTokens(ctx, []store.FaceTokenEntry{{App: app, Face: f}})
}

// PutFaceTokens remembers a batch of detected faces in one transaction
// that commits without waiting for the WAL flush (synchronous_commit off:
// the rows are a cache), and evicts each application's oldest entries
// beyond Options.MaxFaceTokens. Invalid entries and entries of unknown
// applications are skipped and reported in the returned error; the others
// are stored.
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
			errs = append(errs, fmt.Errorf("postgres: face token %s: %w", e.Face.Token, err))
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
	if db.down.Load() {
		return fmt.Errorf("postgres: put face tokens: %w", store.ErrUnavailable)
	}
	// Applications in one order on every node: two batches locking the
	// same applications' count rows cannot deadlock. The sort is stable,
	// so a later entry for a token still replaces an earlier one.
	sort.SliceStable(valid, func(i, j int) bool { return valid[i].App < valid[j].App })
	var skipped []error
	err := db.write(ctx, func(tx *wtx) (indexUpdate, error) {
		skipped = skipped[:0] // a retried transaction starts over
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return nil, fmt.Errorf("postgres: put face tokens: %w", err)
		}
		for i := 0; i < len(valid); {
			app := valid[i].App
			j := i
			for j < len(valid) && valid[j].App == app {
				j++
			}
			batch := valid[i:j]
			i = j
			err := checkApp(ctx, tx, app)
			if errors.Is(err, store.ErrAppNotFound) {
				for _, e := range batch {
					skipped = append(skipped, fmt.Errorf("postgres: face token %s: app %q: %w", e.Face.Token, app, store.ErrAppNotFound))
				}
				continue
			}
			if err != nil {
				return nil, err
			}
			for _, e := range batch {
				if err := putFaceToken(ctx, tx, app, e.Face); err != nil {
					return nil, err
				}
			}
			// The bound is per application: evicting across applications
			// would let one application's detects flush another's tokens.
			if _, err := tx.Exec(ctx, `DELETE FROM face_tokens WHERE id IN (SELECT id FROM face_tokens
				WHERE app_id = $1 ORDER BY id
				LIMIT greatest(0, coalesce((SELECT n FROM face_token_counts WHERE app_id = $1), 0) - $2))`,
				app, db.opts.MaxFaceTokens); err != nil {
				return nil, fmt.Errorf("postgres: evict face tokens of %q: %w", app, err)
			}
		}
		return nil, nil
	})
	if err != nil {
		return err
	}
	return errors.Join(append(errs, skipped...)...)
}

// putFaceToken writes one cache row in tx, as the newest of its app.
func putFaceToken(ctx context.Context, tx *wtx, app string, f store.DetectedFace) error {
	var box [5]any
	if !f.Box.Empty() {
		box = [5]any{f.Box.Min.X, f.Box.Min.Y, f.Box.Max.X, f.Box.Max.Y, f.Roll}
	}
	// Delete and insert (not an upsert): the entry gets a new id and so
	// counts as newest for eviction.
	if _, err := tx.Exec(ctx, `DELETE FROM face_tokens WHERE app_id = $1 AND face_token = $2`, app, f.Token); err != nil {
		return fmt.Errorf("postgres: put face token: %w", err)
	}
	// DO NOTHING: another node put the same token (same image) meanwhile,
	// and a unique violation would abort the whole batch.
	if _, err := tx.Exec(ctx, `INSERT INTO face_tokens (app_id, face_token, model, vector, created,
		box_left, box_top, box_right, box_bottom, box_roll) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (app_id, face_token) DO NOTHING`,
		app, f.Token, f.Embedding.Model, encodeVector(f.Embedding.Vector), nanos(f.Created),
		box[0], box[1], box[2], box[3], box[4]); err != nil {
		return fmt.Errorf("postgres: put face token: %w", err)
	}
	return nil
}

// GetFaceToken returns a remembered face or store.ErrFaceNotFound.
func (db *DB) GetFaceToken(ctx context.Context, app, token string) (store.DetectedFace, error) {
	var (
		f                        = store.DetectedFace{Token: token}
		raw                      []byte
		created                  int64
		left, top, right, bottom *int32
		roll                     *float64
	)
	err := db.pool.QueryRow(ctx, `SELECT model, vector, created, box_left, box_top, box_right, box_bottom, box_roll
		FROM face_tokens WHERE app_id = $1 AND face_token = $2`,
		app, token).Scan(&f.Embedding.Model, &raw, &created, &left, &top, &right, &bottom, &roll)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.DetectedFace{}, fmt.Errorf("postgres: face token %s: %w", token, store.ErrFaceNotFound)
	}
	if err != nil {
		return store.DetectedFace{}, db.fail("face token "+token, err)
	}
	if f.Embedding.Vector, err = decodeVector(nil, raw); err != nil {
		return store.DetectedFace{}, fmt.Errorf("postgres: face token %s: %w", token, err)
	}
	f.Created = fromNanos(created)
	if left != nil && top != nil && right != nil && bottom != nil {
		f.Box = image.Rect(int(*left), int(*top), int(*right), int(*bottom))
		if roll != nil {
			f.Roll = *roll
		}
	}
	return f, nil
}

// PutSessionCode stores a voice-code session, replacing one with the same
// id, and purges expired sessions. It returns store.ErrInvalidID or
// store.ErrAppNotFound.
func (db *DB) PutSessionCode(ctx context.Context, app string, c store.SessionCode) error {
	if err := validIDs(c.SessionID); err != nil {
		return err
	}
	if c.Code == "" {
		return errors.New("postgres: empty session code")
	}
	return db.write(ctx, func(tx *wtx) (indexUpdate, error) {
		if err := checkApp(ctx, tx, app); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM session_codes WHERE expires <= $1`, nanos(db.opts.Now())); err != nil {
			return nil, fmt.Errorf("postgres: purge sessions: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO session_codes (app_id, session_id, code, expires) VALUES ($1, $2, $3, $4)
			ON CONFLICT (app_id, session_id) DO UPDATE SET code = excluded.code, expires = excluded.expires`,
			app, c.SessionID, c.Code, nanos(c.Expires)); err != nil {
			return nil, fmt.Errorf("postgres: put session %s: %w", c.SessionID, err)
		}
		return nil, nil
	})
}

// GetSessionCode returns a session or store.ErrSessionNotFound or
// store.ErrSessionExpired.
func (db *DB) GetSessionCode(ctx context.Context, app, sessionID string) (store.SessionCode, error) {
	c := store.SessionCode{SessionID: sessionID}
	var expires int64
	err := db.pool.QueryRow(ctx, `SELECT code, expires FROM session_codes WHERE app_id = $1 AND session_id = $2`,
		app, sessionID).Scan(&c.Code, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.SessionCode{}, fmt.Errorf("postgres: session %s: %w", sessionID, store.ErrSessionNotFound)
	}
	if err != nil {
		return store.SessionCode{}, db.fail("session "+sessionID, err)
	}
	c.Expires = fromNanos(expires)
	if !db.opts.Now().Before(c.Expires) {
		return store.SessionCode{}, fmt.Errorf("postgres: session %s: %w", sessionID, store.ErrSessionExpired)
	}
	return c, nil
}
