package ocvdnn

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/facekit/facekit/internal/testenv"
)

// eyeModel returns the path of the faceplugin eye-state network (the
// smallest of the package's ONNX files: 24×24 grey in, two logits out),
// skipping the test when the models are not provisioned.
func eyeModel(tb testing.TB) string {
	tb.Helper()
	p := filepath.Join(testenv.ModelDir(tb), "faceplugin", "fr_eye.onnx")
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("%s not provisioned (run `make models`)", p)
	}
	return p
}

// ramp is a deterministic input: a smooth gradient, like an image patch.
func ramp(n int, phase float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(0.5 + 0.5*math.Sin(float64(i)*0.05+phase))
	}
	return v
}

func TestOpenRefusesBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"missing file", Config{Path: filepath.Join(t.TempDir(), "none.onnx"), Input: []int{1, 1, 24, 24}}},
		{"directory", Config{Path: t.TempDir(), Input: []int{1, 1, 24, 24}}},
		{"three dims", Config{Path: "x.onnx", Input: []int{1, 24, 24}}},
		{"batch of two", Config{Path: "x.onnx", Input: []int{2, 1, 24, 24}}},
		{"zero side", Config{Path: "x.onnx", Input: []int{1, 1, 0, 24}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if m, err := Open(tc.cfg); err == nil {
				m.Close()
				t.Fatal("Open succeeded")
			}
		})
	}
}

// TestRunPoolAndClose checks what the pool promises: concurrent calls give
// the same outputs as serial ones (each call has its own net), inputs of
// the wrong length are refused before they reach OpenCV, and Close is
// idempotent and stops later calls.
func TestRunPoolAndClose(t *testing.T) {
	m, err := Open(Config{Path: eyeModel(t), Input: []int{1, 1, 24, 24}, Instances: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.OutputLen() != 2 || m.Instances() != 2 {
		t.Fatalf("OutputLen %d, Instances %d; want 2, 2", m.OutputLen(), m.Instances())
	}
	ctx := context.Background()
	inputs := make([][]float32, 8)
	want := make([][]float32, len(inputs))
	for i := range inputs {
		inputs[i] = ramp(24*24, float64(i))
		if want[i], err = m.Run(ctx, inputs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if same(want[0], want[3]) {
		t.Errorf("different inputs gave the same output %v", want[0])
	}
	var wg sync.WaitGroup
	errs := make([]error, 4*len(inputs))
	for k := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			i := k % len(inputs)
			got, err := m.Run(ctx, inputs[i])
			if err == nil && !same(got, want[i]) {
				err = errors.New("concurrent output differs from the serial one")
			}
			errs[k] = err
		}()
	}
	wg.Wait()
	for k, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v", k, err)
		}
	}

	for _, n := range []int{0, 24*24 - 1, 24*24 + 1} {
		if _, err := m.Run(ctx, make([]float32, n)); !errors.Is(err, ErrShape) {
			t.Errorf("%d values: err %v, want ErrShape", n, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	// Both nets busy: a cancelled caller must not wait for one.
	a, b := <-m.pool, <-m.pool
	if _, err := m.Run(cancelled, inputs[0]); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err %v", err)
	}
	m.pool <- a
	m.pool <- b

	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := m.Run(ctx, inputs[0]); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: err %v, want ErrClosed", err)
	}
}

func same(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
