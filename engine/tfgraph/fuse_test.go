package tfgraph

import (
	"math"
	"testing"
)

// TestFusedPlanMatchesUnfused runs every model with and without the
// element-wise fusion and requires the same outputs.
func TestFusedPlanMatchesUnfused(t *testing.T) {
	for _, name := range modelNames {
		t.Run(name, func(t *testing.T) {
			m := MustLoad(t, name)
			fusedNodes := 0
			for _, n := range m.nodes {
				if n.hidden {
					fusedNodes++
				}
			}
			in := patternInput(m)
			a, err := m.run(&runCtx{workers: 2}, in, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, err := m.run(&runCtx{workers: 2, noFuse: true}, in, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range a {
				w := b[k]
				if !sameShape(v.Shape, w.Shape) {
					t.Fatalf("%s: shape %v fused, %v unfused", k, v.Shape, w.Shape)
				}
				for i := range v.Data {
					if d := math.Abs(float64(v.Data[i] - w.Data[i])); d > 1e-4*math.Max(1, math.Abs(float64(w.Data[i]))) {
						t.Fatalf("%s[%d]: %v fused, %v unfused", k, i, v.Data[i], w.Data[i])
					}
				}
			}
			t.Logf("%d nodes folded into their producers", fusedNodes)
		})
	}
}

func TestFusionFallsBackForHiddenOutputs(t *testing.T) {
	// y = Relu(x·w + 1): the MatMul absorbs Add and Relu, but asking for
	// the MatMul itself must still give the raw product.
	js := `{"format":"graph-model","modelTopology":{"node":[
		{"name":"x","op":"Placeholder","attr":{"shape":{"shape":{"dim":[{"size":"1"},{"size":"2"}]}}}},
		{"name":"w","op":"Const","attr":{"value":{"tensor":{"dtype":"DT_FLOAT","tensorShape":{"dim":[{"size":"2"},{"size":"1"}]},"floatVal":[1,-1]}}}},
		{"name":"one","op":"Const","attr":{"value":{"tensor":{"dtype":"DT_FLOAT","tensorShape":{},"floatVal":[1]}}}},
		{"name":"mm","op":"MatMul","input":["x","w"]},
		{"name":"add","op":"AddV2","input":["one","mm"]},
		{"name":"y","op":"Relu","input":["add"]}]},"weightsManifest":[]}`
	m, err := LoadBytes([]byte(js), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !m.nodes[m.byName["mm"]].hidden || !m.nodes[m.byName["add"]].hidden {
		t.Fatalf("MatMul chain was not fused")
	}
	x := &Tensor{Shape: []int{1, 2}, Data: []float32{1, 5}}
	out, err := m.Run(map[string]*Tensor{"x": x}, "y", "mm")
	if err != nil {
		t.Fatal(err)
	}
	if out["mm"].Data[0] != -4 || out["y"].Data[0] != 0 {
		t.Fatalf("mm = %v, y = %v; want -4, 0", out["mm"].Data, out["y"].Data)
	}
	out, err = m.Run(map[string]*Tensor{"x": {Shape: []int{1, 2}, Data: []float32{5, 1}}}, "y")
	if err != nil || out["y"].Data[0] != 5 {
		t.Fatalf("y = %v, %v; want 5", out, err)
	}
}

// TestConcurrentModelRuns shares one real model between goroutines, each
// also splitting its kernels across workers, and requires every result to
// match a serial run (run under -race to check for data races).
func TestConcurrentModelRuns(t *testing.T) {
	m := MustLoad(t, "emotion")
	in := patternInput(m)
	want, err := m.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan string, 4)
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 3; i++ {
				got, err := m.run(&runCtx{workers: 2}, in, nil)
				if err != nil {
					errs <- err.Error()
					return
				}
				if !closeAll(got["Identity"].Data, want["Identity"].Data, 0) {
					errs <- "result differs between concurrent runs"
					return
				}
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
