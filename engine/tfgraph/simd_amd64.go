package tfgraph

// hasAVX2 is set when the CPU and OS support AVX2 and FMA (every x86-64-v3
// CPU: Intel Haswell, AMD Excavator/Zen and later). Kernels then get their
// filters packed for the assembly micro-kernels at load time as well.
var hasAVX2 = detectAVX2()

// useAVX2 selects the assembly kernels at run time; tests clear it to run
// the portable Go kernels on the same machine and model.
var useAVX2 = hasAVX2

func detectAVX2() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const (
		fma     = 1 << 12
		osxsave = 1 << 27
		avx     = 1 << 28
	)
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	// The OS must save the YMM registers on a context switch (XCR0 bits 1
	// and 2), or AVX code would see them corrupted.
	if xgetbv0()&6 != 6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0 // AVX2
}

// Implemented in simd_amd64.s.
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
func xgetbv0() (eax uint32)

// sgemm6x16AVX2 computes a 6×16 block of C = A·B for k ≥ 1: rows of A at a
// with a row stride of lda floats, B one packed panel of 16 columns (k rows
// of 16 consecutive floats), C at c with row stride ldc floats. flags bit 0
// adds bias[0:16] to every row, bit 1 then applies y = max(y,0) +
// slope·min(y,0) per column (slope 0 is a ReLU).
//
//go:noescape
func sgemm6x16AVX2(k int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, slope *float32, flags int)

// depthwiseRowAVX2 computes one output row of a depthwise convolution with
// channel multiplier 1 over a zero-padded NHWC input: for each of ow output
// pixels and each channel, the sum over kh×kw taps of x·w, where x points at
// the row's top-left input pixel, taps are wp pixels apart vertically (wp is
// the padded row length) and adjacent horizontally, and successive outputs
// are sw pixels apart. c must be a multiple of 8. flags as for
// sgemm6x16AVX2, with bias and slope c long.
//
//go:noescape
func depthwiseRowAVX2(x *float32, wp, c, kh, kw, sw, ow int, w *float32, out *float32, bias *float32, slope *float32, flags int)
