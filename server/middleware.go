package server

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/store"
)

// Keys under which the middleware stores per-request values in gin.Context.
const (
	keyRequestID = "facekit.request_id"
	keyApp       = "facekit.app"
	keyDialect   = "facekit.dialect"
)

// ErrBodyTooLarge means the request body exceeded Config.MaxBodyBytes.
var ErrBodyTooLarge = errors.New("server: request body too large")

// NewRequestID returns a random request id below 2^63, so that it stays a
// positive signed 64-bit integer for clients that parse it as one.
func NewRequestID() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms; a clock-based
		// id still keeps requests apart in the logs if it ever does.
		return uint64(time.Now().UnixNano()) >> 1
	}
	return binary.BigEndian.Uint64(b[:]) >> 1
}

// RequestID returns the id the middleware assigned to the request (the
// Baidu dialect's log_id, the others' request_id).
func RequestID(c *gin.Context) uint64 {
	if v, ok := c.Get(keyRequestID); ok {
		return v.(uint64)
	}
	return 0
}

// SetApp records the authenticated application of the request; dialects
// call it from their auth middleware.
func SetApp(c *gin.Context, app store.App) { c.Set(keyApp, app) }

// AppFrom returns the application SetApp recorded.
func AppFrom(c *gin.Context) (store.App, bool) {
	v, ok := c.Get(keyApp)
	if !ok {
		return store.App{}, false
	}
	return v.(store.App), true
}

// SetDialect labels the request with a dialect name for the access log.
func SetDialect(c *gin.Context, name string) { c.Set(keyDialect, name) }

// baseMiddleware runs first on every request: it assigns the request id,
// caps the body, recovers panics that no dialect handled, and writes one
// access-log line. The query string is never logged: it carries
// access tokens.
func (s *Server) baseMiddleware() gin.HandlerFunc {
	log := s.svc.Logger()
	return func(c *gin.Context) {
		start := time.Now()
		id := NewRequestID()
		c.Set(keyRequestID, id)
		c.Request = c.Request.WithContext(service.WithRequestID(c.Request.Context(), id))
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.MaxBodyBytes)
		}
		defer func() {
			if r := recover(); r != nil {
				// Dialects install their own recovery that answers in the
				// vendor's format; this is the last resort for a panic
				// outside them, still a JSON answer and a logged stack.
				log.Error("panic", "log_id", id, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				if !c.Writer.Written() {
					c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "internal error", "request_id": id})
				}
			}
			attrs := []any{
				"log_id", id,
				"method", c.Request.Method,
				"path", c.Request.URL.Path,
				"status", c.Writer.Status(),
				"bytes", c.Writer.Size(),
				"duration_ms", float64(time.Since(start).Microseconds()) / 1000,
				"remote", c.ClientIP(),
			}
			if d, ok := c.Get(keyDialect); ok {
				attrs = append(attrs, "dialect", d)
			}
			if app, ok := AppFrom(c); ok {
				attrs = append(attrs, "app", app.ID)
			}
			if len(c.Errors) > 0 {
				attrs = append(attrs, "error", c.Errors.String())
			}
			log.Info("request", attrs...)
		}()
		c.Next()
	}
}

// Recovery returns middleware that turns a panic in a later handler into an
// error (service.ErrInternal) passed to answer, which writes the dialect's
// internal-error response. The panic and its stack are logged to log with
// the request id.
func Recovery(log *slog.Logger, answer func(c *gin.Context, err error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r) // the client went away; let net/http handle it
				}
				log.Error("panic", "log_id", RequestID(c), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				c.Abort()
				if !c.Writer.Written() {
					answer(c, fmt.Errorf("%w: panic: %v", service.ErrInternal, r))
				}
			}
		}()
		c.Next()
	}
}

// ReadBody reads the whole (already size-capped) request body. It returns
// ErrBodyTooLarge when the cap was hit.
func ReadBody(c *gin.Context) ([]byte, error) {
	if c.Request.Body == nil {
		return nil, nil
	}
	buf := make([]byte, 0, min(max(c.Request.ContentLength, 0), 1<<20)+512)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := c.Request.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			var mbe *http.MaxBytesError
			switch {
			case errors.As(err, &mbe):
				return nil, fmt.Errorf("%w: limit %d bytes", ErrBodyTooLarge, mbe.Limit)
			case errors.Is(err, io.EOF):
				return buf, nil
			}
			return nil, fmt.Errorf("server: reading request body: %w", err)
		}
	}
}
