package service

import (
	"context"
	"encoding/base64"
	"errors"
	"image"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/internal/standin"
	"github.com/facekit/facekit/store/sqlite"
)

// mustOpenService returns a service over a fresh SQLite library that never
// reaches an engine.
func mustOpenService(tb testing.TB, cfg Config) *Service {
	tb.Helper()
	db, err := sqlite.Open(filepath.Join(tb.TempDir(), "t.db"), sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	s, err := New(cfg, Deps{Engine: standin.Engine{Pool: 3}, Descriptor: standin.Describer{}, Library: db, Searcher: db, Apps: db, FaceTokens: db, Sessions: db})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestNewRequiresDeps(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "t.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	full := Deps{Engine: standin.Engine{Pool: 3}, Descriptor: standin.Describer{}, Library: db, Searcher: db, Apps: db, FaceTokens: db}
	for name, mod := range map[string]func(*Deps){
		"NoEngine":     func(d *Deps) { d.Engine = nil },
		"NoDescriptor": func(d *Deps) { d.Descriptor = nil },
		"NoLibrary":    func(d *Deps) { d.Library = nil },
		"NoApps":       func(d *Deps) { d.Apps = nil },
		"NoFaceTokens": func(d *Deps) { d.FaceTokens = nil },
	} {
		t.Run(name, func(t *testing.T) {
			d := full
			mod(&d)
			if _, err := New(Config{}, d); err == nil {
				t.Fatal("New accepted incomplete deps")
			}
		})
	}
	s, err := New(Config{}, full)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Config().Concurrency; got != 3 {
		t.Fatalf("concurrency %d, want the engine pool size 3", got)
	}
}

func TestBusy(t *testing.T) {
	s := mustOpenService(t, Config{Concurrency: 1, QueueTimeout: time.Millisecond})
	release, err := s.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	// The only slot is held: a second caller is refused, never queued forever.
	if _, err := s.acquire(context.Background()); !errors.Is(err, ErrBusy) {
		t.Fatalf("second acquire: %v, want ErrBusy", err)
	}
	// So is an image request, before anything is decoded.
	_, err = s.DetectFaces(context.Background(), "app", ImageSource{Kind: ImageBase64, Value: base64.StdEncoding.EncodeToString([]byte("any bytes"))}, DetectOptions{})
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("DetectFaces while busy: %v", err)
	}
}

// TestImageBase64 checks that a base64 source is decoded by imageio's one
// decoder, data: prefix and all, and that its errors come through typed.
func TestImageBase64(t *testing.T) {
	s := mustOpenService(t, Config{Image: imageio.Limits{MaxBytes: 1000, MinSide: 1, MaxSide: 100, MaxPixels: 10000}})
	data := []byte("\xff\xd8\xff\xe0 some jpeg-ish bytes")
	for name, v := range map[string]string{
		"Plain":           base64.StdEncoding.EncodeToString(data),
		"DataURIAnyCase":  "Data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(data),
		"URLSafeUnpadded": base64.RawURLEncoding.EncodeToString(data),
	} {
		t.Run(name, func(t *testing.T) {
			raw, err := s.imageBytes(context.Background(), ImageSource{Kind: ImageBase64, Value: v})
			if err != nil || string(raw) != string(data) {
				t.Fatalf("imageBytes = %q, %v", raw, err)
			}
		})
	}
	for name, tc := range map[string]struct {
		in   string
		want error
	}{
		"Empty":    {"", imageio.ErrEmpty},
		"Garbage":  {"%%%%", imageio.ErrBase64},
		"TooLarge": {strings.Repeat("A", 4000), imageio.ErrImageTooLarge},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.LoadImage(context.Background(), ImageSource{Kind: ImageBase64, Value: tc.in}); !errors.Is(err, tc.want) {
				t.Fatalf("LoadImage: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestFaceToken(t *testing.T) {
	a := FaceToken([]byte("image"), image.Rect(1, 2, 30, 40))
	if len(a) != 32 || strings.Trim(a, "0123456789abcdef") != "" {
		t.Fatalf("token %q is not 32 hex digits", a)
	}
	if b := FaceToken([]byte("image"), image.Rect(1, 2, 30, 40)); a != b {
		t.Fatal("same image and box, different tokens")
	}
	if b := FaceToken([]byte("image"), image.Rect(1, 2, 30, 41)); a == b {
		t.Fatal("different boxes, same token")
	}
	if b := FaceToken([]byte("imagf"), image.Rect(1, 2, 30, 40)); a == b {
		t.Fatal("different images, same token")
	}
}

func TestSessionCodes(t *testing.T) {
	s := mustOpenService(t, Config{})
	app, _, err := s.Apps().CreateApp(context.Background(), "t")
	if err != nil {
		t.Fatal(err)
	}
	lengths := map[int]bool{}
	for range 200 {
		sc, err := s.NewSessionCode(context.Background(), app.ID, 3, 6)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Trim(sc.Code, "0123456789") != "" || len(sc.Code) < 3 || len(sc.Code) > 6 {
			t.Fatalf("code %q", sc.Code)
		}
		lengths[len(sc.Code)] = true
		if !sc.Expires.After(time.Now()) {
			t.Fatalf("session already expired: %+v", sc)
		}
	}
	// 200 draws of a uniform length in 3..6 miss a length with
	// probability below 1e-24.
	if len(lengths) != 4 {
		t.Fatalf("code lengths %v, want all of 3..6", lengths)
	}
}
