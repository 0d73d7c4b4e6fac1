#include "textflag.h"

// func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv0() (eax uint32)
TEXT ·xgetbv0(SB), NOSPLIT, $0-4
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	RET

// ROW multiplies the broadcast A value at addr by the panel row in Y12/Y13
// into the row's two accumulators.
#define ROW(addr, bc, lo, hi) \
	VBROADCASTSS addr, bc \
	VFMADD231PS Y12, bc, lo \
	VFMADD231PS Y13, bc, hi

// BIAS2 adds the 16 bias values in Y12/Y13 to a row's accumulators.
#define BIAS2(lo, hi) \
	VADDPS Y12, lo, lo \
	VADDPS Y13, hi, hi

// PRELU applies y = max(y,0) + slope·min(y,0) with the slopes in sl and
// zero in Y15, using Y14 as scratch.
#define PRELU(acc, sl) \
	VMINPS Y15, acc, Y14 \
	VMAXPS Y15, acc, acc \
	VFMADD231PS sl, Y14, acc

// func sgemm6x16AVX2(k int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32, slope *float32, flags int)
//
// Twelve accumulators (Y0..Y11: six rows by two halves of the panel) stay
// in registers for the whole k loop; each step loads one 16-wide row of
// the packed panel and broadcasts one value per row of A: 12 FMAs per 2
// loads and 6 broadcasts.
TEXT ·sgemm6x16AVX2(SB), NOSPLIT, $0-72
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R8
	SHLQ $2, R8
	LEAQ (SI)(R8*2), R9
	ADDQ R8, R9
	MOVQ b+24(FP), DI

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

gemmloop:
	VMOVUPS (DI), Y12
	VMOVUPS 32(DI), Y13
	ROW((SI), Y14, Y0, Y1)
	ROW((SI)(R8*1), Y15, Y2, Y3)
	ROW((SI)(R8*2), Y14, Y4, Y5)
	ROW((R9), Y15, Y6, Y7)
	ROW((R9)(R8*1), Y14, Y8, Y9)
	ROW((R9)(R8*2), Y15, Y10, Y11)
	ADDQ $4, SI
	ADDQ $4, R9
	ADDQ $64, DI
	DECQ CX
	JNZ  gemmloop

	MOVQ flags+64(FP), AX
	TESTQ $1, AX
	JZ   gemmnobias
	MOVQ bias+48(FP), BX
	VMOVUPS (BX), Y12
	VMOVUPS 32(BX), Y13
	BIAS2(Y0, Y1)
	BIAS2(Y2, Y3)
	BIAS2(Y4, Y5)
	BIAS2(Y6, Y7)
	BIAS2(Y8, Y9)
	BIAS2(Y10, Y11)

gemmnobias:
	TESTQ $2, AX
	JZ   gemmstore
	MOVQ slope+56(FP), BX
	VMOVUPS (BX), Y12
	VMOVUPS 32(BX), Y13
	VXORPS Y15, Y15, Y15
	PRELU(Y0, Y12)
	PRELU(Y1, Y13)
	PRELU(Y2, Y12)
	PRELU(Y3, Y13)
	PRELU(Y4, Y12)
	PRELU(Y5, Y13)
	PRELU(Y6, Y12)
	PRELU(Y7, Y13)
	PRELU(Y8, Y12)
	PRELU(Y9, Y13)
	PRELU(Y10, Y12)
	PRELU(Y11, Y13)

gemmstore:
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R10
	SHLQ $2, R10
	LEAQ (DX)(R10*2), R11
	ADDQ R10, R11
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, (DX)(R10*1)
	VMOVUPS Y3, 32(DX)(R10*1)
	VMOVUPS Y4, (DX)(R10*2)
	VMOVUPS Y5, 32(DX)(R10*2)
	VMOVUPS Y6, (R11)
	VMOVUPS Y7, 32(R11)
	VMOVUPS Y8, (R11)(R10*1)
	VMOVUPS Y9, 32(R11)(R10*1)
	VMOVUPS Y10, (R11)(R10*2)
	VMOVUPS Y11, 32(R11)(R10*2)
	VZEROUPPER
	RET

// func depthwiseRowAVX2(x *float32, wp, c, kh, kw, sw, ow int, w *float32, out *float32, bias *float32, slope *float32, flags int)
//
// Registers: SI window origin of the current output pixel, DI its output,
// BX byte offset of the channel block, AX tap row, R14 tap, DX tap weights,
// R8 bytes per pixel (c·4), R9 bytes per padded input row, R10 bytes
// between output windows, R11 weights, CX output pixels left, R12/R13 tap
// counters. Blocks of 32 channels keep four independent accumulators in
// flight; the channels left over run in blocks of 8.
TEXT ·depthwiseRowAVX2(SB), NOSPLIT, $0-96
	MOVQ x+0(FP), SI
	MOVQ c+16(FP), R8
	SHLQ $2, R8
	MOVQ wp+8(FP), R9
	IMULQ R8, R9
	MOVQ sw+40(FP), R10
	IMULQ R8, R10
	MOVQ w+56(FP), R11
	MOVQ out+64(FP), DI
	MOVQ ow+48(FP), CX
	TESTQ CX, CX
	JLE  dwdone

dwpixel:
	XORQ BX, BX

dwblock32:
	LEAQ 128(BX), AX
	CMPQ AX, R8
	JGT  dwblock8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	LEAQ (SI)(BX*1), AX
	LEAQ (R11)(BX*1), DX
	MOVQ kh+24(FP), R12

dw32row:
	MOVQ AX, R14
	MOVQ kw+32(FP), R13

dw32tap:
	VMOVUPS (R14), Y4
	VMOVUPS 32(R14), Y5
	VMOVUPS 64(R14), Y6
	VMOVUPS 96(R14), Y7
	VFMADD231PS (DX), Y4, Y0
	VFMADD231PS 32(DX), Y5, Y1
	VFMADD231PS 64(DX), Y6, Y2
	VFMADD231PS 96(DX), Y7, Y3
	ADDQ R8, R14
	ADDQ R8, DX
	DECQ R13
	JNZ  dw32tap
	ADDQ R9, AX
	DECQ R12
	JNZ  dw32row

	MOVQ flags+88(FP), R12
	TESTQ $1, R12
	JZ   dw32nobias
	MOVQ bias+72(FP), R13
	VADDPS (R13)(BX*1), Y0, Y0
	VADDPS 32(R13)(BX*1), Y1, Y1
	VADDPS 64(R13)(BX*1), Y2, Y2
	VADDPS 96(R13)(BX*1), Y3, Y3

dw32nobias:
	TESTQ $2, R12
	JZ   dw32store
	MOVQ slope+80(FP), R13
	VXORPS Y15, Y15, Y15
	PRELU(Y0, (R13)(BX*1))
	PRELU(Y1, 32(R13)(BX*1))
	PRELU(Y2, 64(R13)(BX*1))
	PRELU(Y3, 96(R13)(BX*1))

dw32store:
	VMOVUPS Y0, (DI)(BX*1)
	VMOVUPS Y1, 32(DI)(BX*1)
	VMOVUPS Y2, 64(DI)(BX*1)
	VMOVUPS Y3, 96(DI)(BX*1)
	ADDQ $128, BX
	JMP  dwblock32

dwblock8:
	CMPQ BX, R8
	JGE  dwnext
	VXORPS Y0, Y0, Y0
	LEAQ (SI)(BX*1), AX
	LEAQ (R11)(BX*1), DX
	MOVQ kh+24(FP), R12

dw8row:
	MOVQ AX, R14
	MOVQ kw+32(FP), R13

dw8tap:
	VMOVUPS (R14), Y4
	VFMADD231PS (DX), Y4, Y0
	ADDQ R8, R14
	ADDQ R8, DX
	DECQ R13
	JNZ  dw8tap
	ADDQ R9, AX
	DECQ R12
	JNZ  dw8row

	MOVQ flags+88(FP), R12
	TESTQ $1, R12
	JZ   dw8nobias
	MOVQ bias+72(FP), R13
	VADDPS (R13)(BX*1), Y0, Y0

dw8nobias:
	TESTQ $2, R12
	JZ   dw8store
	MOVQ slope+80(FP), R13
	VXORPS Y15, Y15, Y15
	PRELU(Y0, (R13)(BX*1))

dw8store:
	VMOVUPS Y0, (DI)(BX*1)
	ADDQ $32, BX
	JMP  dwblock8

dwnext:
	ADDQ R10, SI
	ADDQ R8, DI
	DECQ CX
	JNZ  dwpixel

dwdone:
	VZEROUPPER
	RET
