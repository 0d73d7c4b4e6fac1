package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/facekit/facekit/internal/pgtest"
	"github.com/facekit/facekit/store"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestMoveBetweenBackends moves a library with `facekit export
// --photos --credentials` and `facekit import` from SQLite into
// PostgreSQL and from there into a new SQLite file: groups, users, infos,
// face tokens, descriptors, thumbnails, source crops, the application's
// credentials and every search result are the same in all three.
func TestMoveBetweenBackends(t *testing.T) {
	ctx := context.Background()
	sqliteCfg := func(dir string) Config {
		cfg := defaultConfig()
		cfg.Data = dir
		return cfg
	}
	pgCfg := defaultConfig()
	pgCfg.Data = t.TempDir()
	pgCfg.Library.Backend = backendPostgres
	pgCfg.Library.DSN = pgtest.NewDatabase(t)

	src, err := openLibrary(ctx, sqliteCfg(t.TempDir()), libraryUse{create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	app, secret, err := src.CreateApp(ctx, "kiosk")
	if err != nil {
		t.Fatal(err)
	}
	if err := src.SetAppLimits(ctx, app.ID, 5, 1000); err != nil {
		t.Fatal(err)
	}
	// 3 groups x 40 users x 1-3 faces, distinct vectors; every tenth face
	// has a thumbnail and a source crop.
	var probes []store.Embedding
	for i := range 200 {
		v := make([]float32, 128)
		for j := range v {
			v[j] = float32((i*31+j*7)%97) / 97
		}
		e := store.Embedding{Model: "dlib_resnet_v1", Vector: v}
		probes = append(probes, e)
		f := store.Face{Token: fmt.Sprintf("tok%d", i), Embedding: e}
		if i%10 == 0 {
			f.Thumbnail = []byte{0xff, 0xd8, byte(i), 0xff, 0xd9}
			f.Source = &store.SourceCrop{JPEG: []byte{0xff, 0xd8, byte(i), 1, 0xff, 0xd9}, Landmarks: [][2]float32{{float32(i), 1.5}, {2, 3}}}
		}
		u := store.User{GroupID: fmt.Sprintf("g%d", i%3), UserID: fmt.Sprintf("u%d", i%120), Info: fmt.Sprintf("info %d", i%120)}
		if _, err := src.AddFace(ctx, app.ID, u, f, store.ActionAppend); err != nil {
			t.Fatal(err)
		}
	}
	if err := src.CreateGroup(ctx, app.ID, "empty"); err != nil {
		t.Fatal(err)
	}
	groups := []string{"g0", "g1", "g2", "empty"}

	// move exports lib's application and imports it into the library of
	// cfg (empty: the import creates the application).
	move := func(lib Library, cfg Config) Library {
		t.Helper()
		var buf bytes.Buffer
		if _, err := exportLibrary(ctx, lib, app.ID, exportOptions{photos: true, credentials: true}, &buf); err != nil {
			t.Fatal(err)
		}
		dst, err := openLibrary(ctx, cfg, libraryUse{create: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { dst.Close() })
		n, err := importLibrary(ctx, dst, "", &buf)
		if err != nil {
			t.Fatal(err)
		}
		if n.groups != 4 || n.faces != 200 {
			t.Fatalf("imported %+v", n)
		}
		return dst
	}
	check := func(name string, got Library) {
		t.Run(name, func(t *testing.T) {
			if a, b := dumpLibrary(t, src, app.ID, true), dumpLibrary(t, got, app.ID, true); !reflect.DeepEqual(a, b) {
				t.Fatalf("library differs:\n%v\n%v", a, b)
			}
			a, err := got.AppByKey(ctx, app.APIKey)
			if err != nil || a.ID != app.ID || a.QPS != 5 || a.Quota != 1000 || !got.VerifySecret(a, secret) {
				t.Fatalf("application after the move: %+v, %v", a, err)
			}
			for i, p := range probes {
				want, err1 := src.Search(ctx, app.ID, groups, p, "", 5)
				have, err2 := got.Search(ctx, app.ID, groups, p, "", 5)
				if err1 != nil || err2 != nil || !reflect.DeepEqual(want, have) {
					t.Fatalf("search %d differs:\n%v %v\n%v %v", i, want, err1, have, err2)
				}
			}
		})
	}
	pg := move(src, pgCfg)
	check("SQLiteToPostgres", pg)
	back := move(pg, sqliteCfg(filepath.Join(t.TempDir(), "back")))
	check("PostgresToSQLite", back)
}
