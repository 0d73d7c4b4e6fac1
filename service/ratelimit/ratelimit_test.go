package ratelimit

import (
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestAllow(t *testing.T) {
	t.Run("BurstThenRefused", func(t *testing.T) {
		c := &fakeClock{t: time.Unix(1000, 0)}
		l := NewWithClock(c.now)
		for i := range 3 {
			if !l.Allow("app", 3, 0) {
				t.Fatalf("request %d refused within the burst", i)
			}
		}
		if l.Allow("app", 3, 0) {
			t.Fatal("4th request in the same instant allowed at 3 QPS")
		}
	})
	t.Run("RefillsOverTime", func(t *testing.T) {
		c := &fakeClock{t: time.Unix(1000, 0)}
		l := NewWithClock(c.now)
		for l.Allow("app", 2, 2) {
		}
		c.advance(500 * time.Millisecond) // one token at 2/s
		if !l.Allow("app", 2, 2) {
			t.Fatal("no token after half a second at 2 QPS")
		}
		if l.Allow("app", 2, 2) {
			t.Fatal("second token appeared too early")
		}
	})
	t.Run("KeysAreIndependent", func(t *testing.T) {
		c := &fakeClock{t: time.Unix(1000, 0)}
		l := NewWithClock(c.now)
		if !l.Allow("a", 1, 1) || l.Allow("a", 1, 1) {
			t.Fatal("bucket a does not hold exactly one token")
		}
		if !l.Allow("b", 1, 1) {
			t.Fatal("key b throttled by key a")
		}
	})
	t.Run("ZeroRateUnlimited", func(t *testing.T) {
		l := New()
		for i := range 1000 {
			if !l.Allow("app", 0, 0) {
				t.Fatalf("request %d refused with no limit", i)
			}
		}
	})
	t.Run("IdleBucketsDropped", func(t *testing.T) {
		c := &fakeClock{t: time.Unix(1000, 0)}
		l := NewWithClock(c.now)
		l.Allow("old", 1, 1)
		c.advance(2 * idleAfter)
		l.Allow("new", 1, 1)
		if _, ok := l.buckets["old"]; ok {
			t.Fatal("idle bucket kept")
		}
	})
}
