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

/* Instantiates M(P, T, TARGET, SUF) for both element types on every ISA level this build has. */
#if CK_X86
#define CK_FOR_ISAS(M)                                                                        \
    M(s, float, CK_TARGET_AVX512, avx512)                                                     \
    M(d, double, CK_TARGET_AVX512, avx512)                                                    \
    M(s, float, CK_TARGET_AVX2, avx2)                                                         \
    M(d, double, CK_TARGET_AVX2, avx2)                                                        \
    M(s, float, , generic)                                                                    \
    M(d, double, , generic)
/* DST = FN_avx512, FN_avx2 or FN_generic, the one for the ISA level in use */
#define CK_PICK(DST, FN)                                                                      \
    switch (ck_isa_now()) {                                                                   \
    case CKERNELS_ISA_AVX512: DST = FN##_avx512; break;                                       \
    case CKERNELS_ISA_AVX2: DST = FN##_avx2; break;                                           \
    default: DST = FN##_generic; break;                                                       \
    }
#else
#define CK_FOR_ISAS(M) M(s, float, , generic) M(d, double, , generic)
#define CK_PICK(DST, FN) DST = FN##_generic;
#endif
CK_FOR_ISAS(CK_COLSUM)

/* The same order along one contiguous row (the inner == 1 case): the four accumulators of a
 * run are the four lanes of one vector (each lane still adds its elements in order). Up to
 * CK_RS_BLOCK elements, the runs (the leaves of the pairwise tree) go eight at a time through
 * eight independent chains of vector adds, and their sums are then combined in the tree's
 * order (measured: 0.110 -> 0.075 ns per float from L2 on the 2-core Xeon; one run at a time
 * leaves the adder waiting on each chain). */
#define CK_RS_BLOCK 4096L
#define CK_RS_MAX_LEAVES 64 /* most leaves of a tree over at most CK_RS_BLOCK elements */
/* The tree over n elements, 64 < n <= CK_RS_BLOCK, made once per row length: its leaves
 * (start, length) in order, and its additions in the order the recursion does them: node
 * leaves + i is node l[i] + node r[i], where nodes below `leaves` are the leaves' sums. */
typedef struct {
    int leaves, adds;
    long st[CK_RS_MAX_LEAVES], len[CK_RS_MAX_LEAVES];
    unsigned char l[CK_RS_MAX_LEAVES], r[CK_RS_MAX_LEAVES];
} ck_rs_plan;
/* Appends the leaves (start, length) of the pairwise tree over [start, start + n) at
 * st[*count], len[*count] onwards, in order: runs of at most 64, longer ranges split at
 * (n/2 + 7) & ~7. */
static void ck_tree_leaves(long start, long n, long *st, long *len, long *count) {
    if (n <= 64) {
        st[*count] = start;
        len[(*count)++] = n;
        return;
    }
    long half = (n / 2 + 7) & ~7L;
    ck_tree_leaves(start, half, st, len, count);
    ck_tree_leaves(start + half, n - half, st, len, count);
}
/* adds the additions of [.., n) whose first leaf is *leaf; returns the node of its sum */
static int ck_rs_plan_adds(ck_rs_plan *pl, long n, int *leaf) {
    if (n <= 64) return (*leaf)++;
    long half = (n / 2 + 7) & ~7L;
    int a = ck_rs_plan_adds(pl, half, leaf);
    int b = ck_rs_plan_adds(pl, n - half, leaf);
    pl->l[pl->adds] = (unsigned char)a;
    pl->r[pl->adds] = (unsigned char)b;
    return pl->leaves + pl->adds++;
}
static void ck_rs_plan_make(long n, ck_rs_plan *pl) {
    long count = 0;
    ck_tree_leaves(0, n, pl->st, pl->len, &count);
    pl->leaves = (int)count;
    pl->adds = 0;
    int leaf = 0;
    ck_rs_plan_adds(pl, n, &leaf);
}
#define CK_RS_LOAD(V, P) memcpy(&(V), (P), sizeof(V))
/* {a[0] + a[1], a[2] + a[3], b[0] + b[1], b[2] + b[3]} of two 4-lane vectors */
#define CK_HADD4(A, B) (__builtin_shufflevector((A), (B), 0, 2, 4, 6) + __builtin_shufflevector((A), (B), 1, 3, 5, 7))
#if CK_X86
#include <immintrin.h>
/* Eight float runs of one length len (a multiple of 4, at least 16) for ck_srowsum_run8 and
 * ck_ssqdev_run8 on AVX-512, the same operations in the same order: four runs share a vector,
 * lanes 4j .. 4j+3 holding run j's four accumulators. Sixteen values of each of the four runs
 * are loaded (and squared as (v - c) * (v - c) when sq), their 4-lane blocks transposed so that
 * block t of every run lands in one vector, and those vectors added in t order, so each lane
 * still adds its run's values k, k + 4, k + 8, ... one after another (sqdev of [4096, 1024]
 * rows: 4 -> 16 values per add, the 4-wide subtractions and products become 16-wide). */
CK_TARGET_AVX512 static void ck_srun8_avx512(const float *x, float c, const long *st, long len, int sq,
                                             float *sums) {
    const __m512 cv = _mm512_set1_ps(c);
    __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
    long i = 0;
    for (; i + 16 <= len; i += 16)
        for (int h = 0; h < 2; h++) {
            __m512 d[4];
            for (int j = 0; j < 4; j++) {
                d[j] = _mm512_loadu_ps(x + st[4 * h + j] + i);
                if (sq) d[j] = _mm512_mul_ps(_mm512_sub_ps(d[j], cv), _mm512_sub_ps(d[j], cv));
            }
            const __m512 lo01 = _mm512_shuffle_f32x4(d[0], d[1], 0x44), hi01 = _mm512_shuffle_f32x4(d[0], d[1], 0xEE);
            const __m512 lo23 = _mm512_shuffle_f32x4(d[2], d[3], 0x44), hi23 = _mm512_shuffle_f32x4(d[2], d[3], 0xEE);
            acc[h] = _mm512_add_ps(acc[h], _mm512_shuffle_f32x4(lo01, lo23, 0x88)); /* block 0 of each run */
            acc[h] = _mm512_add_ps(acc[h], _mm512_shuffle_f32x4(lo01, lo23, 0xDD)); /* block 1 */
            acc[h] = _mm512_add_ps(acc[h], _mm512_shuffle_f32x4(hi01, hi23, 0x88)); /* block 2 */
            acc[h] = _mm512_add_ps(acc[h], _mm512_shuffle_f32x4(hi01, hi23, 0xDD)); /* block 3 */
        }
    for (; i < len; i += 4) /* the last one to three blocks */
        for (int h = 0; h < 2; h++) {
            __m512 v = _mm512_castps128_ps512(_mm_loadu_ps(x + st[4 * h] + i));
            v = _mm512_insertf32x4(v, _mm_loadu_ps(x + st[4 * h + 1] + i), 1);
            v = _mm512_insertf32x4(v, _mm_loadu_ps(x + st[4 * h + 2] + i), 2);
            v = _mm512_insertf32x4(v, _mm_loadu_ps(x + st[4 * h + 3] + i), 3);
            if (sq) v = _mm512_mul_ps(_mm512_sub_ps(v, cv), _mm512_sub_ps(v, cv));
            acc[h] = _mm512_add_ps(acc[h], v);
        }
    float a[32];
    _mm512_storeu_ps(a, acc[0]);
    _mm512_storeu_ps(a + 16, acc[1]);
    for (int j = 0; j < 8; j++) sums[j] = (a[4 * j] + a[4 * j + 1]) + (a[4 * j + 2] + a[4 * j + 3]);
}
/* whether eight runs take ck_srun8_avx512 */
static inline int ck_srun8_avx512_ok(const long *len) {
    if (len[0] < 16 || len[0] % 4 != 0 || ck_isa_now() != CKERNELS_ISA_AVX512) return 0;
    for (int j = 1; j < 8; j++)
        if (len[j] != len[0]) return 0;
    return 1;
}
#define CK_RUN8_AVX512(T, SQ, x, c, st, len, sums)                                                \
    if (sizeof(T) == sizeof(float) && ck_srun8_avx512_ok(len)) {                                  \
        float f_[8];                                                                              \
        ck_srun8_avx512((const float *)(const void *)(x), (float)(c), st, len[0], SQ, f_);        \
        for (int j_ = 0; j_ < 8; j_++) sums[j_] = (T)f_[j_];                                      \
        return;                                                                                   \
    }
#else
#define CK_RUN8_AVX512(T, SQ, x, c, st, len, sums)
#endif

/* Row sums in the pairwise order of the values x[i] (SQ 0) or of (x[i] - c)^2 (SQ 1: the sum
 * of squared deviations, the operations of cen = x - c, cen * cen), named ck_<P><NAME>. */
#define CK_ROWSUM(P, T, NAME, SQ)                                                             \
    /* the run sum of x[0..<n), n <= 64, its accumulators *acc holding the first `done` */    \
    static T ck_##P##NAME##_run(const T *x, long n, T c, long done, const ck_##P##v4 *acc) {  \
        const ck_##P##v4 cv = {c, c, c, c};                                                   \
        ck_##P##v4 a = *acc;                                                                  \
        long i = done;                                                                        \
        for (; i + 4 <= n; i += 4) {                                                          \
            ck_##P##v4 v;                                                                     \
            CK_RS_LOAD(v, x + i);                                                             \
            if (SQ) v = (v - cv) * (v - cv);                                                  \
            a += v;                                                                           \
        }                                                                                     \
        (void)cv;                                                                             \
        T s0 = a[0], s1 = a[1], s2 = a[2], s3 = a[3];                                         \
        for (; i < n; i++) s0 += SQ ? (x[i] - c) * (x[i] - c) : x[i];                         \
        return (s0 + s1) + (s2 + s3);                                                         \
    }                                                                                         \
    /* eight runs at once: their common whole vectors in eight chains, then each its rest */  \
    static void ck_##P##NAME##_run8(const T *x, T c, const long *st, const long *len, T *sums) { \
        CK_RUN8_AVX512(T, SQ, x, c, st, len, sums)                                            \
        const T *p0 = x + st[0], *p1 = x + st[1], *p2 = x + st[2], *p3 = x + st[3];           \
        const T *p4 = x + st[4], *p5 = x + st[5], *p6 = x + st[6], *p7 = x + st[7];           \
        const ck_##P##v4 cv = {c, c, c, c};                                                   \
        long common = len[0];                                                                 \
        for (int j = 1; j < 8; j++) common = len[j] < common ? len[j] : common;               \
        common &= ~3L;                                                                        \
        const ck_##P##v4 zero = {0, 0, 0, 0};                                                 \
        ck_##P##v4 a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, \
                   a7 = zero;                                                                 \
        for (long i = 0; i < common; i += 4) {                                                \
            ck_##P##v4 v0, v1, v2, v3, v4, v5, v6, v7;                                        \
            CK_RS_LOAD(v0, p0 + i); CK_RS_LOAD(v1, p1 + i); CK_RS_LOAD(v2, p2 + i);           \
            CK_RS_LOAD(v3, p3 + i); CK_RS_LOAD(v4, p4 + i); CK_RS_LOAD(v5, p5 + i);           \
            CK_RS_LOAD(v6, p6 + i); CK_RS_LOAD(v7, p7 + i);                                   \
            if (SQ) {                                                                         \
                v0 = (v0 - cv) * (v0 - cv); v1 = (v1 - cv) * (v1 - cv);                       \
                v2 = (v2 - cv) * (v2 - cv); v3 = (v3 - cv) * (v3 - cv);                       \
                v4 = (v4 - cv) * (v4 - cv); v5 = (v5 - cv) * (v5 - cv);                       \
                v6 = (v6 - cv) * (v6 - cv); v7 = (v7 - cv) * (v7 - cv);                       \
            }                                                                                 \
            a0 += v0; a1 += v1; a2 += v2; a3 += v3; a4 += v4; a5 += v5; a6 += v6; a7 += v7;   \
        }                                                                                     \
        (void)cv;                                                                             \
        int rests = 0;                                                                        \
        for (int j = 0; j < 8; j++) rests |= len[j] != common;                                \
        if (!rests) { /* (a[0] + a[1]) + (a[2] + a[3]) of each, four runs per vector */       \
            const ck_##P##v4 s03 = CK_HADD4(CK_HADD4(a0, a1), CK_HADD4(a2, a3));              \
            const ck_##P##v4 s47 = CK_HADD4(CK_HADD4(a4, a5), CK_HADD4(a6, a7));              \
            memcpy(sums, &s03, sizeof s03);                                                   \
            memcpy(sums + 4, &s47, sizeof s47);                                               \
            return;                                                                           \
        }                                                                                     \
        const ck_##P##v4 a[8] = {a0, a1, a2, a3, a4, a5, a6, a7};                             \
        for (int j = 0; j < 8; j++)                                                           \
            sums[j] = ck_##P##NAME##_run(x + st[j], len[j], c, common, &a[j]);                \
    }                                                                                         \
    /* the pairwise sums of `rows` (1 or 2) rows, x and x + d, whose tree is *pl, into out:   \
     * the runs go eight to a group (8 / rows of each row), so two rows stream from memory at \
     * once (sum dim -1 of [4096, 1000] from DRAM on the 2-core Xeon: 0.34-0.36 -> 0.30-0.32  \
     * ms on two threads) */                                                                  \
    static inline __attribute__((always_inline)) void ck_##P##NAME##_planned(                 \
        const T *x, long d, int rows, T c, const ck_rs_plan *pl, T *out) {                    \
        const ck_##P##v4 zero = {0, 0, 0, 0};                                                 \
        const int per = 8 / rows;                                                             \
        T node[2][2 * CK_RS_MAX_LEAVES];                                                      \
        int g = 0;                                                                            \
        for (; g + per <= pl->leaves; g += per) {                                             \
            long st[8], len[8];                                                               \
            T sums[8];                                                                        \
            for (int k = 0; k < 8; k++) {                                                     \
                st[k] = pl->st[g + k % per] + k / per * d;                                    \
                len[k] = pl->len[g + k % per];                                                \
            }                                                                                 \
            ck_##P##NAME##_run8(x, c, st, len, sums);                                         \
            for (int k = 0; k < 8; k++) node[k / per][g + k % per] = sums[k];                 \
        }                                                                                     \
        for (; g < pl->leaves; g++)                                                           \
            for (int r = 0; r < rows; r++)                                                    \
                node[r][g] = ck_##P##NAME##_run(x + r * d + pl->st[g], pl->len[g], c, 0, &zero); \
        for (int r = 0; r < rows; r++) {                                                      \
            for (int i = 0; i < pl->adds; i++)                                                \
                node[r][pl->leaves + i] = node[r][pl->l[i]] + node[r][pl->r[i]];              \
            out[r] = node[r][pl->leaves + pl->adds - 1];                                      \
        }                                                                                     \
    }                                                                                         \
    /* the pairwise sum of row x[0..<n); *pl is the tree for n when n is in (64,              \
     * CK_RS_BLOCK], else NULL */                                                             \
    static T ck_##P##NAME##_with(const T *x, long n, T c, const ck_rs_plan *pl) {             \
        const ck_##P##v4 zero = {0, 0, 0, 0};                                                 \
        if (n <= 64) return ck_##P##NAME##_run(x, n, c, 0, &zero);                            \
        if (n > CK_RS_BLOCK) {                                                                \
            long half = (n / 2 + 7) & ~7L;                                                    \
            T l = ck_##P##NAME##_with(x, half, c, NULL);                                      \
            return l + ck_##P##NAME##_with(x + half, n - half, c, NULL);                      \
        }                                                                                     \
        ck_rs_plan own;                                                                       \
        if (pl == NULL) {                                                                     \
            ck_rs_plan_make(n, &own);                                                         \
            pl = &own;                                                                        \
        }                                                                                     \
        T sum;                                                                                \
        ck_##P##NAME##_planned(x, 0, 1, c, pl, &sum);                                         \
        return sum;                                                                           \
    }
typedef float ck_sv4 __attribute__((vector_size(4 * sizeof(float))));
typedef double ck_dv4 __attribute__((vector_size(4 * sizeof(double))));
CK_ROWSUM(s, float, rowsum, 0)
CK_ROWSUM(d, double, rowsum, 0)
CK_ROWSUM(s, float, sqdev, 1)
CK_ROWSUM(d, double, sqdev, 1)

#define CK_ROWSUM_CHUNK(P, T)                                                                 \
    typedef struct {                                                                          \
        long n;                                                                               \
        const T *x;                                                                           \
        T *out;                                                                               \
        int squares; /* sums of x[i] * x[i] (as (x[i] - 0) * (x[i] - 0), the same bits) */     \
    } ck_##P##rowsum_ctx;                                                                     \
    static void ck_##P##rowsum_chunk(void *v, long begin, long end) {                         \
        const ck_##P##rowsum_ctx *c = (const ck_##P##rowsum_ctx *)v;                          \
        ck_rs_plan pl;                                                                        \
        const int planned = c->n > 64 && c->n <= CK_RS_BLOCK;                                 \
        if (planned) ck_rs_plan_make(c->n, &pl);                                              \
        long r = begin;                                                                       \
        if (planned)                                                                          \
            for (; r + 2 <= end; r += 2) {                                                    \
                T two[2];                                                                     \
                if (c->squares) ck_##P##sqdev_planned(c->x + r * c->n, c->n, 2, 0, &pl, two); \
                else ck_##P##rowsum_planned(c->x + r * c->n, c->n, 2, 0, &pl, two);           \
                c->out[r] = (T)0 + two[0];                                                    \
                c->out[r + 1] = (T)0 + two[1];                                                \
            }                                                                                 \
        for (; r < end; r++)                                                                  \
            c->out[r] = (T)0 + (c->squares ? ck_##P##sqdev_with(c->x + r * c->n, c->n, 0, planned ? &pl : NULL) \
                                           : ck_##P##rowsum_with(c->x + r * c->n, c->n, 0, planned ? &pl : NULL)); \
    }
CK_ROWSUM_CHUNK(s, float)
CK_ROWSUM_CHUNK(d, double)

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
        ck_rs_plan pl;                                                                        \
        const int planned = c->inner > 64 && c->inner <= CK_RS_BLOCK;                         \
        if (planned) ck_rs_plan_make(c->inner, &pl);                                          \
        for (long m = begin; m < end; m++) {                                                  \
            T acc = (T)0;                                                                     \
            for (long o = 0; o < c->outer; o++)                                               \
                acc = acc + ck_##P##rowsum_with(c->x + (o * c->mid + m) * c->inner, c->inner, 0, \
                                                planned ? &pl : NULL);                        \
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

/* one row K of a column block for ck_*lnb_cols: WA += g * xhat, BA += g */
#define CK_LNB_COL(WA, BA, K) {                                                               \
    vec xv, gv;                                                                               \
    memcpy(&xv, x + (K) * n + j, sizeof xv);                                                  \
    memcpy(&gv, g + (K) * n + j, sizeof gv);                                                  \
    const vec xh = (xv - mean[K]) * rstd[K];                                                  \
    WA = WA + gv * xh;                                                                        \
    BA = BA + gv;                                                                             \
    }
/* The output loop of a row, compiled once per ISA level (the same operations in the same
 * order on each, so the same bits): y = (x - mean) * rstd [* w] [+ b]. */
#define CK_LN_LOOPS(P, T, TARGET, SUF)                                                        \
    TARGET static void ck_##P##ln_scale_##SUF(long n, const T *restrict x, T mean, T rstd,    \
                                              const T *restrict w, const T *restrict b,       \
                                              T *restrict y) {                                \
        if (w != NULL && b != NULL)                                                           \
            for (long i = 0; i < n; i++) y[i] = (x[i] - mean) * rstd * w[i] + b[i];           \
        else if (w != NULL)                                                                   \
            for (long i = 0; i < n; i++) y[i] = (x[i] - mean) * rstd * w[i];                  \
        else if (b != NULL)                                                                   \
            for (long i = 0; i < n; i++) y[i] = (x[i] - mean) * rstd + b[i];                  \
        else                                                                                  \
            for (long i = 0; i < n; i++) y[i] = (x[i] - mean) * rstd;                         \
    }                                                                                         \
    /* the same with one weight and bias (*w, *b, or NULL) for the whole run: a channel's */  \
    TARGET static void ck_##P##bnt_scale_##SUF(long n, const T *restrict x, T mean, T rstd,   \
                                               const T *w, const T *b, T *restrict y) {       \
        if (w != NULL && b != NULL) {                                                         \
            const T wc = *w, bc = *b;                                                         \
            for (long i = 0; i < n; i++) y[i] = (x[i] - mean) * rstd * wc + bc;               \
        } else if (w != NULL) {                                                               \
            const T wc = *w;                                                                  \
            for (long i = 0; i < n; i++) y[i] = (x[i] - mean) * rstd * wc;                    \
        } else if (b != NULL) {                                                               \
            const T bc = *b;                                                                  \
            for (long i = 0; i < n; i++) y[i] = (x[i] - mean) * rstd + bc;                    \
        } else {                                                                              \
            for (long i = 0; i < n; i++) y[i] = (x[i] - mean) * rstd;                         \
        }                                                                                     \
    }                                                                                         \
    /* layer norm backward, per row: xhat = (x - mean) * rstd, gh = g * w (g * 1), gh * xhat */ \
    TARGET static void ck_##P##lnb_prep_##SUF(long n, const T *restrict x, const T *restrict g, \
                                              const T *restrict w, T mean, T rstd,            \
                                              T *restrict xhat, T *restrict gh,               \
                                              T *restrict ghx) {                              \
        if (w != NULL)                                                                        \
            for (long i = 0; i < n; i++) {                                                    \
                const T xh = (x[i] - mean) * rstd, gv = g[i] * w[i];                          \
                xhat[i] = xh;                                                                 \
                gh[i] = gv;                                                                   \
                ghx[i] = gv * xh;                                                             \
            }                                                                                 \
        else                                                                                  \
            for (long i = 0; i < n; i++) {                                                    \
                const T xh = (x[i] - mean) * rstd, gv = g[i] * (T)1;                          \
                xhat[i] = xh;                                                                 \
                gh[i] = gv;                                                                   \
                ghx[i] = gv * xh;                                                             \
            }                                                                                 \
    }                                                                                         \
    /* dx = rstd * ((gh - m1) - xhat * m2) */                                                 \
    TARGET static void ck_##P##lnb_out_##SUF(long n, const T *restrict xhat, const T *restrict gh, \
                                             T rstd, T m1, T m2, T *restrict dx) {            \
        for (long i = 0; i < n; i++) dx[i] = rstd * ((gh[i] - m1) - xhat[i] * m2);            \
    }                                                                                         \
    /* a leaf's column sums of g * xhat and of g for ckernels_slayer_norm_backward, after     \
     * its rows: xhat recomputed with the row's mean and rstd as prep computes it, row k of   \
     * the leaf to accumulator k % 4 while four rows remain, the rest to the first, and the   \
     * four combined as (a0 + a1) + (a2 + a3), column blocks of 128 bytes held in registers   \
     * over the rows (accumulated per row in L1 arrays instead, the sums took more time than  \
     * the rest of the backward) */                                                           \
    TARGET static void ck_##P##lnb_cols_##SUF(long len, long n, const T *restrict x,          \
                                              const T *restrict g, const T *restrict mean,    \
                                              const T *restrict rstd, T *restrict lw,         \
                                              T *restrict lb) {                               \
        typedef T vec __attribute__((vector_size(128)));                                      \
        const long W = 128 / (long)sizeof(T), full = len / 4 * 4;                             \
        long j = 0;                                                                           \
        for (; j + W <= n; j += W) {                                                          \
            vec w0 = {0}, w1 = {0}, w2 = {0}, w3 = {0}, b0 = {0}, b1 = {0}, b2 = {0}, b3 = {0}; \
            long k = 0;                                                                       \
            for (; k < full; k += 4) {                                                        \
                CK_LNB_COL(w0, b0, k) CK_LNB_COL(w1, b1, k + 1)                               \
                CK_LNB_COL(w2, b2, k + 2) CK_LNB_COL(w3, b3, k + 3)                           \
            }                                                                                 \
            for (; k < len; k++) CK_LNB_COL(w0, b0, k)                                        \
            const vec sw = (w0 + w1) + (w2 + w3), sb = (b0 + b1) + (b2 + b3);                 \
            memcpy(lw + j, &sw, sizeof sw);                                                   \
            memcpy(lb + j, &sb, sizeof sb);                                                   \
        }                                                                                     \
        for (; j < n; j++) {                                                                  \
            T aw[4] = {0, 0, 0, 0}, ab[4] = {0, 0, 0, 0};                                     \
            for (long k = 0; k < len; k++) {                                                  \
                const int a = k < full ? (int)(k % 4) : 0;                                    \
                const T xh = (x[k * n + j] - mean[k]) * rstd[k], gv = g[k * n + j];           \
                aw[a] = aw[a] + gv * xh;                                                      \
                ab[a] = ab[a] + gv;                                                           \
            }                                                                                 \
            lw[j] = (aw[0] + aw[1]) + (aw[2] + aw[3]);                                        \
            lb[j] = (ab[0] + ab[1]) + (ab[2] + ab[3]);                                        \
        }                                                                                     \
    }
CK_FOR_ISAS(CK_LN_LOOPS)

/* Layer normalization of rows, op for op as swift-autograd's composed formula (see
 * ckernels_slayer_norm), so the results are the same bits. */
#define CK_LAYER_NORM(P, T, SQRT)                                                             \
    typedef struct {                                                                          \
        long n;                                                                               \
        const T *x, *w, *b;                                                                   \
        T eps, *y;                                                                            \
        T *mean, *rstd; /* per row, or NULL */                                                \
        void (*scale)(long, const T *restrict, T, T, const T *restrict, const T *restrict,    \
                      T *restrict);                                                           \
    } ck_##P##ln_ctx;                                                                         \
    static void ck_##P##ln_chunk(void *v, long begin, long end) {                             \
        ck_##P##ln_ctx *c = (ck_##P##ln_ctx *)v;                                              \
        const long n = c->n;                                                                  \
        ck_rs_plan pl;                                                                        \
        const int planned = n > 64 && n <= CK_RS_BLOCK;                                       \
        if (planned) ck_rs_plan_make(n, &pl);                                                 \
        /* where planned, the sums of two rows at a time (both stream from memory at once:    \
         * [4096, 1024] on two threads 0.89-0.97 -> 0.74-0.83 ms) */                          \
        for (long r0 = begin; r0 < end;) {                                                    \
            const int two = planned && r0 + 1 < end;                                          \
            T sums[2];                                                                        \
            if (two)                                                                          \
                ck_##P##rowsum_planned(c->x + r0 * n, n, 2, 0, &pl, sums);                    \
            else                                                                              \
                sums[0] = ck_##P##rowsum_with(c->x + r0 * n, n, 0, planned ? &pl : NULL);     \
            for (int k = 0; k <= two; k++) {                                                  \
                const long r = r0 + k;                                                        \
                const T *restrict x = c->x + r * n;                                           \
                const T mean = ((T)0 + sums[k]) / (T)n;                                       \
                const T var = ((T)0 + ck_##P##sqdev_with(x, n, mean, planned ? &pl : NULL)) / (T)n; \
                const T rstd = (T)1 / SQRT(var + c->eps);                                     \
                c->scale(n, x, mean, rstd, c->w, c->b, c->y + r * n);                         \
                if (c->mean != NULL) {                                                        \
                    c->mean[r] = mean;                                                        \
                    c->rstd[r] = rstd;                                                        \
                }                                                                             \
            }                                                                                 \
            r0 += 1 + two;                                                                    \
        }                                                                                     \
    }                                                                                         \
    int ckernels_##P##layer_norm(long rows, long n, const T *x, const T *w, const T *b, T eps, \
                                 T *y, T *mean, T *rstd) {                                    \
        if (rows < 0 || n < 1 || (mean == NULL) != (rstd == NULL)) return CKERNELS_EINVAL;    \
        if (rows == 0) return CKERNELS_OK;                                                    \
        if (x == NULL || y == NULL) return CKERNELS_EINVAL;                                   \
        ck_##P##ln_ctx c = {n, x, w, b, eps, y, mean, rstd, NULL};                            \
        CK_PICK(c.scale, ck_##P##ln_scale)                                                    \
        ck_cs_run(rows, n, ck_##P##ln_chunk, &c);                                             \
        return CKERNELS_OK;                                                                   \
    }
CK_LAYER_NORM(s, float, sqrtf)
CK_LAYER_NORM(d, double, sqrt)

/* The gradients of layer normalization, op for op as swift-autograd's composed backward (see
 * ckernels_slayer_norm_backward). Work items are the leaves of the pairwise tree over the rows
 * (runs of at most 64 rows, the order of ckernels_ssum_dim's column sums): per row, in scratch
 * rows of n, xhat, gh = g * w and gh * xhat, the last two summed together in the pairwise
 * order, then dx; after the leaf's rows, its column sums of g * xhat and of g (ck_*lnb_cols),
 * and the leaf sums are combined in the tree's order at the end. */
typedef struct {
    long *st, *len; /* the leaves of the row tree */
    long leaves;
} ck_rows_tree;
#define CK_LAYER_NORM_BWD(P, T, SQRT)                                                         \
    typedef struct {                                                                          \
        long n;                                                                               \
        const T *x, *g, *w;                                                                   \
        const T *mean, *rstd; /* the forward's, per row, or NULL */                           \
        T eps, *dx;                                                                           \
        ck_rows_tree tree;                                                                    \
        T *leaf_w, *leaf_b; /* [leaves][n] column sums of g * xhat and of g, or NULL */       \
        void (*prep)(long, const T *restrict, const T *restrict, const T *restrict, T, T,     \
                     T *restrict, T *restrict, T *restrict);                                  \
        void (*out)(long, const T *restrict, const T *restrict, T, T, T, T *restrict);        \
        void (*cols)(long, long, const T *restrict, const T *restrict, const T *restrict,     \
                     const T *restrict, T *restrict, T *restrict);                            \
        atomic_int err;                                                                       \
    } ck_##P##lnb_ctx;                                                                        \
    static void ck_##P##lnb_chunk(void *v, long begin, long end) {                            \
        ck_##P##lnb_ctx *c = (ck_##P##lnb_ctx *)v;                                            \
        const long n = c->n;                                                                  \
        const int sums = c->leaf_w != NULL;                                                   \
        T *xhat = (T *)malloc(sizeof(T) * (size_t)n * 3);                                     \
        if (xhat == NULL) {                                                                   \
            atomic_store(&c->err, CKERNELS_ENOMEM);                                           \
            return;                                                                           \
        }                                                                                     \
        T *restrict gh = xhat + n, *restrict ghx = xhat + 2 * n;                              \
        T means[64], rstds[64]; /* the leaf's rows' statistics, for its column sums */        \
        ck_rs_plan pl;                                                                        \
        const int planned = n > 64 && n <= CK_RS_BLOCK;                                       \
        if (planned) ck_rs_plan_make(n, &pl);                                                 \
        const ck_rs_plan *pp = planned ? &pl : NULL;                                          \
        for (long leaf = begin; leaf < end; leaf++) {                                         \
            const long r0 = c->tree.st[leaf], len = c->tree.len[leaf];                        \
            for (long k = 0; k < len; k++) {                                                  \
                const long r = r0 + k;                                                        \
                const T *restrict x = c->x + r * n, *restrict g = c->g + r * n;               \
                T mean, rstd;                                                                 \
                if (c->mean != NULL) {                                                        \
                    mean = c->mean[r];                                                        \
                    rstd = c->rstd[r];                                                        \
                } else {                                                                      \
                    mean = ((T)0 + ck_##P##rowsum_with(x, n, 0, pp)) / (T)n;                  \
                    const T var = ((T)0 + ck_##P##sqdev_with(x, n, mean, pp)) / (T)n;         \
                    rstd = (T)1 / SQRT(var + c->eps);                                         \
                }                                                                             \
                c->prep(n, x, g, c->w, mean, rstd, xhat, gh, ghx);                            \
                T ms[2]; /* the sums of gh and ghx, n apart: one pass over both where planned */ \
                if (pp != NULL) {                                                             \
                    ck_##P##rowsum_planned(gh, n, 2, 0, pp, ms);                              \
                } else {                                                                      \
                    ms[0] = ck_##P##rowsum_with(gh, n, 0, NULL);                              \
                    ms[1] = ck_##P##rowsum_with(ghx, n, 0, NULL);                             \
                }                                                                             \
                const T m1 = ((T)0 + ms[0]) / (T)n, m2 = ((T)0 + ms[1]) / (T)n;               \
                c->out(n, xhat, gh, rstd, m1, m2, c->dx + r * n);                             \
                means[k] = mean;                                                              \
                rstds[k] = rstd;                                                              \
            }                                                                                 \
            if (sums)                                                                         \
                c->cols(len, n, c->x + r0 * n, c->g + r0 * n, means, rstds,                   \
                        c->leaf_w + leaf * n, c->leaf_b + leaf * n);                          \
        }                                                                                     \
        free(xhat);                                                                           \
    }                                                                                         \
    /* out = the leaf sums of rows [.., rows) combined in the tree's order; *leaf: next leaf */ \
    static int ck_##P##lnb_combine(const T *leaves, long rows, long n, long *leaf, T *out) {  \
        if (rows <= 64) {                                                                     \
            memcpy(out, leaves + (*leaf)++ * n, sizeof(T) * (size_t)n);                       \
            return CKERNELS_OK;                                                               \
        }                                                                                     \
        long half = (rows / 2 + 7) & ~7L;                                                     \
        T *right = (T *)malloc(sizeof(T) * (size_t)n);                                        \
        if (right == NULL) return CKERNELS_ENOMEM;                                            \
        int st = ck_##P##lnb_combine(leaves, half, n, leaf, out);                             \
        if (st == CKERNELS_OK) st = ck_##P##lnb_combine(leaves, rows - half, n, leaf, right); \
        for (long j = 0; j < n; j++) out[j] = out[j] + right[j];                              \
        free(right);                                                                          \
        return st;                                                                            \
    }                                                                                         \
    int ckernels_##P##layer_norm_backward(long rows, long n, const T *x, const T *g,          \
                                          const T *w, T eps, const T *mean, const T *rstd,    \
                                          T *dx, T *dw, T *db) {                              \
        if (rows < 0 || n < 1) return CKERNELS_EINVAL;                                        \
        if ((dw == NULL) != (db == NULL) || (mean == NULL) != (rstd == NULL))                 \
            return CKERNELS_EINVAL;                                                           \
        if (rows == 0) {                                                                      \
            for (long j = 0; dw != NULL && j < n; j++) dw[j] = db[j] = (T)0;                  \
            return CKERNELS_OK;                                                               \
        }                                                                                     \
        if (x == NULL || g == NULL || dx == NULL) return CKERNELS_EINVAL;                     \
        const long most = rows / 16 + 2; /* leaves hold more than 16 rows when rows > 64 */   \
        long *st = (long *)malloc(sizeof(long) * (size_t)most * 2);                           \
        T *leaf_sums = dw != NULL ? (T *)malloc(sizeof(T) * (size_t)most * 2 * (size_t)n) : NULL; \
        if (st == NULL || (dw != NULL && leaf_sums == NULL)) {                                \
            free(st);                                                                         \
            free(leaf_sums);                                                                  \
            return CKERNELS_ENOMEM;                                                           \
        }                                                                                     \
        ck_##P##lnb_ctx c = {n, x, g, w, mean, rstd, eps, dx, {st, st + most, 0}, leaf_sums,  \
                             leaf_sums != NULL ? leaf_sums + most * n : NULL,                 \
                             NULL, NULL, NULL, 0};                                            \
        CK_PICK(c.prep, ck_##P##lnb_prep)                                                     \
        CK_PICK(c.out, ck_##P##lnb_out)                                                       \
        CK_PICK(c.cols, ck_##P##lnb_cols)                                                     \
        atomic_init(&c.err, CKERNELS_OK);                                                     \
        ck_tree_leaves(0, rows, c.tree.st, c.tree.len, &c.tree.leaves);                       \
        ck_cs_run(c.tree.leaves, 64 * 4 * n, ck_##P##lnb_chunk, &c);                          \
        int status = atomic_load(&c.err);                                                     \
        if (status == CKERNELS_OK && dw != NULL) {                                            \
            long leaf = 0;                                                                    \
            status = ck_##P##lnb_combine(c.leaf_w, rows, n, &leaf, dw);                       \
            leaf = 0;                                                                         \
            if (status == CKERNELS_OK) status = ck_##P##lnb_combine(c.leaf_b, rows, n, &leaf, db); \
            for (long j = 0; status == CKERNELS_OK && j < n; j++) {                           \
                dw[j] = (T)0 + dw[j];                                                         \
                db[j] = (T)0 + db[j];                                                         \
            }                                                                                 \
        }                                                                                     \
        free(st);                                                                             \
        free(leaf_sums);                                                                      \
        return status;                                                                        \
    }
CK_LAYER_NORM_BWD(s, float, sqrtf)
CK_LAYER_NORM_BWD(d, double, sqrt)

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

/* Batch normalization with the batch's statistics, op for op as the composed formula (see
 * ckernels_sbatch_norm_train): per channel, the pairwise block sums added in batch order (as
 * ckernels_ssum_outer_inner), then the squared deviations the same way, then the output. */
#define CK_BATCH_NORM_TRAIN(P, T, SQRT)                                                       \
    typedef struct {                                                                          \
        long n, c, hw;                                                                        \
        const T *x, *w, *b;                                                                   \
        T eps, *y, *mean, *sqsum;                                                             \
        void (*scale)(long, const T *restrict, T, T, const T *, const T *, T *restrict);      \
    } ck_##P##bnt_ctx;                                                                        \
    static void ck_##P##bnt_chunk(void *v, long begin, long end) {                            \
        const ck_##P##bnt_ctx *c = (const ck_##P##bnt_ctx *)v;                                \
        const long hw = c->hw;                                                                \
        ck_rs_plan pl;                                                                        \
        const int planned = hw > 64 && hw <= CK_RS_BLOCK;                                     \
        if (planned) ck_rs_plan_make(hw, &pl);                                                \
        const T count = (T)(c->n * hw);                                                       \
        for (long ch = begin; ch < end; ch++) {                                               \
            T acc = (T)0;                                                                     \
            for (long o = 0; o < c->n; o++)                                                   \
                acc = acc + ck_##P##rowsum_with(c->x + (o * c->c + ch) * hw, hw, 0,           \
                                                planned ? &pl : NULL);                        \
            const T mean = acc / count;                                                       \
            T sq = (T)0;                                                                      \
            for (long o = 0; o < c->n; o++)                                                   \
                sq = sq + ck_##P##sqdev_with(c->x + (o * c->c + ch) * hw, hw, mean,           \
                                             planned ? &pl : NULL);                           \
            const T rstd = (T)1 / SQRT(sq / count + c->eps);                                  \
            for (long o = 0; o < c->n; o++)                                                   \
                c->scale(hw, c->x + (o * c->c + ch) * hw, mean, rstd, c->w ? c->w + ch : NULL,\
                         c->b ? c->b + ch : NULL, c->y + (o * c->c + ch) * hw);               \
            c->mean[ch] = mean;                                                               \
            c->sqsum[ch] = sq;                                                                \
        }                                                                                     \
    }                                                                                         \
    int ckernels_##P##batch_norm_train(long n, long c, long hw, const T *x, const T *w,       \
                                       const T *b, T eps, T *y, T *mean, T *sqsum) {          \
        if (n < 0 || c < 0 || hw < 0) return CKERNELS_EINVAL;                                 \
        if (n == 0 || c == 0 || hw == 0) return CKERNELS_OK;                                  \
        if (x == NULL || y == NULL || mean == NULL || sqsum == NULL) return CKERNELS_EINVAL;  \
        ck_##P##bnt_ctx k = {n, c, hw, x, w, b, eps, y, mean, sqsum, NULL};                   \
        CK_PICK(k.scale, ck_##P##bnt_scale)                                                   \
        ck_cs_run(c, n * hw, ck_##P##bnt_chunk, &k);                                          \
        return CKERNELS_OK;                                                                   \
    }
CK_BATCH_NORM_TRAIN(s, float, sqrtf)
CK_BATCH_NORM_TRAIN(d, double, sqrt)

#define CK_SUM_DIM(P, T)                                                                      \
    typedef void (*ck_##P##colsum_fn)(const T *, long, long, long, T *);                      \
    static ck_##P##colsum_fn ck_##P##colsum_now(void) {                                       \
        ck_##P##colsum_fn fn;                                                                 \
        CK_PICK(fn, ck_##P##colsum)                                                           \
        return fn;                                                                            \
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
            ck_##P##rowsum_ctx r = {n, x, out, 0};                                            \
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


CK_SUM_DIM(s, float)
CK_SUM_DIM(d, double)

/* Row sums of squares (see ckernels_ssum_squares_rows). */
#define CK_SUM_SQUARES_ROWS(P, T)                                                             \
    int ckernels_##P##sum_squares_rows(long rows, long n, const T *x, T *out) {               \
        if (rows < 0 || n < 0) return CKERNELS_EINVAL;                                        \
        if (rows == 0) return CKERNELS_OK;                                                    \
        if (out == NULL || (x == NULL && n > 0)) return CKERNELS_EINVAL;                      \
        ck_##P##rowsum_ctx r = {n, x, out, 1};                                                \
        ck_cs_run(rows, n, ck_##P##rowsum_chunk, &r);                                         \
        return CKERNELS_OK;                                                                   \
    }
CK_SUM_SQUARES_ROWS(s, float)
CK_SUM_SQUARES_ROWS(d, double)

/* Cumulative sums or products along contiguous rows, accumulated in double (see
 * ckernels_sscan_rows). Eight rows at a time: eight independent chains of dependent adds
 * (one row alone waits on the adder's latency at every element). */
#define CK_SCAN_ROWS(P, T)                                                                    \
    typedef struct {                                                                          \
        int prod;                                                                             \
        long rows, n;                                                                         \
        const T *x;                                                                           \
        T *out;                                                                               \
    } ck_##P##scan_ctx;                                                                       \
    /* work items are groups of eight rows (the last one may be short) */                     \
    static void ck_##P##scan_chunk(void *v, long first_group, long end_group) {               \
        const ck_##P##scan_ctx *c = (const ck_##P##scan_ctx *)v;                              \
        const long n = c->n, end = end_group * 8 < c->rows ? end_group * 8 : c->rows;         \
        const double init = c->prod ? 1.0 : 0.0;                                              \
        long r = first_group * 8;                                                             \
        for (; r + 8 <= end; r += 8) {                                                        \
            const T *x = c->x + r * n;                                                        \
            T *o = c->out + r * n;                                                            \
            double a0 = init, a1 = init, a2 = init, a3 = init, a4 = init, a5 = init,          \
                   a6 = init, a7 = init;                                                      \
            if (c->prod)                                                                      \
                for (long k = 0; k < n; k++) {                                                \
                    a0 *= x[k]; a1 *= x[n + k]; a2 *= x[2 * n + k]; a3 *= x[3 * n + k];       \
                    a4 *= x[4 * n + k]; a5 *= x[5 * n + k]; a6 *= x[6 * n + k];               \
                    a7 *= x[7 * n + k];                                                       \
                    o[k] = (T)a0; o[n + k] = (T)a1; o[2 * n + k] = (T)a2;                     \
                    o[3 * n + k] = (T)a3; o[4 * n + k] = (T)a4; o[5 * n + k] = (T)a5;         \
                    o[6 * n + k] = (T)a6; o[7 * n + k] = (T)a7;                               \
                }                                                                             \
            else                                                                              \
                for (long k = 0; k < n; k++) {                                                \
                    a0 += x[k]; a1 += x[n + k]; a2 += x[2 * n + k]; a3 += x[3 * n + k];       \
                    a4 += x[4 * n + k]; a5 += x[5 * n + k]; a6 += x[6 * n + k];               \
                    a7 += x[7 * n + k];                                                       \
                    o[k] = (T)a0; o[n + k] = (T)a1; o[2 * n + k] = (T)a2;                     \
                    o[3 * n + k] = (T)a3; o[4 * n + k] = (T)a4; o[5 * n + k] = (T)a5;         \
                    o[6 * n + k] = (T)a6; o[7 * n + k] = (T)a7;                               \
                }                                                                             \
        }                                                                                     \
        for (; r < end; r++) {                                                                \
            const T *x = c->x + r * n;                                                        \
            T *o = c->out + r * n;                                                            \
            double a = init;                                                                  \
            for (long k = 0; k < n; k++) {                                                    \
                a = c->prod ? a * x[k] : a + x[k];                                            \
                o[k] = (T)a;                                                                  \
            }                                                                                 \
        }                                                                                     \
    }                                                                                         \
    int ckernels_##P##scan_rows(int op, long rows, long n, const T *x, T *out) {              \
        if ((op != CKERNELS_SCAN_SUM && op != CKERNELS_SCAN_PROD) || rows < 0 || n < 0)       \
            return CKERNELS_EINVAL;                                                           \
        if (rows == 0 || n == 0) return CKERNELS_OK;                                          \
        if (x == NULL || out == NULL) return CKERNELS_EINVAL;                                 \
        ck_##P##scan_ctx c = {op == CKERNELS_SCAN_PROD, rows, n, x, out};                     \
        ck_cs_run((rows + 7) / 8, 8 * n, ck_##P##scan_chunk, &c);                             \
        return CKERNELS_OK;                                                                   \
    }
CK_SCAN_ROWS(s, float)
CK_SCAN_ROWS(d, double)

/* ---- index range checks ---- */

/* The largest of x[0..<n) read as unsigned (a negative value is larger than any bound). */
#define CK_UMAX(TARGET, SUF)                                                                         \
    TARGET static uint64_t ck_umax_##SUF(long n, const int64_t *x) {                                \
        uint64_t m = 0;                                                                              \
        for (long i = 0; i < n; i++) m = (uint64_t)x[i] > m ? (uint64_t)x[i] : m;                    \
        return m;                                                                                    \
    }
#if CK_X86
CK_UMAX(CK_TARGET_AVX512, avx512)
CK_UMAX(CK_TARGET_AVX2, avx2)
#endif
CK_UMAX(, generic)

typedef struct {
    const int64_t *x;
    long n;
    uint64_t (*umax)(long, const int64_t *);
    uint64_t *largest; /* per chunk */
} ck_range_ctx;

#define CK_RANGE_CHUNK (1L << 15)

static void ck_range_chunk(void *v, long begin, long end) {
    ck_range_ctx *c = (ck_range_ctx *)v;
    for (long k = begin; k < end; k++) {
        const long i0 = k * CK_RANGE_CHUNK, len = c->n - i0 < CK_RANGE_CHUNK ? c->n - i0 : CK_RANGE_CHUNK;
        c->largest[k] = c->umax(len, c->x + i0);
    }
}

int ckernels_i64_in_range(long n, const int64_t *x, int64_t bound, int *inside) {
    if (n < 0 || bound < 0 || inside == NULL || (x == NULL && n > 0)) return CKERNELS_EINVAL;
    const long chunks = (n + CK_RANGE_CHUNK - 1) / CK_RANGE_CHUNK;
    uint64_t *largest = (uint64_t *)malloc(sizeof(uint64_t) * (size_t)(chunks > 0 ? chunks : 1));
    if (largest == NULL) return CKERNELS_ENOMEM;
    ck_range_ctx c = {x, n, NULL, largest};
    CK_PICK(c.umax, ck_umax)
    ckernels_parallel_for(chunks, 1, ck_range_chunk, &c);
    int ok = 1;
    for (long k = 0; k < chunks; k++) ok &= largest[k] < (uint64_t)bound;
    free(largest);
    *inside = ok;
    return CKERNELS_OK;
}
