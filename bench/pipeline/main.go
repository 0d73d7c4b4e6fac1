// Command pipeline times facekit's image pipeline through the public engine
// API, in the same units and on the same JPEG as the raw-dlib baseline in
// bench/baseline, so scripts/bench.sh can quote facekit's cost as a ratio.
//
// Modes:
//
//	pipeline -photo vga.jpg                  per-stage median CPU ms (run with GOMAXPROCS=1),
//	                                         and per face and per photo for every descriptor model
//	pipeline -photo vga.jpg -threads 2       images/s with 2 goroutines and a pool of 2
//	pipeline -accuracy faces/ -max-side 640  faces found with downscaled detection vs full size
//
// Output is one "key value" line per figure.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/facekit/facekit/bench/internal/cputime"
	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
)

func main() {
	modelDir := flag.String("models", "models/data", "directory with the dlib model files")
	photo := flag.String("photo", "", "JPEG to time")
	iters := flag.Int("iters", 20, "iterations per stage (per-stage mode)")
	threads := flag.Int("threads", 0, "throughput mode: goroutines (and pool size); 0 = per-stage mode")
	seconds := flag.Float64("seconds", 10, "throughput mode: how long to run")
	maxSide := flag.Int("max-side", 0, "Options.DetectMaxSide (0 = detect at full size)")
	cnnIters := flag.Int("cnn-iters", 0, "also time the MMOD CNN detector this many times (seconds each)")
	accuracy := flag.String("accuracy", "", "accuracy mode: directory of photos to compare full-size and -max-side detection on")
	flag.Parse()

	var err error
	switch {
	case *accuracy != "":
		err = runAccuracy(*modelDir, *accuracy, *maxSide)
	case *photo == "":
		err = errors.New("-photo or -accuracy is required")
	case *threads > 0:
		err = runThroughput(*modelDir, *photo, *threads, time.Duration(*seconds*float64(time.Second)), *maxSide)
	default:
		err = runStages(*modelDir, *photo, *iters, *cnnIters, *maxSide)
	}
	if err != nil {
		log.Fatalf("pipeline: %v", err)
	}
}

// fullOpts is what a detect request with descriptors asks of the engine:
// the per-image cost compared with the baseline. Upsample 0 matches the
// baseline's plain detector call.
func fullOpts(maxSide int) engine.Options {
	return engine.Options{Descriptors: true, DetectMaxSide: maxSide}
}

// timed returns the median CPU milliseconds of n calls of f.
func timed(n int, f func() error) (float64, error) {
	ms := make([]float64, n)
	for i := range ms {
		t0 := cputime.Nanos()
		if err := f(); err != nil {
			return 0, err
		}
		ms[i] = float64(cputime.Nanos()-t0) / 1e6
	}
	sort.Float64s(ms)
	if n%2 == 1 {
		return ms[n/2], nil
	}
	return (ms[n/2-1] + ms[n/2]) / 2, nil
}

func runStages(modelDir, photo string, iters, cnnIters, maxSide int) error {
	data, err := os.ReadFile(photo)
	if err != nil {
		return err
	}
	e, err := engine.New(engine.Config{ModelDir: modelDir, PoolSize: 1})
	if err != nil {
		return err
	}
	defer e.Close()
	ctx := context.Background()
	img, err := imageio.Decode(data, imageio.DefaultLimits())
	if err != nil {
		return err
	}
	faces, err := e.Analyze(ctx, img, engine.Options{Landmarks: true, DetectMaxSide: maxSide})
	if err != nil {
		return err
	}
	if len(faces) == 0 {
		return fmt.Errorf("%s: no face found", photo)
	}
	// Warm-up: first-touch allocations and BLAS set-up, as in the baseline.
	if _, err := e.Analyze(ctx, img, fullOpts(maxSide)); err != nil {
		return err
	}

	var out []string
	add := func(key string, ms float64) { out = append(out, fmt.Sprintf("%s %.3f", key, ms)) }
	decode, err := timed(iters, func() error { _, err := imageio.Decode(data, imageio.DefaultLimits()); return err })
	if err != nil {
		return err
	}
	detect, err := timed(iters, func() error {
		_, err := e.Analyze(ctx, img, engine.Options{DetectMaxSide: maxSide})
		return err
	})
	if err != nil {
		return err
	}
	withLandmarks, err := timed(iters, func() error {
		_, err := e.Analyze(ctx, img, engine.Options{Landmarks: true, DetectMaxSide: maxSide})
		return err
	})
	if err != nil {
		return err
	}
	describe, err := timed(iters, func() error { return e.Describe(ctx, img, faces) })
	if err != nil {
		return err
	}
	// The end-to-end figure: bytes in, descriptors out, as one request does.
	total, err := timed(iters, func() error {
		im, err := imageio.Decode(data, imageio.DefaultLimits())
		if err != nil {
			return err
		}
		_, err = e.Analyze(ctx, im, fullOpts(maxSide))
		return err
	})
	if err != nil {
		return err
	}
	out = append(out, fmt.Sprintf("faces %d", len(faces)), fmt.Sprintf("iters %d", iters))
	add("decode_ms", decode)
	add("detect_hog_ms", detect)
	add("landmarks_ms", withLandmarks-detect)
	add("descriptor_ms", describe)
	add("total_ms", total)
	// Every registered descriptor model, per face, and the end-to-end cost
	// with it (decode, detect, landmarks, that model's descriptor): what a
	// server configured with that model pays per photo.
	bare := faces[0]
	bare.HasDescriptor = false // e.Describe above filled it in; time the network
	// The model a default server describes with: scripts/bench.sh quotes
	// its per-face and per-photo cost as the default pipeline's.
	out = append(out, "default_descriptor "+descriptor.Default)
	for _, name := range descriptor.Names() {
		d, err := descriptor.Open(name, descriptor.Env{Engine: e, HumanModels: filepath.Join(modelDir, "human-models"), Instances: 1})
		if err != nil {
			out = append(out, fmt.Sprintf("# %s not timed: %v", name, err))
			continue
		}
		if _, err := d.Describe(ctx, img, bare); err != nil { // warm-up
			return fmt.Errorf("%s: %w", name, err)
		}
		per, err := timed(iters, func() error { _, err := d.Describe(ctx, img, bare); return err })
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		e2e, err := timed(iters, func() error {
			im, err := imageio.Decode(data, imageio.DefaultLimits())
			if err != nil {
				return err
			}
			fs, err := e.Analyze(ctx, im, engine.Options{Landmarks: true, DetectMaxSide: maxSide})
			if err != nil {
				return err
			}
			for _, f := range fs {
				if _, err := d.Describe(ctx, im, f); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		add("face_ms_"+name, per)
		add("total_ms_"+name, e2e)
	}
	if cnnIters > 0 && e.HasCNN() {
		cnn, err := timed(cnnIters, func() error {
			_, err := e.Analyze(ctx, img, engine.Options{Detector: engine.DetectorCNN, Upsample: 0})
			return err
		})
		if err != nil {
			return err
		}
		add("detect_cnn_ms", cnn)
	}
	fmt.Println(strings.Join(out, "\n"))
	return nil
}

// runThroughput decodes and analyses the photo on n goroutines sharing an
// engine with a pool of n for d, and reports images per second.
func runThroughput(modelDir, photo string, n int, d time.Duration, maxSide int) error {
	data, err := os.ReadFile(photo)
	if err != nil {
		return err
	}
	e, err := engine.New(engine.Config{ModelDir: modelDir, PoolSize: n})
	if err != nil {
		return err
	}
	defer e.Close()
	ctx := context.Background()
	one := func() error {
		im, err := imageio.Decode(data, imageio.DefaultLimits())
		if err != nil {
			return err
		}
		_, err = e.Analyze(ctx, im, fullOpts(maxSide))
		return err
	}
	// Warm every pool instance.
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- one() }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}

	var done atomic.Int64
	var failed atomic.Value
	deadline := time.Now().Add(d)
	t0, c0 := time.Now(), cputime.Nanos()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if err := one(); err != nil {
					failed.Store(err)
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return err
	}
	el, cpu := time.Since(t0).Seconds(), float64(cputime.Nanos()-c0)/1e6
	fmt.Printf("threads %d\nimages %d\nseconds %.3f\nimages_per_s %.3f\ncpu_ms_per_image %.3f\n",
		n, done.Load(), el, float64(done.Load())/el, cpu/float64(done.Load()))
	return nil
}

// runAccuracy detects faces in every photo of dir at full size and with
// DetectMaxSide, and reports how many full-size faces the downscaled run
// still finds (IoU ≥ 0.5), the mean IoU of the matches and the descriptor
// distance between matched faces.
func runAccuracy(modelDir, dir string, maxSide int) error {
	if maxSide <= 0 {
		return errors.New("-accuracy needs -max-side")
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if err != nil {
		return err
	}
	e, err := engine.New(engine.Config{ModelDir: modelDir, PoolSize: 1})
	if err != nil {
		return err
	}
	defer e.Close()
	ctx := context.Background()
	var full, found, extra, photos int
	var lost []string // photo:count of faces the downscaled run missed
	var iouSum, distMax, cpuFull, cpuSmall float64
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		img, err := imageio.Decode(data, imageio.DefaultLimits())
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		photos++
		t0 := cputime.Nanos()
		a, err := e.Analyze(ctx, img, engine.Options{Descriptors: true})
		if err != nil {
			return err
		}
		t1 := cputime.Nanos()
		b, err := e.Analyze(ctx, img, engine.Options{Descriptors: true, DetectMaxSide: maxSide})
		if err != nil {
			return err
		}
		cpuFull += float64(t1-t0) / 1e6
		cpuSmall += float64(cputime.Nanos()-t1) / 1e6
		full += len(a)
		used := make([]bool, len(b))
		missed := 0
		for _, fa := range a {
			bi, best := -1, 0.0
			for j, fb := range b {
				if v := iou(fa.Rect.Min.X, fa.Rect.Min.Y, fa.Rect.Max.X, fa.Rect.Max.Y, fb.Rect.Min.X, fb.Rect.Min.Y, fb.Rect.Max.X, fb.Rect.Max.Y); !used[j] && v > best {
					bi, best = j, v
				}
			}
			if bi >= 0 && best >= 0.5 {
				used[bi] = true
				found++
				iouSum += best
				distMax = max(distMax, engine.Distance(fa.Descriptor, b[bi].Descriptor))
			} else {
				missed++
			}
		}
		if missed > 0 {
			lost = append(lost, fmt.Sprintf("%s:%d", filepath.Base(p), missed))
		}
		for _, u := range used {
			if !u {
				extra++
			}
		}
	}
	lostList := "-"
	if len(lost) > 0 {
		lostList = strings.Join(lost, ",")
	}
	fmt.Printf("photos %d\nmax_side %d\nfaces_full %d\nfaces_kept %d\nfaces_extra %d\nmean_iou %.3f\nmax_descriptor_distance %.4f\ncpu_ms_full %.1f\ncpu_ms_downscaled %.1f\nlost %s\n",
		photos, maxSide, full, found, extra, iouSum/float64(max(found, 1)), distMax, cpuFull/float64(photos), cpuSmall/float64(photos),
		lostList)
	return nil
}

// iou is the intersection over union of two boxes given as corners.
func iou(ax0, ay0, ax1, ay1, bx0, by0, bx1, by1 int) float64 {
	ix := max(0, min(ax1, bx1)-max(ax0, bx0))
	iy := max(0, min(ay1, by1)-max(ay0, by0))
	inter := float64(ix * iy)
	union := float64((ax1-ax0)*(ay1-ay0)+(bx1-bx0)*(by1-by0)) - inter
	if union <= 0 {
		return 0
	}
	return inter / union
}
