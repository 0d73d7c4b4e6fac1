package eval

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
)

// How a face's landmarks were found.
const (
	FoundHOG    = "hog"    // HOG detector (upsampled once when needed)
	FoundCNN    = "cnn"    // MMOD CNN detector, after HOG found nothing
	FoundCentre = "centre" // no detector found a face: the mean landmark layout of the detected images, scaled to this image
)

// FaceRecord is the face an image contributes to the evaluation: the one
// nearest the image centre.
type FaceRecord struct {
	Image     string   `json:"image"`
	How       string   `json:"how"`
	Rect      [4]int   `json:"rect"`
	Landmarks [][2]int `json:"landmarks"`
	Width     int      `json:"w"`
	Height    int      `json:"h"`
}

// Face converts the record to the engine's type.
func (r FaceRecord) Face() engine.Face {
	f := engine.Face{Rect: image.Rect(r.Rect[0], r.Rect[1], r.Rect[2], r.Rect[3])}
	f.Landmarks = make([]image.Point, len(r.Landmarks))
	for i, p := range r.Landmarks {
		f.Landmarks[i] = image.Pt(p[0], p[1])
	}
	return f
}

// Embedder computes, for every image, the central face's landmarks and each
// describer's descriptor, across Workers goroutines. With a CacheDir,
// results are appended to JSON-lines files as they are computed (faces.jsonl
// and one file per model and configuration), so an interrupted run resumes
// and a repeated run only reads. The cache is keyed by image path: clear it
// if the images change.
type Embedder struct {
	Engine     *engine.Engine
	Describers []descriptor.Describer
	ImagesDir  string
	CacheDir   string
	// Workers defaults to the engine's pool size: one per native instance.
	Workers int
	// Progress receives a one-line progress bar, redrawn in place.
	Progress io.Writer
	// TimeFaces is how many faces are described once more, one at a time,
	// to measure each model's latency (0 = 20).
	TimeFaces int
	// Single keeps only images in which the detectors find exactly one
	// face; the others are listed in Embeddings.Skipped instead of being
	// given the central face. A labelled photo tree needs this: which face
	// of a group photo is the labelled person is unknown, and a server
	// would compare the largest one.
	Single bool
	// Detector chooses how faces are found: "" or engine.DetectorAuto is
	// HOG (upsampled once when needed), then the MMOD CNN when HOG finds
	// nothing; any other detector runs alone, and images it misses get the
	// mean landmark layout (FoundCentre). Give each detector its own
	// CacheDir: the cache is keyed by image path.
	Detector engine.Detector
}

// Why an image was skipped in Single mode.
const (
	SkipNoFace  = "no face"
	SkipSeveral = "several faces"
)

// Embeddings is an Embedder's result.
type Embeddings struct {
	Faces   map[string]FaceRecord
	Vectors map[string]map[string][]float32 // model → image → descriptor
	// Found counts images by how their face was found (FoundHOG, ...).
	Found map[string]int
	// MsPerFace is each model's mean latency of one Describe call, measured
	// serially after the pass.
	MsPerFace map[string]float64
	// Skipped maps the images left out in Single mode to why (SkipNoFace,
	// SkipSeveral).
	Skipped map[string]string
}

// Versioned describers tell the cache apart when their input preparation
// changes under the same model name.
type versioned interface{ Version() string }

func cacheName(d descriptor.Describer) string {
	v := "v1"
	if x, ok := d.(versioned); ok {
		v = x.Version()
	}
	return d.Name() + "-" + v + ".jsonl"
}

// faceCacheName is the faces file of the cache. Single mode keeps its own:
// there a group photo is skipped, elsewhere it gives its central face.
func (e *Embedder) faceCacheName() string {
	if e.Single {
		return "faces-single.jsonl"
	}
	return "faces.jsonl"
}

type vecRecord struct {
	Image  string    `json:"image"`
	Vector []float32 `json:"v"`
}

// Run computes (or reads from the cache) the faces and descriptors of
// images, paths relative to ImagesDir.
func (e *Embedder) Run(ctx context.Context, images []string) (*Embeddings, error) {
	if e.Engine == nil {
		return nil, errors.New("eval: embedder needs an engine")
	}
	res := &Embeddings{Faces: map[string]FaceRecord{}, Vectors: map[string]map[string][]float32{}, Found: map[string]int{}, MsPerFace: map[string]float64{}, Skipped: map[string]string{}}
	var faceLog *appendLog
	vecLogs := make([]*appendLog, len(e.Describers))
	for i, d := range e.Describers {
		res.Vectors[d.Name()] = map[string][]float32{}
		if e.CacheDir == "" {
			continue
		}
		l, err := openLog(filepath.Join(e.CacheDir, cacheName(d)), func(dec *json.Decoder) error {
			var r vecRecord
			if err := dec.Decode(&r); err != nil {
				return err
			}
			if len(r.Vector) == d.Dim() {
				res.Vectors[d.Name()][r.Image] = r.Vector
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		defer l.Close()
		vecLogs[i] = l
	}
	if e.CacheDir != "" {
		l, err := openLog(filepath.Join(e.CacheDir, e.faceCacheName()), func(dec *json.Decoder) error {
			var r FaceRecord
			if err := dec.Decode(&r); err != nil {
				return err
			}
			if e.Single && (r.How == SkipNoFace || r.How == SkipSeveral) {
				res.Skipped[r.Image] = r.How
				return nil
			}
			if len(r.Landmarks) == 68 {
				res.Faces[r.Image] = r
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		defer l.Close()
		faceLog = l
	}

	var mu sync.Mutex // guards res while workers run
	need := func(im string) bool {
		mu.Lock()
		defer mu.Unlock()
		if _, skip := res.Skipped[im]; skip {
			return false
		}
		if _, ok := res.Faces[im]; !ok {
			return true
		}
		for _, d := range e.Describers {
			if _, ok := res.Vectors[d.Name()][im]; !ok {
				return true
			}
		}
		return false
	}
	var todo []string
	for _, im := range images {
		if need(im) {
			todo = append(todo, im)
		}
	}

	// describe fills in the missing descriptors of one image's face.
	describe := func(ctx context.Context, im string, img *imageio.Image, rec FaceRecord) error {
		for i, d := range e.Describers {
			mu.Lock()
			_, have := res.Vectors[d.Name()][im]
			mu.Unlock()
			if have {
				continue
			}
			v, err := d.Describe(ctx, img, rec.Face())
			if err != nil {
				return fmt.Errorf("eval: %s: %s: %w", im, d.Name(), err)
			}
			mu.Lock()
			res.Vectors[d.Name()][im] = v
			mu.Unlock()
			if vecLogs[i] != nil {
				if err := vecLogs[i].Append(vecRecord{Image: im, Vector: v}); err != nil {
					return err
				}
			}
		}
		return nil
	}

	bar := newProgress(e.Progress, "describing", len(todo))
	var deferred []string // images where no detector found a face
	err := e.parallel(ctx, todo, func(ctx context.Context, im string) error {
		defer bar.Add(1)
		img, err := e.load(im)
		if err != nil {
			return err
		}
		mu.Lock()
		rec, have := res.Faces[im]
		mu.Unlock()
		if !have {
			rec, have, err = e.detect(ctx, im, img)
			if err != nil {
				return err
			}
			if e.Single && !have {
				mu.Lock()
				res.Skipped[im] = rec.How
				mu.Unlock()
				if faceLog != nil {
					return faceLog.Append(FaceRecord{Image: im, How: rec.How})
				}
				return nil
			}
			if !have {
				mu.Lock()
				deferred = append(deferred, im)
				mu.Unlock()
				return nil
			}
			mu.Lock()
			res.Faces[im] = rec
			mu.Unlock()
			if faceLog != nil {
				if err := faceLog.Append(rec); err != nil {
					return err
				}
			}
		}
		return describe(ctx, im, img, rec)
	})
	bar.Done()
	if err != nil {
		return nil, err
	}

	if len(deferred) > 0 {
		mean, err := meanLayout(res.Faces)
		if err != nil {
			return nil, err
		}
		for _, im := range deferred {
			img, err := e.load(im)
			if err != nil {
				return nil, err
			}
			rec := centreFace(im, img.Width, img.Height, mean)
			res.Faces[im] = rec
			if faceLog != nil {
				if err := faceLog.Append(rec); err != nil {
					return nil, err
				}
			}
			if err := describe(ctx, im, img, rec); err != nil {
				return nil, err
			}
		}
	}
	for _, im := range images {
		if why, skip := res.Skipped[im]; skip {
			res.Found[why]++
			continue
		}
		res.Found[res.Faces[im].How]++
	}
	if err := e.time(ctx, images, res); err != nil {
		return nil, err
	}
	return res, nil
}

// parallel runs fn over items on Workers goroutines, stopping at the first
// error.
func (e *Embedder) parallel(ctx context.Context, items []string, fn func(context.Context, string) error) error {
	n := e.Workers
	if n <= 0 {
		n = e.Engine.PoolSize()
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan string)
	var wg sync.WaitGroup
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for im := range work {
				if err := fn(ctx, im); err != nil {
					cancel(err)
				}
			}
		}()
	}
feed:
	for _, im := range items {
		select {
		case work <- im:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	} else if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	return nil
}

func (e *Embedder) load(im string) (*imageio.Image, error) {
	p := im
	if !filepath.IsAbs(p) {
		p = filepath.Join(e.ImagesDir, im)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	img, err := imageio.Decode(data, imageio.DefaultLimits())
	if err != nil {
		return nil, fmt.Errorf("eval: %s: %w", p, err)
	}
	return img, nil
}

// detect finds the face nearest the image centre: HOG (upsampled once if
// needed), then the CNN detector when the engine has it, or e.Detector
// alone. In Single mode it
// finds every face and reports false, with How saying why, unless there is
// exactly one.
func (e *Embedder) detect(ctx context.Context, im string, img *imageio.Image) (FaceRecord, bool, error) {
	opts := engine.Options{Detector: engine.DetectorHOG, Upsample: -1, Landmarks: true, SortByCenter: true, MaxFaces: 1}
	if e.Single {
		opts.MaxFaces = 0
	}
	how := FoundHOG
	fallback := e.Detector == "" || e.Detector == engine.DetectorAuto
	if !fallback {
		opts.Detector, how = e.Detector, string(e.Detector)
	}
	faces, err := e.Engine.Analyze(ctx, img, opts)
	if err == nil && len(faces) == 0 && fallback && e.Engine.HasCNN() {
		opts.Detector, how = engine.DetectorCNN, FoundCNN
		faces, err = e.Engine.Analyze(ctx, img, opts)
	}
	if err != nil {
		return FaceRecord{}, false, fmt.Errorf("eval: %s: %w", im, err)
	}
	switch {
	case e.Single && len(faces) == 0:
		return FaceRecord{How: SkipNoFace}, false, nil
	case e.Single && len(faces) > 1:
		return FaceRecord{How: SkipSeveral}, false, nil
	case len(faces) == 0 || len(faces[0].Landmarks) != 68:
		return FaceRecord{How: SkipNoFace}, false, nil
	}
	f := faces[0]
	rec := FaceRecord{Image: im, How: how, Rect: [4]int{f.Rect.Min.X, f.Rect.Min.Y, f.Rect.Max.X, f.Rect.Max.Y}, Width: img.Width, Height: img.Height}
	for _, p := range f.Landmarks {
		rec.Landmarks = append(rec.Landmarks, [2]int{p.X, p.Y})
	}
	return rec, true, nil
}

// meanLayout is the mean landmark position, relative to image size, of the
// detected faces. LFW images are centred on the face at a fixed scale, so
// this is where the face is when the detectors miss it.
func meanLayout(faces map[string]FaceRecord) ([68][2]float64, error) {
	var sum [68][2]float64
	var n int
	for _, r := range faces {
		if r.How == FoundCentre || r.Width == 0 || r.Height == 0 {
			continue
		}
		for i, p := range r.Landmarks {
			sum[i][0] += float64(p[0]) / float64(r.Width)
			sum[i][1] += float64(p[1]) / float64(r.Height)
		}
		n++
	}
	if n == 0 {
		return sum, fmt.Errorf("eval: no face found in any image, cannot place a central face")
	}
	for i := range sum {
		sum[i][0] /= float64(n)
		sum[i][1] /= float64(n)
	}
	return sum, nil
}

func centreFace(im string, w, h int, mean [68][2]float64) FaceRecord {
	rec := FaceRecord{Image: im, How: FoundCentre, Width: w, Height: h}
	x0, y0, x1, y1 := w, h, 0, 0
	for _, p := range mean {
		x, y := int(p[0]*float64(w)+0.5), int(p[1]*float64(h)+0.5)
		rec.Landmarks = append(rec.Landmarks, [2]int{x, y})
		x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
	}
	rec.Rect = [4]int{x0, y0, x1, y1}
	return rec
}

// time measures each model's latency on up to TimeFaces faces, one call at
// a time, so the figure does not depend on the cache or on the pass's
// concurrency.
func (e *Embedder) time(ctx context.Context, images []string, res *Embeddings) error {
	n := e.TimeFaces
	if n <= 0 {
		n = 20
	}
	var imgs []*imageio.Image
	var recs []FaceRecord
	for _, im := range images {
		if len(imgs) == n {
			break
		}
		rec, ok := res.Faces[im]
		if !ok || rec.How == FoundCentre {
			continue
		}
		img, err := e.load(im)
		if err != nil {
			return err
		}
		imgs, recs = append(imgs, img), append(recs, rec)
	}
	if len(imgs) == 0 {
		return nil
	}
	for _, d := range e.Describers {
		// One untimed call loads lazily initialised state.
		if _, err := d.Describe(ctx, imgs[0], recs[0].Face()); err != nil {
			return fmt.Errorf("eval: timing %s: %w", d.Name(), err)
		}
		start := time.Now()
		for i := range imgs {
			if _, err := d.Describe(ctx, imgs[i], recs[i].Face()); err != nil {
				return fmt.Errorf("eval: timing %s: %w", d.Name(), err)
			}
		}
		res.MsPerFace[d.Name()] = float64(time.Since(start).Microseconds()) / 1000 / float64(len(imgs))
	}
	return nil
}

// appendLog is an append-only JSON-lines cache file. A line cut short by a
// killed run is skipped on reading, which is what makes runs resumable.
type appendLog struct {
	mu sync.Mutex
	f  *os.File
}

func openLog(path string, read func(*json.Decoder) error) (*appendLog, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("eval: cache: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("eval: cache: %w", err)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		_ = read(dec) // a damaged line is recomputed, not fatal
	}
	if err := sc.Err(); err != nil {
		f.Close()
		return nil, fmt.Errorf("eval: cache %s: %w", path, err)
	}
	return &appendLog{f: f}, nil
}

// Append writes one record as one line. Each line is a single write, so a
// crash leaves at most the last line incomplete.
func (l *appendLog) Append(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("eval: cache: %w", err)
	}
	b = append([]byte("\n"), b...) // start fresh even after a torn line
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.f.Write(b); err != nil {
		return fmt.Errorf("eval: cache: %w", err)
	}
	return nil
}

func (l *appendLog) Close() error { return l.f.Close() }

// progress draws "label [=====>    ] 1234/7701  25.3/s  ETA 4m03s".
type progress struct {
	w     io.Writer
	label string
	total int
	done  atomic.Int64
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
}

func newProgress(w io.Writer, label string, total int) *progress {
	p := &progress{w: w, label: label, total: total, start: time.Now(), stop: make(chan struct{})}
	if w == nil || total == 0 {
		return p
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				p.draw()
				fmt.Fprintln(p.w)
				return
			case <-t.C:
				p.draw()
			}
		}
	}()
	return p
}

func (p *progress) Add(n int) { p.done.Add(int64(n)) }

func (p *progress) draw() {
	d := int(p.done.Load())
	const width = 30
	fill := width * d / max(p.total, 1)
	bar := make([]byte, width)
	for i := range bar {
		switch {
		case i < fill:
			bar[i] = '='
		case i == fill:
			bar[i] = '>'
		default:
			bar[i] = ' '
		}
	}
	el := time.Since(p.start).Seconds()
	rate := float64(d) / max(el, 1e-9)
	eta := "?"
	if d > 0 {
		eta = (time.Duration(float64(p.total-d)/rate) * time.Second).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r%s [%s] %d/%d  %.1f/s  ETA %s   ", p.label, bar, d, p.total, rate, eta)
}

// Done stops the redraws after a final one.
func (p *progress) Done() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	p.wg.Wait()
}
