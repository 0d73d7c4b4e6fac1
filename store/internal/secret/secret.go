// Package secret hashes application secrets and access tokens the way
// every library backend stores them, so a library moved between backends
// (`facekit export`/`import`) keeps working credentials.
package secret

import (
	"crypto/hmac"
	"crypto/sha256"
)

// SaltSize is the length of the random salt in front of a secret's hash.
const SaltSize = 16

// Hash returns salt || SHA-256(salt || secret). Secrets are 128-bit
// random strings, so a fast hash is enough; the salt keeps equal secrets
// from having equal hashes.
func Hash(salt []byte, secret string) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(secret))
	return h.Sum(append([]byte(nil), salt...))
}

// Verify reports whether secret matches hash (from Hash), in time
// independent of where the two differ.
func Verify(hash []byte, secret string) bool {
	if len(hash) != SaltSize+sha256.Size {
		return false
	}
	return hmac.Equal(hash, Hash(hash[:SaltSize], secret))
}

// TokenKey is the key of a bearer token in access_tokens: a leaked
// database does not leak usable tokens.
func TokenKey(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
