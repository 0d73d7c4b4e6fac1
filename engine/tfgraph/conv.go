package tfgraph

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
)

// window describes a sliding window over the H and W axes of an NHWC tensor.
type window struct {
	kh, kw   int // kernel size
	sh, sw   int // strides
	dh, dw   int // dilations
	padding  string
	explicit []int // EXPLICIT padding: 8 ints, pairs per NHWC axis
}

// geometry is a window applied to a concrete input size.
type geometry struct {
	oh, ow           int
	padTop, padLeft  int
	effKH, effKW     int // dilated kernel extent
	padBottom, padRt int
}

func parseWindow(a attrs, kernelAttr string) (window, error) {
	var w window
	var err error
	if err = a.nhwc(); err != nil {
		return w, err
	}
	if w.sh, w.sw, err = a.window4("strides", 1); err != nil {
		return w, err
	}
	if w.dh, w.dw, err = a.window4("dilations", 1); err != nil {
		return w, err
	}
	if kernelAttr != "" {
		if w.kh, w.kw, err = a.window4(kernelAttr, 1); err != nil {
			return w, err
		}
	}
	w.padding = a.str("padding")
	switch w.padding {
	case "SAME", "VALID":
	case "EXPLICIT":
		w.explicit = a.ints("explicit_paddings")
		if len(w.explicit) != 8 {
			return w, fmt.Errorf("%w: explicit_paddings %v (want 8 values)", ErrUnsupportedOp, w.explicit)
		}
		for _, p := range w.explicit {
			if p < 0 {
				return w, fmt.Errorf("%w: negative explicit padding %v", ErrUnsupportedOp, w.explicit)
			}
		}
		if w.explicit[0]|w.explicit[1]|w.explicit[6]|w.explicit[7] != 0 {
			return w, fmt.Errorf("%w: explicit padding of batch or channel axis %v", ErrUnsupportedOp, w.explicit)
		}
	default:
		return w, fmt.Errorf("%w: padding %q", ErrUnsupportedOp, w.padding)
	}
	return w, nil
}

// geometry follows TF's rules: SAME gives ceil(in/stride) outputs with the
// odd padding pixel at the bottom/right; VALID uses only whole windows.
func (w window) geometry(h, wd, kh, kw int) (geometry, error) {
	g := geometry{effKH: (kh-1)*w.dh + 1, effKW: (kw-1)*w.dw + 1}
	same := func(in, k, s int) (out, before, after int) {
		out = (in + s - 1) / s
		total := max((out-1)*s+k-in, 0)
		return out, total / 2, total - total/2
	}
	switch w.padding {
	case "SAME":
		g.oh, g.padTop, g.padBottom = same(h, g.effKH, w.sh)
		g.ow, g.padLeft, g.padRt = same(wd, g.effKW, w.sw)
	case "VALID", "EXPLICIT":
		if w.padding == "EXPLICIT" {
			g.padTop, g.padBottom, g.padLeft, g.padRt = w.explicit[2], w.explicit[3], w.explicit[4], w.explicit[5]
		}
		ph, pw := h+g.padTop+g.padBottom, wd+g.padLeft+g.padRt
		if ph < g.effKH || pw < g.effKW {
			return g, fmt.Errorf("%w: %dx%d kernel does not fit %dx%d input", ErrShape, g.effKH, g.effKW, h, wd)
		}
		g.oh = (ph-g.effKH)/w.sh + 1
		g.ow = (pw-g.effKW)/w.sw + 1
	}
	return g, nil
}

// actKind is an activation applied after a bias, fused or standalone.
type actKind int

const (
	actNone actKind = iota
	actRelu
	actRelu6
	actLeakyRelu
	actPrelu
	actElu
	actSigmoid
	actTanh
)

// fusion is the parsed fused_ops attribute of _FusedConv2D, _FusedMatMul and
// the fused depthwise ops: an optional BiasAdd and then one activation.
type fusion struct {
	bias  bool
	act   actKind
	alpha float32 // LeakyRelu slope
}

func parseFusion(a attrs, nArgs int) (fusion, error) {
	var f fusion
	ops := a.strs("fused_ops")
	want := 0
	for i, op := range ops {
		switch {
		case op == "BiasAdd" && i == 0:
			f.bias = true
			want++
		case i == len(ops)-1 && f.act == actNone:
			switch op {
			case "Relu":
				f.act = actRelu
			case "Relu6":
				f.act = actRelu6
			case "Elu":
				f.act = actElu
			case "Sigmoid":
				f.act = actSigmoid
			case "Tanh":
				f.act = actTanh
			case "LeakyRelu":
				f.act = actLeakyRelu
				f.alpha = a.float("leakyrelu_alpha", 0.2)
			case "Prelu":
				f.act = actPrelu
				want++
			default:
				return f, fmt.Errorf("%w: fused op %q in %v", ErrUnsupportedOp, op, ops)
			}
		default:
			return f, fmt.Errorf("%w: fused ops %v", ErrUnsupportedOp, ops)
		}
	}
	if nArgs != want {
		return f, fmt.Errorf("%w: fused ops %v need %d extra inputs, node has %d", ErrFormat, ops, want, nArgs)
	}
	return f, nil
}

// epilogue applies bias and activation to rows of c channels. Built per
// Run from the node's argument tensors.
type epilogue struct {
	fusion
	b     []float32 // bias, len c
	prelu []float32 // Prelu slopes, len c or 1
	post  []postOp  // element-wise nodes folded in by fuseElementwise
}

func (f fusion) epilogue(args []*value, c int, post []postOp) (epilogue, error) {
	e := epilogue{fusion: f, post: post}
	for _, p := range post {
		if !p.isAct && len(p.vec) != 1 && len(p.vec) != c {
			return e, fmt.Errorf("%w: fused element-wise operand of %d values for %d channels", ErrShape, len(p.vec), c)
		}
	}
	k := 0
	if f.bias {
		if args[k].size() != c {
			return e, fmt.Errorf("%w: bias of %d values for %d channels", ErrShape, args[k].size(), c)
		}
		e.b = args[k].floats()
		k++
	}
	if f.act == actPrelu {
		if n := args[k].size(); n != c && n != 1 {
			return e, fmt.Errorf("%w: Prelu alpha of %d values for %d channels", ErrShape, n, c)
		}
		e.prelu = args[k].floats()
	}
	return e, nil
}

// apply runs the epilogue in place over data holding whole rows of c values.
func (e *epilogue) apply(data []float32, c int) {
	e.applyOwn(data, c)
	for i := range e.post {
		e.post[i].apply(data, c)
	}
}

func (e *epilogue) applyOwn(data []float32, c int) {
	if e.b != nil {
		for off := 0; off < len(data); off += c {
			row := data[off : off+c]
			for j, b := range e.b[:len(row)] {
				row[j] += b
			}
		}
	}
	if e.act == actPrelu && len(e.prelu) == c {
		for off := 0; off < len(data); off += c {
			row := data[off : off+c]
			for j, al := range e.prelu[:len(row)] {
				if row[j] < 0 {
					row[j] *= al
				}
			}
		}
		return
	}
	applyActivation(e.act, e.alpha, e.prelu, data)
}

// applyActivation applies a per-element activation in place; prelu, when
// used, is a single slope here (per-channel slopes are handled by callers).
func applyActivation(act actKind, alpha float32, prelu []float32, d []float32) {
	switch act {
	case actNone:
	case actRelu:
		for i, v := range d {
			if v < 0 {
				d[i] = 0
			}
		}
	case actRelu6:
		for i, v := range d {
			d[i] = min(max(v, 0), 6)
		}
	case actLeakyRelu:
		for i, v := range d {
			if v < 0 {
				d[i] = v * alpha
			}
		}
	case actPrelu:
		al := prelu[0]
		for i, v := range d {
			if v < 0 {
				d[i] = v * al
			}
		}
	case actElu:
		for i, v := range d {
			if v < 0 {
				d[i] = float32(math.Expm1(float64(v)))
			}
		}
	case actSigmoid:
		for i, v := range d {
			d[i] = sigmoid(v)
		}
	case actTanh:
		for i, v := range d {
			d[i] = float32(math.Tanh(float64(v)))
		}
	}
}

func sigmoid(v float32) float32 { return float32(1 / (1 + math.Exp(-float64(v)))) }

// parallelFor runs body(worker, chunk) for chunk in [0,chunks) on up to
// workers goroutines; chunks are handed out dynamically so uneven work
// balances. With one worker it runs inline.
func parallelFor(workers, chunks int, body func(worker, chunk int)) {
	workers = min(workers, chunks)
	if workers <= 1 {
		for c := 0; c < chunks; c++ {
			body(0, c)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var failure atomic.Value // first panic of a worker, re-raised by the caller
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					failure.CompareAndSwap(nil, fmt.Sprint(p))
				}
			}()
			for {
				c := int(next.Add(1)) - 1
				if c >= chunks {
					return
				}
				body(w, c)
			}
		}(w)
	}
	wg.Wait()
	// A panic in a worker goroutine would kill the process; hand it to the
	// calling goroutine, where Run turns it into an error.
	if p := failure.Load(); p != nil {
		panic(p)
	}
}

// parallelMinWork is roughly how many multiply-adds a chunk of work should
// have before it is worth a goroutine hand-off.
const parallelMinWork = 1 << 16

// convOp implements Conv2D and _FusedConv2D as im2col + GEMM.
type convOp struct {
	win    window
	fuse   fusion
	packed []float32 // filter packed for gemm when the filter is a constant
	// packed16 is the same filter packed for gemmAVX2 (on AVX2 machines).
	packed16 []float32
	post     []postOp
}

func (c *convOp) withPost(post []postOp) kernel {
	cp := *c
	cp.post = post
	return cp.run
}

func compileConv(op string, a attrs, nIn int, consts []*value) (*convOp, error) {
	win, err := parseWindow(a, "")
	if err != nil {
		return nil, err
	}
	c := &convOp{win: win}
	if op == "_FusedConv2D" {
		if c.fuse, err = parseFusion(a, nIn-2); err != nil {
			return nil, err
		}
	} else if nIn != 2 {
		return nil, fmt.Errorf("%w: %d inputs, want 2", ErrFormat, nIn)
	}
	if nIn < 2 {
		return nil, fmt.Errorf("%w: %d inputs, want at least 2", ErrFormat, nIn)
	}
	if f := consts[1]; f != nil {
		if len(f.shape) != 4 {
			return nil, fmt.Errorf("%w: filter shape %v, want 4-D", ErrShape, f.shape)
		}
		c.packed = packB(f.floats(), f.shape[0]*f.shape[1]*f.shape[2], f.shape[3])
		if hasAVX2 {
			c.packed16 = packB16(f.floats(), f.shape[0]*f.shape[1]*f.shape[2], f.shape[3])
		}
	}
	return c, nil
}

func (c *convOp) run(rc *runCtx, in []*value) (*value, error) {
	x, f := in[0], in[1]
	if len(x.shape) != 4 || len(f.shape) != 4 {
		return nil, fmt.Errorf("%w: input %v and filter %v must be 4-D", ErrShape, x.shape, f.shape)
	}
	nb, h, w, ci := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	kh, kw, fci, co := f.shape[0], f.shape[1], f.shape[2], f.shape[3]
	if kh < 1 || kw < 1 {
		return nil, fmt.Errorf("%w: empty filter %v", ErrShape, f.shape)
	}
	if fci != ci {
		return nil, fmt.Errorf("%w: input has %d channels, filter %v wants %d", ErrShape, ci, f.shape, fci)
	}
	g, err := c.win.geometry(h, w, kh, kw)
	if err != nil {
		return nil, err
	}
	ep, err := c.fuse.epilogue(in[2:], co, c.post)
	if err != nil {
		return nil, err
	}
	simd := useAVX2 && kh*kw*ci > 0
	var packed []float32
	var sep simdEpilogue
	if simd {
		if packed = c.packed16; packed == nil {
			packed = packB16(f.floats(), kh*kw*ci, co)
		}
		sep = ep.split(co)
	} else if packed = c.packed; packed == nil {
		packed = packB(f.floats(), kh*kw*ci, co)
	}
	xd := x.floats()
	k := kh * kw * ci
	m := nb * g.oh * g.ow
	out := rc.alloc(m * co) // every element is written by gemm

	// A 1×1 stride-1 unpadded convolution needs no im2col: the NHWC input
	// already is the M×K matrix.
	pointwise := kh == 1 && kw == 1 && c.win.sh == 1 && c.win.sw == 1 &&
		g.padTop == 0 && g.padLeft == 0 && g.oh == h && g.ow == w

	// Chunks of output rows small enough that the im2col block stays in L2.
	rows := max(2, min(512, (48<<10)/max(k, 1))) &^ 1
	if work := rows * k * co; work < parallelMinWork && rc.workers > 1 {
		rows = max(rows, (parallelMinWork/max(k*co, 1))&^1)
	}
	if simd {
		rows = max(simdMR, rows/simdMR*simdMR) // whole micro-kernel tiles
	}
	chunks := (m + rows - 1) / rows
	var bufs [][]float32
	if !pointwise {
		bufs = make([][]float32, min(rc.workers, chunks))
		for i := range bufs {
			bufs[i] = rc.alloc(rows * k)
		}
		defer func() {
			for _, b := range bufs {
				rc.free(b)
			}
		}()
	}
	parallelFor(rc.workers, chunks, func(wk, ch int) {
		r0 := ch * rows
		r1 := min(m, r0+rows)
		dst := out[r0*co : r1*co]
		var a []float32
		lda := ci
		if pointwise {
			a = xd[r0*ci : r1*ci]
		} else {
			a, lda = bufs[wk][:(r1-r0)*k], k
			im2col(a, xd, h, w, ci, kh, kw, &c.win, &g, r0, r1)
		}
		if simd {
			gemmAVX2(r1-r0, co, k, a, lda, packed, dst, co, &sep)
			if sep.hasRest {
				sep.rest.apply(dst, co)
			}
			return
		}
		gemm(r1-r0, co, k, a, lda, packed, dst, co)
		ep.apply(dst, co)
	})
	return floatValue([]int{nb, g.oh, g.ow, co}, out), nil
}

// im2col writes the receptive fields of output pixels [r0,r1) (flattened
// over batch, row, column) as rows of kh*kw*ci values, zero where the window
// hangs over the padding.
func im2col(a, x []float32, h, w, ci, kh, kw int, win *window, g *geometry, r0, r1 int) {
	k := kh * kw * ci
	for r := r0; r < r1; r++ {
		n := r / (g.oh * g.ow)
		oy := (r / g.ow) % g.oh
		ox := r % g.ow
		row := a[(r-r0)*k : (r-r0+1)*k]
		base := n * h * w * ci
		for ky := 0; ky < kh; ky++ {
			iy := oy*win.sh - g.padTop + ky*win.dh
			seg := row[ky*kw*ci : (ky+1)*kw*ci]
			if iy < 0 || iy >= h {
				clear(seg)
				continue
			}
			ix0 := ox*win.sw - g.padLeft
			if win.dw == 1 && ix0 >= 0 && ix0+kw <= w {
				// Whole kernel row inside the image: one contiguous copy.
				copy(seg, x[base+(iy*w+ix0)*ci:base+(iy*w+ix0+kw)*ci])
				continue
			}
			for kx := 0; kx < kw; kx++ {
				ix := ix0 + kx*win.dw
				dst := seg[kx*ci : (kx+1)*ci]
				if ix < 0 || ix >= w {
					clear(dst)
				} else {
					copy(dst, x[base+(iy*w+ix)*ci:base+(iy*w+ix+1)*ci])
				}
			}
		}
	}
}

// depthwiseOp implements DepthwiseConv2dNative and its fused forms directly:
// the work per output is too small for GEMM to pay off.
type depthwiseOp struct {
	win  window
	fuse fusion
	post []postOp
}

func (d *depthwiseOp) withPost(post []postOp) kernel {
	cp := *d
	cp.post = post
	return cp.run
}

func compileDepthwise(op string, a attrs, nIn int) (*depthwiseOp, error) {
	win, err := parseWindow(a, "")
	if err != nil {
		return nil, err
	}
	d := &depthwiseOp{win: win}
	if op == "DepthwiseConv2dNative" {
		if nIn != 2 {
			return nil, fmt.Errorf("%w: %d inputs, want 2", ErrFormat, nIn)
		}
	} else {
		if nIn < 2 {
			return nil, fmt.Errorf("%w: %d inputs, want at least 2", ErrFormat, nIn)
		}
		if d.fuse, err = parseFusion(a, nIn-2); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (d *depthwiseOp) run(rc *runCtx, in []*value) (*value, error) {
	x, f := in[0], in[1]
	if len(x.shape) != 4 || len(f.shape) != 4 {
		return nil, fmt.Errorf("%w: input %v and filter %v must be 4-D", ErrShape, x.shape, f.shape)
	}
	nb, h, w, ci := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	kh, kw, fci, mult := f.shape[0], f.shape[1], f.shape[2], f.shape[3]
	if kh < 1 || kw < 1 {
		return nil, fmt.Errorf("%w: empty filter %v", ErrShape, f.shape)
	}
	if fci != ci {
		return nil, fmt.Errorf("%w: input has %d channels, filter %v wants %d", ErrShape, ci, f.shape, fci)
	}
	g, err := d.win.geometry(h, w, kh, kw)
	if err != nil {
		return nil, err
	}
	co := ci * mult
	ep, err := d.fuse.epilogue(in[2:], co, d.post)
	if err != nil {
		return nil, err
	}
	xd, fd := x.floats(), f.floats()
	rows := nb * g.oh
	per := max(1, parallelMinWork/max(g.ow*co*kh*kw, 1))
	chunks := (rows + per - 1) / per

	if useAVX2 && mult == 1 && ci > 0 && ci%8 == 0 && d.win.dh == 1 && d.win.dw == 1 {
		out := rc.alloc(nb * g.oh * g.ow * co) // the kernel writes every element
		d.runAVX2(rc, xd, fd, out, nb, h, w, ci, kh, kw, &g, &ep)
		return floatValue([]int{nb, g.oh, g.ow, co}, out), nil
	}
	out := rc.allocZero(nb * g.oh * g.ow * co) // accumulated into below

	// With stride 1 and one output per channel, a kernel tap touches a
	// contiguous run of the input row; multiplying it by the tap's weights
	// tiled to the same length makes the inner loop one long stream
	// instead of a short per-pixel loop.
	var tiled []float32
	if mult == 1 && d.win.sw == 1 && d.win.dw == 1 {
		tiled = make([]float32, kh*kw*g.ow*ci)
		for tap := 0; tap < kh*kw; tap++ {
			for ox := 0; ox < g.ow; ox++ {
				copy(tiled[(tap*g.ow+ox)*ci:], fd[tap*ci:(tap+1)*ci])
			}
		}
	}
	parallelFor(rc.workers, chunks, func(_, ch int) {
		for r := ch * per; r < min(rows, (ch+1)*per); r++ {
			n, oy := r/g.oh, r%g.oh
			dstRow := out[r*g.ow*co : (r+1)*g.ow*co]
			if tiled != nil {
				for ky := 0; ky < kh; ky++ {
					iy := oy*d.win.sh - g.padTop + ky*d.win.dh
					if iy < 0 || iy >= h {
						continue
					}
					for kx := 0; kx < kw; kx++ {
						ix0 := kx - g.padLeft // input column of output column 0
						lo, hi := max(0, -ix0), min(g.ow, w-ix0)
						if lo >= hi {
							continue
						}
						base := (n*h + iy) * w
						src := xd[(base+lo+ix0)*ci : (base+hi+ix0)*ci]
						tap := ky*kw + kx
						wt := tiled[(tap*g.ow+lo)*ci : (tap*g.ow+lo)*ci+len(src)]
						dst := dstRow[lo*ci : lo*ci+len(src)]
						for i, v := range src {
							dst[i] += v * wt[i]
						}
					}
				}
				ep.apply(dstRow, co)
				continue
			}
			for ox := 0; ox < g.ow; ox++ {
				dst := dstRow[ox*co : (ox+1)*co]
				for ky := 0; ky < kh; ky++ {
					iy := oy*d.win.sh - g.padTop + ky*d.win.dh
					if iy < 0 || iy >= h {
						continue
					}
					for kx := 0; kx < kw; kx++ {
						ix := ox*d.win.sw - g.padLeft + kx*d.win.dw
						if ix < 0 || ix >= w {
							continue
						}
						src := xd[((n*h+iy)*w+ix)*ci : ((n*h+iy)*w+ix+1)*ci]
						wt := fd[(ky*kw+kx)*co : (ky*kw+kx+1)*co]
						if mult == 1 {
							wt = wt[:len(src)]
							dst := dst[:len(src)]
							for c, v := range src {
								dst[c] += v * wt[c]
							}
							continue
						}
						for c, v := range src {
							for q := 0; q < mult; q++ {
								dst[c*mult+q] += v * wt[c*mult+q]
							}
						}
					}
				}
			}
			ep.apply(dstRow, co)
		}
	})
	return floatValue([]int{nb, g.oh, g.ow, co}, out), nil
}

// runAVX2 is the depthwise convolution for AVX2 machines (multiplier 1,
// channels a multiple of 8, no dilation): the input is copied once into a
// zero-padded buffer so every output pixel sees a whole window, and the
// assembly kernel then computes an output row with the channels of one
// pixel in vector registers, bias and PReLU included.
func (d *depthwiseOp) runAVX2(rc *runCtx, xd, fd, out []float32, nb, h, w, c, kh, kw int, g *geometry, ep *epilogue) {
	if len(out) == 0 {
		return
	}
	hp, wp := h+g.padTop+g.padBottom, w+g.padLeft+g.padRt
	xp := xd
	if hp != h || wp != w {
		// Copy the rows in and clear only the padding around them.
		xp = rc.alloc(nb * hp * wp * c)
		defer rc.free(xp)
		for n := 0; n < nb; n++ {
			img := xp[n*hp*wp*c : (n+1)*hp*wp*c]
			clear(img[:g.padTop*wp*c])
			clear(img[(g.padTop+h)*wp*c:])
			for y := 0; y < h; y++ {
				row := img[(y+g.padTop)*wp*c : (y+g.padTop+1)*wp*c]
				clear(row[:g.padLeft*c])
				copy(row[g.padLeft*c:], xd[((n*h+y)*w)*c:((n*h+y)*w+w)*c])
				clear(row[(g.padLeft+w)*c:])
			}
		}
	}
	sep := ep.split(c)
	var bias, slope *float32
	if sep.flags&1 != 0 {
		bias = &sep.bias[0]
	}
	if sep.flags&2 != 0 {
		slope = &sep.slope[0]
	}
	// The kernel reads kh rows of wp pixels below each output row's
	// window origin; check once that they exist.
	if (nb-1)*hp*wp*c+((g.oh-1)*d.win.sh+kh-1)*wp*c+((g.ow-1)*d.win.sw+kw)*c > len(xp) || len(fd) < kh*kw*c {
		panic("tfgraph: depthwise window outside the padded input")
	}
	rows := nb * g.oh
	per := max(1, parallelMinWork/max(g.ow*c*kh*kw, 1))
	parallelFor(rc.workers, (rows+per-1)/per, func(_, ch int) {
		for r := ch * per; r < min(rows, (ch+1)*per); r++ {
			n, oy := r/g.oh, r%g.oh
			dst := out[r*g.ow*c : (r+1)*g.ow*c]
			origin := &xp[((n*hp)+oy*d.win.sh)*wp*c]
			depthwiseRowAVX2(origin, wp, c, kh, kw, d.win.sw, g.ow, &fd[0], &dst[0], bias, slope, sep.flags)
			if sep.hasRest {
				sep.rest.apply(dst, c)
			}
		}
	})
}

// poolOp implements MaxPool and AvgPool. AvgPool divides by the number of
// in-image pixels under the window, as TF does for SAME padding.
type poolOp struct {
	win window
	max bool
}

func compilePool(op string, a attrs, nIn int) (kernel, error) {
	if nIn != 1 {
		return nil, fmt.Errorf("%w: %d inputs, want 1", ErrFormat, nIn)
	}
	win, err := parseWindow(a, "ksize")
	if err != nil {
		return nil, err
	}
	if win.padding == "EXPLICIT" {
		return nil, fmt.Errorf("%w: EXPLICIT padding for pooling", ErrUnsupportedOp)
	}
	return (&poolOp{win: win, max: op == "MaxPool"}).run, nil
}

func (p *poolOp) run(rc *runCtx, in []*value) (*value, error) {
	x := in[0]
	if len(x.shape) != 4 {
		return nil, fmt.Errorf("%w: input %v must be 4-D", ErrShape, x.shape)
	}
	nb, h, w, c := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	g, err := p.win.geometry(h, w, p.win.kh, p.win.kw)
	if err != nil {
		return nil, err
	}
	xd := x.floats()
	out := make([]float32, nb*g.oh*g.ow*c)
	rows := nb * g.oh
	parallelFor(rc.workers, (rows+7)/8, func(_, ch int) {
		for r := ch * 8; r < min(rows, ch*8+8); r++ {
			n, oy := r/g.oh, r%g.oh
			y0 := max(oy*p.win.sh-g.padTop, 0)
			y1 := min(oy*p.win.sh-g.padTop+p.win.kh, h)
			for ox := 0; ox < g.ow; ox++ {
				x0 := max(ox*p.win.sw-g.padLeft, 0)
				x1 := min(ox*p.win.sw-g.padLeft+p.win.kw, w)
				dst := out[((r*g.ow)+ox)*c : ((r*g.ow)+ox+1)*c]
				if p.max {
					for i := range dst {
						dst[i] = float32(math.Inf(-1))
					}
				}
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						src := xd[((n*h+iy)*w+ix)*c : ((n*h+iy)*w+ix+1)*c]
						src = src[:len(dst)]
						if p.max {
							for i, v := range src {
								dst[i] = max(dst[i], v)
							}
						} else {
							for i, v := range src {
								dst[i] += v
							}
						}
					}
				}
				if !p.max {
					inv := 1 / float32((y1-y0)*(x1-x0))
					for i := range dst {
						dst[i] *= inv
					}
				}
			}
		}
	})
	return floatValue([]int{nb, g.oh, g.ow, c}, out), nil
}
