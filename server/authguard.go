package server

import (
	"errors"
	"fmt"
	"time"
)

// ErrAuthThrottled means the client address failed to authenticate too
// often recently; the attempt is refused before the credentials are checked,
// so a guesser learns nothing from it, right secret or not.
var ErrAuthThrottled = errors.New("server: too many failed authentication attempts from this address")

// Defaults of the failed-authentication throttle: 10 failures per client
// address, regained over one minute. A person mistyping a secret key fails a
// few times; a script trying 3,000 secrets in 0.6 s is stopped after 10 and
// then gets one more try every 6 s (14,400 a day instead of millions).
const (
	DefaultAuthFailures      = 10
	DefaultAuthFailureWindow = time.Minute
)

// AuthAllowed returns ErrAuthThrottled (wrapped) when addr, the client's
// address as gin.Context.ClientIP reports it, has used up its failed
// authentication attempts. Dialects call it before checking an API key and
// secret (the Baidu token endpoint, which the console signs in with, and
// Linkface's per-request api_id/api_secret), and AuthFailed after a
// failure.
func (core *Core) AuthAllowed(addr string) error {
	if core.cfg.AuthFailures < 0 {
		return nil
	}
	if !core.authFails.Peek(addr, core.authFailureRate(), core.cfg.AuthFailures) {
		return fmt.Errorf("%w: %s (%d failures per %s)", ErrAuthThrottled, addr, core.cfg.AuthFailures, core.cfg.AuthFailureWindow)
	}
	return nil
}

// AuthFailed records one failed authentication from addr.
func (core *Core) AuthFailed(addr string) {
	if core.cfg.AuthFailures < 0 {
		return
	}
	core.authFails.Allow(addr, core.authFailureRate(), core.cfg.AuthFailures)
}

// authFailureRate is how many failures per second an address regains.
func (core *Core) authFailureRate() float64 {
	return float64(core.cfg.AuthFailures) / core.cfg.AuthFailureWindow.Seconds()
}
