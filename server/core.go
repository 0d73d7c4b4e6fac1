package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"log/slog"
	"math"
	"math/big"
	"strings"
	"time"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/descriptor/sourcecrop"
	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/attributes"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/engine/liveness"
	"github.com/facekit/facekit/quality"
	"github.com/facekit/facekit/server/imagesrc"
	"github.com/facekit/facekit/server/ratelimit"
	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/registry"
)

// Domain errors of the core. Dialects map them, together with the errors of
// engine/imageio, server/imagesrc, store and store/registry, to their codes.
var (
	// ErrNoFace means the image holds no detectable face.
	ErrNoFace = errors.New("server: no face in the image")
	// ErrFaceTokenNotFound means a FACE_TOKEN image names no cached face.
	ErrFaceTokenNotFound = errors.New("server: face token not found")
	// ErrImageType means the image source kind is not one the core knows.
	ErrImageType = errors.New("server: unsupported image type")
	// ErrBusy means no analysis slot became free within QueueTimeout.
	ErrBusy = errors.New("server: too many concurrent requests")
	// ErrRateLimited means the application exceeded its QPS limit.
	ErrRateLimited = errors.New("server: application QPS limit exceeded")
	// ErrBadCredentials means an API key / secret key pair did not verify.
	ErrBadCredentials = errors.New("server: invalid client credentials")
	// ErrNotAvailable means the feature needs a component this server was
	// not given (a registry source, a liveness model, ...).
	ErrNotAvailable = errors.New("server: feature not available on this server")
	// ErrInternal marks unexpected failures (and recovered panics).
	ErrInternal = errors.New("server: internal error")
)

// Engine is what the server needs of *engine.Engine.
type Engine interface {
	Analyze(ctx context.Context, img image.Image, opts engine.Options) ([]engine.Face, error)
	PoolSize() int
}

// AttributeAnalyzer is what the server needs of *attributes.Analyzer: the
// requested model attributes of one face with its 68 landmarks. It must be
// safe for concurrent use. Returns attributes.ErrNoLandmarks or
// attributes.ErrFaceOutside for a face it cannot place a crop on (the
// fields then stay absent) and other errors for model failures.
type AttributeAnalyzer interface {
	Analyze(img *imageio.Image, f engine.Face, fields attributes.Fields) (attributes.Attributes, error)
}

// LivenessChecker is what the server needs of *liveness.Checker:
// face_liveness in 0..1 (1 = live) of one face with its 68 landmarks. It
// must be safe for concurrent use. Returns liveness.ErrNoLandmarks or
// liveness.ErrFaceOutside for a face it cannot score and other errors for
// model failures.
type LivenessChecker interface {
	Score(img *imageio.Image, f engine.Face) (float64, error)
}

// Core is the vendor-neutral service layer. It is safe for concurrent use.
type Core struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	sem     chan struct{}
	limiter *ratelimit.Limiter
	// authFails counts failed authentications per client address
	// (authguard.go).
	authFails *ratelimit.Limiter
	fetcher   *imagesrc.Fetcher
	// model is the descriptor model's name and metric how its vectors
	// compare.
	model  string
	metric descriptor.Metric
}

// Config returns the effective configuration (defaults applied).
func (core *Core) Config() Config { return core.cfg }

// Logger returns the server's logger.
func (core *Core) Logger() *slog.Logger { return core.log }

// Library returns the face library.
func (core *Core) Library() store.Library { return core.deps.Library }

// Apps returns the application store.
func (core *Core) Apps() store.Apps { return core.deps.Apps }

// Registry returns the registry-photo source, or nil when none is configured.
func (core *Core) Registry() registry.Source { return core.deps.Registry }

// FAR returns the calibrated false-accept rate of a descriptor distance.
func (core *Core) FAR(distance float64) float64 { return core.deps.Curve.FAR(distance) }

// Model names the descriptor model the server describes faces with; the
// library must hold faces of this model only.
func (core *Core) Model() string { return core.model }

// usesEngineDescriptor reports whether faces are described by the engine's
// ResNet inside its Analyze pass (the default), rather than by a separate
// descriptor model afterwards.
func (core *Core) usesEngineDescriptor() bool { return core.deps.Descriptor == nil }

// ---- authentication and limits ----

// IssueToken checks a client-credentials pair (API key, secret key) and
// issues an access token valid for Config.TokenTTL. Returns
// ErrBadCredentials for an unknown key or a wrong secret (the two are not
// told apart to the caller's benefit, only in the wrapped detail).
func (core *Core) IssueToken(ctx context.Context, apiKey, secret string) (store.App, string, time.Time, error) {
	app, err := core.deps.Apps.AppByKey(ctx, apiKey)
	if errors.Is(err, store.ErrAppNotFound) {
		return store.App{}, "", time.Time{}, fmt.Errorf("%w: unknown client id", ErrBadCredentials)
	}
	if err != nil {
		return store.App{}, "", time.Time{}, fmt.Errorf("server: looking up client: %w", err)
	}
	if !core.deps.Apps.VerifySecret(app, secret) {
		return store.App{}, "", time.Time{}, fmt.Errorf("%w: secret does not match", ErrBadCredentials)
	}
	tok, exp, err := core.deps.Apps.IssueToken(ctx, app.ID, core.cfg.TokenTTL)
	if err != nil {
		return store.App{}, "", time.Time{}, fmt.Errorf("server: issuing token: %w", err)
	}
	return app, tok, exp, nil
}

// Authenticate resolves an access token to its application. Returns
// store.ErrTokenNotFound or store.ErrTokenExpired.
func (core *Core) Authenticate(ctx context.Context, token string) (store.App, error) {
	if token == "" {
		return store.App{}, store.ErrTokenNotFound
	}
	app, err := core.deps.Apps.AppByToken(ctx, token)
	if err != nil {
		return store.App{}, fmt.Errorf("server: access token: %w", err)
	}
	return app, nil
}

// Admit applies the per-application limits to one call: the QPS token
// bucket (ErrRateLimited) and the total-call quota (store.ErrQuotaExceeded).
func (core *Core) Admit(ctx context.Context, app store.App) error {
	rate, burst := core.cfg.QPS, core.cfg.Burst
	if app.QPS > 0 {
		rate, burst = float64(app.QPS), 0
	}
	if !core.limiter.Allow(app.ID, rate, burst) {
		return fmt.Errorf("%w: %g per second", ErrRateLimited, rate)
	}
	if app.Quota > 0 {
		if err := core.deps.Apps.CountCall(ctx, app.ID); err != nil {
			return fmt.Errorf("server: counting call: %w", err)
		}
	}
	return nil
}

// acquire takes one analysis slot, waiting at most QueueTimeout.
func (core *Core) acquire(ctx context.Context) (release func(), err error) {
	t := time.NewTimer(core.cfg.QueueTimeout)
	defer t.Stop()
	select {
	case core.sem <- struct{}{}:
		return func() { <-core.sem }, nil
	case <-t.C:
		return nil, fmt.Errorf("%w: no slot within %s", ErrBusy, core.cfg.QueueTimeout)
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	}
}

// ---- images ----

// ImageKind says how an ImageSource carries its image.
type ImageKind int

// The image kinds every vendor API uses in some spelling.
const (
	ImageBase64    ImageKind = iota + 1 // Value is base64 image data
	ImageURL                            // Value is an http(s) URL
	ImageFaceToken                      // Value is a face token from an earlier detection
	ImageBytes                          // Bytes holds the encoded image (multipart uploads, registry photos)
)

// ImageSource is an image as a request names it.
type ImageSource struct {
	Kind  ImageKind
	Value string
	Bytes []byte
}

// LoadedImage is a decoded image together with its encoded bytes (which
// name it in face tokens).
type LoadedImage struct {
	Image *imageio.Image
	Raw   []byte
}

// LoadImage fetches and decodes a BASE64, URL or bytes source. A FACE_TOKEN
// source has no image and is ErrImageType here; use DetectFaces for it.
// Returns imageio errors, imagesrc errors or ErrImageType.
func (core *Core) LoadImage(ctx context.Context, src ImageSource) (*LoadedImage, error) {
	raw, err := core.imageBytes(ctx, src)
	if err != nil {
		return nil, err
	}
	return core.decode(raw)
}

// imageBytes returns the encoded image of a BASE64, URL or bytes source.
func (core *Core) imageBytes(ctx context.Context, src ImageSource) ([]byte, error) {
	switch src.Kind {
	case ImageBase64:
		return decodeBase64(src.Value, core.cfg.Image.MaxBytes)
	case ImageURL:
		return core.fetcher.Fetch(ctx, strings.TrimSpace(src.Value))
	case ImageBytes:
		if len(src.Bytes) == 0 {
			return nil, imageio.ErrEmpty
		}
		return src.Bytes, nil
	}
	return nil, fmt.Errorf("%w: kind %d", ErrImageType, src.Kind)
}

func (core *Core) decode(raw []byte) (*LoadedImage, error) {
	img, err := imageio.Decode(raw, core.cfg.Image)
	if err != nil {
		return nil, err
	}
	return &LoadedImage{Image: img, Raw: raw}, nil
}

// decodeBase64 turns a base64 image string into bytes with the leniency
// imageio.DecodeBase64 has (padding optional, URL-safe alphabet, line breaks,
// data: URI prefix). The core needs the bytes themselves, not only the
// decoded pixels, because face tokens are derived from them.
func decodeBase64(s string, maxBytes int64) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) > 5 && strings.EqualFold(s[:5], "data:") {
		comma := strings.IndexByte(s, ',')
		if comma < 0 || !strings.HasSuffix(strings.ToLower(s[:comma]), ";base64") {
			return nil, fmt.Errorf("%w: data URI without ;base64,", imageio.ErrBase64)
		}
		s = s[comma+1:]
	}
	if strings.ContainsAny(s, " \t\r\n") {
		s = strings.Map(func(r rune) rune {
			switch r {
			case ' ', '\t', '\r', '\n':
				return -1
			}
			return r
		}, s)
	}
	s = strings.TrimRight(s, "=")
	if s == "" {
		return nil, imageio.ErrEmpty
	}
	if n := int64(len(s)) * 6 / 8; maxBytes > 0 && n > maxBytes {
		return nil, fmt.Errorf("%w: about %d bytes after base64, limit %d", imageio.ErrImageTooLarge, n, maxBytes)
	}
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	data, err := enc.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", imageio.ErrBase64, err)
	}
	return data, nil
}

// ---- faces ----

// Face is one detected face with its token. Faces recalled by token carry
// only the token, the descriptor and, when the cache kept it, the box and
// roll (Located): HasBox is false, and there are no landmarks, pixels,
// attributes or liveness. The descriptor is the server's model's (Vector);
// engine.Face.Descriptor holds the ResNet's only when that is the model.
type Face struct {
	engine.Face
	Token string
	// HasBox means the face was detected in this request's image: box,
	// landmarks, pose and pixels are all there.
	HasBox bool
	// Located means Rect and Pose.Roll are known: always when HasBox, and
	// for a face recalled by token whose box the cache kept.
	Located bool
	// Attributes holds the fields DetectOptions.Attributes asked for; nil
	// when none were asked, no analyzer is configured or the face gave the
	// models nothing to crop.
	Attributes *attributes.Attributes
	// Liveness is face_liveness (0..1, 1 = live), valid when LivenessScored:
	// DetectOptions.Liveness asked for it, a checker is configured and the
	// face could be scored.
	Liveness       float64
	LivenessScored bool

	// Model and Vector are the face's descriptor; Vector is nil when the
	// face could not be described.
	Model  string
	Vector []float32

	// image is the decoded image the face was detected in (nil for a face
	// recalled by token), kept so that Enroll can store a thumbnail and a
	// source crop.
	image *imageio.Image
}

// Embedding returns the face's descriptor as a store embedding.
func (f Face) Embedding() store.Embedding {
	return store.Embedding{Model: f.Model, Vector: append([]float32(nil), f.Vector...)}
}

// Detection is the result of DetectFaces.
type Detection struct {
	// Image is the decoded image, nil for a FACE_TOKEN source.
	Image *imageio.Image
	// Raw is the encoded image, nil for a FACE_TOKEN source.
	Raw []byte
	// Faces are largest first (or centre first), each with a descriptor.
	Faces []Face
}

// DetectOptions tune DetectFaces.
type DetectOptions struct {
	// MaxFaces keeps at most this many faces; 0 means 1.
	MaxFaces int
	// SortByCenter orders faces by distance to the image centre instead of
	// by area.
	SortByCenter bool
	// Attributes are the model attributes to estimate for every face
	// (needs Deps.Attributes; ignored without it).
	Attributes attributes.Fields
	// Liveness scores every face's face_liveness (needs Deps.Liveness;
	// ignored without it).
	Liveness bool
}

// DetectFaces loads src, detects up to MaxFaces faces with landmarks, pose
// and descriptor, names each with its face token and caches it so that a
// later request may pass the token instead of the image. The attribute and
// liveness models, when asked for, run on each face inside the same
// analysis slot as the detection (they are CPU-bound too). A FACE_TOKEN
// source returns the cached face. Returns ErrNoFace when nothing is found,
// ErrFaceTokenNotFound, ErrBusy, the errors of LoadImage and model
// failures of the analyzers.
func (core *Core) DetectFaces(ctx context.Context, app string, src ImageSource, opts DetectOptions) (*Detection, error) {
	if src.Kind == ImageFaceToken {
		f, err := core.RecallFace(ctx, app, src.Value)
		if err != nil {
			return nil, err
		}
		return &Detection{Faces: []Face{f}}, nil
	}
	// Downloads wait on the network, not the CPU: fetch before taking an
	// analysis slot, then decode and analyse inside it.
	raw, err := core.imageBytes(ctx, src)
	if err != nil {
		return nil, err
	}
	release, err := core.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()

	img, err := core.decode(raw)
	if err != nil {
		return nil, err
	}
	maxFaces := max(opts.MaxFaces, 1)
	faces, err := core.deps.Engine.Analyze(ctx, img.Image, engine.Options{
		Upsample:     -1, // small faces: retry upsampled when nothing is found
		MaxFaces:     maxFaces,
		SortByCenter: opts.SortByCenter,
		Landmarks:    true,
		// The default model's descriptor comes out of this same pass;
		// another model describes the faces below instead.
		Descriptors: core.usesEngineDescriptor(),
	})
	if err != nil {
		return nil, fmt.Errorf("server: analysing image: %w", err)
	}
	if len(faces) == 0 {
		return nil, ErrNoFace
	}
	det := &Detection{Image: img.Image, Raw: img.Raw, Faces: make([]Face, len(faces))}
	now := time.Now()
	for i, f := range faces {
		tok := FaceToken(img.Raw, f.Rect)
		det.Faces[i] = Face{Face: f, Token: tok, HasBox: true, Located: true, image: img.Image}
		if err := core.describe(ctx, img.Image, &det.Faces[i]); err != nil {
			return nil, err
		}
		if det.Faces[i].Vector == nil {
			continue
		}
		err := core.deps.FaceTokens.PutFaceToken(ctx, app, store.DetectedFace{
			Token: tok, Embedding: det.Faces[i].Embedding(), Created: now,
			Box: f.Rect, Roll: f.Pose.Roll,
		})
		if err != nil {
			// The answer is still right without the cache entry; only a
			// later FACE_TOKEN request would miss it.
			core.log.Warn("caching face token", "log_id", RequestIDFrom(ctx), "error", err)
		}
	}
	for i := range det.Faces {
		if err := core.analyzeFace(img.Image, &det.Faces[i], opts); err != nil {
			return nil, err
		}
	}
	return det, nil
}

// describe sets f's descriptor: the engine's, computed in the Analyze pass,
// for the default model, else the configured model's. A face without
// landmarks stays undescribed (as the engine leaves it); a model failure is
// an error.
func (core *Core) describe(ctx context.Context, img *imageio.Image, f *Face) error {
	f.Model = core.model
	if core.usesEngineDescriptor() {
		if f.HasDescriptor {
			f.Vector = append([]float32(nil), f.Descriptor[:]...)
		}
		return nil
	}
	v, err := core.deps.Descriptor.Describe(ctx, img, f.Face)
	switch {
	case errors.Is(err, engine.ErrNoLandmarks):
		return nil
	case err != nil:
		return fmt.Errorf("server: describing face with %s: %w", core.model, err)
	}
	f.Vector = v
	return nil
}

// analyzeFace runs the attribute and liveness models opts asks for on one
// face. A face the models cannot place a crop on (no landmarks, outside the
// image) simply lacks the values; a model failure is an error.
func (core *Core) analyzeFace(img *imageio.Image, f *Face, opts DetectOptions) error {
	if opts.Attributes != 0 && core.deps.Attributes != nil {
		a, err := core.deps.Attributes.Analyze(img, f.Face, opts.Attributes)
		switch {
		case errors.Is(err, attributes.ErrNoLandmarks), errors.Is(err, attributes.ErrFaceOutside):
		case err != nil:
			return fmt.Errorf("server: face attributes: %w", err)
		default:
			f.Attributes = &a
		}
	}
	if opts.Liveness && core.deps.Liveness != nil {
		s, err := core.deps.Liveness.Score(img, f.Face)
		switch {
		case errors.Is(err, liveness.ErrNoLandmarks), errors.Is(err, liveness.ErrFaceOutside):
		case err != nil:
			return fmt.Errorf("server: face liveness: %w", err)
		default:
			f.Liveness, f.LivenessScored = s, true
		}
	}
	return nil
}

// HasAttributes reports whether an attribute analyzer is configured.
func (core *Core) HasAttributes() bool { return core.deps.Attributes != nil }

// HasLiveness reports whether a liveness checker is configured.
func (core *Core) HasLiveness() bool { return core.deps.Liveness != nil }

// LivenessThresholds returns the liveness package's calibrated FRR
// thresholds, the ones CheckLiveness applies.
func (core *Core) LivenessThresholds() liveness.Thresholds { return liveness.CalibratedThresholds() }

// CheckLiveness applies a liveness control level to a face detected with
// DetectOptions.Liveness. LevelNone always passes. Returns ErrNotAvailable
// without a liveness checker, and liveness.ErrLivenessFailed when the face
// scores below the level's threshold or has no score: a face recalled by
// token has no pixels left to score, and passing it unchecked would let a
// recapture through by way of an earlier detect call.
func (core *Core) CheckLiveness(f Face, level liveness.Level) error {
	if level == liveness.LevelNone {
		return nil
	}
	if core.deps.Liveness == nil {
		return fmt.Errorf("%w: liveness control %s needs the liveness models", ErrNotAvailable, level)
	}
	if !f.LivenessScored {
		why := "the face could not be scored"
		if !f.HasBox {
			why = "a face passed by token has no pixels to score"
		}
		return fmt.Errorf("%w: %s", liveness.ErrLivenessFailed, why)
	}
	return liveness.Check(f.Liveness, level)
}

// DetectOne is DetectFaces for the single largest face.
func (core *Core) DetectOne(ctx context.Context, app string, src ImageSource) (Face, error) {
	det, err := core.DetectFaces(ctx, app, src, DetectOptions{MaxFaces: 1})
	if err != nil {
		return Face{}, err
	}
	return det.Faces[0], nil
}

// RecallFace returns the face cached under token: its descriptor and, when
// the cache kept it, its box and roll. Returns ErrFaceTokenNotFound.
func (core *Core) RecallFace(ctx context.Context, app, token string) (Face, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return Face{}, fmt.Errorf("%w: empty token", ErrFaceTokenNotFound)
	}
	df, err := core.deps.FaceTokens.GetFaceToken(ctx, app, token)
	if errors.Is(err, store.ErrFaceNotFound) {
		return Face{}, fmt.Errorf("%w: %q", ErrFaceTokenNotFound, token)
	}
	if err != nil {
		return Face{}, fmt.Errorf("server: face token lookup: %w", err)
	}
	if df.Embedding.Model != core.model {
		return Face{}, fmt.Errorf("%w: token %q was made by model %q, this server describes with %q", store.ErrModelMismatch, token, df.Embedding.Model, core.model)
	}
	f := Face{Token: df.Token, Model: df.Embedding.Model, Vector: df.Embedding.Vector}
	if core.usesEngineDescriptor() && len(df.Embedding.Vector) == engine.DescriptorSize {
		copy(f.Descriptor[:], df.Embedding.Vector)
		f.HasDescriptor = true
	}
	if !df.Box.Empty() {
		f.Rect, f.Pose.Roll, f.Located = df.Box, df.Roll, true
	}
	return f, nil
}

// FaceToken names one face of one image: 32 hex digits of SHA-256 over the
// encoded image bytes and the face box. The same image always yields the
// same tokens; different boxes in one image yield different tokens.
func FaceToken(raw []byte, box image.Rectangle) string {
	h := sha256.New()
	h.Write(raw)
	var b [16]byte
	binary.BigEndian.PutUint32(b[0:], uint32(int32(box.Min.X)))
	binary.BigEndian.PutUint32(b[4:], uint32(int32(box.Min.Y)))
	binary.BigEndian.PutUint32(b[8:], uint32(int32(box.Max.X)))
	binary.BigEndian.PutUint32(b[12:], uint32(int32(box.Max.Y)))
	h.Write(b[:])
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Distance is the distance between two faces' descriptors under their
// model's metric (Euclidean for the dlib ResNet, cosine for the TF.js
// models), the distance the calibration curve of that model takes. Faces of
// one server always share its model; faces of different models, or a face
// without a descriptor, are infinitely far apart (they never match).
func Distance(a, b Face) float64 {
	d, err := descriptor.Compare(descriptor.Stored{Model: a.Model, Vector: a.Vector}, descriptor.Stored{Model: b.Model, Vector: b.Vector})
	if err != nil {
		return math.Inf(1)
	}
	return d
}

// Search finds up to k users of groups nearest to face (only userID when it
// is not empty), with each candidate's distance under the model's metric.
// Returns the store's errors (ErrGroupNotFound, ...).
func (core *Core) Search(ctx context.Context, app string, groups []string, face Face, userID string, k int) ([]store.Candidate, error) {
	cands, err := core.deps.Searcher.Search(ctx, app, groups, face.Embedding(), userID, k)
	if err != nil {
		return nil, fmt.Errorf("server: search: %w", err)
	}
	// The index ranks by Euclidean distance; the cosine models' vectors
	// are unit length, so the ranking is the same and the cosine distance
	// is d²/2.
	if core.metric == descriptor.Cosine {
		for i := range cands {
			cands[i].Distance = cands[i].Distance * cands[i].Distance / 2
		}
	}
	return cands, nil
}

// Enroll adds face to user according to action. Returns the store's errors.
func (core *Core) Enroll(ctx context.Context, app string, user store.User, face Face, action store.AddAction) (store.Face, error) {
	var thumb []byte
	if core.cfg.Thumbnails && face.image != nil {
		thumb = Thumbnail(face.image, face.Face)
	}
	src := core.SourceCrop(face)
	f, err := core.deps.Library.AddFace(ctx, app, user, store.Face{
		Token:     face.Token,
		GroupID:   user.GroupID,
		UserID:    user.UserID,
		Embedding: face.Embedding(),
		Created:   time.Now(),
		Thumbnail: thumb,
		Source:    src,
	}, action)
	if err != nil {
		return store.Face{}, fmt.Errorf("server: enroll: %w", err)
	}
	return f, nil
}

// SourceCrop returns the source crop to keep with face when it is enrolled
// (descriptor/sourcecrop), or nil when Config.SourceCrops is off or the face
// has no pixels or landmarks (recalled by token). Without it the face cannot
// be re-described under another model.
func (core *Core) SourceCrop(face Face) *store.SourceCrop {
	if !core.cfg.SourceCrops || face.image == nil {
		return nil
	}
	src, err := sourcecrop.Make(face.image, face.Face)
	if err != nil {
		return nil
	}
	return src
}

// Thumbnail geometry: a 112 px aligned crop with padding shows the whole
// head in ~3-5 KB.
const (
	thumbSize    = 112
	thumbPadding = 0.4
	thumbQuality = 80
)

// Thumbnail encodes the small aligned JPEG crop the library keeps with an
// enrolled face so that operators can recognise people in the console; nil
// for a face without landmarks.
func Thumbnail(img *imageio.Image, f engine.Face) []byte {
	chip, err := engine.Chip(img, f, thumbSize, thumbPadding)
	if err != nil {
		return nil
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, chip, &jpeg.Options{Quality: thumbQuality}); err != nil {
		return nil
	}
	return buf.Bytes()
}

// ---- registry ----

// RegistryFace looks up the registered photo for an ID number and name and
// detects its face. Returns ErrNotAvailable without a registry source, the
// registry's errors, and registry.ErrPhotoUnusable when the photo has no
// usable face.
func (core *Core) RegistryFace(ctx context.Context, app, idNumber, name string) (Face, error) {
	src := core.deps.Registry
	if src == nil {
		return Face{}, fmt.Errorf("%w: no registry source configured", ErrNotAvailable)
	}
	photo, err := src.Lookup(ctx, idNumber, name)
	if err != nil {
		return Face{}, fmt.Errorf("server: registry: %w", err)
	}
	f, err := core.DetectOne(ctx, app, ImageSource{Kind: ImageBytes, Bytes: photo.Image})
	switch {
	case errors.Is(err, ErrBusy):
		return Face{}, err
	case err != nil:
		return Face{}, fmt.Errorf("%w: %v", registry.ErrPhotoUnusable, err)
	}
	return f, nil
}

// ---- session codes ----

// NewSessionCode creates and stores a random digit code of minDigits to
// maxDigits digits with a random session id, valid for SessionCodeTTL.
// Returns ErrNotAvailable without a session store.
func (core *Core) NewSessionCode(ctx context.Context, app string, minDigits, maxDigits int) (store.SessionCode, error) {
	if core.deps.Sessions == nil {
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
		return store.SessionCode{}, fmt.Errorf("server: session id: %w", err)
	}
	sc := store.SessionCode{
		SessionID: "S" + hex.EncodeToString(id[:]),
		Code:      string(code),
		Expires:   time.Now().Add(core.cfg.SessionCodeTTL),
	}
	if err := core.deps.Sessions.PutSessionCode(ctx, app, sc); err != nil {
		return store.SessionCode{}, fmt.Errorf("server: storing session code: %w", err)
	}
	return sc, nil
}

func randInt(n int64) (int64, error) {
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		return 0, fmt.Errorf("server: random number: %w", err)
	}
	return v.Int64(), nil
}

// ---- quality ----

// MeasureQuality returns the quality report of face f of det. ok is false
// for a face recalled by token: it carries no pixels to measure. Returns
// quality.ErrLandmarks or quality.ErrDegenerateFace for faces the metrics
// cannot be anchored on.
func (core *Core) MeasureQuality(det *Detection, f Face) (r quality.Report, ok bool, err error) {
	if det == nil || det.Image == nil || !f.HasBox {
		return quality.Report{}, false, nil
	}
	r, err = quality.Measure(det.Image, f.Face)
	if err != nil {
		return quality.Report{}, false, fmt.Errorf("server: measuring quality: %w", err)
	}
	return r, true, nil
}

// CheckQuality applies a quality control level to face f of det. It returns
// nil when the face passes (LevelNone always does, and so does a face
// recalled by token, which has no pixels left to judge), a
// *quality.CheckError listing the failed criteria, or MeasureQuality's
// errors.
func (core *Core) CheckQuality(det *Detection, f Face, level quality.Level) error {
	if level == quality.LevelNone {
		return nil
	}
	r, ok, err := core.MeasureQuality(det, f)
	if err != nil || !ok {
		return err
	}
	return quality.Check(r, level)
}
