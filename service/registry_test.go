package service

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/facekit/facekit/internal/standin"
	"github.com/facekit/facekit/internal/testenv"
	"github.com/facekit/facekit/store/registry"
	"github.com/facekit/facekit/store/sqlite"
)

// oneRegistry holds one registered photo.
type oneRegistry []byte

func (r oneRegistry) Lookup(_ context.Context, id, name string) (registry.Photo, error) {
	return registry.Photo{IDNumber: id, Name: name, Image: r}, nil
}

// Only a photo that is not an image, or shows no face, is "unusable"
// (Baidu 222350 "police picture is none or low quality"); a cancelled
// request or a failing model is not the photo's fault (issue 13: every
// non-busy error became 222350).
func TestRegistryFaceErrors(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name     string
		photo    []byte
		ctx      context.Context
		unusable bool
		also     error
	}{
		{"NotAnImageIsUnusable", []byte("hello, no picture here"), context.Background(), true, nil},
		// The stand-in engine fails whenever it is reached, as a broken
		// model would.
		{"ModelFailureIsNot", testenv.BlankPNG(t, 200, 240), context.Background(), false, nil},
		// With a cancelled context the slot wait may still take a free slot
		// (select picks at random) and reach the engine, so only "not the
		// photo's fault" is certain here.
		{"CancelledIsNot", testenv.BlankPNG(t, 200, 240), cancelled, false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db, err := sqlite.Open(filepath.Join(t.TempDir(), "t.db"), sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			s, err := New(Config{}, Deps{Engine: standin.Engine{Pool: 1}, Descriptor: standin.Describer{},
				Library: db, Searcher: db, Apps: db, FaceTokens: db, Registry: oneRegistry(tc.photo)})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.RegistryFace(tc.ctx, "app", "110105190001010011", "张三")
			if err == nil {
				t.Fatal("RegistryFace succeeded")
			}
			if got := errors.Is(err, registry.ErrPhotoUnusable); got != tc.unusable {
				t.Fatalf("RegistryFace: %v; photo unusable = %v, want %v", err, got, tc.unusable)
			}
			if tc.also != nil && !errors.Is(err, tc.also) {
				t.Fatalf("RegistryFace: %v, want it to wrap %v", err, tc.also)
			}
		})
	}
}
