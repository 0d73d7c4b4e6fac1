package tfgraph

import (
	"errors"
	"math"
	"testing"
)

// Helpers to build attributes the way model.json encodes them.
func sAttr(s string) attrJSON { return attrJSON{S: []byte(s)} }
func iAttr(i int) attrJSON    { v := jsonInt(i); return attrJSON{I: &v} }
func bAttr(b bool) attrJSON   { return attrJSON{B: &b} }
func fAttr(f float64) attrJSON {
	v := jsonFloat(f)
	return attrJSON{F: &v}
}
func iList(v ...int) attrJSON {
	l := &listJSON{}
	for _, x := range v {
		l.I = append(l.I, jsonInt(x))
	}
	return attrJSON{List: l}
}
func sList(v ...string) attrJSON {
	l := &listJSON{}
	for _, x := range v {
		l.S = append(l.S, []byte(x))
	}
	return attrJSON{List: l}
}

func fv(shape []int, d ...float32) *value { return floatValue(shape, d) }
func iv(d ...int32) *value                { return intValue([]int{len(d)}, d) }

// runOp compiles op and runs it twice: once with every input treated as a
// constant (so filters are pre-packed at compile time) and once with none
// (packed at run time), and checks both agree. workers=2 exercises the
// parallel paths even on small tensors.
func runOp(t *testing.T, op string, a attrs, in ...*value) *value {
	t.Helper()
	var first *value
	for _, consts := range [][]*value{in, make([]*value, len(in))} {
		k, err := compileOp(op, a, len(in), consts)
		if err != nil {
			t.Fatalf("compile %s: %v", op, err)
		}
		for _, workers := range []int{1, 2} {
			v, err := k(&runCtx{workers: workers}, in)
			if err != nil {
				t.Fatalf("run %s: %v", op, err)
			}
			if first == nil {
				first = v
				continue
			}
			if !sameShape(v.shape, first.shape) || !closeAll(v.floats(), first.floats(), 0) {
				t.Fatalf("%s differs between constant/computed inputs or worker counts: %v vs %v", op, v.floats(), first.floats())
			}
		}
	}
	return first
}

func closeAll(a, b []float32, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > tol {
			return false
		}
	}
	return true
}

func expect(t *testing.T, got *value, shape []int, want ...float32) {
	t.Helper()
	if !sameShape(got.shape, shape) {
		t.Fatalf("shape %v, want %v", got.shape, shape)
	}
	if !closeAll(got.floats(), want, 1e-5) {
		t.Fatalf("got %v, want %v", got.floats(), want)
	}
}

// x3 is the 3×3 single-channel image 1..9 used by the window tests.
func x3() *value { return fv([]int{1, 3, 3, 1}, 1, 2, 3, 4, 5, 6, 7, 8, 9) }

func ones(shape ...int) *value {
	d := make([]float32, numElements(shape))
	for i := range d {
		d[i] = 1
	}
	return floatValue(shape, d)
}

func TestConv2D(t *testing.T) {
	conv := func(padding string, stride, dil int) attrs {
		return attrs{"padding": sAttr(padding), "strides": iList(1, stride, stride, 1),
			"dilations": iList(1, dil, dil, 1), "data_format": sAttr("NHWC")}
	}
	tests := []struct {
		name  string
		a     attrs
		f     *value
		shape []int
		want  []float32
	}{
		{"ValidStride1", conv("VALID", 1, 1), ones(2, 2, 1, 1), []int{1, 2, 2, 1}, []float32{12, 16, 24, 28}},
		// SAME puts the odd padding pixel at the bottom/right.
		{"SameStride1", conv("SAME", 1, 1), ones(2, 2, 1, 1), []int{1, 3, 3, 1}, []float32{12, 16, 9, 24, 28, 15, 15, 17, 9}},
		{"SameStride2", conv("SAME", 2, 1), ones(2, 2, 1, 1), []int{1, 2, 2, 1}, []float32{12, 9, 15, 9}},
		{"Same3x3Stride2", conv("SAME", 2, 1), ones(3, 3, 1, 1), []int{1, 2, 2, 1}, []float32{12, 16, 24, 28}},
		{"ValidDilation2", conv("VALID", 1, 2), ones(2, 2, 1, 1), []int{1, 1, 1, 1}, []float32{1 + 3 + 7 + 9}},
		{"Explicit", attrs{"padding": sAttr("EXPLICIT"), "explicit_paddings": iList(0, 0, 1, 1, 1, 1, 0, 0)},
			ones(3, 3, 1, 1), []int{1, 3, 3, 1}, []float32{12, 21, 16, 27, 45, 33, 24, 39, 28}},
		{"TwoOutputChannels", conv("VALID", 1, 1), fv([]int{1, 1, 1, 2}, 1, -1), []int{1, 3, 3, 2},
			[]float32{1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6, 7, -7, 8, -8, 9, -9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, runOp(t, "Conv2D", tt.a, x3(), tt.f), tt.shape, tt.want...)
		})
	}
	t.Run("PointwiseMixesChannels", func(t *testing.T) {
		// Pixel [1,2] times [[1,2],[3,4]] = [7,10]; pixel [0,1] gives [3,4].
		x := fv([]int{1, 1, 2, 2}, 1, 2, 0, 1)
		f := fv([]int{1, 1, 2, 2}, 1, 2, 3, 4)
		expect(t, runOp(t, "Conv2D", conv("VALID", 1, 1), x, f), []int{1, 1, 2, 2}, 7, 10, 3, 4)
	})
	t.Run("ManyRowsMatchNaive", func(t *testing.T) {
		// Big enough for several GEMM row blocks, odd channel counts for
		// the panel edges; compared against a direct 6-loop convolution.
		x := patterned(1, 9, 11, 5)
		f := patterned(3, 3, 5, 7)
		got := runOp(t, "Conv2D", conv("SAME", 1, 1), x, f)
		want := naiveConv(x, f, 1, 1)
		if !closeAll(got.f, want, 1e-4) {
			t.Fatalf("GEMM conv differs from naive conv")
		}
	})
}

func patterned(shape ...int) *value {
	v := ones(shape...)
	for i := range v.f {
		v.f[i] = float32(math.Sin(float64(i)*0.7)) * 0.5
	}
	return v
}

// naiveConv is a direct SAME-padded stride-1 convolution for cross-checks.
func naiveConv(x, f *value, _, _ int) []float32 {
	h, w, ci := x.shape[1], x.shape[2], x.shape[3]
	kh, kw, co := f.shape[0], f.shape[1], f.shape[3]
	out := make([]float32, h*w*co)
	pt, pl := (kh-1)/2, (kw-1)/2
	for y := 0; y < h; y++ {
		for xx := 0; xx < w; xx++ {
			for o := 0; o < co; o++ {
				var s float32
				for ky := 0; ky < kh; ky++ {
					for kx := 0; kx < kw; kx++ {
						iy, ix := y-pt+ky, xx-pl+kx
						if iy < 0 || iy >= h || ix < 0 || ix >= w {
							continue
						}
						for c := 0; c < ci; c++ {
							s += x.f[(iy*w+ix)*ci+c] * f.f[((ky*kw+kx)*ci+c)*co+o]
						}
					}
				}
				out[(y*w+xx)*co+o] = s
			}
		}
	}
	return out
}

func TestFusedConv2D(t *testing.T) {
	base := func(ops ...string) attrs {
		return attrs{"padding": sAttr("VALID"), "strides": iList(1, 1, 1, 1), "fused_ops": sList(ops...), "num_args": iAttr(len(ops))}
	}
	neg := fv([]int{2, 2, 1, 1}, -1, -1, -1, -1)
	t.Run("BiasAdd", func(t *testing.T) {
		expect(t, runOp(t, "_FusedConv2D", base("BiasAdd"), x3(), neg, fv([]int{1}, 20)), []int{1, 2, 2, 1}, 8, 4, -4, -8)
	})
	t.Run("BiasAddRelu", func(t *testing.T) {
		expect(t, runOp(t, "_FusedConv2D", base("BiasAdd", "Relu"), x3(), neg, fv([]int{1}, 20)), []int{1, 2, 2, 1}, 8, 4, 0, 0)
	})
	t.Run("BiasAddRelu6", func(t *testing.T) {
		expect(t, runOp(t, "_FusedConv2D", base("BiasAdd", "Relu6"), x3(), neg, fv([]int{1}, 20)), []int{1, 2, 2, 1}, 6, 4, 0, 0)
	})
	t.Run("BiasAddPrelu", func(t *testing.T) {
		a := base("BiasAdd", "Prelu")
		expect(t, runOp(t, "_FusedConv2D", a, x3(), neg, fv([]int{1}, 20), fv([]int{1, 1, 1}, 0.5)), []int{1, 2, 2, 1}, 8, 4, -2, -4)
	})
	t.Run("BiasAddLeakyRelu", func(t *testing.T) {
		a := base("BiasAdd", "LeakyRelu")
		a["leakyrelu_alpha"] = fAttr(0.25)
		expect(t, runOp(t, "_FusedConv2D", a, x3(), neg, fv([]int{1}, 20)), []int{1, 2, 2, 1}, 8, 4, -1, -2)
	})
	t.Run("UnsupportedFusionFailsAtCompile", func(t *testing.T) {
		_, err := compileOp("_FusedConv2D", base("FusedBatchNorm"), 3, make([]*value, 3))
		if !errors.Is(err, ErrUnsupportedOp) {
			t.Fatalf("err = %v, want ErrUnsupportedOp", err)
		}
	})
}

func TestDepthwiseConv(t *testing.T) {
	a := attrs{"padding": sAttr("VALID"), "strides": iList(1, 1, 1, 1)}
	// Channel 0 is 1..9, channel 1 is all ones.
	x := fv([]int{1, 3, 3, 2}, 1, 1, 2, 1, 3, 1, 4, 1, 5, 1, 6, 1, 7, 1, 8, 1, 9, 1)
	t.Run("PerChannelFilters", func(t *testing.T) {
		f := fv([]int{2, 2, 2, 1}, 1, 2, 1, 2, 1, 2, 1, 2)
		expect(t, runOp(t, "DepthwiseConv2dNative", a, x, f), []int{1, 2, 2, 2}, 12, 8, 16, 8, 24, 8, 28, 8)
	})
	t.Run("ChannelMultiplier", func(t *testing.T) {
		f := fv([]int{1, 1, 2, 2}, 1, 10, 0, -1)
		got := runOp(t, "DepthwiseConv2dNative", a, fv([]int{1, 1, 1, 2}, 3, 5), f)
		expect(t, got, []int{1, 1, 1, 4}, 3, 30, 0, -5)
	})
	t.Run("SameStride2", func(t *testing.T) {
		s := attrs{"padding": sAttr("SAME"), "strides": iList(1, 2, 2, 1)}
		expect(t, runOp(t, "DepthwiseConv2dNative", s, x3(), ones(3, 3, 1, 1)), []int{1, 2, 2, 1}, 12, 16, 24, 28)
	})
	t.Run("FusedBiasRelu", func(t *testing.T) {
		fa := attrs{"padding": sAttr("VALID"), "fused_ops": sList("BiasAdd", "Relu"), "num_args": iAttr(1)}
		f := fv([]int{2, 2, 1, 1}, -1, -1, -1, -1)
		expect(t, runOp(t, "FusedDepthwiseConv2dNative", fa, x3(), f, fv([]int{1}, 20)), []int{1, 2, 2, 1}, 8, 4, 0, 0)
	})
}

func TestPool(t *testing.T) {
	pool := func(padding string, k, s int) attrs {
		return attrs{"padding": sAttr(padding), "ksize": iList(1, k, k, 1), "strides": iList(1, s, s, 1)}
	}
	tests := []struct {
		name, op string
		a        attrs
		shape    []int
		want     []float32
	}{
		{"MaxValid", "MaxPool", pool("VALID", 2, 1), []int{1, 2, 2, 1}, []float32{5, 6, 8, 9}},
		{"MaxSameStride2", "MaxPool", pool("SAME", 2, 2), []int{1, 2, 2, 1}, []float32{5, 6, 8, 9}},
		{"MaxSame3x3", "MaxPool", pool("SAME", 3, 2), []int{1, 2, 2, 1}, []float32{5, 6, 8, 9}},
		{"AvgValid", "AvgPool", pool("VALID", 2, 1), []int{1, 2, 2, 1}, []float32{3, 4, 6, 7}},
		// SAME averages only the in-image pixels of edge windows.
		{"AvgSameStride2", "AvgPool", pool("SAME", 2, 2), []int{1, 2, 2, 1}, []float32{3, 4.5, 7.5, 9}},
		{"AvgWhole", "AvgPool", pool("VALID", 3, 3), []int{1, 1, 1, 1}, []float32{5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, runOp(t, tt.op, tt.a, x3()), tt.shape, tt.want...)
		})
	}
}

func TestBinaryBroadcast(t *testing.T) {
	m23 := fv([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	tests := []struct {
		name  string
		op    string
		a, b  *value
		shape []int
		want  []float32
	}{
		{"SameShapeAdd", "AddV2", m23, m23, []int{2, 3}, []float32{2, 4, 6, 8, 10, 12}},
		{"RowVectorAdd", "Add", m23, fv([]int{3}, 10, 20, 30), []int{2, 3}, []float32{11, 22, 33, 14, 25, 36}},
		{"BiasAdd", "BiasAdd", m23, fv([]int{3}, 1, 1, 1), []int{2, 3}, []float32{2, 3, 4, 5, 6, 7}},
		{"ColumnTimesRow", "Mul", fv([]int{2, 1}, 1, 2), fv([]int{1, 3}, 1, 10, 100), []int{2, 3}, []float32{1, 10, 100, 2, 20, 200}},
		{"ScalarMinusMatrix", "Sub", fv([]int{}, 10), m23, []int{2, 3}, []float32{9, 8, 7, 6, 5, 4}},
		{"MatrixMinusColumn", "Sub", m23, fv([]int{2, 1}, 1, 4), []int{2, 3}, []float32{0, 1, 2, 0, 1, 2}},
		{"Div", "RealDiv", m23, fv([]int{1}, 2), []int{2, 3}, []float32{0.5, 1, 1.5, 2, 2.5, 3}},
		{"Maximum", "Maximum", m23, fv([]int{}, 3.5), []int{2, 3}, []float32{3.5, 3.5, 3.5, 4, 5, 6}},
		{"Minimum", "Minimum", m23, fv([]int{3}, 0, 5, 10), []int{2, 3}, []float32{0, 2, 3, 0, 5, 6}},
		{"Prelu", "Prelu", fv([]int{1, 2, 2}, -2, 3, -4, 5), fv([]int{2}, 0.5, 0.1), []int{1, 2, 2}, []float32{-1, 3, -2, 5}},
		{"RankThreeMiddleAxis", "Mul", fv([]int{2, 2, 2}, 1, 1, 1, 1, 1, 1, 1, 1), fv([]int{2, 1}, 2, 3), []int{2, 2, 2}, []float32{2, 2, 3, 3, 2, 2, 3, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, runOp(t, tt.op, attrs{}, tt.a, tt.b), tt.shape, tt.want...)
		})
	}
	t.Run("IncompatibleShapesFail", func(t *testing.T) {
		k, _ := compileOp("Add", attrs{}, 2, make([]*value, 2))
		if _, err := k(&runCtx{workers: 1}, []*value{m23, fv([]int{2}, 1, 2)}); !errors.Is(err, ErrShape) {
			t.Fatalf("err = %v, want ErrShape", err)
		}
	})
}

func TestUnary(t *testing.T) {
	x := fv([]int{4}, -2, -0.5, 1, 9)
	tests := []struct {
		op   string
		want []float32
	}{
		{"Relu", []float32{0, 0, 1, 9}},
		{"Relu6", []float32{0, 0, 1, 6}},
		{"Abs", []float32{2, 0.5, 1, 9}},
		{"Square", []float32{4, 0.25, 1, 81}},
		{"Neg", []float32{2, 0.5, -1, -9}},
		{"Sigmoid", []float32{0.11920292, 0.37754067, 0.7310586, 0.9998766}},
		{"Tanh", []float32{-0.9640276, -0.46211717, 0.7615942, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) { expect(t, runOp(t, tt.op, attrs{}, x), []int{4}, tt.want...) })
	}
	t.Run("RsqrtAndSqrt", func(t *testing.T) {
		p := fv([]int{2}, 4, 0.25)
		expect(t, runOp(t, "Rsqrt", attrs{}, p), []int{2}, 0.5, 2)
		expect(t, runOp(t, "Sqrt", attrs{}, p), []int{2}, 2, 0.5)
	})
	t.Run("LeakyReluAlpha", func(t *testing.T) {
		expect(t, runOp(t, "LeakyRelu", attrs{"alpha": fAttr(0.1)}, x), []int{4}, -0.2, -0.05, 1, 9)
	})
	t.Run("InputNotMutated", func(t *testing.T) {
		runOp(t, "Relu", attrs{}, x)
		if x.f[0] != -2 {
			t.Fatalf("Relu modified its input: %v", x.f)
		}
	})
}

func TestSoftmax(t *testing.T) {
	x := fv([]int{2, 2}, 0, float32(math.Log(3)), 1000, 1000)
	expect(t, runOp(t, "Softmax", attrs{}, x), []int{2, 2}, 0.25, 0.75, 0.5, 0.5)
}

func TestMatMul(t *testing.T) {
	a := fv([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	b := fv([]int{3, 2}, 1, 0, 0, 1, 1, -1)
	t.Run("Plain", func(t *testing.T) {
		expect(t, runOp(t, "MatMul", attrs{}, a, b), []int{2, 2}, 4, -1, 10, -1)
	})
	t.Run("TransposeB", func(t *testing.T) {
		bt := fv([]int{2, 3}, 1, 0, 1, 0, 1, -1)
		expect(t, runOp(t, "MatMul", attrs{"transpose_b": bAttr(true)}, a, bt), []int{2, 2}, 4, -1, 10, -1)
	})
	t.Run("TransposeA", func(t *testing.T) {
		at := fv([]int{3, 2}, 1, 4, 2, 5, 3, 6)
		expect(t, runOp(t, "MatMul", attrs{"transpose_a": bAttr(true)}, at, b), []int{2, 2}, 4, -1, 10, -1)
	})
	t.Run("FusedBiasRelu", func(t *testing.T) {
		fa := attrs{"fused_ops": sList("BiasAdd", "Relu"), "num_args": iAttr(1)}
		expect(t, runOp(t, "_FusedMatMul", fa, a, b, fv([]int{2}, 0, -5)), []int{2, 2}, 4, 0, 10, 0)
	})
	t.Run("WideMatchesNaive", func(t *testing.T) {
		// 1×40 · 40×37 crosses several column panels and the split
		// between workers.
		x, w := patterned(1, 40), patterned(40, 37)
		got := runOp(t, "MatMul", attrs{}, x, w)
		for j := 0; j < 37; j++ {
			var s float32
			for k := 0; k < 40; k++ {
				s += x.f[k] * w.f[k*37+j]
			}
			if math.Abs(float64(s-got.f[j])) > 1e-4 {
				t.Fatalf("column %d: %v, want %v", j, got.f[j], s)
			}
		}
	})
}

func TestReduce(t *testing.T) {
	x := fv([]int{1, 2, 2, 2}, 1, 10, 2, 20, 3, 30, 4, 40)
	tests := []struct {
		name, op string
		axes     *value
		keep     bool
		shape    []int
		want     []float32
	}{
		{"MeanSpatial", "Mean", iv(1, 2), false, []int{1, 2}, []float32{2.5, 25}},
		{"MeanSpatialKeep", "Mean", iv(1, 2), true, []int{1, 1, 1, 2}, []float32{2.5, 25}},
		{"MaxNegativeAxis", "Max", iv(-1), false, []int{1, 2, 2}, []float32{10, 20, 30, 40}},
		{"SumKeep", "Sum", iv(3), true, []int{1, 2, 2, 1}, []float32{11, 22, 33, 44}},
		{"SumAll", "Sum", iv(0, 1, 2, 3), false, []int{}, []float32{110}},
		{"Min", "Min", iv(1), false, []int{1, 2, 2}, []float32{1, 10, 2, 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, runOp(t, tt.op, attrs{"keep_dims": bAttr(tt.keep)}, x, tt.axes), tt.shape, tt.want...)
		})
	}
}

func TestShapeOps(t *testing.T) {
	x := fv([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	t.Run("ReshapeInfers", func(t *testing.T) {
		expect(t, runOp(t, "Reshape", attrs{}, x, iv(3, -1)), []int{3, 2}, 1, 2, 3, 4, 5, 6)
	})
	t.Run("ReshapeWrongSizeFails", func(t *testing.T) {
		if _, err := reshape(nil, []*value{x, iv(4, 2)}); !errors.Is(err, ErrShape) {
			t.Fatalf("err = %v, want ErrShape", err)
		}
	})
	t.Run("SqueezeDims", func(t *testing.T) {
		v := fv([]int{1, 1, 1, 3}, 1, 2, 3)
		expect(t, runOp(t, "Squeeze", attrs{"squeeze_dims": iList(1, 2)}, v), []int{1, 3}, 1, 2, 3)
	})
	t.Run("SqueezeAll", func(t *testing.T) {
		v := fv([]int{1, 1, 1, 3}, 1, 2, 3)
		expect(t, runOp(t, "Squeeze", attrs{}, v), []int{3}, 1, 2, 3)
	})
	t.Run("ExpandDimsNegative", func(t *testing.T) {
		expect(t, runOp(t, "ExpandDims", attrs{}, x, iv(-1)), []int{2, 3, 1}, 1, 2, 3, 4, 5, 6)
	})
	t.Run("ConcatLastAxis", func(t *testing.T) {
		y := fv([]int{2, 1}, 7, 8)
		expect(t, runOp(t, "ConcatV2", attrs{}, x, y, iv(-1)), []int{2, 4}, 1, 2, 3, 7, 4, 5, 6, 8)
	})
	t.Run("ConcatFirstAxis", func(t *testing.T) {
		expect(t, runOp(t, "ConcatV2", attrs{}, x, x, iv(0)), []int{4, 3}, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6)
	})
}

func TestPad(t *testing.T) {
	x := fv([]int{1, 3}, 1, 2, 3)
	p := intValue([]int{2, 2}, []int32{0, 0, 2, 2})
	t.Run("Zeros", func(t *testing.T) {
		expect(t, runOp(t, "Pad", attrs{}, x, p), []int{1, 7}, 0, 0, 1, 2, 3, 0, 0)
	})
	t.Run("Constant", func(t *testing.T) {
		expect(t, runOp(t, "PadV2", attrs{}, x, p, fv([]int{}, -1)), []int{1, 7}, -1, -1, 1, 2, 3, -1, -1)
	})
	t.Run("Reflect", func(t *testing.T) {
		expect(t, runOp(t, "MirrorPad", attrs{"mode": sAttr("REFLECT")}, x, p), []int{1, 7}, 3, 2, 1, 2, 3, 2, 1)
	})
	t.Run("Symmetric", func(t *testing.T) {
		expect(t, runOp(t, "MirrorPad", attrs{"mode": sAttr("SYMMETRIC")}, x, p), []int{1, 7}, 2, 1, 1, 2, 3, 3, 2)
	})
	t.Run("Spatial", func(t *testing.T) {
		pp := intValue([]int{4, 2}, []int32{0, 0, 1, 0, 0, 1, 0, 0})
		v := fv([]int{1, 1, 2, 1}, 5, 6)
		expect(t, runOp(t, "Pad", attrs{}, v, pp), []int{1, 2, 3, 1}, 0, 0, 0, 5, 6, 0)
	})
}

func TestStridedSlice(t *testing.T) {
	m23 := fv([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	r5 := fv([]int{5}, 0, 1, 2, 3, 4)
	x234 := patterned(2, 3, 4)
	tests := []struct {
		name              string
		x                 *value
		begin, end, strid *value
		masks             [5]int // begin, end, ellipsis, new_axis, shrink
		shape             []int
		want              []float32
	}{
		// The age model's pattern: x[:, 1] on a [N,3] tensor.
		{"ColumnShrink", m23, iv(0, 1), iv(0, 2), iv(1, 1), [5]int{1, 1, 0, 0, 2}, []int{2}, []float32{2, 5}},
		{"Range", r5, iv(1), iv(4), iv(1), [5]int{}, []int{3}, []float32{1, 2, 3}},
		{"NegativeBegin", r5, iv(-2), iv(0), iv(1), [5]int{0, 1, 0, 0, 0}, []int{2}, []float32{3, 4}},
		{"StrideTwoClampedEnd", r5, iv(1), iv(100), iv(2), [5]int{}, []int{2}, []float32{1, 3}},
		{"Reverse", r5, iv(0), iv(0), iv(-1), [5]int{1, 1, 0, 0, 0}, []int{5}, []float32{4, 3, 2, 1, 0}},
		{"ReverseStride2", r5, iv(-1), iv(0), iv(-2), [5]int{0, 1, 0, 0, 0}, []int{3}, []float32{4, 2, 0}},
		{"EmptyRange", r5, iv(3), iv(1), iv(1), [5]int{}, []int{0}, []float32{}},
		{"ShrinkNegativeIndex", m23, iv(-1), iv(0), iv(1), [5]int{0, 0, 0, 0, 1}, []int{3}, []float32{4, 5, 6}},
		{"NewAxisFirst", m23, iv(0, 0), iv(0, 0), iv(1, 1), [5]int{0, 0, 2, 1, 0}, []int{1, 2, 3}, []float32{1, 2, 3, 4, 5, 6}},
		{"EllipsisThenShrink", x234, iv(0, 1), iv(0, 2), iv(1, 1), [5]int{0, 0, 1, 0, 2}, []int{2, 3},
			[]float32{x234.f[1], x234.f[5], x234.f[9], x234.f[13], x234.f[17], x234.f[21]}},
		{"ImplicitTrailingAxes", x234, iv(1), iv(2), iv(1), [5]int{}, []int{1, 3, 4}, x234.f[12:24]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := attrs{"begin_mask": iAttr(tt.masks[0]), "end_mask": iAttr(tt.masks[1]), "ellipsis_mask": iAttr(tt.masks[2]),
				"new_axis_mask": iAttr(tt.masks[3]), "shrink_axis_mask": iAttr(tt.masks[4])}
			expect(t, runOp(t, "StridedSlice", a, tt.x, tt.begin, tt.end, tt.strid), tt.shape, tt.want...)
		})
	}
	t.Run("ShrinkOutOfRangeFails", func(t *testing.T) {
		k, _ := compileStridedSlice(attrs{"shrink_axis_mask": iAttr(1)})
		if _, err := k(nil, []*value{r5, iv(5), iv(6), iv(1)}); !errors.Is(err, ErrShape) {
			t.Fatalf("err = %v, want ErrShape", err)
		}
	})
}

func TestUnknownOpFailsAtCompile(t *testing.T) {
	_, err := compileOp("NonMaxSuppressionV5", attrs{}, 3, make([]*value, 3))
	if !errors.Is(err, ErrUnsupportedOp) {
		t.Fatalf("err = %v, want ErrUnsupportedOp", err)
	}
}
