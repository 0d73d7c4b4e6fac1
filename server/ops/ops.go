// Package ops serves the operator endpoints of `facekit serve`:
// GET /metrics (Prometheus text format), GET /healthz (the process answers)
// and GET /readyz (the engine works and the library is writable). It is a
// server.Dialect; it must be the first dialect given to server.New so that its
// request-counting middleware wraps the routes every later dialect adds.
//
// Metrics:
//
//	facekit_http_requests_total{method,endpoint,code}      counter
//	facekit_http_request_duration_seconds{method,endpoint} histogram
//	facekit_http_requests_in_flight                          gauge
//	facekit_stage_duration_seconds{stage}                    histogram (analyze, describe, search, enroll)
//	facekit_engine_slots / facekit_engine_slots_busy         gauges (pool utilisation)
//	facekit_library_faces                                    gauge
//
// plus the client library's standard Go runtime (go_*) and process
// (process_*) collectors.
//
// endpoint is the route template (e.g. /rest/2.0/face/v3/detect), or
// "unmatched" for unknown paths, so that scanners cannot blow up the
// number of series.
package ops

import (
	"context"
	"errors"
	"fmt"
	"image"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/server"
	"github.com/facekit/facekit/service"
	"github.com/facekit/facekit/store"
)

// Paths the dialect serves.
const (
	PathMetrics = "/metrics"
	PathHealth  = "/healthz"
	PathReady   = "/readyz"
)

// Check is one readiness check; nil means ready.
type Check func(ctx context.Context) error

// Config configures the operator endpoints. The zero value serves metrics
// and health with no readiness checks (always ready).
type Config struct {
	// Checks are the readiness checks by name, e.g. "engine" and
	// "library" (see EngineCheck and WritableCheck).
	Checks map[string]Check
	// CheckTimeout bounds each readiness check; default 5 s.
	CheckTimeout time.Duration
	// LibraryFaces returns the number of enrolled faces (e.g.
	// sqlite.DB.Index().Len); nil leaves facekit_library_faces out.
	LibraryFaces func() int
	// SourceCropFailures returns how many enrolled faces got no source
	// crop (service.Service.SourceCropFailures); nil leaves
	// facekit_source_crop_failures_total out.
	SourceCropFailures func() int64
}

// Dialect serves the operator endpoints and collects the metrics. Create it
// with New; it is safe for concurrent use.
type Dialect struct {
	cfg      Config
	reg      *prometheus.Registry
	scrape   http.Handler
	requests *prometheus.CounterVec
	cancels  *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	stages   *prometheus.HistogramVec
	inFlight atomic.Int64
	slots    atomic.Int64
	busy     atomic.Int64
}

// New returns the ops dialect.
func New(cfg Config) *Dialect {
	if cfg.CheckTimeout <= 0 {
		cfg.CheckTimeout = 5 * time.Second
	}
	d := &Dialect{cfg: cfg, reg: newRegistry()}
	d.scrape = promhttp.HandlerFor(d.reg, promhttp.HandlerOpts{})
	d.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "facekit_http_requests_total",
		Help: "HTTP requests by method, route and status code."}, []string{"method", "endpoint", "code"})
	d.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "facekit_http_request_duration_seconds",
		Help:    "HTTP request latency from the first byte read to the last byte written.",
		Buckets: DefaultBuckets}, []string{"method", "endpoint"})
	d.stages = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "facekit_stage_duration_seconds",
		Help:    "Time spent per processing stage: analyze (detect, landmarks, including the wait for a native instance), describe (one face's descriptor, any model), search (1:N index), enroll (library write).",
		Buckets: DefaultBuckets}, []string{"stage"})
	d.cancels = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "facekit_http_client_cancels_total",
		Help: "Requests whose client hung up before the answer (also counted in facekit_http_requests_total with the status written)."}, []string{"method", "endpoint"})
	d.reg.MustRegister(d.requests, d.cancels, d.latency, d.stages,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "facekit_http_requests_in_flight", Help: "HTTP requests being served."},
			func() float64 { return float64(d.inFlight.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "facekit_engine_slots", Help: "Native engine instances (the pool size)."},
			func() float64 { return float64(d.slots.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "facekit_engine_slots_busy", Help: "Engine calls in progress (busy / slots is the pool utilisation)."},
			func() float64 { return float64(d.busy.Load()) }),
	)
	if cfg.SourceCropFailures != nil {
		d.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "facekit_source_crop_failures_total",
			Help: "Enrolled faces stored without a source crop because making it failed; facekit reembed cannot move them to another model."},
			func() float64 { return float64(cfg.SourceCropFailures()) }))
	}
	if cfg.LibraryFaces != nil {
		d.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "facekit_library_faces", Help: "Faces enrolled in the library (all applications)."},
			func() float64 { return float64(cfg.LibraryFaces()) }))
	}
	return d
}

// Registry returns the dialect's registry, to add metrics or read them in
// tests.
func (d *Dialect) Registry() *prometheus.Registry { return d.reg }

// Name implements server.Dialect.
func (d *Dialect) Name() string { return "ops" }

// Owns implements server.Dialect; the dialect claims no unknown paths.
func (d *Dialect) Owns(path string) bool { return false }

// NotFound implements server.Dialect (never called: Owns is always false).
func (d *Dialect) NotFound(c *gin.Context) { c.Status(http.StatusNotFound) }

// Register implements server.Dialect. core may be nil (tests).
func (d *Dialect) Register(r *gin.Engine, core *service.Service) {
	// gin binds middleware to a route when the route is added, so routes
	// mounted before this dialect would go uncounted.
	if n := len(r.Routes()); n > 0 && core != nil {
		core.Logger().Warn("ops dialect mounted after other routes; their requests are not in /metrics", "routes", n)
	}
	r.Use(d.measure)
	r.GET(PathMetrics, d.metrics)
	r.GET(PathHealth, func(c *gin.Context) {
		server.SetDialect(c, d.Name())
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	})
	r.GET(PathReady, d.ready)
}

// measure counts and times every request that reaches the router.
func (d *Dialect) measure(c *gin.Context) {
	start := time.Now()
	d.inFlight.Add(1)
	defer d.inFlight.Add(-1)
	c.Next()
	endpoint := c.FullPath()
	if endpoint == "" {
		endpoint = "unmatched"
	}
	method := c.Request.Method
	d.requests.WithLabelValues(method, endpoint, strconv.Itoa(c.Writer.Status())).Inc()
	d.latency.WithLabelValues(method, endpoint).Observe(time.Since(start).Seconds())
	if server.ClientCancelled(c) {
		d.cancels.WithLabelValues(method, endpoint).Inc()
	}
}

func (d *Dialect) metrics(c *gin.Context) {
	server.SetDialect(c, d.Name())
	d.scrape.ServeHTTP(c.Writer, c.Request)
}

// ready runs every check (in a stable order) and answers 200 when all pass,
// else 503 with each failure.
func (d *Dialect) ready(c *gin.Context) {
	server.SetDialect(c, d.Name())
	names := make([]string, 0, len(d.cfg.Checks))
	for n := range d.cfg.Checks {
		names = append(names, n)
	}
	sort.Strings(names)
	results := map[string]string{}
	failed := ""
	for _, n := range names {
		ctx, cancel := context.WithTimeout(c.Request.Context(), d.cfg.CheckTimeout)
		err := d.cfg.Checks[n](ctx)
		cancel()
		results[n] = ""
		if err != nil {
			results[n] = err.Error()
			if failed == "" {
				failed = n + ": " + err.Error()
			}
		}
	}
	if failed != "" {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": failed, "checks": results})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok", "checks": results})
}

// ---- stage instrumentation ----

// Engine wraps e so that every Analyze call is timed (stage "analyze") and
// counted in the pool-utilisation gauges. Pass the result as
// service.Deps.Engine.
func (d *Dialect) Engine(e service.Engine) service.Engine {
	d.slots.Store(int64(e.PoolSize()))
	return &timedEngine{Engine: e, d: d}
}

type timedEngine struct {
	service.Engine
	d *Dialect
}

func (t *timedEngine) Analyze(ctx context.Context, img image.Image, opts engine.Options) ([]engine.Face, error) {
	t.d.busy.Add(1)
	defer t.d.busy.Add(-1)
	start := time.Now()
	faces, err := t.Engine.Analyze(ctx, img, opts)
	t.d.stages.WithLabelValues("analyze").Observe(time.Since(start).Seconds())
	return faces, err
}

// Describer wraps desc so that every face description is timed (stage
// "describe"): since every model, the dlib ResNet included, describes
// faces after the Analyze pass, "analyze" + "describe" is what "analyze"
// alone measured before. Pass the result as service.Deps.Descriptor.
func (d *Dialect) Describer(desc descriptor.Describer) descriptor.Describer {
	return &timedDescriber{desc, d}
}

type timedDescriber struct {
	descriptor.Describer
	d *Dialect
}

func (t *timedDescriber) Describe(ctx context.Context, img *imageio.Image, f engine.Face) ([]float32, error) {
	start := time.Now()
	v, err := t.Describer.Describe(ctx, img, f)
	t.d.stages.WithLabelValues("describe").Observe(time.Since(start).Seconds())
	return v, err
}

// Searcher wraps s so that every search is timed (stage "search").
func (d *Dialect) Searcher(s store.Searcher) store.Searcher { return &timedSearcher{s, d} }

type timedSearcher struct {
	store.Searcher
	d *Dialect
}

func (t *timedSearcher) Search(ctx context.Context, app string, groups []string, probe store.Embedding, userID string, k int) ([]store.Candidate, error) {
	start := time.Now()
	c, err := t.Searcher.Search(ctx, app, groups, probe, userID, k)
	t.d.stages.WithLabelValues("search").Observe(time.Since(start).Seconds())
	return c, err
}

// Library wraps l so that every AddFace is timed (stage "enroll").
func (d *Dialect) Library(l store.Library) store.Library { return &timedLibrary{l, d} }

type timedLibrary struct {
	store.Library
	d *Dialect
}

func (t *timedLibrary) AddFace(ctx context.Context, app string, user store.User, face store.Face, action store.AddAction) (store.Face, error) {
	start := time.Now()
	f, err := t.Library.AddFace(ctx, app, user, face, action)
	t.d.stages.WithLabelValues("enroll").Observe(time.Since(start).Seconds())
	return f, err
}

// ---- readiness checks ----

// EngineCheck proves the native engine works by analysing a small blank
// image (a few milliseconds; it borrows one pool slot). The first success
// is remembered: loaded models stay loaded, and a replica whose pool is
// busy with real work must not turn unready and be taken out of service.
func EngineCheck(e service.Engine) Check {
	blank := image.NewGray(image.Rect(0, 0, 64, 64))
	var ok atomic.Bool
	return func(ctx context.Context) error {
		if ok.Load() {
			return nil
		}
		if e == nil || e.PoolSize() <= 0 {
			return errors.New("engine not loaded")
		}
		if _, err := e.Analyze(ctx, blank, engine.Options{}); err != nil {
			return fmt.Errorf("engine: %w", err)
		}
		ok.Store(true)
		return nil
	}
}

// WritableInterval is how long WritableCheck reuses its last probe. A load
// balancer polling /readyz every second would otherwise turn readiness into
// a create-fsync-delete disk load; a few seconds of staleness does not
// matter to it.
const WritableInterval = 5 * time.Second

// WritableCheck reports whether the database file and its directory can be
// written: it creates, syncs and removes a probe file next to the database
// (SQLite needs the directory for its journal) and opens the file for
// writing. A read-only mount or a full disk fails it. The probe runs at
// most once per WritableInterval; calls in between return its result.
func WritableCheck(dbPath string) Check {
	return CacheCheck(writableProbe(dbPath), WritableInterval)
}

// CacheCheck returns a check that runs check at most once per ttl and
// answers the calls in between with the last result, errors included.
// Concurrent callers wait for the one probe in progress rather than
// starting their own.
func CacheCheck(check Check, ttl time.Duration) Check {
	var (
		mu      sync.Mutex
		last    error
		checked time.Time
	)
	return func(ctx context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if !checked.IsZero() && time.Since(checked) < ttl {
			return last
		}
		last = check(ctx)
		checked = time.Now()
		return last
	}
}

func writableProbe(dbPath string) Check {
	return func(ctx context.Context) error {
		dir := filepath.Dir(dbPath)
		f, err := os.CreateTemp(dir, ".facekit-ready-*")
		if err != nil {
			return fmt.Errorf("library directory not writable: %w", err)
		}
		name := f.Name()
		_, werr := f.Write([]byte("ok"))
		serr := f.Sync()
		f.Close()
		os.Remove(name)
		if err := errors.Join(werr, serr); err != nil {
			return fmt.Errorf("library directory not writable: %w", err)
		}
		db, err := os.OpenFile(dbPath, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("library not writable: %w", err)
		}
		return db.Close()
	}
}
