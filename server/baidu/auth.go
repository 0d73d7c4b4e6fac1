package baidu

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/facekit/facekit/server"
	"github.com/facekit/facekit/service"
)

// tokenScope is the scope string of issued tokens. The official SDKs look
// for brain_all_scope in it and otherwise fall back to signing every
// request with BCE auth, which facekit does not implement.
const tokenScope = "public brain_all_scope vis-faceverify_FACE_V3 vis-faceverify_faceverify_h5-face-liveness"

// tokenResponse is the OAuth answer the SDKs parse (they use access_token,
// expires_in and scope).
type tokenResponse struct {
	RefreshToken  string `json:"refresh_token"`
	ExpiresIn     int64  `json:"expires_in"`
	SessionKey    string `json:"session_key"`
	AccessToken   string `json:"access_token"`
	Scope         string `json:"scope"`
	SessionSecret string `json:"session_secret"`
}

// throttledAnswer is the token endpoint's answer to an address that failed
// to authenticate too often. It has the OAuth error fields the SDKs read from
// this endpoint and Baidu's QPS-limit code, which their retry logic knows.
type throttledAnswer struct {
	oauthError
	ErrorCode int    `json:"error_code"`
	ErrorMsg  string `json:"error_msg"`
}

// oauthError is the OAuth error answer (RFC 6749 section 5.2 shape, as the
// cloud's token endpoint sends it).
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// token implements GET|POST /oauth/2.0/token?grant_type=client_credentials
// &client_id=API_KEY&client_secret=SECRET_KEY. Parameters may also come in
// a form body.
func (d *Dialect) token(c *gin.Context) {
	vals := c.Request.URL.Query()
	if c.Request.Method == http.MethodPost {
		body, err := server.ReadBody(c)
		if err != nil {
			c.JSON(http.StatusBadRequest, oauthError{"invalid_request", "request body too large or unreadable"})
			return
		}
		if form, err := url.ParseQuery(string(body)); err == nil {
			for k, v := range form {
				if vals.Get(k) == "" && len(v) > 0 {
					vals.Set(k, v[0])
				}
			}
		}
	}
	if vals.Get("grant_type") != "client_credentials" {
		c.JSON(http.StatusBadRequest, oauthError{"unsupported_grant_type", "The authorization grant type is not supported"})
		return
	}
	clientID, secret := vals.Get("client_id"), vals.Get("client_secret")
	if clientID == "" {
		d.core.AuthFailed(c.ClientIP())
		c.JSON(http.StatusUnauthorized, oauthError{"invalid_client", "unknown client id"})
		return
	}
	if err := d.core.AuthAllowed(c.ClientIP()); err != nil {
		_ = c.Error(err)
		c.JSON(http.StatusTooManyRequests, throttledAnswer{
			oauthError: oauthError{"invalid_client", "too many failed attempts from this address; try again later"},
			ErrorCode:  CodeQPSLimit, ErrorMsg: Message(CodeQPSLimit),
		})
		return
	}
	app, tok, _, err := d.core.IssueToken(c.Request.Context(), clientID, secret)
	if !errors.Is(err, service.ErrBadCredentials) {
		d.core.AuthSucceeded(c.ClientIP()) // not a failed sign-in: give the reserved attempt back
	}
	switch {
	case errors.Is(err, service.ErrBadCredentials):
		_ = c.Error(err)
		c.JSON(http.StatusUnauthorized, oauthError{"invalid_client", "Client authentication failed"})
		return
	case err != nil:
		d.core.Logger().Error("issuing token", "log_id", server.RequestID(c), "error", err)
		c.JSON(http.StatusInternalServerError, oauthError{"server_error", "internal error"})
		return
	}
	server.SetApp(c, app)
	c.JSON(http.StatusOK, tokenResponse{
		// Only client_credentials is supported; the refresh token and the
		// session pair are opaque random values the SDKs store but never
		// send back (BCE signing is not used once brain_all_scope is set).
		RefreshToken:  randomHex(32),
		ExpiresIn:     int64(d.core.Config().TokenTTL / time.Second),
		SessionKey:    randomHex(32),
		AccessToken:   tok,
		Scope:         tokenScope,
		SessionSecret: randomHex(16),
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b)
}
