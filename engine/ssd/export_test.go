package ssd

import "github.com/facekit/facekit/engine/tfgraph"

// Heads exposes the predictor layout to the external tests.
func Heads() (side, ch, anchors [6]int) {
	for i, h := range heads {
		side[i], ch[i], anchors[i] = h.side, h.ch, h.anchors
	}
	return
}

// Predictor exposes the predictor output names.
var Predictor = predictor

// Raw runs the network on a prepared input and returns the box predictors'
// outputs by name.
func (d *Detector) Raw(in *tfgraph.Tensor) (map[string]*tfgraph.Tensor, error) {
	var names []string
	for i := range heads {
		b, c := predictor(i)
		names = append(names, b, c)
	}
	return d.model.Run(map[string]*tfgraph.Tensor{"input": in}, names...)
}
