package ops_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

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
	fams := parseMetrics(t, body)
	for _, want := range []sample{
		{"facekit_http_requests_total", labels{"method": "POST", "endpoint": "/rest/2.0/face/v3/detect", "code": "200"}, 3},
		// Unknown paths share one series: scanners cannot add series.
		{"facekit_http_requests_total", labels{"method": "GET", "endpoint": "unmatched", "code": "404"}, 2},
		{"facekit_http_request_duration_seconds_count", labels{"method": "POST", "endpoint": "/rest/2.0/face/v3/detect"}, 3},
		{"facekit_library_faces", nil, 42},
		{"facekit_http_requests_in_flight", nil, 1}, // the scrape itself
		{"facekit_engine_slots", nil, 0},
		{"facekit_engine_slots_busy", nil, 0},
	} {
		want.check(t, fams)
	}
	if h := fams["facekit_http_request_duration_seconds"]; h == nil || h.GetType() != dto.MetricType_HISTOGRAM {
		t.Errorf("facekit_http_request_duration_seconds is not a histogram: %v", h)
	} else {
		// The text format also carries le="+Inf", which the parser keeps.
		var bounds []float64
		for _, b := range h.GetMetric()[0].GetHistogram().GetBucket() {
			if !math.IsInf(b.GetUpperBound(), 1) {
				bounds = append(bounds, b.GetUpperBound())
			}
		}
		if !slices.Equal(bounds, ops.DefaultBuckets) {
			t.Errorf("bucket bounds %v, want DefaultBuckets %v", bounds, ops.DefaultBuckets)
		}
	}
	if _, ok := fams["facekit_stage_duration_seconds"]; ok {
		t.Error("facekit_stage_duration_seconds has series before any stage ran")
	}
}

// TestMetricsRuntimeCollectors checks the standard Go and process series
// operators' dashboards expect: goroutines, GC, open fds and RSS. The
// values are checked against what this process can see for itself.
func TestMetricsRuntimeCollectors(t *testing.T) {
	_, srv := newRouter(ops.Config{})
	defer srv.Close()
	_, body := get(t, srv.URL+ops.PathMetrics)
	fams := parseMetrics(t, body)
	for _, name := range []string{"go_goroutines", "go_gc_duration_seconds", "go_memstats_heap_alloc_bytes",
		"process_resident_memory_bytes", "process_open_fds", "process_cpu_seconds_total"} {
		if fams[name] == nil || len(fams[name].GetMetric()) == 0 {
			t.Errorf("metrics lack %s", name)
		}
	}
	if g := value(fams["go_goroutines"]); g < 1 {
		t.Errorf("go_goroutines = %v", g)
	}
	// RSS is at least the live heap this test process holds.
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if rss := value(fams["process_resident_memory_bytes"]); rss < float64(ms.HeapAlloc)/2 || rss > 64<<30 {
		t.Errorf("process_resident_memory_bytes = %v, heap in use %d", rss, ms.HeapAlloc)
	}
	// Open fds: at least stdin, stdout, stderr and the test server's socket,
	// and no more than /proc says.
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc:", err)
	}
	if fds := value(fams["process_open_fds"]); fds < 4 || fds > float64(len(entries))+16 {
		t.Errorf("process_open_fds = %v, /proc/self/fd has %d", fds, len(entries))
	}
}

type labels map[string]string

// sample is one expected series value.
type sample struct {
	name   string
	labels labels
	value  float64
}

// check finds the series in the parsed families (a histogram's _count is
// read from its family) and compares its value.
func (s sample) check(t *testing.T, fams map[string]*dto.MetricFamily) {
	t.Helper()
	name, count := strings.CutSuffix(s.name, "_count")
	f := fams[name]
	if f == nil || (count && f.GetType() != dto.MetricType_HISTOGRAM) {
		name, count, f = s.name, false, fams[s.name]
	}
	if f == nil {
		t.Errorf("metrics lack %s", s.name)
		return
	}
	for _, m := range f.GetMetric() {
		if !hasLabels(m, s.labels) {
			continue
		}
		var got float64
		switch {
		case count:
			got = float64(m.GetHistogram().GetSampleCount())
		case f.GetType() == dto.MetricType_COUNTER:
			got = m.GetCounter().GetValue()
		default:
			got = m.GetGauge().GetValue()
		}
		if got != s.value {
			t.Errorf("%s%v = %v, want %v", s.name, s.labels, got, s.value)
		}
		return
	}
	t.Errorf("metrics lack %s%v", s.name, s.labels)
}

func hasLabels(m *dto.Metric, want labels) bool {
	if len(m.GetLabel()) != len(want) {
		return false
	}
	for _, l := range m.GetLabel() {
		if want[l.GetName()] != l.GetValue() {
			return false
		}
	}
	return true
}

// value is the first series' gauge or counter value.
func value(f *dto.MetricFamily) float64 {
	if f == nil || len(f.GetMetric()) == 0 {
		return -1
	}
	m := f.GetMetric()[0]
	if f.GetType() == dto.MetricType_COUNTER {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

// parseMetrics reads a scrape with Prometheus' own text-format parser, so
// a malformed exposition fails the test.
func parseMetrics(t *testing.T, body string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return fams
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
	want := `facekit_http_client_cancels_total{endpoint="/rest/2.0/face/v3/detect",method="POST"} 1`
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
