// Package measure produces a calibration curve from photos: it describes
// every face of a labelled photo tree (ROOT/PERSON/*.jpg, the LFW layout)
// with the engine, measures all genuine and impostor pair distances
// (calibration.Measure), fits the distance -> FAR curve (calibration.Fit)
// and reports the curve with the measured FRR at each FAR. `facekit
// calibrate` is a thin wrapper over Run.
//
// It lives apart from package calibration because it needs the engine (and
// so cgo); the curve itself and its use stay pure Go.
package measure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/facekit/facekit/calibration"
	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
)

// Config says what to measure.
type Config struct {
	// Root is the labelled photo tree: one directory per person.
	Root string
	// Cache, if set, is a JSON file of descriptors: read when it exists and
	// was made from the same Root, written after describing otherwise.
	Cache string
	// Limit, if positive, keeps only the first Limit people (sorted by
	// name) who have at least two photos, plus Limit people with one photo,
	// and at most 8 photos per person: a quick subset for tests.
	Limit int
	// Workers describing in parallel; the engine's pool size if zero.
	Workers int
	// Progress, if set, is called after each described photo.
	Progress func(done, total int)
	// Fit options for calibration.Fit.
	Fit calibration.FitOptions
}

// Stats counts what happened to the photos.
type Stats struct {
	Photos    int `json:"photos"`    // photos found
	Described int `json:"described"` // photos that yielded a descriptor
	NoFace    int `json:"no_face"`   // photos where no face was found, even upsampled
	Failed    int `json:"failed"`    // photos that could not be decoded
}

// Result is a finished measurement.
type Result struct {
	Stats         Stats
	Distributions *calibration.Distributions
	Curve         *calibration.Curve
}

// cacheFile is the on-disk form of the descriptor cache.
type cacheFile struct {
	Root    string               `json:"root"`
	Model   string               `json:"model"`
	Created time.Time            `json:"created"`
	Stats   Stats                `json:"stats"`
	Samples []calibration.Sample `json:"samples"`
}

// Run describes (or loads from cache), measures and fits.
func Run(ctx context.Context, eng *engine.Engine, cfg Config) (*Result, error) {
	samples, stats, err := Samples(ctx, eng, cfg)
	if err != nil {
		return nil, err
	}
	dist, err := calibration.Measure(samples)
	if err != nil {
		return nil, fmt.Errorf("measure: %w", err)
	}
	fo := cfg.Fit
	if fo.Model == "" {
		fo.Model = engine.ModelName
	}
	if fo.Source == "" {
		fo.Source = fmt.Sprintf("measured on %s: %d photos of %d people described (%d without a detectable face); "+
			"%d impostor pairs (all pairs of different people), %d genuine pairs; empirical quantiles, log-linear tail "+
			"below %d supporting pairs; see docs/calibration.md",
			filepath.Base(filepath.Clean(cfg.Root)), stats.Described, dist.Labels, stats.NoFace,
			len(dist.Impostor), len(dist.Genuine), max(fo.MinSupport, 100))
	}
	curve, err := calibration.Fit(dist, fo)
	if err != nil {
		return nil, fmt.Errorf("measure: %w", err)
	}
	return &Result{Stats: stats, Distributions: dist, Curve: curve}, nil
}

// Samples returns one descriptor per described photo of cfg.Root, from the
// cache when it matches.
func Samples(ctx context.Context, eng *engine.Engine, cfg Config) ([]calibration.Sample, Stats, error) {
	root, err := filepath.Abs(cfg.Root)
	if err != nil {
		return nil, Stats{}, fmt.Errorf("measure: %w", err)
	}
	if cfg.Cache != "" {
		if c, err := readCache(cfg.Cache); err == nil && c.Root == root && c.Model == engine.ModelName {
			return subset(c.Samples, cfg.Limit), c.Stats, nil
		}
	}
	photos, err := listPhotos(root, cfg.Limit)
	if err != nil {
		return nil, Stats{}, err
	}
	if eng == nil {
		return nil, Stats{}, errors.New("measure: no engine and no usable descriptor cache")
	}
	samples, stats, err := describe(ctx, eng, photos, cfg)
	if err != nil {
		return nil, stats, err
	}
	if cfg.Cache != "" && cfg.Limit <= 0 {
		if err := writeCache(cfg.Cache, cacheFile{Root: root, Model: engine.ModelName, Created: time.Now().UTC(), Stats: stats, Samples: samples}); err != nil {
			return nil, stats, err
		}
	}
	return samples, stats, nil
}

type photo struct{ label, path string }

// listPhotos walks root/PERSON/*.{jpg,jpeg,png}, sorted for reproducibility.
func listPhotos(root string, limit int) ([]photo, error) {
	people, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("measure: %w", err)
	}
	var out []photo
	multi, single := 0, 0
	for _, p := range people {
		if !p.IsDir() {
			continue
		}
		files, err := os.ReadDir(filepath.Join(root, p.Name()))
		if err != nil {
			return nil, fmt.Errorf("measure: %w", err)
		}
		var mine []photo
		for _, f := range files {
			ext := strings.ToLower(filepath.Ext(f.Name()))
			if f.Type().IsRegular() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png") {
				mine = append(mine, photo{label: p.Name(), path: filepath.Join(root, p.Name(), f.Name())})
			}
		}
		if limit > 0 {
			// A subset keeps both kinds of people: those with several photos
			// give genuine pairs, all of them give impostor pairs. A few
			// photos per person are enough and keep one person (LFW has 530
			// of George W. Bush) from dominating.
			mine = mine[:min(len(mine), maxPerPerson)]
			if len(mine) >= 2 && multi < limit {
				multi++
			} else if len(mine) == 1 && single < limit {
				single++
			} else {
				continue
			}
		}
		out = append(out, mine...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("measure: no photos under %s: %w", root, fs.ErrNotExist)
	}
	return out, nil
}

// maxPerPerson caps the photos per person in a Limit subset.
const maxPerPerson = 8

// subset applies Limit to cached samples the way listPhotos does.
func subset(samples []calibration.Sample, limit int) []calibration.Sample {
	if limit <= 0 {
		return samples
	}
	count := map[string]int{}
	var order []string
	for _, s := range samples {
		if count[s.Label] == 0 {
			order = append(order, s.Label)
		}
		count[s.Label]++
	}
	sort.Strings(order)
	keep := map[string]bool{}
	multi, single := 0, 0
	for _, l := range order {
		if count[l] >= 2 && multi < limit {
			multi++
			keep[l] = true
		} else if count[l] == 1 && single < limit {
			single++
			keep[l] = true
		}
	}
	var out []calibration.Sample
	taken := map[string]int{}
	for _, s := range samples {
		if keep[s.Label] && taken[s.Label] < maxPerPerson {
			taken[s.Label]++
			out = append(out, s)
		}
	}
	return out
}

// describe runs the engine over the photos in parallel. Each photo gives
// the face nearest the image centre (LFW photos are centred on the labelled
// person; other people can appear at the edges). HOG first, one 2x
// upsample when nothing is found at the original size.
func describe(ctx context.Context, eng *engine.Engine, photos []photo, cfg Config) ([]calibration.Sample, Stats, error) {
	workers := cfg.Workers
	if workers <= 0 {
		workers = eng.PoolSize()
	}
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	type result struct {
		sample calibration.Sample
		ok     bool
		noFace bool
		err    error
	}
	results := make([]result, len(photos))
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				r := &results[i]
				data, err := os.ReadFile(photos[i].path)
				if err != nil {
					r.err = err
				} else if img, err := imageio.Decode(data, imageio.DefaultLimits()); err != nil {
					r.err = err
				} else {
					faces, err := eng.Analyze(ctx, img, engine.Options{Upsample: -1, SortByCenter: true, MaxFaces: 1, Descriptors: true})
					switch {
					case err != nil:
						r.err = err
					case len(faces) == 0 || !faces[0].HasDescriptor:
						r.noFace = true
					default:
						v := make([]float32, engine.DescriptorSize)
						copy(v, faces[0].Descriptor[:])
						r.sample = calibration.Sample{Label: photos[i].label, Path: photos[i].path, Vector: v}
						r.ok = true
					}
				}
				if cfg.Progress != nil {
					mu.Lock()
					done++
					cfg.Progress(done, len(photos))
					mu.Unlock()
				}
			}
		}()
	}
	for i := range photos {
		if ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, Stats{}, fmt.Errorf("measure: %w", err)
	}
	stats := Stats{Photos: len(photos)}
	var samples []calibration.Sample
	for i, r := range results {
		switch {
		case r.ok:
			stats.Described++
			samples = append(samples, r.sample)
		case r.noFace:
			stats.NoFace++
		default:
			stats.Failed++
			if errors.Is(r.err, context.Canceled) {
				return nil, stats, fmt.Errorf("measure: %s: %w", photos[i].path, r.err)
			}
		}
	}
	return samples, stats, nil
}

func readCache(path string) (*cacheFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c cacheFile
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("measure: cache %s: %w", path, err)
	}
	return &c, nil
}

func writeCache(path string, c cacheFile) error {
	data, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("measure: cache: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("measure: cache: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("measure: cache: %w", err)
	}
	return nil
}

// FARs are the decades reported in Table.
var FARs = []float64{1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6}

// Row is one line of the calibration table.
type Row struct {
	FAR          float64 // target false-accept rate
	Distance     float64 // curve distance at FAR
	MeasuredFAR  float64 // impostor fraction at most Distance apart, as measured
	Pairs        int     // impostor pairs at most Distance apart
	FRR          float64 // genuine fraction more than Distance apart, as measured
	Extrapolated bool    // Distance lies on the fitted tail, below the supported range
}

// Table evaluates the curve against the measured distributions at each FAR.
func (r *Result) Table(fars []float64) []Row {
	rows := make([]Row, 0, len(fars))
	minFAR := math.Inf(1)
	for _, p := range r.Curve.Points {
		if !p.Extrapolated && p.FAR < minFAR {
			minFAR = p.FAR
		}
	}
	for _, f := range fars {
		d := r.Curve.DistanceAtFAR(f)
		rows = append(rows, Row{
			FAR: f, Distance: d,
			MeasuredFAR:  r.Distributions.FAR(d),
			Pairs:        r.Distributions.ImpostorsAtMost(d),
			FRR:          r.Distributions.FRR(d),
			Extrapolated: f < minFAR*(1-1e-9),
		})
	}
	return rows
}

// Markdown renders Table as a Markdown table.
func Markdown(rows []Row) string {
	var b strings.Builder
	b.WriteString("| FAR | distance | measured FAR at that distance | impostor pairs ≤ distance | measured FRR | |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, r := range rows {
		note := "measured"
		if r.Extrapolated {
			note = "extrapolated tail"
		}
		fmt.Fprintf(&b, "| %.0e | %.4f | %.2e | %d | %.2f%% | %s |\n", r.FAR, r.Distance, r.MeasuredFAR, r.Pairs, 100*r.FRR, note)
	}
	return b.String()
}

// WriteCurve writes the curve as indented JSON (the format of
// calibration/dlib_resnet_v1.json).
func WriteCurve(path string, c *calibration.Curve) error {
	// Five decimals of distance are far below the curve's own uncertainty
	// and keep the file readable; rounding must not merge two points.
	out := *c
	out.Points = make([]calibration.Point, len(c.Points))
	for i, p := range c.Points {
		p.Distance = math.Round(p.Distance*1e5) / 1e5
		if i > 0 && p.Distance <= out.Points[i-1].Distance {
			return fmt.Errorf("measure: points %d and %d coincide after rounding", i-1, i)
		}
		out.Points[i] = p
	}
	data, err := json.MarshalIndent(&out, "", "  ")
	if err != nil {
		return fmt.Errorf("measure: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("measure: %w", err)
	}
	return nil
}
