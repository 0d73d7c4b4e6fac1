package tfgraph

import (
	"encoding/json"
	"fmt"
)

// DecodeManifest decodes the weights of a TF.js weights manifest (the JSON
// array that model.json holds as weightsManifest, or that weights-only
// models such as @vladmandic/face-api's ship as *-weights_manifest.json)
// into named float32 tensors; quantised weights are expanded and int32
// weights converted. readPath returns the bytes of one shard. Packages that
// build a graph themselves from such weights (face-api keeps the
// architecture in JavaScript) use it to fold or rearrange weights before
// LoadBytes.
func DecodeManifest(manifest []byte, readPath func(string) ([]byte, error)) (map[string]*Tensor, error) {
	var groups []manifestGroup
	if err := json.Unmarshal(manifest, &groups); err != nil {
		return nil, fmt.Errorf("tfgraph: weights manifest: %w: %v", ErrFormat, err)
	}
	vals, err := decodeWeights(groups, readPath)
	if err != nil {
		return nil, fmt.Errorf("tfgraph: %w", err)
	}
	out := make(map[string]*Tensor, len(vals))
	for name, v := range vals {
		out[name] = &Tensor{Shape: append([]int(nil), v.shape...), Data: append([]float32(nil), v.floats()...)}
	}
	return out, nil
}
