package descriptor

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/facekit/facekit/engine"
	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/engine/tfgraph"
	"github.com/facekit/facekit/internal/testenv"
)

// numpyFixture is what scripts/tfgraph-reference.py writes.
type numpyFixture struct {
	Model    string `json:"model"`
	Repaired bool   `json:"repaired"`
	Input    struct {
		Shape []int   `json:"shape"`
		Sum   float64 `json:"sum"`
		SumSq float64 `json:"sumsq"`
	} `json:"input"`
	Nodes []struct {
		Name   string    `json:"name"`
		Shape  []int     `json:"shape"`
		Values []float64 `json:"values"` // the first values in row-major order
		Sum    float64   `json:"sum"`
		SumAbs float64   `json:"sumabs"`
	} `json:"nodes"`
}

// TestMobileFaceNetMatchesNumPy checks engine/tfgraph against an
// independent evaluation of the same graph: scripts/tfgraph-reference.py
// computes MobileFaceNet's graph (as converted, and with descriptor's two
// repairs) in float64 NumPy on the aligned crop of a real face, and the
// fixtures in testdata hold its values for the embedding and a few layers
// on the way. Both kernel sets (AVX2 and portable) must agree with them.
//
// To regenerate (after a change to the alignment or the graph repairs):
//
//	FACEKIT_WRITE_REFERENCE_INPUT=/tmp/in.f32 go test ./descriptor -run TestMobileFaceNetMatchesNumPy
//	/usr/bin/python3 scripts/tfgraph-reference.py MODELS/human-models/mobilefacenet.json /tmp/in.f32 \
//	    descriptor/testdata/mobilefacenet-numpy.json NODES...            # and with --repair: -repaired.json
//
// with NODES the node names listed in the fixtures.
func TestMobileFaceNetMatchesNumPy(t *testing.T) {
	e := mustEngine(t)
	img, face := mustFace(t, e, "jimin.jpg")
	path := filepath.Join(testenv.ModelDir(t), "human-models", MobileFaceNet.File)
	d, err := OpenTF(path, MobileFaceNet)
	if err != nil {
		t.Fatal(err)
	}
	in, err := d.(*tfDescriber).Input(img, face)
	if err != nil {
		t.Fatal(err)
	}
	if p := os.Getenv("FACEKIT_WRITE_REFERENCE_INPUT"); p != "" {
		buf := make([]byte, 4*len(in.Data))
		for i, v := range in.Data {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var sum, sumSq float64
	for _, v := range in.Data {
		sum += float64(v)
		sumSq += float64(v) * float64(v)
	}
	for _, fx := range []struct {
		file   string
		repair graphRepairs
	}{
		{"mobilefacenet-numpy.json", graphRepairs{}},
		{"mobilefacenet-numpy-repaired.json", graphRepairs{unfuseRelu: true, flipPReLUNegSign: true}},
	} {
		t.Run(fx.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", fx.file))
			if err != nil {
				t.Fatal(err)
			}
			var ref numpyFixture
			if err := json.Unmarshal(data, &ref); err != nil {
				t.Fatal(err)
			}
			if ref.Repaired != (fx.repair != graphRepairs{}) || len(ref.Nodes) == 0 {
				t.Fatalf("fixture %s is for repaired=%v with %d nodes", fx.file, ref.Repaired, len(ref.Nodes))
			}
			// The fixture was computed from this photo's crop; if the
			// alignment changed, the comparison below would mean nothing.
			if math.Abs(sum-ref.Input.Sum) > 1e-3 || math.Abs(sumSq-ref.Input.SumSq) > 1e-3*ref.Input.SumSq {
				t.Fatalf("input crop changed (sum %v, sumsq %v; fixture %v, %v): regenerate the fixture (see the test's comment)",
					sum, sumSq, ref.Input.Sum, ref.Input.SumSq)
			}
			m, err := loadGraph(path, fx.repair)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, n := range ref.Nodes {
				names = append(names, n.Name)
			}
			for _, simd := range []bool{true, false} {
				was := tfgraph.SetSIMD(simd)
				out, err := m.Run(map[string]*tfgraph.Tensor{m.Inputs()[0].Name: in}, names...)
				tfgraph.SetSIMD(was)
				if err != nil {
					t.Fatal(err)
				}
				for _, n := range ref.Nodes {
					got := out[n.Name]
					if numel(got.Shape) != numel(n.Shape) {
						t.Fatalf("simd=%v %s: shape %v, NumPy %v", simd, n.Name, got.Shape, n.Shape)
					}
					// Relative to the layer's scale: activations reach ~50,
					// where float32 resolves ~4e-6.
					scale := 1.0
					for _, v := range n.Values {
						scale = math.Max(scale, math.Abs(v))
					}
					var worst, gotAbs float64
					for i, v := range n.Values {
						worst = math.Max(worst, math.Abs(float64(got.Data[i])-v))
					}
					for _, v := range got.Data {
						gotAbs += math.Abs(float64(v))
					}
					if worst > 1e-4*scale || math.Abs(gotAbs-n.SumAbs) > 1e-4*n.SumAbs {
						t.Errorf("simd=%v %s: largest difference %.3g (scale %.3g), sum|x| %v vs NumPy %v",
							simd, n.Name, worst, scale, gotAbs, n.SumAbs)
					}
					t.Logf("simd=%v %s %v: largest abs difference %.3g (largest |value| %.3g)", simd, n.Name, n.Shape, worst, scale)
				}
			}
		})
	}
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// TestTFDescriptorsSIMDMatchPortable describes real faces with every TF.js
// descriptor model through both tfgraph kernel sets: the AVX2 kernels
// must not move a descriptor by more than 1e-4 in any component.
func TestTFDescriptorsSIMDMatchPortable(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the TF.js descriptors on real photos twice")
	}
	e := mustEngine(t)
	dir := filepath.Join(testenv.ModelDir(t), "human-models")
	type shot struct {
		name string
		img  *imageio.Image
		face engine.Face
	}
	var shots []shot
	for _, n := range []string{"jimin.jpg", "bona.jpg", "tzuyu.jpg", "seulgi.jpg"} {
		img, f := mustFace(t, e, n)
		shots = append(shots, shot{n, img, f})
	}
	for _, cfg := range []TFConfig{MobileFaceNet, MobileFace, FaceRes} {
		t.Run(cfg.Name, func(t *testing.T) {
			d, err := OpenTF(filepath.Join(dir, cfg.File), cfg)
			if err != nil {
				t.Skipf("model not available: %v", err)
			}
			var worst float64
			for _, s := range shots {
				var fast, slow []float32
				for _, simd := range []bool{true, false} {
					was := tfgraph.SetSIMD(simd)
					v, err := d.Describe(context.Background(), s.img, s.face)
					tfgraph.SetSIMD(was)
					if err != nil {
						t.Fatal(err)
					}
					if simd {
						fast = v
					} else {
						slow = v
					}
				}
				for i := range fast {
					worst = math.Max(worst, math.Abs(float64(fast[i]-slow[i])))
				}
			}
			if worst > 1e-4 {
				t.Errorf("AVX2 and portable descriptors differ by up to %g", worst)
			}
			t.Logf("largest component difference %.3g over %d faces", worst, len(shots))
		})
	}
}
