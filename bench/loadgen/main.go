// Command loadgen measures a running facekit server under concurrent load:
// c clients each send the same POST request back to back, for a duration or
// a request count, and it reports requests per second and latency
// percentiles of the successful requests.
//
//	go run ./bench/loadgen -url 'http://127.0.0.1:8080/rest/2.0/face/v3/detect?access_token=T' \
//	    -body detect.json -c 2 -d 20s -ok '"error_code":0'
//
// A vendor API answers many errors with HTTP 200, so -ok names a substring
// every good response body must contain; anything else counts as an error
// and is left out of the latency figures (a fast failure must not look like
// a fast success). Only loopback and private addresses make sense: the
// numbers describe the server, not a network.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// config is one load run.
type config struct {
	url, contentType, ok string
	body                 []byte
	clients, requests    int
	duration, timeout    time.Duration
	warmup               int
}

// result is what one run measured.
type result struct {
	ok, failed int
	elapsed    time.Duration
	latencies  []time.Duration // of successful requests, sorted
	firstErr   error
}

func main() {
	var cfg config
	var bodyPath string
	flag.StringVar(&cfg.url, "url", "", "request URL (POST)")
	flag.StringVar(&bodyPath, "body", "", "file with the request body")
	flag.StringVar(&cfg.contentType, "content-type", "application/json", "Content-Type of the body")
	flag.StringVar(&cfg.ok, "ok", "", "substring a successful response body must contain (besides HTTP 200)")
	flag.IntVar(&cfg.clients, "c", 1, "concurrent clients")
	flag.IntVar(&cfg.requests, "n", 0, "stop after this many requests in total (0 = use -d)")
	flag.DurationVar(&cfg.duration, "d", 10*time.Second, "stop after this long (when -n is 0)")
	flag.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "per-request timeout")
	flag.IntVar(&cfg.warmup, "warmup", 2, "requests per client before measuring")
	flag.Parse()
	if cfg.url == "" || bodyPath == "" {
		log.Fatal("loadgen: -url and -body are required")
	}
	body, err := os.ReadFile(bodyPath)
	if err != nil {
		log.Fatalf("loadgen: %v", err)
	}
	cfg.body = body
	if cfg.clients < 1 {
		log.Fatal("loadgen: -c must be at least 1")
	}
	res, err := run(context.Background(), cfg)
	if err != nil {
		log.Fatalf("loadgen: %v", err)
	}
	report(os.Stdout, cfg, res)
	if res.ok == 0 {
		os.Exit(1)
	}
}

// run warms up, then drives the load and collects latencies.
func run(ctx context.Context, cfg config) (*result, error) {
	client := &http.Client{
		Timeout: cfg.timeout,
		// One keep-alive connection per client, as a real SDK would hold.
		Transport: &http.Transport{MaxIdleConnsPerHost: cfg.clients, MaxConnsPerHost: cfg.clients},
	}
	defer client.CloseIdleConnections()
	for i := 0; i < cfg.warmup*cfg.clients; i++ {
		if _, err := do(ctx, client, cfg); err != nil {
			return nil, fmt.Errorf("warm-up request failed: %w", err)
		}
	}

	var (
		mu   sync.Mutex
		res  = &result{}
		wg   sync.WaitGroup
		sent int
	)
	// next hands out request slots so that -n is exact across clients.
	next := func() bool {
		mu.Lock()
		defer mu.Unlock()
		if cfg.requests > 0 && sent >= cfg.requests {
			return false
		}
		sent++
		return true
	}
	if cfg.requests == 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.duration)
		defer cancel()
	}
	start := time.Now()
	for c := 0; c < cfg.clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			var ok, failed int
			var firstErr error
			for ctx.Err() == nil && next() {
				d, err := do(ctx, client, cfg)
				if ctx.Err() != nil {
					break // cut off by the deadline: neither success nor failure
				}
				if err != nil {
					failed++
					if firstErr == nil {
						firstErr = err
					}
					continue
				}
				ok++
				lat = append(lat, d)
			}
			mu.Lock()
			res.ok += ok
			res.failed += failed
			res.latencies = append(res.latencies, lat...)
			if res.firstErr == nil {
				res.firstErr = firstErr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	sort.Slice(res.latencies, func(i, j int) bool { return res.latencies[i] < res.latencies[j] })
	return res, nil
}

// do sends one request and returns its latency, or why it failed.
func do(ctx context.Context, client *http.Client, cfg config) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.url, bytes.NewReader(cfg.body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", cfg.contentType)
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(t0)
	if err != nil {
		return 0, fmt.Errorf("reading response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("HTTP %d: %s", resp.StatusCode, snippet(body))
	}
	if cfg.ok != "" && !bytes.Contains(body, []byte(cfg.ok)) {
		return 0, fmt.Errorf("response lacks %q: %s", cfg.ok, snippet(body))
	}
	return d, nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// percentile returns the p-th percentile (0–100) of sorted latencies by the
// nearest-rank method.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

func report(w io.Writer, cfg config, r *result) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/1e6) }
	fmt.Fprintf(w, "clients %d\nrequests %d\nerrors %d\nseconds %.3f\nrps %.2f\n",
		cfg.clients, r.ok, r.failed, r.elapsed.Seconds(), float64(r.ok)/r.elapsed.Seconds())
	fmt.Fprintf(w, "p50_ms %s\np90_ms %s\np99_ms %s\nmax_ms %s\n",
		ms(percentile(r.latencies, 50)), ms(percentile(r.latencies, 90)),
		ms(percentile(r.latencies, 99)), ms(percentile(r.latencies, 100)))
	if r.firstErr != nil && !errors.Is(r.firstErr, context.Canceled) {
		fmt.Fprintf(w, "first_error %s\n", strings.ReplaceAll(r.firstErr.Error(), "\n", " "))
	}
}
