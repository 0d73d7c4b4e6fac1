// Package ratelimit holds per-key token buckets: each key (an application id)
// may spend up to Burst requests at once and regains Rate requests per
// second. It is the server's per-application QPS limit; each vendor dialect
// answers a refused request with its own error code.
package ratelimit

import (
	"sync"
	"time"
)

// Limiter is a set of token buckets keyed by string. It is safe for
// concurrent use. Idle buckets are dropped so that the map stays bounded by
// the number of recently active keys.
type Limiter struct {
	now func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	sweep   time.Time // next time idle buckets are dropped
}

type bucket struct {
	tokens float64
	last   time.Time
}

// idleAfter is how long an untouched bucket is kept. After that it would be
// full anyway, so dropping it changes nothing.
const idleAfter = time.Minute

// New returns an empty limiter reading the wall clock.
func New() *Limiter { return NewWithClock(time.Now) }

// NewWithClock returns a limiter that reads time from now; tests pass a
// fake clock so that no test depends on real timing.
func NewWithClock(now func() time.Time) *Limiter {
	return &Limiter{now: now, buckets: make(map[string]*bucket)}
}

// Peek reports whether key's bucket holds a token, without spending it:
// the caller spends one later with Allow if the event it counts happens
// (a failed sign-in, say). Arguments are as for Allow.
func (l *Limiter) Peek(key string, rate float64, burst int) bool {
	if rate <= 0 {
		return true
	}
	size := float64(burst)
	if size < 1 {
		size = max(1, rate)
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		return true
	}
	return min(size, b.tokens+max(0, now.Sub(b.last).Seconds())*rate) >= 1
}

// Allow spends one token of key's bucket and reports whether there was one.
// rate is the refill in tokens per second and burst the bucket size; a rate
// <= 0 means unlimited. burst < 1 is treated as max(1, rate) so that a
// limit of N QPS admits N requests arriving in the same instant.
func (l *Limiter) Allow(key string, rate float64, burst int) bool {
	if rate <= 0 {
		return true
	}
	size := float64(burst)
	if size < 1 {
		size = max(1, rate)
	}
	now := l.now()

	l.mu.Lock()
	defer l.mu.Unlock()
	if now.After(l.sweep) {
		for k, b := range l.buckets {
			if now.Sub(b.last) > idleAfter {
				delete(l.buckets, k)
			}
		}
		l.sweep = now.Add(idleAfter)
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: size, last: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(size, b.tokens+elapsed*rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Refund gives back one token that Allow spent on key, for a caller that
// reserves before an outcome is known (a sign-in attempt) and finds that the
// event it counts did not happen. The bucket never exceeds its size.
func (l *Limiter) Refund(key string, rate float64, burst int) {
	if rate <= 0 {
		return
	}
	size := float64(burst)
	if size < 1 {
		size = max(1, rate)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets[key]; ok {
		b.tokens = min(size, b.tokens+1)
	}
}
