package tfgraph

// A small float32 GEMM for convolutions and dense layers: C = A·B with A
// row-major (M×K, row stride lda) and B pre-packed into panels of gemmNR
// columns (packB). Pure Go cannot use SIMD, so the speed comes from a 4×4
// register block: each k step loads 4 values of A and 4 of B and does 16
// multiply-adds with the accumulators in registers, instead of re-reading C.

const gemmNR = 4 // columns per packed panel of B

// packB lays out a row-major K×N matrix as ceil(N/4) panels, each K rows of
// 4 consecutive columns, zero-padded on the right. A panel is then one
// contiguous stream for the micro-kernel.
func packB(b []float32, k, n int) []float32 {
	panels := (n + gemmNR - 1) / gemmNR
	out := make([]float32, panels*k*gemmNR)
	for p := 0; p < panels; p++ {
		dst := out[p*k*gemmNR : (p+1)*k*gemmNR]
		for r := 0; r < k; r++ {
			row := b[r*n : r*n+n]
			for c := 0; c < gemmNR; c++ {
				if col := p*gemmNR + c; col < n {
					dst[r*gemmNR+c] = row[col]
				}
			}
		}
	}
	return out
}

// gemm computes C[m×n] = A[m×k]·B for packed B. ldc is C's row stride.
func gemm(m, n, k int, a []float32, lda int, bp []float32, c []float32, ldc int) {
	panels := (n + gemmNR - 1) / gemmNR
	i := 0
	for ; i+4 <= m; i += 4 {
		a0 := a[i*lda : i*lda+k]
		a1 := a[(i+1)*lda : (i+1)*lda+k]
		a2 := a[(i+2)*lda : (i+2)*lda+k]
		a3 := a[(i+3)*lda : (i+3)*lda+k]
		for p := 0; p < panels; p++ {
			var acc [16]float32
			kernel4x4(a0, a1, a2, a3, bp[p*k*gemmNR:(p+1)*k*gemmNR], &acc)
			j0 := p * gemmNR
			cols := min(gemmNR, n-j0)
			for r := 0; r < 4; r++ {
				copy(c[(i+r)*ldc+j0:(i+r)*ldc+j0+cols], acc[r*4:r*4+cols])
			}
		}
	}
	for ; i < m; i++ {
		ar := a[i*lda : i*lda+k]
		for p := 0; p < panels; p++ {
			var acc [4]float32
			kernel1x4(ar, bp[p*k*gemmNR:(p+1)*k*gemmNR], &acc)
			j0 := p * gemmNR
			cols := min(gemmNR, n-j0)
			copy(c[i*ldc+j0:i*ldc+j0+cols], acc[:cols])
		}
	}
}

// kernel4x4 accumulates rows a0..a3 times one packed panel into acc
// (row-major 4×4).
func kernel4x4(a0, a1, a2, a3, b []float32, acc *[16]float32) {
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	var c20, c21, c22, c23 float32
	var c30, c31, c32, c33 float32
	k := len(a0)
	a1, a2, a3 = a1[:k], a2[:k], a3[:k]
	b = b[:4*k]
	for x := 0; x < k; x++ {
		bb := b[4*x : 4*x+4 : 4*x+4]
		b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
		v := a0[x]
		c00 += v * b0
		c01 += v * b1
		c02 += v * b2
		c03 += v * b3
		v = a1[x]
		c10 += v * b0
		c11 += v * b1
		c12 += v * b2
		c13 += v * b3
		v = a2[x]
		c20 += v * b0
		c21 += v * b1
		c22 += v * b2
		c23 += v * b3
		v = a3[x]
		c30 += v * b0
		c31 += v * b1
		c32 += v * b2
		c33 += v * b3
	}
	*acc = [16]float32{c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33}
}

// kernel1x4 is the single-row edge case of kernel4x4.
func kernel1x4(a, b []float32, acc *[4]float32) {
	var c0, c1, c2, c3 float32
	b = b[:4*len(a)]
	for x, v := range a {
		bb := b[4*x : 4*x+4 : 4*x+4]
		c0 += v * bb[0]
		c1 += v * bb[1]
		c2 += v * bb[2]
		c3 += v * bb[3]
	}
	*acc = [4]float32{c0, c1, c2, c3}
}
