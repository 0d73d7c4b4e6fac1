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

func TestPeek(t *testing.T) {
	c := &fakeClock{t: time.Unix(1000, 0)}
	l := NewWithClock(c.now)
	for i := range 5 {
		if !l.Peek("addr", 1, 3) {
			t.Fatalf("peek %d: no token, none spent yet", i)
		}
	}
	for range 3 {
		l.Allow("addr", 1, 3)
	}
	if l.Peek("addr", 1, 3) {
		t.Fatal("peek found a token after the burst was spent")
	}
	c.advance(time.Second)
	if !l.Peek("addr", 1, 3) {
		t.Fatal("peek found no token after a refill")
	}
}

func TestRefund(t *testing.T) {
	tests := []struct {
		name    string
		spend   int // tokens spent with Allow before the refunds
		refunds int
		want    int // Allows that then succeed in the same instant
	}{
		{"GivesBackSpentToken", 3, 1, 1},
		{"NeverAboveBurst", 1, 5, 3},
		{"UnknownKeyNoEffect", 0, 2, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &fakeClock{t: time.Unix(1000, 0)}
			l := NewWithClock(c.now)
			for range tc.spend {
				l.Allow("addr", 0.1, 3)
			}
			for range tc.refunds {
				l.Refund("addr", 0.1, 3)
			}
			got := 0
			for l.Allow("addr", 0.1, 3) {
				got++
			}
			if got != tc.want {
				t.Fatalf("%d allowed after the refunds, want %d", got, tc.want)
			}
		})
	}
}
