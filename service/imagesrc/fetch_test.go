package imagesrc

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestFetch(t *testing.T) {
	body := []byte("\xff\xd8\xff image bytes")
	mux := http.NewServeMux()
	mux.HandleFunc("/img.jpg", func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
	mux.HandleFunc("/big.jpg", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", 2048)))
	})
	mux.HandleFunc("/missing.jpg", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/img.jpg", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/ftp", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "ftp://example.com/x.jpg", http.StatusFound)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers until the client gives up
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	allow := New(Config{AllowPrivate: true, MaxBytes: 1024, Timeout: 5 * time.Second})
	strict := New(Config{MaxBytes: 1024})

	t.Run("Downloads", func(t *testing.T) {
		got, err := allow.Fetch(context.Background(), srv.URL+"/img.jpg")
		if err != nil || string(got) != string(body) {
			t.Fatalf("Fetch = %q, %v; want the body", got, err)
		}
	})
	t.Run("FollowsRedirect", func(t *testing.T) {
		got, err := allow.Fetch(context.Background(), srv.URL+"/redirect")
		if err != nil || string(got) != string(body) {
			t.Fatalf("Fetch = %q, %v; want the body", got, err)
		}
	})

	errCases := []struct {
		name    string
		fetcher *Fetcher
		url     string
		ctx     func() (context.Context, context.CancelFunc)
		want    error
	}{
		{"LoopbackRefused", strict, srv.URL + "/img.jpg", nil, ErrForbidden},
		{"NotFoundIsDownloadError", allow, srv.URL + "/missing.jpg", nil, ErrDownload},
		{"TooLarge", allow, srv.URL + "/big.jpg", nil, ErrTooLarge},
		{"RedirectLoop", allow, srv.URL + "/loop", nil, ErrDownload},
		{"RedirectToFTP", allow, srv.URL + "/ftp", nil, ErrURL},
		{"FileScheme", allow, "file:///etc/passwd", nil, ErrURL},
		{"NoHost", allow, "http:///x.jpg", nil, ErrURL},
		{"Garbage", allow, "::not a url", nil, ErrURL},
		{"Timeout", allow, srv.URL + "/slow", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}, ErrDownload},
	}
	for _, tc := range errCases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.Background(), func() {}
			if tc.ctx != nil {
				ctx, cancel = tc.ctx()
			}
			defer cancel()
			_, err := tc.fetcher.Fetch(ctx, tc.url)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Fetch(%s) error = %v, want %v", tc.url, err, tc.want)
			}
		})
	}
}

func TestInternal(t *testing.T) {
	cases := []struct {
		addr string
		want bool
		why  string
	}{
		{"127.0.0.1", true, "loopback"},
		{"::1", true, "IPv6 loopback"},
		{"10.1.2.3", true, "private"},
		{"172.16.0.1", true, "private"},
		{"192.168.1.1", true, "private"},
		{"169.254.169.254", true, "cloud metadata"},
		{"100.64.0.1", true, "CGNAT"},
		{"0.0.0.0", true, "unspecified"},
		{"0.1.2.3", true, "this network"},
		{"::ffff:127.0.0.1", true, "IPv4-mapped loopback"},
		{"fe80::1", true, "link-local"},
		{"fc00::1", true, "unique local"},
		{"fec0::1", true, "site-local"},
		{"198.18.0.1", true, "benchmarking"},
		{"198.19.255.254", true, "benchmarking, upper half"},
		{"240.0.0.1", true, "reserved"},
		{"255.255.255.255", true, "broadcast"},
		{"192.0.0.170", true, "IETF assignments"},
		{"64:ff9b::a9fe:a9fe", true, "NAT64 of 169.254.169.254"},
		{"64:ff9b::7f00:1", true, "NAT64 of 127.0.0.1"},
		{"64:ff9b::808:808", false, "NAT64 of 8.8.8.8"},
		{"64:ff9b:1::a9fe:a9fe", true, "local-use NAT64"},
		{"64:ff9b:1:2::808:808", true, "local-use NAT64, any embedding"},
		{"::a9fe:a9fe", true, "IPv4-compatible 169.254.169.254"},
		{"::10.0.0.1", true, "IPv4-compatible private"},
		{"2002:a9fe:a9fe::1", true, "6to4 of 169.254.169.254"},
		{"2002:c0a8:101::1", true, "6to4 of 192.168.1.1"},
		{"2002:808:808::1", false, "6to4 of 8.8.8.8"},
		{"2001:0:4136:e378:8000:63bf:5601:5601", true, "Teredo, client 169.254.169.254 inverted"},
		{"2001:0:a00:1::1", true, "Teredo, server 10.0.0.1"},
		{"2001:0:808:808:0:0:f7f7:f7f7", false, "Teredo, server and client 8.8.8.8"},
		{"8.8.8.8", false, "public"},
		{"2001:4860::8888", false, "public IPv6 (not Teredo: 2001:4860::/32)"},
		{"2606:4700::1111", false, "public IPv6"},
	}
	for _, tc := range cases {
		t.Run(tc.addr, func(t *testing.T) {
			if got := Internal(netip.MustParseAddr(tc.addr)); got != tc.want {
				t.Errorf("Internal(%s) = %v, want %v (%s)", tc.addr, got, tc.want, tc.why)
			}
		})
	}
}
