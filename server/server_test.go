package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

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
	g.POST("/slow", func(c *gin.Context) {
		<-c.Request.Context().Done() // a long analysis the client gives up on
		ReportUnknown(svc.Logger(), c, fmt.Errorf("analysing: %w", c.Request.Context().Err()))
		c.String(http.StatusOK, "gone")
	})
	g.POST("/fail", func(c *gin.Context) {
		ReportUnknown(svc.Logger(), c, errors.New("disk on fire"))
		c.String(http.StatusOK, "failed")
	})
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

// X-Forwarded-For names the client only when a configured proxy sent it;
// otherwise any client could pick the address the log and the per-address
// login throttle see.
func TestForwardedForTrust(t *testing.T) {
	cases := []struct {
		name    string
		proxies []string
		want    string
	}{
		{"UntrustedByDefault", nil, "remote=127.0.0.1"},
		{"TrustedProxy", []string{"127.0.0.1"}, "remote=6.6.6.6"},
		{"TrustedPrefix", []string{"127.0.0.0/8"}, "remote=6.6.6.6"},
		{"OtherProxyOnly", []string{"10.0.0.1"}, "remote=127.0.0.1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncBuffer
			_, base := mustOpenServer(t, Config{TrustedProxies: tc.proxies}, &logs)
			req, _ := http.NewRequest(http.MethodPost, base+"/t/echo", strings.NewReader("x"))
			req.Header.Set("X-Forwarded-For", "6.6.6.6")
			req.Header.Set("X-Real-IP", "6.6.6.6")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			waitFor(t, func() bool { return strings.Contains(logs.String(), "path=/t/echo") })
			if !strings.Contains(logs.String(), tc.want) {
				t.Fatalf("access log lacks %q:\n%s", tc.want, logs.String())
			}
			if tc.want != "remote=6.6.6.6" && strings.Contains(logs.String(), "6.6.6.6") {
				t.Fatalf("forwarded address from an untrusted peer logged:\n%s", logs.String())
			}
		})
	}
	t.Run("BadProxyRefused", func(t *testing.T) {
		s, _ := mustOpenServer(t, Config{}, nil)
		if _, err := New(Config{TrustedProxies: []string{"not-an-ip"}}, s.svc); err == nil || !strings.Contains(err.Error(), "trusted_proxies") {
			t.Fatalf("New with trusted proxy \"not-an-ip\": %v, want a trusted_proxies error", err)
		}
	})
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines to write
// while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond for up to 5 s (the access log is written after the
// response has been sent).
func waitFor(tb testing.TB, cond func() bool) {
	tb.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	tb.Fatal("condition not met within 5 s")
}

// A client hanging up is not a server fault: INFO "client cancelled", not
// ERROR "internal error ... context canceled".
func TestClientCancelLoggedAsInfo(t *testing.T) {
	var logs syncBuffer
	_, base := mustOpenServer(t, Config{}, &logs)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/t/slow", nil)
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("request outlived its client's deadline")
	}
	waitFor(t, func() bool { return strings.Contains(logs.String(), "path=/t/slow status=") })
	out := logs.String()
	if !strings.Contains(out, `level=INFO msg="client cancelled"`) || strings.Contains(out, "level=ERROR") {
		t.Fatalf("client cancel logged as:\n%s", out)
	}
	t.Run("RealFaultStillError", func(t *testing.T) {
		post(t, base+"/t/fail", nil)
		waitFor(t, func() bool { return strings.Contains(logs.String(), `level=ERROR msg="internal error"`) })
	})
}

func TestHTTPServerLimits(t *testing.T) {
	s, _ := mustOpenServer(t, Config{}, nil)
	h := s.http
	if h.ReadHeaderTimeout <= 0 || h.ReadTimeout <= 0 || h.WriteTimeout <= 0 || h.IdleTimeout <= 0 || h.MaxHeaderBytes <= 0 {
		t.Fatalf("http.Server without limits: %+v", h)
	}
}
