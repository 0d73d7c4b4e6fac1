//go:build !amd64

package tfgraph

// Off amd64 only the portable Go kernels run.
const hasAVX2 = false

var useAVX2 = false

func sgemm6x16AVX2(k int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, slope *float32, flags int) {
	panic("tfgraph: AVX2 kernel called on a non-amd64 build")
}

func depthwiseRowAVX2(x *float32, wp, c, kh, kw, sw, ow int, w *float32, out *float32, bias *float32, slope *float32, flags int) {
	panic("tfgraph: AVX2 kernel called on a non-amd64 build")
}
