package engine_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/dlib"
	"github.com/facekit/facekit/internal/testenv"
)

// Close while calls are inside dlib: it must wait for them (they hold
// native instances) and free everything afterwards. Before, Close freed the
// instances under the running calls, a use-after-free; TestMain's leak
// check then also sees every handle closed.
func TestCloseWhileCallsRun(t *testing.T) {
	dir := testenv.ModelDir(t)
	before := dlib.LiveHandles()
	e, err := engine.New(engine.Config{ModelDir: dir, PoolSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	// The CNN detector keeps a call in C for seconds; without -short use it,
	// as the shutdown did.
	opts := engine.Options{Descriptors: true, DetectMaxSide: 640}
	if !testing.Short() && e.HasCNN() {
		opts.Detector = engine.DetectorCNN
	}
	img := mustImage(t, "jimin.jpg")
	// Every call that finishes must return exactly this: memory freed under
	// a call would show as a crash or as different numbers.
	want, err := e.Analyze(context.Background(), img, opts)
	if err != nil || len(want) == 0 || !want[0].HasDescriptor {
		t.Fatalf("reference call: %d faces, %v", len(want), err)
	}

	const calls = 4
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	started := make(chan struct{}, calls)
	for range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started <- struct{}{}
			faces, err := e.Analyze(context.Background(), img, opts)
			if err != nil {
				errs <- err
				return
			}
			if len(faces) != len(want) || faces[0].Rect != want[0].Rect || faces[0].Descriptor != want[0].Descriptor {
				errs <- errors.New("a call that finished during Close returned other faces than the reference call")
				return
			}
			errs <- nil
		}()
	}
	for range calls {
		<-started
	}
	time.Sleep(50 * time.Millisecond) // let two calls enter dlib and two wait for an instance
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	ok, closed := 0, 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, engine.ErrClosed):
			closed++
		default:
			t.Errorf("call during Close: %v", err)
		}
	}
	t.Logf("%d calls finished, %d refused as closed (detector %q)", ok, closed, opts.Detector)
	if _, err := e.Analyze(context.Background(), img, opts); !errors.Is(err, engine.ErrClosed) {
		t.Errorf("Analyze after Close: %v, want ErrClosed", err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if n := dlib.LiveHandles(); n != before {
		t.Errorf("%d native handles open after Close, %d before New", n, before)
	}
}

// A request whose client left, or whose deadline passed, does no native
// work: a cancelled context is refused before an instance is taken (the
// old select took a free instance half of the time).
func TestAnalyzeHonoursCancelledContext(t *testing.T) {
	e := mustEngine(t)
	img := mustImage(t, "jimin.jpg")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 20 {
		faces, err := e.Analyze(ctx, img, engine.Options{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("try %d: Analyze with a cancelled context = %d faces, %v; want context.Canceled", i, len(faces), err)
		}
	}
}
