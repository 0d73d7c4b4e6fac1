// Package remote runs facekit's verification protocols (LFW pairs, a
// labelled photo tree) through an HTTP endpoint that speaks one of the
// vendor dialects, a facekit server or the vendor's cloud, instead of
// in-process: bounded concurrency and QPS, back-off on the dialect's
// rate-limit answers, a resumable on-disk cache of answers (an interrupted
// run against a paid API does not pay twice), and a report of the vendor
// score's accuracy, calibration and latency.
//
// The dialects' wire formats live in their server packages (server/baidu,
// server/linkface, server/tencent), which implement Endpoint; this package
// knows no vendor.
package remote

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/facekit/facekit/eval"
)

// Subject is a registered person: the ID number and name under which the
// first photo of a pair is served by the registry the endpoint reads.
type Subject struct {
	IDNumber string `json:"id_number"`
	Name     string `json:"name"`
}

// Call is one comparison: photo A (sent inline, or registered as Subject for
// the dialects that compare against a registry photo) against photo B.
type Call struct {
	A, B    []byte
	Subject Subject
}

// Answer is an endpoint's answer to one call: a score on the vendor's
// scale, or the vendor's error code.
type Answer struct {
	Score float64 `json:"score"`
	// Code is the vendor's error code or status ("" on success), e.g. "18",
	// "RATE_LIMIT_EXCEEDED", "-4015".
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	// Ms is the call's latency in milliseconds (the last attempt's).
	Ms float64 `json:"ms"`
}

// OK reports whether the answer carries a score.
func (a Answer) OK() bool { return a.Code == "" }

// Endpoint is one dialect's client.
type Endpoint interface {
	// Dialect names the wire format, e.g. "baidu".
	Dialect() string
	// URL is the endpoint's base URL; with Dialect it keys the cache.
	URL() string
	// Compare makes one call. A vendor error is an Answer with Code set
	// and a nil error; the error is for transport failures (connection
	// refused, a body that is not the dialect's), which are not cached.
	Compare(ctx context.Context, c Call) (Answer, error)
	// RateLimited reports whether an answer's code asks the client to slow
	// down (the call is retried after a back-off, never cached).
	RateLimited(code string) bool
	// Registry reports whether photo A must be served through a registry
	// (Call.Subject) rather than sent inline.
	Registry() bool
	// Scale is the score's maximum (100 or 1).
	Scale() float64
	// Thresholds are the decision points the vendor documents, with the
	// false-accept rate it claims for each.
	Thresholds() []eval.VendorThreshold
}

// Runner runs pairs through an Endpoint politely.
type Runner struct {
	Endpoint Endpoint
	// Concurrency is how many calls may be in flight; default 1.
	Concurrency int
	// QPS caps the call rate (retries included); 0 means no cap beyond
	// Concurrency.
	QPS float64
	// CacheDir holds one answer file per endpoint; "" disables the cache.
	CacheDir string
	// Backoff is the first wait after a rate-limit answer, doubled on each
	// consecutive one up to MaxBackoff; defaults 500 ms and 30 s.
	Backoff, MaxBackoff time.Duration
	// MaxRetries bounds the retries of one call after rate-limit answers
	// or transport failures; default 8.
	MaxRetries int
	// Progress receives one progress line per 5% of the calls.
	Progress io.Writer
	// OnAnswer, if set, is called after each answered (and cached) call;
	// tests use it to interrupt a run half-way.
	OnAnswer func(done int)
}

// Load returns a photo's bytes by its path in the pairs.
type Load func(path string) ([]byte, error)

// Result is a run's outcome, one answer per pair (in pair order).
type Result struct {
	Answers []Answer
	// Have marks the pairs with an answer (all of them after a complete
	// run).
	Have []bool
	// Calls is how many calls this run made (retries included), Cached
	// how many pairs were answered from the cache.
	Calls  int
	Cached int
	// RateLimited counts rate-limit answers (each was backed off from and
	// retried); Transport counts transport failures retried.
	RateLimited int
	Transport   int
}

// CacheFile is where the answers of ep are kept inside dir.
func CacheFile(dir string, ep Endpoint) string {
	return filepath.Join(dir, ep.Dialect()+"-"+shortHash(ep.URL())+".jsonl")
}

type cacheRecord struct {
	A      string `json:"a"`
	B      string `json:"b"`
	Answer Answer `json:"answer"`
}

func pairKey(p eval.Pair) string { return p.A + "\x00" + p.B }

// readCache loads the cached answers; a line cut short by a killed run is
// skipped (that pair is asked again).
func readCache(path string) (map[string]Answer, error) {
	out := map[string]Answer{}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("remote: cache: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		var r cacheRecord
		if json.Unmarshal(bytes.TrimSpace(sc.Bytes()), &r) == nil && r.A != "" {
			out[r.A+"\x00"+r.B] = r.Answer
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("remote: cache %s: %w", path, err)
	}
	return out, nil
}

// Pending returns how many of pairs have no cached answer: the calls a run
// will make when nothing is rate-limited (the dry-run figure).
func (r *Runner) Pending(pairs []eval.Pair) (int, error) {
	cached := map[string]Answer{}
	if r.CacheDir != "" {
		var err error
		if cached, err = readCache(CacheFile(r.CacheDir, r.Endpoint)); err != nil {
			return 0, err
		}
	}
	n := 0
	for _, p := range pairs {
		if _, ok := cached[pairKey(p)]; !ok {
			n++
		}
	}
	return n, nil
}

// Run answers every pair, from the cache where it can. subject names the
// registered person of a pair's first photo (for Registry endpoints). On
// cancellation it returns what it has with the context's error; the
// answers so far are in the cache.
func (r *Runner) Run(ctx context.Context, pairs []eval.Pair, load Load, subject func(path string) Subject) (*Result, error) {
	ep := r.Endpoint
	res := &Result{Answers: make([]Answer, len(pairs)), Have: make([]bool, len(pairs))}
	var cache *os.File
	if r.CacheDir != "" {
		path := CacheFile(r.CacheDir, ep)
		cached, err := readCache(path)
		if err != nil {
			return nil, err
		}
		for i, p := range pairs {
			if a, ok := cached[pairKey(p)]; ok {
				res.Answers[i], res.Have[i] = a, true
				res.Cached++
			}
		}
		if err := os.MkdirAll(r.CacheDir, 0o755); err != nil {
			return nil, fmt.Errorf("remote: cache: %w", err)
		}
		cache, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("remote: cache: %w", err)
		}
		defer cache.Close()
	}
	var todo []int
	for i := range pairs {
		if !res.Have[i] {
			todo = append(todo, i)
		}
	}
	if len(todo) == 0 {
		return res, nil
	}

	conc := max(r.Concurrency, 1)
	var lim *rate.Limiter
	if r.QPS > 0 {
		lim = rate.NewLimiter(rate.Limit(r.QPS), 1)
	}
	bo := newBackoff(r.Backoff, r.MaxBackoff)
	retries := r.MaxRetries
	if retries <= 0 {
		retries = 8
	}
	var (
		mu                     sync.Mutex // guards res and the cache file
		calls, limited, failed atomic.Int64
		done                   int
		images                 = newImageCache(load)
	)
	step := max(len(todo)/20, 1)
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	one := func(i int) error {
		p := pairs[i]
		a, err := images.get(p.A)
		if err != nil {
			return err
		}
		b, err := images.get(p.B)
		if err != nil {
			return err
		}
		c := Call{A: a, B: b}
		if ep.Registry() {
			c.Subject = subject(p.A)
		}
		var ans Answer
		for attempt := 0; ; attempt++ {
			if err := bo.wait(ctx); err != nil {
				return err
			}
			if lim != nil {
				if err := lim.Wait(ctx); err != nil {
					return err
				}
			}
			calls.Add(1)
			start := time.Now()
			ans, err = ep.Compare(ctx, c)
			ans.Ms = float64(time.Since(start).Microseconds()) / 1000
			switch {
			case ctx.Err() != nil:
				return context.Cause(ctx)
			case err != nil:
				failed.Add(1)
				if attempt >= retries {
					return fmt.Errorf("remote: %s %s: pair %s / %s: %w", ep.Dialect(), ep.URL(), p.A, p.B, err)
				}
				bo.slowDown()
				continue
			case ep.RateLimited(ans.Code):
				limited.Add(1)
				// Counted across workers, not per call: while other calls
				// get through, the endpoint is only pacing us, and one
				// worker that keeps losing the race for its bucket must not
				// end the run (it did, 1 run in ~5, with 2 workers at 2 QPS).
				if n := bo.slowDown(); n > retries {
					return fmt.Errorf("remote: %s %s: still rate-limited (code %s) after %d refusals in a row", ep.Dialect(), ep.URL(), ans.Code, n)
				}
				continue
			}
			bo.ok()
			break
		}
		mu.Lock()
		defer mu.Unlock()
		res.Answers[i], res.Have[i] = ans, true
		if cache != nil {
			line, err := json.Marshal(cacheRecord{A: p.A, B: p.B, Answer: ans})
			if err != nil {
				return fmt.Errorf("remote: cache: %w", err)
			}
			// One write per line, starting with a newline, so a torn last
			// line never swallows the next record.
			if _, err := cache.Write(append([]byte("\n"), line...)); err != nil {
				return fmt.Errorf("remote: cache: %w", err)
			}
		}
		done++
		if r.Progress != nil && (done%step == 0 || done == len(todo)) {
			fmt.Fprintf(r.Progress, "%s: %d/%d calls answered (%d rate-limited, %d transport failures retried)\n", ep.Dialect(), done, len(todo), limited.Load(), failed.Load())
		}
		if r.OnAnswer != nil {
			r.OnAnswer(done)
		}
		return nil
	}

	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := one(i); err != nil {
					cancel(err)
				}
			}
		}()
	}
feed:
	for _, i := range todo {
		select {
		case work <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	res.Calls, res.RateLimited, res.Transport = int(calls.Load()), int(limited.Load()), int(failed.Load())
	if err := context.Cause(ctx); err != nil {
		return res, err
	}
	return res, nil
}

// backoff is shared by all workers: after a rate-limit answer every worker
// waits, so concurrency does not turn one refusal into a burst of them.
type backoff struct {
	first, most time.Duration
	mu          sync.Mutex
	cur         time.Duration
	until       time.Time
	// streak counts rate-limit answers since the last call got through.
	streak int
}

func newBackoff(first, most time.Duration) *backoff {
	if first <= 0 {
		first = 500 * time.Millisecond
	}
	if most <= 0 {
		most = 30 * time.Second
	}
	return &backoff{first: first, most: most}
}

// slowDown doubles the pause (starting at first) and starts it now; it
// returns how many refusals came in a row, across all workers.
func (b *backoff) slowDown() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.streak++
	if b.cur == 0 {
		b.cur = b.first
	} else {
		b.cur = min(2*b.cur, b.most)
	}
	if t := time.Now().Add(b.cur); t.After(b.until) {
		b.until = t
	}
	return b.streak
}

// ok resets the pause after a call got through.
func (b *backoff) ok() {
	b.mu.Lock()
	b.cur, b.streak = 0, 0
	b.mu.Unlock()
}

// wait sleeps until the current pause is over.
func (b *backoff) wait(ctx context.Context) error {
	b.mu.Lock()
	d := time.Until(b.until)
	b.mu.Unlock()
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// imageCache reads each photo once; pairs reuse photos many times.
type imageCache struct {
	load Load
	mu   sync.Mutex
	m    map[string][]byte
}

func newImageCache(load Load) *imageCache { return &imageCache{load: load, m: map[string][]byte{}} }

func (c *imageCache) get(path string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, ok := c.m[path]; ok {
		return b, nil
	}
	b, err := c.load(path)
	if err != nil {
		return nil, fmt.Errorf("remote: %w", err)
	}
	c.m[path] = b
	return b, nil
}
