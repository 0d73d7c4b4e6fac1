package tfgraph

// Converted Keras graphs often leave batch-norm and clipping as separate
// element-wise nodes after a convolution (faceres: Conv2D, Mul, Add, Relu,
// Minimum, Maximum per layer). Each such node would read and write the whole
// activation tensor again; folding them into the convolution's epilogue
// applies them while the output block is still in cache, and saves the
// allocations.

// postOp is one element-wise node folded into a producer's epilogue: a
// binary op with a constant operand (scalar or one value per channel) or an
// activation.
type postOp struct {
	op         binaryOp
	vec        []float32 // constant operand: 1 or c values
	constFirst bool      // the constant is the left operand (c - x, c / x)
	isAct      bool
	act        actKind
}

// apply runs the op in place over whole rows of c values.
func (p *postOp) apply(data []float32, c int) {
	if p.isAct {
		applyActivation(p.act, 0, nil, data)
		return
	}
	if len(p.vec) == 1 {
		s := p.vec[0]
		switch {
		case p.op == opAdd:
			for i, v := range data {
				data[i] = v + s
			}
		case p.op == opMul:
			for i, v := range data {
				data[i] = v * s
			}
		case p.op == opMin && s == s:
			for i, v := range data {
				data[i] = min(v, s)
			}
		case p.op == opMax && s == s:
			for i, v := range data {
				data[i] = max(v, s)
			}
		case p.constFirst:
			for i, v := range data {
				data[i] = binaryScalar(p.op, s, v)
			}
		default:
			for i, v := range data {
				data[i] = binaryScalar(p.op, v, s)
			}
		}
		return
	}
	for off := 0; off < len(data); off += c {
		row := data[off : off+c]
		vec := p.vec[:len(row)]
		switch {
		case p.op == opAdd:
			for j, v := range row {
				row[j] = v + vec[j]
			}
		case p.op == opMul:
			for j, v := range row {
				row[j] = v * vec[j]
			}
		case p.op == opPrelu && !p.constFirst:
			for j, v := range row {
				if v < 0 {
					row[j] = v * vec[j]
				}
			}
		case p.constFirst:
			for j, v := range row {
				row[j] = binaryScalar(p.op, vec[j], v)
			}
		default:
			for j, v := range row {
				row[j] = binaryScalar(p.op, v, vec[j])
			}
		}
	}
}

// fuseElementwise finds chains producer → element-wise → element-wise …
// where each link has a single consumer and is not a graph output, and gives
// the producer a fused kernel that computes the chain's end. The absorbed
// nodes then just pass the value on. Nodes whose own value the fused plan no
// longer computes are marked hidden, and Run falls back to the unfused
// kernels when a caller asks for one of them.
func fuseElementwise(m *Model, fusers []fuser) {
	consumers := make([][]int, len(m.nodes))
	for k, n := range m.nodes {
		for _, j := range n.inputs {
			consumers[j] = append(consumers[j], k)
		}
	}
	isOutput := make([]bool, len(m.nodes))
	for _, o := range m.outputs {
		isOutput[m.byName[o.Name]] = true
	}
	for k, f := range fusers {
		if f == nil {
			continue
		}
		// Convolutions produce rank 4, MatMul rank 2; a constant of higher
		// rank would broadcast the output to a new shape.
		maxRank := 4
		if _, ok := f.(*matMulOp); ok {
			maxRank = 2
		}
		var post []postOp
		last := k
		for !isOutput[last] {
			if p, add, inner, ok := matchPReLU(m, consumers, isOutput, last, maxRank); ok {
				post = append(post, p)
				m.nodes[last].hidden = true
				for _, j := range inner {
					m.nodes[j].hidden = true
				}
				m.nodes[add].fusedRun = passThrough(0)
				m.nodes[add].fusedInputs = []int{last}
				last = add
				continue
			}
			if len(consumers[last]) != 1 {
				break
			}
			next := consumers[last][0]
			p, pos, ok := asPostOp(m, m.nodes[next], last, maxRank)
			if !ok {
				break
			}
			post = append(post, p)
			m.nodes[last].hidden = true
			m.nodes[next].fusedRun = passThrough(pos)
			last = next
		}
		if post != nil {
			m.nodes[k].fusedRun = f.withPost(post)
		}
	}
}

func passThrough(pos int) kernel {
	return func(_ *runCtx, in []*value) (*value, error) { return in[pos], nil }
}

// asPostOp reports whether n is an element-wise op on the value of node
// src that can run as a postOp, and at which input position src feeds it.
func asPostOp(m *Model, n *node, src, maxRank int) (postOp, int, bool) {
	switch n.op {
	case "Relu", "Relu6", "Elu", "Sigmoid", "Tanh":
		if len(n.inputs) != 1 {
			return postOp{}, 0, false
		}
		acts := map[string]actKind{"Relu": actRelu, "Relu6": actRelu6, "Elu": actElu, "Sigmoid": actSigmoid, "Tanh": actTanh}
		return postOp{isAct: true, act: acts[n.op]}, 0, true
	}
	op, ok := binaryOps[n.op]
	if !ok || len(n.inputs) != 2 || n.inputs[0] == n.inputs[1] {
		return postOp{}, 0, false
	}
	pos := 0
	if n.inputs[1] == src {
		pos = 1
	}
	c := m.nodes[n.inputs[1-pos]].konst
	if c == nil || c.isInt || len(c.shape) > maxRank || c.size() == 0 {
		return postOp{}, 0, false
	}
	// Only a scalar or a per-channel vector: every axis but the last is 1.
	for _, d := range c.shape[:max(len(c.shape)-1, 0)] {
		if d != 1 {
			return postOp{}, 0, false
		}
	}
	if pos == 1 && op == opPrelu {
		return postOp{}, 0, false
	}
	return postOp{op: op, vec: c.f, constFirst: pos == 1}, pos, true
}

// matchPReLU recognises the PReLU that TF's converter spells out in
// element-wise ops, relu(x) + c·(x − |x|) (or x + c·(x − |x|), or with
// |x| − x), where x is the value of node src and c a constant of one value
// or one per channel. It returns the equivalent postOp (a PReLU whose slope
// is what the expression multiplies a negative x by: 2c, −2c, 1+2c or
// 1−2c), the final Add node and the nodes in between, which the fused plan
// skips. MobileFaceNet has 33 of these; each reads or writes the whole
// activation five times when run node by node.
func matchPReLU(m *Model, consumers [][]int, isOutput []bool, src, maxRank int) (postOp, int, []int, bool) {
	fail := func() (postOp, int, []int, bool) { return postOp{}, 0, nil, false }
	cons := consumers[src]
	if len(cons) != 3 {
		return fail()
	}
	only := func(j int) (int, bool) { // the single consumer of j, if j is internal
		if isOutput[j] || len(consumers[j]) != 1 {
			return 0, false
		}
		return consumers[j][0], true
	}
	abs, sub, relu, addDirect := -1, -1, -1, -1
	for _, j := range cons {
		n := m.nodes[j]
		switch {
		case n.op == "Abs" && len(n.inputs) == 1 && abs < 0:
			abs = j
		case n.op == "Sub" && len(n.inputs) == 2 && sub < 0:
			sub = j
		case n.op == "Relu" && len(n.inputs) == 1 && relu < 0:
			relu = j
		case (n.op == "Add" || n.op == "AddV2") && len(n.inputs) == 2 && addDirect < 0:
			addDirect = j
		default:
			return fail()
		}
	}
	if abs < 0 || sub < 0 || (relu < 0) == (addDirect < 0) {
		return fail()
	}
	if a, ok := only(abs); !ok || a != sub {
		return fail()
	}
	var sign float32
	switch si := m.nodes[sub].inputs; {
	case si[0] == src && si[1] == abs:
		sign = 2 // x − |x| is 2x for negative x
	case si[0] == abs && si[1] == src:
		sign = -2
	default:
		return fail()
	}
	mul, ok := only(sub)
	if !ok || m.nodes[mul].op != "Mul" || len(m.nodes[mul].inputs) != 2 {
		return fail()
	}
	mi := m.nodes[mul].inputs
	cj := mi[0]
	if cj == sub {
		cj = mi[1]
	} else if mi[1] != sub {
		return fail()
	}
	c := m.nodes[cj].konst
	if c == nil || c.isInt || len(c.shape) > maxRank || c.size() == 0 {
		return fail()
	}
	for _, d := range c.shape[:max(len(c.shape)-1, 0)] {
		if d != 1 {
			return fail()
		}
	}
	add, ok := only(mul)
	if !ok {
		return fail()
	}
	pos, base := src, float32(1) // the Add's other operand, and its slope
	inner := []int{abs, sub, mul}
	if relu >= 0 {
		if a, ok := only(relu); !ok || a != add {
			return fail()
		}
		pos, base = relu, 0
		inner = append(inner, relu)
	} else if addDirect != add {
		return fail()
	}
	if ai := m.nodes[add].inputs; !(ai[0] == pos && ai[1] == mul) && !(ai[0] == mul && ai[1] == pos) {
		return fail()
	}
	slope := make([]float32, len(c.f))
	for i, v := range c.f {
		slope[i] = base + sign*v
	}
	return postOp{op: opPrelu, vec: slope}, add, inner, true
}
