package descriptor

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/facekit/facekit/engine/tfgraph"
)

// graphRepairs selects the fixes loadGraph applies to a converted graph.
type graphRepairs struct {
	unfuseRelu       bool
	flipPReLUNegSign bool
}

// loadGraph loads a TF.js graph, repairing it first as r asks.
func loadGraph(path string, r graphRepairs) (*tfgraph.Model, error) {
	if r == (graphRepairs{}) {
		return tfgraph.Load(path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	fixed, shardPaths, err := repairGraph(data, r)
	if err != nil {
		return nil, err
	}
	shards := map[string][]byte{}
	for _, p := range shardPaths {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(path), p))
		if err != nil {
			return nil, err
		}
		shards[p] = b
	}
	return tfgraph.LoadBytes(fixed, shards)
}

var (
	opRelu    = base64.StdEncoding.EncodeToString([]byte("Relu"))
	opBiasAdd = base64.StdEncoding.EncodeToString([]byte("BiasAdd"))
)

// repairGraph applies the repairs r asks for to a model.json and returns
// the fixed model.json and the weight shard paths of its manifest.
//
// unfuseRelu fixes graphs where TF's converter fused a Relu into a
// depthwise convolution although the pre-activation value had other readers.
// A PReLU exported as relu(x) + c·(x − |x|) then reads the rectified x in
// its second term, which vanishes: every such PReLU silently became a ReLU
// (MobileFaceNet's human-models graph has 17). The repair takes the Relu out of
// the convolution again and gives it back to the one reader that wanted it,
// the PReLU's final Add.
//
// flipPReLUNegSign swaps the operands of every PReLU's x − |x|, so the
// negative branch reads c·(|x| − x): the graph's constants c carry the
// opposite sign of the slopes the network was trained with. MobileFaceNet's
// human-models graph shows it (see MobileFaceNet): with the sign as exported, the
// batch-norm statistics folded into the next layers do not fit the
// activations, and the embeddings of all faces nearly coincide.
func repairGraph(data []byte, r graphRepairs) ([]byte, []string, error) {
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", tfgraph.ErrFormat, err)
	}
	var shards []string
	if man, ok := doc["weightsManifest"].([]any); ok {
		for _, g := range man {
			if gm, ok := g.(map[string]any); ok {
				if ps, ok := gm["paths"].([]any); ok {
					for _, p := range ps {
						if s, ok := p.(string); ok {
							shards = append(shards, s)
						}
					}
				}
			}
		}
	}
	topo, _ := doc["modelTopology"].(map[string]any)
	nodes, _ := topo["node"].([]any)
	if nodes == nil {
		return nil, nil, fmt.Errorf("%w: no modelTopology.node", tfgraph.ErrFormat)
	}
	byName := map[string]map[string]any{}
	readers := map[string][]map[string]any{}
	for _, n := range nodes {
		nm, _ := n.(map[string]any)
		name, _ := nm["name"].(string)
		byName[name] = nm
		ins, _ := nm["input"].([]any)
		for _, in := range ins {
			s, _ := in.(string)
			readers[s] = append(readers[s], nm)
		}
	}
	if r.flipPReLUNegSign {
		for _, n := range nodes {
			nm := n.(map[string]any)
			if nm["op"] != "Sub" {
				continue
			}
			ins, _ := nm["input"].([]any)
			if len(ins) != 2 {
				continue
			}
			x, _ := ins[0].(string)
			abs, _ := ins[1].(string)
			a := byName[abs]
			if a == nil || a["op"] != "Abs" {
				continue
			}
			if ain, _ := a["input"].([]any); len(ain) != 1 || ain[0] != x {
				continue
			}
			ins[0], ins[1] = abs, x // |x| − x
		}
	}
	for _, n := range nodes {
		if !r.unfuseRelu {
			break
		}
		nm := n.(map[string]any)
		op, _ := nm["op"].(string)
		if op != "FusedDepthwiseConv2dNative" && op != "_FusedDepthwiseConv2dNative" && op != "_FusedConv2D" {
			continue
		}
		attr, _ := nm["attr"].(map[string]any)
		fo, _ := attr["fused_ops"].(map[string]any)
		list, _ := fo["list"].(map[string]any)
		ops, _ := list["s"].([]any)
		if len(ops) != 2 || ops[0] != opBiasAdd || ops[1] != opRelu {
			continue
		}
		name := nm["name"].(string)
		var hasAbs bool
		var add map[string]any
		for _, r := range readers[name] {
			switch r["op"] {
			case "Abs":
				hasAbs = true
			case "Add", "AddV2":
				add = r
			}
		}
		if !hasAbs || add == nil {
			continue // a plain fused ReLU: nothing else reads the input
		}
		list["s"] = []any{opBiasAdd}
		relu := name + "/prelu_positive"
		nodes = append(nodes, map[string]any{
			"name": relu, "op": "Relu", "input": []any{name},
			"attr": map[string]any{"T": map[string]any{"type": "DT_FLOAT"}},
		})
		ins := add["input"].([]any)
		for i, in := range ins {
			if in == name {
				ins[i] = relu
			}
		}
	}
	topo["node"] = nodes
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, nil, err
	}
	return out, shards, nil
}
