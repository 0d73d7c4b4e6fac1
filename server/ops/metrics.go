package ops

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// A small Prometheus registry: counters and histograms with labels, and
// gauges read at scrape time. facekit needs a handful of series, so this
// avoids the client library's dependency tree; the output follows the
// text exposition format 0.0.4.

// DefaultBuckets are latency bucket bounds in seconds, from a cached
// face-token call (~ms) to a CNN detection on a large photo (~10 s).
var DefaultBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// metric is one family in the registry.
type metric interface {
	write(w io.Writer)
}

// Registry holds metric families in registration order. Safe for
// concurrent use.
type Registry struct {
	mu      sync.Mutex
	metrics []metric
	names   map[string]bool
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{names: map[string]bool{}} }

func (r *Registry) register(name string, m metric) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.names[name] {
		panic("ops: metric registered twice: " + name) // a wiring bug, found by any test
	}
	r.names[name] = true
	r.metrics = append(r.metrics, m)
}

// WriteText writes every family in the text exposition format.
func (r *Registry) WriteText(w io.Writer) {
	r.mu.Lock()
	ms := append([]metric(nil), r.metrics...)
	r.mu.Unlock()
	for _, m := range ms {
		m.write(w)
	}
}

// header writes a family's HELP and TYPE lines.
func header(w io.Writer, name, help, typ string) {
	help = strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(help)
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

// labelString renders {a="x",b="y"} (empty without labels), escaping
// values as the format requires.
func labelString(names, values []string, extra ...string) string {
	if len(names) == 0 && len(extra) == 0 {
		return ""
	}
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `%s="%s"`, n, esc.Replace(values[i]))
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `%s="%s"`, extra[i], esc.Replace(extra[i+1]))
	}
	b.WriteByte('}')
	return b.String()
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// key joins label values into a map key (0xff never appears in UTF-8).
func key(values []string) string { return strings.Join(values, "\xff") }

// CounterVec is a counter family with labels.
type CounterVec struct {
	name, help string
	labels     []string
	mu         sync.Mutex
	series     map[string]*counterSeries
}

type counterSeries struct {
	values []string
	v      float64
}

// NewCounterVec registers a counter family.
func (r *Registry) NewCounterVec(name, help string, labels ...string) *CounterVec {
	c := &CounterVec{name: name, help: help, labels: labels, series: map[string]*counterSeries{}}
	r.register(name, c)
	return c
}

// Add adds v (>= 0) to the series of the label values.
func (c *CounterVec) Add(v float64, values ...string) {
	if len(values) != len(c.labels) {
		panic(fmt.Sprintf("ops: %s wants %d label values, got %d", c.name, len(c.labels), len(values)))
	}
	k := key(values)
	c.mu.Lock()
	s := c.series[k]
	if s == nil {
		s = &counterSeries{values: append([]string(nil), values...)}
		c.series[k] = s
	}
	s.v += v
	c.mu.Unlock()
}

// Inc adds one.
func (c *CounterVec) Inc(values ...string) { c.Add(1, values...) }

// Value returns the current value of a series (0 if absent).
func (c *CounterVec) Value(values ...string) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.series[key(values)]; s != nil {
		return s.v
	}
	return 0
}

func (c *CounterVec) write(w io.Writer) {
	header(w, c.name, c.help, "counter")
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range sortedKeys(c.series) {
		s := c.series[k]
		fmt.Fprintf(w, "%s%s %s\n", c.name, labelString(c.labels, s.values), formatFloat(s.v))
	}
}

// HistogramVec is a histogram family with labels.
type HistogramVec struct {
	name, help string
	labels     []string
	buckets    []float64
	mu         sync.Mutex
	series     map[string]*histSeries
}

type histSeries struct {
	values []string
	counts []uint64 // per bucket, not cumulative; last is +Inf
	sum    float64
	count  uint64
}

// NewHistogramVec registers a histogram family with ascending bucket bounds.
func (r *Registry) NewHistogramVec(name, help string, buckets []float64, labels ...string) *HistogramVec {
	b := append([]float64(nil), buckets...)
	sort.Float64s(b)
	h := &HistogramVec{name: name, help: help, labels: labels, buckets: b, series: map[string]*histSeries{}}
	r.register(name, h)
	return h
}

// Observe records one value in the series of the label values.
func (h *HistogramVec) Observe(v float64, values ...string) {
	if len(values) != len(h.labels) {
		panic(fmt.Sprintf("ops: %s wants %d label values, got %d", h.name, len(h.labels), len(values)))
	}
	i := sort.SearchFloat64s(h.buckets, v) // first bound >= v: "le" is inclusive
	k := key(values)
	h.mu.Lock()
	s := h.series[k]
	if s == nil {
		s = &histSeries{values: append([]string(nil), values...), counts: make([]uint64, len(h.buckets)+1)}
		h.series[k] = s
	}
	s.counts[i]++
	s.sum += v
	s.count++
	h.mu.Unlock()
}

// Count returns how many values a series has observed.
func (h *HistogramVec) Count(values ...string) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s := h.series[key(values)]; s != nil {
		return s.count
	}
	return 0
}

func (h *HistogramVec) write(w io.Writer) {
	header(w, h.name, h.help, "histogram")
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, k := range sortedKeys(h.series) {
		s := h.series[k]
		var cum uint64
		for i, le := range h.buckets {
			cum += s.counts[i]
			fmt.Fprintf(w, "%s_bucket%s %d\n", h.name, labelString(h.labels, s.values, "le", formatFloat(le)), cum)
		}
		fmt.Fprintf(w, "%s_bucket%s %d\n", h.name, labelString(h.labels, s.values, "le", "+Inf"), s.count)
		fmt.Fprintf(w, "%s_sum%s %s\n", h.name, labelString(h.labels, s.values), formatFloat(s.sum))
		fmt.Fprintf(w, "%s_count%s %d\n", h.name, labelString(h.labels, s.values), s.count)
	}
}

// gaugeFunc is a gauge (or, with kind "counter", a counter) read when
// scraped.
type gaugeFunc struct {
	name, help, kind string
	fn               func() float64
}

// NewGaugeFunc registers a gauge whose value fn returns at scrape time.
func (r *Registry) NewGaugeFunc(name, help string, fn func() float64) {
	r.register(name, &gaugeFunc{name: name, help: help, kind: "gauge", fn: fn})
}

// NewCounterFunc registers a counter whose value fn returns at scrape time
// (a count kept elsewhere, e.g. by the service).
func (r *Registry) NewCounterFunc(name, help string, fn func() float64) {
	r.register(name, &gaugeFunc{name: name, help: help, kind: "counter", fn: fn})
}

func (g *gaugeFunc) write(w io.Writer) {
	header(w, g.name, g.help, g.kind)
	fmt.Fprintf(w, "%s %s\n", g.name, formatFloat(g.fn()))
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
