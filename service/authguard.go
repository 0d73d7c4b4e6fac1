package service

import (
	"errors"
	"fmt"
	"time"
)

// ErrAuthThrottled means the client address failed to authenticate too
// often recently; the attempt is refused before the credentials are checked,
// so a guesser learns nothing from it, right secret or not.
var ErrAuthThrottled = errors.New("service: too many failed authentication attempts from this address")

// Defaults of the failed-authentication throttle: 10 failures per client
// address, regained over one minute. A person mistyping a secret key fails a
// few times; a script trying 3,000 secrets in 0.6 s is stopped after 10 and
// then gets one more try every 6 s (14,400 a day instead of millions).
const (
	DefaultAuthFailures      = 10
	DefaultAuthFailureWindow = time.Minute
)

// AuthAllowed returns ErrAuthThrottled (wrapped) when addr, the client's
// address as the HTTP server reports it (gin's ClientIP, which honours
// X-Forwarded-For only from trusted proxies), has used up its failed
// authentication attempts. Dialects call it before checking an API key and
// secret (the Baidu token endpoint, which the console signs in with, and
// Linkface's per-request api_id/api_secret), and AuthFailed after a
// failure.
func (s *Service) AuthAllowed(addr string) error {
	if s.cfg.AuthFailures < 0 {
		return nil
	}
	if !s.authFails.Peek(addr, s.authFailureRate(), s.cfg.AuthFailures) {
		return fmt.Errorf("%w: %s (%d failures per %s)", ErrAuthThrottled, addr, s.cfg.AuthFailures, s.cfg.AuthFailureWindow)
	}
	return nil
}

// AuthFailed records one failed authentication from addr.
func (s *Service) AuthFailed(addr string) {
	if s.cfg.AuthFailures < 0 {
		return
	}
	s.authFails.Allow(addr, s.authFailureRate(), s.cfg.AuthFailures)
}

// authFailureRate is how many failures per second an address regains.
func (s *Service) authFailureRate() float64 {
	return float64(s.cfg.AuthFailures) / s.cfg.AuthFailureWindow.Seconds()
}
