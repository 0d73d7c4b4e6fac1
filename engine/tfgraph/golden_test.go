package tfgraph

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/golden.json from the current implementation")

// goldenOutput summarises one output tensor: its shape, first values and
// two sums that catch changes anywhere in it.
type goldenOutput struct {
	Shape  []int     `json:"shape"`
	Head   []float32 `json:"head"`
	Sum    float64   `json:"sum"`
	SumAbs float64   `json:"sum_abs"`
}

func summarise(t *Tensor) goldenOutput {
	g := goldenOutput{Shape: t.Shape, Head: t.Data[:min(8, len(t.Data))]}
	for _, v := range t.Data {
		g.Sum += float64(v)
		g.SumAbs += math.Abs(float64(v))
	}
	return g
}

// TestGolden guards the runtime against regressions: every model runs on the
// fixed pattern input and must reproduce testdata/golden.json. The golden
// values were recorded from this implementation (go test -run Golden
// -update), not from TensorFlow; their correctness rests on the
// hand-computed op tests and the model semantics tests. The tolerance allows
// for FMA contraction (GOAMD64=v3) and summation-order changes, not for
// changed results.
func TestGolden(t *testing.T) {
	path := filepath.Join("testdata", "golden.json")
	got := map[string]map[string]goldenOutput{}
	for _, name := range modelNames {
		m := MustLoad(t, name)
		out, err := m.Run(patternInput(m))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got[name] = map[string]goldenOutput{}
		for k, v := range out {
			got[name][k] = summarise(v)
		}
	}
	if *updateGolden {
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	var want map[string]map[string]goldenOutput
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			for key, w := range want[name] {
				g, ok := got[name][key]
				if !ok {
					t.Fatalf("output %s missing", key)
				}
				if !sameShape(g.Shape, w.Shape) {
					t.Fatalf("%s shape %v, want %v", key, g.Shape, w.Shape)
				}
				scale := math.Max(1, w.SumAbs/float64(max(numElements(w.Shape), 1)))
				for i, v := range w.Head {
					if d := math.Abs(float64(g.Head[i] - v)); d > 1e-3*math.Max(scale, math.Abs(float64(v))) {
						t.Errorf("%s[%d] = %v, want %v", key, i, g.Head[i], v)
					}
				}
				if d := math.Abs(g.Sum - w.Sum); d > 1e-4*math.Max(1, w.SumAbs) {
					t.Errorf("%s sum = %v, want %v", key, g.Sum, w.Sum)
				}
				if d := math.Abs(g.SumAbs - w.SumAbs); d > 1e-4*math.Max(1, w.SumAbs) {
					t.Errorf("%s sum|x| = %v, want %v", key, g.SumAbs, w.SumAbs)
				}
			}
		})
	}
}
