package tfgraph

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// Errors returned by Load and Run; match them with errors.Is.
var (
	// ErrFormat means model.json or its weights are malformed.
	ErrFormat = errors.New("tfgraph: malformed model")
	// ErrUnsupportedOp means the graph uses an op this runtime does not
	// implement, or an attribute value of an op it does not handle.
	ErrUnsupportedOp = errors.New("tfgraph: unsupported op")
	// ErrInput means a Run input is missing, unknown or has the wrong shape.
	ErrInput = errors.New("tfgraph: bad input")
	// ErrUnknownOutput means a requested output names no node of the graph.
	ErrUnknownOutput = errors.New("tfgraph: unknown output")
	// ErrShape means a kernel met tensors whose shapes do not fit together.
	ErrShape = errors.New("tfgraph: shape mismatch")
	// ErrInternal means a kernel failed in a way its checks did not foresee
	// (a bug or a graph malformed beyond what Load validates).
	ErrInternal = errors.New("tfgraph: internal error")
)

// Input describes one placeholder of the graph.
type Input struct {
	// Name is the placeholder node name, the key for Run's inputs map.
	Name string
	// Shape is the declared shape; -1 marks a free dimension (usually batch).
	Shape []int
}

// Output describes one output node of the graph.
type Output struct {
	// Name is the node name to pass to Run.
	Name string
	// Key is the signature's name for the output (e.g. "output_mesh"), or
	// Name when the model carries no signature.
	Key string
}

// Model is a loaded, compiled graph. It is immutable after Load and safe for
// concurrent use by multiple goroutines.
type Model struct {
	nodes   []*node // topological order: every node after its inputs
	byName  map[string]int
	inputs  []Input
	outputs []Output
	keys    map[string]int // signature output key -> node index
	arenas  sync.Pool      // idle *arena buffers for Run (see arena)
}

// kernel computes one node's output from its inputs' values.
type kernel func(rc *runCtx, in []*value) (*value, error)

type node struct {
	name    string
	op      string
	inputs  []int
	run     kernel
	konst   *value // set for Const nodes
	isInput bool
	shape   []int // declared placeholder shape

	// fusedRun, when set, replaces run in the fused plan; hidden marks
	// nodes whose own value that plan does not compute (see fuseElementwise).
	fusedRun kernel
	hidden   bool
	// fusedInputs, when set, replaces inputs in the fused plan (a node
	// that absorbed a whole sub-graph reads only its producer).
	fusedInputs []int
}

// inputsFor returns the node's inputs in the fused or the unfused plan.
func (n *node) inputsFor(fused bool) []int {
	if fused && n.fusedInputs != nil {
		return n.fusedInputs
	}
	return n.inputs
}

// runCtx carries per-Run settings to kernels.
type runCtx struct {
	workers int
	arena   *arena                         // buffers for kernel outputs; nil allocates fresh ones
	noFuse  bool                           // run every node unfused; tests compare both plans
	trace   func(n *node, d time.Duration) // per-node timing, for profiling tests only
}

// Load reads a tfjs graph model from model.json at jsonPath and the weight
// shards named in its manifest from the same directory.
func Load(jsonPath string) (*Model, error) {
	dir, name := filepath.Split(jsonPath)
	if dir == "" {
		dir = "."
	}
	return LoadFS(os.DirFS(dir), name)
}

// LoadFS is Load reading from fsys; shard paths are relative to the
// directory of name.
func LoadFS(fsys fs.FS, name string) (*Model, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("tfgraph: read model: %w", err)
	}
	dir := path.Dir(name)
	return load(data, func(p string) ([]byte, error) {
		return fs.ReadFile(fsys, path.Join(dir, p))
	})
}

// LoadBytes builds a model from model.json bytes and its weight shards keyed
// by the paths the manifest uses.
func LoadBytes(modelJSON []byte, shards map[string][]byte) (*Model, error) {
	return load(modelJSON, func(p string) ([]byte, error) {
		b, ok := shards[p]
		if !ok {
			return nil, fmt.Errorf("shard %q not given: %w", p, fs.ErrNotExist)
		}
		return b, nil
	})
}

func load(data []byte, readPath func(string) ([]byte, error)) (*Model, error) {
	mj, err := parseModelJSON(data)
	if err != nil {
		return nil, err
	}
	weights, err := decodeWeights(mj.WeightsManifest, readPath)
	if err != nil {
		return nil, fmt.Errorf("tfgraph: %w", err)
	}
	return compile(mj, weights)
}

// inputName strips TF's ":0" output suffix and reports control inputs ("^x")
// and other output slots, which these graphs never need.
func inputName(s string) (name string, control bool, err error) {
	if strings.HasPrefix(s, "^") {
		return s[1:], true, nil
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		if s[i+1:] != "0" {
			return "", false, fmt.Errorf("%w: input %q reads output slot %s; only single-output nodes are supported", ErrUnsupportedOp, s, s[i+1:])
		}
		s = s[:i]
	}
	return s, false, nil
}

func compile(mj *modelJSON, weights map[string]*value) (*Model, error) {
	defs := mj.ModelTopology.Node
	index := make(map[string]int, len(defs))
	for k, d := range defs {
		if _, dup := index[d.Name]; dup {
			return nil, fmt.Errorf("%w: duplicate node %q", ErrFormat, d.Name)
		}
		index[d.Name] = k
	}

	// Resolve edges first so the order below can be computed.
	edges := make([][]int, len(defs))
	for k, d := range defs {
		for _, in := range d.Input {
			name, control, err := inputName(in)
			if err != nil {
				return nil, fmt.Errorf("tfgraph: node %q: %w", d.Name, err)
			}
			if control {
				continue
			}
			j, ok := index[name]
			if !ok {
				return nil, fmt.Errorf("%w: node %q reads unknown node %q", ErrFormat, d.Name, name)
			}
			edges[k] = append(edges[k], j)
		}
	}
	order, err := topoOrder(defs, edges)
	if err != nil {
		return nil, err
	}

	m := &Model{byName: make(map[string]int, len(defs)), keys: map[string]int{}}
	pos := make([]int, len(defs)) // def index -> position in m.nodes
	for p, k := range order {
		pos[k] = p
	}
	consumed := make([]bool, len(defs))
	fusers := make([]fuser, len(defs)) // by position in m.nodes
	for _, k := range order {
		d := defs[k]
		n := &node{name: d.Name, op: d.Op}
		for _, j := range edges[k] {
			n.inputs = append(n.inputs, pos[j])
			consumed[j] = true
		}
		a := attrs(d.Attr)
		switch d.Op {
		case "Const":
			v, ok := weights[d.Name]
			if !ok {
				t := d.Attr["value"].Tensor
				if t == nil {
					return nil, fmt.Errorf("%w: Const %q has neither a weight nor an inline value", ErrFormat, d.Name)
				}
				if v, err = decodeInlineTensor(t); err != nil {
					return nil, fmt.Errorf("%w: Const %q: %v", ErrFormat, d.Name, err)
				}
			}
			n.konst = v
		case "Placeholder":
			n.isInput = true
			n.shape = a.shape("shape")
			m.inputs = append(m.inputs, Input{Name: d.Name, Shape: n.shape})
		default:
			kern, f, err := compileNode(d.Op, a, len(n.inputs), weightsOf(m, n))
			if err != nil {
				return nil, fmt.Errorf("tfgraph: node %q (%s): %w", d.Name, d.Op, err)
			}
			n.run = kern
			fusers[len(m.nodes)] = f
		}
		m.byName[d.Name] = len(m.nodes)
		m.nodes = append(m.nodes, n)
	}

	m.outputs, err = outputsOf(mj, defs, consumed, m)
	if err != nil {
		return nil, err
	}
	fuseElementwise(m, fusers)
	return m, nil
}

// weightsOf returns the constant values feeding n (nil for computed inputs),
// so kernels can pre-pack filters once at load time.
func weightsOf(m *Model, n *node) []*value {
	out := make([]*value, len(n.inputs))
	for k, j := range n.inputs {
		out[k] = m.nodes[j].konst
	}
	return out
}

// topoOrder orders nodes so that each comes after its inputs, keeping the
// file order where possible; a cycle is a malformed graph.
func topoOrder(defs []nodeJSON, edges [][]int) ([]int, error) {
	const (
		unseen = iota
		active
		done
	)
	state := make([]int, len(defs))
	order := make([]int, 0, len(defs))
	var visit func(k int) error
	visit = func(k int) error {
		switch state[k] {
		case done:
			return nil
		case active:
			return fmt.Errorf("%w: cycle through node %q", ErrFormat, defs[k].Name)
		}
		state[k] = active
		for _, j := range edges[k] {
			if err := visit(j); err != nil {
				return err
			}
		}
		state[k] = done
		order = append(order, k)
		return nil
	}
	for k := range defs {
		if err := visit(k); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// outputsOf takes outputs from the signature when the model has one, else
// every node nothing reads (the graph's sinks), excluding constants.
func outputsOf(mj *modelJSON, defs []nodeJSON, consumed []bool, m *Model) ([]Output, error) {
	sig := mj.Signature
	if sig == nil && mj.UserDefinedMetadata != nil {
		sig = mj.UserDefinedMetadata.Signature
	}
	var outs []Output
	if sig != nil && len(sig.Outputs) > 0 {
		for key, info := range sig.Outputs {
			name := info.Name
			if name == "" {
				name = key
			}
			name, _, err := inputName(name)
			if err != nil {
				return nil, fmt.Errorf("tfgraph: signature output %q: %w", key, err)
			}
			k, ok := m.byName[name]
			if !ok {
				return nil, fmt.Errorf("%w: signature output %q names unknown node %q", ErrFormat, key, name)
			}
			outs = append(outs, Output{Name: name, Key: key})
			m.keys[key] = k
		}
		sort.Slice(outs, func(i, j int) bool { return outs[i].Key < outs[j].Key })
		return outs, nil
	}
	for k, d := range defs {
		if !consumed[k] && d.Op != "Const" && d.Op != "Placeholder" {
			outs = append(outs, Output{Name: d.Name, Key: d.Name})
		}
	}
	return outs, nil
}

// Inputs describes the graph's placeholders in graph order.
func (m *Model) Inputs() []Input {
	out := make([]Input, len(m.inputs))
	for k, in := range m.inputs {
		out[k] = Input{Name: in.Name, Shape: append([]int(nil), in.Shape...)}
	}
	return out
}

// Outputs describes the graph's outputs, sorted by Key.
func (m *Model) Outputs() []Output { return append([]Output(nil), m.outputs...) }

// Ops returns how many nodes use each op, for diagnostics and docs.
func (m *Model) Ops() map[string]int {
	out := map[string]int{}
	for _, n := range m.nodes {
		out[n.op]++
	}
	return out
}

// resolve maps a node name ("x" or "x:0") or a signature output key to the
// node index.
func (m *Model) resolve(name string) (int, bool) {
	if k, ok := m.byName[name]; ok {
		return k, true
	}
	if k, ok := m.keys[name]; ok {
		return k, true
	}
	if n, _, err := inputName(name); err == nil {
		k, ok := m.byName[n]
		return k, ok
	}
	return 0, false
}

// Run feeds inputs (keyed by placeholder name) and returns the requested
// outputs keyed as requested. Outputs may be node names or signature keys;
// with none requested, Run computes all of Outputs() keyed by Output.Name.
// Only the nodes the outputs depend on are executed. Big kernels spread over
// GOMAXPROCS goroutines. Returned tensors are fresh copies the caller owns;
// int32 outputs (shapes, indices) come back converted to float32. Run never
// modifies the input tensors.
func (m *Model) Run(inputs map[string]*Tensor, outputs ...string) (map[string]*Tensor, error) {
	return m.run(&runCtx{workers: runtime.GOMAXPROCS(0)}, inputs, outputs)
}

func (m *Model) run(rc *runCtx, inputs map[string]*Tensor, outputs []string) (result map[string]*Tensor, err error) {
	// Kernels check shapes, but a graph can be malformed in ways no check
	// anticipates; a server must get an error, not a crash.
	current := -1
	defer func() {
		if p := recover(); p != nil {
			name, op := "", ""
			if current >= 0 {
				name, op = m.nodes[current].name, m.nodes[current].op
			}
			result, err = nil, fmt.Errorf("%w: node %q (%s): %v", ErrInternal, name, op, p)
		}
	}()
	if len(outputs) == 0 {
		for _, o := range m.outputs {
			outputs = append(outputs, o.Name)
		}
	}
	want := make([]int, len(outputs))
	for k, name := range outputs {
		j, ok := m.resolve(name)
		if !ok {
			return nil, fmt.Errorf("%w: %q", ErrUnknownOutput, name)
		}
		want[k] = j
	}

	// Kernels draw their outputs from an arena that lives as long as this
	// Run; it goes back to the pool only after a successful Run, when every
	// output has been copied out of it.
	ar, _ := m.arenas.Get().(*arena)
	if ar == nil {
		ar = newArena()
	}
	local := *rc
	local.arena = ar
	rc = &local

	fused := !rc.noFuse
	for _, k := range want {
		if m.nodes[k].hidden {
			fused = false
		}
	}

	// Mark what the outputs need and count consumers so intermediate values
	// can be dropped as soon as their last reader ran.
	needed := make([]bool, len(m.nodes))
	var mark func(int)
	mark = func(k int) {
		if needed[k] {
			return
		}
		needed[k] = true
		for _, j := range m.nodes[k].inputsFor(fused) {
			mark(j)
		}
	}
	for _, k := range want {
		mark(k)
	}
	uses := make([]int, len(m.nodes))
	for k, n := range m.nodes {
		if needed[k] {
			for _, j := range n.inputsFor(fused) {
				uses[j]++
			}
		}
	}
	for _, k := range want {
		uses[k]++ // outputs are never dropped
	}

	for name := range inputs {
		k, ok := m.byName[name]
		if !ok {
			if n, _, err := inputName(name); err == nil {
				k, ok = m.byName[n]
			}
		}
		if !ok || !m.nodes[k].isInput {
			return nil, fmt.Errorf("%w: %q is not a placeholder", ErrInput, name)
		}
	}

	vals := make([]*value, len(m.nodes))
	args := make([]*value, 0, 8)
	for k, n := range m.nodes {
		if !needed[k] {
			continue
		}
		switch {
		case n.konst != nil:
			vals[k] = n.konst
		case n.isInput:
			v, err := m.feed(n, inputs)
			if err != nil {
				return nil, err
			}
			vals[k] = v
		default:
			args = args[:0]
			for _, j := range n.inputsFor(fused) {
				args = append(args, vals[j])
			}
			current = k
			var start time.Time
			if rc.trace != nil {
				start = time.Now()
			}
			kern := n.run
			if fused && n.fusedRun != nil {
				kern = n.fusedRun
			}
			v, err := kern(rc, args)
			if rc.trace != nil {
				rc.trace(n, time.Since(start))
			}
			if err != nil {
				return nil, fmt.Errorf("tfgraph: node %q (%s): %w", n.name, n.op, err)
			}
			vals[k] = v
			ar.retain(v)
			for _, j := range n.inputsFor(fused) {
				if uses[j]--; uses[j] == 0 {
					ar.release(vals[j])
					vals[j] = nil
				}
			}
		}
	}

	out := make(map[string]*Tensor, len(outputs))
	for k, name := range outputs {
		v := vals[want[k]]
		out[name] = &Tensor{Shape: append([]int(nil), v.shape...), Data: copyFloats(v)}
	}
	ar.reset()
	m.arenas.Put(ar)
	return out, nil
}

// copyFloats returns the value's data as a fresh float slice, so callers can
// never alias a constant of the model.
func copyFloats(v *value) []float32 {
	if v.isInt {
		return v.floats()
	}
	return append([]float32(nil), v.f...)
}

// feed validates a caller's tensor against the placeholder's declared shape.
func (m *Model) feed(n *node, inputs map[string]*Tensor) (*value, error) {
	t, ok := inputs[n.name]
	if !ok {
		t, ok = inputs[n.name+":0"]
	}
	if !ok || t == nil {
		return nil, fmt.Errorf("%w: missing input %q", ErrInput, n.name)
	}
	if len(t.Data) != numElements(t.Shape) {
		return nil, fmt.Errorf("%w: input %q has %d values for shape %v", ErrInput, n.name, len(t.Data), t.Shape)
	}
	if n.shape != nil {
		if len(t.Shape) != len(n.shape) {
			return nil, fmt.Errorf("%w: input %q has shape %v, graph wants %v", ErrInput, n.name, t.Shape, n.shape)
		}
		for k, d := range n.shape {
			if t.Shape[k] < 0 || (d >= 0 && t.Shape[k] != d) {
				return nil, fmt.Errorf("%w: input %q has shape %v, graph wants %v", ErrInput, n.name, t.Shape, n.shape)
			}
		}
	}
	return floatValue(append([]int(nil), t.Shape...), t.Data), nil
}
