package httpsrc

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/facekit/facekit/store/registry"
)

const idZhang = "11010519491231002X"

// upstream is a fake authority gateway: handler decides each answer, and it
// counts the requests it received.
type upstream struct {
	*httptest.Server
	calls atomic.Int32
}

func newUpstream(tb testing.TB, handler func(w http.ResponseWriter, r *http.Request, call int)) *upstream {
	tb.Helper()
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler(w, r, int(u.calls.Add(1)))
	}))
	tb.Cleanup(u.Close)
	return u
}

// MustNew builds a source for u with fast retries.
func MustNew(tb testing.TB, u *upstream, cfg Config) *Source {
	tb.Helper()
	cfg.URL = u.URL + "/photo?id={id}&name={name}"
	if cfg.Backoff == 0 {
		cfg.Backoff = time.Millisecond
	}
	s, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestLookup(t *testing.T) {
	jpg := jpegBytes(t)
	b64 := base64.StdEncoding.EncodeToString(jpg)
	serveJPEG := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write(jpg)
	}
	serveJSON := func(w http.ResponseWriter, status int, body string) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}
	tests := []struct {
		name      string
		id, nm    string
		handler   func(w http.ResponseWriter, r *http.Request, call int)
		wantErr   error
		wantCalls int
	}{
		{name: "Found/RawImage", handler: func(w http.ResponseWriter, r *http.Request, _ int) { serveJPEG(w) }, wantCalls: 1},
		{name: "Found/RawImageNoContentType", handler: func(w http.ResponseWriter, r *http.Request, _ int) {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(jpg)
		}, wantCalls: 1},
		{name: "Found/JSON", handler: func(w http.ResponseWriter, r *http.Request, _ int) {
			serveJSON(w, 200, `{"result":"ok","name":"张三","image":"`+b64+`","content_type":"image/jpeg"}`)
		}, wantCalls: 1},
		{name: "Found/JSONDataURL", handler: func(w http.ResponseWriter, r *http.Request, _ int) {
			serveJSON(w, 200, `{"image":"data:image/jpeg;base64,`+b64+`"}`)
		}, wantCalls: 1},
		{name: "Found/AfterServerErrors", handler: func(w http.ResponseWriter, r *http.Request, call int) {
			if call < 3 {
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			serveJPEG(w)
		}, wantCalls: 3},
		{name: "Found/After429", handler: func(w http.ResponseWriter, r *http.Request, call int) {
			if call == 1 {
				http.Error(w, "slow down", http.StatusTooManyRequests)
				return
			}
			serveJPEG(w)
		}, wantCalls: 2},
		{name: "NotFound/404", handler: func(w http.ResponseWriter, r *http.Request, _ int) { http.NotFound(w, r) },
			wantErr: registry.ErrNotFound, wantCalls: 1},
		{name: "NotFound/JSON", handler: func(w http.ResponseWriter, r *http.Request, _ int) {
			serveJSON(w, 200, `{"result":"not_found"}`)
		}, wantErr: registry.ErrNotFound, wantCalls: 1},
		{name: "NameMismatch/409", handler: func(w http.ResponseWriter, r *http.Request, _ int) { w.WriteHeader(409) },
			wantErr: registry.ErrNameMismatch, wantCalls: 1},
		{name: "NameMismatch/422", handler: func(w http.ResponseWriter, r *http.Request, _ int) { w.WriteHeader(422) },
			wantErr: registry.ErrNameMismatch, wantCalls: 1},
		{name: "NameMismatch/JSONName", handler: func(w http.ResponseWriter, r *http.Request, _ int) {
			serveJSON(w, 200, `{"name":"李四","image":"`+b64+`"}`)
		}, wantErr: registry.ErrNameMismatch, wantCalls: 1},
		{name: "NameMismatch/JSONResult", handler: func(w http.ResponseWriter, r *http.Request, _ int) {
			serveJSON(w, 200, `{"result":"name_mismatch"}`)
		}, wantErr: registry.ErrNameMismatch, wantCalls: 1},
		{name: "PhotoMissing/410", handler: func(w http.ResponseWriter, r *http.Request, _ int) { w.WriteHeader(410) },
			wantErr: registry.ErrPhotoMissing, wantCalls: 1},
		{name: "PhotoMissing/204", handler: func(w http.ResponseWriter, r *http.Request, _ int) { w.WriteHeader(204) },
			wantErr: registry.ErrPhotoMissing, wantCalls: 1},
		{name: "PhotoMissing/EmptyBody", handler: func(w http.ResponseWriter, r *http.Request, _ int) {
			w.Header().Set("Content-Type", "image/jpeg")
		}, wantErr: registry.ErrPhotoMissing, wantCalls: 1},
		{name: "PhotoMissing/JSONNoImage", handler: func(w http.ResponseWriter, r *http.Request, _ int) {
			serveJSON(w, 200, `{"result":"ok","name":"张三"}`)
		}, wantErr: registry.ErrPhotoMissing, wantCalls: 1},
		{name: "PhotoUnusable/NotAnImage", handler: func(w http.ResponseWriter, r *http.Request, _ int) {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write([]byte{0, 1, 2, 3, 4, 5})
		}, wantErr: registry.ErrPhotoUnusable, wantCalls: 1},
		{name: "PhotoUnusable/BadBase64", handler: func(w http.ResponseWriter, r *http.Request, _ int) {
			serveJSON(w, 200, `{"image":"!!!"}`)
		}, wantErr: registry.ErrPhotoUnusable, wantCalls: 1},
		{name: "Unavailable/AlwaysFailing", handler: func(w http.ResponseWriter, r *http.Request, _ int) {
			w.WriteHeader(502)
		}, wantErr: registry.ErrUnavailable, wantCalls: 3},
		{name: "Unavailable/HTMLPage", handler: func(w http.ResponseWriter, r *http.Request, _ int) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html><body>login</body></html>"))
		}, wantErr: registry.ErrUnavailable, wantCalls: 1},
		{name: "Unavailable/Forbidden", handler: func(w http.ResponseWriter, r *http.Request, _ int) { w.WriteHeader(403) },
			wantErr: registry.ErrUnavailable, wantCalls: 1},
		{name: "Unavailable/BadJSON", handler: func(w http.ResponseWriter, r *http.Request, _ int) {
			serveJSON(w, 200, `{"image":`)
		}, wantErr: registry.ErrUnavailable, wantCalls: 1},
		{name: "InvalidIDNumber", id: "11010519491231002", handler: func(w http.ResponseWriter, r *http.Request, _ int) { serveJPEG(w) },
			wantErr: registry.ErrInvalidIDNumber, wantCalls: 0},
		{name: "InvalidName", nm: "Bob", handler: func(w http.ResponseWriter, r *http.Request, _ int) { serveJPEG(w) },
			wantErr: registry.ErrInvalidName, wantCalls: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUpstream(t, tt.handler)
			s := MustNew(t, u, Config{})
			id, nm := idZhang, "张三"
			if tt.id != "" {
				id = tt.id
			}
			if tt.nm != "" {
				nm = tt.nm
			}
			p, err := s.Lookup(context.Background(), id, nm)
			if got := int(u.calls.Load()); got != tt.wantCalls {
				t.Errorf("upstream called %d times; want %d", got, tt.wantCalls)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Lookup = %v; want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(p.Image, jpg) || p.ContentType != "image/jpeg" || p.IDNumber != idZhang || p.Name != "张三" {
				t.Fatalf("Lookup = %s %s %s %d bytes", p.IDNumber, p.Name, p.ContentType, len(p.Image))
			}
		})
	}
}

func TestRequest(t *testing.T) {
	// The name arrives decoded, the number normalised, static headers set.
	var gotID, gotName, gotAuth, gotPath string
	u := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		gotID, gotName = r.URL.Query().Get("id"), r.URL.Query().Get("name")
		gotAuth, gotPath = r.Header.Get("Authorization"), r.URL.Path
		w.Write(jpegBytes(t))
	})
	s := MustNew(t, u, Config{Header: http.Header{"Authorization": {"Bearer k"}}})
	if _, err := s.Lookup(context.Background(), "110105491231002", "买买提・艾力"); err != nil {
		t.Fatal(err)
	}
	if gotID != idZhang || gotName != "买买提·艾力" || gotAuth != "Bearer k" || gotPath != "/photo" {
		t.Fatalf("upstream saw id=%q name=%q auth=%q path=%q", gotID, gotName, gotAuth, gotPath)
	}

	// A placeholder in the path is path-escaped.
	s2, err := New(Config{URL: u.URL + "/people/{id}/{name}.jpg"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Lookup(context.Background(), idZhang, "张三"); err != nil {
		t.Fatal(err)
	}
	if gotPath != "/people/"+idZhang+"/张三.jpg" {
		t.Fatalf("path %q", gotPath)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	u := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	s := MustNew(t, u, Config{Timeout: 20 * time.Millisecond, Retries: 1})
	_, err := s.Lookup(context.Background(), idZhang, "张三")
	if !errors.Is(err, registry.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lookup = %v; want ErrUnavailable wrapping DeadlineExceeded", err)
	}
	if got := u.calls.Load(); got != 2 {
		t.Fatalf("%d attempts; want 2 (one retry)", got)
	}
}

func TestCallerCancelStopsRetries(t *testing.T) {
	u := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ int) { w.WriteHeader(500) })
	s := MustNew(t, u, Config{Retries: 100, Backoff: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := s.Lookup(ctx, idZhang, "张三")
	if !errors.Is(err, registry.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lookup = %v", err)
	}
	if got := u.calls.Load(); got != 1 {
		t.Fatalf("%d attempts; want 1 (the backoff outlives the caller)", got)
	}
}

func TestUnreachable(t *testing.T) {
	u := newUpstream(t, func(w http.ResponseWriter, r *http.Request, _ int) {})
	addr := u.URL
	u.Close() // nothing listens there any more
	s, err := New(Config{URL: addr + "/p?id={id}", Retries: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(context.Background(), idZhang, "张三"); !errors.Is(err, registry.ErrUnavailable) {
		t.Fatalf("Lookup = %v; want ErrUnavailable", err)
	}
}

func TestNewErrors(t *testing.T) {
	for name, tmpl := range map[string]string{
		"NoID":     "http://gw/photo?name={name}",
		"Relative": "/photo?id={id}",
		"FTP":      "ftp://gw/{id}",
		"Empty":    "",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := New(Config{URL: tmpl}); err == nil {
				t.Fatalf("New(%q) succeeded", tmpl)
			}
		})
	}
}

func jpegBytes(tb testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	img.Set(0, 0, color.White)
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}
