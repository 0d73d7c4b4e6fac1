// Package ocvdnn runs ONNX networks through OpenCV's DNN module, by way of
// gocv (OpenCV 4.6 from Debian's libopencv-dev; gocv v0.32.1 is the last
// release that builds against it). It is facekit's only path from Go to
// OpenCV: the package takes float32 tensors in and gives float32 tensors out,
// and knows nothing of faces.
//
// An OpenCV Net is not safe for concurrent Forward calls (it keeps its
// blobs in the Net), so a Model holds a pool of nets, one per concurrent
// call, like the native engine's pool of dlib instances. OpenCV's own
// thread pool is set to one thread, so that parallelism comes from the pool
// (N calls on N cores) and not from OpenCV splitting each small layer
// across threads that the other calls also need.
package ocvdnn

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"

	"gocv.io/x/gocv"
)

// Errors returned by this package; match them with errors.Is.
var (
	// ErrClosed means the model was closed.
	ErrClosed = errors.New("ocvdnn: model closed")
	// ErrShape means an input does not have the model's input shape.
	ErrShape = errors.New("ocvdnn: wrong input shape")
)

// Config describes one ONNX network and how to run it.
type Config struct {
	// Path is the .onnx file.
	Path string
	// Input is the input shape, NCHW with N = 1 (e.g. 1, 3, 112, 112).
	// OpenCV cannot report an ONNX net's input shape and aborts the
	// process (an uncaught C++ exception) on a mismatch, so every input is
	// checked against this shape before it reaches OpenCV.
	Input []int
	// Instances is the number of nets, i.e. of calls that run at once;
	// the CPU count if zero.
	Instances int
}

// Model is a pool of identical nets. It is safe for concurrent use.
type Model struct {
	cfg  Config
	pool chan *gocv.Net
	// outLen is the number of output values, measured at load time.
	outLen int

	mu     sync.Mutex
	all    []*gocv.Net
	closed bool
}

var threadsOnce sync.Once

// singleThread asks OpenCV for one thread per parallel loop. gocv v0.32.0
// (the last release for OpenCV 4.6) has no binding of cv::setNumThreads,
// so it is done the documented other way, OpenCV's OPENCV_FOR_THREADS_NUM,
// which OpenCV reads when its first parallel loop runs; a value the
// operator set is left alone.
func singleThread() {
	if _, ok := os.LookupEnv("OPENCV_FOR_THREADS_NUM"); !ok {
		os.Setenv("OPENCV_FOR_THREADS_NUM", "1")
	}
}

// Open loads cfg.Instances copies of the network and runs each once on
// zeros, which checks that the input shape fits the network.
func Open(cfg Config) (*Model, error) {
	if len(cfg.Input) != 4 || cfg.Input[0] != 1 || slices.Min(cfg.Input) <= 0 {
		return nil, fmt.Errorf("ocvdnn: %s: input shape %v is not [1 C H W]", cfg.Path, cfg.Input)
	}
	// readNetFromONNX throws (and so aborts the process through gocv) on a
	// missing file, so existence is checked here.
	if st, err := os.Stat(cfg.Path); err != nil {
		return nil, fmt.Errorf("ocvdnn: %w", err)
	} else if st.IsDir() {
		return nil, fmt.Errorf("ocvdnn: %s is a directory", cfg.Path)
	}
	threadsOnce.Do(singleThread)
	n := cfg.Instances
	if n <= 0 {
		n = runtime.NumCPU()
	}
	m := &Model{cfg: cfg, pool: make(chan *gocv.Net, n)}
	m.cfg.Input = slices.Clone(cfg.Input)
	zeros := make([]float32, m.inputLen())
	for i := 0; i < n; i++ {
		net := gocv.ReadNetFromONNX(cfg.Path)
		if net.Empty() {
			net.Close()
			m.Close()
			return nil, fmt.Errorf("ocvdnn: %s: OpenCV read no layers", cfg.Path)
		}
		if err := net.SetPreferableBackend(gocv.NetBackendOpenCV); err != nil {
			net.Close()
			m.Close()
			return nil, fmt.Errorf("ocvdnn: %s: %w", cfg.Path, err)
		}
		if err := net.SetPreferableTarget(gocv.NetTargetCPU); err != nil {
			net.Close()
			m.Close()
			return nil, fmt.Errorf("ocvdnn: %s: %w", cfg.Path, err)
		}
		// The first forward call also builds the net's buffers, so the
		// first request does not pay for it.
		out, err := forward(&net, cfg.Input, zeros)
		if err != nil {
			net.Close()
			m.Close()
			return nil, fmt.Errorf("ocvdnn: %s: %w", cfg.Path, err)
		}
		if i == 0 {
			m.outLen = len(out)
		}
		m.mu.Lock()
		m.all = append(m.all, &net)
		m.mu.Unlock()
		m.pool <- &net
	}
	return m, nil
}

func (m *Model) inputLen() int {
	n := 1
	for _, d := range m.cfg.Input {
		n *= d
	}
	return n
}

// Input returns a copy of the input shape.
func (m *Model) Input() []int { return slices.Clone(m.cfg.Input) }

// OutputLen is the number of values Run returns.
func (m *Model) OutputLen() int { return m.outLen }

// Instances is the number of calls that can run at once.
func (m *Model) Instances() int { return cap(m.pool) }

// Run feeds input (the Input shape, row-major) to the net and returns its
// default output, flattened, in Go memory. It waits for a free net or for
// ctx to end.
func (m *Model) Run(ctx context.Context, input []float32) ([]float32, error) {
	if len(input) != m.inputLen() {
		return nil, fmt.Errorf("%w: %d values, %v wants %d", ErrShape, len(input), m.cfg.Input, m.inputLen())
	}
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	var net *gocv.Net
	select {
	case net = <-m.pool:
	case <-ctx.Done():
		return nil, fmt.Errorf("ocvdnn: waiting for a net: %w", ctx.Err())
	}
	defer func() { m.pool <- net }()
	m.mu.Lock()
	closed = m.closed // Close may have run while we waited
	m.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	out, err := forward(net, m.cfg.Input, input)
	if err != nil {
		return nil, fmt.Errorf("ocvdnn: %s: %w", m.cfg.Path, err)
	}
	return out, nil
}

// forward runs one net on one input and copies the output out of OpenCV.
func forward(net *gocv.Net, shape []int, input []float32) ([]float32, error) {
	blob := gocv.NewMatWithSizes(shape, gocv.MatTypeCV32F)
	defer blob.Close()
	dst, err := blob.DataPtrFloat32()
	if err != nil {
		return nil, err
	}
	if len(dst) != len(input) {
		return nil, fmt.Errorf("%w: blob holds %d values, input %d", ErrShape, len(dst), len(input))
	}
	copy(dst, input)
	net.SetInput(blob, "")
	out := net.Forward("")
	defer out.Close()
	if out.Empty() {
		return nil, errors.New("forward gave no output")
	}
	if out.Type() != gocv.MatTypeCV32F {
		return nil, fmt.Errorf("output type %v, want float32", out.Type())
	}
	res := &out
	if !out.IsContinuous() {
		c := out.Clone()
		defer c.Close()
		res = &c
	}
	v, err := res.DataPtrFloat32()
	if err != nil {
		return nil, err
	}
	return slices.Clone(v), nil
}

// Close frees every net. Calls waiting for a net get ErrClosed; it must
// not be called while Run is inside OpenCV. Idempotent.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	for _, net := range m.all {
		net.Close()
	}
	m.all = nil
	return nil
}
