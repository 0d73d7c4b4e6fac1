package tfgraph

// Tensor is a dense float32 tensor in row-major order. Image tensors use TF's
// NHWC layout. Callers may build one with a literal as long as len(Data)
// equals the product of Shape; Run checks that before using it.
type Tensor struct {
	Shape []int
	Data  []float32
}

// NewTensor returns a zeroed tensor of the given shape.
func NewTensor(shape ...int) *Tensor {
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, numElements(shape))}
}

// Len returns the number of elements the shape describes.
func (t *Tensor) Len() int { return numElements(t.Shape) }

// value is what flows along a graph edge during Run: either float32 data or
// int32 data (never both). Int data carries shapes, axes, paddings and slice
// bounds; Run hands int outputs to callers converted to float32. Keeping one internal type lets kernels accept
// whichever their inputs carry without an interface type switch per element.
type value struct {
	shape []int
	f     []float32
	i     []int32
	isInt bool
}

func floatValue(shape []int, data []float32) *value { return &value{shape: shape, f: data} }

func intValue(shape []int, data []int32) *value { return &value{shape: shape, i: data, isInt: true} }

func (v *value) size() int { return numElements(v.shape) }

// floats returns the data as float32, converting int data (rare: only when a
// graph feeds an int constant into arithmetic).
func (v *value) floats() []float32 {
	if !v.isInt {
		return v.f
	}
	out := make([]float32, len(v.i))
	for k, x := range v.i {
		out[k] = float32(x)
	}
	return out
}

// ints returns the data as int32; float data is truncated, which is what TF's
// Cast does and only matters for malformed graphs.
func (v *value) ints() []int32 {
	if v.isInt {
		return v.i
	}
	out := make([]int32, len(v.f))
	for k, x := range v.f {
		out[k] = int32(x)
	}
	return out
}

func numElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if a[k] != b[k] {
			return false
		}
	}
	return true
}
