package calibration

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
)

// Sample is one labelled descriptor: Label names the person, so two samples
// with the same label form a genuine pair and two with different labels an
// impostor pair.
type Sample struct {
	Label  string    `json:"label"`
	Path   string    `json:"path,omitempty"` // where the descriptor came from, for the record
	Vector []float32 `json:"vector"`
}

// Distributions holds the measured pair distances, each sorted ascending.
type Distributions struct {
	Genuine  []float32 // distances of same-label pairs
	Impostor []float32 // distances of different-label pairs
	Samples  int       // descriptors measured
	Labels   int       // distinct labels (people)
}

// ErrTooFewSamples is returned when the samples cannot form both genuine
// and impostor pairs.
var ErrTooFewSamples = errors.New("calibration: need at least two labels and one same-label pair")

// Measure computes the distance of every pair of samples (all pairs, not a
// protocol subset: the impostor tail is what fixes the low-FAR end of the
// curve, and only millions of pairs reach it). Vectors must share one
// length. It uses every CPU.
func Measure(samples []Sample) (*Distributions, error) {
	if len(samples) < 2 {
		return nil, ErrTooFewSamples
	}
	dim := len(samples[0].Vector)
	labelIDs := map[string]int32{}
	ids := make([]int32, len(samples))
	for i, s := range samples {
		if len(s.Vector) != dim {
			return nil, fmt.Errorf("calibration: sample %d (%s) has %d dimensions, want %d", i, s.Path, len(s.Vector), dim)
		}
		id, ok := labelIDs[s.Label]
		if !ok {
			id = int32(len(labelIDs))
			labelIDs[s.Label] = id
		}
		ids[i] = id
	}

	// Rows are dealt out round-robin so that every worker gets a similar
	// mix of long (early) and short (late) rows of the triangle.
	workers := runtime.NumCPU()
	type part struct{ gen, imp []float32 }
	parts := make([]part, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var p part
			for i := w; i < len(samples); i += workers {
				a := samples[i].Vector
				for j := i + 1; j < len(samples); j++ {
					d := float32(distance(a, samples[j].Vector))
					if ids[i] == ids[j] {
						p.gen = append(p.gen, d)
					} else {
						p.imp = append(p.imp, d)
					}
				}
			}
			parts[w] = p
		}(w)
	}
	wg.Wait()

	d := &Distributions{Samples: len(samples), Labels: len(labelIDs)}
	for _, p := range parts {
		d.Genuine = append(d.Genuine, p.gen...)
		d.Impostor = append(d.Impostor, p.imp...)
	}
	if len(d.Genuine) == 0 || len(d.Impostor) == 0 {
		return nil, ErrTooFewSamples
	}
	slices.Sort(d.Genuine)
	slices.Sort(d.Impostor)
	return d, nil
}

func distance(a, b []float32) float64 {
	var sum float32
	for i := range a {
		x := a[i] - b[i]
		sum += x * x
	}
	return math.Sqrt(float64(sum))
}

// FAR is the measured false-accept rate at distance d: the fraction of
// impostor pairs at most d apart.
func (m *Distributions) FAR(d float64) float64 {
	return float64(countAtMost(m.Impostor, d)) / float64(len(m.Impostor))
}

// FRR is the measured false-reject rate at distance d: the fraction of
// genuine pairs more than d apart.
func (m *Distributions) FRR(d float64) float64 {
	return 1 - float64(countAtMost(m.Genuine, d))/float64(len(m.Genuine))
}

// ImpostorsAtMost counts impostor pairs at most d apart: the support behind
// a FAR read off at d.
func (m *Distributions) ImpostorsAtMost(d float64) int {
	return countAtMost(m.Impostor, d)
}

func countAtMost(sorted []float32, d float64) int {
	return sort.Search(len(sorted), func(i int) bool { return float64(sorted[i]) > d })
}

// FitOptions tune Fit. Zero values mean the defaults.
type FitOptions struct {
	// MinSupport is the number of impostor pairs a measured point needs
	// (default 100, a relative standard error of about 10%). Below the FAR
	// this supports, the curve is extrapolated.
	MinSupport int
	// TailDecades is how many decades of FAR above the smallest supported
	// one the tail slope is fitted on (default 2).
	TailDecades float64
	// Step is the FAR grid spacing in decades (default 0.25).
	Step float64
	// MinFAR is how far down the extrapolated tail reaches (default 1e-8).
	MinFAR float64
	// Model and Source are copied into the curve.
	Model, Source string
}

// Fit derives a distance -> FAR curve from measured distributions: empirical
// quantiles of the impostor distances on a log-spaced FAR grid wherever at
// least MinSupport pairs back the point, and below that a log-linear tail
// whose slope is the least-squares fit of log10(FAR) against distance over
// the lowest TailDecades supported decades, anchored at the lowest
// supported point so the curve stays continuous. For a tail that falls off
// faster than exponentially (as a Gaussian-like one does) the straight line
// overstates FAR, so extrapolated thresholds err on the strict side.
func Fit(m *Distributions, opt FitOptions) (*Curve, error) {
	if opt.MinSupport <= 0 {
		opt.MinSupport = 100
	}
	if opt.TailDecades <= 0 {
		opt.TailDecades = 2
	}
	if opt.Step <= 0 {
		opt.Step = 0.25
	}
	if opt.MinFAR <= 0 {
		opt.MinFAR = 1e-8
	}
	n := float64(len(m.Impostor))
	if len(m.Impostor) < opt.MinSupport*10 {
		return nil, fmt.Errorf("calibration: %d impostor pairs; need at least %d", len(m.Impostor), opt.MinSupport*10)
	}
	minFAR := float64(opt.MinSupport) / n // smallest FAR with enough support

	// Measured points: a log grid from the smallest supported FAR up to
	// 1e-1, then linear steps to 0.99 for the body of the distribution.
	var fars []float64
	lo := math.Log10(minFAR)
	start := math.Ceil(lo/opt.Step) * opt.Step
	if start-lo > 1e-9 {
		fars = append(fars, minFAR)
	}
	for e := start; e <= -1+1e-9; e += opt.Step {
		fars = append(fars, math.Pow(10, e))
	}
	fars = append(fars, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.99)

	var pts []Point
	for _, f := range fars {
		d := m.quantile(f)
		p := Point{Distance: d, FAR: f, Pairs: int64(math.Round(f * n))}
		if len(pts) > 0 && (d <= pts[len(pts)-1].Distance || f <= pts[len(pts)-1].FAR) {
			continue // ties in the data: keep the curve strictly increasing
		}
		pts = append(pts, p)
	}

	// Tail slope from the lowest supported decades.
	var xs, ys []float64
	for e := lo; e <= lo+opt.TailDecades+1e-9; e += 0.05 {
		f := math.Pow(10, e)
		xs = append(xs, m.quantile(f))
		ys = append(ys, e)
	}
	slope, ok := lsqSlope(xs, ys)
	if !ok || slope <= 0 {
		return nil, fmt.Errorf("calibration: impostor tail has no usable slope (%g)", slope)
	}
	anchor := pts[0]
	var tail []Point
	for e := math.Ceil(math.Log10(anchor.FAR)/opt.Step) * opt.Step; e >= math.Log10(opt.MinFAR)-1e-9; e -= opt.Step {
		f := math.Pow(10, e)
		if f >= anchor.FAR*(1-1e-9) {
			continue
		}
		d := anchor.Distance + (e-math.Log10(anchor.FAR))/slope
		tail = append(tail, Point{Distance: d, FAR: f, Extrapolated: true})
	}
	slices.Reverse(tail)
	c := &Curve{Model: opt.Model, Source: opt.Source, Points: append(tail, pts...)}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// quantile returns the distance below which a fraction f of the impostor
// pairs lie, interpolated between neighbouring order statistics.
func (m *Distributions) quantile(f float64) float64 {
	x := f*float64(len(m.Impostor)) - 1
	if x <= 0 {
		return float64(m.Impostor[0])
	}
	i := int(x)
	if i >= len(m.Impostor)-1 {
		return float64(m.Impostor[len(m.Impostor)-1])
	}
	t := x - float64(i)
	return float64(m.Impostor[i])*(1-t) + float64(m.Impostor[i+1])*t
}

// lsqSlope is the least-squares slope of y on x.
func lsqSlope(xs, ys []float64) (float64, bool) {
	if len(xs) < 2 {
		return 0, false
	}
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(len(xs))
	my /= float64(len(ys))
	var sxy, sxx float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	if sxx == 0 {
		return 0, false
	}
	return sxy / sxx, true
}
