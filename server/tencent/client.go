package tencent

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/facekit/facekit/eval"
	"github.com/facekit/facekit/eval/remote"
)

// Client calls idcardcompare of a Tencent endpoint for `facekit eval
// --endpoint`: every request is signed afresh (signatures are single-use),
// the first photo of a pair is the registered photo of Call.Subject and
// the second the uploaded image. It implements remote.Endpoint.
type Client struct {
	Base string
	Cred Credential
	HTTP *http.Client
}

// NewClient returns a client for base signing with cred.
func NewClient(base string, cred Credential, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{Base: strings.TrimRight(base, "/"), Cred: cred, HTTP: hc}
}

// Dialect implements remote.Endpoint.
func (c *Client) Dialect() string { return "tencent" }

// URL implements remote.Endpoint.
func (c *Client) URL() string { return c.Base }

// Registry implements remote.Endpoint.
func (c *Client) Registry() bool { return true }

// Scale implements remote.Endpoint.
func (c *Client) Scale() float64 { return 100 }

// RateLimited implements remote.Endpoint: code 15 ("操作太频繁,触发频控").
func (c *Client) RateLimited(code string) bool { return code == strconv.Itoa(CodeTooFrequent) }

// Thresholds implements remote.Endpoint.
func (c *Client) Thresholds() []eval.VendorThreshold { return Thresholds() }

// Compare implements remote.Endpoint: a signed multipart POST with appid,
// idcard_number, idcard_name and the image.
func (c *Client) Compare(ctx context.Context, call remote.Call) (remote.Answer, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, kv := range [][2]string{{"appid", c.Cred.AppID}, {"idcard_number", call.Subject.IDNumber}, {"idcard_name", call.Subject.Name}} {
		if err := mw.WriteField(kv[0], kv[1]); err != nil {
			return remote.Answer{}, fmt.Errorf("tencent client: %w", err)
		}
	}
	fw, err := mw.CreateFormFile("image", "image.jpg")
	if err == nil {
		_, err = fw.Write(call.B)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		return remote.Answer{}, fmt.Errorf("tencent client: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Base+Path, &body)
	if err != nil {
		return remote.Answer{}, fmt.Errorf("tencent client: %w", err)
	}
	var nonce [4]byte
	_, _ = rand.Read(nonce[:])
	now := time.Now()
	req.Header.Set("Authorization", Sign(c.Cred.AppID, "", c.Cred.SecretID, c.Cred.SecretKey, now.Add(10*time.Minute), now, binary.BigEndian.Uint32(nonce[:])))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return remote.Answer{}, fmt.Errorf("tencent client: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return remote.Answer{}, fmt.Errorf("tencent client: %w", err)
	}
	var ans struct {
		Code    *int   `json:"code"`
		Message string `json:"message"`
		Data    struct {
			Similarity *float64 `json:"similarity"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil || ans.Code == nil {
		return remote.Answer{}, fmt.Errorf("tencent client: HTTP %d, not the API's JSON: %.200s", resp.StatusCode, raw)
	}
	if *ans.Code != CodeOK {
		return remote.Answer{Code: strconv.Itoa(*ans.Code), Message: ans.Message}, nil
	}
	if ans.Data.Similarity == nil {
		return remote.Answer{}, fmt.Errorf("tencent client: code 0 without a similarity")
	}
	return remote.Answer{Score: *ans.Data.Similarity}, nil
}
