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

// Ranges that are not private by netip's predicates but must not be reached
// on a client's behalf either.
var (
	// internalPrefixes are refused outright.
	internalPrefixes = []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/8"),      // "this network" (RFC 791); 0.x.y.z reaches the local host on Linux
		netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT (RFC 6598), private in practice
		netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments (RFC 6890)
		netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking (RFC 2544), often used for lab networks
		netip.MustParsePrefix("240.0.0.0/4"),    // reserved, and the limited broadcast 255.255.255.255
		netip.MustParsePrefix("fec0::/10"),      // deprecated site-local (RFC 3879), still routed inside some sites
		netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64 (RFC 8215): site-specific, embedding position unknown
		netip.MustParsePrefix("100::/64"),       // discard-only (RFC 6666)
	}
	// nat64 (RFC 6052 well-known prefix) carries an IPv4 address in its last 32 bits.
	nat64 = netip.MustParsePrefix("64:ff9b::/96")
	// ipv4Compatible is the deprecated ::a.b.c.d form (RFC 4291 2.5.5.1).
	ipv4Compatible = netip.MustParsePrefix("::/96")
	// sixToFour (RFC 3056) carries an IPv4 address in bits 16..47.
	sixToFour = netip.MustParsePrefix("2002::/16")
	// teredo (RFC 4380) carries the server IPv4 in bits 32..63 and the
	// client IPv4, inverted, in bits 96..127.
	teredo = netip.MustParsePrefix("2001::/32")
)

// Internal reports whether ip is an address a public service must not
// connect to on a client's behalf. IPv6 forms that embed an IPv4 address
// (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo) are judged by the IPv4
// address they reach: 64:ff9b::a9fe:a9fe is 169.254.169.254 through a NAT64
// gateway.
func Internal(ip netip.Addr) bool {
	ip = ip.Unmap()
	if internalSimple(ip) {
		return true
	}
	if !ip.Is6() {
		return false
	}
	for _, v4 := range embeddedIPv4(ip) {
		if internalSimple(v4) {
			return true
		}
	}
	return false
}

// internalSimple checks ip against the predicates and ranges, without
// looking inside IPv6 transition addresses.
func internalSimple(ip netip.Addr) bool {
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() ||
		ip.IsMulticast() || ip.IsUnspecified() {
		return true
	}
	for _, p := range internalPrefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// embeddedIPv4 returns the IPv4 addresses an IPv6 transition address
// reaches or carries (none for a plain IPv6 address).
func embeddedIPv4(ip netip.Addr) []netip.Addr {
	b := ip.As16()
	v4 := func(off int) netip.Addr { return netip.AddrFrom4([4]byte{b[off], b[off+1], b[off+2], b[off+3]}) }
	switch {
	case nat64.Contains(ip), ipv4Compatible.Contains(ip):
		return []netip.Addr{v4(12)}
	case sixToFour.Contains(ip):
		return []netip.Addr{v4(2)}
	case teredo.Contains(ip):
		client := [4]byte{^b[12], ^b[13], ^b[14], ^b[15]}
		return []netip.Addr{v4(4), netip.AddrFrom4(client)}
	}
	return nil
}
