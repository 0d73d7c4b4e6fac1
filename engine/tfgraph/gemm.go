package tfgraph

// A small float32 GEMM for convolutions and dense layers: C = A·B with A
// row-major (M×K, row stride lda) and B pre-packed into panels of gemmNR
// columns (packB). Pure Go cannot use SIMD, so the speed comes from a register
// block: each k step loads 2 values of A and 4 of B and does 8 multiply-adds
// with the accumulators in registers, instead of re-reading C.

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

// gemmPanelBytes bounds the slice of packed B one sweep over the rows
// reuses; it should stay in L2 next to the rows of A being streamed.
const gemmPanelBytes = 96 << 10

// gemm computes C[m×n] = A[m×k]·B for packed B. ldc is C's row stride.
// Panels of B are processed in blocks that fit in cache, each block swept
// over all rows, so wide layers (B of a 512×512 1×1 conv is 1 MB) are not
// re-read from memory for every pair of rows.
func gemm(m, n, k int, a []float32, lda int, bp []float32, c []float32, ldc int) {
	panels := (n + gemmNR - 1) / gemmNR
	block := max(1, gemmPanelBytes/(4*gemmNR*max(k, 1)))
	for p0 := 0; p0 < panels; p0 += block {
		p1 := min(panels, p0+block)
		i := 0
		for ; i+2 <= m; i += 2 {
			a0 := a[i*lda : i*lda+k]
			a1 := a[(i+1)*lda : (i+1)*lda+k]
			for p := p0; p < p1; p++ {
				var acc [8]float32
				kernel2x4(a0, a1, bp[p*k*gemmNR:(p+1)*k*gemmNR], &acc)
				j0 := p * gemmNR
				cols := min(gemmNR, n-j0)
				copy(c[i*ldc+j0:i*ldc+j0+cols], acc[0:cols])
				copy(c[(i+1)*ldc+j0:(i+1)*ldc+j0+cols], acc[4:4+cols])
			}
		}
		for ; i < m; i++ {
			ar := a[i*lda : i*lda+k]
			for p := p0; p < p1; p++ {
				var acc [4]float32
				kernel1x4(ar, bp[p*k*gemmNR:(p+1)*k*gemmNR], &acc)
				j0 := p * gemmNR
				cols := min(gemmNR, n-j0)
				copy(c[i*ldc+j0:i*ldc+j0+cols], acc[:cols])
			}
		}
	}
}

// kernel2x4 multiplies rows a0, a1 by one packed panel into acc (row-major
// 2×4). Two rows is the largest block whose 8 accumulators stay in the 15
// float registers Go uses on amd64 (a 4×4 block spills and measured ~15%
// slower). Unrolling k by two and reading B through one 8-wide slice lets
// the compiler drop bounds checks and use memory operands: 9.3 vs 5.4
// GFLOPS on one core here; with GOAMD64=v3 the multiply-adds become FMA
// instructions and both reach ~15 GFLOPS.
func kernel2x4(a0, a1, b []float32, acc *[8]float32) {
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	k := len(a0)
	a1 = a1[:k]
	b = b[:4*k]
	x := 0
	for ; x+2 <= k; x += 2 {
		bb := b[4*x : 4*x+8 : 4*x+8]
		aa := a0[x : x+2 : x+2]
		ab := a1[x : x+2 : x+2]
		v, w := aa[0], ab[0]
		c00 += v * bb[0]
		c01 += v * bb[1]
		c02 += v * bb[2]
		c03 += v * bb[3]
		c10 += w * bb[0]
		c11 += w * bb[1]
		c12 += w * bb[2]
		c13 += w * bb[3]
		v, w = aa[1], ab[1]
		c00 += v * bb[4]
		c01 += v * bb[5]
		c02 += v * bb[6]
		c03 += v * bb[7]
		c10 += w * bb[4]
		c11 += w * bb[5]
		c12 += w * bb[6]
		c13 += w * bb[7]
	}
	if x < k {
		bb := b[4*x : 4*x+4 : 4*x+4]
		v, w := a0[x], a1[x]
		c00 += v * bb[0]
		c01 += v * bb[1]
		c02 += v * bb[2]
		c03 += v * bb[3]
		c10 += w * bb[0]
		c11 += w * bb[1]
		c12 += w * bb[2]
		c13 += w * bb[3]
	}
	*acc = [8]float32{c00, c01, c02, c03, c10, c11, c12, c13}
}

// kernel1x4 is the single-row edge case of kernel2x4.
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
