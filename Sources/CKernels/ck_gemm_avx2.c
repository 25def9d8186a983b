/* AVX2 + FMA GEMM micro-kernels: 6x16 (float) and 6x8 (double), 12 ymm accumulators. */
#include "ck_internal.h"

#if CK_X86
#include <immintrin.h>

#define CK_R6(X) X(0) X(1) X(2) X(3) X(4) X(5)

CK_TARGET_AVX2
static void ck_sukr_avx2_6x16(long k, const float *a, const float *b, float *c, long rsc,
                              float alpha, float beta) {
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
    __m256 va = _mm256_set1_ps(alpha);
    if (beta == 0.0f) {
#define ST(r) _mm256_storeu_ps(c + (r) * rsc, _mm256_mul_ps(va, c##r##a)); \
              _mm256_storeu_ps(c + (r) * rsc + 8, _mm256_mul_ps(va, c##r##b));
        CK_R6(ST)
#undef ST
    } else {
        __m256 vb = _mm256_set1_ps(beta);
#define ST(r) _mm256_storeu_ps(c + (r) * rsc, _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + (r) * rsc), \
                                                               _mm256_mul_ps(va, c##r##a))); \
              _mm256_storeu_ps(c + (r) * rsc + 8, \
                               _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + (r) * rsc + 8), \
                                               _mm256_mul_ps(va, c##r##b)));
        CK_R6(ST)
#undef ST
    }
}

CK_TARGET_AVX2
static void ck_dukr_avx2_6x8(long k, const double *a, const double *b, double *c, long rsc,
                             double alpha, double beta) {
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
    __m256d va = _mm256_set1_pd(alpha);
    if (beta == 0.0) {
#define ST(r) _mm256_storeu_pd(c + (r) * rsc, _mm256_mul_pd(va, c##r##a)); \
              _mm256_storeu_pd(c + (r) * rsc + 4, _mm256_mul_pd(va, c##r##b));
        CK_R6(ST)
#undef ST
    } else {
        __m256d vb = _mm256_set1_pd(beta);
#define ST(r) _mm256_storeu_pd(c + (r) * rsc, _mm256_fmadd_pd(vb, _mm256_loadu_pd(c + (r) * rsc), \
                                                               _mm256_mul_pd(va, c##r##a))); \
              _mm256_storeu_pd(c + (r) * rsc + 4, \
                               _mm256_fmadd_pd(vb, _mm256_loadu_pd(c + (r) * rsc + 4), \
                                               _mm256_mul_pd(va, c##r##b)));
        CK_R6(ST)
#undef ST
    }
}

/* Blocks for a 32-48K L1 and 512K-2M L2: kc x 16 floats = 16K, mc x kc = 168K. */
static const ck_sgemm_desc ck_sdesc_avx2 = {6, 16, 256, 168, 4096, ck_sukr_avx2_6x16};
static const ck_dgemm_desc ck_ddesc_avx2 = {6, 8, 256, 96, 2048, ck_dukr_avx2_6x8};
const ck_sgemm_desc *ck_sgemm_desc_avx2(void) { return &ck_sdesc_avx2; }
const ck_dgemm_desc *ck_dgemm_desc_avx2(void) { return &ck_ddesc_avx2; }

#endif /* CK_X86 */
