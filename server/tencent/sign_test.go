package tencent

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/facekit/facekit/calibration"
	"github.com/facekit/facekit/store"
)

var (
	testCred  = Credential{AppID: "1250000000", SecretID: "AKIDtest", SecretKey: "s3cret"}
	otherCred = Credential{AppID: "1250000001", SecretID: "AKIDother", SecretKey: "other"}
	t0        = time.Unix(1_764_000_000, 0)
)

func TestSignKnownPlainText(t *testing.T) {
	h := Sign("1250000000", "", "AKIDtest", "s3cret", t0.Add(time.Hour), t0, 42)
	raw, err := base64.StdEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	want := "a=1250000000&b=&k=AKIDtest&e=1764003600&t=1764000000&r=42&u=0&f="
	if string(raw[20:]) != want {
		t.Fatalf("plain text %q; want %q", raw[20:], want)
	}
}

func TestVerify(t *testing.T) {
	now := t0
	sign := func(c Credential, appID string, exp, at time.Time, r uint32) string {
		return Sign(appID, "", c.SecretID, c.SecretKey, exp, at, r)
	}
	tests := []struct {
		name   string
		header string
		want   error
	}{
		{"Valid", sign(testCred, testCred.AppID, now.Add(time.Hour), now, 1), nil},
		{"ValidBucket", Sign(testCred.AppID, "bucket", testCred.SecretID, testCred.SecretKey, now.Add(time.Hour), now, 2), nil},
		{"Empty", "", errNoSignature},
		{"NotBase64", "!!!", errMalformed},
		{"TooShort", base64.StdEncoding.EncodeToString([]byte("short")), errMalformed},
		{"MissingField", base64.StdEncoding.EncodeToString(append(make([]byte, 20), "a=1250000000&k=AKIDtest&t=1&r=1"...)), errMalformed},
		{"BadNumber", base64.StdEncoding.EncodeToString(append(make([]byte, 20), "a=1250000000&k=AKIDtest&e=x&t=1&r=1"...)), errMalformed},
		{"UnknownAppID", sign(testCred, "999", now.Add(time.Hour), now, 3), errAppIDUnknown},
		{"UnknownSecretID", sign(Credential{SecretID: "AKIDnobody", SecretKey: "x"}, testCred.AppID, now.Add(time.Hour), now, 4), errSecretIDUnknown},
		{"AppIDOfAnotherKey", sign(testCred, otherCred.AppID, now.Add(time.Hour), now, 5), errAppIDMismatch},
		{"WrongKey", sign(Credential{SecretID: testCred.SecretID, SecretKey: "guess"}, testCred.AppID, now.Add(time.Hour), now, 6), errBadSignature},
		{"Expired", sign(testCred, testCred.AppID, now.Add(-time.Second), now.Add(-time.Minute), 7), errExpired},
		{"Stale", sign(testCred, testCred.AppID, now.Add(time.Hour), now.Add(-10*time.Minute), 8), errExpired},
		{"FromTheFuture", sign(testCred, testCred.AppID, now.Add(time.Hour), now.Add(10*time.Minute), 9), errBadSignature},
	}
	v := newVerifier([]Credential{testCred, otherCred}, 5*time.Minute, func() time.Time { return now })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cred, _, err := v.verify(tt.header)
			if tt.want == nil {
				if err != nil || cred.SecretID != testCred.SecretID {
					t.Fatalf("verify = %+v, %v", cred, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("verify = %v; want %v", err, tt.want)
			}
		})
	}

	t.Run("Replay", func(t *testing.T) {
		h := sign(testCred, testCred.AppID, now.Add(time.Hour), now, 100)
		if _, _, err := v.verify(h); err != nil {
			t.Fatal(err)
		}
		if _, _, err := v.verify(h); !errors.Is(err, errReplay) {
			t.Fatalf("second use = %v; want errReplay", err)
		}
		// A tampered plain text with the old digest is a bad signature,
		// not a replay.
		raw, _ := base64.StdEncoding.DecodeString(h)
		forged := strings.Replace(string(raw), "r=100", "r=101", 1)
		if _, _, err := v.verify(base64.StdEncoding.EncodeToString([]byte(forged))); !errors.Is(err, errBadSignature) {
			t.Fatalf("forged = %v; want errBadSignature", err)
		}
	})
	t.Run("NonceTableForgets", func(t *testing.T) {
		clock := now
		v := newVerifier([]Credential{testCred}, time.Minute, func() time.Time { return clock })
		for i := 0; i < 3000; i++ {
			clock = now.Add(time.Duration(i) * time.Second)
			if _, _, err := v.verify(sign(testCred, testCred.AppID, clock.Add(time.Hour), clock, uint32(i))); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(v.seen); n > 1024+61 {
			t.Fatalf("%d nonces kept with a one-minute window", n)
		}
	})
}

func TestSimilarity(t *testing.T) {
	for far, want := range map[float64]float64{1: 0, 1e-1: 40, 1e-2: 60, 1e-3: 70, math.Pow(10, -3.5): 75, 1e-4: 80, 1e-5: 90, 1e-6: 100, 1e-9: 100} {
		if got := Similarity(far); math.Abs(got-want) > 1e-9 {
			t.Errorf("Similarity(%g) = %g; want %g", far, got, want)
		}
	}
	for _, far := range []float64{-1, 0, 2, math.NaN(), math.Inf(1)} {
		if s := Similarity(far); s < 0 || s > 100 || math.IsNaN(s) {
			t.Errorf("Similarity(%g) = %g", far, s)
		}
	}
	curve := calibration.Default()
	prev := math.Inf(1)
	for d := 0.0; d <= 1.6; d += 0.001 {
		s := Similarity(curve.FAR(d))
		if s > prev+1e-9 {
			t.Fatalf("similarity rises at distance %g", d)
		}
		prev = s
	}
	if s := Similarity(curve.FAR(curve.DistanceAtFAR(math.Pow(10, -3.5)))); math.Abs(s-75) > 1e-6 {
		t.Fatalf("similarity at the 10^-3.5 distance = %g; want 75", s)
	}
}

func TestErrorTableHasMessages(t *testing.T) {
	for _, row := range errorTable {
		if messages[row.code] == "" {
			t.Errorf("code %d has no message", row.code)
		}
	}
}

// A library database outage is the documented "service temporarily
// unavailable", not an internal error.
func TestLibraryUnavailableCode(t *testing.T) {
	err := fmt.Errorf("server: adding face: %w", fmt.Errorf("postgres: begin: %w", store.ErrUnavailable))
	if code, known := toCode(err); !known || code != CodeServiceDown {
		t.Fatalf("toCode = %d (known %v), want %d", code, known, CodeServiceDown)
	}
}
