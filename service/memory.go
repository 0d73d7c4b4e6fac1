package service

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
)

// DefaultLargeImagePixels is where an image starts to count as large: a
// 12 MP phone photo is not, a 40 MP upload at the intake's limit is.
const DefaultLargeImagePixels = 16_000_000

// memoryReturnDelay is how long after the last large image's analysis the
// service hands freed memory back to the OS: long enough for the handler
// to have written its answer and dropped the image.
const memoryReturnDelay = 500 * time.Millisecond

// largeImages bounds the work and memory of large images. A large image
// takes a lane (at most Config.LargeConcurrency at once) before it takes an
// analysis slot, so large uploads never hold every slot: an ordinary
// detect always finds one within a request's time, and at most that many
// large decodes (about 7 bytes a pixel for a PNG, 3 for a JPEG) are alive
// at once. A large image is analysed at a lowered CPU priority
// (lowPriority), so that an ordinary detect sharing a core with it runs at
// nearly full speed. When the last large image is done the freed pages go back to
// the OS (engine.ReleaseMemory): Go's background scavenger would otherwise
// keep them for minutes, and glibc's arenas keep what dlib and OpenCV freed
// for good, so RSS would stay far above baseline after one burst.
type largeImages struct {
	lanes chan struct{}

	mu       sync.Mutex
	inFlight int
	timer    *time.Timer
	// freeOSMemory is engine.ReleaseMemory and run is lowPriority (fields
	// so that tests can count the calls and benchmarks turn them off).
	freeOSMemory func()
	run          func(fn func())
}

func newLargeImages(lanes int) *largeImages {
	return &largeImages{lanes: make(chan struct{}, lanes), freeOSMemory: engine.ReleaseMemory, run: lowPriority}
}

// done ends one large image's analysis; the last one schedules the return
// of memory to the OS.
func (l *largeImages) done() {
	<-l.lanes
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight--
	if l.inFlight > 0 {
		return
	}
	if l.timer != nil {
		l.timer.Stop()
	}
	l.timer = time.AfterFunc(memoryReturnDelay, func() {
		l.mu.Lock()
		idle := l.inFlight == 0
		l.mu.Unlock()
		if idle {
			l.freeOSMemory()
		}
	})
}

// acquireFor takes an analysis slot for the encoded image raw: first a
// large-image lane when its header declares at least
// Config.LargeImagePixels, then a slot, both within QueueTimeout. large
// reports whether it is a large image. Returns ErrBusy like acquire.
func (s *Service) acquireFor(ctx context.Context, raw []byte) (release func(), large bool, err error) {
	w, h, ok := imageio.Dimensions(raw)
	if !ok || int64(w)*int64(h) < s.cfg.LargeImagePixels {
		release, err := s.acquire(ctx)
		return release, false, err
	}
	t := time.NewTimer(s.cfg.QueueTimeout)
	defer t.Stop()
	select {
	case s.large.lanes <- struct{}{}:
	case <-t.C:
		return nil, false, fmt.Errorf("%w: no lane for a %dx%d image within %s", ErrBusy, w, h, s.cfg.QueueTimeout)
	case <-ctx.Done():
		return nil, false, fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	}
	s.large.mu.Lock()
	s.large.inFlight++
	s.large.mu.Unlock()
	// The slot wait has its own QueueTimeout: the lane wait was for
	// other large images, not for the slots.
	slot, err := s.acquire(ctx)
	if err != nil {
		s.large.done()
		return nil, false, err
	}
	return func() {
		slot()
		s.large.done()
	}, true, nil
}
