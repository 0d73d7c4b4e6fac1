// Package ssd runs the SSD MobileNet v1 face detector of
// @vladmandic/face-api (ssd_mobilenetv1_model, MIT) in engine/tfgraph.
//
// face-api ships only weights (a TF.js weights manifest); the network is
// written in its JavaScript (src/ssdMobilenetv1). This package rebuilds that
// network as a graph for tfgraph, from these facts of the package source:
//
//   - input: the photo padded with zeros at the bottom or right to a square,
//     resized to 512×512 with TF's resizeBilinear (align_corners and
//     half_pixel_centers false), pixels v/127.5 − 1;
//   - MobileNet v1: a 3×3 stride-2 convolution, then 13 pairs of a 3×3
//     depthwise convolution (strides 2 at pairs 2, 4, 6 and 12) with batch
//     norm (ε = 0.001) and a 1×1 convolution plus offset, every one clipped
//     to 0..6 (Relu6), SAME padding;
//   - eight more convolutions (1×1, then 3×3 stride 2, alternately) and six
//     box predictors (1×1 convolutions with bias, no activation) on the
//     output of pair 11 (32×32, 3 anchors a cell) and on the 16×16, 8×8, 4×4,
//     2×2 and 1×1 maps (6 anchors a cell): 5118 anchors in all;
//   - anchors: the constant Output/extra_dim [1,5118,4] (ymin, xmin, ymax,
//     xmax, in 0..1 of the padded square); box encodings (ty, tx, th, tw)
//     decoded with TF object-detection's scales 10, 10, 5, 5;
//   - score: sigmoid of the second of three class logits;
//   - greedy non-maximum suppression at IoU 0.5, minimum score 0.5 by default.
//
// The batch norms are folded into the depthwise filters at load (the same
// arithmetic, done once), so every layer is a fused convolution with bias
// and Relu6 that tfgraph's AVX2 kernels run.
package ssd

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"sort"

	"github.com/facekit/facekit/engine/tfgraph"
)

// Files are the model files under the model directory (models/manifest.tsv).
const (
	ManifestFile = "face-api/ssd_mobilenetv1_model-weights_manifest.json"
	inputSize    = 512
	numAnchors   = 5118
	bnEpsilon    = 0.0010000000474974513 // face-api's mobileNetV1.ts
	// DefaultMinScore is face-api's default minConfidence.
	DefaultMinScore = 0.5
	nmsIoU          = 0.5 // face-api's locateFaces
)

// ErrNotFound is returned by Load when the model files are missing.
var ErrNotFound = errors.New("ssd: model not provisioned")

// Detector is a loaded SSD face detector. It is immutable and safe for
// concurrent use.
type Detector struct {
	model   *tfgraph.Model
	anchors []float32 // numAnchors × (ymin, xmin, ymax, xmax)
}

// Detection is one face: its box in the photo's pixels and its score (0..1).
type Detection struct {
	Rect  image.Rectangle
	Score float64
}

// Load reads the weights manifest (ManifestFile under modelDir) and its
// shard and builds the network.
func Load(modelDir string) (*Detector, error) {
	path := filepath.Join(modelDir, ManifestFile)
	manifest, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, path)
	}
	if err != nil {
		return nil, fmt.Errorf("ssd: %w", err)
	}
	dir := filepath.Dir(path)
	w, err := tfgraph.DecodeManifest(manifest, func(p string) ([]byte, error) {
		return os.ReadFile(filepath.Join(dir, filepath.Base(p)))
	})
	if err != nil {
		return nil, fmt.Errorf("ssd: %w", err)
	}
	return build(w)
}

// graph collects the nodes and weights of the network being built.
type graph struct {
	src     map[string]*tfgraph.Tensor // face-api's weights by name
	nodes   []nodeJSON
	weights []weightJSON
	shard   []byte
	err     error
}

type nodeJSON struct {
	Name  string              `json:"name"`
	Op    string              `json:"op"`
	Input []string            `json:"input,omitempty"`
	Attr  map[string]attrJSON `json:"attr,omitempty"`
}

type attrJSON struct {
	S     []byte     `json:"s,omitempty"`
	List  *listJSON  `json:"list,omitempty"`
	Shape *shapeJSON `json:"shape,omitempty"`
}

type listJSON struct {
	S [][]byte `json:"s,omitempty"`
	I []int    `json:"i,omitempty"`
}

type shapeJSON struct {
	Dim []struct {
		Size int `json:"size"`
	} `json:"dim"`
}

type weightJSON struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
	Dtype string `json:"dtype"`
}

// get returns a face-api weight, checking its shape.
func (g *graph) get(name string, shape ...int) []float32 {
	t, ok := g.src[name]
	if !ok {
		if g.err == nil {
			g.err = fmt.Errorf("ssd: weight %q missing", name)
		}
		return make([]float32, numel(shape))
	}
	if fmt.Sprint(t.Shape) != fmt.Sprint(shape) && g.err == nil {
		g.err = fmt.Errorf("ssd: weight %q has shape %v, want %v", name, t.Shape, shape)
	}
	if len(t.Data) != numel(shape) {
		return make([]float32, numel(shape))
	}
	return t.Data
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// konst adds a Const node holding data.
func (g *graph) konst(name string, data []float32, shape ...int) string {
	g.nodes = append(g.nodes, nodeJSON{Name: name, Op: "Const"})
	g.weights = append(g.weights, weightJSON{Name: name, Shape: shape, Dtype: "float32"})
	for _, v := range data {
		g.shard = binary.LittleEndian.AppendUint32(g.shard, math.Float32bits(v))
	}
	return name
}

// conv adds a convolution (depthwise or not) with bias and, if relu6, a
// Relu6, as the fused ops TF.js's converter writes.
func (g *graph) conv(name, in string, filter []float32, fshape []int, bias []float32, stride int, depthwise, relu6 bool) string {
	f := g.konst(name+"/filter", filter, fshape...)
	b := g.konst(name+"/bias", bias, len(bias))
	ops := [][]byte{[]byte("BiasAdd")}
	if relu6 {
		ops = append(ops, []byte("Relu6"))
	}
	op := "_FusedConv2D"
	if depthwise {
		op = "FusedDepthwiseConv2dNative"
	}
	g.nodes = append(g.nodes, nodeJSON{Name: name, Op: op, Input: []string{in, f, b}, Attr: map[string]attrJSON{
		"strides":   {List: &listJSON{I: []int{1, stride, stride, 1}}},
		"padding":   {S: []byte("SAME")},
		"fused_ops": {List: &listJSON{S: ops}},
	}})
	return name
}

// pointwise is face-api's pointwiseConvLayer: convolution + offset, Relu6.
func (g *graph) pointwise(prefix string, idx, k, cin, cout, stride int, in string) string {
	name := fmt.Sprintf("%s/Conv2d_%d_pointwise", prefix, idx)
	w := g.get(name+"/weights", k, k, cin, cout)
	b := g.get(name+"/convolution_bn_offset", cout)
	return g.conv(name, in, w, []int{k, k, cin, cout}, b, stride, false, true)
}

// depthwise is face-api's depthwiseConvLayer with its batch norm folded in:
// (conv(x) − mean)·γ/√(var+ε) + β = conv'(x) + β − mean·γ/√(var+ε), where
// conv' has every channel's filter scaled by γ/√(var+ε).
func (g *graph) depthwise(idx, c, stride int, in string) string {
	name := fmt.Sprintf("MobilenetV1/Conv2d_%d_depthwise", idx)
	w := g.get(name+"/depthwise_weights", 3, 3, c, 1)
	gamma := g.get(name+"/BatchNorm/gamma", c)
	beta := g.get(name+"/BatchNorm/beta", c)
	mean := g.get(name+"/BatchNorm/moving_mean", c)
	variance := g.get(name+"/BatchNorm/moving_variance", c)
	fw := make([]float32, len(w))
	bias := make([]float32, c)
	for ch := 0; ch < c; ch++ {
		s := float64(gamma[ch]) / math.Sqrt(float64(variance[ch])+bnEpsilon)
		for k := 0; k < 9; k++ {
			fw[k*c+ch] = float32(float64(w[k*c+ch]) * s)
		}
		bias[ch] = float32(float64(beta[ch]) - float64(mean[ch])*s)
	}
	return g.conv(name, in, fw, []int{3, 3, c, 1}, bias, stride, true, true)
}

// predictor names the box-encoding and class outputs of box predictor i.
func predictor(i int) (box, class string) {
	p := fmt.Sprintf("Prediction/BoxPredictor_%d", i)
	return p + "/BoxEncodingPredictor", p + "/ClassPredictor"
}

// The six feature maps the box predictors read: side, channels, anchors a cell.
var heads = [6]struct{ side, ch, anchors int }{
	{32, 512, 3}, {16, 1024, 6}, {8, 512, 6}, {4, 256, 6}, {2, 256, 6}, {1, 128, 6},
}

func build(w map[string]*tfgraph.Tensor) (*Detector, error) {
	g := &graph{src: w}
	g.nodes = append(g.nodes, nodeJSON{Name: "input", Op: "Placeholder", Attr: map[string]attrJSON{
		"shape": {Shape: &shapeJSON{Dim: []struct {
			Size int `json:"size"`
		}{{1}, {inputSize}, {inputSize}, {3}}}},
	}})
	// MobileNet v1 (mobileNetV1.ts).
	x := g.pointwise("MobilenetV1", 0, 3, 3, 32, 2, "input")
	chans := []int{32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024}
	var conv11 string
	for i := 1; i <= 13; i++ {
		stride := 1
		if i == 2 || i == 4 || i == 6 || i == 12 {
			stride = 2
		}
		x = g.depthwise(i, chans[i-1], stride, x)
		x = g.pointwise("MobilenetV1", i, 1, chans[i-1], chans[i], 1, x)
		if i == 11 {
			conv11 = x
		}
	}
	// Prediction layers (predictionLayer.ts).
	maps := []string{conv11, x}
	p := x
	extra := []struct{ k, cin, cout, stride int }{
		{1, 1024, 256, 1}, {3, 256, 512, 2}, {1, 512, 128, 1}, {3, 128, 256, 2},
		{1, 256, 128, 1}, {3, 128, 256, 2}, {1, 256, 64, 1}, {3, 64, 128, 2},
	}
	for i, e := range extra {
		p = g.pointwise("Prediction", i, e.k, e.cin, e.cout, e.stride, p)
		if i%2 == 1 {
			maps = append(maps, p)
		}
	}
	for i, h := range heads {
		box, class := predictor(i)
		g.conv(box, maps[i], g.get(box+"/weights", 1, 1, h.ch, 4*h.anchors), []int{1, 1, h.ch, 4 * h.anchors},
			g.get(box+"/biases", 4*h.anchors), 1, false, false)
		g.conv(class, maps[i], g.get(class+"/weights", 1, 1, h.ch, 3*h.anchors), []int{1, 1, h.ch, 3 * h.anchors},
			g.get(class+"/biases", 3*h.anchors), 1, false, false)
	}
	anchors := g.get("Output/extra_dim", 1, numAnchors, 4)
	if g.err != nil {
		return nil, g.err
	}
	model := map[string]any{
		"format":          "graph-model",
		"modelTopology":   map[string]any{"node": g.nodes},
		"weightsManifest": []any{map[string]any{"paths": []string{"weights.bin"}, "weights": g.weights}},
	}
	js, err := json.Marshal(model)
	if err != nil {
		return nil, fmt.Errorf("ssd: %w", err)
	}
	m, err := tfgraph.LoadBytes(js, map[string][]byte{"weights.bin": g.shard})
	if err != nil {
		return nil, fmt.Errorf("ssd: %w", err)
	}
	return &Detector{model: m, anchors: append([]float32(nil), anchors...)}, nil
}

// Input builds the network's input from a packed RGB image (3 bytes a pixel,
// stride bytes a row): padded with black at the bottom or right to a
// square and resized to 512×512 the way TF's resizeBilinear does without
// align_corners or half-pixel centres (source = destination × scale), then
// scaled to −1..1. It returns the side of the square.
func Input(pix []byte, stride, w, h int) (*tfgraph.Tensor, int) {
	side := max(w, h)
	t := tfgraph.NewTensor(1, inputSize, inputSize, 3)
	scale := float64(side) / inputSize
	at := func(x, y, c int) float32 {
		if x >= w || y >= h { // the zero padding
			return 0
		}
		return float32(pix[y*stride+3*x+c])
	}
	type tap struct {
		i0, i1 int
		f      float32
	}
	taps := make([]tap, inputSize)
	for d := range taps {
		s := float64(d) * scale
		i0 := int(s)
		i1 := min(i0+1, side-1)
		taps[d] = tap{i0, i1, float32(s - float64(i0))}
	}
	for dy := 0; dy < inputSize; dy++ {
		ty := taps[dy]
		for dx := 0; dx < inputSize; dx++ {
			tx := taps[dx]
			o := (dy*inputSize + dx) * 3
			for c := 0; c < 3; c++ {
				top := at(tx.i0, ty.i0, c) + (at(tx.i1, ty.i0, c)-at(tx.i0, ty.i0, c))*tx.f
				bot := at(tx.i0, ty.i1, c) + (at(tx.i1, ty.i1, c)-at(tx.i0, ty.i1, c))*tx.f
				v := top + (bot-top)*ty.f
				t.Data[o+c] = v/127.5 - 1
			}
		}
	}
	return t, side
}

// candidate is one decoded anchor: box in 0..1 of the padded square.
type candidate struct {
	ymin, xmin, ymax, xmax float64
	score                  float64
}

// Detect finds faces in a packed RGB image; boxes with a score below
// minScore are dropped (DefaultMinScore if minScore ≤ 0).
func (d *Detector) Detect(pix []byte, stride, w, h int, minScore float64) ([]Detection, error) {
	if w <= 0 || h <= 0 {
		return nil, nil
	}
	if minScore <= 0 {
		minScore = DefaultMinScore
	}
	in, side := Input(pix, stride, w, h)
	names := make([]string, 0, 2*len(heads))
	for i := range heads {
		box, class := predictor(i)
		names = append(names, box, class)
	}
	out, err := d.model.Run(map[string]*tfgraph.Tensor{"input": in}, names...)
	if err != nil {
		return nil, fmt.Errorf("ssd: %w", err)
	}
	cands := d.decode(out, minScore)
	keep := nms(cands, nmsIoU)
	dets := make([]Detection, 0, len(keep))
	s := float64(side)
	for _, c := range keep {
		// face-api clamps to the padded square; clamp to the photo too.
		x0, y0 := math.Max(c.xmin, 0)*s, math.Max(c.ymin, 0)*s
		x1, y1 := math.Min(c.xmax*s, float64(w)), math.Min(c.ymax*s, float64(h))
		r := image.Rect(int(math.Round(x0)), int(math.Round(y0)), int(math.Round(x1)), int(math.Round(y1)))
		if r.Empty() {
			continue
		}
		dets = append(dets, Detection{Rect: r, Score: c.score})
	}
	return dets, nil
}

// decode turns the predictor outputs into scored boxes (outputLayer.ts):
// anchor centre and size from Output/extra_dim, box centre moved by
// (ty/10, tx/10) anchor sizes, sides scaled by exp(th/5), exp(tw/5).
func (d *Detector) decode(out map[string]*tfgraph.Tensor, minScore float64) []candidate {
	var cands []candidate
	a := 0 // anchor index across the heads, in concat order
	for i, h := range heads {
		box, class := predictor(i)
		bd, cd := out[box].Data, out[class].Data
		n := h.side * h.side * h.anchors
		for k := 0; k < n; k, a = k+1, a+1 {
			score := 1 / (1 + math.Exp(-float64(cd[3*k+1])))
			if score <= minScore {
				continue
			}
			an := d.anchors[4*a : 4*a+4]
			ah, aw := float64(an[2]-an[0]), float64(an[3]-an[1])
			acy, acx := float64(an[0])+ah/2, float64(an[1])+aw/2
			ty, tx, th, tw := float64(bd[4*k]), float64(bd[4*k+1]), float64(bd[4*k+2]), float64(bd[4*k+3])
			cy, cx := ty/10*ah+acy, tx/10*aw+acx
			hh, hw := math.Exp(th/5)*ah/2, math.Exp(tw/5)*aw/2
			cands = append(cands, candidate{cy - hh, cx - hw, cy + hh, cx + hw, score})
		}
	}
	return cands
}

// nms keeps boxes best first, dropping any whose IoU with a kept one
// exceeds thr (face-api's nonMaxSuppression.ts).
func nms(c []candidate, thr float64) []candidate {
	sort.SliceStable(c, func(i, j int) bool { return c[i].score > c[j].score })
	var keep []candidate
	for _, b := range c {
		ok := true
		for _, k := range keep {
			if iou(b, k) > thr {
				ok = false
				break
			}
		}
		if ok {
			keep = append(keep, b)
		}
	}
	return keep
}

func iou(a, b candidate) float64 {
	areaA := (a.ymax - a.ymin) * (a.xmax - a.xmin)
	areaB := (b.ymax - b.ymin) * (b.xmax - b.xmin)
	if areaA <= 0 || areaB <= 0 {
		return 0
	}
	ih := math.Max(math.Min(a.ymax, b.ymax)-math.Max(a.ymin, b.ymin), 0)
	iw := math.Max(math.Min(a.xmax, b.xmax)-math.Max(a.xmin, b.xmin), 0)
	inter := ih * iw
	return inter / (areaA + areaB - inter)
}
