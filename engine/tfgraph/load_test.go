package tfgraph

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
)

// constGraph is a model.json whose only computed node is out = Identity(w),
// with w described by manifestWeight; running it returns the decoded weight.
func constGraph(manifestWeight string) string {
	return `{"format":"graph-model","modelTopology":{"node":[
		{"name":"w","op":"Const","attr":{"dtype":{"type":"DT_FLOAT"}}},
		{"name":"out","op":"Identity","input":["w"]}]},
	"weightsManifest":[{"paths":["g.bin"],"weights":[` + manifestWeight + `]}]}`
}

func runConst(t *testing.T, manifestWeight string, bin []byte) []float32 {
	t.Helper()
	m, err := LoadBytes([]byte(constGraph(manifestWeight)), map[string][]byte{"g.bin": bin})
	if err != nil {
		t.Fatalf("LoadBytes: %v", err)
	}
	out, err := m.Run(nil, "out")
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return out["out"].Data
}

func TestDequantize(t *testing.T) {
	u16 := make([]byte, 6)
	binary.LittleEndian.PutUint16(u16[0:], 0)
	binary.LittleEndian.PutUint16(u16[2:], 1000)
	binary.LittleEndian.PutUint16(u16[4:], 65535)
	f16 := make([]byte, 12)
	for i, h := range []uint16{0x3c00, 0xc000, 0x7bff, 0x0001, 0x3555, 0x8000} {
		binary.LittleEndian.PutUint16(f16[2*i:], h)
	}
	f32 := make([]byte, 8)
	binary.LittleEndian.PutUint32(f32[0:], math.Float32bits(1.5))
	binary.LittleEndian.PutUint32(f32[4:], math.Float32bits(-3))
	tests := []struct {
		name   string
		weight string
		bin    []byte
		want   []float32
	}{
		{"Float32", `{"name":"w","shape":[2],"dtype":"float32"}`, f32, []float32{1.5, -3}},
		// value = q*scale + min
		{"Uint8", `{"name":"w","shape":[3],"dtype":"float32","quantization":{"dtype":"uint8","scale":0.5,"min":-1}}`,
			[]byte{0, 2, 255}, []float32{-1, 0, 126.5}},
		{"Uint16", `{"name":"w","shape":[3],"dtype":"float32","quantization":{"dtype":"uint16","scale":0.001,"min":-2}}`,
			u16, []float32{-2, -1, 63.535}},
		// 1, -2, largest half, smallest subnormal half, ~1/3, -0.
		{"Float16", `{"name":"w","shape":[6],"dtype":"float32","quantization":{"dtype":"float16"}}`,
			f16, []float32{1, -2, 65504, 5.9604645e-08, 0.33325195, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runConst(t, tt.weight, tt.bin)
			for i := range tt.want {
				if math.Abs(float64(got[i]-tt.want[i])) > 1e-4*math.Max(1, math.Abs(float64(tt.want[i]))) {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
	t.Run("HalfSpecials", func(t *testing.T) {
		if v := halfToFloat(0x7c00); !math.IsInf(float64(v), 1) {
			t.Errorf("0x7c00 = %v, want +Inf", v)
		}
		if v := halfToFloat(0xfe00); !math.IsNaN(float64(v)) {
			t.Errorf("0xfe00 = %v, want NaN", v)
		}
		if v := halfToFloat(0x8000); !math.Signbit(float64(v)) {
			t.Errorf("0x8000 = %v, want -0", v)
		}
	})
}

func TestInlineConst(t *testing.T) {
	content := make([]byte, 8)
	binary.LittleEndian.PutUint32(content[0:], math.Float32bits(2.5))
	binary.LittleEndian.PutUint32(content[4:], math.Float32bits(-1))
	tests := []struct {
		name   string
		tensor string
		want   []float32
	}{
		{"TensorContent", fmt.Sprintf(`{"dtype":"DT_FLOAT","tensorShape":{"dim":[{"size":"2"}]},"tensorContent":%q}`,
			base64.StdEncoding.EncodeToString(content)), []float32{2.5, -1}},
		{"FloatValSplat", `{"dtype":"DT_FLOAT","tensorShape":{"dim":[{"size":"3"}]},"floatVal":[0.5]}`, []float32{0.5, 0.5, 0.5}},
		{"ScalarFloatVal", `{"dtype":"DT_FLOAT","tensorShape":{},"floatVal":[7]}`, []float32{7}},
		{"IntVal", `{"dtype":"DT_INT32","tensorShape":{"dim":[{"size":2}]},"intVal":[3,-4]}`, []float32{3, -4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js := `{"format":"graph-model","modelTopology":{"node":[
				{"name":"c","op":"Const","attr":{"value":{"tensor":` + tt.tensor + `}}},
				{"name":"out","op":"Identity","input":["c"]}]},"weightsManifest":[]}`
			m, err := LoadBytes([]byte(js), nil)
			if err != nil {
				t.Fatalf("LoadBytes: %v", err)
			}
			out, err := m.Run(nil)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := out["out"].Data; !closeAll(got, tt.want, 1e-6) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// tinyGraph: y = Relu(x + b) with x a [-1,2] placeholder.
const tinyGraph = `{"format":"graph-model","modelTopology":{"node":[
	{"name":"x","op":"Placeholder","attr":{"dtype":{"type":"DT_FLOAT"},"shape":{"shape":{"dim":[{"size":"-1"},{"size":"2"}]}}}},
	{"name":"b","op":"Const","attr":{"value":{"tensor":{"dtype":"DT_FLOAT","tensorShape":{"dim":[{"size":"2"}]},"floatVal":[1,-1]}}}},
	{"name":"s","op":"AddV2","input":["x","b:0"]},
	{"name":"y","op":"Relu","input":["s"]}]},
	"signature":{"inputs":{"x":{"name":"x:0"}},"outputs":{"score":{"name":"y:0"}}},
	"weightsManifest":[]}`

func TestRun(t *testing.T) {
	m, err := LoadBytes([]byte(tinyGraph), nil)
	if err != nil {
		t.Fatal(err)
	}
	x := &Tensor{Shape: []int{2, 2}, Data: []float32{1, 2, -3, 0.5}}
	t.Run("SignatureDescribesIO", func(t *testing.T) {
		in, out := m.Inputs(), m.Outputs()
		if len(in) != 1 || in[0].Name != "x" || fmt.Sprint(in[0].Shape) != "[-1 2]" {
			t.Errorf("Inputs() = %v", in)
		}
		if len(out) != 1 || out[0].Name != "y" || out[0].Key != "score" {
			t.Errorf("Outputs() = %v", out)
		}
	})
	t.Run("ByNodeNameAndKey", func(t *testing.T) {
		out, err := m.Run(map[string]*Tensor{"x": x}, "y", "score", "s:0")
		if err != nil {
			t.Fatal(err)
		}
		want := []float32{2, 1, 0, 0}
		if !closeAll(out["y"].Data, want, 0) || !closeAll(out["score"].Data, want, 0) {
			t.Fatalf("got %v / %v, want %v", out["y"].Data, out["score"].Data, want)
		}
		if !closeAll(out["s:0"].Data, []float32{2, 1, -2, -0.5}, 0) {
			t.Fatalf("s = %v", out["s:0"].Data)
		}
	})
	t.Run("OutputsDoNotAliasInputs", func(t *testing.T) {
		out, _ := m.Run(map[string]*Tensor{"x": x})
		out["y"].Data[0] = 99
		if x.Data[0] != 1 {
			t.Fatalf("input changed")
		}
	})
	errTests := []struct {
		name    string
		inputs  map[string]*Tensor
		outputs []string
		want    error
	}{
		{"MissingInput", map[string]*Tensor{}, nil, ErrInput},
		{"UnknownInput", map[string]*Tensor{"x": x, "z": x}, nil, ErrInput},
		{"WrongRank", map[string]*Tensor{"x": {Shape: []int{4}, Data: make([]float32, 4)}}, nil, ErrInput},
		{"WrongDim", map[string]*Tensor{"x": {Shape: []int{1, 3}, Data: make([]float32, 3)}}, nil, ErrInput},
		{"DataShapeMismatch", map[string]*Tensor{"x": {Shape: []int{1, 2}, Data: make([]float32, 3)}}, nil, ErrInput},
		{"UnknownOutput", map[string]*Tensor{"x": x}, []string{"nope"}, ErrUnknownOutput},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := m.Run(tt.inputs, tt.outputs...); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("ConstOnlyOutputNeedsNoInput", func(t *testing.T) {
		out, err := m.Run(nil, "b")
		if err != nil || !closeAll(out["b"].Data, []float32{1, -1}, 0) {
			t.Fatalf("Run(b) = %v, %v", out, err)
		}
	})
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		js   string
		bin  map[string][]byte
		want error
		msg  string
	}{
		{"NotJSON", `{`, nil, ErrFormat, ""},
		{"LayersModel", `{"format":"layers-model","modelTopology":{"node":[{"name":"a","op":"Const"}]}}`, nil, ErrFormat, ""},
		{"UnknownOpNamesNode", strings.Replace(tinyGraph, `"op":"Relu"`, `"op":"Erf"`, 1), nil, ErrUnsupportedOp, `"y" (Erf)`},
		{"DanglingInput", strings.Replace(tinyGraph, `["s"]`, `["t"]`, 1), nil, ErrFormat, ""},
		{"Cycle", strings.Replace(tinyGraph, `["x","b:0"]`, `["x","y"]`, 1), nil, ErrFormat, "cycle"},
		{"ShortWeights", constGraph(`{"name":"w","shape":[4],"dtype":"float32"}`), map[string][]byte{"g.bin": make([]byte, 8)}, ErrFormat, ""},
		{"ExtraWeightBytes", constGraph(`{"name":"w","shape":[1],"dtype":"float32"}`), map[string][]byte{"g.bin": make([]byte, 8)}, ErrFormat, ""},
		{"BadQuantDtype", constGraph(`{"name":"w","shape":[1],"dtype":"float32","quantization":{"dtype":"int4"}}`), map[string][]byte{"g.bin": make([]byte, 8)}, ErrFormat, ""},
		{"ConstWithoutValue", constGraph(`{"name":"other","shape":[1],"dtype":"float32"}`), map[string][]byte{"g.bin": make([]byte, 4)}, ErrFormat, ""},
		{"BadPadding", strings.Replace(tinyGraph, `{"name":"y","op":"Relu","input":["s"]}`,
			`{"name":"y","op":"MaxPool","input":["s"],"attr":{"padding":{"s":"V0hBVA=="}}}`, 1), nil, ErrUnsupportedOp, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadBytes([]byte(tt.js), tt.bin)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.msg)
			}
		})
	}
	t.Run("MissingShard", func(t *testing.T) {
		_, err := LoadBytes([]byte(constGraph(`{"name":"w","shape":[1],"dtype":"float32"}`)), nil)
		if err == nil || !strings.Contains(err.Error(), "g.bin") {
			t.Fatalf("err = %v, want a missing-shard error", err)
		}
	})
}

// TestConcurrentRun runs one Model from several goroutines (meaningful
// under -race) and requires identical results.
func TestConcurrentRun(t *testing.T) {
	m, err := LoadBytes([]byte(tinyGraph), nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			x := &Tensor{Shape: []int{1, 2}, Data: []float32{float32(g), 0}}
			for i := 0; i < 100; i++ {
				out, err := m.Run(map[string]*Tensor{"x": x}, "y")
				if err != nil {
					errs <- err
					return
				}
				if out["y"].Data[0] != float32(g)+1 {
					errs <- fmt.Errorf("goroutine %d got %v", g, out["y"].Data)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
