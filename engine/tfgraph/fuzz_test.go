package tfgraph

import (
	"errors"
	"strings"
	"testing"
)

// FuzzLoadAndRun feeds arbitrary model.json text (no weight shards) through
// Load and, when it loads, Run with small inputs. Errors are fine; a crash,
// or a panic that Run had to turn into ErrInternal, is a bug.
func FuzzLoadAndRun(f *testing.F) {
	f.Add(tinyGraph)
	f.Add(strings.Replace(tinyGraph, `"op":"Relu"`, `"op":"Softmax"`, 1))
	f.Add(`{"format":"graph-model","modelTopology":{"node":[
		{"name":"x","op":"Placeholder","attr":{"shape":{"shape":{"dim":[{"size":"1"},{"size":"4"},{"size":"4"},{"size":"2"}]}}}},
		{"name":"w","op":"Const","attr":{"value":{"tensor":{"dtype":"DT_FLOAT","tensorShape":{"dim":[{"size":"3"},{"size":"3"},{"size":"2"},{"size":"1"}]},"floatVal":[0.5]}}}},
		{"name":"c","op":"DepthwiseConv2dNative","input":["x","w"],"attr":{"padding":{"s":"U0FNRQ=="},"strides":{"list":{"i":["1","2","2","1"]}}}},
		{"name":"p","op":"MaxPool","input":["c"],"attr":{"padding":{"s":"VkFMSUQ="},"ksize":{"list":{"i":["1","2","2","1"]}},"strides":{"list":{"i":["1","1","1","1"]}}}},
		{"name":"ax","op":"Const","attr":{"value":{"tensor":{"dtype":"DT_INT32","tensorShape":{"dim":[{"size":"2"}]},"intVal":[1,2]}}}},
		{"name":"m","op":"Mean","input":["p","ax"]}]},"weightsManifest":[]}`)
	f.Add(`{"format":"graph-model","modelTopology":{"node":[
		{"name":"x","op":"Placeholder","attr":{"shape":{"shape":{"dim":[{"size":"2"},{"size":"3"}]}}}},
		{"name":"b","op":"Const","attr":{"value":{"tensor":{"dtype":"DT_INT32","tensorShape":{"dim":[{"size":"2"}]},"intVal":[0,1]}}}},
		{"name":"e","op":"Const","attr":{"value":{"tensor":{"dtype":"DT_INT32","tensorShape":{"dim":[{"size":"2"}]},"intVal":[0,2]}}}},
		{"name":"s","op":"Const","attr":{"value":{"tensor":{"dtype":"DT_INT32","tensorShape":{"dim":[{"size":"2"}]},"intVal":[1,1]}}}},
		{"name":"y","op":"StridedSlice","input":["x","b","e","s"],"attr":{"begin_mask":{"i":"1"},"end_mask":{"i":"1"},"shrink_axis_mask":{"i":"2"}}},
		{"name":"p","op":"Const","attr":{"value":{"tensor":{"dtype":"DT_INT32","tensorShape":{"dim":[{"size":"1"},{"size":"2"}]},"intVal":[1,1]}}}},
		{"name":"z","op":"Pad","input":["y","p"]}]},"weightsManifest":[]}`)
	f.Fuzz(func(t *testing.T, js string) {
		m, err := LoadBytes([]byte(js), nil)
		if err != nil {
			return
		}
		inputs := map[string]*Tensor{}
		for _, in := range m.Inputs() {
			shape := append([]int(nil), in.Shape...)
			for i, d := range shape {
				if d < 0 {
					shape[i] = 1
				}
			}
			if n, err := checkedElements(shape); err != nil || n > 1<<16 {
				return
			}
			inputs[in.Name] = NewTensor(shape...)
		}
		if _, err := m.Run(inputs); errors.Is(err, ErrInternal) {
			t.Fatalf("Run panicked: %v", err)
		}
	})
}

// FuzzKernels drives the index-heavy kernels with arbitrary small shapes,
// windows, paddings and slice specs. They must return a result or an error,
// never panic.
func FuzzKernels(f *testing.F) {
	f.Add(uint8(0), uint8(3), uint8(3), uint8(2), uint8(2), uint8(2), uint8(1), int8(0), int8(1), int8(1), uint8(0))
	f.Add(uint8(1), uint8(5), uint8(4), uint8(3), uint8(3), uint8(1), uint8(2), int8(-1), int8(0), int8(-1), uint8(7))
	f.Add(uint8(2), uint8(1), uint8(1), uint8(1), uint8(4), uint8(4), uint8(3), int8(2), int8(9), int8(2), uint8(21))
	f.Fuzz(func(t *testing.T, which, h, w, c, kh, kw, stride uint8, b, e, s int8, masks uint8) {
		h, w, c = h%9, w%9, c%5
		if which&0x80 != 0 {
			c = 8 * (c%3 + 1) // channel counts the AVX2 kernels take
		}
		kh, kw, stride = kh%5, kw%5, stride%4
		x := patterned(1, int(h), int(w), int(c))
		var op string
		var a attrs
		var in []*value
		switch which % 8 {
		case 0, 1:
			op = "Conv2D"
			if which%8 == 1 {
				op = "DepthwiseConv2dNative"
			}
			pad := []string{"SAME", "VALID", "EXPLICIT"}[int(masks)%3]
			a = attrs{"padding": sAttr(pad), "strides": iList(1, int(stride), int(stride), 1),
				"dilations":         iList(1, 1+int(masks>>4)%3, 1+int(masks>>6)%2, 1),
				"explicit_paddings": iList(0, 0, int(b)%3, int(e)%3, int(s)%3, 1, 0, 0)}
			in = []*value{x, patterned(int(kh), int(kw), int(c), 1+int(masks)%3)}
		case 2:
			op = "MaxPool"
			if masks%2 == 1 {
				op = "AvgPool"
			}
			a = attrs{"padding": sAttr([]string{"SAME", "VALID"}[int(masks>>1)%2]),
				"ksize": iList(1, int(kh), int(kw), 1), "strides": iList(1, int(stride), int(stride), 1)}
			in = []*value{x}
		case 3:
			op = "StridedSlice"
			a = attrs{"begin_mask": iAttr(int(masks) & 3), "end_mask": iAttr(int(masks>>2) & 3),
				"ellipsis_mask": iAttr(int(masks>>4) & 1), "new_axis_mask": iAttr(int(masks>>5) & 1),
				"shrink_axis_mask": iAttr(int(masks>>6) & 3)}
			in = []*value{x, iv(int32(b), int32(e)), iv(int32(e), int32(s)), iv(int32(s), int32(b))}
		case 4:
			op = "MirrorPad"
			a = attrs{"mode": sAttr([]string{"REFLECT", "SYMMETRIC"}[int(masks)%2])}
			in = []*value{x, intValue([]int{4, 2}, []int32{0, 0, int32(b) % 4, int32(e) % 4, int32(s) % 4, 1, 0, 0})}
		case 5:
			op = "ConcatV2"
			in = []*value{x, patterned(1, int(h), int(kw), int(c)), iv(int32(b))}
		case 6:
			op = []string{"AddV2", "Sub", "Maximum", "Prelu", "RealDiv"}[int(masks)%5]
			in = []*value{patterned(int(h), 1, int(c)), patterned(int(kw), int(kh))}
		case 7:
			op = []string{"Mean", "Max", "Sum", "Min"}[int(masks)%4]
			a = attrs{"keep_dims": bAttr(masks&4 != 0)}
			in = []*value{x, iv(int32(b), int32(e))}
		}
		k, err := compileOp(op, a, len(in), in)
		if err != nil {
			return
		}
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("%s %v panicked: %v", op, a, p)
			}
		}()
		v, err := k(&runCtx{workers: 2}, in)
		if err == nil && len(v.floats()) != numElements(v.shape) {
			t.Fatalf("%s: %d values for shape %v", op, len(v.floats()), v.shape)
		}
		// The AVX2 kernels must agree with the portable ones.
		if err == nil && hasAVX2 && which%8 <= 1 {
			useAVX2 = false
			ref, err2 := k(&runCtx{workers: 2}, in)
			useAVX2 = true
			if err2 != nil {
				t.Fatalf("%s: portable kernel failed (%v) where AVX2 succeeded", op, err2)
			}
			if d := maxAbsDiff(v.f, ref.f); !sameShape(v.shape, ref.shape) || d > 1e-5 {
				t.Fatalf("%s %v: AVX2 and portable kernels differ by %g (shapes %v, %v)", op, a, d, v.shape, ref.shape)
			}
		}
	})
}
