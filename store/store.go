// Package store defines the face library: applications own groups, groups own
// users, users own up to MaxFacesPerUser faces, each with an embedding. It
// holds the domain types, the service interfaces and their errors; store/sqlite
// implements them and store/index holds the in-memory search index.
package store

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"time"
)

// Limits of the library, as the face APIs document them.
const (
	MaxFacesPerUser = 20
	MaxIDLength     = 128
	MaxUserInfo     = 256
	MaxPageLength   = 1000
)

// Domain errors. Vendor packages map these (with errors.Is) to their codes.
var (
	ErrInvalidID      = errors.New("store: id must match [A-Za-z0-9_]{1,128}")
	ErrUserInfoLength = errors.New("store: user_info longer than 256 bytes")
	ErrGroupNotFound  = errors.New("store: group not found")
	ErrGroupExists    = errors.New("store: group already exists")
	ErrUserNotFound   = errors.New("store: user not found")
	ErrUserExists     = errors.New("store: user already exists")
	ErrFaceNotFound   = errors.New("store: face not found")
	ErrFaceExists     = errors.New("store: face already exists for this user")
	ErrTooManyFaces   = errors.New("store: user already has the maximum number of faces")
	ErrModelMismatch  = errors.New("store: embedding model differs from the library's")
	ErrAppNotFound    = errors.New("store: application not found")
	ErrTokenNotFound  = errors.New("store: access token not found")
	ErrTokenExpired   = errors.New("store: access token expired")

	// ErrInvalidEmbedding is an embedding without a model name, with an
	// empty vector, a non-finite component, or a length that differs from
	// the other embeddings of the same model.
	ErrInvalidEmbedding = errors.New("store: invalid embedding")
	// ErrInvalidPage is a paging request with start < 0 or length outside
	// 1..MaxPageLength.
	ErrInvalidPage = errors.New("store: start must be >= 0 and length in 1..1000")
	// ErrQuotaExceeded means an application has used all calls of its quota.
	ErrQuotaExceeded = errors.New("store: application call quota exhausted")
	// ErrSessionNotFound is an unknown voice-code session.
	ErrSessionNotFound = errors.New("store: session not found")
	// ErrSessionExpired is a voice-code session past its expiry.
	ErrSessionExpired = errors.New("store: session expired")
	// ErrUnavailable means the library's database cannot be reached (a
	// shared PostgreSQL library while the server is down or cut off). The
	// write did not happen, or for an interrupted commit may have
	// happened: the caller should retry. Searches keep answering from the
	// in-memory index meanwhile.
	ErrUnavailable = errors.New("store: library database unavailable")
)

// Embedding is a face descriptor together with the model that produced it.
// Embeddings of different models are never compared.
type Embedding struct {
	Model  string    // e.g. "dlib_resnet_v1"
	Vector []float32 // length depends on Model (128 for dlib ResNet)
}

// Face is one enrolled face.
type Face struct {
	Token     string // face_token, unique per (app, group, user)
	GroupID   string
	UserID    string
	Embedding Embedding
	Created   time.Time
	Thumbnail []byte // small JPEG crop; may be nil (thumbnails off)
	// Source is the pixels the face's descriptor can be recomputed from
	// under another model; nil when source crops are off or the face was
	// enrolled before they were kept.
	Source *SourceCrop
}

// SourceCrop is a face's loose aligned crop, kept so that its descriptor
// can be recomputed under another model (`facekit reembed`).
type SourceCrop struct {
	// JPEG is the encoded crop.
	JPEG []byte
	// Landmarks are the face's 68 landmarks (iBUG 300-W order) in crop
	// pixel coordinates.
	Landmarks [][2]float32
}

// User is an enrolled person in one group.
type User struct {
	GroupID string
	UserID  string
	Info    string
}

// AddAction says what adding a face to an existing user does.
type AddAction int

const (
	// ActionAppend adds the face to the user's faces (creating the user).
	ActionAppend AddAction = iota
	// ActionReplace replaces all of the user's faces with the new one
	// (creating the user if absent).
	ActionReplace
	// ActionUpdate requires the user to exist (ErrUserNotFound otherwise)
	// and appends the face, updating user_info.
	ActionUpdate
	// ActionUpdateReplace requires nothing: it updates an existing user by
	// replacing its faces, or creates it.
	ActionUpdateReplace
)

// Library is one application's face library. All methods are safe for
// concurrent use. Writes are transactional and durable when they return nil.
type Library interface {
	// CreateGroup returns ErrGroupExists if the group exists.
	CreateGroup(ctx context.Context, app, group string) error
	// DeleteGroup removes a group with its users and faces. Returns ErrGroupNotFound.
	DeleteGroup(ctx context.Context, app, group string) error
	// ListGroups returns group ids in creation order, paged.
	ListGroups(ctx context.Context, app string, start, length int) ([]string, error)

	// AddFace enrolls face for user in group according to action. The group
	// is created when absent (as the cloud API does). Returns ErrTooManyFaces,
	// ErrUserNotFound (ActionUpdate), ErrFaceExists, ErrInvalidID, ErrUserInfoLength.
	AddFace(ctx context.Context, app string, user User, face Face, action AddAction) (Face, error)
	// DeleteFace removes one face; returns ErrUserNotFound or ErrFaceNotFound.
	// A user left without faces is removed.
	DeleteFace(ctx context.Context, app, group, user, token string) error
	// GetUser returns the user in group, or in every group when group is "".
	// Returns ErrUserNotFound.
	GetUser(ctx context.Context, app, group, user string) ([]User, error)
	// ListFaces returns the user's faces (without thumbnails). Returns ErrUserNotFound.
	ListFaces(ctx context.Context, app, group, user string) ([]Face, error)
	// ListUsers returns user ids of a group, paged. Returns ErrGroupNotFound.
	ListUsers(ctx context.Context, app, group string, start, length int) ([]string, error)
	// CopyUser copies a user with its faces from src to dst group. Returns
	// ErrGroupNotFound (either group), ErrUserNotFound, ErrUserExists.
	CopyUser(ctx context.Context, app, user, srcGroup, dstGroup string) error
	// DeleteUser removes a user from group, or from every group when group
	// is "". Returns ErrUserNotFound.
	DeleteUser(ctx context.Context, app, group, user string) error
	// Thumbnail returns a face's stored crop or ErrFaceNotFound.
	Thumbnail(ctx context.Context, app, group, user, token string) ([]byte, error)
}

// Candidate is one search hit.
type Candidate struct {
	GroupID  string
	UserID   string
	Info     string
	Token    string  // the best-matching face of the user
	Distance float64 // Euclidean distance to the probe
}

// Searcher finds the users closest to a probe embedding.
type Searcher interface {
	// Search returns up to k users of the given groups, nearest first, one
	// entry per (group, user) with that user's closest face. An absent group
	// is ErrGroupNotFound. When userID is non-empty only that user is scored.
	// Ties are ordered by user id, then group id. A probe of another model
	// than a group's faces is ErrModelMismatch; a malformed probe (or one
	// whose length differs from the group's) is ErrInvalidEmbedding.
	Search(ctx context.Context, app string, groups []string, probe Embedding, userID string, k int) ([]Candidate, error)
}

// App is an API application: its id and credentials. SecretHash is never the
// secret itself.
type App struct {
	ID         string
	Name       string
	APIKey     string
	SecretHash []byte
	Created    time.Time
	QPS        int   // per-application request rate limit; 0 = default
	Quota      int64 // total calls allowed; 0 = unlimited
	CallsUsed  int64 // calls counted by CountCall so far
}

// Apps stores applications and their access tokens.
type Apps interface {
	// CreateApp creates an application and returns it with its plain secret
	// key (shown once).
	CreateApp(ctx context.Context, name string) (App, string, error)
	// AppByKey returns ErrAppNotFound.
	AppByKey(ctx context.Context, apiKey string) (App, error)
	// AppByID returns ErrAppNotFound.
	AppByID(ctx context.Context, id string) (App, error)
	// VerifySecret reports whether secret is app's secret (constant time).
	VerifySecret(app App, secret string) bool
	// IssueToken stores a new access token (hashed) for app valid for ttl.
	IssueToken(ctx context.Context, appID string, ttl time.Duration) (token string, expires time.Time, err error)
	// AppByToken returns ErrTokenNotFound or ErrTokenExpired.
	AppByToken(ctx context.Context, token string) (App, error)
	// SetAppLimits changes an application's QPS and quota (0 = default /
	// unlimited). Returns ErrAppNotFound.
	SetAppLimits(ctx context.Context, appID string, qps int, quota int64) error
	// CountCall counts one call against the application's quota. Returns
	// ErrQuotaExceeded (the call is not counted) or ErrAppNotFound.
	CountCall(ctx context.Context, appID string) error
}

// DetectedFace is a face seen by detect, remembered under its face_token so
// that later calls can pass image_type=FACE_TOKEN.
type DetectedFace struct {
	Token     string
	Embedding Embedding
	Created   time.Time
	// Box is the face's box in its image and Roll its in-plane rotation in
	// degrees, kept so that a call passing the token can still answer the
	// face's location. An empty Box means unknown (entries cached before
	// boxes were kept).
	Box  image.Rectangle
	Roll float64
}

// FaceTokenEntry is one detected face to cache for an application.
type FaceTokenEntry struct {
	App  string
	Face DetectedFace
}

// FaceTokens caches detected faces by token. The cache is bounded per
// application: each keeps at most its own newest entries, so one
// application's detects never evict another's tokens. The rows are a cache
// and need not survive a crash (backends may skip the fsync).
type FaceTokens interface {
	// PutFaceToken caches one face. Returns ErrInvalidID,
	// ErrInvalidEmbedding or ErrAppNotFound.
	PutFaceToken(ctx context.Context, app string, f DetectedFace) error
	// PutFaceTokens caches a batch in one transaction. Entries with an
	// invalid token or embedding, or of an unknown application, are
	// skipped and reported in the returned error (errors.Join of
	// ErrInvalidID, ErrInvalidEmbedding, ErrAppNotFound); the others are
	// stored all the same. A later entry with the same app and token
	// replaces an earlier one.
	PutFaceTokens(ctx context.Context, entries []FaceTokenEntry) error
	// GetFaceToken returns ErrFaceNotFound for an unknown or evicted token.
	GetFaceToken(ctx context.Context, app, token string) (DetectedFace, error)
}

// SessionCode is a random spoken code handed out for a video liveness check
// (the cloud API's voice "sessioncode"); the client records itself reading
// Code aloud and later submits the video with SessionID.
type SessionCode struct {
	SessionID string
	Code      string
	Expires   time.Time
}

// SessionCodes stores session codes until they expire.
type SessionCodes interface {
	// PutSessionCode stores c for app, replacing a session with the same
	// id. Expired sessions may be purged at any time.
	PutSessionCode(ctx context.Context, app string, c SessionCode) error
	// GetSessionCode returns ErrSessionNotFound or ErrSessionExpired.
	GetSessionCode(ctx context.Context, app, sessionID string) (SessionCode, error)
}

// ValidID reports whether id is a valid group, user or face-token id:
// 1 to MaxIDLength characters of [A-Za-z0-9_].
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > MaxIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Validate returns ErrInvalidEmbedding (wrapped with the reason) unless e
// names a model and holds a non-empty vector of finite numbers.
func (e Embedding) Validate() error {
	if e.Model == "" {
		return fmt.Errorf("%w: no model name", ErrInvalidEmbedding)
	}
	if len(e.Vector) == 0 {
		return fmt.Errorf("%w: empty vector", ErrInvalidEmbedding)
	}
	for i, v := range e.Vector {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%w: component %d is not finite", ErrInvalidEmbedding, i)
		}
	}
	return nil
}
