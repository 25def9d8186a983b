/* Private declarations shared by the CKernels sources. Not part of the public interface. */
#ifndef CK_INTERNAL_H
#define CK_INTERNAL_H

#include "CKernels.h"
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) || defined(_M_X64)
#define CK_X86 1
#else
#define CK_X86 0
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
#define CK_NEON 1
#else
#define CK_NEON 0
#endif

#define CK_LIKELY(x) __builtin_expect(!!(x), 1)
#define CK_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define CK_ALIGN 64

/* Target attributes for the x86 kernels (no -m flags needed; chosen at run time). */
#define CK_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define CK_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")))

/* ---- ISA selection (ck_cpu.c) ---- */
/** The ISA level the kernels use now; detects the CPU on first call. */
int ck_isa_now(void);

/** Bytes of L2 cache per core (sysconf/sysctl; 512 KiB when unknown). */
long ck_l2_bytes(void);

/** Element-wise ops touching at least this many bytes store their output with non-temporal
 * stores (LONG_MAX: never; see ck_cpu.c and ckernels_set_stream_threshold). */
long ck_stream_min_bytes(void);

/** A spin-wait hint for the CPU (pause / yield). */
static inline void ck_cpu_relax(void) {
#if CK_X86
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* ---- thread pool (ck_pool.c) ---- */
/** Like ckernels_parallel_for, but with an explicit chunk size (>= 1); the caller decides
 *  whether the work is worth splitting. Runs inline in the same cases. */
void ck_parallel_chunks(long n, long chunk, ckernels_range_fn fn, void *ctx);
/** Threads a parallel region could use right now from this thread (1 when nested). */
int ck_threads_available(void);

/* ---- direct convolution tiles (ck_gemm_avx512.c, ck_gemm_avx2.c; for ck_conv.c) ---- */
/** One tile of ckernels_sconv2d_direct: m <= 12 output channels (rows of a, stride lda) by n <=
 *  32 columns, out[r*ldo + t] = sum over p < k of a[r*lda + p] * b[off[p] + t], in order, by
 *  fused multiply-adds [+ bias[r]]. off has k + 8 entries; the 32 values at b + off[p] must be
 *  readable for every p < k + 8 whatever n is. AVX-512 only. */
void ck_sconv_tile_avx512(int m, long k, const float *a, long lda, const long *off, const float *b,
                          const float *bias, float *out, long ldo, int n);
/** ck_sconv_tile_avx512 for AVX2: m <= 6 output channels by n <= 16 columns; the 16 values at
 *  b + off[p] must be readable for every p < k + 8. */
void ck_sconv_tile_avx2(int m, long k, const float *a, long lda, const long *off, const float *b,
                        const float *bias, float *out, long ldo, int n);

/** The calling thread's scratch buffer of at least `bytes` (4 KiB aligned; reused by the GEMM
 *  driver on the same thread, so not across a GEMM call), or NULL when it cannot grow. */
void *ck_scratch(size_t bytes);

/* ---- GEMM kernels ---- */
/* A micro-kernel computes the MR x NR tile C = alpha * (A~ B~) + beta * C from a packed A
 * sliver (k groups of MR values) and a packed B panel (k groups of NR values), C row stride
 * rsc and unit column stride, and stores its top-left m x n corner (m <= MR, n <= NR; kernels
 * whose descriptor has partial == 0 are only called with m = MR, n = NR). beta == 0 means C
 * is not read. */
typedef void (*ck_sukr_fn)(long k, const float *a, const float *b, float *c, long rsc,
                           float alpha, float beta, int m, int n);
typedef void (*ck_dukr_fn)(long k, const double *a, const double *b, double *c, long rsc,
                           double alpha, double beta, int m, int n);
/* The same tile from A given as MR rows of stride lda (A(r, p) = a[r*lda + p]) and B as k rows
 * of NR values with stride ldb (B(p, j) = b[p*ldb + j]; ldb = NR for a packed panel). The
 * driver copies the rows of a row-major A into a padded buffer for it (much cheaper than the
 * transpose a packed sliver needs), and may pass a row-major B unpacked. */
typedef void (*ck_sukr_ra_fn)(long k, const float *a, long lda, const float *b, long ldb, float *c,
                              long rsc, float alpha, float beta, int m, int n);
typedef void (*ck_dukr_ra_fn)(long k, const double *a, long lda, const double *b, long ldb,
                              double *c, long rsc, double alpha, double beta, int m, int n);
/* Packers for one sliver of `count` <= mr rows of A (or panel of count <= nr columns of B) of
 * length kb, in the layout the micro-kernel reads: for each p, mr (nr) consecutive values, the
 * ones past `count` zero. "rm": the operand is row-major in that dimension (unit stride along k
 * for A, along n for B), "cm": unit stride across rows for A / along k for B. They may write up
 * to CK_PACK_SLACK elements past the end of the sliver (later packing overwrites them; buffers
 * have the slack). NULL: generic code. */
#define CK_PACK_SLACK 64
typedef void (*ck_spack_fn)(long kb, const float *src, long stride, float *dst, int count);
typedef void (*ck_dpack_fn)(long kb, const double *src, long stride, double *dst, int count);
typedef struct {
    int mr, nr;      /* register tile */
    long kc, mc, nc; /* cache blocks: kc x nr B panel in L1, mc x kc A block in L2, kc x nc in L3 */
    ck_sukr_fn ukr;
    int partial;           /* ukr stores partial tiles itself */
    int row_sweep;         /* may use the row-sweep loop order (ck_gemm_driver.inc) */
    ck_spack_fn pack_a_rm; /* A with csA == 1: a transpose; stride = rsA */
    ck_spack_fn pack_a_cm; /* A with rsA == 1: copies; stride = csA */
    ck_spack_fn pack_b_rm; /* B with csB == 1: copies; stride = rsB; writes no slack (the
                            * driver packs 16 rows of every panel at a time) */
    ck_spack_fn pack_b_cm; /* B with rsB == 1: a transpose; stride = csB */
    ck_sukr_ra_fn ukr_ra;  /* optional: used (with row copies of A) when csA == 1 */
    int ra_rows;           /* ukr_ra's edge tiles cost in steps of this many rows (0: mr) */
} ck_sgemm_desc;
typedef struct {
    int mr, nr;
    long kc, mc, nc;
    ck_dukr_fn ukr;
    int partial;
    int row_sweep;
    ck_dpack_fn pack_a_rm, pack_a_cm, pack_b_rm, pack_b_cm;
    ck_dukr_ra_fn ukr_ra;
    int ra_rows;
} ck_dgemm_desc;

/* ---- element-wise kernels: one table per ISA ---- */
typedef void (*ck_sbin_fn)(long n, const float *a, const float *b, float *out);
typedef void (*ck_dbin_fn)(long n, const double *a, const double *b, double *out);
typedef void (*ck_sun_fn)(long n, const float *x, float *out);
typedef void (*ck_dun_fn)(long n, const double *x, double *out);

#define CK_NBINARY 7
#define CK_NUNARY 27
#define CK_SUM_BLOCK 1024 /* elements per block of the fixed-order sum */
#define CK_SUM_LANES 32

typedef struct {
    /* binary[op][mode]: mode 0 = array-array, 1 = array-scalar (b[0]), 2 = scalar-array (a[0]) */
    ck_sbin_fn sbinary[CK_NBINARY][3];
    ck_dbin_fn dbinary[CK_NBINARY][3];
    ck_sun_fn sunary[CK_NUNARY];
    ck_dun_fn dunary[CK_NUNARY];
    /* sum of one block of n <= CK_SUM_BLOCK elements in the documented 32-lane order */
    float (*ssum_block)(const float *x, long n);
    double (*dsum_block)(const double *x, long n);
    /* dot product of contiguous x and y; y[i] += a * x[i] (both with FMA) */
    float (*sdot)(long n, const float *x, const float *y);
    double (*ddot)(long n, const double *x, const double *y);
    void (*saxpy)(long n, float a, const float *x, float *y);
    void (*daxpy)(long n, double a, const double *x, double *y);
    /* max of n >= 1 elements; returns 1 (and writes nothing) if a NaN is present */
    int (*smax)(const float *x, long n, float *out);
    int (*dmax)(const double *x, long n, double *out);
    /* GELU forward [approximate] and backward (x, g, out) [approximate] */
    ck_sun_fn sgelu[2];
    ck_dun_fn dgelu[2];
    ck_sbin_fn sgelu_bwd[2];
    ck_dbin_fn dgelu_bwd[2];
    /* min(max(x, lo), hi) with the NaN rule of the binary max/min */
    void (*sclamp)(long n, const float *x, float lo, float hi, float *out);
    void (*dclamp)(long n, const double *x, double lo, double hi, double *out);
    /* The same loops storing with non-temporal stores, for outputs aligned to 64 bytes and
     * whole 64-byte lines; NULL where the ISA has none (or the op is compute-bound). */
    ck_sbin_fn sbinary_nt[CK_NBINARY][3];
    ck_dbin_fn dbinary_nt[CK_NBINARY][3];
    ck_sun_fn sunary_nt[CK_NUNARY];
    ck_dun_fn dunary_nt[CK_NUNARY];
    ck_sun_fn sgelu_nt[2];
    ck_dun_fn dgelu_nt[2];
} ck_vec_table;

#if CK_X86
const ck_sgemm_desc *ck_sgemm_desc_avx2(void);
const ck_dgemm_desc *ck_dgemm_desc_avx2(void);
const ck_sgemm_desc *ck_sgemm_desc_avx512(void);
const ck_dgemm_desc *ck_dgemm_desc_avx512(void);
const ck_vec_table *ck_vec_table_avx2(void);
const ck_vec_table *ck_vec_table_avx512(void);
#endif
#if CK_NEON
const ck_sgemm_desc *ck_sgemm_desc_neon(void);
const ck_dgemm_desc *ck_dgemm_desc_neon(void);
const ck_vec_table *ck_vec_table_neon(void);
#endif
const ck_sgemm_desc *ck_sgemm_desc_scalar(void);
const ck_dgemm_desc *ck_dgemm_desc_scalar(void);
const ck_vec_table *ck_vec_table_scalar(void);

/** The element-wise table for the current ISA. */
const ck_vec_table *ck_vec_now(void);

/* ---- softmax kernels (ck_softmax_impl.inc): one table per ISA ---- */
typedef struct {
    /* `rows` rows of n contiguous elements; log != 0: log-softmax */
    void (*srows)(long rows, long n, const float *x, float *y, int log);
    void (*drows)(long rows, long n, const double *x, double *y, int log);
    /* `width` adjacent columns of an [n, inner] slice (softmax along n, stride inner) */
    void (*scols)(long n, long inner, long width, const float *x, float *y, int log);
    void (*dcols)(long n, long inner, long width, const double *x, double *y, int log);
    void (*srows_bwd)(long rows, long n, const float *y, const float *g, float *gx, int log);
    void (*drows_bwd)(long rows, long n, const double *y, const double *g, double *gx, int log);
    void (*scols_bwd)(long n, long inner, long width, const float *y, const float *g, float *gx, int log);
    void (*dcols_bwd)(long n, long inner, long width, const double *y, const double *g, double *gx,
                      int log);
    /* the index of the maximum (is_max) or minimum of each of `rows` rows of n >= 1 elements */
    void (*sargext_rows)(long rows, long n, const float *x, int is_max, float *values, int64_t *indices);
    void (*dargext_rows)(long rows, long n, const double *x, int is_max, double *values, int64_t *indices);
} ck_softmax_table;

#if CK_X86
const ck_softmax_table *ck_softmax_table_avx2(void);
const ck_softmax_table *ck_softmax_table_avx512(void);
#endif
#if CK_NEON
const ck_softmax_table *ck_softmax_table_neon(void);
#endif
const ck_softmax_table *ck_softmax_table_scalar(void);

#endif /* CK_INTERNAL_H */
