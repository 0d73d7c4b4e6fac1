package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/facekit/facekit/store"
)

// IssueToken checks a client-credentials pair (API key, secret key) and
// issues an access token valid for Config.TokenTTL. Returns
// ErrBadCredentials for an unknown key or a wrong secret (the two are not
// told apart to the caller's benefit, only in the wrapped detail).
func (s *Service) IssueToken(ctx context.Context, apiKey, secret string) (store.App, string, time.Time, error) {
	app, err := s.deps.Apps.AppByKey(ctx, apiKey)
	if errors.Is(err, store.ErrAppNotFound) {
		return store.App{}, "", time.Time{}, fmt.Errorf("%w: unknown client id", ErrBadCredentials)
	}
	if err != nil {
		return store.App{}, "", time.Time{}, fmt.Errorf("service: looking up client: %w", err)
	}
	if !s.deps.Apps.VerifySecret(app, secret) {
		return store.App{}, "", time.Time{}, fmt.Errorf("%w: secret does not match", ErrBadCredentials)
	}
	tok, exp, err := s.deps.Apps.IssueToken(ctx, app.ID, s.cfg.TokenTTL)
	if err != nil {
		return store.App{}, "", time.Time{}, fmt.Errorf("service: issuing token: %w", err)
	}
	return app, tok, exp, nil
}

// Authenticate resolves an access token to its application. Returns
// store.ErrTokenNotFound or store.ErrTokenExpired.
func (s *Service) Authenticate(ctx context.Context, token string) (store.App, error) {
	if token == "" {
		return store.App{}, store.ErrTokenNotFound
	}
	app, err := s.deps.Apps.AppByToken(ctx, token)
	if err != nil {
		return store.App{}, fmt.Errorf("service: access token: %w", err)
	}
	return app, nil
}

// Admit applies the per-application limits to one call: the QPS token
// bucket (ErrRateLimited) and the total-call quota (store.ErrQuotaExceeded).
func (s *Service) Admit(ctx context.Context, app store.App) error {
	rate, burst := s.cfg.QPS, s.cfg.Burst
	if app.QPS > 0 {
		rate, burst = float64(app.QPS), 0
	}
	if !s.limiter.Allow(app.ID, rate, burst) {
		return fmt.Errorf("%w: %g per second", ErrRateLimited, rate)
	}
	if app.Quota > 0 {
		if err := s.deps.Apps.CountCall(ctx, app.ID); err != nil {
			return fmt.Errorf("service: counting call: %w", err)
		}
	}
	return nil
}

// acquire takes one analysis slot, waiting at most QueueTimeout.
func (s *Service) acquire(ctx context.Context) (release func(), err error) {
	t := time.NewTimer(s.cfg.QueueTimeout)
	defer t.Stop()
	select {
	case s.sem <- struct{}{}:
		return func() { <-s.sem }, nil
	case <-t.C:
		return nil, fmt.Errorf("%w: no slot within %s", ErrBusy, s.cfg.QueueTimeout)
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	}
}

// NewSessionCode creates and stores a random digit code of minDigits to
// maxDigits digits with a random session id, valid for SessionCodeTTL.
// Returns ErrNotAvailable without a session store.
func (s *Service) NewSessionCode(ctx context.Context, app string, minDigits, maxDigits int) (store.SessionCode, error) {
	if s.deps.Sessions == nil {
		return store.SessionCode{}, fmt.Errorf("%w: no session store configured", ErrNotAvailable)
	}
	n, err := randInt(int64(maxDigits - minDigits + 1))
	if err != nil {
		return store.SessionCode{}, err
	}
	digits := minDigits + int(n)
	code := make([]byte, digits)
	for i := range code {
		d, err := randInt(10)
		if err != nil {
			return store.SessionCode{}, err
		}
		code[i] = byte('0' + d)
	}
	var id [12]byte
	if _, err := rand.Read(id[:]); err != nil {
		return store.SessionCode{}, fmt.Errorf("service: session id: %w", err)
	}
	sc := store.SessionCode{
		SessionID: "S" + hex.EncodeToString(id[:]),
		Code:      string(code),
		Expires:   time.Now().Add(s.cfg.SessionCodeTTL),
	}
	if err := s.deps.Sessions.PutSessionCode(ctx, app, sc); err != nil {
		return store.SessionCode{}, fmt.Errorf("service: storing session code: %w", err)
	}
	return sc, nil
}

func randInt(n int64) (int64, error) {
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		return 0, fmt.Errorf("service: random number: %w", err)
	}
	return v.Int64(), nil
}
