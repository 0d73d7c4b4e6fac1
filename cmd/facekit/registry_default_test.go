package main

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facekit/facekit/store/registry"
	"github.com/facekit/facekit/store/registry/sqlitesrc"
)

// TestRegistryDefault checks the registry source facekit serve opens when
// none is configured: DATA/registry.db when `facekit registry add` filled
// it (and a log line saying so), else none, with a log line naming the
// --registry flag; --registry none turns the default off.
func TestRegistryDefault(t *testing.T) {
	const id, name = "11010519491231002X", "张三"
	var photo bytes.Buffer
	if err := png.Encode(&photo, image.NewGray(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	filled := t.TempDir()
	reg, err := sqlitesrc.Open(filepath.Join(filled, "registry.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Add(context.Background(), registry.Photo{IDNumber: id, Name: name, Image: photo.Bytes()}); err != nil {
		t.Fatal(err)
	}
	reg.Close()

	tests := []struct {
		name    string
		data    string
		kind    string
		wantSrc bool
		wantLog []string
	}{
		{"DataRegistryUsed", filled, "", true, []string{"level=INFO", "serving the registry photos", filepath.Join(filled, "registry.db")}},
		{"NoneTurnsItOff", filled, "none", false, nil},
		{"NoRegistryNamesTheFlag", t.TempDir(), "", false, []string{"level=WARN", "--registry", "NO_PERMISSION"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := defaultConfig()
			cfg.Data, cfg.Registry.Kind = tt.data, tt.kind
			var logs bytes.Buffer
			src, closeSrc, err := openRegistry(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer closeSrc()
			if (src != nil) != tt.wantSrc {
				t.Fatalf("source %v, want one: %v", src, tt.wantSrc)
			}
			if src != nil {
				p, err := src.Lookup(context.Background(), id, name)
				if err != nil || !bytes.Equal(p.Image, photo.Bytes()) {
					t.Fatalf("lookup in the data directory's registry: %q, %v", p.Image, err)
				}
				if _, err := src.Lookup(context.Background(), id, "李四"); !errors.Is(err, registry.ErrNameMismatch) {
					t.Fatalf("lookup with another name: %v", err)
				}
			}
			for _, w := range tt.wantLog {
				if !strings.Contains(logs.String(), w) {
					t.Errorf("log lacks %q:\n%s", w, logs.String())
				}
			}
			if tt.wantLog == nil && logs.Len() != 0 {
				t.Errorf("unexpected log: %s", logs.String())
			}
		})
	}
}
