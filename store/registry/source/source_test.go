package source

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/facekit/facekit/store/registry"
)

func TestParse(t *testing.T) {
	tests := []struct {
		spec string
		want Config
		err  bool
	}{
		{"", Config{}, false},
		{"dir:/srv/reg", Config{Kind: KindDir, Path: "/srv/reg"}, false},
		{"sqlite:/var/lib/f.db", Config{Kind: KindSQLite, Path: "/var/lib/f.db"}, false},
		{"https://gw/p?id={id}", Config{Kind: KindHTTP, URL: "https://gw/p?id={id}"}, false},
		{"ftp://gw/p", Config{}, true},
		{"/just/a/path", Config{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := Parse(tt.spec)
			if tt.err {
				if !errors.Is(err, ErrUnknownKind) {
					t.Fatalf("Parse = %+v, %v; want ErrUnknownKind", got, err)
				}
				return
			}
			if err != nil || got.Kind != tt.want.Kind || got.Path != tt.want.Path || got.URL != tt.want.URL {
				t.Fatalf("Parse = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// TestOpenEachKind opens every kind and looks up an unknown number: each
// must be a working source that answers ErrNotFound.
func TestOpenEachKind(t *testing.T) {
	d := t.TempDir()
	if err := os.WriteFile(filepath.Join(d, "index.csv"), []byte("11010519491231002X,张三\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(http.NotFoundHandler())
	defer up.Close()
	for _, spec := range []string{"dir:" + d, "sqlite:" + filepath.Join(t.TempDir(), "r.db"), up.URL + "/p?id={id}"} {
		t.Run(spec[:4], func(t *testing.T) {
			cfg, err := Parse(spec)
			if err != nil {
				t.Fatal(err)
			}
			src, closeFn, err := Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer closeFn()
			if _, err := src.Lookup(context.Background(), "440304199001011233", "李四"); !errors.Is(err, registry.ErrNotFound) {
				t.Fatalf("Lookup = %v; want ErrNotFound", err)
			}
		})
	}
	t.Run("None", func(t *testing.T) {
		src, closeFn, err := Open(Config{})
		if src != nil || err != nil || closeFn() != nil {
			t.Fatalf("Open(none) = %v, %v", src, err)
		}
	})
	t.Run("Broken", func(t *testing.T) {
		if _, _, err := Open(Config{Kind: KindDir, Path: t.TempDir()}); err == nil {
			t.Fatal("a directory without an index opened")
		}
		if _, _, err := Open(Config{Kind: "ldap"}); !errors.Is(err, ErrUnknownKind) {
			t.Fatalf("unknown kind: %v", err)
		}
	})
}
