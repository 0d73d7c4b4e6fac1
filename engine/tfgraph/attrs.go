package tfgraph

import "fmt"

// attrs gives typed access to a node's attributes with TF's defaults.
type attrs map[string]attrJSON

func (a attrs) str(k string) string { return string(a[k].S) }

func (a attrs) boolean(k string) bool {
	if b := a[k].B; b != nil {
		return *b
	}
	return false
}

func (a attrs) integer(k string, def int) int {
	if i := a[k].I; i != nil {
		return int(*i)
	}
	return def
}

func (a attrs) float(k string, def float32) float32 {
	if f := a[k].F; f != nil {
		return float32(*f)
	}
	return def
}

func (a attrs) ints(k string) []int {
	l := a[k].List
	if l == nil {
		return nil
	}
	out := make([]int, len(l.I))
	for i, v := range l.I {
		out[i] = int(v)
	}
	return out
}

func (a attrs) strs(k string) []string {
	l := a[k].List
	if l == nil {
		return nil
	}
	out := make([]string, len(l.S))
	for i, v := range l.S {
		out[i] = string(v)
	}
	return out
}

func (a attrs) shape(k string) []int { return a[k].Shape.dims() }

// nhwc rejects NCHW graphs: every kernel here assumes channels last.
func (a attrs) nhwc() error {
	if f := a.str("data_format"); f != "" && f != "NHWC" {
		return fmt.Errorf("%w: data_format %q (only NHWC)", ErrUnsupportedOp, f)
	}
	return nil
}

// window4 reads a 4-element NHWC attribute (strides, ksize, dilations) and
// returns its H and W entries, requiring 1 for N and C.
func (a attrs) window4(k string, def int) (h, w int, err error) {
	v := a.ints(k)
	if len(v) == 0 {
		return def, def, nil
	}
	if len(v) != 4 || v[0] != 1 || v[3] != 1 || v[1] < 1 || v[2] < 1 {
		return 0, 0, fmt.Errorf("%w: %s %v (want [1 h w 1])", ErrUnsupportedOp, k, v)
	}
	return v[1], v[2], nil
}
