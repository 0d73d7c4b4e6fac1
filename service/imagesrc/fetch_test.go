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
	cases := map[string]bool{
		"127.0.0.1":        true,
		"::1":              true,
		"10.1.2.3":         true,
		"172.16.0.1":       true,
		"192.168.1.1":      true,
		"169.254.169.254":  true, // cloud metadata
		"100.64.0.1":       true,
		"0.0.0.0":          true,
		"::ffff:127.0.0.1": true,
		"fe80::1":          true,
		"fc00::1":          true,
		"8.8.8.8":          false,
		"2001:4860::8888":  false,
	}
	for addr, want := range cases {
		if got := Internal(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Internal(%s) = %v, want %v", addr, got, want)
		}
	}
}
