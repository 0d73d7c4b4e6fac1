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

// AuthAllowed reserves one of addr's failed-authentication attempts and
// returns ErrAuthThrottled (wrapped) when none is left. addr is the client's
// address as the HTTP server reports it (gin's ClientIP, which honours
// X-Forwarded-For only from trusted proxies). Dialects call it before
// checking an API key and secret (the Baidu token endpoint, which the
// console signs in with, and Linkface's per-request api_id/api_secret), and
// AuthSucceeded when the attempt turned out not to be a failed
// authentication. Reserving before the check, rather than counting after
// it, is what bounds concurrent guesses: with a count after the check, 8
// parallel guessers got 17 wrong answers past a limit of 10.
func (s *Service) AuthAllowed(addr string) error {
	if s.cfg.AuthFailures < 0 {
		return nil
	}
	if !s.authFails.Allow(addr, s.authFailureRate(), s.cfg.AuthFailures) {
		return fmt.Errorf("%w: %s (%d failures per %s)", ErrAuthThrottled, addr, s.cfg.AuthFailures, s.cfg.AuthFailureWindow)
	}
	return nil
}

// AuthSucceeded gives back the attempt AuthAllowed reserved for addr: the
// credentials were right, or the request failed for another reason.
func (s *Service) AuthSucceeded(addr string) {
	if s.cfg.AuthFailures < 0 {
		return
	}
	s.authFails.Refund(addr, s.authFailureRate(), s.cfg.AuthFailures)
}

// AuthFailed records one failed authentication from addr that no
// AuthAllowed reserved (a request without any client id).
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
