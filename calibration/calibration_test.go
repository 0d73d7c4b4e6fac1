package calibration

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestDefaultCurveMonotone(t *testing.T) {
	c := Default()
	prev := 0.0
	for d := 0.0; d <= 1.6; d += 0.0005 {
		f := c.FAR(d)
		if f < prev || f <= 0 || f > 1 || math.IsNaN(f) {
			t.Fatalf("FAR(%.4f) = %g after %g: not monotone in (0, 1]", d, f, prev)
		}
		prev = f
	}
	// DistanceAtFAR inverts FAR across the whole range of decades.
	for e := -8.0; e <= -0.1; e += 0.1 {
		far := math.Pow(10, e)
		d := c.DistanceAtFAR(far)
		if got := c.FAR(d); math.Abs(math.Log10(got)-e) > 1e-6 {
			t.Errorf("FAR(DistanceAtFAR(%.2e)) = %.4e", far, got)
		}
	}
	if c.Model != DefaultModel {
		t.Errorf("default curve is for model %q, want %q", c.Model, DefaultModel)
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct{ name, json string }{
		{"NotJSON", `{`},
		{"NoPoints", `{"model":"m","points":[]}`},
		{"DistanceNotIncreasing", `{"points":[{"distance":0.5,"far":0.001},{"distance":0.5,"far":0.01}]}`},
		{"FARNotIncreasing", `{"points":[{"distance":0.4,"far":0.01},{"distance":0.5,"far":0.001}]}`},
		{"ZeroFAR", `{"points":[{"distance":0.4,"far":0},{"distance":0.5,"far":0.001}]}`},
		{"FARAboveOne", `{"points":[{"distance":0.4,"far":0.5},{"distance":0.5,"far":1.5}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse([]byte(tt.json)); err == nil {
				t.Fatalf("Parse(%s) succeeded", tt.json)
			}
		})
	}
}

func TestMeasure(t *testing.T) {
	samples := []Sample{
		{Label: "a", Vector: []float32{0, 0}},
		{Label: "a", Vector: []float32{3, 4}}, // 5 from the first
		{Label: "b", Vector: []float32{0, 1}},
		{Label: "c", Vector: []float32{0, 3}},
	}
	d, err := Measure(samples)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Genuine, []float32{5}) {
		t.Errorf("genuine = %v; want [5]", d.Genuine)
	}
	// a0-b 1, a0-c 3, a1-b sqrt(18), a1-c sqrt(10), b-c 2
	want := []float32{1, 2, 3, float32(math.Sqrt(10)), float32(math.Sqrt(18))}
	if len(d.Impostor) != len(want) {
		t.Fatalf("impostor = %v; want %v", d.Impostor, want)
	}
	for i := range want {
		if math.Abs(float64(d.Impostor[i]-want[i])) > 1e-6 {
			t.Fatalf("impostor = %v; want %v", d.Impostor, want)
		}
	}
	if d.Labels != 3 || d.Samples != 4 {
		t.Errorf("labels %d samples %d", d.Labels, d.Samples)
	}
	if got := d.FAR(2); got != 0.4 {
		t.Errorf("FAR(2) = %g; want 0.4", got)
	}
	if got := d.FRR(4.9); got != 1 {
		t.Errorf("FRR(4.9) = %g; want 1", got)
	}

	t.Run("NoGenuinePairs", func(t *testing.T) {
		_, err := Measure([]Sample{{Label: "a", Vector: []float32{0}}, {Label: "b", Vector: []float32{1}}})
		if !errors.Is(err, ErrTooFewSamples) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("DimensionMismatch", func(t *testing.T) {
		_, err := Measure([]Sample{{Label: "a", Vector: []float32{0}}, {Label: "a", Vector: []float32{1, 2}}})
		if err == nil || !strings.Contains(err.Error(), "dimensions") {
			t.Fatalf("err = %v", err)
		}
	})
}

// normalQuantile is the p-quantile of N(mu, sigma).
func normalQuantile(p, mu, sigma float64) float64 {
	return mu + sigma*math.Sqrt2*math.Erfinv(2*p-1)
}

// TestFitGaussian fits a curve to impostor distances drawn from a normal
// distribution, whose quantiles are known exactly.
func TestFitGaussian(t *testing.T) {
	const mu, sigma = 0.9, 0.08
	rng := rand.New(rand.NewPCG(1, 2))
	m := &Distributions{Impostor: make([]float32, 2_000_000), Genuine: make([]float32, 10000)}
	for i := range m.Impostor {
		m.Impostor[i] = float32(mu + sigma*rng.NormFloat64())
	}
	for i := range m.Genuine {
		m.Genuine[i] = float32(0.45 + 0.07*rng.NormFloat64())
	}
	slices.Sort(m.Impostor)
	slices.Sort(m.Genuine)

	c, err := Fit(m, FitOptions{Model: "synthetic"})
	if err != nil {
		t.Fatal(err)
	}
	minSupported := 100 / float64(len(m.Impostor)) // 5e-5
	sawExtrapolated := false
	for i, p := range c.Points {
		if i > 0 && (p.Distance <= c.Points[i-1].Distance || p.FAR <= c.Points[i-1].FAR) {
			t.Fatalf("not strictly increasing at %d", i)
		}
		want := normalQuantile(p.FAR, mu, sigma)
		switch {
		case p.Extrapolated:
			sawExtrapolated = true
			if p.FAR >= minSupported {
				t.Errorf("point at FAR %.2e marked extrapolated inside the supported range", p.FAR)
			}
			// A straight line under a Gaussian tail lies below the true
			// quantile: the extrapolated threshold is the stricter one.
			if p.Distance > want+0.005 {
				t.Errorf("extrapolated FAR %.1e at %.4f, beyond the true quantile %.4f", p.FAR, p.Distance, want)
			}
		case p.FAR <= 0.99:
			// Sampling error of a quantile: a few sigma/sqrt(support)... keep
			// a tolerance that scales with the support.
			tol := 0.004 + 3*sigma/math.Sqrt(float64(max(p.Pairs, 1)))
			if math.Abs(p.Distance-want) > tol {
				t.Errorf("FAR %.2e: distance %.4f, true quantile %.4f (±%.4f, %d pairs)", p.FAR, p.Distance, want, tol, p.Pairs)
			}
		}
	}
	if !sawExtrapolated || c.Points[0].FAR > 1.0001e-8 {
		t.Fatalf("tail not extrapolated to 1e-8: first point %+v", c.Points[0])
	}
	// The curve evaluates back to its own points.
	for _, p := range c.Points {
		if got := c.FAR(p.Distance); math.Abs(math.Log10(got)-math.Log10(p.FAR)) > 1e-9 {
			t.Errorf("FAR(%.4f) = %g; point says %g", p.Distance, got, p.FAR)
		}
	}
}

func TestFitTooFewPairs(t *testing.T) {
	m := &Distributions{Impostor: []float32{0.5, 0.6, 0.7}, Genuine: []float32{0.3}}
	if _, err := Fit(m, FitOptions{}); err == nil {
		t.Fatal("Fit on three pairs succeeded")
	}
}

func TestForModel(t *testing.T) {
	models := Models()
	if !slices.Contains(models, DefaultModel) {
		t.Fatalf("embedded curves %v lack the default model", models)
	}
	for _, m := range models {
		t.Run(m, func(t *testing.T) {
			c, err := ForModel(m)
			if err != nil {
				t.Fatal(err)
			}
			if c.Model != m {
				t.Errorf("curve for %q says model %q", m, c.Model)
			}
			// FAR rises with distance and spans decades: a curve that
			// maps every distance to one FAR would calibrate nothing.
			lo, hi := c.Points[0], c.Points[len(c.Points)-1]
			if c.FAR(lo.Distance) >= c.FAR(hi.Distance) || hi.FAR/lo.FAR < 1e3 {
				t.Errorf("FAR %g at %g, %g at %g", c.FAR(lo.Distance), lo.Distance, c.FAR(hi.Distance), hi.Distance)
			}
		})
	}
	t.Run("Unknown", func(t *testing.T) {
		if _, err := ForModel("no_such_model"); !errors.Is(err, ErrNoCurve) {
			t.Errorf("err = %v, want ErrNoCurve", err)
		}
	})
	if Default() != mustForModel(t, DefaultModel) {
		t.Error("Default is not the default model's curve")
	}
}

func mustForModel(tb testing.TB, m string) *Curve {
	tb.Helper()
	c, err := ForModel(m)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
