// Package testenv finds the real photos and models that tests run on. Both
// are provisioned outside the repository (never committed): photos from
// $FACEKIT_TESTDATA or ../shared/testdata, models from $FACEKIT_MODEL_DIR or
// models/data (filled by `make models`).
package testenv

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/internal/missing"
)

// RepoRoot returns the directory holding go.mod, walking up from the
// working directory (go test runs in the package directory).
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatalf("testenv: no go.mod above the working directory")
		}
		dir = parent
	}
}

// TestData returns the shared test-photo directory (with faces/, lfw/,
// spoof-nuaa/), skipping the test when it is not provisioned (failing it
// in CI, see internal/missing).
func TestData(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("FACEKIT_TESTDATA")
	if dir == "" {
		dir = filepath.Join(RepoRoot(tb), "..", "shared", "testdata")
	}
	if _, err := os.Stat(filepath.Join(dir, "faces")); err != nil {
		missing.Data(tb, missing.TestData, "test photos not found at %s", dir)
	}
	return dir
}

// Face returns the path of one photo of testdata/faces, e.g. Face(t, "jimin.jpg").
func Face(tb testing.TB, name string) string {
	tb.Helper()
	return filepath.Join(TestData(tb), "faces", name)
}

// ModelDir returns the directory with the model files, skipping the test
// when the dlib ResNet model is not there (run `make models`).
func ModelDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("FACEKIT_MODEL_DIR")
	if dir == "" {
		dir = filepath.Join(RepoRoot(tb), "models", "data")
	}
	if _, err := os.Stat(filepath.Join(dir, "dlib_face_recognition_resnet_model_v1.dat")); err != nil {
		missing.Data(tb, missing.ModelDir, "models not found in %s (run `make models`)", dir)
	}
	return dir
}

var (
	sharedEngine *engine.Engine
	engineOnce   sync.Once
	engineErr    error
)

// Engine returns the test binary's one engine (loading the 100 MB landmark
// model takes about a second, so tests share it), skipping the test when
// the models are not provisioned. Nobody closes it: it lives as long as
// the test binary.
func Engine(tb testing.TB) *engine.Engine {
	tb.Helper()
	dir := ModelDir(tb)
	engineOnce.Do(func() {
		sharedEngine, engineErr = engine.New(engine.Config{ModelDir: dir, PoolSize: 2})
	})
	if engineErr != nil {
		tb.Fatalf("testenv: engine.New: %v", engineErr)
	}
	return sharedEngine
}

// Photo returns the bytes of one photo of testdata/faces, skipping the test
// when the photo set is not provisioned.
func Photo(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(Face(tb, name))
	if errors.Is(err, os.ErrNotExist) {
		missing.Data(tb, missing.TestData, "test photo %s not present", name)
	}
	if err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	return data
}

// BlankPNG returns a w×h PNG of a smooth colour ramp: a valid image in which
// no detector finds a face.
func BlankPNG(tb testing.TB, w, h int) []byte {
	tb.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 120, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatalf("testenv: %v", err)
	}
	return b.Bytes()
}
