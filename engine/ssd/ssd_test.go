package ssd_test

import (
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/facekit/facekit/engine/imageio"
	"github.com/facekit/facekit/engine/ssd"
	"github.com/facekit/facekit/engine/tfgraph"
	"github.com/facekit/facekit/internal/testenv"
)

func mustDetector(tb testing.TB) *ssd.Detector {
	tb.Helper()
	d, err := ssd.Load(testenv.ModelDir(tb))
	if err != nil {
		tb.Skipf("SSD model: %v", err)
	}
	return d
}

func mustPhoto(tb testing.TB, name string) *imageio.Image {
	tb.Helper()
	img, err := imageio.Decode(testenv.Photo(tb, name), imageio.DefaultLimits())
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

// feature is an NHWC feature map of batch 1.
type feature struct {
	h, w, c int
	v       []float64
}

// conv is a direct TF convolution (SAME padding, odd padding pixel at the
// bottom/right), depthwise with multiplier 1 when dw is set.
func conv(x feature, f []float32, k, cout, stride int, dw bool) feature {
	oh, ow := (x.h+stride-1)/stride, (x.w+stride-1)/stride
	padT := max((oh-1)*stride+k-x.h, 0) / 2
	padL := max((ow-1)*stride+k-x.w, 0) / 2
	if dw {
		cout = x.c
	}
	out := feature{oh, ow, cout, make([]float64, oh*ow*cout)}
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			o := out.v[(oy*ow+ox)*cout : (oy*ow+ox+1)*cout]
			for ky := 0; ky < k; ky++ {
				iy := oy*stride + ky - padT
				if iy < 0 || iy >= x.h {
					continue
				}
				for kx := 0; kx < k; kx++ {
					ix := ox*stride + kx - padL
					if ix < 0 || ix >= x.w {
						continue
					}
					in := x.v[(iy*x.w+ix)*x.c : (iy*x.w+ix+1)*x.c]
					if dw {
						for c := range in {
							o[c] += in[c] * float64(f[(ky*k+kx)*x.c+c])
						}
						continue
					}
					for ci, xv := range in {
						row := f[((ky*k+kx)*x.c+ci)*cout:][:cout]
						for co, fv := range row {
							o[co] += xv * float64(fv)
						}
					}
				}
			}
		}
	}
	return out
}

// TestNetworkMatchesReference runs face-api's SSD network written out
// directly from its JavaScript (mobileNetV1.ts, predictionLayer.ts,
// boxPredictionLayer.ts: unfolded batch norm, clipping, float64 loops over
// face-api's own weights) and compares every box predictor output with the
// tfgraph network package ssd builds (batch norm folded, fused AVX2
// kernels).
func TestNetworkMatchesReference(t *testing.T) {
	if testing.Short() {
		t.Skip("the float64 reference takes seconds")
	}
	d := mustDetector(t)
	dir := filepath.Join(testenv.ModelDir(t), filepath.Dir(ssd.ManifestFile))
	manifest, err := os.ReadFile(filepath.Join(testenv.ModelDir(t), ssd.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	w, err := tfgraph.DecodeManifest(manifest, func(p string) ([]byte, error) { return os.ReadFile(filepath.Join(dir, p)) })
	if err != nil {
		t.Fatal(err)
	}
	img := mustPhoto(t, "pristin.jpg")
	in, _ := ssd.Input(img.Pix, img.Stride, img.Width, img.Height)
	x := feature{512, 512, 3, make([]float64, len(in.Data))}
	for i, v := range in.Data {
		x.v[i] = float64(v)
	}
	clip := func(f feature) feature {
		for i, v := range f.v {
			f.v[i] = math.Min(math.Max(v, 0), 6)
		}
		return f
	}
	addBias := func(f feature, b []float32) feature {
		for i := range f.v {
			f.v[i] += float64(b[i%f.c])
		}
		return f
	}
	pointwise := func(x feature, prefix string, idx, k, cout, stride int) feature {
		n := fmt.Sprintf("%s/Conv2d_%d_pointwise", prefix, idx)
		return clip(addBias(conv(x, w[n+"/weights"].Data, k, cout, stride, false), w[n+"/convolution_bn_offset"].Data))
	}
	out := pointwise(x, "MobilenetV1", 0, 3, 32, 2)
	chans := []int{32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024}
	var conv11 feature
	for i := 1; i <= 13; i++ {
		stride := 1
		if i == 2 || i == 4 || i == 6 || i == 12 {
			stride = 2
		}
		n := fmt.Sprintf("MobilenetV1/Conv2d_%d_depthwise", i)
		out = conv(out, w[n+"/depthwise_weights"].Data, 3, 0, stride, true)
		mean, variance := w[n+"/BatchNorm/moving_mean"].Data, w[n+"/BatchNorm/moving_variance"].Data
		gamma, beta := w[n+"/BatchNorm/gamma"].Data, w[n+"/BatchNorm/beta"].Data
		for j := range out.v {
			c := j % out.c
			out.v[j] = (out.v[j]-float64(mean[c]))*float64(gamma[c])/math.Sqrt(float64(variance[c])+0.0010000000474974513) + float64(beta[c])
		}
		out = pointwise(clip(out), "MobilenetV1", i, 1, chans[i], 1)
		if i == 11 {
			conv11 = out
		}
	}
	maps := []feature{conv11, out}
	p := out
	for i, k := range []int{1, 3, 1, 3, 1, 3, 1, 3} {
		cout := []int{256, 512, 128, 256, 128, 256, 64, 128}[i]
		p = pointwise(p, "Prediction", i, k, cout, 1+i%2)
		if i%2 == 1 {
			maps = append(maps, p)
		}
	}
	got, err := d.Raw(in)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range maps {
		for _, name := range func() []string { b, c := ssd.Predictor(i); return []string{b, c} }() {
			wt := w[name+"/weights"]
			ref := addBias(conv(m, wt.Data, 1, wt.Shape[3], 1, false), w[name+"/biases"].Data)
			g := got[name]
			if g == nil || len(g.Data) != len(ref.v) {
				t.Fatalf("%s: got %v, want %d values", name, g, len(ref.v))
			}
			var maxDiff, maxAbs float64
			for j, v := range ref.v {
				maxDiff = math.Max(maxDiff, math.Abs(float64(g.Data[j])-v))
				maxAbs = math.Max(maxAbs, math.Abs(v))
			}
			t.Logf("%s: %d values, max |diff| %.2g (max |value| %.3g)", name, len(ref.v), maxDiff, maxAbs)
			if maxDiff > 1e-3*math.Max(maxAbs, 1) {
				t.Errorf("%s: max |diff| %.3g from the reference (max |value| %.3g)", name, maxDiff, maxAbs)
			}
		}
	}
}

// TestDetectsAnnotatedFaces runs the detector on test photos whose faces
// are known: the group photo pristin.jpg (10 faces) and the profile photos
// eunseo.jpg and jimin3.jpg (one each), which HOG misses. At face-api's
// default score of 0.5 it finds 9 of the 10 (the tenth scores about 0.3)
// and both profiles; every box must be a distinct face, not a duplicate.
func TestDetectsAnnotatedFaces(t *testing.T) {
	d := mustDetector(t)
	tests := []struct {
		name           string
		faces, atLeast int
	}{
		{"pristin.jpg", 10, 9},
		{"eunseo.jpg", 1, 1},
		{"jimin3.jpg", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := mustPhoto(t, tt.name)
			got, err := d.Detect(img.Pix, img.Stride, img.Width, img.Height, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) < tt.atLeast || len(got) > tt.faces {
				t.Fatalf("%d faces, want %d..%d: %v", len(got), tt.atLeast, tt.faces, got)
			}
			for i, a := range got {
				if a.Score < ssd.DefaultMinScore || !a.Rect.In(image.Rect(0, 0, img.Width, img.Height)) {
					t.Errorf("face %d: %v", i, a)
				}
				for _, b := range got[:i] {
					if a.Rect.Overlaps(b.Rect) {
						t.Errorf("boxes %v and %v overlap: one face found twice", a.Rect, b.Rect)
					}
				}
			}
		})
	}
}
