package baidu_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/facekit/facekit/server"
	"github.com/facekit/facekit/server/baidu"
	"github.com/facekit/facekit/service"
)

// A script guessing secret keys is stopped after a few failures per client
// address: the rest get the QPS-limit code, even the right secret (the
// guesser must learn nothing), while other addresses are unaffected.
func TestTokenThrottlesFailedLogins(t *testing.T) {
	e := mustStart(t, nil, func(_ *service.Config, _ *service.Deps, c *server.Config) {
		// The test tells addresses apart through X-Forwarded-For from a
		// trusted loopback proxy.
		c.TrustedProxies = []string{"127.0.0.1"}
	})
	type result struct {
		status int
		code   int
		token  string
	}
	get := func(addr, secret string) result {
		q := url.Values{"grant_type": {"client_credentials"}, "client_id": {e.apiKey}, "client_secret": {secret}}
		req, _ := http.NewRequest(http.MethodGet, e.base+"/oauth/2.0/token?"+q.Encode(), nil)
		req.Header.Set("X-Forwarded-For", addr)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return result{}
		}
		defer resp.Body.Close()
		var body struct {
			ErrorCode   int    `json:"error_code"`
			AccessToken string `json:"access_token"`
			Error       string `json:"error"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Errorf("HTTP %d: not JSON: %v", resp.StatusCode, err)
		}
		return result{resp.StatusCode, body.ErrorCode, body.AccessToken}
	}

	const attacker, tries = "203.0.113.7", 400
	var mu sync.Mutex
	counts := map[int]int{}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range tries / 8 {
				r := get(attacker, "guess-"+string(rune('a'+w)))
				mu.Lock()
				counts[r.status]++
				if r.status == http.StatusTooManyRequests && r.code != baidu.CodeQPSLimit {
					t.Errorf("throttled answer has error_code %d, want %d", r.code, baidu.CodeQPSLimit)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if n := counts[http.StatusUnauthorized]; n > service.DefaultAuthFailures {
		t.Errorf("%d of %d wrong secrets answered 401, want at most %d before throttling (%v)", n, tries, service.DefaultAuthFailures, counts)
	}
	if counts[http.StatusUnauthorized]+counts[http.StatusTooManyRequests] != tries {
		t.Errorf("answers %v, want only 401 and 429", counts)
	}
	t.Run("RightSecretStillThrottled", func(t *testing.T) {
		if r := get(attacker, e.secret); r.status != http.StatusTooManyRequests || r.token != "" {
			t.Fatalf("throttled address got %+v", r)
		}
	})
	t.Run("OtherAddressUnaffected", func(t *testing.T) {
		if r := get("198.51.100.1", e.secret); r.status != http.StatusOK || r.token == "" {
			t.Fatalf("other address got %+v", r)
		}
	})
}
