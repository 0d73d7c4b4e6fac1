//go:build !amd64

package index

// useAVX2 is false off amd64: the portable Go loops run.
const useAVX2 = false

func l2x128AVX2(probe *float32, vecs *float32, n int, dist *float32) {
	panic("index: AVX2 kernel called on a non-amd64 build")
}

func l2x128F16AVX2(probe *float32, vecs *uint16, n int, dist *float32) {
	panic("index: AVX2 kernel called on a non-amd64 build")
}

func l2x128I8AVX2(probe *int16, codes *int8, n int, dist *int32) {
	panic("index: AVX2 kernel called on a non-amd64 build")
}

func fromFloat16F16C(dst *float32, src *uint16, n int) {
	panic("index: F16C conversion called on a non-amd64 build")
}

func toFloat16F16C(dst *uint16, src *float32, n int) {
	panic("index: F16C conversion called on a non-amd64 build")
}

// setUseAVX2 is a no-op: there is no SIMD path to switch.
func setUseAVX2(bool) {}
