package tfgraph

import (
	"fmt"
	"math"
)

// compileOp turns one node into a kernel, checking attributes up front so a
// graph this runtime cannot execute fails at Load rather than at Run.
// consts holds the constant values of the node's inputs (nil where computed).
func compileOp(op string, a attrs, nIn int, consts []*value) (kernel, error) {
	k, _, err := compileNode(op, a, nIn, consts)
	return k, err
}

// fuser is implemented by kernels that can absorb following element-wise
// nodes into their epilogue (see fuseElementwise).
type fuser interface {
	withPost(post []postOp) kernel
}

// compileNode is compileOp that also returns the op's fuser, if it has one.
func compileNode(op string, a attrs, nIn int, consts []*value) (kernel, fuser, error) {
	switch op {
	case "Conv2D", "_FusedConv2D":
		c, err := compileConv(op, a, nIn, consts)
		if err != nil {
			return nil, nil, err
		}
		return c.run, c, nil
	case "DepthwiseConv2dNative", "FusedDepthwiseConv2dNative", "_FusedDepthwiseConv2dNative":
		d, err := compileDepthwise(op, a, nIn)
		if err != nil {
			return nil, nil, err
		}
		return d.run, d, nil
	case "MatMul", "_FusedMatMul":
		mm, err := compileMatMul(op, a, nIn, consts)
		if err != nil {
			return nil, nil, err
		}
		return mm.run, mm, nil
	}
	k, err := compileSimple(op, a, nIn)
	return k, nil, err
}

// compileSimple compiles the ops that have no fused forms.
func compileSimple(op string, a attrs, nIn int) (kernel, error) {
	need := func(n int) error {
		if nIn != n {
			return fmt.Errorf("%w: %d inputs, want %d", ErrFormat, nIn, n)
		}
		return nil
	}
	switch op {
	case "Identity", "StopGradient", "Snapshot":
		if err := need(1); err != nil {
			return nil, err
		}
		return func(_ *runCtx, in []*value) (*value, error) { return in[0], nil }, nil
	case "MaxPool", "AvgPool":
		return compilePool(op, a, nIn)
	case "Relu", "Relu6", "Elu", "Sigmoid", "Tanh", "Abs", "Neg", "Square", "Sqrt", "Rsqrt", "Exp", "Log", "Reciprocal":
		if err := need(1); err != nil {
			return nil, err
		}
		return unaryKernel(op), nil
	case "LeakyRelu":
		if err := need(1); err != nil {
			return nil, err
		}
		alpha := a.float("alpha", 0.2)
		return func(_ *runCtx, in []*value) (*value, error) {
			out := append([]float32(nil), in[0].floats()...)
			applyActivation(actLeakyRelu, alpha, nil, out)
			return floatValue(in[0].shape, out), nil
		}, nil
	case "Add", "AddV2", "BiasAdd", "Mul", "Sub", "RealDiv", "Maximum", "Minimum", "Prelu", "SquaredDifference":
		if err := need(2); err != nil {
			return nil, err
		}
		if op == "BiasAdd" {
			if err := a.nhwc(); err != nil {
				return nil, err
			}
		}
		return binaryKernel(binaryOps[op]), nil
	case "Softmax":
		if err := need(1); err != nil {
			return nil, err
		}
		return softmax, nil
	case "Mean", "Max", "Min", "Sum", "Prod":
		if err := need(2); err != nil {
			return nil, err
		}
		return reduceKernel(op, a.boolean("keep_dims")), nil
	case "Reshape":
		if err := need(2); err != nil {
			return nil, err
		}
		return reshape, nil
	case "Squeeze":
		if err := need(1); err != nil {
			return nil, err
		}
		return squeezeKernel(a.ints("squeeze_dims")), nil
	case "ExpandDims":
		if err := need(2); err != nil {
			return nil, err
		}
		return expandDims, nil
	case "Pad", "PadV2", "MirrorPad":
		return compilePad(op, a, nIn)
	case "ConcatV2":
		if nIn < 2 {
			return nil, fmt.Errorf("%w: %d inputs, want at least 2", ErrFormat, nIn)
		}
		return concat, nil
	case "StridedSlice":
		if err := need(4); err != nil {
			return nil, err
		}
		return compileStridedSlice(a)
	}
	return nil, fmt.Errorf("%w %q", ErrUnsupportedOp, op)
}

func unaryKernel(op string) kernel {
	var f func(d []float32)
	switch op {
	case "Relu":
		f = func(d []float32) { applyActivation(actRelu, 0, nil, d) }
	case "Relu6":
		f = func(d []float32) { applyActivation(actRelu6, 0, nil, d) }
	case "Elu":
		f = func(d []float32) { applyActivation(actElu, 0, nil, d) }
	case "Sigmoid":
		f = func(d []float32) { applyActivation(actSigmoid, 0, nil, d) }
	case "Tanh":
		f = func(d []float32) { applyActivation(actTanh, 0, nil, d) }
	case "Abs":
		f = func(d []float32) {
			for i, v := range d {
				d[i] = float32(math.Abs(float64(v)))
			}
		}
	case "Neg":
		f = func(d []float32) {
			for i, v := range d {
				d[i] = -v
			}
		}
	case "Square":
		f = func(d []float32) {
			for i, v := range d {
				d[i] = v * v
			}
		}
	default:
		// The rest are rare and small; a function value per element is fine.
		var g func(float64) float64
		switch op {
		case "Sqrt":
			g = math.Sqrt
		case "Rsqrt":
			g = func(v float64) float64 { return 1 / math.Sqrt(v) }
		case "Exp":
			g = math.Exp
		case "Log":
			g = math.Log
		case "Reciprocal":
			g = func(v float64) float64 { return 1 / v }
		}
		f = func(d []float32) {
			for i, v := range d {
				d[i] = float32(g(float64(v)))
			}
		}
	}
	return func(_ *runCtx, in []*value) (*value, error) {
		out := append([]float32(nil), in[0].floats()...)
		f(out)
		return floatValue(in[0].shape, out), nil
	}
}

// binaryOp names an element-wise operation with NumPy broadcasting.
type binaryOp int

const (
	opAdd binaryOp = iota
	opSub
	opMul
	opDiv
	opMax
	opMin
	opPrelu
	opSquaredDiff
)

var binaryOps = map[string]binaryOp{
	"Add": opAdd, "AddV2": opAdd, "BiasAdd": opAdd, "Sub": opSub, "Mul": opMul,
	"RealDiv": opDiv, "Maximum": opMax, "Minimum": opMin, "Prelu": opPrelu,
	"SquaredDifference": opSquaredDiff,
}

// broadcastShape returns the NumPy broadcast of two shapes.
func broadcastShape(a, b []int) ([]int, error) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := 0; i < n; i++ {
		da, db := 1, 1
		if j := i - (n - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (n - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("%w: cannot broadcast %v with %v", ErrShape, a, b)
		}
	}
	return out, nil
}

// broadcastStrides returns strides of shape s aligned to out, 0 on
// broadcast axes.
func broadcastStrides(s, out []int) []int {
	st := make([]int, len(out))
	stride := 1
	for i := len(s) - 1; i >= 0; i-- {
		j := i + len(out) - len(s)
		if s[i] != 1 {
			st[j] = stride
		}
		stride *= s[i]
	}
	return st
}

func binaryKernel(op binaryOp) kernel {
	return func(rc *runCtx, in []*value) (*value, error) {
		a, b := in[0], in[1]
		shape, err := broadcastShape(a.shape, b.shape)
		if err != nil {
			return nil, err
		}
		out := rc.alloc(numElements(shape)) // every element is written below
		ad, bd := a.floats(), b.floats()
		if len(out) == 0 {
			return floatValue(shape, out), nil
		}
		// Split into an inner run of the last axis and an outer loop with
		// per-operand strides; the inner run is a vector-vector,
		// vector-scalar or scalar-vector loop.
		sa, sb := broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape)
		last := len(shape) - 1
		inner, ia, ib := 1, 0, 0
		if last >= 0 {
			inner, ia, ib = shape[last], sa[last], sb[last]
		}
		// Merge trailing axes where both operands are contiguous, so the
		// common same-shape case is a single run.
		for last > 0 && ia == 1 && ib == 1 && sa[last-1] == inner && sb[last-1] == inner {
			last--
			inner *= shape[last]
		}
		for last > 0 && ia == 0 && ib == 1 && sa[last-1] == 0 && sb[last-1] == inner {
			last--
			inner *= shape[last]
		}
		for last > 0 && ia == 1 && ib == 0 && sb[last-1] == 0 && sa[last-1] == inner {
			last--
			inner *= shape[last]
		}
		outer := len(out) / inner
		idx := make([]int, max(last, 0))
		offA, offB := 0, 0
		for o := 0; o < outer; o++ {
			binaryRun(op, out[o*inner:(o+1)*inner], ad[offA:], bd[offB:], ia, ib)
			// Advance the multi-index over the outer axes.
			for ax := last - 1; ax >= 0; ax-- {
				idx[ax]++
				offA += sa[ax]
				offB += sb[ax]
				if idx[ax] < shape[ax] {
					break
				}
				offA -= sa[ax] * shape[ax]
				offB -= sb[ax] * shape[ax]
				idx[ax] = 0
			}
		}
		return floatValue(shape, out), nil
	}
}

// binaryRun computes dst[i] = a[i*ia] op b[i*ib] for steps 0 or 1.
func binaryRun(op binaryOp, dst, a, b []float32, ia, ib int) {
	n := len(dst)
	switch {
	case ia == 1 && ib == 1:
		a, b = a[:n], b[:n]
		switch op {
		case opAdd:
			for i := range dst {
				dst[i] = a[i] + b[i]
			}
		case opSub:
			for i := range dst {
				dst[i] = a[i] - b[i]
			}
		case opMul:
			for i := range dst {
				dst[i] = a[i] * b[i]
			}
		default:
			for i := range dst {
				dst[i] = binaryScalar(op, a[i], b[i])
			}
		}
	case ia == 1 && ib == 0:
		a = a[:n]
		s := b[0]
		switch op {
		case opAdd:
			for i := range dst {
				dst[i] = a[i] + s
			}
		case opMul:
			for i := range dst {
				dst[i] = a[i] * s
			}
		default:
			for i := range dst {
				dst[i] = binaryScalar(op, a[i], s)
			}
		}
	case ia == 0 && ib == 1:
		b = b[:n]
		s := a[0]
		for i := range dst {
			dst[i] = binaryScalar(op, s, b[i])
		}
	default:
		v := binaryScalar(op, a[0], b[0])
		for i := range dst {
			dst[i] = v
		}
	}
}

func binaryScalar(op binaryOp, x, y float32) float32 {
	switch op {
	case opAdd:
		return x + y
	case opSub:
		return x - y
	case opMul:
		return x * y
	case opDiv:
		return x / y
	case opMax:
		if x != x || y != y {
			return float32(math.NaN())
		}
		return max(x, y)
	case opMin:
		if x != x || y != y {
			return float32(math.NaN())
		}
		return min(x, y)
	case opPrelu:
		if x < 0 {
			return x * y
		}
		return x
	case opSquaredDiff:
		return (x - y) * (x - y)
	}
	return 0
}

// softmax normalises over the last axis, subtracting the row maximum first
// so large logits do not overflow.
func softmax(_ *runCtx, in []*value) (*value, error) {
	x := in[0]
	if len(x.shape) == 0 {
		return nil, fmt.Errorf("%w: softmax of a scalar", ErrShape)
	}
	c := x.shape[len(x.shape)-1]
	src := x.floats()
	out := make([]float32, len(src))
	if c == 0 {
		return floatValue(x.shape, out), nil
	}
	for off := 0; off < len(src); off += c {
		row, dst := src[off:off+c], out[off:off+c]
		m := row[0]
		for _, v := range row {
			m = max(m, v)
		}
		var sum float64
		for i, v := range row {
			e := math.Exp(float64(v - m))
			dst[i] = float32(e)
			sum += e
		}
		inv := float32(1 / sum)
		for i := range dst {
			dst[i] *= inv
		}
	}
	return floatValue(x.shape, out), nil
}

// matMulOp implements MatMul and _FusedMatMul for 2-D operands.
type matMulOp struct {
	ta, tb bool
	fuse   fusion
	packed []float32 // constant B (after transpose_b) packed for gemm
	post   []postOp
}

func (mm *matMulOp) withPost(post []postOp) kernel {
	cp := *mm
	cp.post = post
	return cp.run
}

func compileMatMul(op string, a attrs, nIn int, consts []*value) (*matMulOp, error) {
	mm := &matMulOp{ta: a.boolean("transpose_a"), tb: a.boolean("transpose_b")}
	if nIn < 2 {
		return nil, fmt.Errorf("%w: %d inputs, want at least 2", ErrFormat, nIn)
	}
	if op == "_FusedMatMul" {
		var err error
		if mm.fuse, err = parseFusion(a, nIn-2); err != nil {
			return nil, err
		}
	} else if nIn != 2 {
		return nil, fmt.Errorf("%w: %d inputs, want 2", ErrFormat, nIn)
	}
	if b := consts[1]; b != nil && len(b.shape) == 2 {
		k, n, bd := b.shape[0], b.shape[1], b.floats()
		if mm.tb {
			k, n, bd = n, k, transpose2(bd, b.shape[0], b.shape[1])
		}
		mm.packed = packB(bd, k, n)
	}
	return mm, nil
}

func transpose2(d []float32, r, c int) []float32 {
	out := make([]float32, len(d))
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			out[j*r+i] = d[i*c+j]
		}
	}
	return out
}

func (mm *matMulOp) run(rc *runCtx, in []*value) (*value, error) {
	a, b := in[0], in[1]
	if len(a.shape) != 2 || len(b.shape) != 2 {
		return nil, fmt.Errorf("%w: MatMul of %v and %v (want 2-D)", ErrShape, a.shape, b.shape)
	}
	m, k := a.shape[0], a.shape[1]
	ad := a.floats()
	if mm.ta {
		m, k = k, m
		ad = transpose2(ad, a.shape[0], a.shape[1])
	}
	kb, n := b.shape[0], b.shape[1]
	if mm.tb {
		kb, n = n, kb
	}
	if kb != k {
		return nil, fmt.Errorf("%w: MatMul of %v and %v", ErrShape, a.shape, b.shape)
	}
	packed := mm.packed
	if packed == nil {
		bd := b.floats()
		if mm.tb {
			bd = transpose2(bd, b.shape[0], b.shape[1])
		}
		packed = packB(bd, k, n)
	}
	ep, err := mm.fuse.epilogue(in[2:], n, mm.post)
	if err != nil {
		return nil, err
	}
	out := make([]float32, m*n)
	// Dense layers here have m=1: split columns (panels of B) across
	// workers instead of rows.
	panels := (n + gemmNR - 1) / gemmNR
	per := max(1, parallelMinWork/max(k*gemmNR*m, 1))
	chunks := (panels + per - 1) / per
	parallelFor(rc.workers, chunks, func(_, ch int) {
		p0, p1 := ch*per, min(panels, (ch+1)*per)
		j0, j1 := p0*gemmNR, min(n, p1*gemmNR)
		gemm(m, j1-j0, k, ad, k, packed[p0*k*gemmNR:p1*k*gemmNR], out[j0:], n)
	})
	ep.apply(out, n)
	return floatValue([]int{m, n}, out), nil
}

// axesOf normalises a reduction/concat axis list against rank.
func axesOf(v *value, rank int) ([]bool, error) {
	red := make([]bool, rank)
	for _, ax := range v.ints() {
		a := int(ax)
		if a < 0 {
			a += rank
		}
		if a < 0 || a >= rank {
			return nil, fmt.Errorf("%w: axis %d out of range for rank %d", ErrShape, ax, rank)
		}
		red[a] = true
	}
	return red, nil
}

// reduceKernel implements Mean, Max, Min, Sum and Prod over the axes given
// by the second input.
func reduceKernel(op string, keep bool) kernel {
	return func(_ *runCtx, in []*value) (*value, error) {
		x := in[0]
		red, err := axesOf(in[1], len(x.shape))
		if err != nil {
			return nil, err
		}
		var outShape, keptShape []int
		count := 1
		for i, d := range x.shape {
			if red[i] {
				count *= d
				keptShape = append(keptShape, 1)
				if keep {
					outShape = append(outShape, 1)
				}
				continue
			}
			keptShape = append(keptShape, d)
			outShape = append(outShape, d)
		}
		if outShape == nil {
			outShape = []int{}
		}
		out := make([]float32, numElements(outShape))
		init := float32(0)
		switch op {
		case "Max":
			init = float32(math.Inf(-1))
		case "Min":
			init = float32(math.Inf(1))
		case "Prod":
			init = 1
		}
		for i := range out {
			out[i] = init
		}
		// Walk the input once; st maps each input index to its output slot.
		st := broadcastStrides(keptShape, x.shape)
		src := x.floats()
		idx := make([]int, len(x.shape))
		off := 0
		for _, v := range src {
			switch op {
			case "Mean", "Sum":
				out[off] += v
			case "Max":
				out[off] = max(out[off], v)
			case "Min":
				out[off] = min(out[off], v)
			case "Prod":
				out[off] *= v
			}
			for ax := len(idx) - 1; ax >= 0; ax-- {
				idx[ax]++
				off += st[ax]
				if idx[ax] < x.shape[ax] {
					break
				}
				off -= st[ax] * x.shape[ax]
				idx[ax] = 0
			}
		}
		if op == "Mean" && count > 0 {
			inv := 1 / float32(count)
			for i := range out {
				out[i] *= inv
			}
		}
		return floatValue(outShape, out), nil
	}
}

// reshape resolves one -1 dimension and shares the input's data.
func reshape(_ *runCtx, in []*value) (*value, error) {
	x, s := in[0], in[1].ints()
	shape := make([]int, len(s))
	known, free := 1, -1
	for i, d := range s {
		switch {
		case d == -1 && free < 0:
			free = i
		case d < 0:
			return nil, fmt.Errorf("%w: reshape to %v", ErrShape, s)
		default:
			shape[i] = int(d)
			known *= int(d)
		}
	}
	n := x.size()
	if free >= 0 {
		if known == 0 || n%known != 0 {
			return nil, fmt.Errorf("%w: cannot reshape %v to %v", ErrShape, x.shape, s)
		}
		shape[free] = n / known
	} else if known != n {
		return nil, fmt.Errorf("%w: cannot reshape %v to %v", ErrShape, x.shape, s)
	}
	return &value{shape: shape, f: x.f, i: x.i, isInt: x.isInt}, nil
}

func squeezeKernel(dims []int) kernel {
	return func(_ *runCtx, in []*value) (*value, error) {
		x := in[0]
		drop := make([]bool, len(x.shape))
		if len(dims) == 0 {
			for i, d := range x.shape {
				drop[i] = d == 1
			}
		}
		for _, d := range dims {
			if d < 0 {
				d += len(x.shape)
			}
			if d < 0 || d >= len(x.shape) || x.shape[d] != 1 {
				return nil, fmt.Errorf("%w: cannot squeeze axis %d of %v", ErrShape, d, x.shape)
			}
			drop[d] = true
		}
		shape := []int{}
		for i, d := range x.shape {
			if !drop[i] {
				shape = append(shape, d)
			}
		}
		return &value{shape: shape, f: x.f, i: x.i, isInt: x.isInt}, nil
	}
}

func expandDims(_ *runCtx, in []*value) (*value, error) {
	x, ax := in[0], in[1].ints()
	if len(ax) != 1 {
		return nil, fmt.Errorf("%w: ExpandDims axis %v", ErrShape, ax)
	}
	a := int(ax[0])
	if a < 0 {
		a += len(x.shape) + 1
	}
	if a < 0 || a > len(x.shape) {
		return nil, fmt.Errorf("%w: ExpandDims axis %d for %v", ErrShape, ax[0], x.shape)
	}
	shape := append(append(append([]int{}, x.shape[:a]...), 1), x.shape[a:]...)
	return &value{shape: shape, f: x.f, i: x.i, isInt: x.isInt}, nil
}

// compilePad handles Pad (zeros), PadV2 (a given constant) and MirrorPad
// (REFLECT excludes the edge, SYMMETRIC repeats it).
func compilePad(op string, a attrs, nIn int) (kernel, error) {
	want := 2
	if op == "PadV2" {
		want = 3
	}
	if nIn != want {
		return nil, fmt.Errorf("%w: %d inputs, want %d", ErrFormat, nIn, want)
	}
	mode := ""
	if op == "MirrorPad" {
		mode = a.str("mode")
		if mode != "REFLECT" && mode != "SYMMETRIC" {
			return nil, fmt.Errorf("%w: MirrorPad mode %q", ErrUnsupportedOp, mode)
		}
	}
	return func(_ *runCtx, in []*value) (*value, error) {
		x, p := in[0], in[1].ints()
		rank := len(x.shape)
		if len(p) != 2*rank {
			return nil, fmt.Errorf("%w: paddings %v for rank %d", ErrShape, p, rank)
		}
		var fill float32
		if op == "PadV2" {
			fill = in[2].floats()[0]
		}
		shape := make([]int, rank)
		for i, d := range x.shape {
			before, after := int(p[2*i]), int(p[2*i+1])
			if before < 0 || after < 0 {
				return nil, fmt.Errorf("%w: negative paddings %v", ErrShape, p)
			}
			if mode != "" {
				limit := d
				if mode == "REFLECT" {
					limit = d - 1
				}
				if before > limit || after > limit {
					return nil, fmt.Errorf("%w: %s padding %v too large for %v", ErrShape, mode, p, x.shape)
				}
			}
			shape[i] = d + before + after
		}
		out := make([]float32, numElements(shape))
		src := x.floats()
		if mode == "" && fill != 0 {
			for i := range out {
				out[i] = fill
			}
		}
		if len(out) == 0 {
			return floatValue(shape, out), nil
		}
		// Map every output index back to a source index per axis.
		idx := make([]int, rank)
		for o := range out {
			si, inside := 0, true
			for ax := 0; ax < rank; ax++ {
				j := idx[ax] - int(p[2*ax])
				d := x.shape[ax]
				if j < 0 || j >= d {
					switch mode {
					case "":
						inside = false
					case "REFLECT":
						if j < 0 {
							j = -j
						} else {
							j = 2*(d-1) - j
						}
					case "SYMMETRIC":
						if j < 0 {
							j = -j - 1
						} else {
							j = 2*d - 1 - j
						}
					}
				}
				if !inside {
					break
				}
				si = si*d + j
			}
			if inside {
				out[o] = src[si]
			}
			for ax := rank - 1; ax >= 0; ax-- {
				if idx[ax]++; idx[ax] < shape[ax] {
					break
				}
				idx[ax] = 0
			}
		}
		return floatValue(shape, out), nil
	}, nil
}

// concat implements ConcatV2: N tensors then the axis.
func concat(_ *runCtx, in []*value) (*value, error) {
	parts := in[:len(in)-1]
	axv := in[len(in)-1].ints()
	if len(axv) != 1 {
		return nil, fmt.Errorf("%w: concat axis %v", ErrShape, axv)
	}
	rank := len(parts[0].shape)
	ax := int(axv[0])
	if ax < 0 {
		ax += rank
	}
	if ax < 0 || ax >= rank {
		return nil, fmt.Errorf("%w: concat axis %d for rank %d", ErrShape, axv[0], rank)
	}
	shape := append([]int{}, parts[0].shape...)
	shape[ax] = 0
	isInt := true
	for _, p := range parts {
		if len(p.shape) != rank {
			return nil, fmt.Errorf("%w: concat of ranks %d and %d", ErrShape, rank, len(p.shape))
		}
		for i, d := range p.shape {
			if i != ax && d != shape[i] {
				return nil, fmt.Errorf("%w: concat of %v and %v on axis %d", ErrShape, parts[0].shape, p.shape, ax)
			}
		}
		shape[ax] += p.shape[ax]
		isInt = isInt && p.isInt
	}
	outer := numElements(shape[:ax])
	if isInt {
		out := make([]int32, 0, numElements(shape))
		for o := 0; o < outer; o++ {
			for _, p := range parts {
				run := numElements(p.shape[ax:])
				out = append(out, p.i[o*run:(o+1)*run]...)
			}
		}
		return intValue(shape, out), nil
	}
	data := make([][]float32, len(parts))
	for k, p := range parts {
		data[k] = p.floats()
	}
	out := make([]float32, 0, numElements(shape))
	for o := 0; o < outer; o++ {
		for k, p := range parts {
			run := numElements(p.shape[ax:])
			out = append(out, data[k][o*run:(o+1)*run]...)
		}
	}
	return floatValue(shape, out), nil
}
