package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/facekit/facekit/internal/standin"
	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/store/sqlite"
)

// testDialect mounts routes that exercise the server's middleware.
type testDialect struct{}

func (testDialect) Name() string            { return "test" }
func (testDialect) Owns(p string) bool      { return strings.HasPrefix(p, "/t/") }
func (testDialect) NotFound(c *gin.Context) { c.String(http.StatusOK, "test-not-found") }
func (testDialect) Register(r *gin.Engine, svc *service.Service) {
	g := r.Group("/t", Recovery(svc.Logger(), func(c *gin.Context, err error) {
		c.String(http.StatusOK, "vendor-internal-error log_id=%d ok=%v", RequestID(c), errors.Is(err, service.ErrInternal))
	}))
	g.POST("/panic", func(c *gin.Context) { panic("boom") })
	g.POST("/echo", func(c *gin.Context) {
		body, err := ReadBody(c)
		if errors.Is(err, ErrBodyTooLarge) {
			c.String(http.StatusOK, "too-large")
			return
		}
		c.String(http.StatusOK, "%d", len(body))
	})
}

func mustOpenServer(tb testing.TB, cfg Config, logs io.Writer) (*Server, string) {
	tb.Helper()
	db, err := sqlite.Open(filepath.Join(tb.TempDir(), "t.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if logs == nil {
		logs = io.Discard
	}
	svc, err := service.New(service.Config{}, service.Deps{
		Engine: standin.Engine{Pool: 3}, Descriptor: standin.Describer{}, Library: db, Searcher: db, Apps: db, FaceTokens: db, Sessions: db,
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		tb.Fatal(err)
	}
	s, err := New(cfg, svc, testDialect{})
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	go s.Serve(ln)
	tb.Cleanup(func() { s.Shutdown(context.Background()) })
	return s, "http://" + ln.Addr().String()
}

func post(tb testing.TB, url string, body []byte) string {
	tb.Helper()
	resp, err := http.Post(url, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return string(out)
}

func TestMiddleware(t *testing.T) {
	var logs bytes.Buffer
	_, base := mustOpenServer(t, Config{MaxBodyBytes: 1024}, &logs)
	t.Run("PanicAnsweredByDialect", func(t *testing.T) {
		got := post(t, base+"/t/panic", nil)
		if !strings.HasPrefix(got, "vendor-internal-error log_id=") || strings.Contains(got, "log_id=0 ") || !strings.HasSuffix(got, "ok=true") {
			t.Fatalf("panic answered %q", got)
		}
	})
	t.Run("BodyWithinLimit", func(t *testing.T) {
		if got := post(t, base+"/t/echo", make([]byte, 1000)); got != "1000" {
			t.Fatalf("echo = %q", got)
		}
	})
	t.Run("BodyOverLimit", func(t *testing.T) {
		if got := post(t, base+"/t/echo", make([]byte, 5000)); got != "too-large" {
			t.Fatalf("echo = %q", got)
		}
	})
	t.Run("UnknownPathOfDialect", func(t *testing.T) {
		if got := post(t, base+"/t/nothing", nil); got != "test-not-found" {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("AccessTokenNeverLogged", func(t *testing.T) {
		post(t, base+"/t/echo?access_token=SECRET-TOKEN-123", []byte("x"))
		if strings.Contains(logs.String(), "SECRET-TOKEN-123") {
			t.Fatalf("query string logged: %s", logs.String())
		}
		if !strings.Contains(logs.String(), "path=/t/echo") {
			t.Fatalf("no access log line: %s", logs.String())
		}
	})
}

func TestHTTPServerLimits(t *testing.T) {
	s, _ := mustOpenServer(t, Config{}, nil)
	h := s.http
	if h.ReadHeaderTimeout <= 0 || h.ReadTimeout <= 0 || h.WriteTimeout <= 0 || h.IdleTimeout <= 0 || h.MaxHeaderBytes <= 0 {
		t.Fatalf("http.Server without limits: %+v", h)
	}
}
