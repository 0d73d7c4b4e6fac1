package engine

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"sync"

	"github.com/facekit/facekit/engine/dlib"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/engine/ssd"
)

// ModelName names the descriptors this engine produces; stored embeddings
// record it so that descriptors of different models are never compared.
const ModelName = "dlib_resnet_v1"

// Model file names inside Config.ModelDir.
const (
	ResNetFile = "dlib_face_recognition_resnet_model_v1.dat"
	MMODFile   = "mmod_human_face_detector.dat"
)

// DefaultShapeModel is where Debian's libdlib-data installs the 68-point
// landmark model.
const DefaultShapeModel = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat"

// ErrModelMissing means a model file is absent; the message names the file
// and the command that fetches it.
var ErrModelMissing = errors.New("engine: model file missing")

// ErrNoLandmarks is returned when an operation needs a face's 68 landmarks
// and the face has none.
var ErrNoLandmarks = errors.New("engine: face has no landmarks")

// Detector selects a face detector.
type Detector string

// The available detectors.
const (
	// DetectorHOG is dlib's HOG + linear SVM frontal detector: fast (tens of
	// ms per VGA photo), frontal faces of about 80 px and larger.
	DetectorHOG Detector = "hog"
	// DetectorCNN is dlib's MMOD CNN detector: robust to pose and lighting,
	// but seconds per photo on a CPU.
	DetectorCNN Detector = "cnn"
	// DetectorAuto is HOG, and the MMOD CNN on a copy of at most
	// cnnFallbackSide px only when HOG finds nothing (so also turned
	// faces, as in the profile test photos, at HOG's cost whenever HOG
	// succeeds). Without the CNN model it is HOG.
	DetectorAuto Detector = "auto"
	// DetectorSSD is the SSD MobileNet v1 face detector of
	// @vladmandic/face-api, run in engine/tfgraph on a 512×512 copy of the
	// photo (see package ssd and docs/detectors.md); its boxes are mapped to
	// HOG's convention. Needs ssd.ManifestFile in the model directory.
	DetectorSSD Detector = "ssd"
)

// cnnFallbackSide bounds the image DetectorAuto's CNN pass sees: the MMOD
// network finds faces down to about 40 px, and costs about 0.7 s at
// 640×480 on one core (seconds at Full HD), so its fallback pass is
// bounded far below DetectMaxSide.
const cnnFallbackSide = 640

// Config configures an Engine.
type Config struct {
	// ModelDir holds ResNetFile and (optionally) MMODFile.
	ModelDir string
	// ShapeModel is the 68-point landmark model; DefaultShapeModel if empty.
	ShapeModel string
	// PoolSize is how many native instances run in parallel; the CPU count
	// if zero.
	PoolSize int
	// Detector is the default detector; DetectorHOG if empty.
	Detector Detector
	// DetectMaxSide bounds the longer side of the image a detector sees,
	// upsampled copies included: larger photos are detected on a shrunk
	// copy (landmarks and descriptors still read the full image), and
	// upsampling stops at this size. DefaultDetectMaxSide if zero.
	DetectMaxSide int
}

// DefaultDetectMaxSide is the default Config.DetectMaxSide. Photos up to
// 2K (Full HD, the common 2048 px web sizes) are detected at their own
// resolution, exactly as dlib would; larger ones on a copy whose longer
// side is 2048 px, where HOG's 80 px window still finds faces of 1/25 of
// the photo's longer side. A 640×480 or 1024×768 photo can still be
// upsampled once. Detection work is bounded by it: a 40-megapixel photo
// costs the same detection time as a 2048×1536 one. (At 1600 px the
// 1800×1200 test photo jimin4.jpg gained a weak false positive, margin
// 0.05, that detection at its own size does not report.)
const DefaultDetectMaxSide = 2048

// Options tune one Analyze call.
type Options struct {
	// Detector overrides the engine's default detector.
	Detector Detector
	// Upsample doubles the image this many times (dlib's pyramid_up, 0–3)
	// before detecting, which finds faces smaller than 80 px; -1 means
	// "once, only if nothing was found at the original size". The doubled
	// copy never exceeds the detection bound (Config.DetectMaxSide): a
	// doubling that would is replaced by a resize to the bound, or skipped
	// when the image is already about that large.
	Upsample int
	// DetectMaxSide, when positive and below the engine's
	// Config.DetectMaxSide, bounds the detector's copy further (see
	// Config.DetectMaxSide); landmarks and descriptors still use the full
	// image. Large photos detect several times faster; faces smaller than
	// ~80 px at the shrunk scale are lost (Upsample recovers some of them).
	DetectMaxSide int
	// MaxFaces keeps only the first MaxFaces faces after sorting (0 = all).
	MaxFaces int
	// SortByCenter orders faces by distance of their centre to the image
	// centre instead of by area, largest first.
	SortByCenter bool
	// Landmarks computes the 68 points and the pose of each face.
	Landmarks bool
	// Descriptors computes each face's descriptor (implies Landmarks).
	Descriptors bool
}

// Engine detects and describes faces. It is safe for concurrent use: each
// call borrows one of PoolSize native instances.
type Engine struct {
	models   *dlib.Models
	pool     chan *dlib.Instance
	all      []*dlib.Instance
	detector Detector
	hasCNN   bool
	ssd      *ssd.Detector // nil when the SSD model is not provisioned

	// closing is closed when Close starts: waiting borrowers give up, and
	// no call takes an instance any more.
	closing   chan struct{}
	closeOnce sync.Once
	maxSide   int // Config.DetectMaxSide
}

// ErrClosed is returned by calls made after Close started.
var ErrClosed = errors.New("engine: closed")

// New loads the models and builds the pool of native instances.
func New(cfg Config) (*Engine, error) {
	shape := cfg.ShapeModel
	if shape == "" {
		shape = DefaultShapeModel
	}
	resnet := filepath.Join(cfg.ModelDir, ResNetFile)
	if err := requireFile(shape, "install Debian's libdlib-data (make setup)"); err != nil {
		return nil, err
	}
	if err := requireFile(resnet, "run `make models`"); err != nil {
		return nil, err
	}
	mmod := filepath.Join(cfg.ModelDir, MMODFile)
	if _, err := os.Stat(mmod); err != nil {
		mmod = "" // the CNN detector is optional
	}
	detector := cfg.Detector
	if detector == "" {
		detector = DetectorHOG
	}
	if detector == DetectorCNN && mmod == "" {
		return nil, fmt.Errorf("%w: %s (needed by the CNN detector; run `make models`)", ErrModelMissing, filepath.Join(cfg.ModelDir, MMODFile))
	}
	if detector != DetectorHOG && detector != DetectorCNN && detector != DetectorAuto && detector != DetectorSSD {
		return nil, fmt.Errorf("engine: unknown detector %q (want auto, hog, cnn or ssd)", detector)
	}
	ssdDet, err := ssd.Load(cfg.ModelDir)
	switch {
	case errors.Is(err, ssd.ErrNotFound) && detector == DetectorSSD:
		return nil, fmt.Errorf("%w: %s (needed by the SSD detector; run `make models`)", ErrModelMissing, filepath.Join(cfg.ModelDir, ssd.ManifestFile))
	case errors.Is(err, ssd.ErrNotFound):
		ssdDet = nil // the SSD detector is optional
	case err != nil:
		return nil, fmt.Errorf("engine: %w", err)
	}
	maxSide := cfg.DetectMaxSide
	if maxSide == 0 {
		maxSide = DefaultDetectMaxSide
	}
	if maxSide < minDetectMaxSide {
		return nil, fmt.Errorf("engine: detect max side %d is below %d px", cfg.DetectMaxSide, minDetectMaxSide)
	}
	n := cfg.PoolSize
	if n <= 0 {
		n = runtime.NumCPU()
	}
	models, err := dlib.LoadModels(shape)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	e := &Engine{models: models, pool: make(chan *dlib.Instance, n), detector: detector, hasCNN: mmod != "", ssd: ssdDet, closing: make(chan struct{}), maxSide: maxSide}
	for i := 0; i < n; i++ {
		in, err := dlib.NewInstance(models, resnet, mmod)
		if err != nil {
			e.Close()
			return nil, fmt.Errorf("engine: instance %d: %w", i, err)
		}
		e.all = append(e.all, in)
		e.pool <- in
	}
	return e, nil
}

func requireFile(path, fix string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%w: %s (%s)", ErrModelMissing, path, fix)
	}
	return nil
}

// Close frees every native instance. Calls in flight keep theirs until they
// return (native work cannot be interrupted), so Close first takes every
// instance back from the pool, waiting for those calls; calls still waiting
// for an instance, and calls made later, fail with ErrClosed. Freeing an
// instance a call still holds would be a use-after-free inside dlib.
// Idempotent; safe to call concurrently with Analyze and Describe.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		close(e.closing)
		for range e.all {
			in := <-e.pool
			in.Close()
		}
		e.all = nil
		if e.models != nil {
			e.models.Close()
		}
	})
	return nil
}

// ReleaseMemory hands memory freed since the last call back to the OS:
// the Go heap's free pages (debug.FreeOSMemory, which also collects
// garbage) and the C heap's, where dlib and OpenCV allocate (glibc keeps
// those in its arenas otherwise). It is process-wide and costs a full
// garbage collection, so call it after a burst of large images, not per
// request.
func ReleaseMemory() {
	debug.FreeOSMemory()
	dlib.TrimMemory()
}

// PoolSize is the number of calls that can run natively at once.
func (e *Engine) PoolSize() int { return cap(e.pool) }

// DetectMaxSide is the bound on the longer side of the detector's image.
func (e *Engine) DetectMaxSide() int { return e.maxSide }

// HasCNN reports whether the CNN detector is available.
func (e *Engine) HasCNN() bool { return e.hasCNN }

// HasSSD reports whether the SSD detector is available.
func (e *Engine) HasSSD() bool { return e.ssd != nil }

// borrow waits for a free native instance, for ctx to end or for Close.
// The caller gives the instance back with giveBack.
func (e *Engine) borrow(ctx context.Context) (*dlib.Instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	select {
	case <-e.closing:
		return nil, ErrClosed
	default:
	}
	select {
	case in := <-e.pool:
		select {
		case <-e.closing: // Close started while we waited: it needs this one back
			e.pool <- in
			return nil, ErrClosed
		default:
		}
		return in, nil
	case <-e.closing:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, fmt.Errorf("engine: waiting for a native instance: %w", ctx.Err())
	}
}

// stageDone reports a cancelled or expired ctx between native stages: each
// stage runs to its end in C, but a request whose client left or whose
// deadline passed does not start the next one.
func stageDone(ctx context.Context, next string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("engine: before %s: %w", next, err)
	}
	return nil
}

// Analyze detects the faces in img and, as opts asks, their landmarks, pose
// and descriptors. No face is an empty result, not an error.
func (e *Engine) Analyze(ctx context.Context, img image.Image, opts Options) ([]Face, error) {
	detector := opts.Detector
	if detector == "" {
		detector = e.detector
	}
	kind, fallback := dlib.HOG, false
	switch detector {
	case DetectorHOG:
	case DetectorAuto:
		fallback = e.hasCNN
	case DetectorCNN:
		if !e.hasCNN {
			return nil, fmt.Errorf("%w: %s (needed by the CNN detector; run `make models`)", ErrModelMissing, MMODFile)
		}
		kind = dlib.CNN
	case DetectorSSD:
		if e.ssd == nil {
			return nil, fmt.Errorf("%w: %s (needed by the SSD detector; run `make models`)", ErrModelMissing, ssd.ManifestFile)
		}
	default:
		return nil, fmt.Errorf("engine: unknown detector %q", detector)
	}
	rgb := toRGB(img)
	in, err := e.borrow(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { e.pool <- in }()

	bound := e.maxSide
	if opts.DetectMaxSide > 0 {
		bound = min(bound, max(opts.DetectMaxSide, minDetectMaxSide))
	}
	var dets []dlib.Detection
	if detector == DetectorSSD {
		// The network sees a 512×512 copy whatever the photo's size, so
		// DetectMaxSide and Upsample do not apply.
		ds, err := e.ssd.Detect(rgb.Pix, rgb.Stride, rgb.Width, rgb.Height, 0)
		if err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
		faces := make([]Face, len(ds))
		for i, d := range ds {
			faces[i] = Face{Rect: ssdToHOGBox(d.Rect), Confidence: d.Score, Probability: d.Score}
		}
		return e.finish(ctx, in, rgb, faces, opts)
	}
	dets, err = detect(ctx, in, rgb, kind, opts.Upsample, bound)
	if err != nil {
		return nil, err
	}
	if len(dets) == 0 && fallback {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
		kind = dlib.CNN
		if dets, err = detect(ctx, in, rgb, kind, 0, min(bound, cnnFallbackSide)); err != nil {
			return nil, err
		}
	}
	if kind == dlib.CNN {
		for i := range dets {
			dets[i].Rect = cnnToHOGBox(dets[i].Rect)
		}
	}
	faces := make([]Face, len(dets))
	for i, d := range dets {
		faces[i] = Face{Rect: d.Rect, Confidence: d.Confidence, Probability: probability(kind, d.Confidence)}
	}
	return e.finish(ctx, in, rgb, faces, opts)
}

// finish sorts and trims the detected faces and adds landmarks, pose and
// descriptors as opts asks.
func (e *Engine) finish(ctx context.Context, in *dlib.Instance, rgb *dlib.RGB, faces []Face, opts Options) ([]Face, error) {
	sortFaces(faces, rgb.Width, rgb.Height, opts.SortByCenter)
	if opts.MaxFaces > 0 && len(faces) > opts.MaxFaces {
		faces = faces[:opts.MaxFaces]
	}
	if len(faces) == 0 || !(opts.Landmarks || opts.Descriptors) {
		return faces, nil
	}
	if err := stageDone(ctx, "landmarks"); err != nil {
		return nil, err
	}
	boxes := make([]image.Rectangle, len(faces))
	for i := range faces {
		boxes[i] = faces[i].Rect
	}
	shapes, err := in.Landmarks(rgb, boxes)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	for i := range faces {
		faces[i].Landmarks = shapes[i]
		if pose, err := EstimatePose(shapes[i], rgb.Width, rgb.Height); err == nil {
			faces[i].Pose = pose
		}
	}
	if !opts.Descriptors {
		return faces, nil
	}
	if err := stageDone(ctx, "descriptors"); err != nil {
		return nil, err
	}
	descs, err := in.Describe(rgb, shapes, 0)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	for i := range faces {
		faces[i].Descriptor = descs[i]
		faces[i].HasDescriptor = true
	}
	return faces, nil
}

// detect runs one detector on a copy of rgb bounded to bound px (upsampled
// as upsample says, see Options.Upsample, but never past bound) and
// returns the boxes in rgb's coordinates.
func detect(ctx context.Context, in *dlib.Instance, rgb *dlib.RGB, kind dlib.DetectorKind, upsample, bound int) ([]dlib.Detection, error) {
	small, scale := downscale(rgb, bound)
	dets, err := in.Detect(small, kind, upsamplePlan(small.Width, small.Height, max(upsample, 0), bound))
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	if retry := upsamplePlan(small.Width, small.Height, 1, bound); len(dets) == 0 && upsample < 0 && retry != (dlib.Upsample{}) {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
		if dets, err = in.Detect(small, kind, retry); err != nil {
			return nil, fmt.Errorf("engine: %w", err)
		}
	}
	if scale != 1 {
		for i := range dets {
			r := dets[i].Rect
			dets[i].Rect = image.Rect(int(float64(r.Min.X)*scale), int(float64(r.Min.Y)*scale),
				int(float64(r.Max.X)*scale), int(float64(r.Max.Y)*scale)).Intersect(image.Rect(-rgb.Width, -rgb.Height, 2*rgb.Width, 2*rgb.Height))
		}
	}
	return dets, nil
}

// Describe computes descriptors for faces that already have landmarks
// (e.g. faces selected after a cheaper first pass).
func (e *Engine) Describe(ctx context.Context, img image.Image, faces []Face) error {
	shapes := make([][]image.Point, len(faces))
	for i, f := range faces {
		if len(f.Landmarks) != 68 {
			return fmt.Errorf("engine: describe face %d: %w", i, ErrNoLandmarks)
		}
		shapes[i] = f.Landmarks
	}
	if len(shapes) == 0 {
		return nil
	}
	rgb := toRGB(img)
	in, err := e.borrow(ctx)
	if err != nil {
		return err
	}
	defer func() { e.pool <- in }()
	descs, err := in.Describe(rgb, shapes, 0)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	for i := range faces {
		faces[i].Descriptor = descs[i]
		faces[i].HasDescriptor = true
	}
	return nil
}

// Chip returns the size×size aligned crop of a face with landmarks; size 150
// and padding 0.25 is exactly what the descriptor network sees.
func Chip(img image.Image, f Face, size int, padding float64) (*imageio.Image, error) {
	if len(f.Landmarks) != 68 {
		return nil, fmt.Errorf("engine: chip: %w", ErrNoLandmarks)
	}
	c, err := dlib.Chip(toRGB(img), f.Landmarks, size, padding)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	return &imageio.Image{Pix: c.Pix, Stride: c.Stride, Width: c.Width, Height: c.Height, Orientation: 1}, nil
}

// probability maps a detector score to 0..1 with a logistic curve centred
// on the detector's decision boundary (score 0 → 0.5). dlib only reports
// detections above the boundary, so reported faces score above 0.5.
func probability(kind dlib.DetectorKind, score float64) float64 {
	k := 3.0 // HOG SVM margins of clear faces are ~0.5–3
	if kind == dlib.CNN {
		k = 2.0 // MMOD scores of clear faces are ~0.5–1.5+
	}
	return 1 / (1 + math.Exp(-k*score))
}

// sortFaces orders by area (largest first) or by closeness to the image
// centre, breaking ties by position so the order is deterministic.
func sortFaces(faces []Face, w, h int, byCenter bool) {
	cx, cy := float64(w)/2, float64(h)/2
	centreDist := func(r image.Rectangle) float64 {
		x := float64(r.Min.X+r.Max.X)/2 - cx
		y := float64(r.Min.Y+r.Max.Y)/2 - cy
		return x*x + y*y
	}
	sort.SliceStable(faces, func(i, j int) bool {
		a, b := faces[i].Rect, faces[j].Rect
		if byCenter {
			if da, db := centreDist(a), centreDist(b); da != db {
				return da < db
			}
		} else if aa, ab := a.Dx()*a.Dy(), b.Dx()*b.Dy(); aa != ab {
			return aa > ab
		}
		if a.Min.Y != b.Min.Y {
			return a.Min.Y < b.Min.Y
		}
		return a.Min.X < b.Min.X
	})
}

// toRGB returns img as a packed RGB buffer, without copying when img is
// already an *imageio.Image.
func toRGB(img image.Image) *dlib.RGB {
	if m, ok := img.(*imageio.Image); ok {
		return &dlib.RGB{Pix: m.Pix, Width: m.Width, Height: m.Height, Stride: m.Stride}
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := &dlib.RGB{Pix: make([]byte, w*h*3), Width: w, Height: h, Stride: w * 3}
	switch m := img.(type) {
	case *image.RGBA:
		for y := 0; y < h; y++ {
			src := m.Pix[(y)*m.Stride : (y)*m.Stride+w*4]
			dst := out.Pix[y*out.Stride:]
			for x := 0; x < w; x++ {
				dst[3*x], dst[3*x+1], dst[3*x+2] = src[4*x], src[4*x+1], src[4*x+2]
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			src := m.Pix[y*m.Stride : y*m.Stride+w]
			dst := out.Pix[y*out.Stride:]
			for x, v := range src {
				dst[3*x], dst[3*x+1], dst[3*x+2] = v, v, v
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				o := y*out.Stride + 3*x
				out.Pix[o], out.Pix[o+1], out.Pix[o+2] = uint8(r>>8), uint8(g>>8), uint8(bl>>8)
			}
		}
	}
	return out
}
