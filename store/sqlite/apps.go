package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/internal/secret"
)

const appColumns = `id, name, api_key, secret_hash, created, qps, quota, calls_used`

func scanApp(row interface{ Scan(...any) error }) (store.App, error) {
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
	err := db.write(ctx, func(tx *sql.Tx) (indexUpdate, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO apps (id, name, api_key, secret_hash, created) VALUES (?, ?, ?, ?, ?)`,
			a.ID, a.Name, a.APIKey, a.SecretHash, nanos(a.Created))
		return nil, err
	})
	if err != nil {
		return store.App{}, "", fmt.Errorf("sqlite: create app %q: %w", name, err)
	}
	return a, key, nil
}

// RestoreApp creates application a exactly as given (id, API key, secret
// hash, limits, calls used), as `facekit import` moves it from another
// library. An application with a's id is left alone: created is false.
func (db *DB) RestoreApp(ctx context.Context, a store.App) (created bool, err error) {
	err = db.write(ctx, func(tx *sql.Tx) (indexUpdate, error) {
		res, err := tx.ExecContext(ctx, `INSERT INTO apps (id, name, api_key, secret_hash, created, qps, quota, calls_used)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
			a.ID, a.Name, a.APIKey, a.SecretHash, nanos(a.Created), a.QPS, a.Quota, a.CallsUsed)
		if err != nil {
			return nil, err
		}
		n, _ := res.RowsAffected()
		created = n == 1
		return nil, nil
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: restore app %q: %w", a.ID, err)
	}
	return created, nil
}

// AppByKey returns the application with the API key or store.ErrAppNotFound.
func (db *DB) AppByKey(ctx context.Context, apiKey string) (store.App, error) {
	return db.appWhere(ctx, `api_key = ?`, apiKey)
}

// AppByID returns the application or store.ErrAppNotFound.
func (db *DB) AppByID(ctx context.Context, id string) (store.App, error) {
	return db.appWhere(ctx, `id = ?`, id)
}

func (db *DB) appWhere(ctx context.Context, cond, arg string) (store.App, error) {
	a, err := scanApp(db.r.QueryRowContext(ctx, `SELECT `+appColumns+` FROM apps WHERE `+cond, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return store.App{}, fmt.Errorf("sqlite: app: %w", store.ErrAppNotFound)
	}
	if err != nil {
		return store.App{}, fmt.Errorf("sqlite: look up app: %w", err)
	}
	return a, nil
}

// VerifySecret reports whether secret is the application's secret key, in
// time independent of where the two differ.
func (db *DB) VerifySecret(app store.App, key string) bool {
	return secret.Verify(app.SecretHash, key)
}

// IssueToken stores a new access token for the application, valid for
// ttl, and purges expired ones. The token follows the cloud API's shape
// ("24.<random>.<ttl seconds>.<expiry unix>.<app id>"); only its SHA-256 is
// stored. It returns store.ErrAppNotFound.
func (db *DB) IssueToken(ctx context.Context, appID string, ttl time.Duration) (string, time.Time, error) {
	now := db.opts.Now()
	expires := now.Add(ttl)
	token := fmt.Sprintf("24.%s.%d.%d.%s", randomHex(16), int64(ttl/time.Second), expires.Unix(), appID)
	err := db.write(ctx, func(tx *sql.Tx) (indexUpdate, error) {
		if err := checkApp(ctx, tx, appID); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM access_tokens WHERE expires <= ?`, nanos(now)); err != nil {
			return nil, fmt.Errorf("sqlite: purge tokens: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO access_tokens (token_hash, app_id, expires) VALUES (?, ?, ?)`,
			secret.TokenKey(token), appID, nanos(expires)); err != nil {
			return nil, fmt.Errorf("sqlite: store token: %w", err)
		}
		return nil, nil
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return token, expires, nil
}

// AppByToken returns the application an access token was issued to, or
// store.ErrTokenNotFound or store.ErrTokenExpired.
func (db *DB) AppByToken(ctx context.Context, token string) (store.App, error) {
	var expires int64
	row := db.r.QueryRowContext(ctx, `SELECT t.expires, a.id, a.name, a.api_key, a.secret_hash, a.created, a.qps, a.quota, a.calls_used
		FROM access_tokens t JOIN apps a ON a.id = t.app_id WHERE t.token_hash = ?`, secret.TokenKey(token))
	var (
		a       store.App
		created int64
	)
	err := row.Scan(&expires, &a.ID, &a.Name, &a.APIKey, &a.SecretHash, &created, &a.QPS, &a.Quota, &a.CallsUsed)
	if errors.Is(err, sql.ErrNoRows) {
		return store.App{}, fmt.Errorf("sqlite: access token: %w", store.ErrTokenNotFound)
	}
	if err != nil {
		return store.App{}, fmt.Errorf("sqlite: look up access token: %w", err)
	}
	if !db.opts.Now().Before(fromNanos(expires)) {
		return store.App{}, fmt.Errorf("sqlite: access token: %w", store.ErrTokenExpired)
	}
	a.Created = fromNanos(created)
	return a, nil
}

// SetAppLimits sets an application's QPS and quota. It returns
// store.ErrAppNotFound.
func (db *DB) SetAppLimits(ctx context.Context, appID string, qps int, quota int64) error {
	return db.write(ctx, func(tx *sql.Tx) (indexUpdate, error) {
		res, err := tx.ExecContext(ctx, `UPDATE apps SET qps = ?, quota = ? WHERE id = ?`, qps, quota, appID)
		if err != nil {
			return nil, fmt.Errorf("sqlite: set limits of %q: %w", appID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil, fmt.Errorf("sqlite: app %q: %w", appID, store.ErrAppNotFound)
		}
		return nil, nil
	})
}

// CountCall counts one call against the application's quota. It returns
// store.ErrQuotaExceeded (without counting) or store.ErrAppNotFound.
func (db *DB) CountCall(ctx context.Context, appID string) error {
	return db.write(ctx, func(tx *sql.Tx) (indexUpdate, error) {
		res, err := tx.ExecContext(ctx, `UPDATE apps SET calls_used = calls_used + 1 WHERE id = ? AND (quota = 0 OR calls_used < quota)`, appID)
		if err != nil {
			return nil, fmt.Errorf("sqlite: count call of %q: %w", appID, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil, nil
		}
		if err := checkApp(ctx, tx, appID); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("sqlite: app %q: %w", appID, store.ErrQuotaExceeded)
	})
}
