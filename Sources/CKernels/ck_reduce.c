/* Sums along one dimension (columns, or rows when it is the last), in the Swift reference's
 * pairwise order; layer normalization of rows built on the row sums; batch normalization with
 * given statistics. */
#include "ck_internal.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* The formulas below are evaluated as written: no fused multiply-adds. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

/* Columns per work item, and per pass over the rows (partial sums stay in L1). */
#define CK_CS_COLS 64L
/* Parallel from this many elements on (as the element-wise kernels). */
#define CK_CS_PAR (1L << 16)

/* `items` work items of about `per_item` elements each: on this thread below CK_CS_PAR elements
 * in all, else over the pool in chunks of about CK_CS_PAR / 2 elements. */
static void ck_cs_run(long items, long per_item, ckernels_range_fn fn, void *ctx) {
    if (per_item < 1) per_item = 1;
    if (items * per_item < CK_CS_PAR) fn(ctx, 0, items);
    else ckernels_parallel_for(items, (CK_CS_PAR / 2 + per_item - 1) / per_item, fn, ctx);
}

/* res[j] = the pairwise sum of x[k*ld + j] over k < n, for j < w (w <= CK_CS_COLS), in the
 * order of CPUKernels.pairwiseSum: runs of at most 64 summed by four accumulators (row k goes
 * to accumulator k % 4 while four rows remain, the rest to the first; then (s0+s1) + (s2+s3)),
 * longer runs split at (n/2 + 7) & ~7 and the halves added, left + right. The loops over j are
 * independent per column, so the compiler may vectorize them without changing any sum. */
#define CK_COLSUM(P, T, TARGET, SUF)                                                          \
    TARGET static void ck_##P##colsum_##SUF(const T *x, long ld, long n, long w, T *res) {    \
        if (n <= 64) {                                                                        \
            T s0[CK_CS_COLS], s1[CK_CS_COLS], s2[CK_CS_COLS], s3[CK_CS_COLS];                 \
            for (long j = 0; j < w; j++) s0[j] = s1[j] = s2[j] = s3[j] = (T)0;                \
            long i = 0;                                                                       \
            for (; i + 4 <= n; i += 4) {                                                      \
                const T *r0 = x + i * ld, *r1 = r0 + ld, *r2 = r1 + ld, *r3 = r2 + ld;        \
                for (long j = 0; j < w; j++) {                                                \
                    s0[j] += r0[j];                                                           \
                    s1[j] += r1[j];                                                           \
                    s2[j] += r2[j];                                                           \
                    s3[j] += r3[j];                                                           \
                }                                                                             \
            }                                                                                 \
            for (; i < n; i++)                                                                \
                for (long j = 0; j < w; j++) s0[j] += x[i * ld + j];                          \
            for (long j = 0; j < w; j++) res[j] = (s0[j] + s1[j]) + (s2[j] + s3[j]);          \
            return;                                                                           \
        }                                                                                     \
        long half = (n / 2 + 7) & ~7L;                                                        \
        T right[CK_CS_COLS];                                                                  \
        ck_##P##colsum_##SUF(x, ld, half, w, res);                                            \
        ck_##P##colsum_##SUF(x + half * ld, ld, n - half, w, right);                          \
        for (long j = 0; j < w; j++) res[j] = res[j] + right[j];                              \
    }

#if CK_X86
CK_COLSUM(s, float, CK_TARGET_AVX512, avx512)
CK_COLSUM(d, double, CK_TARGET_AVX512, avx512)
CK_COLSUM(s, float, CK_TARGET_AVX2, avx2)
CK_COLSUM(d, double, CK_TARGET_AVX2, avx2)
#endif
CK_COLSUM(s, float, , generic)
CK_COLSUM(d, double, , generic)

/* The same order along one contiguous row (the inner == 1 case): the four accumulators are
 * the four lanes of one vector (each lane still adds its elements in order), and consecutive
 * runs are independent chains the CPU overlaps. */
#define CK_ROWSUM(P, T)                                                                       \
    typedef T ck_##P##v4 __attribute__((vector_size(4 * sizeof(T))));                         \
    static T ck_##P##rowsum(const T *x, long n) {                                             \
        if (n <= 64) { /* lane j is accumulator j: element k goes to lane k % 4, in order */  \
            ck_##P##v4 acc = {0, 0, 0, 0};                                                    \
            long i = 0;                                                                       \
            for (; i + 4 <= n; i += 4) {                                                      \
                ck_##P##v4 v;                                                                 \
                memcpy(&v, x + i, sizeof v);                                                  \
                acc += v;                                                                     \
            }                                                                                 \
            T s0 = acc[0], s1 = acc[1], s2 = acc[2], s3 = acc[3];                             \
            for (; i < n; i++) s0 += x[i];                                                    \
            return (s0 + s1) + (s2 + s3);                                                     \
        }                                                                                     \
        long half = (n / 2 + 7) & ~7L;                                                        \
        return ck_##P##rowsum(x, half) + ck_##P##rowsum(x + half, n - half);                  \
    }                                                                                         \
    typedef struct {                                                                          \
        long n;                                                                               \
        const T *x;                                                                           \
        T *out;                                                                               \
    } ck_##P##rowsum_ctx;                                                                     \
    static void ck_##P##rowsum_chunk(void *v, long begin, long end) {                         \
        const ck_##P##rowsum_ctx *c = (const ck_##P##rowsum_ctx *)v;                          \
        for (long r = begin; r < end; r++)                                                    \
            c->out[r] = (T)0 + ck_##P##rowsum(c->x + r * c->n, c->n);                         \
    }
CK_ROWSUM(s, float)
CK_ROWSUM(d, double)

/* Sums over every dim but one of a contiguous [outer, mid, inner] array (see
 * ckernels_ssum_outer_inner): per mid index, the row sums over inner in pairwise order, added
 * one after another in outer order. */
#define CK_SUM_OUTER_INNER(P, T)                                                              \
    typedef struct {                                                                          \
        long outer, mid, inner;                                                               \
        const T *x;                                                                           \
        T *out;                                                                               \
    } ck_##P##soi_ctx;                                                                        \
    static void ck_##P##soi_chunk(void *v, long begin, long end) {                            \
        const ck_##P##soi_ctx *c = (const ck_##P##soi_ctx *)v;                                \
        for (long m = begin; m < end; m++) {                                                  \
            T acc = (T)0;                                                                     \
            for (long o = 0; o < c->outer; o++)                                               \
                acc = acc + ck_##P##rowsum(c->x + (o * c->mid + m) * c->inner, c->inner);     \
            c->out[m] = acc;                                                                  \
        }                                                                                     \
    }                                                                                         \
    int ckernels_##P##sum_outer_inner(long outer, long mid, long inner, const T *x, T *out) { \
        if (outer < 0 || mid < 0 || inner < 0) return CKERNELS_EINVAL;                        \
        if (mid == 0) return CKERNELS_OK;                                                     \
        if (out == NULL || (x == NULL && outer > 0 && inner > 0)) return CKERNELS_EINVAL;     \
        ck_##P##soi_ctx c = {outer, mid, inner, x, out};                                      \
        ck_cs_run(mid, outer * inner, ck_##P##soi_chunk, &c);                                 \
        return CKERNELS_OK;                                                                   \
    }
CK_SUM_OUTER_INNER(s, float)
CK_SUM_OUTER_INNER(d, double)

/* Layer normalization of rows, op for op as swift-autograd's composed formula (see
 * ckernels_slayer_norm), so the results are the same bits. */
#define CK_LAYER_NORM(P, T, SQRT)                                                             \
    /* cen = x - mean, sq = cen * cen (separate arrays, so the loop vectorizes) */            \
    static void ck_##P##ln_center(long n, const T *restrict x, T mean, T *restrict cen,       \
                                  T *restrict sq) {                                           \
        for (long i = 0; i < n; i++) {                                                        \
            cen[i] = x[i] - mean;                                                             \
            sq[i] = cen[i] * cen[i];                                                          \
        }                                                                                     \
    }                                                                                         \
    /* y = cen * rstd [* w] [+ b], one loop per case */                                       \
    static void ck_##P##ln_scale(long n, const T *restrict cen, T rstd, const T *restrict w,  \
                                 const T *restrict b, T *restrict y) {                        \
        if (w != NULL && b != NULL)                                                           \
            for (long i = 0; i < n; i++) y[i] = cen[i] * rstd * w[i] + b[i];                  \
        else if (w != NULL)                                                                   \
            for (long i = 0; i < n; i++) y[i] = cen[i] * rstd * w[i];                         \
        else if (b != NULL)                                                                   \
            for (long i = 0; i < n; i++) y[i] = cen[i] * rstd + b[i];                         \
        else                                                                                  \
            for (long i = 0; i < n; i++) y[i] = cen[i] * rstd;                                \
    }                                                                                         \
    typedef struct {                                                                          \
        long n;                                                                               \
        const T *x, *w, *b;                                                                   \
        T eps, *y;                                                                            \
        atomic_int err;                                                                       \
    } ck_##P##ln_ctx;                                                                         \
    static void ck_##P##ln_chunk(void *v, long begin, long end) {                             \
        ck_##P##ln_ctx *c = (ck_##P##ln_ctx *)v;                                              \
        const long n = c->n;                                                                  \
        T *cen = (T *)malloc(sizeof(T) * (size_t)n * 2);                                      \
        if (cen == NULL) {                                                                    \
            atomic_store(&c->err, CKERNELS_ENOMEM);                                           \
            return;                                                                           \
        }                                                                                     \
        T *sq = cen + n;                                                                      \
        for (long r = begin; r < end; r++) {                                                  \
            const T *restrict x = c->x + r * n;                                               \
            T *restrict y = c->y + r * n;                                                     \
            const T mean = ((T)0 + ck_##P##rowsum(x, n)) / (T)n;                              \
            ck_##P##ln_center(n, x, mean, cen, sq);                                           \
            const T var = ((T)0 + ck_##P##rowsum(sq, n)) / (T)n;                              \
            ck_##P##ln_scale(n, cen, (T)1 / SQRT(var + c->eps), c->w, c->b, y);               \
        }                                                                                     \
        free(cen);                                                                            \
    }                                                                                         \
    int ckernels_##P##layer_norm(long rows, long n, const T *x, const T *w, const T *b, T eps, \
                                 T *y) {                                                      \
        if (rows < 0 || n < 1) return CKERNELS_EINVAL;                                        \
        if (rows == 0) return CKERNELS_OK;                                                    \
        if (x == NULL || y == NULL) return CKERNELS_EINVAL;                                   \
        ck_##P##ln_ctx c = {n, x, w, b, eps, y, 0};                                           \
        atomic_init(&c.err, CKERNELS_OK);                                                     \
        ck_cs_run(rows, n, ck_##P##ln_chunk, &c);                                             \
        return atomic_load(&c.err);                                                           \
    }
CK_LAYER_NORM(s, float, sqrtf)
CK_LAYER_NORM(d, double, sqrt)

/* Batch normalization with given statistics, op for op as the composed formula (see
 * ckernels_sbatch_norm_eval). */
#define CK_BATCH_NORM_EVAL(P, T, SQRT)                                                        \
    static void ck_##P##bn_row(long hw, const T *restrict x, T m, T sd, const T *w, const T *b,\
                               T *restrict y) {                                               \
        if (w != NULL && b != NULL) {                                                         \
            const T wc = *w, bc = *b;                                                         \
            for (long j = 0; j < hw; j++) y[j] = (x[j] - m) / sd * wc + bc;                   \
        } else if (w != NULL) {                                                               \
            const T wc = *w;                                                                  \
            for (long j = 0; j < hw; j++) y[j] = (x[j] - m) / sd * wc;                        \
        } else if (b != NULL) {                                                               \
            const T bc = *b;                                                                  \
            for (long j = 0; j < hw; j++) y[j] = (x[j] - m) / sd + bc;                        \
        } else {                                                                              \
            for (long j = 0; j < hw; j++) y[j] = (x[j] - m) / sd;                             \
        }                                                                                     \
    }                                                                                         \
    typedef struct {                                                                          \
        long c, hw;                                                                           \
        const T *x, *mean, *sd, *w, *b;                                                       \
        T *y;                                                                                 \
    } ck_##P##bn_ctx;                                                                         \
    static void ck_##P##bn_chunk(void *v, long begin, long end) {                             \
        const ck_##P##bn_ctx *k = (const ck_##P##bn_ctx *)v;                                  \
        for (long r = begin; r < end; r++) {                                                  \
            const long ch = r % k->c;                                                         \
            ck_##P##bn_row(k->hw, k->x + r * k->hw, k->mean[ch], k->sd[ch], k->w ? k->w + ch : NULL,\
                           k->b ? k->b + ch : NULL, k->y + r * k->hw);                        \
        }                                                                                     \
    }                                                                                         \
    int ckernels_##P##batch_norm_eval(long n, long c, long hw, const T *x, const T *mean,     \
                                      const T *var, const T *w, const T *b, T eps, T *y) {    \
        if (n < 0 || c < 0 || hw < 0) return CKERNELS_EINVAL;                                 \
        if (n == 0 || c == 0 || hw == 0) return CKERNELS_OK;                                  \
        if (x == NULL || mean == NULL || var == NULL || y == NULL) return CKERNELS_EINVAL;    \
        T *sd = (T *)malloc(sizeof(T) * (size_t)c);                                           \
        if (sd == NULL) return CKERNELS_ENOMEM;                                               \
        for (long ch = 0; ch < c; ch++) sd[ch] = SQRT(var[ch] + eps);                         \
        ck_##P##bn_ctx k = {c, hw, x, mean, sd, w, b, y};                                     \
        const long rows = n * c;                                                              \
        ck_cs_run(rows, hw, ck_##P##bn_chunk, &k);                                            \
        free(sd);                                                                             \
        return CKERNELS_OK;                                                                   \
    }
CK_BATCH_NORM_EVAL(s, float, sqrtf)
CK_BATCH_NORM_EVAL(d, double, sqrt)

#define CK_SUM_DIM(P, T)                                                                      \
    typedef void (*ck_##P##colsum_fn)(const T *, long, long, long, T *);                      \
    static ck_##P##colsum_fn ck_##P##colsum_now(void) {                                       \
        switch (ck_isa_now()) {                                                               \
        CK_SUM_DIM_X86(P)                                                                     \
        default: return ck_##P##colsum_generic;                                               \
        }                                                                                     \
    }                                                                                         \
    typedef struct {                                                                          \
        ck_##P##colsum_fn fn;                                                                 \
        long n, inner, groups;                                                                \
        const T *x;                                                                           \
        T *out;                                                                               \
    } ck_##P##sum_dim_ctx;                                                                    \
    static void ck_##P##sum_dim_chunk(void *v, long begin, long end) {                        \
        const ck_##P##sum_dim_ctx *c = (const ck_##P##sum_dim_ctx *)v;                        \
        T res[CK_CS_COLS];                                                                    \
        for (long item = begin; item < end; item++) {                                         \
            long o = item / c->groups, j0 = (item % c->groups) * CK_CS_COLS;                  \
            long w = c->inner - j0 < CK_CS_COLS ? c->inner - j0 : CK_CS_COLS;                 \
            c->fn(c->x + o * c->n * c->inner + j0, c->inner, c->n, w, res);                   \
            T *dst = c->out + o * c->inner + j0;                                              \
            for (long j = 0; j < w; j++) dst[j] = (T)0 + res[j];                              \
        }                                                                                     \
    }                                                                                         \
    int ckernels_##P##sum_dim(long outer, long n, long inner, const T *x, T *out) {           \
        if (outer < 0 || n < 0 || inner < 0) return CKERNELS_EINVAL;                          \
        if (outer == 0 || inner == 0) return CKERNELS_OK;                                     \
        if (x == NULL || out == NULL) return CKERNELS_EINVAL;                                 \
        if (inner == 1) { /* rows */                                                          \
            ck_##P##rowsum_ctx r = {n, x, out};                                               \
            ck_cs_run(outer, n, ck_##P##rowsum_chunk, &r);                                    \
            return CKERNELS_OK;                                                               \
        }                                                                                     \
        ck_##P##sum_dim_ctx c = {ck_##P##colsum_now(), n, inner,                              \
                                 (inner + CK_CS_COLS - 1) / CK_CS_COLS, x, out};              \
        long items = outer * c.groups;                                                        \
        long per_item = (n > 0 ? n : 1) * (inner < CK_CS_COLS ? inner : CK_CS_COLS);          \
        if (outer * n * inner < CK_CS_PAR) ck_##P##sum_dim_chunk(&c, 0, items);               \
        else ckernels_parallel_for(items, (CK_CS_PAR / 2 + per_item - 1) / per_item,          \
                                   ck_##P##sum_dim_chunk, &c);                                \
        return CKERNELS_OK;                                                                   \
    }

#if CK_X86
#define CK_SUM_DIM_X86(P)                                                                     \
    case CKERNELS_ISA_AVX512: return ck_##P##colsum_avx512;                                   \
    case CKERNELS_ISA_AVX2: return ck_##P##colsum_avx2;
#else
#define CK_SUM_DIM_X86(P)
#endif

CK_SUM_DIM(s, float)
CK_SUM_DIM(d, double)
