package tfgraph

import "fmt"

// stridedSlice holds StridedSlice's bit masks; begin, end and strides come
// from the node's inputs at run time.
type stridedSlice struct {
	beginMask, endMask, ellipsisMask, newAxisMask, shrinkMask int
}

func compileStridedSlice(a attrs) (kernel, error) {
	s := &stridedSlice{
		beginMask:    a.integer("begin_mask", 0),
		endMask:      a.integer("end_mask", 0),
		ellipsisMask: a.integer("ellipsis_mask", 0),
		newAxisMask:  a.integer("new_axis_mask", 0),
		shrinkMask:   a.integer("shrink_axis_mask", 0),
	}
	if s.ellipsisMask&(s.ellipsisMask-1) != 0 {
		return nil, fmt.Errorf("%w: more than one ellipsis in mask %b", ErrUnsupportedOp, s.ellipsisMask)
	}
	return s.run, nil
}

// sliceDim is the selection along one input axis.
type sliceDim struct {
	start, stride, count int
	keep                 bool // false for shrunk axes
}

// plan expands the sparse slice spec (with ellipsis and new axes) into one
// selection per input axis and the output shape, following TF's rules for
// negative indices, masks and clamping.
func (s *stridedSlice) plan(shape []int, begin, end, strides []int32) ([]sliceDim, []int, error) {
	n := len(begin)
	if len(end) != n || len(strides) != n {
		return nil, nil, fmt.Errorf("%w: begin %v, end %v, strides %v differ in length", ErrShape, begin, end, strides)
	}
	bit := func(m, i int) bool { return m&(1<<i) != 0 }
	// Entries that consume an input axis; an ellipsis covers the rest.
	consuming := 0
	for i := 0; i < n; i++ {
		switch {
		case bit(s.ellipsisMask, i):
		case !bit(s.newAxisMask, i):
			consuming++
		}
	}
	if consuming > len(shape) {
		return nil, nil, fmt.Errorf("%w: slice spec of %d axes for shape %v", ErrShape, consuming, shape)
	}
	dims := make([]sliceDim, 0, len(shape))
	var out []int
	full := func() {
		d := shape[len(dims)]
		dims = append(dims, sliceDim{start: 0, stride: 1, count: d, keep: true})
		out = append(out, d)
	}
	for i := 0; i < n; i++ {
		switch {
		case bit(s.ellipsisMask, i):
			for k := len(shape) - consuming; k > 0; k-- {
				full()
			}
		case bit(s.newAxisMask, i):
			out = append(out, 1)
		default:
			d := shape[len(dims)]
			b, e, st := int(begin[i]), int(end[i]), int(strides[i])
			if bit(s.shrinkMask, i) {
				if b < 0 {
					b += d
				}
				if b < 0 || b >= d {
					return nil, nil, fmt.Errorf("%w: index %d out of range for axis of %d", ErrShape, begin[i], d)
				}
				dims = append(dims, sliceDim{start: b, stride: 1, count: 1})
				continue
			}
			if st == 0 {
				return nil, nil, fmt.Errorf("%w: zero stride", ErrShape)
			}
			lo, hi := 0, d // clamp range for stride > 0
			if st < 0 {
				lo, hi = -1, d-1
			}
			norm := func(v int, masked bool, def int) int {
				if masked {
					return def
				}
				if v < 0 {
					v += d
				}
				return min(max(v, lo), hi)
			}
			if st > 0 {
				b = norm(b, bit(s.beginMask, i), 0)
				e = norm(e, bit(s.endMask, i), d)
			} else {
				b = norm(b, bit(s.beginMask, i), d-1)
				e = norm(e, bit(s.endMask, i), -1)
			}
			count := 0
			if st > 0 && e > b {
				count = (e - b + st - 1) / st
			} else if st < 0 && b > e {
				count = (b - e - st - 1) / -st
			}
			dims = append(dims, sliceDim{start: b, stride: st, count: count, keep: true})
			out = append(out, count)
		}
	}
	// Axes not named by the spec are taken whole (an implicit ellipsis).
	for len(dims) < len(shape) {
		full()
	}
	if out == nil {
		out = []int{}
	}
	return dims, out, nil
}

func (s *stridedSlice) run(_ *runCtx, in []*value) (*value, error) {
	x := in[0]
	dims, shape, err := s.plan(x.shape, in[1].ints(), in[2].ints(), in[3].ints())
	if err != nil {
		return nil, err
	}
	total := 1
	for _, d := range dims {
		total *= d.count
	}
	// Input strides per axis, then walk the selection with a multi-index.
	st := make([]int, len(x.shape))
	acc := 1
	for i := len(x.shape) - 1; i >= 0; i-- {
		st[i] = acc
		acc *= x.shape[i]
	}
	src := make([]int, 0, total)
	if total > 0 {
		idx := make([]int, len(dims))
		off := 0
		for i, d := range dims {
			off += d.start * st[i]
		}
		for k := 0; k < total; k++ {
			src = append(src, off)
			for ax := len(dims) - 1; ax >= 0; ax-- {
				idx[ax]++
				off += dims[ax].stride * st[ax]
				if idx[ax] < dims[ax].count {
					break
				}
				off -= dims[ax].stride * st[ax] * dims[ax].count
				idx[ax] = 0
			}
		}
	}
	if x.isInt {
		out := make([]int32, len(src))
		for k, o := range src {
			out[k] = x.i[o]
		}
		return intValue(shape, out), nil
	}
	out := make([]float32, len(src))
	for k, o := range src {
		out[k] = x.f[o]
	}
	return floatValue(shape, out), nil
}
