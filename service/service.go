// Package service is facekit's vendor-neutral service layer: it loads
// images, detects, describes and analyses faces, names them with face
// tokens, compares, searches and enrolls them, keeps thumbnails and source
// crops, and applies the per-application credentials and limits. The HTTP
// dialects under server/ and the command line (cmd/facekit) both call it.
//
// It knows no vendor and no HTTP: callers parse their requests, call a
// Service, and map the domain errors of this package, engine/imageio,
// service/imagesrc, store and store/registry to their own codes. Imports run
// one way, cmd → server → service → store/engine (TestImportsRunOneWay).
package service

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/facekit/facekit/calibration"
	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/attributes"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/service/imagesrc"
	"github.com/facekit/facekit/service/ratelimit"
	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/registry"
)

// Config holds the service's tunables. Zero fields take the defaults listed
// on each field (see Defaults).
type Config struct {
	// Concurrency bounds how many calls decode and analyse images at once;
	// default the engine's pool size. QueueTimeout is how long a call waits
	// for a slot before it is refused as busy (ErrBusy); default 30 s.
	Concurrency  int
	QueueTimeout time.Duration
	// LargeImagePixels is the pixel count from which an image is large
	// (default DefaultLargeImagePixels); LargeConcurrency bounds how many
	// large images are analysed at once, default Concurrency/2 (at least
	// 1), so that large uploads cannot take every slot (memory.go).
	LargeImagePixels int64
	LargeConcurrency int

	// QPS and Burst are the default per-application rate limit, used when
	// an application has no QPS of its own; QPS 0 means unlimited.
	QPS   float64
	Burst int

	// AuthFailures is how many failed authentications (wrong API key or
	// secret) a client address may make per AuthFailureWindow before its
	// attempts are refused with ErrAuthThrottled; default
	// DefaultAuthFailures per DefaultAuthFailureWindow, negative disables.
	AuthFailures      int
	AuthFailureWindow time.Duration

	// TokenTTL is the lifetime of issued access tokens; default 30 days
	// (2592000 s, what the cloud API issues).
	TokenTTL time.Duration

	// Image bounds decoded images; default imageio.DefaultLimits().
	Image imageio.Limits
	// Fetch configures URL image sources (timeout, size cap and whether
	// private/loopback targets are allowed).
	Fetch imagesrc.Config

	// Thumbnails stores a small face crop with each enrolled face
	// (privacy: off unless set).
	Thumbnails bool
	// SourceCrops stores each enrolled face's source crop, the pixels
	// `facekit reembed` re-describes it from under another model
	// (privacy: off unless set).
	SourceCrops bool

	// SessionCodeTTL is how long a liveness session code stays valid;
	// default 5 minutes.
	SessionCodeTTL time.Duration
}

// Defaults returns c with zero fields set to their defaults. pool is the
// engine's pool size (used when Concurrency is 0).
func (c Config) Defaults(pool int) Config {
	setDur := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	setDur(&c.QueueTimeout, 30*time.Second)
	setDur(&c.TokenTTL, 30*24*time.Hour)
	setDur(&c.SessionCodeTTL, 5*time.Minute)
	setDur(&c.AuthFailureWindow, DefaultAuthFailureWindow)
	if c.AuthFailures == 0 {
		c.AuthFailures = DefaultAuthFailures
	}
	if c.Concurrency <= 0 {
		c.Concurrency = pool
	}
	if c.Concurrency <= 0 {
		c.Concurrency = runtime.NumCPU()
	}
	if c.LargeImagePixels <= 0 {
		c.LargeImagePixels = DefaultLargeImagePixels
	}
	if c.LargeConcurrency <= 0 {
		c.LargeConcurrency = max(1, c.Concurrency/2)
	}
	if c.Image == (imageio.Limits{}) {
		c.Image = imageio.DefaultLimits()
	}
	if c.Fetch.MaxBytes <= 0 {
		c.Fetch.MaxBytes = c.Image.MaxBytes
	}
	c.Fetch = c.Fetch.Defaults()
	return c
}

// Engine is what the service needs of *engine.Engine.
type Engine interface {
	Analyze(ctx context.Context, img image.Image, opts engine.Options) ([]engine.Face, error)
	PoolSize() int
}

// AttributeAnalyzer is what the service needs of *attributes.Analyzer: the
// requested model attributes of one face with its 68 landmarks. It must be
// safe for concurrent use. Returns attributes.ErrNoLandmarks or
// attributes.ErrFaceOutside for a face it cannot place a crop on (the
// fields then stay absent) and other errors for model failures.
type AttributeAnalyzer interface {
	Analyze(img *imageio.Image, f engine.Face, fields attributes.Fields) (attributes.Attributes, error)
}

// LivenessChecker is what the service needs of *liveness.Checker:
// face_liveness in 0..1 (1 = live) of one face with its 68 landmarks. It
// must be safe for concurrent use. Returns liveness.ErrNoLandmarks or
// liveness.ErrFaceOutside for a face it cannot score and other errors for
// model failures.
type LivenessChecker interface {
	Score(img *imageio.Image, f engine.Face) (float64, error)
}

// Deps are what the service runs on. Engine, Descriptor, Library, Searcher,
// Apps and FaceTokens are required; Sessions, Registry, Attributes and
// Liveness are optional (the calls that need them answer ErrNotAvailable,
// or leave the values absent, without them).
type Deps struct {
	Engine Engine
	// Descriptor describes every detected face: the default model
	// (descriptor.Open(descriptor.Default, ...)), the dlib ResNet
	// (descriptor.ResNet) or any other registered model.
	Descriptor descriptor.Describer
	Library    store.Library
	Searcher   store.Searcher
	Apps       store.Apps
	FaceTokens store.FaceTokens
	Sessions   store.SessionCodes
	Registry   registry.Source
	// Attributes estimates age, gender, emotion and glasses
	// (*attributes.Analyzer); nil leaves those fields absent.
	Attributes AttributeAnalyzer
	// Liveness scores face_liveness (*liveness.Checker); nil makes every
	// liveness control other than NONE answer ErrNotAvailable.
	Liveness LivenessChecker
	// Curve maps descriptor distance to false-accept rate; default
	// calibration.ForModel of the descriptor's model.
	Curve *calibration.Curve
	// Logger receives structured logs; default slog.Default().
	Logger *slog.Logger
}

// Service is the vendor-neutral service layer. Create it with New; it is
// safe for concurrent use.
type Service struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	sem     chan struct{}
	limiter *ratelimit.Limiter
	// authFails counts failed authentications per client address
	// (authguard.go).
	authFails *ratelimit.Limiter
	// sourceCropFailures counts enrolled faces left without a source crop.
	sourceCropFailures atomic.Int64
	fetcher            *imagesrc.Fetcher
	// tokens writes detected faces to Deps.FaceTokens in the background.
	tokens *tokenWriter
	// large bounds the analysis of large images (memory.go).
	large *largeImages
	// model is the descriptor model's name and metric how its vectors
	// compare.
	model  string
	metric descriptor.Metric
}

// New checks deps and applies the defaults of cfg.
func New(cfg Config, deps Deps) (*Service, error) {
	switch {
	case deps.Engine == nil:
		return nil, errors.New("service: Deps.Engine is required")
	case deps.Descriptor == nil:
		return nil, errors.New("service: Deps.Descriptor is required (descriptor.Open of a registered model)")
	case deps.Library == nil, deps.Searcher == nil:
		return nil, errors.New("service: Deps.Library and Deps.Searcher are required")
	case deps.Apps == nil:
		return nil, errors.New("service: Deps.Apps is required")
	case deps.FaceTokens == nil:
		return nil, errors.New("service: Deps.FaceTokens is required")
	}
	model := deps.Descriptor.Name()
	info, err := descriptor.Lookup(model)
	if err != nil {
		return nil, fmt.Errorf("service: descriptor: %w", err)
	}
	if deps.Curve == nil {
		c, err := calibration.ForModel(model)
		if err != nil {
			return nil, fmt.Errorf("service: %w", err)
		}
		deps.Curve = c
	}
	if deps.Curve.Model != "" && deps.Curve.Model != model {
		return nil, fmt.Errorf("service: calibration curve is for %q, faces are described with %q", deps.Curve.Model, model)
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	cfg = cfg.Defaults(deps.Engine.PoolSize())
	return &Service{
		cfg:       cfg,
		deps:      deps,
		log:       deps.Logger,
		sem:       make(chan struct{}, cfg.Concurrency),
		limiter:   ratelimit.New(),
		authFails: ratelimit.New(),
		fetcher:   imagesrc.New(cfg.Fetch),
		tokens:    newTokenWriter(deps.FaceTokens, deps.Logger),
		large:     newLargeImages(cfg.LargeConcurrency),
		model:     model,
		metric:    info.Metric,
	}, nil
}

// Config returns the effective configuration (defaults applied).
func (s *Service) Config() Config { return s.cfg }

// Logger returns the service's logger.
func (s *Service) Logger() *slog.Logger { return s.log }

// Library returns the face library.
func (s *Service) Library() store.Library { return s.deps.Library }

// Apps returns the application store.
func (s *Service) Apps() store.Apps { return s.deps.Apps }

// Registry returns the registry-photo source, or nil when none is configured.
func (s *Service) Registry() registry.Source { return s.deps.Registry }

// FAR returns the calibrated false-accept rate of a descriptor distance.
func (s *Service) FAR(distance float64) float64 { return s.deps.Curve.FAR(distance) }

// Model names the descriptor model the service describes faces with; the
// library must hold faces of this model only.
func (s *Service) Model() string { return s.model }
