// Package server is the HTTP side shared by facekit's vendor dialects: the
// gin router inside a hardened http.Server and the middleware every request
// goes through (request ids, structured logs, body limits, panic recovery).
// The dialects (server/baidu, ...) parse requests, call the vendor-neutral
// service layer (package service) to load images, detect and describe
// faces, compare, search and enroll, and map the domain errors of service,
// engine/imageio, store and store/registry to their own codes.
//
// *gin.Context never leaves server/: the service knows no HTTP.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/facekit/facekit/service"
)

// Config holds the HTTP server's tunables. Zero fields take the defaults
// listed on each field (see Defaults). The service's own tunables (limits,
// concurrency, image bounds) are service.Config.
type Config struct {
	// HTTP server limits. Defaults: 5 s to read headers, 60 s to read the
	// body, 120 s to write the response, 120 s idle, 64 KiB of headers.
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int

	// MaxBodyBytes caps every request body; default 24 MiB, enough for two
	// base64 images at the 10 MB image limit in one match request.
	MaxBodyBytes int64
}

// Defaults returns c with zero fields set to their defaults.
func (c Config) Defaults() Config {
	setDur := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	setDur(&c.ReadHeaderTimeout, 5*time.Second)
	setDur(&c.ReadTimeout, 60*time.Second)
	setDur(&c.WriteTimeout, 120*time.Second)
	setDur(&c.IdleTimeout, 120*time.Second)
	if c.MaxHeaderBytes <= 0 {
		c.MaxHeaderBytes = 64 << 10
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 24 << 20
	}
	return c
}

// Dialect is one vendor's API mounted on the shared router.
type Dialect interface {
	// Name is a short label for logs, e.g. "baidu".
	Name() string
	// Register adds the dialect's routes and middleware to r.
	Register(r *gin.Engine, svc *service.Service)
	// Owns reports whether an unknown path belongs to this dialect, which
	// then answers it through NotFound in its own format.
	Owns(path string) bool
	// NotFound answers a request for an unknown path that Owns claimed.
	NotFound(c *gin.Context)
}

// Server is facekit's HTTP server. Create it with New.
type Server struct {
	svc    *service.Service
	cfg    Config
	router *gin.Engine
	http   *http.Server
}

// New mounts every dialect, in order, on a router over svc.
func New(cfg Config, svc *service.Service, dialects ...Dialect) (*Server, error) {
	if svc == nil {
		return nil, errors.New("server: a service is required")
	}
	cfg = cfg.Defaults()
	s := &Server{svc: svc, cfg: cfg}

	// gin's mode is process-wide; release mode only silences its debug
	// route printing, which would otherwise bypass our structured logs.
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = false
	r.Use(s.baseMiddleware())
	for _, d := range dialects {
		d.Register(r, svc)
	}
	r.NoRoute(func(c *gin.Context) {
		for _, d := range dialects {
			if d.Owns(c.Request.URL.Path) {
				d.NotFound(c)
				return
			}
		}
		c.JSON(http.StatusNotFound, gin.H{"error": "not found"})
	})
	s.router = r
	s.http = &http.Server{
		Handler:           r,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(svc.Logger().Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Handler returns the router, for tests and for embedding in another server.
func (s *Server) Handler() http.Handler { return s.router }

// Service returns the service layer the dialects use.
func (s *Server) Service() *service.Service { return s.svc }

// Serve accepts connections on ln until Shutdown; it returns nil after a
// graceful shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.svc.Logger().Info("serving", "addr", ln.Addr().String())
	if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}

// Shutdown stops accepting connections and waits for in-flight requests
// until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.svc.Logger().Info("shutting down")
	if err := s.http.Shutdown(ctx); err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	return nil
}
