package index

// useAVX2 is set when the CPU and OS support AVX2, FMA and F16C (every
// x86-64-v3 CPU: Intel Haswell, AMD Excavator/Zen and later); otherwise the
// portable Go loops run.
var useAVX2 = detectAVX2()

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
		f16c    = 1 << 29
	)
	if ecx1&(fma|osxsave|avx|f16c) != fma|osxsave|avx|f16c {
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

//go:noescape
func l2x128AVX2(probe *float32, vecs *float32, n int, dist *float32)

//go:noescape
func l2x128F16AVX2(probe *float32, vecs *uint16, n int, dist *float32)

//go:noescape
func l2x128I8AVX2(probe *int16, codes *int8, n int, dist *int32)

//go:noescape
func fromFloat16F16C(dst *float32, src *uint16, n int)

//go:noescape
func toFloat16F16C(dst *uint16, src *float32, n int)

// setUseAVX2 lets tests run the portable path on an AVX2 machine.
func setUseAVX2(v bool) { useAVX2 = v }
