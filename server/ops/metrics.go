package ops

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// DefaultBuckets are latency bucket bounds in seconds, from a cached
// face-token call (~ms) to a CNN detection on a large photo (~10 s).
var DefaultBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// newRegistry returns a registry holding the Go runtime collector
// (go_goroutines, go_gc_duration_seconds, go_memstats_*, ...) and the
// process collector (process_resident_memory_bytes,
// process_open_fds, process_cpu_seconds_total, ...), the series every
// operator's dashboards expect of a Go service. A registry of its own
// rather than prometheus.DefaultRegisterer keeps each Dialect (and each
// test) independent: no package-level mutable state.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}
