/* AVX-512 GEMM micro-kernels: 12x32 (float) and 12x16 (double), 24 zmm accumulators. */
#include "ck_internal.h"

#if CK_X86
#include <immintrin.h>

#define CK_R12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

/* Stores the m x n corner of a 12x32 tile: C = alpha * acc + beta * C (C not read when
 * beta == 0). acc[2r], acc[2r+1] hold row r. */
CK_TARGET_AVX512 static inline __attribute__((always_inline)) void
ck_s12x32_store(const __m512 acc[24], float *c, long rsc, float alpha, float beta, int m, int n) {
    __m512 va = _mm512_set1_ps(alpha);
    __m512 vb = _mm512_set1_ps(beta);
    if (m == 12 && n == 32) {
        if (beta == 0.0f) {
#define ST(r) _mm512_storeu_ps(c + (r) * rsc, _mm512_mul_ps(va, acc[2 * (r)])); \
              _mm512_storeu_ps(c + (r) * rsc + 16, _mm512_mul_ps(va, acc[2 * (r) + 1]));
            CK_R12(ST)
#undef ST
        } else {
#define ST(r) _mm512_storeu_ps(c + (r) * rsc, _mm512_fmadd_ps(vb, _mm512_loadu_ps(c + (r) * rsc), \
                                                               _mm512_mul_ps(va, acc[2 * (r)]))); \
              _mm512_storeu_ps(c + (r) * rsc + 16, \
                               _mm512_fmadd_ps(vb, _mm512_loadu_ps(c + (r) * rsc + 16), \
                                               _mm512_mul_ps(va, acc[2 * (r) + 1])));
            CK_R12(ST)
#undef ST
        }
    } else { /* an edge tile: rows below m, columns below n */
        __mmask16 k0 = (__mmask16)(n >= 16 ? 0xFFFF : (1u << n) - 1);
        __mmask16 k1 = (__mmask16)(n >= 32 ? 0xFFFF : n <= 16 ? 0 : (1u << (n - 16)) - 1);
#define ST(r) if ((r) < m) { \
            float *cr = c + (r) * rsc; \
            __m512 v0 = _mm512_mul_ps(va, acc[2 * (r)]), v1 = _mm512_mul_ps(va, acc[2 * (r) + 1]); \
            if (beta != 0.0f) { \
                v0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(k0, cr), v0); \
                v1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(k1, cr + 16), v1); \
            } \
            _mm512_mask_storeu_ps(cr, k0, v0); \
            _mm512_mask_storeu_ps(cr + 16, k1, v1); \
        }
        CK_R12(ST)
#undef ST
    }
}

/* Prefetches the 12 rows of a C tile; the k loop that follows hides the misses. */
#define CK_S12X32_PREFETCH_C(c, rsc)                                                             \
    do {                                                                                         \
        for (int r_ = 0; r_ < 12; r_++) {                                                        \
            _mm_prefetch((const char *)((c) + r_ * (rsc)), _MM_HINT_T0);                         \
            _mm_prefetch((const char *)((c) + r_ * (rsc) + 31), _MM_HINT_T0);                    \
        }                                                                                        \
    } while (0)

CK_TARGET_AVX512
static void ck_sukr_avx512_12x32(long k, const float *a, const float *b, float *c, long rsc,
                                 float alpha_in, float beta_in, int m, int n) {
    /* alpha and beta wait in memory during the k loop: kept in registers, they push GCC into
     * spilling a B vector inside the loop (clang is unaffected) */
    volatile float ab[2] = {alpha_in, beta_in};
    __m512 acc[24];
    for (int i = 0; i < 24; i++) acc[i] = _mm512_setzero_ps();
    CK_S12X32_PREFETCH_C(c, rsc);
    for (long p = 0; p < k; p++) {
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#define STEP(r) { __m512 ar = _mm512_set1_ps(a[r]); \
                  acc[2 * (r)] = _mm512_fmadd_ps(ar, b0, acc[2 * (r)]); \
                  acc[2 * (r) + 1] = _mm512_fmadd_ps(ar, b1, acc[2 * (r) + 1]); }
        CK_R12(STEP)
#undef STEP
        a += 12;
        b += 32;
    }
    ck_s12x32_store(acc, c, rsc, ab[0], ab[1], m, n);
}

/* The row stride of A copies the driver passes (its ra_stride(256): 256 values and one line
 * more), for which the kernels below are specialized together with a packed B (ldb = nr);
 * any other strides take the general code. */
#define CK_S_RA_LDA 272
#define CK_D_RA_LDA 264

/* One step of k, u steps ahead, in a row-access body: B's row (two vectors b0, b1 of W lanes),
 * then each of the R rows of A (spelled out: a loop over 12 rows is not always unrolled, which
 * puts acc in memory). Rows of an unpacked B may be 4 KiB apart, where the hardware prefetchers
 * stop: B is prefetched 8 rows ahead. */
#define CK_RA_STEP(V, SET1, FMADD, r, u)                                                           \
    if ((r) < R) {                                                                               \
        V ar = SET1(base[(r) / 3][((r) % 3) * lda + (u)]);                                       \
        acc[2 * (r)] = FMADD(ar, b0, acc[2 * (r)]);                                              \
        acc[2 * (r) + 1] = FMADD(ar, b1, acc[2 * (r) + 1]);                                      \
    }
#define CK_RA_KSTEP(V, W, LOADU, SET1, FMADD, u)                                                   \
    {                                                                                            \
        _mm_prefetch((const char *)(b + (8 + (u)) * ldb), _MM_HINT_T0);                          \
        _mm_prefetch((const char *)(b + (8 + (u)) * ldb + (W)), _MM_HINT_T0);                    \
        V b0 = LOADU(b + (u) * ldb), b1 = LOADU(b + (u) * ldb + (W));                            \
        CK_RA_STEP(V, SET1, FMADD, 0, u) CK_RA_STEP(V, SET1, FMADD, 1, u)                        \
        CK_RA_STEP(V, SET1, FMADD, 2, u) CK_RA_STEP(V, SET1, FMADD, 3, u)                        \
        CK_RA_STEP(V, SET1, FMADD, 4, u) CK_RA_STEP(V, SET1, FMADD, 5, u)                        \
        CK_RA_STEP(V, SET1, FMADD, 6, u) CK_RA_STEP(V, SET1, FMADD, 7, u)                        \
        CK_RA_STEP(V, SET1, FMADD, 8, u) CK_RA_STEP(V, SET1, FMADD, 9, u)                        \
        CK_RA_STEP(V, SET1, FMADD, 10, u) CK_RA_STEP(V, SET1, FMADD, 11, u)                      \
    }

/* The row-access kernels of one element type, named ck_<P>ukr_avx512_{4,8,12}x<NR>_ra, on
 * vectors V of W lanes (NR = 2W columns of B per row), and their body ck_<P>_ra_body for R = 4,
 * 8 or 12 rows of A (m <= R): acc holds 2R live accumulators, the rest stay zero. With literal
 * lda and ldb (the driver's usual strides, LDA and a packed B) the k loop is unrolled U = 4
 * times and every address in it is a pointer plus a constant: 4 integer instructions per 96
 * multiply-adds instead of ~13 per 24, which otherwise take issue slots on the two FMA ports now
 * and then (sgemm 1024 and 2048 on one core of the Xeon: +1.7%). With variable strides U = 1:
 * unrolled, clang keeps the extra addresses in spilled registers (256^3 with B read in place ran
 * at 0.6x).
 * The 12-row kernel reads A as 12 rows of stride lda (A(r, p) = a[r*lda + p]) instead of a packed
 * sliver, so that A needs a row copy, not a transpose, and B as k rows of NR values with stride
 * ldb (NR for a packed panel, or B itself when it is row-major). Edge tiles of up to 4 or 8 rows
 * run a 4- or 8-row kernel at a third or two thirds of the cost; every element of C sees the same
 * operations in the same order either way. */
#define CK_RA_KERNELS(P, T, V, W, NR, LDA, SETZERO, STORE, KSTEP)                             \
CK_TARGET_AVX512 static inline __attribute__((always_inline)) void                            \
ck_##P##_ra_body(const int R, const int U, long k, const T *a, const long lda, const T *b,    \
                 const long ldb, T *c, long rsc, T alpha_in, T beta_in, int m, int n) {       \
    volatile T ab[2] = {alpha_in, beta_in};                                                   \
    V acc[24];                                                                                \
    for (int i = 0; i < 24; i++) acc[i] = SETZERO();                                          \
    for (int r = 0; r < R; r++) {                                                             \
        _mm_prefetch((const char *)(c + r * rsc), _MM_HINT_T0);                               \
        _mm_prefetch((const char *)(c + r * rsc + 2 * W - 1), _MM_HINT_T0);                   \
    }                                                                                         \
    /* row bases 3 rows apart; the other rows are base + lda or + 2 lda (scaled-index         \
     * addressing when lda is not a constant), so the loop advances four pointers, not twelve */ \
    const T *base[4] = {a, a + 3 * lda, a + 6 * lda, a + 9 * lda};                            \
    long p = 0;                                                                               \
    if (U == 4)                                                                               \
        for (; p + 4 <= k; p += 4) {                                                          \
            KSTEP(0) KSTEP(1) KSTEP(2) KSTEP(3)                                               \
            for (int i = 0; i < 4; i++) base[i] += 4;                                         \
            b += 4 * ldb;                                                                     \
        }                                                                                     \
    for (; p < k; p++) {                                                                      \
        KSTEP(0)                                                                              \
        for (int i = 0; i < 4; i++) base[i]++;                                                \
        b += ldb;                                                                             \
    }                                                                                         \
    STORE(acc, c, rsc, ab[0], ab[1], m, n);                                                   \
}                                                                                             \
CK_TARGET_AVX512 __attribute__((noinline)) static void                                        \
ck_##P##ukr_avx512_4x##NR##_ra(long k, const T *a, long lda, const T *b, long ldb, T *c, long rsc, \
                               T alpha, T beta, int m, int n) {                               \
    ck_##P##_ra_body(4, 1, k, a, lda, b, ldb, c, rsc, alpha, beta, m, n);                     \
}                                                                                             \
CK_TARGET_AVX512 __attribute__((noinline)) static void                                        \
ck_##P##ukr_avx512_8x##NR##_ra(long k, const T *a, long lda, const T *b, long ldb, T *c, long rsc, \
                               T alpha, T beta, int m, int n) {                               \
    ck_##P##_ra_body(8, 1, k, a, lda, b, ldb, c, rsc, alpha, beta, m, n);                     \
}                                                                                             \
CK_TARGET_AVX512 static void                                                                  \
ck_##P##ukr_avx512_12x##NR##_ra(long k, const T *a, long lda, const T *b, long ldb, T *c, long rsc, \
                                T alpha, T beta, int m, int n) {                              \
    if (m <= 4) {                                                                             \
        ck_##P##ukr_avx512_4x##NR##_ra(k, a, lda, b, ldb, c, rsc, alpha, beta, m, n);         \
        return;                                                                               \
    }                                                                                         \
    if (m <= 8) {                                                                             \
        ck_##P##ukr_avx512_8x##NR##_ra(k, a, lda, b, ldb, c, rsc, alpha, beta, m, n);         \
        return;                                                                               \
    }                                                                                         \
    if (lda == LDA && ldb == NR)                                                              \
        ck_##P##_ra_body(12, 4, k, a, LDA, b, NR, c, rsc, alpha, beta, m, n);                 \
    else                                                                                      \
        ck_##P##_ra_body(12, 1, k, a, lda, b, ldb, c, rsc, alpha, beta, m, n);                \
}

#define CK_S_RA_KSTEP(u) CK_RA_KSTEP(__m512, 16, _mm512_loadu_ps, _mm512_set1_ps, _mm512_fmadd_ps, u)
CK_RA_KERNELS(s, float, __m512, 16, 32, CK_S_RA_LDA, _mm512_setzero_ps, ck_s12x32_store, CK_S_RA_KSTEP)

CK_TARGET_AVX512
static void ck_dukr_avx512_12x16(long k, const double *a, const double *b, double *c, long rsc,
                                 double alpha_in, double beta_in, int m, int n) {
    /* alpha and beta wait in memory during the k loop: kept in registers, they push GCC into
     * spilling a B vector inside the loop (clang is unaffected) */
    volatile double ab[2] = {alpha_in, beta_in};
#define DECL(r) __m512d c##r##a = _mm512_setzero_pd(), c##r##b = _mm512_setzero_pd();
    CK_R12(DECL)
#undef DECL
#define PF(r) _mm_prefetch((const char *)(c + (r) * rsc), _MM_HINT_T0); \
              _mm_prefetch((const char *)(c + (r) * rsc + 15), _MM_HINT_T0);
    CK_R12(PF)
#undef PF
    for (long p = 0; p < k; p++) {
        __m512d b0 = _mm512_load_pd(b), b1 = _mm512_load_pd(b + 8);
#define STEP(r) { __m512d ar = _mm512_set1_pd(a[r]); \
                  c##r##a = _mm512_fmadd_pd(ar, b0, c##r##a); \
                  c##r##b = _mm512_fmadd_pd(ar, b1, c##r##b); }
        CK_R12(STEP)
#undef STEP
        a += 12;
        b += 16;
    }
    const double alpha = ab[0], beta = ab[1];
    __m512d va = _mm512_set1_pd(alpha);
    __m512d vb = _mm512_set1_pd(beta);
    if (m == 12 && n == 16) {
        if (beta == 0.0) {
#define ST(r) _mm512_storeu_pd(c + (r) * rsc, _mm512_mul_pd(va, c##r##a)); \
              _mm512_storeu_pd(c + (r) * rsc + 8, _mm512_mul_pd(va, c##r##b));
            CK_R12(ST)
#undef ST
        } else {
#define ST(r) _mm512_storeu_pd(c + (r) * rsc, _mm512_fmadd_pd(vb, _mm512_loadu_pd(c + (r) * rsc), \
                                                               _mm512_mul_pd(va, c##r##a))); \
              _mm512_storeu_pd(c + (r) * rsc + 8, \
                               _mm512_fmadd_pd(vb, _mm512_loadu_pd(c + (r) * rsc + 8), \
                                               _mm512_mul_pd(va, c##r##b)));
            CK_R12(ST)
#undef ST
        }
    } else {
        __mmask8 k0 = (__mmask8)(n >= 8 ? 0xFF : (1u << n) - 1);
        __mmask8 k1 = (__mmask8)(n >= 16 ? 0xFF : n <= 8 ? 0 : (1u << (n - 8)) - 1);
#define ST(r) if ((r) < m) { \
            double *cr = c + (r) * rsc; \
            __m512d v0 = _mm512_mul_pd(va, c##r##a), v1 = _mm512_mul_pd(va, c##r##b); \
            if (beta != 0.0) { \
                v0 = _mm512_fmadd_pd(vb, _mm512_maskz_loadu_pd(k0, cr), v0); \
                v1 = _mm512_fmadd_pd(vb, _mm512_maskz_loadu_pd(k1, cr + 8), v1); \
            } \
            _mm512_mask_storeu_pd(cr, k0, v0); \
            _mm512_mask_storeu_pd(cr + 8, k1, v1); \
        }
        CK_R12(ST)
#undef ST
    }
}

/* Stores the m x n corner of a 12x16 double tile: C = alpha * acc + beta * C (C not read
 * when beta == 0). acc[2r], acc[2r+1] hold row r. */
CK_TARGET_AVX512 static inline __attribute__((always_inline)) void
ck_d12x16_store(const __m512d acc[24], double *c, long rsc, double alpha, double beta, int m, int n) {
    __m512d va = _mm512_set1_pd(alpha);
    __m512d vb = _mm512_set1_pd(beta);
    if (m == 12 && n == 16) {
        if (beta == 0.0) {
#define ST(r) _mm512_storeu_pd(c + (r) * rsc, _mm512_mul_pd(va, acc[2 * (r)])); \
              _mm512_storeu_pd(c + (r) * rsc + 8, _mm512_mul_pd(va, acc[2 * (r) + 1]));
            CK_R12(ST)
#undef ST
        } else {
#define ST(r) _mm512_storeu_pd(c + (r) * rsc, _mm512_fmadd_pd(vb, _mm512_loadu_pd(c + (r) * rsc), \
                                                               _mm512_mul_pd(va, acc[2 * (r)]))); \
              _mm512_storeu_pd(c + (r) * rsc + 8, \
                               _mm512_fmadd_pd(vb, _mm512_loadu_pd(c + (r) * rsc + 8), \
                                               _mm512_mul_pd(va, acc[2 * (r) + 1])));
            CK_R12(ST)
#undef ST
        }
    } else {
        __mmask8 k0 = (__mmask8)(n >= 8 ? 0xFF : (1u << n) - 1);
        __mmask8 k1 = (__mmask8)(n >= 16 ? 0xFF : n <= 8 ? 0 : (1u << (n - 8)) - 1);
#define ST(r) if ((r) < m) { \
            double *cr = c + (r) * rsc; \
            __m512d v0 = _mm512_mul_pd(va, acc[2 * (r)]), v1 = _mm512_mul_pd(va, acc[2 * (r) + 1]); \
            if (beta != 0.0) { \
                v0 = _mm512_fmadd_pd(vb, _mm512_maskz_loadu_pd(k0, cr), v0); \
                v1 = _mm512_fmadd_pd(vb, _mm512_maskz_loadu_pd(k1, cr + 8), v1); \
            } \
            _mm512_mask_storeu_pd(cr, k0, v0); \
            _mm512_mask_storeu_pd(cr + 8, k1, v1); \
        }
        CK_R12(ST)
#undef ST
    }
}

/* The double kernels (12x16 tiles). */
#define CK_D_RA_KSTEP(u) CK_RA_KSTEP(__m512d, 8, _mm512_loadu_pd, _mm512_set1_pd, _mm512_fmadd_pd, u)
CK_RA_KERNELS(d, double, __m512d, 8, 16, CK_D_RA_LDA, _mm512_setzero_pd, ck_d12x16_store, CK_D_RA_KSTEP)

/* ---- packing ---- */

/* Transposes the 16x16 block held in r[0..15] (row i in r[i]) in place. */
CK_TARGET_AVX512 static inline __attribute__((always_inline)) void ck_tr16x16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        r[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        r[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        r[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    /* r[4i + j], 128-bit lane L, now holds column 4L + j of rows 4i .. 4i+3 */
    for (int j = 0; j < 4; j++) {
        __m512 u0 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x44);
        __m512 u1 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xEE);
        __m512 v0 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x44);
        __m512 v1 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xEE);
        t[j] = _mm512_shuffle_f32x4(u0, v0, 0x88);
        t[4 + j] = _mm512_shuffle_f32x4(u0, v0, 0xDD);
        t[8 + j] = _mm512_shuffle_f32x4(u1, v1, 0x88);
        t[12 + j] = _mm512_shuffle_f32x4(u1, v1, 0xDD);
    }
    for (int i = 0; i < 16; i++) r[i] = t[i];
}

/* Lane mask of the first n (0..16) lanes. */
static inline __mmask16 ck_m16(int n) { return (__mmask16)(n >= 16 ? 0xFFFF : n <= 0 ? 0 : (1u << n) - 1); }

/* `rows` (<= 12) rows of a row-major A: dst[p*12 + r] = a[r*rsA + p], zero past rows */
CK_TARGET_AVX512 static void ck_spack_a_rm_avx512(long kb, const float *a, long rsA, float *dst, int rows) {
    long p = 0;
    for (; p + 16 <= kb; p += 16) {
        __m512 r[16];
        for (int i = 0; i < 16; i++) r[i] = i < rows ? _mm512_loadu_ps(a + i * rsA + p) : _mm512_setzero_ps();
        ck_tr16x16(r);
        for (int j = 0; j < 16; j++) _mm512_mask_storeu_ps(dst + (p + j) * 12, 0x0FFF, r[j]);
    }
    for (; p < kb; p++)
        for (int i = 0; i < 12; i++) dst[p * 12 + i] = i < rows ? a[i * rsA + p] : 0.0f;
}

/* `rows` rows of a column-major A: dst[p*12 + r] = a[p*csA + r] */
CK_TARGET_AVX512 static void ck_spack_a_cm_avx512(long kb, const float *a, long csA, float *dst, int rows) {
    __mmask16 m = ck_m16(rows);
    for (long p = 0; p < kb; p++)
        _mm512_mask_storeu_ps(dst + p * 12, 0x0FFF, _mm512_maskz_loadu_ps(m, a + p * csA));
}

/* `cols` (<= 32) columns of a row-major B: dst[p*32 + c] = b[p*rsB + c] */
CK_TARGET_AVX512 static void ck_spack_b_rm_avx512(long kb, const float *b, long rsB, float *dst, int cols) {
    if (cols == 32) {
        for (long p = 0; p < kb; p++) {
            _mm512_store_ps(dst + p * 32, _mm512_loadu_ps(b + p * rsB));
            _mm512_store_ps(dst + p * 32 + 16, _mm512_loadu_ps(b + p * rsB + 16));
        }
        return;
    }
    __mmask16 m0 = ck_m16(cols), m1 = ck_m16(cols - 16);
    for (long p = 0; p < kb; p++) {
        _mm512_store_ps(dst + p * 32, _mm512_maskz_loadu_ps(m0, b + p * rsB));
        _mm512_store_ps(dst + p * 32 + 16, _mm512_maskz_loadu_ps(m1, b + p * rsB + 16));
    }
}

/* `cols` columns of a column-major B: dst[p*32 + c] = b[c*csB + p] */
CK_TARGET_AVX512 static void ck_spack_b_cm_avx512(long kb, const float *b, long csB, float *dst, int cols) {
    long p = 0;
    for (; p + 16 <= kb; p += 16)
        for (int h = 0; h < 2; h++) {
            __m512 r[16];
            for (int i = 0; i < 16; i++)
                r[i] = 16 * h + i < cols ? _mm512_loadu_ps(b + (16 * h + i) * csB + p) : _mm512_setzero_ps();
            ck_tr16x16(r);
            for (int j = 0; j < 16; j++) _mm512_store_ps(dst + (p + j) * 32 + 16 * h, r[j]);
        }
    for (; p < kb; p++)
        for (int c = 0; c < 32; c++) dst[p * 32 + c] = c < cols ? b[c * csB + p] : 0.0f;
}


/* Transposes the 8x8 double block in r[0..7] in place. */
CK_TARGET_AVX512 static inline __attribute__((always_inline)) void ck_tr8x8d(__m512d r[8]) {
    __m512d t[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm512_unpacklo_pd(r[2 * i], r[2 * i + 1]);     /* lane L: column 2L */
        t[2 * i + 1] = _mm512_unpackhi_pd(r[2 * i], r[2 * i + 1]); /* lane L: column 2L+1 */
    }
    for (int e = 0; e < 2; e++) {
        __m512d u0 = _mm512_shuffle_f64x2(t[e], t[2 + e], 0x44);
        __m512d u1 = _mm512_shuffle_f64x2(t[e], t[2 + e], 0xEE);
        __m512d v0 = _mm512_shuffle_f64x2(t[4 + e], t[6 + e], 0x44);
        __m512d v1 = _mm512_shuffle_f64x2(t[4 + e], t[6 + e], 0xEE);
        r[e] = _mm512_shuffle_f64x2(u0, v0, 0x88);
        r[2 + e] = _mm512_shuffle_f64x2(u0, v0, 0xDD);
        r[4 + e] = _mm512_shuffle_f64x2(u1, v1, 0x88);
        r[6 + e] = _mm512_shuffle_f64x2(u1, v1, 0xDD);
    }
}

/* `rows` (<= 12) rows of a row-major A (double): dst[p*12 + r] = a[r*rsA + p] */
CK_TARGET_AVX512 static void ck_dpack_a_rm_avx512(long kb, const double *a, long rsA, double *dst, int rows) {
    long p = 0;
    for (; p + 8 <= kb; p += 8) {
        __m512d lo[8], hi[8];
        for (int i = 0; i < 8; i++) lo[i] = i < rows ? _mm512_loadu_pd(a + i * rsA + p) : _mm512_setzero_pd();
        for (int i = 0; i < 8; i++)
            hi[i] = i < 4 && 8 + i < rows ? _mm512_loadu_pd(a + (8 + i) * rsA + p) : _mm512_setzero_pd();
        ck_tr8x8d(lo);
        ck_tr8x8d(hi);
        for (int j = 0; j < 8; j++) {
            _mm512_storeu_pd(dst + (p + j) * 12, lo[j]);
            _mm512_mask_storeu_pd(dst + (p + j) * 12 + 8, 0x0F, hi[j]);
        }
    }
    for (; p < kb; p++)
        for (int i = 0; i < 12; i++) dst[p * 12 + i] = i < rows ? a[i * rsA + p] : 0.0;
}

static inline __mmask8 ck_m8(int n) { return (__mmask8)(n >= 8 ? 0xFF : n <= 0 ? 0 : (1u << n) - 1); }

CK_TARGET_AVX512 static void ck_dpack_a_cm_avx512(long kb, const double *a, long csA, double *dst, int rows) {
    __mmask8 m0 = ck_m8(rows), m1 = (__mmask8)(ck_m8(rows - 8) & 0x0F);
    for (long p = 0; p < kb; p++) {
        _mm512_storeu_pd(dst + p * 12, _mm512_maskz_loadu_pd(m0, a + p * csA));
        _mm512_mask_storeu_pd(dst + p * 12 + 8, 0x0F, _mm512_maskz_loadu_pd(m1, a + p * csA + 8));
    }
}

CK_TARGET_AVX512 static void ck_dpack_b_rm_avx512(long kb, const double *b, long rsB, double *dst, int cols) {
    __mmask8 m0 = ck_m8(cols), m1 = ck_m8(cols - 8);
    for (long p = 0; p < kb; p++) {
        _mm512_store_pd(dst + p * 16, _mm512_maskz_loadu_pd(m0, b + p * rsB));
        _mm512_store_pd(dst + p * 16 + 8, _mm512_maskz_loadu_pd(m1, b + p * rsB + 8));
    }
}

/* `cols` (<= 16) columns of a column-major B (double): dst[p*16 + c] = b[c*csB + p] */
CK_TARGET_AVX512 static void ck_dpack_b_cm_avx512(long kb, const double *b, long csB, double *dst, int cols) {
    long p = 0;
    for (; p + 8 <= kb; p += 8)
        for (int h = 0; h < 2; h++) {
            __m512d r[8];
            for (int i = 0; i < 8; i++)
                r[i] = 8 * h + i < cols ? _mm512_loadu_pd(b + (8 * h + i) * csB + p) : _mm512_setzero_pd();
            ck_tr8x8d(r);
            for (int j = 0; j < 8; j++) _mm512_store_pd(dst + (p + j) * 16 + 8 * h, r[j]);
        }
    for (; p < kb; p++)
        for (int c = 0; c < 16; c++) dst[p * 16 + c] = c < cols ? b[c * csB + p] : 0.0;
}

/* ---- direct convolution tiles (ck_conv.c's ckernels_sconv2d_direct) ----
 * R output channels (rows of A, stride lda) by 32 output columns: acc(r, t) is the sum over
 * p < k, in order, of a[r*lda + p] * b[off[p] + t] by fused multiply-adds, the rows of B coming
 * from an offset table instead of a fixed stride (the window positions of the padded image);
 * then out[r*ldo + t] = acc(r, t) [+ bias[r]] for t < n. R is a constant for each instantiation,
 * so every row read is a row of A (the weights are read in place, without zero rows) and the
 * accumulators stay in registers. off holds 8 entries past k (for the prefetches). */
CK_TARGET_AVX512 static inline __attribute__((always_inline)) void
ck_sconv_body(const int R, long k, const float *a, const long lda, const long *off, const float *b,
              const float *bias, float *out, long ldo, int n) {
    __m512 acc[24];
    for (int i = 0; i < 24; i++) acc[i] = _mm512_setzero_ps();
    const float *base[4] = {a, a + 3 * lda, a + 6 * lda, a + 9 * lda};
    for (long p = 0; p < k; p++) {
        const float *bp = b + off[p], *pf = b + off[p + 8];
        _mm_prefetch((const char *)pf, _MM_HINT_T0);
        _mm_prefetch((const char *)(pf + 31), _MM_HINT_T0);
        __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16);
#define CK_CONV_STEP(r) CK_RA_STEP(__m512, _mm512_set1_ps, _mm512_fmadd_ps, r, 0)
        CK_R12(CK_CONV_STEP)
#undef CK_CONV_STEP
        for (int i = 0; i < 4; i++) base[i]++;
    }
    const __mmask16 k0 = (__mmask16)(n >= 16 ? 0xFFFF : (1u << n) - 1);
    const __mmask16 k1 = (__mmask16)(n >= 32 ? 0xFFFF : n <= 16 ? 0 : (1u << (n - 16)) - 1);
#define ST(r) if ((r) < R) { \
        __m512 v0 = acc[2 * (r)], v1 = acc[2 * (r) + 1]; \
        if (bias != NULL) { \
            const __m512 bv = _mm512_set1_ps(bias[r]); \
            v0 = _mm512_add_ps(v0, bv); \
            v1 = _mm512_add_ps(v1, bv); \
        } \
        _mm512_mask_storeu_ps(out + (r) * ldo, k0, v0); \
        _mm512_mask_storeu_ps(out + (r) * ldo + 16, k1, v1); \
    }
    CK_R12(ST)
#undef ST
}

#define CK_SCONV_TILE(R)                                                                           \
    CK_TARGET_AVX512 __attribute__((noinline)) static void ck_sconv_tile##R(                       \
        long k, const float *a, long lda, const long *off, const float *b, const float *bias,      \
        float *out, long ldo, int n) {                                                             \
        ck_sconv_body(R, k, a, lda, off, b, bias, out, ldo, n);                                    \
    }
CK_SCONV_TILE(1) CK_SCONV_TILE(2) CK_SCONV_TILE(3) CK_SCONV_TILE(4) CK_SCONV_TILE(5) CK_SCONV_TILE(6)
CK_SCONV_TILE(7) CK_SCONV_TILE(8) CK_SCONV_TILE(9) CK_SCONV_TILE(10) CK_SCONV_TILE(11) CK_SCONV_TILE(12)
#undef CK_SCONV_TILE

void ck_sconv_tile_avx512(int m, long k, const float *a, long lda, const long *off, const float *b,
                          const float *bias, float *out, long ldo, int n) {
    typedef void (*tile_fn)(long, const float *, long, const long *, const float *, const float *,
                            float *, long, int);
    static const tile_fn tiles[12] = {ck_sconv_tile1, ck_sconv_tile2, ck_sconv_tile3, ck_sconv_tile4,
                                      ck_sconv_tile5, ck_sconv_tile6, ck_sconv_tile7, ck_sconv_tile8,
                                      ck_sconv_tile9, ck_sconv_tile10, ck_sconv_tile11, ck_sconv_tile12};
    tiles[m - 1](k, a, lda, off, b, bias, out, ldo, n);
}

static const ck_sgemm_desc ck_sdesc_avx512 = {12, 32, 256, 240, 4096, ck_sukr_avx512_12x32, 1, 1,
                                              ck_spack_a_rm_avx512, ck_spack_a_cm_avx512,
                                              ck_spack_b_rm_avx512, ck_spack_b_cm_avx512,
                                              ck_sukr_avx512_12x32_ra, 4};
static const ck_dgemm_desc ck_ddesc_avx512 = {12, 16, 256, 120, 2048, ck_dukr_avx512_12x16, 1, 1,
                                              ck_dpack_a_rm_avx512, ck_dpack_a_cm_avx512,
                                              ck_dpack_b_rm_avx512, ck_dpack_b_cm_avx512,
                                              ck_dukr_avx512_12x16_ra, 4};
const ck_sgemm_desc *ck_sgemm_desc_avx512(void) { return &ck_sdesc_avx512; }
const ck_dgemm_desc *ck_dgemm_desc_avx512(void) { return &ck_ddesc_avx512; }

#endif /* CK_X86 */
