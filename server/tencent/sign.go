package tencent

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Signature errors, each answered with its own documented code.
var (
	errNoSignature     = errors.New("tencent: Authorization header missing")
	errMalformed       = errors.New("tencent: malformed signature")
	errAppIDUnknown    = errors.New("tencent: appid unknown")
	errSecretIDUnknown = errors.New("tencent: SecretId unknown")
	errAppIDMismatch   = errors.New("tencent: appid and SecretId do not belong together")
	errBadSignature    = errors.New("tencent: signature does not verify")
	errExpired         = errors.New("tencent: signature expired")
	errReplay          = errors.New("tencent: signature already used")
	errTargetMismatch  = errors.New("tencent: signature appid differs from the request's appid")
)

// Sign makes the Authorization value of Tencent's legacy image APIs: the
// plain text
//
//	a=APPID&b=BUCKET&k=SECRETID&e=EXPIRE&t=NOW&r=RAND&u=0&f=
//
// signed with HMAC-SHA1 under the secret key, and base64(digest || plain).
// Clients (and tests) use it; the server verifies with verify.
func Sign(appID, bucket, secretID, secretKey string, expire, now time.Time, rand uint32) string {
	plain := fmt.Sprintf("a=%s&b=%s&k=%s&e=%d&t=%d&r=%d&u=0&f=", appID, bucket, secretID, expire.Unix(), now.Unix(), rand)
	mac := hmac.New(sha1.New, []byte(secretKey))
	mac.Write([]byte(plain))
	return base64.StdEncoding.EncodeToString(append(mac.Sum(nil), plain...))
}

// signature is a parsed Authorization value.
type signature struct {
	appID, bucket, secretID, rand string
	expire, now                   int64
	digest                        []byte
	plain                         string
}

// parseSignature splits an Authorization value into digest and fields.
// Returns errNoSignature or errMalformed.
func parseSignature(h string) (signature, error) {
	if h == "" {
		return signature{}, errNoSignature
	}
	raw, err := base64.StdEncoding.DecodeString(h)
	if err != nil {
		return signature{}, fmt.Errorf("%w: not base64", errMalformed)
	}
	if len(raw) <= sha1.Size {
		return signature{}, fmt.Errorf("%w: %d bytes", errMalformed, len(raw))
	}
	s := signature{digest: raw[:sha1.Size], plain: string(raw[sha1.Size:])}
	q, err := url.ParseQuery(s.plain)
	if err != nil {
		return signature{}, fmt.Errorf("%w: plain text: %v", errMalformed, err)
	}
	for _, k := range []string{"a", "k", "e", "t", "r"} {
		if q.Get(k) == "" {
			return signature{}, fmt.Errorf("%w: field %s missing", errMalformed, k)
		}
	}
	s.appID, s.bucket, s.secretID, s.rand = q.Get("a"), q.Get("b"), q.Get("k"), q.Get("r")
	if s.expire, err = strconv.ParseInt(q.Get("e"), 10, 64); err != nil {
		return signature{}, fmt.Errorf("%w: e is not a number", errMalformed)
	}
	if s.now, err = strconv.ParseInt(q.Get("t"), 10, 64); err != nil {
		return signature{}, fmt.Errorf("%w: t is not a number", errMalformed)
	}
	return s, nil
}

// verifier checks signatures against the configured credentials and
// remembers the ones it accepted, so that each is used once.
type verifier struct {
	bySecretID map[string]Credential
	appIDs     map[string]bool
	window     time.Duration
	now        func() time.Time

	mu      sync.Mutex
	seen    map[string]int64 // nonce -> unix time after which it is stale anyway
	inserts int
}

func newVerifier(creds []Credential, window time.Duration, now func() time.Time) *verifier {
	v := &verifier{bySecretID: map[string]Credential{}, appIDs: map[string]bool{}, window: window, now: now, seen: map[string]int64{}}
	for _, c := range creds {
		v.bySecretID[c.SecretID] = c
		v.appIDs[c.AppID] = true
	}
	return v
}

// verify authenticates header and returns the credential it was signed
// with. Checks run in an order that never reveals more than the caller
// already proved: credentials exist, then the digest, then time and reuse.
func (v *verifier) verify(header string) (Credential, signature, error) {
	s, err := parseSignature(header)
	if err != nil {
		return Credential{}, s, err
	}
	cred, ok := v.bySecretID[s.secretID]
	switch {
	case !v.appIDs[s.appID]:
		return Credential{}, s, fmt.Errorf("%w: %q", errAppIDUnknown, s.appID)
	case !ok:
		return Credential{}, s, errSecretIDUnknown
	case cred.AppID != s.appID:
		return Credential{}, s, errAppIDMismatch
	}
	mac := hmac.New(sha1.New, []byte(cred.SecretKey))
	mac.Write([]byte(s.plain))
	if !hmac.Equal(mac.Sum(nil), s.digest) {
		return Credential{}, s, errBadSignature
	}
	now := v.now().Unix()
	win := int64(v.window / time.Second)
	switch {
	case s.expire <= now:
		return Credential{}, s, fmt.Errorf("%w: expired at %d, now %d", errExpired, s.expire, now)
	case now-s.now > win:
		// Signatures are single-use (see below), so one signed long ago
		// and never used is as suspect as an expired one.
		return Credential{}, s, fmt.Errorf("%w: signed at %d, more than %s ago", errExpired, s.now, v.window)
	case s.now-now > win:
		return Credential{}, s, fmt.Errorf("%w: signed %ds in the future", errBadSignature, s.now-now)
	}
	if !v.remember(s.secretID+"|"+strconv.FormatInt(s.now, 10)+"|"+s.rand, s.now+win) {
		return Credential{}, s, errReplay
	}
	return cred, s, nil
}

// remember records a nonce until staleAt; it reports false when the nonce
// was already there. A nonce only needs keeping while its t is inside the
// window: after that the signature fails as expired anyway, which bounds
// the table by the request rate times the window.
func (v *verifier) remember(nonce string, staleAt int64) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, dup := v.seen[nonce]; dup {
		return false
	}
	v.seen[nonce] = staleAt
	v.inserts++
	if v.inserts%1024 == 0 {
		now := v.now().Unix()
		for k, t := range v.seen {
			if t < now {
				delete(v.seen, k)
			}
		}
	}
	return true
}
