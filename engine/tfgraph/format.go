package tfgraph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// The types below mirror the JSON form of a TensorFlow.js graph model
// (model.json): a GraphDef in protobuf-JSON encoding plus a weights manifest.
// Protobuf-JSON writes int64 as strings and []byte as base64, hence the
// flexible number types.

type modelJSON struct {
	Format              string          `json:"format"`
	ModelTopology       topologyJSON    `json:"modelTopology"`
	WeightsManifest     []manifestGroup `json:"weightsManifest"`
	Signature           *signatureJSON  `json:"signature"`
	UserDefinedMetadata *struct {
		Signature *signatureJSON `json:"signature"`
	} `json:"userDefinedMetadata"`
}

type topologyJSON struct {
	Node []nodeJSON `json:"node"`
}

type nodeJSON struct {
	Name  string              `json:"name"`
	Op    string              `json:"op"`
	Input []string            `json:"input"`
	Attr  map[string]attrJSON `json:"attr"`
}

type attrJSON struct {
	S      []byte      `json:"s"`
	I      *jsonInt    `json:"i"`
	F      *jsonFloat  `json:"f"`
	B      *bool       `json:"b"`
	Type   string      `json:"type"`
	List   *listJSON   `json:"list"`
	Shape  *shapeJSON  `json:"shape"`
	Tensor *tensorJSON `json:"tensor"`
}

type listJSON struct {
	S [][]byte    `json:"s"`
	I []jsonInt   `json:"i"`
	F []jsonFloat `json:"f"`
}

type shapeJSON struct {
	Dim []struct {
		Size jsonInt `json:"size"`
	} `json:"dim"`
	UnknownRank bool `json:"unknownRank"`
}

func (s *shapeJSON) dims() []int {
	if s == nil || s.UnknownRank {
		return nil
	}
	out := make([]int, len(s.Dim))
	for k, d := range s.Dim {
		out[k] = int(d.Size)
	}
	return out
}

type tensorJSON struct {
	Dtype         string      `json:"dtype"`
	TensorShape   *shapeJSON  `json:"tensorShape"`
	TensorContent []byte      `json:"tensorContent"`
	FloatVal      []jsonFloat `json:"floatVal"`
	IntVal        []jsonInt   `json:"intVal"`
	HalfVal       []jsonInt   `json:"halfVal"`
}

type manifestGroup struct {
	Paths   []string     `json:"paths"`
	Weights []weightJSON `json:"weights"`
}

type weightJSON struct {
	Name         string            `json:"name"`
	Shape        []int             `json:"shape"`
	Dtype        string            `json:"dtype"`
	Quantization *quantizationJSON `json:"quantization"`
}

type quantizationJSON struct {
	Dtype string   `json:"dtype"`
	Min   *float64 `json:"min"`
	Scale *float64 `json:"scale"`
}

type signatureJSON struct {
	Inputs  map[string]tensorInfoJSON `json:"inputs"`
	Outputs map[string]tensorInfoJSON `json:"outputs"`
}

type tensorInfoJSON struct {
	Name        string     `json:"name"`
	TensorShape *shapeJSON `json:"tensorShape"`
}

// jsonInt accepts 3 and "3".
type jsonInt int64

func (n *jsonInt) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(b, `"`)
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("integer %q: %w", b, err)
	}
	*n = jsonInt(v)
	return nil
}

// jsonFloat accepts 0.5, "0.5" and the protobuf spellings "NaN", "Infinity".
type jsonFloat float64

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	switch s {
	case "Infinity":
		s = "+Inf"
	case "-Infinity":
		s = "-Inf"
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("float %q: %w", b, err)
	}
	*f = jsonFloat(v)
	return nil
}

// parseModelJSON decodes model.json and rejects the Keras layers-model format,
// which has no GraphDef to execute.
func parseModelJSON(data []byte) (*modelJSON, error) {
	var m modelJSON
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: decode model.json: %v", ErrFormat, err)
	}
	if m.Format != "" && m.Format != "graph-model" {
		return nil, fmt.Errorf("%w: format %q is not a graph model", ErrFormat, m.Format)
	}
	if len(m.ModelTopology.Node) == 0 {
		return nil, fmt.Errorf("%w: modelTopology has no nodes", ErrFormat)
	}
	return &m, nil
}
