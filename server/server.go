// Package server is the HTTP core shared by facekit's vendor dialects: the
// gin router inside a hardened http.Server, the middleware every request
// goes through (request ids, structured logs, body limits, panic recovery),
// the per-application rate limit, the semaphore that bounds CPU-bound work,
// and Core, the service layer the dialects (server/baidu, ...) call to load
// images, detect and describe faces, compare, search and enroll.
//
// Nothing here knows a vendor's wire format: dialects parse requests, call
// Core, and map the domain errors of this package, engine/imageio, store and
// store/registry to their own codes.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/facekit/facekit/calibration"
	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/server/imagesrc"
	"github.com/facekit/facekit/server/ratelimit"
	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/registry"
)

// Config holds the server's tunables. Zero fields take the defaults listed
// on each field (see Defaults).
type Config struct {
	// Addr is the listen address for ListenAndServe; default ":8080".
	Addr string

	// HTTP server limits. Defaults: 5 s to read headers, 60 s to read the
	// body, 120 s to write the response, 120 s idle, 64 KiB of headers.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int

	// TrustedProxies lists the reverse proxies (addresses or CIDR
	// prefixes) whose X-Forwarded-For and X-Real-IP headers name the
	// client. Default none: the peer address is the client, so a client
	// cannot choose the address that logs and per-address throttles see.
	TrustedProxies []string

	// MaxBodyBytes caps every request body; default 24 MiB, enough for two
	// base64 images at the 10 MB image limit in one match request.
	MaxBodyBytes int64

	// Concurrency bounds how many requests decode and analyse images at
	// once; default the engine's pool size. QueueTimeout is how long a
	// request waits for a slot before it is refused as busy; default 30 s.
	Concurrency  int
	QueueTimeout time.Duration

	// QPS and Burst are the default per-application rate limit, used when
	// an application has no QPS of its own; QPS 0 means unlimited.
	QPS   float64
	Burst int

	// AuthFailures is how many failed authentications (wrong API key or
	// secret) a client address may make per AuthFailureWindow before its
	// attempts are refused with the dialect's rate-limit answer; default
	// DefaultAuthFailures per DefaultAuthFailureWindow, negative disables.
	AuthFailures      int
	AuthFailureWindow time.Duration

	// TokenTTL is the lifetime of issued access tokens; default 30 days
	// (2592000 s, what the cloud API issues).
	TokenTTL time.Duration

	// Image bounds decoded images; default imageio.DefaultLimits().
	Image imageio.Limits
	// Fetch configures image_type=URL downloads (timeout, size cap and
	// whether private/loopback targets are allowed).
	Fetch imagesrc.Config

	// Thumbnails stores a small face crop with each face enrolled through
	// the API (privacy: off unless set).
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
	if c.Addr == "" {
		c.Addr = ":8080"
	}
	setDur := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	setDur(&c.ReadHeaderTimeout, 5*time.Second)
	setDur(&c.ReadTimeout, 60*time.Second)
	setDur(&c.WriteTimeout, 120*time.Second)
	setDur(&c.IdleTimeout, 120*time.Second)
	setDur(&c.QueueTimeout, 30*time.Second)
	setDur(&c.TokenTTL, 30*24*time.Hour)
	setDur(&c.SessionCodeTTL, 5*time.Minute)
	setDur(&c.AuthFailureWindow, DefaultAuthFailureWindow)
	if c.AuthFailures == 0 {
		c.AuthFailures = DefaultAuthFailures
	}
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = 64 << 10
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 24 << 20
	}
	if c.Concurrency <= 0 {
		c.Concurrency = pool
	}
	if c.Concurrency <= 0 {
		c.Concurrency = runtime.NumCPU()
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

// Deps are the services the server runs on. Engine, Library, Searcher,
// Apps and FaceTokens are required; Sessions, Registry, Attributes and
// Liveness are optional (the endpoints and fields that need them answer
// "not available" or stay absent without them).
type Deps struct {
	Engine     Engine
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
	// liveness control other than NONE answer "not available".
	Liveness LivenessChecker
	// Descriptor describes faces when it is not the engine's dlib ResNet;
	// nil means the ResNet, computed inside the engine's Analyze pass.
	Descriptor descriptor.Describer
	// Curve maps descriptor distance to false-accept rate; default
	// calibration.ForModel of the descriptor's model.
	Curve *calibration.Curve
	// Logger receives structured logs; default slog.Default().
	Logger *slog.Logger
	// Dialects are the vendor APIs to serve, e.g. baidu.New(baidu.Config{}).
	Dialects []Dialect
}

// Dialect is one vendor's API mounted on the shared router.
type Dialect interface {
	// Name is a short label for logs, e.g. "baidu".
	Name() string
	// Register adds the dialect's routes and middleware to r.
	Register(r *gin.Engine, core *Core)
	// Owns reports whether an unknown path belongs to this dialect, which
	// then answers it through NotFound in its own format.
	Owns(path string) bool
	// NotFound answers a request for an unknown path that Owns claimed.
	NotFound(c *gin.Context)
}

// Server is facekit's HTTP server. Create it with New.
type Server struct {
	core   *Core
	router *gin.Engine
	http   *http.Server
}

// New checks deps, builds the core and mounts every dialect.
func New(cfg Config, deps Deps) (*Server, error) {
	switch {
	case deps.Engine == nil:
		return nil, errors.New("server: Deps.Engine is required")
	case deps.Library == nil, deps.Searcher == nil:
		return nil, errors.New("server: Deps.Library and Deps.Searcher are required")
	case deps.Apps == nil:
		return nil, errors.New("server: Deps.Apps is required")
	case deps.FaceTokens == nil:
		return nil, errors.New("server: Deps.FaceTokens is required")
	}
	model := descriptor.Default
	if deps.Descriptor != nil {
		model = deps.Descriptor.Name()
	}
	info, err := descriptor.Lookup(model)
	if err != nil {
		return nil, fmt.Errorf("server: descriptor: %w", err)
	}
	if deps.Curve == nil {
		c, err := calibration.ForModel(model)
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
		deps.Curve = c
	}
	if deps.Curve.Model != "" && deps.Curve.Model != model {
		return nil, fmt.Errorf("server: calibration curve is for %q, faces are described with %q", deps.Curve.Model, model)
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	cfg = cfg.Defaults(deps.Engine.PoolSize())

	core := &Core{
		cfg:       cfg,
		deps:      deps,
		log:       deps.Logger,
		sem:       make(chan struct{}, cfg.Concurrency),
		limiter:   ratelimit.New(),
		authFails: ratelimit.New(),
		fetcher:   imagesrc.New(cfg.Fetch),
		model:     model,
		metric:    info.Metric,
	}

	// gin's mode is process-wide; release mode only silences its debug
	// route printing, which would otherwise bypass our structured logs.
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = false
	// gin trusts X-Forwarded-For from every peer unless told otherwise;
	// nil trusts none.
	if err := r.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("server: trusted_proxies: %w", err)
	}
	r.Use(core.baseMiddleware())
	for _, d := range deps.Dialects {
		d.Register(r, core)
	}
	dialects := deps.Dialects
	r.NoRoute(func(c *gin.Context) {
		for _, d := range dialects {
			if d.Owns(c.Request.URL.Path) {
				d.NotFound(c)
				return
			}
		}
		c.JSON(http.StatusNotFound, gin.H{"error": "not found"})
	})

	s := &Server{core: core, router: r}
	s.http = &http.Server{
		Addr:              cfg.Addr,
		Handler:           r,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(deps.Logger.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Handler returns the router, for tests and for embedding in another server.
func (s *Server) Handler() http.Handler { return s.router }

// Core returns the service layer the dialects use.
func (s *Server) Core() *Core { return s.core }

// Serve accepts connections on ln until Shutdown; it returns nil after a
// graceful shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.core.log.Info("serving", "addr", ln.Addr().String())
	if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}

// ListenAndServe listens on Config.Addr and serves until ctx ends, then
// shuts down gracefully, giving in-flight requests up to WriteTimeout.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.http.Addr)
	if err != nil {
		return fmt.Errorf("server: listen: %w", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), s.core.cfg.WriteTimeout)
	defer cancel()
	if err := s.Shutdown(shutCtx); err != nil {
		return err
	}
	return <-errc
}

// Shutdown stops accepting connections and waits for in-flight requests
// until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.core.log.Info("shutting down")
	if err := s.http.Shutdown(ctx); err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	return nil
}
