package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	lat := make([]time.Duration, 100)
	for i := range lat {
		lat[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{"Median", lat, 50, 50 * time.Millisecond},
		{"P99", lat, 99, 99 * time.Millisecond},
		{"Max", lat, 100, 100 * time.Millisecond},
		{"Min", lat, 0, 1 * time.Millisecond},
		{"OneSample", lat[:1], 99, 1 * time.Millisecond},
		{"Empty", nil, 50, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.in, tt.p); got != tt.want {
				t.Fatalf("percentile(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

// TestRunCountsVendorErrorsAsFailures uses a server that answers every
// third request with HTTP 200 but a vendor error body: those must count as
// errors, and -n must be exact.
func TestRunCountsVendorErrorsAsFailures(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if string(body) != `{"x":1}` || r.Method != http.MethodPost {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if n.Add(1)%3 == 0 {
			io.WriteString(w, `{"error_code":222202}`)
			return
		}
		io.WriteString(w, `{"error_code":0}`)
	}))
	defer srv.Close()
	cfg := config{url: srv.URL, contentType: "application/json", ok: `"error_code":0`, body: []byte(`{"x":1}`),
		clients: 3, requests: 30, timeout: 5 * time.Second}
	res, err := run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.ok+res.failed != 30 {
		t.Fatalf("ok %d + failed %d, want 30 requests", res.ok, res.failed)
	}
	if res.failed != 10 || len(res.latencies) != res.ok {
		t.Fatalf("failed %d (want 10), latencies %d for %d ok", res.failed, len(res.latencies), res.ok)
	}
	if res.firstErr == nil || !strings.Contains(res.firstErr.Error(), "222202") {
		t.Fatalf("first error %v, want the vendor error body", res.firstErr)
	}
}

func TestRunFailsWhenWarmupFails(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	cfg := config{url: srv.URL, body: []byte("{}"), clients: 1, requests: 5, timeout: time.Second, warmup: 1}
	if _, err := run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("run = %v, want a warm-up error naming HTTP 503", err)
	}
}
