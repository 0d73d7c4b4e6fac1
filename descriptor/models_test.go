package descriptor

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/internal/missing"
	"github.com/facekit/facekit/internal/testenv"
)

// mustEngine loads one engine per test binary (loading takes about a second).
func mustEngine(tb testing.TB) *engine.Engine {
	tb.Helper()
	return testenv.Engine(tb)
}

// mustFace decodes a test photo and returns its largest face with landmarks.
func mustFace(tb testing.TB, e *engine.Engine, name string) (*imageio.Image, engine.Face) {
	tb.Helper()
	data, err := os.ReadFile(testenv.Face(tb, name))
	if err != nil {
		tb.Fatal(err)
	}
	img, err := imageio.Decode(data, imageio.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	faces, err := e.Analyze(context.Background(), img, engine.Options{Upsample: -1, Landmarks: true, MaxFaces: 1})
	if err != nil || len(faces) == 0 {
		tb.Fatalf("%s: no face (%v)", name, err)
	}
	return img, faces[0]
}

// TestModelsTellPeopleApart runs every registered model on real photos: two
// photos of one person must be closer than either is to another person.
func TestModelsTellPeopleApart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every descriptor model on real photos")
	}
	e := mustEngine(t)
	env := Env{Engine: e, HumanModels: filepath.Join(testenv.ModelDir(t), "human-models")}
	type shot struct {
		img  *imageio.Image
		face engine.Face
	}
	var shots []shot
	for _, n := range []string{"jimin.jpg", "jimin2.jpg", "bona.jpg"} {
		img, f := mustFace(t, e, n)
		shots = append(shots, shot{img, f})
	}
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			d, err := Open(name, env)
			if err != nil {
				missing.Data(t, missing.ModelDir, "model not available: %v", err)
			}
			var v [][]float32
			for _, s := range shots {
				x, err := d.Describe(context.Background(), s.img, s.face)
				if err != nil {
					t.Fatal(err)
				}
				if len(x) != d.Dim() {
					t.Fatalf("got %d values, Dim() = %d", len(x), d.Dim())
				}
				v = append(v, x)
			}
			info, _ := Lookup(name)
			same, _ := Distance(info.Metric, v[0], v[1])
			diff1, _ := Distance(info.Metric, v[0], v[2])
			diff2, _ := Distance(info.Metric, v[1], v[2])
			t.Logf("same %.3f, different %.3f %.3f", same, diff1, diff2)
			if same >= diff1 || same >= diff2 {
				t.Errorf("same person %.3f apart, different people %.3f and %.3f", same, diff1, diff2)
			}
			if _, err := d.Describe(context.Background(), shots[0].img, engine.Face{}); err == nil {
				t.Error("a face without landmarks was described")
			}
		})
	}
}
