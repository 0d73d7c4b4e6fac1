// Package imagesrc fetches image bytes named by a URL for the image_type=URL
// style of request. It is the server's only outbound HTTP client, so it is
// deliberately narrow: http and https only, a total timeout, a byte cap, a
// bounded number of redirects, and no connections to loopback, private,
// link-local or otherwise internal addresses unless the configuration allows
// them (the check runs on the resolved address at dial time, so DNS tricks
// and redirects cannot reach an internal host either).
package imagesrc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// Errors returned by Fetch, always wrapped with details.
var (
	// ErrURL means the URL is malformed or its scheme is not http/https.
	ErrURL = errors.New("imagesrc: invalid image URL")
	// ErrForbidden means the URL resolves to an address the configuration
	// does not allow (loopback, private, link-local, ...).
	ErrForbidden = errors.New("imagesrc: image URL target not allowed")
	// ErrDownload means the download failed: connection error, timeout or
	// a non-2xx status.
	ErrDownload = errors.New("imagesrc: image download failed")
	// ErrTooLarge means the response body exceeds Config.MaxBytes.
	ErrTooLarge = errors.New("imagesrc: downloaded image too large")
)

// Config bounds a Fetcher.
type Config struct {
	// Timeout covers the whole fetch: connect, redirects, headers and body.
	Timeout time.Duration
	// MaxBytes caps the body; larger responses fail with ErrTooLarge.
	MaxBytes int64
	// AllowPrivate permits loopback, private, link-local, CGNAT and
	// unspecified targets. Off by default: a public face API that fetches
	// any URL it is given is an SSRF hole into the operator's network.
	AllowPrivate bool
	// MaxRedirects bounds redirect chains.
	MaxRedirects int
}

// Defaults fills zero fields: 10 s, 10 MiB, 3 redirects.
func (c Config) Defaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 10 << 20
	}
	if c.MaxRedirects <= 0 {
		c.MaxRedirects = 3
	}
	return c
}

// Fetcher downloads images. It is safe for concurrent use.
type Fetcher struct {
	cfg    Config
	client *http.Client
}

// New returns a Fetcher with its own transport (no proxy from the
// environment: a proxy would hide the real target from the address check).
func New(cfg Config) *Fetcher {
	cfg = cfg.Defaults()
	dialer := &net.Dialer{Timeout: cfg.Timeout, Control: controlFor(cfg.AllowPrivate)}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
		MaxIdleConns:          16,
		IdleConnTimeout:       30 * time.Second,
	}
	client := &http.Client{
		Transport: tr,
		Timeout:   cfg.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > cfg.MaxRedirects {
				return fmt.Errorf("%w: more than %d redirects", ErrDownload, cfg.MaxRedirects)
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("%w: redirect to scheme %q", ErrURL, req.URL.Scheme)
			}
			return nil
		},
	}
	return &Fetcher{cfg: cfg, client: client}
}

// Fetch downloads rawURL and returns its body. It returns ErrURL,
// ErrForbidden, ErrDownload or ErrTooLarge (wrapped).
func (f *Fetcher) Fetch(ctx context.Context, rawURL string) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: %q is not an http(s) URL", ErrURL, redact(u))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrURL, err)
	}
	req.Header.Set("Accept", "image/*")
	resp, err := f.client.Do(req)
	if err != nil {
		switch {
		case errors.Is(err, ErrForbidden):
			return nil, fmt.Errorf("%w: %s", ErrForbidden, redact(u))
		case errors.Is(err, ErrURL):
			return nil, err
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrDownload, redact(u), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("%w: %s: HTTP %d", ErrDownload, redact(u), resp.StatusCode)
	}
	if resp.ContentLength > f.cfg.MaxBytes {
		return nil, fmt.Errorf("%w: %d bytes declared, limit %d", ErrTooLarge, resp.ContentLength, f.cfg.MaxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, f.cfg.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: reading body: %v", ErrDownload, redact(u), err)
	}
	if int64(len(data)) > f.cfg.MaxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, f.cfg.MaxBytes)
	}
	return data, nil
}

// redact drops credentials and the query from a URL for messages and logs.
func redact(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.Fragment = ""
	return c.String()
}

// controlFor returns a dialer hook that refuses internal addresses. It runs
// after name resolution, on every connection including redirects.
func controlFor(allowPrivate bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		if allowPrivate {
			return nil
		}
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrForbidden, err)
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return fmt.Errorf("%w: %q is not an IP address", ErrForbidden, host)
		}
		if Internal(ip) {
			return fmt.Errorf("%w: %s is an internal address", ErrForbidden, ip)
		}
		return nil
	}
}

// cgnat is the carrier-grade NAT range (RFC 6598), private in practice.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// Internal reports whether ip is an address a public service must not
// connect to on a client's behalf.
func Internal(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() ||
		ip.IsMulticast() || ip.IsUnspecified() || cgnat.Contains(ip)
}
