package descriptor

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/internal/testenv"
)

// TestEastAsianSeparation compares the ResNet, MobileFaceNet and frfeature
// on every pair of the single-face test photos (East Asian faces; person =
// file name without its digits): the AUC of each model's similarity,
// genuine above impostor. frfeature must separate them better than the
// ResNet, the reason it is offered (docs/faceplugin.md).
func TestEastAsianSeparation(t *testing.T) {
	if testing.Short() {
		t.Skip("describes every test photo with three models")
	}
	e := mustEngine(t)
	env := Env{Engine: e, HumanModels: filepath.Join(testenv.ModelDir(t), "human-models")}
	dir := filepath.Join(testenv.TestData(t), "faces")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	type shot struct {
		person string
		img    *imageio.Image
		face   engine.Face
	}
	var shots []shot
	for _, en := range entries {
		n := en.Name()
		if !strings.HasSuffix(n, ".jpg") || n == "pristin.jpg" { // pristin.jpg is a group photo
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		img, err := imageio.Decode(data, imageio.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		faces, err := e.Analyze(context.Background(), img, engine.Options{Upsample: -1, Landmarks: true, MaxFaces: 1, DetectMaxSide: 1024})
		if err != nil || len(faces) == 0 {
			continue
		}
		shots = append(shots, shot{strings.TrimRightFunc(strings.TrimSuffix(n, ".jpg"), unicode.IsDigit), img, faces[0]})
	}
	aucs := map[string]float64{}
	for _, name := range []string{ResNet, MobileFaceNet.Name, FRFeature.Name} {
		d, err := Open(name, env)
		if err != nil {
			t.Skipf("%s not available: %v", name, err)
		}
		info, _ := Lookup(name)
		v := make([][]float32, len(shots))
		for i, s := range shots {
			if v[i], err = d.Describe(context.Background(), s.img, s.face); err != nil {
				t.Fatal(err)
			}
		}
		var gen, imp []float64
		for i := range shots {
			for j := i + 1; j < len(shots); j++ {
				dist, _ := Distance(info.Metric, v[i], v[j])
				if shots[i].person == shots[j].person {
					gen = append(gen, -dist)
				} else {
					imp = append(imp, -dist)
				}
			}
		}
		aucs[name] = pairAUC(gen, imp)
		t.Logf("%s: %d photos, %d genuine / %d impostor pairs, AUC %.3f", name, len(shots), len(gen), len(imp), aucs[name])
	}
	if aucs[FRFeature.Name] <= aucs[ResNet] {
		t.Errorf("frfeature AUC %.3f does not beat the ResNet's %.3f", aucs[FRFeature.Name], aucs[ResNet])
	}
}

// pairAUC is the probability that a genuine pair scores above an impostor
// pair (ties half).
func pairAUC(pos, neg []float64) float64 {
	n := append([]float64(nil), neg...)
	sort.Float64s(n)
	var s float64
	for _, p := range pos {
		lo := sort.SearchFloat64s(n, p)
		hi := lo
		for hi < len(n) && n[hi] == p {
			hi++
		}
		s += float64(lo) + 0.5*float64(hi-lo)
	}
	return s / float64(len(pos)*len(neg))
}
