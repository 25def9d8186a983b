/* AVX-512 GEMM micro-kernels: 12x32 (float) and 12x16 (double), 24 zmm accumulators. */
#include "ck_internal.h"

#if CK_X86
#include <immintrin.h>

#define CK_R12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

CK_TARGET_AVX512
static void ck_sukr_avx512_12x32(long k, const float *a, const float *b, float *c, long rsc,
                                 float alpha, float beta) {
#define DECL(r) __m512 c##r##a = _mm512_setzero_ps(), c##r##b = _mm512_setzero_ps();
    CK_R12(DECL)
#undef DECL
#define PF(r) _mm_prefetch((const char *)(c + (r) * rsc), _MM_HINT_T0); \
              _mm_prefetch((const char *)(c + (r) * rsc + 31), _MM_HINT_T0);
    CK_R12(PF)
#undef PF
    for (long p = 0; p < k; p++) {
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#define STEP(r) { __m512 ar = _mm512_set1_ps(a[r]); \
                  c##r##a = _mm512_fmadd_ps(ar, b0, c##r##a); \
                  c##r##b = _mm512_fmadd_ps(ar, b1, c##r##b); }
        CK_R12(STEP)
#undef STEP
        a += 12;
        b += 32;
    }
    __m512 va = _mm512_set1_ps(alpha);
    if (beta == 0.0f) {
#define ST(r) _mm512_storeu_ps(c + (r) * rsc, _mm512_mul_ps(va, c##r##a)); \
              _mm512_storeu_ps(c + (r) * rsc + 16, _mm512_mul_ps(va, c##r##b));
        CK_R12(ST)
#undef ST
    } else {
        __m512 vb = _mm512_set1_ps(beta);
#define ST(r) _mm512_storeu_ps(c + (r) * rsc, _mm512_fmadd_ps(vb, _mm512_loadu_ps(c + (r) * rsc), \
                                                               _mm512_mul_ps(va, c##r##a))); \
              _mm512_storeu_ps(c + (r) * rsc + 16, \
                               _mm512_fmadd_ps(vb, _mm512_loadu_ps(c + (r) * rsc + 16), \
                                               _mm512_mul_ps(va, c##r##b)));
        CK_R12(ST)
#undef ST
    }
}

CK_TARGET_AVX512
static void ck_dukr_avx512_12x16(long k, const double *a, const double *b, double *c, long rsc,
                                 double alpha, double beta) {
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
    __m512d va = _mm512_set1_pd(alpha);
    if (beta == 0.0) {
#define ST(r) _mm512_storeu_pd(c + (r) * rsc, _mm512_mul_pd(va, c##r##a)); \
              _mm512_storeu_pd(c + (r) * rsc + 8, _mm512_mul_pd(va, c##r##b));
        CK_R12(ST)
#undef ST
    } else {
        __m512d vb = _mm512_set1_pd(beta);
#define ST(r) _mm512_storeu_pd(c + (r) * rsc, _mm512_fmadd_pd(vb, _mm512_loadu_pd(c + (r) * rsc), \
                                                               _mm512_mul_pd(va, c##r##a))); \
              _mm512_storeu_pd(c + (r) * rsc + 8, \
                               _mm512_fmadd_pd(vb, _mm512_loadu_pd(c + (r) * rsc + 8), \
                                               _mm512_mul_pd(va, c##r##b)));
        CK_R12(ST)
#undef ST
    }
}

static const ck_sgemm_desc ck_sdesc_avx512 = {12, 32, 256, 240, 4096, ck_sukr_avx512_12x32};
static const ck_dgemm_desc ck_ddesc_avx512 = {12, 16, 256, 120, 2048, ck_dukr_avx512_12x16};
const ck_sgemm_desc *ck_sgemm_desc_avx512(void) { return &ck_sdesc_avx512; }
const ck_dgemm_desc *ck_dgemm_desc_avx512(void) { return &ck_ddesc_avx512; }

#endif /* CK_X86 */
