package eval

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/facekit/facekit/descriptor"
	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/internal/testenv"
)

// TestLFWSubsetResNet runs the real pipeline (detection, landmarks, ResNet,
// protocol) on the first 30 genuine and 30 impostor pairs of LFW fold 1.
func TestLFWSubsetResNet(t *testing.T) {
	if testing.Short() {
		t.Skip("describes ~120 LFW images")
	}
	lfw := filepath.Join(testenv.TestData(t), "lfw")
	f, err := os.Open(filepath.Join(lfw, "pairs.txt"))
	if err != nil {
		t.Skipf("LFW not provisioned: %v", err)
	}
	defer f.Close()
	all, err := ParsePairs(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 6000 {
		t.Fatalf("pairs.txt has %d pairs, want the standard 6000", len(all))
	}
	pairs := Refold(append(append([]Pair(nil), all[:30]...), all[300:330]...), DefaultFolds)

	eng, err := engine.New(engine.Config{ModelDir: testenv.ModelDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	d, err := descriptor.Open(descriptor.ResNet, descriptor.Env{Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	emb := &Embedder{Engine: eng, Describers: []descriptor.Describer{d}, ImagesDir: filepath.Join(lfw, "images"), CacheDir: cache, TimeFaces: 2}
	res, err := emb.Run(context.Background(), Images(pairs))
	if err != nil {
		t.Fatal(err)
	}
	info, _ := descriptor.Lookup(descriptor.ResNet)
	rep, err := NewReport(pairs, res, []descriptor.Info{info}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := rep.Models[0]
	t.Logf("accuracy %.3f ± %.3f, found %v", m.CV.Mean, m.CV.Std, res.Found)
	if m.CV.Mean < 0.9 {
		t.Errorf("accuracy %.3f on 60 LFW pairs, want ≥ 0.9", m.CV.Mean)
	}

	// A second run reads everything from the cache and agrees.
	emb.TimeFaces = 1
	again, err := emb.Run(context.Background(), Images(pairs))
	if err != nil {
		t.Fatal(err)
	}
	for im, v := range res.Vectors[descriptor.ResNet] {
		w := again.Vectors[descriptor.ResNet][im]
		if len(w) != len(v) || w[0] != v[0] || w[len(w)-1] != v[len(v)-1] {
			t.Fatalf("%s: cached descriptor differs", im)
		}
	}
}
