package service

import (
	"context"
	"errors"
	"image"
	"path/filepath"
	"testing"
	"time"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/internal/standin"
	"github.com/facekit/facekit/internal/testenv"
	"github.com/facekit/facekit/store/sqlite"
)

// TestLargeImageLanes: large images take a lane before a slot, so with two
// slots and one lane a second large image waits (here: is refused as busy)
// while an ordinary image still gets the free slot; when the last large
// image is done, freed memory goes back to the OS once.
func TestLargeImageLanes(t *testing.T) {
	s := mustOpenService(t, Config{Concurrency: 2, LargeConcurrency: 1, LargeImagePixels: 200 * 240, QueueTimeout: 50 * time.Millisecond})
	freed := make(chan struct{}, 4)
	s.large.freeOSMemory = func() { freed <- struct{}{} }
	ctx := context.Background()
	large, small := testenv.BlankPNG(t, 200, 240), testenv.BlankPNG(t, 100, 100)

	release, isLarge, err := s.acquireFor(ctx, large)
	if err != nil || !isLarge {
		t.Fatalf("large image: large=%v, %v", isLarge, err)
	}
	if _, _, err := s.acquireFor(ctx, large); !errors.Is(err, ErrBusy) {
		t.Fatalf("second large image: %v, want ErrBusy while the only lane is taken", err)
	}
	releaseSmall, isLarge, err := s.acquireFor(ctx, small)
	if err != nil || isLarge {
		t.Fatalf("ordinary image while a large one runs: large=%v, %v", isLarge, err)
	}
	releaseSmall()
	select {
	case <-freed:
		t.Fatal("memory returned while a large image is still analysed")
	case <-time.After(2 * memoryReturnDelay):
	}
	release()
	select {
	case <-freed:
	case <-time.After(10 * memoryReturnDelay):
		t.Fatal("memory not returned to the OS after the last large image")
	}
	// The lane is free again.
	r, _, err := s.acquireFor(ctx, large)
	if err != nil {
		t.Fatalf("large image after the first finished: %v", err)
	}
	r()
}

// panickingEngine is an engine whose analysis panics.
type panickingEngine struct{}

func (panickingEngine) Analyze(context.Context, image.Image, engine.Options) ([]engine.Face, error) {
	panic("analysis failed")
}
func (panickingEngine) PoolSize() int { return 1 }

// TestPanicReleasesSlot: an analysis that panics, of an ordinary or a
// large image (which runs on a thread of its own), hands the panic to the
// caller and still gives its slot and lane back.
func TestPanicReleasesSlot(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "t.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := New(Config{Concurrency: 1, LargeImagePixels: 200 * 240, QueueTimeout: 50 * time.Millisecond},
		Deps{Engine: panickingEngine{}, Descriptor: standin.Describer{}, Library: db, Searcher: db, Apps: db, FaceTokens: db})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		img  []byte
	}{{"Ordinary", testenv.BlankPNG(t, 100, 100)}, {"Large", testenv.BlankPNG(t, 200, 240)}} {
		t.Run(tt.name, func(t *testing.T) {
			func() {
				defer func() {
					if r := recover(); r != "analysis failed" {
						t.Fatalf("recovered %v, want the engine's panic", r)
					}
				}()
				s.DetectFaces(context.Background(), "app", ImageSource{Kind: ImageBytes, Bytes: tt.img}, DetectOptions{})
			}()
			release, _, err := s.acquireFor(context.Background(), tt.img)
			if err != nil {
				t.Fatalf("slot after the panic: %v", err)
			}
			release()
		})
	}
}
