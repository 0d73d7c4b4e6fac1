package ops_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/facekit/facekit/server/ops"
)

// newRouter mounts the ops dialect first, then a stand-in route of another
// dialect, as server.New mounts dialects in order.
func newRouter(cfg ops.Config) (*ops.Dialect, *httptest.Server) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	d := ops.New(cfg)
	d.Register(r, nil)
	r.POST("/rest/2.0/face/v3/detect", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"error_code": 0}) })
	r.NoRoute(func(c *gin.Context) { c.Status(http.StatusNotFound) })
	return d, httptest.NewServer(r)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestMetricsCountRequestsByEndpointAndCode(t *testing.T) {
	_, srv := newRouter(ops.Config{LibraryFaces: func() int { return 42 }})
	defer srv.Close()
	for i := 0; i < 3; i++ {
		resp, err := http.Post(srv.URL+"/rest/2.0/face/v3/detect", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for _, p := range []string{"/no/such/path/1", "/no/such/path/2"} {
		get(t, srv.URL+p)
	}
	code, body := get(t, srv.URL+ops.PathMetrics)
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	for _, want := range []string{
		`facekit_http_requests_total{method="POST",endpoint="/rest/2.0/face/v3/detect",code="200"} 3`,
		// Unknown paths share one series: scanners cannot add series.
		`facekit_http_requests_total{method="GET",endpoint="unmatched",code="404"} 2`,
		`facekit_http_request_duration_seconds_count{method="POST",endpoint="/rest/2.0/face/v3/detect"} 3`,
		`facekit_http_request_duration_seconds_bucket{method="POST",endpoint="/rest/2.0/face/v3/detect",le="+Inf"} 3`,
		"# TYPE facekit_http_request_duration_seconds histogram",
		"facekit_library_faces 42",
		"facekit_http_requests_in_flight 1", // the scrape itself
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	checkExposition(t, body)
}

// checkExposition verifies the text format: every sample line belongs to a
// family announced by TYPE, and values parse.
func checkExposition(t *testing.T, body string) {
	t.Helper()
	families := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		if strings.HasPrefix(line, "# TYPE ") {
			f := strings.Fields(line)
			families[f[2]] = f[3]
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		name := line[:strings.IndexAny(line, "{ ")]
		base := name
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(name, suf); ok && families[b] == "histogram" {
				base = b
			}
		}
		if _, ok := families[base]; !ok {
			t.Errorf("sample %q has no TYPE line", line)
		}
		if f := strings.Fields(line); len(f) < 2 {
			t.Errorf("sample %q has no value", line)
		}
	}
}

func TestHealthz(t *testing.T) {
	_, srv := newRouter(ops.Config{})
	defer srv.Close()
	code, body := get(t, srv.URL+ops.PathHealth)
	if code != http.StatusOK || !strings.Contains(body, `"ok"`) {
		t.Errorf("healthz: %d %s", code, body)
	}
}

func TestReadyz(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "facekit.db")
	if err := os.WriteFile(db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		checks map[string]ops.Check
		code   int
		status string
	}{
		{"NoChecks", nil, http.StatusOK, "ok"},
		{"AllPass", map[string]ops.Check{"library": ops.WritableCheck(db)}, http.StatusOK, "ok"},
		{"EngineDown", map[string]ops.Check{
			"library": ops.WritableCheck(db),
			"engine":  func(context.Context) error { return errors.New("models not loaded") },
		}, http.StatusServiceUnavailable, "engine: models not loaded"},
		{"LibraryMissing", map[string]ops.Check{"library": ops.WritableCheck(filepath.Join(dir, "absent", "facekit.db"))},
			http.StatusServiceUnavailable, "library: library directory not writable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := newRouter(ops.Config{Checks: tt.checks})
			defer srv.Close()
			code, body := get(t, srv.URL+ops.PathReady)
			var res struct {
				Status string            `json:"status"`
				Checks map[string]string `json:"checks"`
			}
			if err := json.Unmarshal([]byte(body), &res); err != nil {
				t.Fatalf("%v: %s", err, body)
			}
			if code != tt.code || !strings.HasPrefix(res.Status, tt.status) {
				t.Errorf("readyz = %d %q, want %d %q", code, res.Status, tt.code, tt.status)
			}
			if len(res.Checks) != len(tt.checks) {
				t.Errorf("checks = %v", res.Checks)
			}
		})
	}
}

func TestWritableCheckReadOnlyDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes to read-only directories")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "facekit.db")
	if err := os.WriteFile(db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	if err := ops.WritableCheck(db)(context.Background()); err == nil {
		t.Error("read-only directory passed the check")
	}
}

// A /readyz poll must not write to the disk each time: the probe file is
// created and removed (changing the directory's mtime) at most once per
// WritableInterval.
func TestWritableCheckCached(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "facekit.db")
	if err := os.WriteFile(db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	check := ops.WritableCheck(db)
	if err := check(context.Background()); err != nil {
		t.Fatal(err)
	}
	mtime := func() time.Time {
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		return fi.ModTime()
	}
	before := mtime()
	for range 50 {
		if err := check(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if after := mtime(); !after.Equal(before) {
		t.Fatalf("50 checks within %s wrote to the directory (mtime %v -> %v)", ops.WritableInterval, before, after)
	}
}

func TestCacheCheck(t *testing.T) {
	calls := 0
	fail := errors.New("probe failed")
	probe := func(context.Context) error { calls++; return fail }
	t.Run("ErrorCached", func(t *testing.T) {
		c := ops.CacheCheck(probe, time.Hour)
		for range 3 {
			if err := c(context.Background()); !errors.Is(err, fail) {
				t.Fatalf("cached check = %v, want the probe's error", err)
			}
		}
		if calls != 1 {
			t.Fatalf("probe ran %d times, want 1", calls)
		}
	})
	t.Run("Expires", func(t *testing.T) {
		calls = 0
		c := ops.CacheCheck(probe, time.Nanosecond)
		c(context.Background())
		time.Sleep(time.Millisecond)
		c(context.Background())
		if calls != 2 {
			t.Fatalf("probe ran %d times after the ttl, want 2", calls)
		}
	})
}

// A client that hangs up is counted apart from the requests that failed on
// the server's side.
func TestClientCancelCounted(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	d := ops.New(ops.Config{})
	d.Register(r, nil)
	reached := make(chan struct{})
	r.POST("/rest/2.0/face/v3/detect", func(c *gin.Context) {
		close(reached)
		select { // a long analysis the client gives up on
		case <-c.Request.Context().Done():
		case <-time.After(10 * time.Second):
		}
		c.JSON(http.StatusOK, gin.H{"error_code": 1})
	})
	srv := httptest.NewServer(r)
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/rest/2.0/face/v3/detect", nil)
	go func() { <-reached; cancel() }()
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("cancelled request succeeded")
	}
	want := `facekit_http_client_cancels_total{method="POST",endpoint="/rest/2.0/face/v3/detect"} 1`
	var body string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		resp, err := http.Get(srv.URL + ops.PathMetrics)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if body = string(b); strings.Contains(body, want) {
			return
		}
	}
	t.Fatalf("metrics lack %s:\n%s", want, body)
}

// Faces enrolled without a source crop are counted (issue 13: the error was
// dropped silently).
func TestSourceCropFailuresMetric(t *testing.T) {
	_, srv := newRouter(ops.Config{SourceCropFailures: func() int64 { return 3 }})
	defer srv.Close()
	resp, err := http.Get(srv.URL + ops.PathMetrics)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"# TYPE facekit_source_crop_failures_total counter", "facekit_source_crop_failures_total 3"} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("metrics lack %q:\n%s", want, b)
		}
	}
}

func TestRegistryFormat(t *testing.T) {
	reg := ops.NewRegistry()
	c := reg.NewCounterVec("x_total", "Help with \\ and\nnewline.", "path")
	c.Inc(`a"b\c`)
	h := reg.NewHistogramVec("y_seconds", "Y.", []float64{1, 0.5}, "stage")
	for _, v := range []float64{0.5, 0.7, 3} {
		h.Observe(v, "s")
	}
	var b strings.Builder
	reg.WriteText(&b)
	want := `# HELP x_total Help with \\ and\nnewline.
# TYPE x_total counter
x_total{path="a\"b\\c"} 1
# HELP y_seconds Y.
# TYPE y_seconds histogram
y_seconds_bucket{stage="s",le="0.5"} 1
y_seconds_bucket{stage="s",le="1"} 2
y_seconds_bucket{stage="s",le="+Inf"} 3
y_seconds_sum{stage="s"} 4.2
y_seconds_count{stage="s"} 3
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
