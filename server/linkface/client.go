package linkface

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/facekit/facekit/eval"
	"github.com/facekit/facekit/eval/remote"
)

// Client calls the selfie/ID-number verification of a Linkface endpoint
// for `facekit eval --endpoint`: the first photo of a pair is the
// registered photo of Call.Subject (a registry the endpoint reads, which
// facekit writes: see remote.WriteRegistry), the second the uploaded
// selfie. It implements remote.Endpoint.
type Client struct {
	Base   string
	APIID  string
	Secret string
	HTTP   *http.Client
}

// NewClient returns a client for base with the given credentials.
func NewClient(base, apiID, secret string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{Base: strings.TrimRight(base, "/"), APIID: apiID, Secret: secret, HTTP: hc}
}

// Dialect implements remote.Endpoint.
func (c *Client) Dialect() string { return "linkface" }

// URL implements remote.Endpoint.
func (c *Client) URL() string { return c.Base }

// Registry implements remote.Endpoint.
func (c *Client) Registry() bool { return true }

// Scale implements remote.Endpoint.
func (c *Client) Scale() float64 { return 1 }

// RateLimited implements remote.Endpoint: 403 RATE_LIMIT_EXCEEDED.
func (c *Client) RateLimited(code string) bool { return code == "RATE_LIMIT_EXCEEDED" }

// Thresholds implements remote.Endpoint.
func (c *Client) Thresholds() []eval.VendorThreshold { return Thresholds() }

// clientAnswer is any answer of the call, success or failure.
type clientAnswer struct {
	Status     string   `json:"status"`
	Reason     string   `json:"reason"`
	Confidence *float64 `json:"confidence"`
	Identity   *struct {
		Validity bool   `json:"validity"`
		Reason   string `json:"reason"`
	} `json:"identity"`
}

// Compare implements remote.Endpoint: a multipart POST with api_id,
// api_secret, id_number, name and selfie_file. An OK answer without a
// confidence (the registry has no usable photo of the subject) is reported
// as the code "NO_CONFIDENCE".
func (c *Client) Compare(ctx context.Context, call remote.Call) (remote.Answer, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, kv := range [][2]string{{"api_id", c.APIID}, {"api_secret", c.Secret}, {"id_number", call.Subject.IDNumber}, {"name", call.Subject.Name}} {
		if err := mw.WriteField(kv[0], kv[1]); err != nil {
			return remote.Answer{}, fmt.Errorf("linkface client: %w", err)
		}
	}
	fw, err := mw.CreateFormFile("selfie_file", "selfie.jpg")
	if err == nil {
		_, err = fw.Write(call.B)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		return remote.Answer{}, fmt.Errorf("linkface client: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Base+Path, &body)
	if err != nil {
		return remote.Answer{}, fmt.Errorf("linkface client: %w", err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return remote.Answer{}, fmt.Errorf("linkface client: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return remote.Answer{}, fmt.Errorf("linkface client: %w", err)
	}
	var ans clientAnswer
	if err := json.Unmarshal(raw, &ans); err != nil || ans.Status == "" {
		return remote.Answer{}, fmt.Errorf("linkface client: HTTP %d, not the API's JSON: %.200s", resp.StatusCode, raw)
	}
	switch {
	case ans.Status != "OK":
		return remote.Answer{Code: ans.Status, Message: ans.Reason}, nil
	case ans.Confidence == nil:
		msg := ""
		if ans.Identity != nil {
			msg = ans.Identity.Reason
		}
		return remote.Answer{Code: "NO_CONFIDENCE", Message: msg}, nil
	}
	return remote.Answer{Score: *ans.Confidence}, nil
}
