/* AVX2 + FMA GEMM micro-kernels: 6x16 (float) and 6x8 (double), 12 ymm accumulators. */
#include "ck_internal.h"

#if CK_X86
#include <immintrin.h>

#define CK_R6(X) X(0) X(1) X(2) X(3) X(4) X(5)

CK_TARGET_AVX2
static void ck_sukr_avx2_6x16(long k, const float *a, const float *b, float *c, long rsc,
                              float alpha_in, float beta_in, int m, int n) {
    /* alpha and beta wait in memory during the k loop: kept in registers, they push GCC into
     * spilling a B vector inside the loop (clang is unaffected) */
    volatile float ab[2] = {alpha_in, beta_in};
#define DECL(r) __m256 c##r##a = _mm256_setzero_ps(), c##r##b = _mm256_setzero_ps();
    CK_R6(DECL)
#undef DECL
#define PF(r) _mm_prefetch((const char *)(c + (r) * rsc), _MM_HINT_T0); \
              _mm_prefetch((const char *)(c + (r) * rsc + 15), _MM_HINT_T0);
    CK_R6(PF)
#undef PF
    for (long p = 0; p < k; p++) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#define STEP(r) { __m256 ar = _mm256_broadcast_ss(a + (r)); \
                  c##r##a = _mm256_fmadd_ps(ar, b0, c##r##a); \
                  c##r##b = _mm256_fmadd_ps(ar, b1, c##r##b); }
        CK_R6(STEP)
#undef STEP
        a += 6;
        b += 16;
    }
    const float alpha = ab[0], beta = ab[1];
    __m256 va = _mm256_set1_ps(alpha);
    __m256 vb = _mm256_set1_ps(beta);
    if (m == 6 && n == 16) {
        if (beta == 0.0f) {
#define ST(r) _mm256_storeu_ps(c + (r) * rsc, _mm256_mul_ps(va, c##r##a)); \
              _mm256_storeu_ps(c + (r) * rsc + 8, _mm256_mul_ps(va, c##r##b));
            CK_R6(ST)
#undef ST
        } else {
#define ST(r) _mm256_storeu_ps(c + (r) * rsc, _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + (r) * rsc), \
                                                               _mm256_mul_ps(va, c##r##a))); \
              _mm256_storeu_ps(c + (r) * rsc + 8, \
                               _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + (r) * rsc + 8), \
                                               _mm256_mul_ps(va, c##r##b)));
            CK_R6(ST)
#undef ST
        }
    } else { /* an edge tile: rows below m, columns below n */
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        __m256i k0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane);
        __m256i k1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - 8), lane);
#define ST(r) if ((r) < m) { \
            float *cr = c + (r) * rsc; \
            __m256 v0 = _mm256_mul_ps(va, c##r##a), v1 = _mm256_mul_ps(va, c##r##b); \
            if (beta != 0.0f) { \
                v0 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr, k0), v0); \
                v1 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr + 8, k1), v1); \
            } \
            _mm256_maskstore_ps(cr, k0, v0); \
            _mm256_maskstore_ps(cr + 8, k1, v1); \
        }
        CK_R6(ST)
#undef ST
    }
}

CK_TARGET_AVX2
static void ck_dukr_avx2_6x8(long k, const double *a, const double *b, double *c, long rsc,
                             double alpha_in, double beta_in, int m, int n) {
    /* alpha and beta wait in memory during the k loop: kept in registers, they push GCC into
     * spilling a B vector inside the loop (clang is unaffected) */
    volatile double ab[2] = {alpha_in, beta_in};
#define DECL(r) __m256d c##r##a = _mm256_setzero_pd(), c##r##b = _mm256_setzero_pd();
    CK_R6(DECL)
#undef DECL
#define PF(r) _mm_prefetch((const char *)(c + (r) * rsc), _MM_HINT_T0); \
              _mm_prefetch((const char *)(c + (r) * rsc + 7), _MM_HINT_T0);
    CK_R6(PF)
#undef PF
    for (long p = 0; p < k; p++) {
        __m256d b0 = _mm256_load_pd(b), b1 = _mm256_load_pd(b + 4);
#define STEP(r) { __m256d ar = _mm256_broadcast_sd(a + (r)); \
                  c##r##a = _mm256_fmadd_pd(ar, b0, c##r##a); \
                  c##r##b = _mm256_fmadd_pd(ar, b1, c##r##b); }
        CK_R6(STEP)
#undef STEP
        a += 6;
        b += 8;
    }
    const double alpha = ab[0], beta = ab[1];
    __m256d va = _mm256_set1_pd(alpha);
    __m256d vb = _mm256_set1_pd(beta);
    if (m == 6 && n == 8) {
        if (beta == 0.0) {
#define ST(r) _mm256_storeu_pd(c + (r) * rsc, _mm256_mul_pd(va, c##r##a)); \
              _mm256_storeu_pd(c + (r) * rsc + 4, _mm256_mul_pd(va, c##r##b));
            CK_R6(ST)
#undef ST
        } else {
#define ST(r) _mm256_storeu_pd(c + (r) * rsc, _mm256_fmadd_pd(vb, _mm256_loadu_pd(c + (r) * rsc), \
                                                               _mm256_mul_pd(va, c##r##a))); \
              _mm256_storeu_pd(c + (r) * rsc + 4, \
                               _mm256_fmadd_pd(vb, _mm256_loadu_pd(c + (r) * rsc + 4), \
                                               _mm256_mul_pd(va, c##r##b)));
            CK_R6(ST)
#undef ST
        }
    } else {
        const __m256i lane = _mm256_setr_epi64x(0, 1, 2, 3);
        __m256i k0 = _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), lane);
        __m256i k1 = _mm256_cmpgt_epi64(_mm256_set1_epi64x(n - 4), lane);
#define ST(r) if ((r) < m) { \
            double *cr = c + (r) * rsc; \
            __m256d v0 = _mm256_mul_pd(va, c##r##a), v1 = _mm256_mul_pd(va, c##r##b); \
            if (beta != 0.0) { \
                v0 = _mm256_fmadd_pd(vb, _mm256_maskload_pd(cr, k0), v0); \
                v1 = _mm256_fmadd_pd(vb, _mm256_maskload_pd(cr + 4, k1), v1); \
            } \
            _mm256_maskstore_pd(cr, k0, v0); \
            _mm256_maskstore_pd(cr + 4, k1, v1); \
        }
        CK_R6(ST)
#undef ST
    }
}

/* ---- packing ---- */

/* Transposes the 8x8 block held in r[0..7] in place. */
CK_TARGET_AVX2 static inline __attribute__((always_inline)) void ck_tr8x8(__m256 r[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 2; i++) {
        u[4 * i] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int j = 0; j < 4; j++) {
        r[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);
        r[4 + j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31);
    }
}

/* 6 rows of a row-major A: dst[p*6 + r] = a[r*rsA + p]. Each 8-wide store spills 2 lanes
 * into the next group, which the next store (or the next sliver, or the slack) absorbs. */
CK_TARGET_AVX2 static void ck_spack_a_rm_avx2(long kb, const float *a, long rsA, float *dst, int rows) {
    long p = 0;
    for (; p + 8 <= kb; p += 8) {
        __m256 r[8];
        for (int i = 0; i < 8; i++) r[i] = i < rows && i < 6 ? _mm256_loadu_ps(a + i * rsA + p) : _mm256_setzero_ps();
        ck_tr8x8(r);
        for (int j = 0; j < 8; j++) _mm256_storeu_ps(dst + (p + j) * 6, r[j]);
    }
    for (; p < kb; p++)
        for (int i = 0; i < 6; i++) dst[p * 6 + i] = i < rows ? a[i * rsA + p] : 0.0f;
}

/* `cols` (<= 16) columns of a row-major B */
CK_TARGET_AVX2 static void ck_spack_b_rm_avx2(long kb, const float *b, long rsB, float *dst, int cols) {
    if (cols == 16) {
        for (long p = 0; p < kb; p++) {
            _mm256_store_ps(dst + p * 16, _mm256_loadu_ps(b + p * rsB));
            _mm256_store_ps(dst + p * 16 + 8, _mm256_loadu_ps(b + p * rsB + 8));
        }
        return;
    }
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i k0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols), lane);
    __m256i k1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols - 8), lane);
    for (long p = 0; p < kb; p++) {
        _mm256_store_ps(dst + p * 16, _mm256_maskload_ps(b + p * rsB, k0));
        _mm256_store_ps(dst + p * 16 + 8, _mm256_maskload_ps(b + p * rsB + 8, k1));
    }
}

/* 16 columns of a column-major B: dst[p*16 + c] = b[c*csB + p] */
CK_TARGET_AVX2 static void ck_spack_b_cm_avx2(long kb, const float *b, long csB, float *dst, int cols) {
    long p = 0;
    for (; p + 8 <= kb; p += 8)
        for (int h = 0; h < 2; h++) {
            __m256 r[8];
            for (int i = 0; i < 8; i++)
                r[i] = 8 * h + i < cols ? _mm256_loadu_ps(b + (8 * h + i) * csB + p) : _mm256_setzero_ps();
            ck_tr8x8(r);
            for (int j = 0; j < 8; j++) _mm256_store_ps(dst + (p + j) * 16 + 8 * h, r[j]);
        }
    for (; p < kb; p++)
        for (int c = 0; c < 16; c++) dst[p * 16 + c] = c < cols ? b[c * csB + p] : 0.0f;
}


/* Transposes the 4x4 double block in r[0..3] in place. */
CK_TARGET_AVX2 static inline __attribute__((always_inline)) void ck_tr4x4d(__m256d r[4]) {
    __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
    __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
    r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

/* 6 rows of a row-major A (double); the 4-wide store of rows 4-5 spills 2 lanes forward,
 * overwritten by the next store (or the next sliver, or the slack). */
CK_TARGET_AVX2 static void ck_dpack_a_rm_avx2(long kb, const double *a, long rsA, double *dst, int rows) {
    long p = 0;
    for (; p + 4 <= kb; p += 4) {
        __m256d lo[4], hi[4];
        for (int i = 0; i < 4; i++) lo[i] = i < rows ? _mm256_loadu_pd(a + i * rsA + p) : _mm256_setzero_pd();
        hi[0] = rows > 4 ? _mm256_loadu_pd(a + 4 * rsA + p) : _mm256_setzero_pd();
        hi[1] = rows > 5 ? _mm256_loadu_pd(a + 5 * rsA + p) : _mm256_setzero_pd();
        hi[2] = hi[3] = _mm256_setzero_pd();
        ck_tr4x4d(lo);
        ck_tr4x4d(hi);
        for (int j = 0; j < 4; j++) {
            _mm256_storeu_pd(dst + (p + j) * 6, lo[j]);
            _mm256_storeu_pd(dst + (p + j) * 6 + 4, hi[j]);
        }
    }
    for (; p < kb; p++)
        for (int i = 0; i < 6; i++) dst[p * 6 + i] = i < rows ? a[i * rsA + p] : 0.0;
}

CK_TARGET_AVX2 static void ck_dpack_b_rm_avx2(long kb, const double *b, long rsB, double *dst, int cols) {
    const __m256i lane = _mm256_setr_epi64x(0, 1, 2, 3);
    __m256i k0 = _mm256_cmpgt_epi64(_mm256_set1_epi64x(cols), lane);
    __m256i k1 = _mm256_cmpgt_epi64(_mm256_set1_epi64x(cols - 4), lane);
    for (long p = 0; p < kb; p++) {
        _mm256_store_pd(dst + p * 8, _mm256_maskload_pd(b + p * rsB, k0));
        _mm256_store_pd(dst + p * 8 + 4, _mm256_maskload_pd(b + p * rsB + 4, k1));
    }
}

/* 8 columns of a column-major B (double): dst[p*8 + c] = b[c*csB + p] */
CK_TARGET_AVX2 static void ck_dpack_b_cm_avx2(long kb, const double *b, long csB, double *dst, int cols) {
    long p = 0;
    for (; p + 4 <= kb; p += 4)
        for (int h = 0; h < 2; h++) {
            __m256d r[4];
            for (int i = 0; i < 4; i++)
                r[i] = 4 * h + i < cols ? _mm256_loadu_pd(b + (4 * h + i) * csB + p) : _mm256_setzero_pd();
            ck_tr4x4d(r);
            for (int j = 0; j < 4; j++) _mm256_store_pd(dst + (p + j) * 8 + 4 * h, r[j]);
        }
    for (; p < kb; p++)
        for (int c = 0; c < 8; c++) dst[p * 8 + c] = c < cols ? b[c * csB + p] : 0.0;
}

/* ---- direct convolution tiles for AVX2 (ck_conv.c's ckernels_sconv2d_direct) ----
 * As ck_sconv_tile_avx512 with R <= 6 output channels (rows of A, stride lda) by 16 output
 * columns: acc(r, t) is the sum over p < k, in order, of a[r*lda + p] * b[off[p] + t] by fused
 * multiply-adds, then out[r*ldo + t] = acc(r, t) [+ bias[r]] for t < n. Twelve ymm accumulators,
 * two B vectors and a broadcast: all sixteen registers but one. off holds 8 entries past k. */
CK_TARGET_AVX2 static inline __attribute__((always_inline)) void
ck_sconv_body_avx2(const int R, long k, const float *a, const long lda, const long *off, const float *b,
                   const float *bias, float *out, long ldo, int n) {
    __m256 acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm256_setzero_ps();
    const float *a3 = a + 3 * lda; /* rows 3-5 as a3 + (r - 3) * lda: two pointers, not six */
    for (long p = 0; p < k; p++, a++, a3++) {
        const float *bp = b + off[p], *pf = b + off[p + 8];
        _mm_prefetch((const char *)pf, _MM_HINT_T0);
        _mm_prefetch((const char *)(pf + 15), _MM_HINT_T0);
        const __m256 b0 = _mm256_loadu_ps(bp), b1 = _mm256_loadu_ps(bp + 8);
#define STEP(r) if ((r) < R) { \
            const __m256 ar = _mm256_broadcast_ss((r) < 3 ? a + (r) * lda : a3 + ((r) - 3) * lda); \
            acc[2 * (r)] = _mm256_fmadd_ps(ar, b0, acc[2 * (r)]); \
            acc[2 * (r) + 1] = _mm256_fmadd_ps(ar, b1, acc[2 * (r) + 1]); \
        }
        CK_R6(STEP)
#undef STEP
    }
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i k0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane);
    const __m256i k1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - 8), lane);
#define ST(r) if ((r) < R) { \
        __m256 v0 = acc[2 * (r)], v1 = acc[2 * (r) + 1]; \
        if (bias != NULL) { \
            const __m256 bv = _mm256_set1_ps(bias[r]); \
            v0 = _mm256_add_ps(v0, bv); \
            v1 = _mm256_add_ps(v1, bv); \
        } \
        if (n == 16) { \
            _mm256_storeu_ps(out + (r) * ldo, v0); \
            _mm256_storeu_ps(out + (r) * ldo + 8, v1); \
        } else { \
            _mm256_maskstore_ps(out + (r) * ldo, k0, v0); \
            _mm256_maskstore_ps(out + (r) * ldo + 8, k1, v1); \
        } \
    }
    CK_R6(ST)
#undef ST
}

#define CK_SCONV_TILE_AVX2(R)                                                                      \
    CK_TARGET_AVX2 __attribute__((noinline)) static void ck_sconv_avx2_tile##R(                    \
        long k, const float *a, long lda, const long *off, const float *b, const float *bias,      \
        float *out, long ldo, int n) {                                                             \
        ck_sconv_body_avx2(R, k, a, lda, off, b, bias, out, ldo, n);                               \
    }
CK_SCONV_TILE_AVX2(1) CK_SCONV_TILE_AVX2(2) CK_SCONV_TILE_AVX2(3)
CK_SCONV_TILE_AVX2(4) CK_SCONV_TILE_AVX2(5) CK_SCONV_TILE_AVX2(6)
#undef CK_SCONV_TILE_AVX2

void ck_sconv_tile_avx2(int m, long k, const float *a, long lda, const long *off, const float *b,
                        const float *bias, float *out, long ldo, int n) {
    typedef void (*tile_fn)(long, const float *, long, const long *, const float *, const float *,
                            float *, long, int);
    static const tile_fn tiles[6] = {ck_sconv_avx2_tile1, ck_sconv_avx2_tile2, ck_sconv_avx2_tile3,
                                     ck_sconv_avx2_tile4, ck_sconv_avx2_tile5, ck_sconv_avx2_tile6};
    tiles[m - 1](k, a, lda, off, b, bias, out, ldo, n);
}

/* Blocks for a 32-48K L1 and 512K-2M L2: kc x 16 floats = 16K, mc x kc = 168K. */
static const ck_sgemm_desc ck_sdesc_avx2 = {6, 16, 256, 168, 4096, ck_sukr_avx2_6x16, 1, 0,
                                            ck_spack_a_rm_avx2, NULL, ck_spack_b_rm_avx2,
                                            ck_spack_b_cm_avx2, NULL, 0};
static const ck_dgemm_desc ck_ddesc_avx2 = {6, 8, 256, 96, 2048, ck_dukr_avx2_6x8, 1, 0,
                                            ck_dpack_a_rm_avx2, NULL, ck_dpack_b_rm_avx2,
                                            ck_dpack_b_cm_avx2, NULL, 0};
const ck_sgemm_desc *ck_sgemm_desc_avx2(void) { return &ck_sdesc_avx2; }
const ck_dgemm_desc *ck_dgemm_desc_avx2(void) { return &ck_ddesc_avx2; }

#endif /* CK_X86 */
