package baidu_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/internal/libtest"
	"github.com/facekit/facekit/internal/standin"
	"github.com/facekit/facekit/server"
	"github.com/facekit/facekit/server/baidu"
	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/store"
	"github.com/facekit/facekit/store/backend"
)

func b64(data []byte) string { return base64.StdEncoding.EncodeToString(data) }

// resNetFor is the dlib ResNet over eng (the dialect's behaviour does not
// depend on the model; TestDefaultServerEastAsian in cmd/facekit measures
// the default model through the real server), or a stand-in without a real
// engine.
func resNetFor(tb testing.TB, eng service.Engine) descriptor.Describer {
	tb.Helper()
	e, ok := eng.(*engine.Engine)
	if !ok {
		return standin.Describer{}
	}
	d, err := descriptor.Open(descriptor.ResNet, descriptor.Env{Engine: e})
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// ---- server ----

// clock is the store's clock; tests move it to expire tokens.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// env is one running server with one application, as a client sees it.
type env struct {
	tb     testing.TB
	base   string
	db     backend.Library
	clock  *clock
	app    store.App
	apiKey string
	secret string
	token  string
}

// option changes the service and the HTTP server before the start.
type option func(*service.Config, *service.Deps, *server.Config)

// mustStart starts the real server on 127.0.0.1:0 over a fresh library of
// the round's backend (internal/libtest) and fetches an access token the
// way the SDKs do. eng nil means the test must not need the engine.
func mustStart(tb testing.TB, eng service.Engine, opts ...option) *env {
	tb.Helper()
	if eng == nil {
		eng = standin.Engine{Pool: 2}
	}
	clk := &clock{}
	db := libtest.Open(tb, clk.now)
	app, secret, err := db.CreateApp(context.Background(), "test")
	if err != nil {
		tb.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("FACEKIT_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	var (
		cfg     service.Config
		httpCfg server.Config
	)
	deps := service.Deps{
		Engine: eng, Descriptor: resNetFor(tb, eng), Library: db, Searcher: db, Apps: db, FaceTokens: db, Sessions: db,
		Logger: logger,
	}
	for _, o := range opts {
		o(&cfg, &deps, &httpCfg)
	}
	svc, err := service.New(cfg, deps)
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := server.New(httpCfg, svc, baidu.New())
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			tb.Errorf("serve: %v", err)
		}
	})
	e := &env{tb: tb, base: "http://" + ln.Addr().String(), db: db, clock: clk, app: app, apiKey: app.APIKey, secret: secret}
	tok := e.fetchToken(e.apiKey, e.secret)
	if tok.AccessToken == "" {
		tb.Fatalf("no access token: %+v", tok)
	}
	e.token = tok.AccessToken
	return e
}

// tokenAnswer is the OAuth response, success or error fields.
type tokenAnswer struct {
	Status        int
	AccessToken   string `json:"access_token"`
	ExpiresIn     int64  `json:"expires_in"`
	Scope         string `json:"scope"`
	SessionKey    string `json:"session_key"`
	SessionSecret string `json:"session_secret"`
	RefreshToken  string `json:"refresh_token"`
	Error         string `json:"error"`
	Description   string `json:"error_description"`
}

// fetchToken calls the token endpoint as the Python SDK does (GET with the
// credentials in the query).
func (e *env) fetchToken(key, secret string) tokenAnswer {
	e.tb.Helper()
	q := url.Values{"grant_type": {"client_credentials"}, "client_id": {key}, "client_secret": {secret}}
	resp, err := http.Get(e.base + "/oauth/2.0/token?" + q.Encode())
	if err != nil {
		e.tb.Fatal(err)
	}
	defer resp.Body.Close()
	var ans tokenAnswer
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		e.tb.Fatal(err)
	}
	ans.Status = resp.StatusCode
	return ans
}

// answer is the v3 envelope.
type answer struct {
	ErrorCode int             `json:"error_code"`
	ErrorMsg  string          `json:"error_msg"`
	LogID     uint64          `json:"log_id"`
	Timestamp int64           `json:"timestamp"`
	Cached    int             `json:"cached"`
	Result    json.RawMessage `json:"result"`
	raw       []byte
}

// call posts body as JSON with ?access_token=, as the SDKs do, and decodes
// the envelope. body may be a map, a slice (match) or raw []byte.
func (e *env) call(path string, body any) answer {
	e.tb.Helper()
	return e.callAs(e.token, "application/json", path, body)
}

func (e *env) callAs(token, contentType, path string, body any) answer {
	e.tb.Helper()
	var data []byte
	switch b := body.(type) {
	case []byte:
		data = b
	default:
		var err error
		if data, err = json.Marshal(body); err != nil {
			e.tb.Fatal(err)
		}
	}
	u := e.base + path
	if token != "" {
		// The PHP SDK adds its name and version next to the token.
		u += "?access_token=" + url.QueryEscape(token) + "&aipSdk=php&aipSdkVersion=2_2_20"
	}
	resp, err := http.Post(u, contentType, bytes.NewReader(data))
	if err != nil {
		e.tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.tb.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		e.tb.Fatalf("%s: HTTP %d: %s", path, resp.StatusCode, raw)
	}
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil {
		e.tb.Fatalf("%s: not a JSON envelope: %v: %s", path, err, raw)
	}
	a.raw = raw
	return a
}

// must calls path and fails the test unless it succeeds; it decodes the
// result into out (if not nil).
func (e *env) must(path string, body any, out any) answer {
	e.tb.Helper()
	a := e.call(path, body)
	if a.ErrorCode != 0 {
		e.tb.Fatalf("%s: error %d %s", path, a.ErrorCode, a.ErrorMsg)
	}
	if out != nil {
		if err := json.Unmarshal(a.Result, out); err != nil {
			e.tb.Fatalf("%s: result: %v: %s", path, err, a.Result)
		}
	}
	return a
}

// expect calls path and fails the test unless it answers code.
func (e *env) expect(code int, path string, body any) answer {
	e.tb.Helper()
	a := e.call(path, body)
	if a.ErrorCode != code {
		e.tb.Fatalf("%s: error_code %d (%s), want %d", path, a.ErrorCode, a.ErrorMsg, code)
	}
	if a.ErrorMsg != baidu.Message(code) && code != baidu.CodeParamNull {
		e.tb.Fatalf("%s: error_msg %q, want %q", path, a.ErrorMsg, baidu.Message(code))
	}
	if a.LogID == 0 {
		e.tb.Fatalf("%s: no log_id in %s", path, a.raw)
	}
	return a
}

const v3 = "/rest/2.0/face/v3"

type obj = map[string]any

// with returns the env reporting to tb, for use inside subtests (a failure
// must stop the subtest, not its parent).
func (e *env) with(tb testing.TB) *env {
	c := *e
	c.tb = tb
	return &c
}
