/*
 * CKernels: hot CPU kernels for swift-autograd.
 *
 * A plain C99 interface over hand-vectorized kernels. Every x86-64 kernel exists in three
 * builds chosen once at run time from the CPU's features: AVX-512 (F, DQ, BW, VL), AVX2 + FMA,
 * and portable C. On arm64 the NEON build is always used. No compiler flags are needed: the
 * vector code is selected through per-function target attributes, so the target builds under
 * SwiftPM without unsafe flags.
 *
 * Build note: SwiftPM compiles C at -O0 in debug builds, where these kernels run ~20x slower
 * (sgemm 256: 2.4 vs 48 GFLOP/s on one core); time anything with `-c release` (-O2).
 *
 * Conventions
 * - Functions that can fail return an int status (CKERNELS_OK or a negative CKERNELS_E*) and
 *   write results through out-pointers. Queries (`ckernels_num_threads`, `ckernels_isa`) return
 *   their value directly.
 * - Sizes and strides are `long` and counted in elements, not bytes. Strides may be any value,
 *   including negative or zero for read-only operands.
 * - Multithreading goes through the process-wide pool below. Every kernel may be called from
 *   any thread at any time; see `ckernels_parallel_for` for what concurrent callers get. Kernels
 *   called inside a parallel region (e.g. from a `ckernels_parallel_for` body) run on one thread.
 * - Any alignment works; 64-byte-aligned arrays are faster with AVX-512 (measured: up to 15%
 *   for in-cache element-wise ops, up to 35% for in-cache sums; nothing at 16M elements).
 *
 * Environment variables (read once, on first use)
 * - AUTOGRAD_NUM_THREADS: number of threads the pool uses, caller included (1 = no workers).
 *   Default: the CPUs this process may run on (sched_getaffinity), else online CPUs.
 * - AUTOGRAD_CPU_ISA: cap the instruction set: "scalar", "avx2" or "avx512" ("scalar" also
 *   disables NEON on arm64). A level the CPU lacks is never selected. Same as `ckernels_set_isa`.
 * - AUTOGRAD_SPIN_US: microseconds an idle pool thread spins before sleeping (default 50,
 *   0 = sleep at once). Spinning also stops by itself while the process's own threads compete
 *   for the pool (see `ckernels_parallel_for`).
 */
#ifndef CKERNELS_H
#define CKERNELS_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------- */
/* Status codes                                                                              */
/* ---------------------------------------------------------------------------------------- */

/** Success. */
#define CKERNELS_OK 0
/** An argument is invalid: a negative size, a null pointer where data is needed, an unknown op. */
#define CKERNELS_EINVAL (-1)
/** A scratch buffer (GEMM packing) could not be allocated. */
#define CKERNELS_ENOMEM (-2)

/* ---------------------------------------------------------------------------------------- */
/* Instruction set                                                                           */
/* ---------------------------------------------------------------------------------------- */

/** Instruction-set levels, in increasing order on x86-64. */
#define CKERNELS_ISA_SCALAR 0
#define CKERNELS_ISA_AVX2 1   /* AVX2 + FMA */
#define CKERNELS_ISA_AVX512 2 /* AVX-512 F, DQ, BW, VL */
#define CKERNELS_ISA_NEON 3   /* arm64 Advanced SIMD */

/** The instruction-set level the kernels use now (one of CKERNELS_ISA_*). */
int ckernels_isa(void);

/** A short name for `ckernels_isa()`: "scalar", "avx2", "avx512" or "neon". Static storage. */
const char *ckernels_isa_name(void);

/**
 * Caps the instruction-set level used from now on, for tests and benchmarks that want to
 * exercise a fallback path. A level the CPU does not support is lowered to the best it has;
 * CKERNELS_ISA_SCALAR always works. Not meant to be called while kernels run on other threads
 * (they may finish with the previous level).
 * - Returns: the level now in use.
 */
int ckernels_set_isa(int level);

/* ---------------------------------------------------------------------------------------- */
/* Thread pool                                                                               */
/* ---------------------------------------------------------------------------------------- */

/**
 * The number of threads parallel work is split over, the calling thread included (>= 1).
 * Default: AUTOGRAD_NUM_THREADS if set to a positive integer, else the CPUs this process may
 * run on.
 */
int ckernels_num_threads(void);

/**
 * Sets the number of threads parallel work uses, the caller included. `n <= 0` restores the
 * default (environment, then CPU count). Values above 256 are clamped. Workers are created on
 * demand and never destroyed; extra ones sleep. Waits for a parallel region in progress on
 * another thread to finish.
 * - Returns: CKERNELS_OK.
 */
int ckernels_set_num_threads(int n);

/**
 * Sets the size from which contiguous element-wise ops (binary, unary, GELU) store their output
 * with non-temporal stores, in bytes touched (inputs plus output); `bytes < 0` restores the
 * default, 3/8 of the L3 cache (never where the L3 size is unknown or the ISA has no such
 * stores). For tests and benchmarks: the results are the same bits either way.
 * - Returns: the threshold in effect before the call.
 */
long ckernels_set_stream_threshold(long bytes);

/** A body for `ckernels_parallel_for`: processes the items [begin, end). */
typedef void (*ckernels_range_fn)(void *ctx, long begin, long end);

/**
 * Runs `fn` over [0, n) split into contiguous chunks, on the pool's threads and the caller.
 *
 * Each chunk holds at least `grain` items (except possibly the last); the chunks are disjoint,
 * cover [0, n) exactly once, run in no particular order and on no particular thread, and all
 * have finished when this returns. Chunks are handed out dynamically, so a thread slowed down
 * by other load simply takes fewer.
 *
 * Runs everything inline on the calling thread, as `fn(ctx, 0, n)`, when
 * - `n < 2 * grain` or the pool has one thread;
 * - it is called from inside a parallel region (a pool worker, or the caller while it takes part
 *   in a region): nested parallelism never oversubscribes the cores;
 * - another thread of the process is using the pool right now: two user threads calling at once
 *   never block each other; the later one runs its work inline.
 *
 * Idle workers spin for at most AUTOGRAD_SPIN_US microseconds after a region (so back-to-back
 * regions start fast), then sleep on a condition variable and cost nothing. They do not spin at
 * all for 20 ms after a user thread found the pool busy (the process's own threads are then
 * keeping the cores busy). A caller waiting for a worker's last chunk also spins at most
 * AUTOGRAD_SPIN_US, then sleeps.
 * - Parameters:
 *   - n: number of items (n <= 0: nothing to do).
 *   - grain: the smallest chunk worth sending to another thread (values < 1 count as 1).
 * - Returns: CKERNELS_OK, or CKERNELS_EINVAL when `fn` is null.
 */
int ckernels_parallel_for(long n, long grain, ckernels_range_fn fn, void *ctx);

/** 1 when called from inside a parallel region (where nested calls run inline), else 0. */
int ckernels_in_parallel_region(void);

/* ---------------------------------------------------------------------------------------- */
/* GEMM                                                                                      */
/* ---------------------------------------------------------------------------------------- */

/**
 * C = alpha * A * B + beta * C, single precision, with arbitrary element strides.
 *
 * A is M x K with element (i, p) at A[i*rsA + p*csA]; B is K x N with (p, j) at B[p*rsB + j*csB];
 * C is M x N with (i, j) at C[i*rsC + j*csC]. A row-major contiguous matrix has (rs, cs) =
 * (columns, 1); its transpose is described by swapping the two strides, so transposed and
 * strided views need no copy. A and B may alias each other; C must not overlap A or B, and
 * distinct (i, j) must address distinct elements of C.
 *
 * When beta == 0, C is written without being read (NaN and Inf in C are ignored), as in BLAS.
 * When K == 0 or alpha == 0, C = beta * C (C = 0 when beta == 0) and A, B are not read.
 *
 * Blocked (BLIS-style) with packed panels and a register-tiled micro-kernel: 12x32 AVX-512,
 * 6x16 AVX2+FMA, 8x12 NEON, 4x8 portable C (AVX-512 float with a row-major A: A rows copied,
 * not transposed, and a row-major B of at most the L2's size read in place, not packed);
 * M == 1 or N == 1 take a GEMV path (dot products or
 * axpy sweeps, no packing). Multithreaded over the pool above 2 * 64^3 multiply-adds. Each
 * element of C is accumulated in k order within K blocks of 256 (GEMV dots: 4 x vector-width
 * interleaved partial sums), with FMA where the ISA has it: results differ from a naive loop by
 * rounding (|error| <= ~K * eps * sum|a_ip * b_pj|, typically ~sqrt(K) * eps * that), differ
 * between ISA levels, and do not depend on the number of threads.
 * Threads that run GEMMs keep their packing buffers (about 1-5 MiB each) until they exit.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for a negative size or a null pointer that would be
 *   used; CKERNELS_ENOMEM when packing buffers cannot be allocated (C may then be partly
 *   updated when K spans several blocks).
 */
int ckernels_sgemm(long M, long N, long K, float alpha,
                   const float *A, long rsA, long csA,
                   const float *B, long rsB, long csB,
                   float beta, float *C, long rsC, long csC);

/** Double-precision `ckernels_sgemm` (micro-kernels 12x16 AVX-512, 6x8 AVX2+FMA, 8x6 NEON). */
int ckernels_dgemm(long M, long N, long K, double alpha,
                   const double *A, long rsA, long csA,
                   const double *B, long rsB, long csB,
                   double beta, double *C, long rsC, long csC);

/**
 * `batch` independent sgemms: matrix b uses A + b*bsA, B + b*bsB, C + b*bsC with the strides
 * of `ckernels_sgemm`. A batch stride of 0 reuses one operand for every product (not allowed
 * for C). Small products run in parallel across the batch, large ones one after another, each
 * in parallel.
 * - Returns: as `ckernels_sgemm`; CKERNELS_EINVAL also when batch < 0.
 */
int ckernels_sgemm_batched(long batch, long M, long N, long K, float alpha,
                           const float *A, long bsA, long rsA, long csA,
                           const float *B, long bsB, long rsB, long csB,
                           float beta, float *C, long bsC, long rsC, long csC);

/** Double-precision `ckernels_sgemm_batched`. */
int ckernels_dgemm_batched(long batch, long M, long N, long K, double alpha,
                           const double *A, long bsA, long rsA, long csA,
                           const double *B, long bsB, long rsB, long csB,
                           double beta, double *C, long bsC, long rsC, long csC);

/* ---------------------------------------------------------------------------------------- */
/* Element-wise                                                                              */
/* ---------------------------------------------------------------------------------------- */

/** Binary operations for `ckernels_sbinary` / `ckernels_dbinary`. */
#define CKERNELS_ADD 0 /* a + b */
#define CKERNELS_SUB 1 /* a - b */
#define CKERNELS_MUL 2 /* a * b */
#define CKERNELS_DIV 3 /* a / b (IEEE: x/0 = +-inf, 0/0 = NaN) */
#define CKERNELS_MAX 4 /* maximum(a, b), NaN if either is NaN */
#define CKERNELS_MIN 5 /* minimum(a, b), NaN if either is NaN */
/* a ** b by the rule of the Swift loops: b == 2: a * a; b == 1: a; b == 3: (a * a) * a; else
 * C99 pow. float32 pairs with a > 0 finite and b finite (other than 1, 2, 3) are exp(b * log a)
 * in double, rounded once (within 0.5 + 2^-20 ulp); the rest use powf. float64 is libm's pow.
 * Vector modes only: other increments return CKERNELS_EINVAL. */
#define CKERNELS_POW 6

/**
 * out[i] = a[i*incA] op b[i*incB] for i in [0, n).
 *
 * An increment of 0 broadcasts a single value: (incA, incB) = (1, 0) is array-scalar,
 * (0, 1) scalar-array, (1, 1) array-array; these three take the vector fast path, any other
 * increments a plain strided loop (not for CKERNELS_POW). Results other than CKERNELS_POW's are
 * exactly the IEEE operation on each pair (no FMA,
 * no approximation), identical on every ISA. `out` is contiguous; it may be the same array as a
 * contiguous `a` or `b` (in-place), but must not otherwise overlap them. Runs in parallel above
 * 64K elements (the strided loop runs on the calling thread).
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for an unknown op, n < 0 or a null pointer with n > 0.
 */
int ckernels_sbinary(int op, long n, const float *a, long incA, const float *b, long incB,
                     float *out);

/**
 * out[r*cols + j] = a[r*rsA + j] op b[r*rsB + j] for r in [0, rows), j in [0, cols): rows of a
 * contiguous result, each operand either one row per output row (row stride `cols`) or the same
 * row for all (row stride 0), as in adding a bias row. Results are those of `ckernels_sbinary`
 * element by element. Runs in parallel, whole rows per chunk, above 64K elements.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for an unknown op, negative sizes, a row stride other
 *   than 0 or `cols`, or a null pointer with work to do.
 */
int ckernels_sbinary_rows(int op, long rows, long cols, const float *a, long rsA, const float *b,
                          long rsB, float *out);

/** Double-precision `ckernels_sbinary_rows`. */
int ckernels_dbinary_rows(int op, long rows, long cols, const double *a, long rsA,
                          const double *b, long rsB, double *out);

/**
 * out[r*cols + j] = a[r*cols + j] op b[r % period] (side 1) or a[r % period] op b[r*cols + j]
 * (side 2), for r in [0, rows), j in [0, cols): a dense [rows, cols] operand against one value
 * per row, the values repeating every `period` rows: a [B, 1] statistic against [B, N]
 * (period = rows), or per-channel [C, 1, 1] values against [N, C, H, W] (rows = N * C,
 * period = C, cols = H * W). Results are those of `ckernels_sbinary` element by element (the
 * row's value as its broadcast scalar). Runs in parallel, whole rows per chunk, above 64K
 * elements. `out` may be the same array as the dense operand, not otherwise overlap them.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for an unknown op, negative sizes, period < 1, a side
 *   other than 1 or 2, or a null pointer with work to do.
 */
int ckernels_sbinary_cols(int op, long rows, long cols, long period, const float *a, const float *b,
                          int side, float *out);

/** Double-precision `ckernels_sbinary_cols`. */
int ckernels_dbinary_cols(int op, long rows, long cols, long period, const double *a, const double *b,
                          int side, double *out);

/** Double-precision `ckernels_sbinary`. */
int ckernels_dbinary(int op, long n, const double *a, long incA, const double *b, long incB,
                     double *out);

/** The most dimensions `ckernels_copy_strided` takes (after the caller merged what it could). */
#define CKERNELS_COPY_MAX_RANK 16

/**
 * dst[i] = src[i] over a `rank`-dimensional index space of size `shape`, elements of `elemSize`
 * bytes at element strides `srcStrides` / `dstStrides` (any sign; a source stride may be 0, a
 * broadcast). A copy of the bytes, so any dtype of that size, NaN payloads and signed zeros
 * kept. Rows with unit strides on both sides are memcpy, a broadcast source row is a fill, and a
 * transpose (destination unit-stride along the last dim, source along the one before) goes in
 * 32 x 32 tiles so that neither side reads or writes a cache line per element. Parallel over
 * rows (or tile rows) from 512 KiB. The destination must not overlap the source, and no two of
 * its indices may share an element.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for elemSize not 1, 2, 4 or 8, rank < 0 or above
 *   CKERNELS_COPY_MAX_RANK, a negative extent, or a null pointer with work to do.
 */
int ckernels_copy_strided(long elemSize, long rank, const long *shape, const void *src,
                          const long *srcStrides, void *dst, const long *dstStrides);

/**
 * *inside = 1 when every x[i] (i < n) lies in [0, bound), else 0: the check of gather's and
 * scatter's indices, in place (no copy), the chunks' largest values on all threads.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for n < 0, bound < 0, a null `inside`, or a null x with
 *   n > 0; CKERNELS_ENOMEM when the per-chunk results cannot be allocated.
 */
int ckernels_i64_in_range(long n, const int64_t *x, int64_t bound, int *inside);

/**
 * out[i] = x[i] rounded to IEEE 754 binary16 (to nearest, ties to even; overflow to +-inf),
 * as bit patterns, for contiguous arrays, i in [0, n); on all threads above 64K elements.
 * AVX-512 / F16C / NEON conversion instructions; a NaN keeps its sign and the top 9 bits of its
 * payload, with the quiet bit set (the rules of the Swift `Half` type, on every CPU).
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for n < 0 or a null pointer with n > 0.
 */
int ckernels_f32_to_f16(long n, const float *x, uint16_t *out);

/**
 * out[i] = the binary16 bit pattern x[i] as a float (exact), for contiguous arrays; a NaN keeps
 * its sign and payload bits as they are (a signaling NaN stays signaling). Threads and returns
 * as `ckernels_f32_to_f16`.
 */
int ckernels_f16_to_f32(long n, const uint16_t *x, float *out);

/**
 * out[i] = cond[i] ? a[i*incA] : b[i*incB] for i in [0, n), elements of `elemSize` bytes.
 *
 * A copy of the chosen element's bytes (any dtype of that size: NaN payloads and signed zeros
 * are kept). `cond` holds one byte per element (a Bool tensor), 0 = false, anything else true.
 * incA and incB are each 0 (one value broadcast) or 1 (contiguous). Branch-free, so the cost
 * does not depend on the pattern of `cond` (ReLU's backward has an unpredictable one); runs in
 * parallel above 64K elements. `out` may be the same array as a contiguous `a` or `b`, not
 * otherwise overlap them.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for n < 0, elemSize not 1, 2, 4 or 8, an increment
 *   other than 0 or 1, or a null pointer with n > 0.
 */
int ckernels_select(long n, long elemSize, const void *cond, const void *a, long incA,
                    const void *b, long incB, void *out);

/**
 * ReLU's backward from its output: out[i] = y[i] > 0 ? g[i] : +0 (a NaN y gives 0, as the
 * comparison is false), branch-free, parallel above 64K elements. Contiguous arrays; `out` may
 * be `g` or `y`.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for n < 0 or a null pointer with n > 0.
 */
int ckernels_srelu_backward(long n, const float *y, const float *g, float *out);

/** Double-precision `ckernels_srelu_backward`. */
int ckernels_drelu_backward(long n, const double *y, const double *g, double *out);

/** Unary operations for `ckernels_sunary` / `ckernels_dunary`. */
#define CKERNELS_EXP 0     /* e^x */
#define CKERNELS_LOG 1     /* natural logarithm; log(0) = -inf, log(x < 0) = NaN */
#define CKERNELS_TANH 2    /* hyperbolic tangent */
#define CKERNELS_SIGMOID 3 /* 1 / (1 + e^-x) */
#define CKERNELS_NEG 4     /* -x (exact) */
#define CKERNELS_ABS 5     /* |x| (exact) */
#define CKERNELS_SQRT 6    /* correctly rounded square root */
#define CKERNELS_RELU 7    /* max(x, 0); NaN stays NaN */
#define CKERNELS_ERF 8     /* the error function */
#define CKERNELS_FLOOR 9   /* round toward -inf (exact) */
#define CKERNELS_CEIL 10   /* round toward +inf (exact) */
#define CKERNELS_ROUND 11  /* round to nearest, ties to even (exact) */
#define CKERNELS_TRUNC 12  /* round toward zero (exact) */
#define CKERNELS_SIGN 13   /* 1 for x > 0, -1 for x < 0, +0 for +-0, NaN stays NaN (exact) */
#define CKERNELS_RECIPROCAL 14 /* 1 / x, correctly rounded */
#define CKERNELS_RSQRT 15  /* 1 / sqrt(x): two correctly rounded steps */
#define CKERNELS_SQUARE 16 /* x * x, correctly rounded */
#define CKERNELS_SIN 17    /* sine */
#define CKERNELS_COS 18    /* cosine */
#define CKERNELS_LOG1P 19  /* log(1 + x), accurate near 0 */
#define CKERNELS_CUBE 20   /* (x * x) * x, two correctly rounded products */
#define CKERNELS_TAN 21    /* tangent */
#define CKERNELS_EXPM1 22  /* e^x - 1, accurate near 0 */
#define CKERNELS_LOG2 23   /* base-2 logarithm */
#define CKERNELS_SINH 24   /* hyperbolic sine */
#define CKERNELS_COSH 25   /* hyperbolic cosine */
#define CKERNELS_SILU 26   /* x * sigmoid(x): the sigmoid above, rounded, times x */

/**
 * out[i] = f(x[i]) for contiguous x and out (which may be the same array), i in [0, n).
 *
 * exp, log, tanh and sigmoid are polynomial approximations (exp: Cody-Waite reduction and a
 * degree-6 polynomial for float, degree-13 for double; log: the fdlibm atanh series; sigmoid,
 * and double tanh: exp plus an error-compensated quotient); float tanh and erf are degree-5
 * polynomials on 32 intervals of |x|, looked up from registers (Benchmarks/fit_tables.py),
 * double erf is libm's. Accuracy, in ulps of the exact result (Benchmarks/ckernels_ulp.c: all
 * 2^32 float inputs against double, 16M sampled doubles against long double): float32 exp 0.99,
 * log 0.84, tanh 0.73, sigmoid 1.48, erf 0.73; float64 exp 1.0, log 0.80, tanh 0.86, sigmoid
 * 1.46, erf 1.06 (libm) --
 * denormal inputs and results, +-0, +-inf, overflow to
 * inf and underflow to 0 included. Every ISA level (AVX-512, AVX2, NEON, portable C) computes
 * the same algorithm and returns identical bits. Special values follow C99 Annex F
 * (exp(-inf) = 0, log(+inf) = +inf, log(0) = -inf, tanh(+-inf) = +-1, sigmoid(-inf) = 0); a NaN
 * input comes back as that NaN (quieted).
 * float32 sin, cos and log1p are computed in double and rounded once to float (sin, cos:
 * fdlibm's kernels after a two-constant pi/2 reduction, libm's double functions for |x| >=
 * 2^19; log1p: log(1 + x) plus the rounding error of 1 + x over 1 + x, with the double log
 * above): all 2^32 floats within 0.5001 ulp; float32 tan (the same reduction, sin r / cos r),
 * expm1 (e^x - 1, a Taylor series below 2^-10), log2 (log x / ln 2), sinh and cosh (from e^|x|,
 * sinh by a series below 2^-10) the same way, all 2^32 floats within 0.5001 ulp. float64 sin, cos,
 * tan, expm1, log2, sinh and cosh are libm's, element by element (glibc's sinh and cosh: 1.9 ulp);
 * float64 log1p the same formula, 1.44 ulp (16M samples). floor, ceil, round (half to even), trunc,
 * sign, reciprocal, rsqrt (1 / sqrt(x)), square and cube ((x * x) * x) give the bits of those
 * expressions. Runs in parallel above 32K elements for the transcendental functions (sin, cos,
 * log1p included), 64K for the rest.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for an unknown op, n < 0 or a null pointer with n > 0.
 */
int ckernels_sunary(int op, long n, const float *x, float *out);

/** Double-precision `ckernels_sunary`. */
int ckernels_dunary(int op, long n, const double *x, double *out);

/**
 * x[i] limited to [lo, hi] for contiguous x and out (which may be the same array), i in [0, n),
 * by the rule of the Swift library's maximum then minimum: r = lo >= x ? lo : x, then
 * hi < r ? hi : r (so lo > hi gives hi, and between signed zeros the first operand of each
 * step stays); a NaN in x, lo or hi gives the default quiet NaN. Runs in parallel above 64K
 * elements.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for n < 0 or a null pointer with n > 0.
 */
int ckernels_sclamp(long n, const float *x, float lo, float hi, float *out);

/** Double-precision `ckernels_sclamp`. */
int ckernels_dclamp(long n, const double *x, double lo, double hi, double *out);

/**
 * The Gaussian error linear unit, out[i] = gelu(x[i]), for contiguous x and out (which may be
 * the same array), i in [0, n). approximate 0: x * (erf(x * 0.7071067811865476) + 1) * 0.5;
 * 1: x * (tanh((x + x * x * x * 0.044715) * 0.7978845608028654) + 1) * 0.5. Each operation
 * is rounded in the element type, in the order written, with `ckernels_*unary`'s erf and tanh:
 * the same bits as those operations run one at a time. Runs in parallel above 32K elements.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for approximate not 0 or 1, n < 0 or a null pointer
 *   with n > 0.
 */
int ckernels_sgelu(int approximate, long n, const float *x, float *out);

/** Double-precision `ckernels_sgelu`. */
int ckernels_dgelu(int approximate, long n, const double *x, double *out);

/**
 * The gradient of `ckernels_sgelu`: out[i] = g[i] * gelu'(x[i]), for contiguous x, g and out
 * (out may be x or g). approximate 0: g * (cdf + x * pdf) with cdf = (erf(x *
 * 0.7071067811865476) + 1) * 0.5 and pdf = exp(x * x * -0.5) * 0.3989422804014327;
 * 1: g * ((t + 1) * 0.5 + x * (1 - t * t) * d * 0.5) with t = tanh((x + x * x * x * 0.044715) *
 * k), d = (x * x * 0.134145 + 1) * k, k = 0.7978845608028654. Rounded operation by operation
 * as written, with `ckernels_*unary`'s erf, exp and tanh (the same bits).
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL as `ckernels_sgelu`.
 */
int ckernels_sgelu_backward(int approximate, long n, const float *x, const float *g, float *out);

/** Double-precision `ckernels_sgelu_backward`. */
int ckernels_dgelu_backward(int approximate, long n, const double *x, const double *g, double *out);

/* ---------------------------------------------------------------------------------------- */
/* Reductions                                                                                */
/* ---------------------------------------------------------------------------------------- */

/**
 * The sum of x[0..<n) (contiguous) into *result, in the element type, in a fixed order.
 *
 * Order (the same on every ISA and for any number of threads, so the result is bit-for-bit
 * reproducible): x is cut into blocks of 1024 elements (the last may be shorter). Within a block,
 * 32 lanes accumulate sequentially (lane j adds elements j, j+32, j+64, ...), starting from -0.0;
 * the lanes are then combined by halving (lane j + lane j+16, then j + j+8, ..., j + j+1). Block
 * sums are combined pairwise: a range of b blocks splits at the largest power of two below b.
 * The error bound is ~ (32 + log2(n/1024)) * eps * sum|x|. Sum of n = 0 is +0.0.
 * NaN in, NaN out; +inf and -inf together give NaN.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for n < 0 or a null pointer.
 */
int ckernels_ssum(long n, const float *x, float *result);

/** Double-precision `ckernels_ssum` (same order, blocks of 1024 and 32 lanes). */
int ckernels_dsum(long n, const double *x, double *result);

/**
 * Sums along the middle dimension of a contiguous [outer, n, inner] array into the contiguous
 * [outer, inner] `out`: out[o*inner + j] = +0.0 + (the sum over k < n of x[(o*n + k)*inner + j]),
 * in the pairwise order of swift-autograd's reference loop (CPUKernels.pairwiseSum): runs of at
 * most 64 elements go to four accumulators (element k of the run to accumulator k % 4 while four
 * remain, the rest to the first), combined as (s0 + s1) + (s2 + s3); a longer run splits at
 * (n/2 + 7) & ~7 and the two halves' sums are added. So the result is bit for bit the one of
 * that loop, on every ISA and for any number of threads; n == 0 gives +0.0. Columns (inner > 1)
 * are summed 64 at a time across vector lanes, rows (inner == 1) one at a time; `out` must not
 * overlap `x`. Parallel from 64K elements on (groups of 64 columns, or of rows).
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for a negative size or a null pointer with work to do.
 */
int ckernels_ssum_dim(long outer, long n, long inner, const float *x, float *out);

/** Double-precision `ckernels_ssum_dim`. */
int ckernels_dsum_dim(long outer, long n, long inner, const double *x, double *out);

/**
 * out[r] = +0.0 + (the sum over k < n of x[r*n + k] * x[r*n + k]) for each of `rows` contiguous
 * rows: the same bits as `ckernels_ssum_dim(rows, n, 1, ...)` of the squares (a 2-norm along the
 * last dim without the squares' array). `out` must not overlap `x`.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for a negative size or a null pointer with work to do.
 */
int ckernels_ssum_squares_rows(long rows, long n, const float *x, float *out);

/** Double-precision `ckernels_ssum_squares_rows`. */
int ckernels_dsum_squares_rows(long rows, long n, const double *x, double *out);

/**
 * Sums over the first and last dims of a contiguous [outer, mid, inner] array into the `mid`
 * values of `out`: out[m] = ((+0.0 + S(0, m)) + S(1, m)) + ... + S(outer-1, m), where S(o, m) is
 * the sum of x[(o*mid + m)*inner + j] over j < inner in the pairwise order of
 * `ckernels_ssum_dim`: the order of swift-autograd's reference loop for a sum over every dim
 * but one (a batch norm's statistics over N, H, W), so the same bits. Parallel over m from 64K
 * elements.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for a negative size or a null pointer with work to do.
 */
int ckernels_ssum_outer_inner(long outer, long mid, long inner, const float *x, float *out);

/** Double-precision `ckernels_ssum_outer_inner`. */
int ckernels_dsum_outer_inner(long outer, long mid, long inner, const double *x, double *out);

/** Scans for `ckernels_sscan_rows`. */
#define CKERNELS_SCAN_SUM 0  /* cumulative sum */
#define CKERNELS_SCAN_PROD 1 /* cumulative product */

/**
 * Cumulative sums (op CKERNELS_SCAN_SUM) or products (CKERNELS_SCAN_PROD) along each of
 * `rows` contiguous rows of n elements: out[r*n + k] = x[r*n] + ... + x[r*n + k] (or the
 * product), accumulated in double from 0 (or 1) in index order and rounded to the element type
 * as each is stored: the same bits as that loop. out may be x. Parallel over rows from 64K
 * elements.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for an unknown op, rows < 0, n < 0 or a null pointer
 *   with elements to scan.
 */
int ckernels_sscan_rows(int op, long rows, long n, const float *x, float *out);

/** Double-precision `ckernels_sscan_rows`. */
int ckernels_dscan_rows(int op, long rows, long n, const double *x, double *out);

/**
 * Layer normalization of `rows` contiguous rows of n elements into y:
 *   mean = (0 + sum(x)) / n,  c = x - mean,  var = (0 + sum(c * c)) / n,
 *   rstd = 1 / sqrt(var + eps),  y = c * rstd [* w] [+ b]
 * each step rounded as written (no fused multiply-add), the sums in the pairwise order of
 * `ckernels_ssum_dim`: the same bits as those ops one after another. w and b (n values each)
 * may be NULL. When mean and rstd are not NULL (both or neither) they receive each row's mean
 * and rstd (`rows` values each) for `ckernels_slayer_norm_backward`. Three passes over each
 * row (sum, sum of squared deviations, output), no buffers. Parallel over rows from 64K
 * elements.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for rows < 0, n < 1, only one of mean and rstd, or a
 *   null x or y with rows > 0.
 */
int ckernels_slayer_norm(long rows, long n, const float *x, const float *w, const float *b, float eps,
                         float *y, float *mean, float *rstd);

/** Double-precision `ckernels_slayer_norm`. */
int ckernels_dlayer_norm(long rows, long n, const double *x, const double *w, const double *b,
                         double eps, double *y, double *mean, double *rstd);

/**
 * The gradients of `ckernels_slayer_norm` from the output gradient g (x and g contiguous rows
 * of n): per row, as swift-autograd's composed backward rounds it,
 *   mean, rstd as in ckernels_slayer_norm;  xhat = (x - mean) * rstd;  gh = g * w (g * 1
 *   without w);  m1 = (0 + sum(gh)) / n;  m2 = (0 + sum(gh * xhat)) / n;
 *   dx = rstd * ((gh - m1) - xhat * m2)
 * the sums in the pairwise order of `ckernels_ssum_dim`, no fused multiply-add: the same bits.
 * mean and rstd: the forward's (`ckernels_slayer_norm` of this x and eps), or NULL (both or
 * neither) to compute them again, the same values.
 * When dw and db are not NULL (both or neither) they receive the sums over the rows of
 * g * xhat and of g, in the order of `ckernels_ssum_dim` over the rows (the weight and bias
 * gradients). dx must not overlap x or g. Parallel over runs of up to 64 rows; each thread
 * takes 3n elements of scratch.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for rows < 0, n < 1, only one of dw and db or of mean
 *   and rstd, or a null x, g or dx with rows > 0; CKERNELS_ENOMEM when scratch cannot be allocated (dx is then
 *   partly written).
 */
int ckernels_slayer_norm_backward(long rows, long n, const float *x, const float *g, const float *w,
                                  float eps, const float *mean, const float *rstd, float *dx, float *dw,
                                  float *db);

/** Double-precision `ckernels_slayer_norm_backward`. */
int ckernels_dlayer_norm_backward(long rows, long n, const double *x, const double *g, const double *w,
                                  double eps, const double *mean, const double *rstd, double *dx,
                                  double *dw, double *db);

/**
 * Batch normalization with given per-channel statistics (evaluation mode) of a contiguous
 * [n, c, hw] x into y: y = (x - mean[ch]) / sqrt(var[ch] + eps) [* w[ch]] [+ b[ch]], each step
 * rounded as written (a division, not a multiplication by a reciprocal; no fused multiply-add):
 * the same bits as those ops one after another. w and b may be NULL. Parallel over (image,
 * channel) rows from 64K elements.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for a negative size or a null x, mean, var or y with
 *   work to do; CKERNELS_ENOMEM when c values cannot be allocated.
 */
int ckernels_sbatch_norm_eval(long n, long c, long hw, const float *x, const float *mean, const float *var,
                              const float *w, const float *b, float eps, float *y);

/** Double-precision `ckernels_sbatch_norm_eval`. */
int ckernels_dbatch_norm_eval(long n, long c, long hw, const double *x, const double *mean,
                              const double *var, const double *w, const double *b, double eps,
                              double *y);

/**
 * Batch normalization with the batch's own statistics (training mode) of a contiguous
 * [n, c, hw] x into y, per channel ch over its n blocks of hw elements:
 *   mean = (0 + s_0 + s_1 + ...) / (n hw),  s_o = the pairwise sum of block o (the order of
 *   `ckernels_ssum_outer_inner`);  sq = the same sum of (x - mean) * (x - mean);
 *   rstd = 1 / sqrt(sq / (n hw) + eps);  y = (x - mean) * rstd [* w[ch]] [+ b[ch]]
 * each step rounded as written, no fused multiply-add: for hw > 1 the same bits as those ops
 * one after another. Writes mean[ch] and sq[ch] (the sum of squared deviations, for the
 * running variance). w and b may be NULL. Parallel over channels from 64K elements.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for a negative size or a null x, y, mean or sqsum
 *   with elements to normalize.
 */
int ckernels_sbatch_norm_train(long n, long c, long hw, const float *x, const float *w, const float *b,
                               float eps, float *y, float *mean, float *sqsum);

/** Double-precision `ckernels_sbatch_norm_train`. */
int ckernels_dbatch_norm_train(long n, long c, long hw, const double *x, const double *w, const double *b,
                               double eps, double *y, double *mean, double *sqsum);

/**
 * The largest element of x[0..<n) (contiguous) into *result, and its index (the first one
 * holding that value) into *index when `index` is not null. NaN wins: if any element is NaN,
 * *result is NaN and *index the first NaN's position. For n == 0 the result is -inf, index -1.
 * -0.0 and +0.0 compare equal (the first one is reported).
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for n < 0 or a null `x`/`result`.
 */
int ckernels_smax(long n, const float *x, float *result, long *index);

/** Double-precision `ckernels_smax`. */
int ckernels_dmax(long n, const double *x, double *result, long *index);

/* ---------------------------------------------------------------------------------------- */
/* Tiny blocks                                                                               */
/* ---------------------------------------------------------------------------------------- */

/** Bytes in a tiny block (malloc alignment, 16 bytes on 64-bit platforms). */
#define CKERNELS_TINY_BYTES 64

/**
 * Writes to *block a block of CKERNELS_TINY_BYTES bytes from the calling thread's free list,
 * else from malloc. Returns CKERNELS_OK, CKERNELS_EINVAL (null out-pointer) or
 * CKERNELS_ENOMEM. Free the block with ckernels_tiny_free, on any thread.
 *
 * For the element buffers of 0-d and few-element tensors: a long scalar graph frees thousands
 * at once, which overflows malloc's small per-thread cache. Each thread keeps at most 512
 * blocks (32 KiB); the rest go to free(), and a thread's blocks are freed when it exits.
 */
int ckernels_tiny_alloc(void **block);

/** Returns a block from ckernels_tiny_alloc to the calling thread's free list (or to free()
 *  when the list is full or the thread is exiting). Null is ignored. Returns CKERNELS_OK. */
int ckernels_tiny_free(void *block);

/** Blocks held by the calling thread's free list (for tests). */
long ckernels_tiny_cached(void);

/* ---------------------------------------------------------------------------------------- */
/* Convolution windows                                                                       */
/* ---------------------------------------------------------------------------------------- */

/**
 * The geometry of a 2-D sliding window over one image of `channels` x `height` x `width`
 * (1-D windows use height 1). Output position (oy, ox) with kernel offset (i, j) reads input
 * row oy * stride_h - pad_h + i * dilation_h and column ox * stride_w - pad_w + j * dilation_w;
 * out_h and out_w are the output size (PyTorch's formula, computed by the caller).
 */
typedef struct {
    long channels, height, width;
    long kernel_h, kernel_w;
    long stride_h, stride_w;
    long pad_h, pad_w;
    long dilation_h, dilation_w;
    long out_h, out_w;
} ckernels_window;

/**
 * im2col of one image for the band of output rows [oy0, oy1):
 * cols[((c * kernel_h + i) * kernel_w + j) * ldc + (oy - oy0) * out_w + ox] = x[c*sc + y*sh + x'*sw]
 * with (y, x') the input position the window reads, or `pad` where it lies outside the image.
 * Exact copies (no arithmetic). `x` may have any strides; `cols` has rows of ldc >= (oy1 - oy0)
 * * out_w elements and must not overlap `x`. Runs on the calling thread.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for an invalid window, band or ldc, or null pointers.
 */
int ckernels_sim2col(const ckernels_window *w, const float *x, long sc, long sh, long sw, float pad,
                     long oy0, long oy1, float *cols, long ldc);

/** Double-precision `ckernels_sim2col`. */
int ckernels_dim2col(const ckernels_window *w, const double *x, long sc, long sh, long sw, double pad,
                     long oy0, long oy1, double *cols, long ldc);

/**
 * 2-D max pooling of `batch` images of w->channels planes: image n, channel c, position (y, x)
 * at x[n*sn + c*sc + y*sh + x*sw]. For plane p = n * channels + c and output position
 * q = oy * out_w + ox: out[p*L + q] is the window's maximum and index[p*L + q] its offset
 * i * kernel_w + j in the window (L = out_h * out_w). Only positions inside the image count
 * (padding never wins), in window order: the first NaN wins, else the largest value, the first
 * of equals; a window with no position inside gives -inf at offset 0. Exact (comparisons only).
 * out and index are contiguous and must not overlap x. Parallel over planes from 32K window
 * positions.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for an invalid window, batch < 0 or null pointers
 *   with outputs to write.
 */
int ckernels_smax_pool2d(const ckernels_window *w, long batch, const float *x, long sn, long sc, long sh,
                         long sw, float *out, int64_t *index);

/** Double-precision `ckernels_smax_pool2d`. */
int ckernels_dmax_pool2d(const ckernels_window *w, long batch, const double *x, long sn, long sc, long sh,
                         long sw, double *out, int64_t *index);

/**
 * The sum of each pooling window (average pooling's numerators), laid out and read as in
 * `ckernels_smax_pool2d`: out[p*L + q] sums the window's kernel_h * kernel_w <= 64 positions,
 * those outside the image as +0, in the order of `ckernels_ssum_dim` over a column of that
 * length (what swift-autograd's sum over the window dim of im2col's columns computes, bit for
 * bit). out is contiguous and must not overlap x. Parallel over planes from 32K window positions.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for an invalid window, a window of more than 64
 *   positions, batch < 0 or null pointers with outputs to write.
 */
int ckernels_swindow_sum2d(const ckernels_window *w, long batch, const float *x, long sn, long sc, long sh,
                           long sw, float *out);

/** Double-precision `ckernels_swindow_sum2d`. */
int ckernels_dwindow_sum2d(const ckernels_window *w, long batch, const double *x, long sn, long sc, long sh,
                           long sw, double *out);

/**
 * col2im of one image for the band of output rows [oy0, oy1), the adjoint of `ckernels_sim2col`:
 * adds every column entry (laid out as there) into the contiguous `image` (channels x height x
 * width) position it was read from; entries read from the padding are dropped. Each image
 * element receives its terms in the order (c, i, j, oy, ox) — rows of the columns first — so
 * results do not depend on how a caller splits channels; bands must be added in a fixed order
 * by the caller for the same guarantee. Runs on the calling thread; `image` must not overlap
 * `cols`.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for an invalid window, band or ldc, or null pointers.
 */
int ckernels_scol2im(const ckernels_window *w, const float *cols, long ldc, long oy0, long oy1,
                     float *image);

/** Double-precision `ckernels_scol2im`. */
int ckernels_dcol2im(const ckernels_window *w, const double *cols, long ldc, long oy0, long oy1,
                     double *image);

/**
 * Whether `ckernels_sconv2d_direct` computes this window on this CPU: AVX-512 or AVX2 in use, a
 * horizontal stride of 1, and output rows that fill at least 7/8 of their tiles of 32 columns
 * (AVX-512: out_w of 28 to 32, 56 to 64, 84 to 96, ...) or 16 columns (AVX2: 14 to 16, 28 to
 * 32, 42 to 48, ...); rows that leave more lanes idle cost more than the column matrix saves.
 * Returns 1 or 0.
 */
int ckernels_sconv2d_direct_applies(const ckernels_window *w);

/**
 * The band of output rows [oy0, oy1) of a convolution computed from the image itself, without a
 * column matrix (only where `ckernels_sconv2d_direct_applies`): for o < out_channels, oy in the
 * band and ox < out_w,
 *   out[o*ldo + oy*out_w + ox] = (sum over p of weight[o*K + p] * x(c, y, x')) [+ bias[o]]
 * with K = channels * kernel_h * kernel_w, p = (c * kernel_h + i) * kernel_w + j taken in
 * increasing order, each term added by a fused multiply-add, y = oy*stride_h - pad_h +
 * i*dilation_h, x' = ox - pad_w + j*dilation_w, and x(c, y, x') = x[c*sc + y*sh + x'*sw] inside
 * the image, 0 outside; the bias (NULL for none) is added to the finished sum. The band's input
 * rows are first copied with their zero padding into the calling thread's scratch; tiles of up
 * to 12 output channels by 32 output columns (AVX-512) or 6 by 16 (AVX2) then read the weights
 * in place. `out` must not overlap the inputs. Runs on the calling thread.
 * - Returns: CKERNELS_OK (at once for an empty band or no output channels); CKERNELS_EINVAL for
 *   an invalid window or band, a window this path does not apply to, out_channels < 0, ldo <
 *   out_h * out_w, a null out, a null x with channels > 0 or a null weight with terms to add;
 *   CKERNELS_ENOMEM when the scratch cannot grow (or its size would overflow).
 */
int ckernels_sconv2d_direct(const ckernels_window *w, long out_channels, const float *weight,
                            const float *bias, const float *x, long sc, long sh, long sw, long oy0,
                            long oy1, float *out, long ldo);

/* ---------------------------------------------------------------------------------------- */
/* Softmax                                                                                   */
/* ---------------------------------------------------------------------------------------- */

/**
 * Softmax (`log` == 0) or log-softmax (`log` != 0) along the middle dimension of a contiguous
 * [outer, n, inner] array: for every (o, j), over the n elements x[(o*n + k)*inner + j],
 *   m = max_k x_k,  e_k = exp(x_k - m),  s = sum_k e_k,
 *   softmax:     y_k = e_k / s
 *   log-softmax: y_k = (x_k - m) - log(s)
 * exp is the vectorized one of `ckernels_sunary` (the same bits on every ISA), log the C
 * library's. The division is done as q = e * (1/s) plus one FMA correction step
 * (q + (e - q*s) * (1/s)), which is within 1 ulp of e / s and almost always equal to it.
 * Summation order of s (the same on every ISA and for any number of threads, so results are
 * reproducible bit for bit):
 * - inner == 1 (the dim is the last one, each row contiguous): exactly the order of
 *   `ckernels_ssum` over the row's e_k (blocks of 1024, 32 lanes, pairwise across blocks);
 * - inner > 1: sequential along the dim in runs of 64 elements, the run sums added in order
 *   (error ~ (64 + n/64) * eps * s).
 * A slice whose maximum is NaN or +-inf (a NaN in it, a +inf, or only -inf) comes out all NaN,
 * as the op-by-op formula gives (x - m or s is NaN there); -inf elements of other slices get 0
 * (log-softmax: -inf). `y` may be the same array as `x`, but must not otherwise overlap it.
 * Runs in parallel from 32K elements on (rows, or groups of 64 columns, split over the pool).
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for a negative size or a null pointer with work to do.
 */
int ckernels_ssoftmax(long outer, long n, long inner, const float *x, float *y, int log);

/** Double-precision `ckernels_ssoftmax`. */
int ckernels_dsoftmax(long outer, long n, long inner, const double *x, double *y, int log);

/**
 * The maximum (isMax != 0) or minimum of each of `rows` contiguous rows of n elements, and its
 * index: values[r] = x[r*n + k], indices[r] = k for the first NaN of the row if it has one, else
 * the first element equal to the row's extreme (of equal zeros the first, with its sign), as
 * PyTorch's max(dim)/min(dim) and swift-autograd's reference loop report them. Vectorized on
 * every ISA; parallel over rows from 64K elements.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for rows < 0, n < 1, or a null pointer with rows > 0.
 */
int ckernels_sargext_rows(long rows, long n, const float *x, int isMax, float *values, int64_t *indices);

/** Double-precision `ckernels_sargext_rows`. */
int ckernels_dargext_rows(long rows, long n, const double *x, int isMax, double *values, int64_t *indices);

/**
 * `ckernels_sargext_rows` along the middle dimension of a contiguous [outer, n, inner] array:
 * values[o*inner + j] and indices[o*inner + j] for the n elements x[(o*n + k)*inner + j], by the
 * same rules (first NaN, else first of equal extremes). inner == 1 is `ckernels_sargext_rows`;
 * otherwise 64 columns at a time, vectorized across them, parallel from 64K elements.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for outer < 0, n < 1, inner < 1, or a null pointer
 *   with outer > 0.
 */
int ckernels_sargext_dim(long outer, long n, long inner, const float *x, int isMax, float *values,
                         int64_t *indices);

/** Double-precision `ckernels_sargext_dim`. */
int ckernels_dargext_dim(long outer, long n, long inner, const double *x, int isMax, double *values,
                         int64_t *indices);

/**
 * The gradient of `ckernels_ssoftmax` with respect to x, from its output y and the gradient g
 * of the output (all three contiguous [outer, n, inner], softmax along n):
 *   softmax:     gx_k = y_k * (g_k - d),  d = sum_k g_k * y_k  (products rounded, then summed)
 *   log-softmax: gx_k = g_k - exp(y_k) * s,  s = sum_k g_k
 * with the summation order of `ckernels_ssoftmax` and its exp; no FMA, so every ISA gives the
 * same bits. NaN and inf propagate as in the formulas. `gx` may be the same array as `g` or
 * `y`, but must not otherwise overlap them. Parallel as `ckernels_ssoftmax`.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for a negative size or a null pointer with work to do.
 */
int ckernels_ssoftmax_backward(long outer, long n, long inner, const float *y, const float *g,
                               float *gx, int log);

/** Double-precision `ckernels_ssoftmax_backward`. */
int ckernels_dsoftmax_backward(long outer, long n, long inner, const double *y, const double *g,
                               double *gx, int log);

/* ---------------------------------------------------------------------------------------- */
/* Optimizer updates                                                                          */
/* ---------------------------------------------------------------------------------------- */

/** Hyper-parameters of one Adam / AdamW step (t = the step number, from 1). */
typedef struct {
    double lr, beta1, beta2, eps, weight_decay;
    double step_size;             /* lr / (1 - beta1^t) */
    double bias_correction2_sqrt; /* sqrt(1 - beta2^t) */
    int decoupled;                /* AdamW: p *= 1 - lr * weight_decay instead of g += weight_decay * p */
} ckernels_adam_params;

/**
 * One Adam step over n elements, in place, each scalar rounded once to the element type:
 *   p = p * (1 - lr wd)                    (decoupled weight decay, wd != 0)
 *   g = g + p * wd                         (coupled weight decay, wd != 0)
 *   m = m + (g - m) * (1 - beta1)
 *   v = v * beta2 + (g * g) * (1 - beta2)
 *   vmax = maximum(vmax, v); v = vmax      (amsgrad: when vmax is not null; NaN if either is)
 *   p = p + (m / (sqrt(v) / bias_correction2_sqrt + eps)) * -step_size
 * evaluated exactly so (no FMA, correctly rounded sqrt), as the op-by-op update does, so both
 * give the same bits on every ISA. The arrays are contiguous and must not overlap. Runs in
 * parallel above 32K elements.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for n < 0 or a null pointer that would be used.
 */
int ckernels_sadam(long n, float *p, const float *g, float *m, float *v, float *vmax,
                   const ckernels_adam_params *h);

/** Double-precision `ckernels_sadam`. */
int ckernels_dadam(long n, double *p, const double *g, double *m, double *v, double *vmax,
                   const ckernels_adam_params *h);

/** Hyper-parameters of one SGD step. */
typedef struct {
    double lr, momentum, dampening, weight_decay;
    int nesterov;
    int first; /* the momentum buffer is new: it starts as the (decayed) gradient */
} ckernels_sgd_params;

/**
 * One SGD step over n elements, in place, scalars rounded once to the element type:
 *   d = g + p * wd                                   (wd != 0)
 *   buf = first ? d : buf * momentum + d * (1 - dampening); d = nesterov ? d + buf * momentum : buf
 *                                                    (momentum != 0)
 *   p = p + d * -lr
 * with the same bits as the op-by-op update (no FMA). `buf` may be null when momentum is 0.
 * The arrays are contiguous and must not overlap. Runs in parallel above 32K elements.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for n < 0 or a null pointer that would be used.
 */
int ckernels_ssgd(long n, float *p, const float *g, float *buf, const ckernels_sgd_params *h);

/** Double-precision `ckernels_ssgd`. */
int ckernels_dsgd(long n, double *p, const double *g, double *buf, const ckernels_sgd_params *h);

/** Hyper-parameters of one RMSprop step. */
typedef struct {
    double lr, alpha, eps, weight_decay, momentum;
    int centered;
} ckernels_rmsprop_params;

/**
 * One RMSprop step over n elements, in place, scalars rounded once to the element type:
 *   g = g + p * wd                                   (wd != 0)
 *   sq = sq * alpha + (g * g) * (1 - alpha)
 *   gavg = gavg + (g - gavg) * (1 - alpha); avg = sqrt(sq - gavg * gavg)   (centered)
 *   avg = sqrt(sq)                                   (otherwise)
 *   avg = avg + eps
 *   buf = buf * momentum + g / avg; p = p + buf * -lr   (momentum > 0)
 *   p = p + (g / avg) * -lr                          (otherwise)
 * with the same bits as the op-by-op update (no FMA). `gavg` may be null unless centered,
 * `buf` unless momentum > 0. Contiguous, non-overlapping arrays; parallel above 32K elements.
 * - Returns: CKERNELS_OK; CKERNELS_EINVAL for n < 0 or a null pointer that would be used.
 */
int ckernels_srmsprop(long n, float *p, const float *g, float *sq, float *gavg, float *buf,
                      const ckernels_rmsprop_params *h);

/** Double-precision `ckernels_srmsprop`. */
int ckernels_drmsprop(long n, double *p, const double *g, double *sq, double *gavg, double *buf,
                      const ckernels_rmsprop_params *h);

#ifdef __cplusplus
}
#endif

#endif /* CKERNELS_H */
