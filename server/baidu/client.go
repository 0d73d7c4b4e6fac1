package baidu

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/facekit/facekit/eval"
	"github.com/facekit/facekit/eval/remote"
)

// Client calls /v3/match of a Baidu face API endpoint (a facekit server or
// Baidu's cloud) for `facekit eval --endpoint`: it fetches an access token
// with the client-credentials flow and fetches a new one when the endpoint
// answers 110 (invalid token) or 111 (expired), then repeats the call once.
// It implements remote.Endpoint.
type Client struct {
	Base      string // e.g. https://aip.baidubce.com
	APIKey    string
	SecretKey string
	HTTP      *http.Client

	mu    sync.Mutex
	token string
	// TokenFetches counts token calls (tests check the refresh).
	TokenFetches int
}

// NewClient returns a client for base with the given credentials.
func NewClient(base, apiKey, secretKey string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{Base: strings.TrimRight(base, "/"), APIKey: apiKey, SecretKey: secretKey, HTTP: hc}
}

// SetToken sets the access token to use before fetching one (tests use a
// stale one to exercise the refresh).
func (c *Client) SetToken(tok string) {
	c.mu.Lock()
	c.token = tok
	c.mu.Unlock()
}

// Dialect implements remote.Endpoint.
func (c *Client) Dialect() string { return "baidu" }

// URL implements remote.Endpoint.
func (c *Client) URL() string { return c.Base }

// Registry implements remote.Endpoint: /match takes both images inline.
func (c *Client) Registry() bool { return false }

// Scale implements remote.Endpoint.
func (c *Client) Scale() float64 { return 100 }

// RateLimited implements remote.Endpoint: 18 (QPS limit) and 4 (the
// cluster's request limit, which facekit answers when every analysis slot
// stays busy) ask for a slower client; 17 and 19 (daily and total quota)
// do not pass by waiting and are final.
func (c *Client) RateLimited(code string) bool {
	return code == strconv.Itoa(CodeQPSLimit) || code == strconv.Itoa(CodeRequestLimit)
}

// Thresholds implements remote.Endpoint: the documented 80 ("80分以上可以判断
// 为同一人,此分值对应万分之一误识率").
func (c *Client) Thresholds() []eval.VendorThreshold { return Thresholds() }

// fetchToken gets a new access token unless another goroutine already
// replaced stale.
func (c *Client) fetchToken(ctx context.Context, stale string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.token != stale {
		return c.token, nil
	}
	q := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.APIKey}, "client_secret": {c.SecretKey}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Base+pathToken+"?"+q.Encode(), nil)
	if err != nil {
		return "", fmt.Errorf("baidu client: %w", err)
	}
	c.TokenFetches++
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return "", fmt.Errorf("baidu client: token: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("baidu client: token: %w", err)
	}
	var tr struct {
		tokenResponse
		oauthError
	}
	if err := json.Unmarshal(body, &tr); err != nil {
		return "", fmt.Errorf("baidu client: token: HTTP %d, not JSON: %.200s", resp.StatusCode, body)
	}
	if tr.AccessToken == "" {
		return "", fmt.Errorf("baidu client: token refused: %s: %s", tr.Error, tr.Description)
	}
	c.token = tr.AccessToken
	return c.token, nil
}

type matchImage struct {
	Image     string `json:"image"`
	ImageType string `json:"image_type"`
	FaceType  string `json:"face_type"`
}

type matchAnswer struct {
	ErrorCode int    `json:"error_code"`
	ErrorMsg  string `json:"error_msg"`
	Result    *struct {
		Score float64 `json:"score"`
	} `json:"result"`
}

// Compare implements remote.Endpoint: POST /rest/2.0/face/v3/match with
// both photos as BASE64 LIVE images.
func (c *Client) Compare(ctx context.Context, call remote.Call) (remote.Answer, error) {
	body, err := json.Marshal([]matchImage{
		{Image: base64.StdEncoding.EncodeToString(call.A), ImageType: "BASE64", FaceType: "LIVE"},
		{Image: base64.StdEncoding.EncodeToString(call.B), ImageType: "BASE64", FaceType: "LIVE"},
	})
	if err != nil {
		return remote.Answer{}, fmt.Errorf("baidu client: %w", err)
	}
	c.mu.Lock()
	tok := c.token
	c.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if tok == "" {
			if tok, err = c.fetchToken(ctx, ""); err != nil {
				return remote.Answer{}, err
			}
		}
		ans, err := c.match(ctx, tok, body)
		if err != nil {
			return remote.Answer{}, err
		}
		if attempt == 0 && (ans.ErrorCode == CodeTokenInvalid || ans.ErrorCode == CodeTokenExpired) {
			if tok, err = c.fetchToken(ctx, tok); err != nil {
				return remote.Answer{}, err
			}
			continue
		}
		if ans.ErrorCode != CodeSuccess {
			return remote.Answer{Code: strconv.Itoa(ans.ErrorCode), Message: ans.ErrorMsg}, nil
		}
		if ans.Result == nil {
			return remote.Answer{}, fmt.Errorf("baidu client: match succeeded without a result")
		}
		return remote.Answer{Score: ans.Result.Score}, nil
	}
}

func (c *Client) match(ctx context.Context, tok string, body []byte) (matchAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Base+prefixV3+"/match?access_token="+url.QueryEscape(tok), bytes.NewReader(body))
	if err != nil {
		return matchAnswer{}, fmt.Errorf("baidu client: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return matchAnswer{}, fmt.Errorf("baidu client: match: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return matchAnswer{}, fmt.Errorf("baidu client: match: %w", err)
	}
	var ans matchAnswer
	if err := json.Unmarshal(raw, &ans); err != nil {
		return matchAnswer{}, fmt.Errorf("baidu client: match: HTTP %d, not the API's JSON: %.200s", resp.StatusCode, raw)
	}
	return ans, nil
}
