package descriptor

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/facekit/facekit/engine/tfgraph"
	"github.com/facekit/facekit/internal/missing"
	"github.com/facekit/facekit/internal/testenv"
)

// TestMobileFaceNetRepairFitsBatchNorm checks the PReLU repairs against
// the statistics the graph carries. A batch-norm shift β whose output only
// reaches linear layers followed by another batch norm gets no gradient
// and stays 0 (MobileFaceNet's Conv_1 projections feed residual adds and
// then 1×1 convolutions with batch norm), so on faces the network was
// trained for, each channel of those outputs must average about 0 relative
// to its spread. With the PReLU signs as exported the means sit several
// spreads away; repaired, well under one.
func TestMobileFaceNetRepairFitsBatchNorm(t *testing.T) {
	if testing.Short() {
		t.Skip("runs MobileFaceNet on real photos")
	}
	e := mustEngine(t)
	path := filepath.Join(testenv.ModelDir(t), "human-models", MobileFaceNet.File)
	var inputs []*tfgraph.Tensor
	for _, n := range []string{"jimin.jpg", "jimin2.jpg", "bona.jpg", "bona2.jpg", "chaeyeon.jpg", "chaeyoung.jpg", "elkie.jpg"} {
		img, f := mustFace(t, e, n)
		in, err := (&tfDescriber{cfg: MobileFaceNet}).Input(img, f)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, in)
	}
	var layers []string
	for _, b := range []string{"2_InvResBlock_0", "2_InvResBlock_4", "4_InvResBlock_2", "6_InvResBlock_1"} {
		layers = append(layers, "MobileFaceNet/MobileFaceNet/Conv2d_"+b+"/Conv_1/BatchNorm/FusedBatchNorm")
	}
	for _, tc := range []struct {
		name    string
		repairs graphRepairs
		fits    bool
	}{
		{"Repaired", graphRepairs{unfuseRelu: true, flipPReLUNegSign: true}, true},
		{"SignAsExported", graphRepairs{unfuseRelu: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := loadGraph(path, tc.repairs)
			if err != nil {
				missing.Data(t, missing.ModelDir, "model not available: %v", err)
			}
			for _, layer := range layers {
				r := meanOverSpread(t, m, inputs, layer)
				t.Logf("%s: mean |μ|/σ %.2f", strings.TrimPrefix(layer, "MobileFaceNet/"), r)
				if tc.fits && r > 0.6 {
					t.Errorf("%s: channel means %.2f spreads from 0", layer, r)
				}
				if !tc.fits && r < 1 {
					t.Errorf("%s: channel means only %.2f spreads from 0; the sign repair may be unnecessary", layer, r)
				}
			}
		})
	}
}

// meanOverSpread runs m on the inputs and returns, averaged over the
// channels of node, |mean| / standard deviation of the channel's values.
func meanOverSpread(tb testing.TB, m *tfgraph.Model, inputs []*tfgraph.Tensor, node string) float64 {
	tb.Helper()
	var sum, sum2 []float64
	var n float64
	for _, in := range inputs {
		out, err := m.Run(map[string]*tfgraph.Tensor{m.Inputs()[0].Name: in}, node)
		if err != nil {
			tb.Fatal(err)
		}
		v := out[node]
		c := v.Shape[len(v.Shape)-1]
		if sum == nil {
			sum, sum2 = make([]float64, c), make([]float64, c)
		}
		for i, x := range v.Data {
			sum[i%c] += float64(x)
			sum2[i%c] += float64(x) * float64(x)
		}
		n += float64(len(v.Data) / c)
	}
	var r float64
	for k := range sum {
		mu := sum[k] / n
		sd := math.Sqrt(math.Max(sum2[k]/n-mu*mu, 1e-12))
		r += math.Abs(mu) / sd
	}
	return r / float64(len(sum))
}
