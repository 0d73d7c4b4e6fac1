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

// CHUNK32 adds the squared difference of 8 floats at byte offset off of the
// row (DI) and the probe (SI) into accumulator acc.
#define CHUNK32(off, acc) \
	VMOVUPS off(DI), Y0 \
	VSUBPS  off(SI), Y0, Y0 \
	VFMADD231PS Y0, Y0, acc

// CHUNK16 is CHUNK32 for float16 rows: 8 halves at byte offset hoff are
// widened to float32 (F16C) and compared with the probe at byte offset off.
#define CHUNK16(hoff, off, acc) \
	VCVTPH2PS hoff(DI), Y0 \
	VSUBPS    off(SI), Y0, Y0 \
	VFMADD231PS Y0, Y0, acc

// REDUCE sums Y4..Y7 into one float and stores it at (DX).
#define REDUCE \
	VADDPS Y5, Y4, Y4 \
	VADDPS Y7, Y6, Y6 \
	VADDPS Y6, Y4, Y4 \
	VEXTRACTF128 $1, Y4, X5 \
	VADDPS X5, X4, X4 \
	VMOVHLPS X4, X5, X5 \
	VADDPS X5, X4, X4 \
	VMOVSHDUP X4, X5 \
	VADDSS X5, X4, X4 \
	VMOVSS X4, (DX)

// func l2x128AVX2(probe *float32, vecs *float32, n int, dist *float32)
//
// dist[r] = sum_i (vecs[r*128+i] - probe[i])^2 for r < n. Four independent
// accumulators hide the FMA latency; the probe stays in L1 while the rows
// stream through once.
TEXT ·l2x128AVX2(SB), NOSPLIT, $0-32
	MOVQ probe+0(FP), SI
	MOVQ vecs+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ dist+24(FP), DX
	TESTQ CX, CX
	JLE  done32

row32:
	VMOVUPS 0(DI), Y0
	VSUBPS  0(SI), Y0, Y0
	VMULPS  Y0, Y0, Y4
	VMOVUPS 32(DI), Y1
	VSUBPS  32(SI), Y1, Y1
	VMULPS  Y1, Y1, Y5
	VMOVUPS 64(DI), Y2
	VSUBPS  64(SI), Y2, Y2
	VMULPS  Y2, Y2, Y6
	VMOVUPS 96(DI), Y3
	VSUBPS  96(SI), Y3, Y3
	VMULPS  Y3, Y3, Y7
	CHUNK32(128, Y4)
	CHUNK32(160, Y5)
	CHUNK32(192, Y6)
	CHUNK32(224, Y7)
	CHUNK32(256, Y4)
	CHUNK32(288, Y5)
	CHUNK32(320, Y6)
	CHUNK32(352, Y7)
	CHUNK32(384, Y4)
	CHUNK32(416, Y5)
	CHUNK32(448, Y6)
	CHUNK32(480, Y7)
	REDUCE
	ADDQ $512, DI
	ADDQ $4, DX
	DECQ CX
	JNZ  row32

done32:
	VZEROUPPER
	RET

// func l2x128F16AVX2(probe *float32, vecs *uint16, n int, dist *float32)
//
// As l2x128AVX2 with rows stored as IEEE float16: half the memory traffic,
// which is what bounds a scan of a big gallery. The 4 cache lines of the row
// 16 rows ahead are prefetched: with half the bytes per row the hardware
// prefetcher alone kept too few lines in flight (1M rows on one core of a
// 2-vCPU Xeon VM: 32.7 -> 28.4 ms; the float32 kernel, already at the
// machine's ~10 GB/s, gained nothing). Prefetches never fault, so running
// past the end of vecs is harmless.
TEXT ·l2x128F16AVX2(SB), NOSPLIT, $0-32
	MOVQ probe+0(FP), SI
	MOVQ vecs+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ dist+24(FP), DX
	TESTQ CX, CX
	JLE  done16

row16:
	PREFETCHT0 4096(DI)
	PREFETCHT0 4160(DI)
	PREFETCHT0 4224(DI)
	PREFETCHT0 4288(DI)
	VCVTPH2PS 0(DI), Y0
	VSUBPS    0(SI), Y0, Y0
	VMULPS    Y0, Y0, Y4
	VCVTPH2PS 16(DI), Y1
	VSUBPS    32(SI), Y1, Y1
	VMULPS    Y1, Y1, Y5
	VCVTPH2PS 32(DI), Y2
	VSUBPS    64(SI), Y2, Y2
	VMULPS    Y2, Y2, Y6
	VCVTPH2PS 48(DI), Y3
	VSUBPS    96(SI), Y3, Y3
	VMULPS    Y3, Y3, Y7
	CHUNK16(64, 128, Y4)
	CHUNK16(80, 160, Y5)
	CHUNK16(96, 192, Y6)
	CHUNK16(112, 224, Y7)
	CHUNK16(128, 256, Y4)
	CHUNK16(144, 288, Y5)
	CHUNK16(160, 320, Y6)
	CHUNK16(176, 352, Y7)
	CHUNK16(192, 384, Y4)
	CHUNK16(208, 416, Y5)
	CHUNK16(224, 448, Y6)
	CHUNK16(240, 480, Y7)
	REDUCE
	ADDQ $256, DI
	ADDQ $4, DX
	DECQ CX
	JNZ  row16

done16:
	VZEROUPPER
	RET

// func toFloat16F16C(dst *uint16, src *float32, n int)
//
// dst[i] = float16(src[i]) for i < n, n a multiple of 8, rounding to
// nearest even (immediate 0), as float16Bits does for finite values.
TEXT ·toFloat16F16C(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   doneh

convh:
	VMOVUPS   (SI), Y0
	VCVTPS2PH $0, Y0, (DI)
	ADDQ      $32, SI
	ADDQ      $16, DI
	DECQ      CX
	JNZ       convh

doneh:
	VZEROUPPER
	RET

// I8CHUNK adds the squared difference of 16 int8 codes at byte offset off
// of the row (DI), sign-extended to int16, and the probe's int16 codes in
// register p into the int32 accumulator acc. VPMADDWD squares and adds
// pairs; every value fits: |diff| ≤ 254, a pair ≤ 129032.
#define I8CHUNK(off, p, acc) \
	VPMOVSXBW off(DI), Y0 \
	VPSUBW    p, Y0, Y0 \
	VPMADDWD  Y0, Y0, Y0 \
	VPADDD    Y0, acc, acc

// func l2x128I8AVX2(probe *int16, codes *int8, n int, dist *int32)
//
// dist[r] = sum_i (codes[r*128+i] - probe[i])^2 for r < n, exactly, in
// int32. The probe's 128 codes stay in Y8..Y15; each row is 128 bytes, half
// a float16 row, and the 2 cache lines of the row 32 rows ahead are
// prefetched.
TEXT ·l2x128I8AVX2(SB), NOSPLIT, $0-32
	MOVQ probe+0(FP), SI
	MOVQ codes+8(FP), DI
	MOVQ n+16(FP), CX
	MOVQ dist+24(FP), DX
	TESTQ CX, CX
	JLE  done8
	VMOVDQU 0(SI), Y8
	VMOVDQU 32(SI), Y9
	VMOVDQU 64(SI), Y10
	VMOVDQU 96(SI), Y11
	VMOVDQU 128(SI), Y12
	VMOVDQU 160(SI), Y13
	VMOVDQU 192(SI), Y14
	VMOVDQU 224(SI), Y15

row8:
	PREFETCHT0 4096(DI)
	PREFETCHT0 4160(DI)
	VPMOVSXBW 0(DI), Y0
	VPSUBW    Y8, Y0, Y0
	VPMADDWD  Y0, Y0, Y4
	VPMOVSXBW 16(DI), Y1
	VPSUBW    Y9, Y1, Y1
	VPMADDWD  Y1, Y1, Y5
	VPMOVSXBW 32(DI), Y2
	VPSUBW    Y10, Y2, Y2
	VPMADDWD  Y2, Y2, Y6
	VPMOVSXBW 48(DI), Y3
	VPSUBW    Y11, Y3, Y3
	VPMADDWD  Y3, Y3, Y7
	I8CHUNK(64, Y12, Y4)
	I8CHUNK(80, Y13, Y5)
	I8CHUNK(96, Y14, Y6)
	I8CHUNK(112, Y15, Y7)
	VPADDD Y5, Y4, Y4
	VPADDD Y7, Y6, Y6
	VPADDD Y6, Y4, Y4
	VEXTRACTI128 $1, Y4, X5
	VPADDD X5, X4, X4
	VPSHUFD $0x4e, X4, X5
	VPADDD X5, X4, X4
	VPSHUFD $0xb1, X4, X5
	VPADDD X5, X4, X4
	VMOVD X4, (DX)
	ADDQ $128, DI
	ADDQ $4, DX
	DECQ CX
	JNZ  row8

done8:
	VZEROUPPER
	RET

// func fromFloat16F16C(dst *float32, src *uint16, n int)
//
// dst[i] = float32(src[i]) for i < n, n a multiple of 8: exact, as
// fromFloat16.
TEXT ·fromFloat16F16C(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   donew

convw:
	VCVTPH2PS (SI), Y0
	VMOVUPS   Y0, (DI)
	ADDQ      $16, SI
	ADDQ      $32, DI
	DECQ      CX
	JNZ       convw

donew:
	VZEROUPPER
	RET
