/* arm64 NEON GEMM micro-kernels: 8x12 (float) and 8x6 (double), 24 accumulators. */
#include "ck_internal.h"

#if CK_NEON
#include <arm_neon.h>

#define CK_R8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

static void ck_sukr_neon_8x12(long k, const float *a, const float *b, float *c, long rsc,
                              float alpha, float beta, int m, int n) {
    (void)m, (void)n; /* full tiles only (partial = 0) */
#define DECL(r) float32x4_t c##r##0 = vdupq_n_f32(0), c##r##1 = vdupq_n_f32(0), c##r##2 = vdupq_n_f32(0);
    CK_R8(DECL)
#undef DECL
    for (long p = 0; p < k; p++) {
        float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
        float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8);
#define STEP(r, av, l) c##r##0 = vfmaq_laneq_f32(c##r##0, b0, av, l); \
                       c##r##1 = vfmaq_laneq_f32(c##r##1, b1, av, l); \
                       c##r##2 = vfmaq_laneq_f32(c##r##2, b2, av, l);
        STEP(0, a0, 0) STEP(1, a0, 1) STEP(2, a0, 2) STEP(3, a0, 3)
        STEP(4, a1, 0) STEP(5, a1, 1) STEP(6, a1, 2) STEP(7, a1, 3)
#undef STEP
        a += 8;
        b += 12;
    }
#define ST1(r, j) { float *cp = c + (r) * rsc + 4 * (j); \
                    float32x4_t v = vmulq_n_f32(c##r##j, alpha); \
                    if (beta != 0.0f) v = vfmaq_n_f32(v, vld1q_f32(cp), beta); \
                    vst1q_f32(cp, v); }
#define ST(r) ST1(r, 0) ST1(r, 1) ST1(r, 2)
    CK_R8(ST)
#undef ST
#undef ST1
}

static void ck_dukr_neon_8x6(long k, const double *a, const double *b, double *c, long rsc,
                             double alpha, double beta, int m, int n) {
    (void)m, (void)n; /* full tiles only (partial = 0) */
#define DECL(r) float64x2_t c##r##0 = vdupq_n_f64(0), c##r##1 = vdupq_n_f64(0), c##r##2 = vdupq_n_f64(0);
    CK_R8(DECL)
#undef DECL
    for (long p = 0; p < k; p++) {
        float64x2_t a0 = vld1q_f64(a), a1 = vld1q_f64(a + 2), a2 = vld1q_f64(a + 4), a3 = vld1q_f64(a + 6);
        float64x2_t b0 = vld1q_f64(b), b1 = vld1q_f64(b + 2), b2 = vld1q_f64(b + 4);
#define STEP(r, av, l) c##r##0 = vfmaq_laneq_f64(c##r##0, b0, av, l); \
                       c##r##1 = vfmaq_laneq_f64(c##r##1, b1, av, l); \
                       c##r##2 = vfmaq_laneq_f64(c##r##2, b2, av, l);
        STEP(0, a0, 0) STEP(1, a0, 1) STEP(2, a1, 0) STEP(3, a1, 1)
        STEP(4, a2, 0) STEP(5, a2, 1) STEP(6, a3, 0) STEP(7, a3, 1)
#undef STEP
        a += 8;
        b += 6;
    }
#define ST1(r, j) { double *cp = c + (r) * rsc + 2 * (j); \
                    float64x2_t v = vmulq_n_f64(c##r##j, alpha); \
                    if (beta != 0.0) v = vfmaq_n_f64(v, vld1q_f64(cp), beta); \
                    vst1q_f64(cp, v); }
#define ST(r) ST1(r, 0) ST1(r, 1) ST1(r, 2)
    CK_R8(ST)
#undef ST
#undef ST1
}

/* Blocks for a 64-128K L1 and 1-4M L2 (Apple M-series, Neoverse N1/V1). */
static const ck_sgemm_desc ck_sdesc_neon = {8, 12, 256, 192, 4092, ck_sukr_neon_8x12, 0, 0,
                                            NULL, NULL, NULL, NULL, NULL, 0};
static const ck_dgemm_desc ck_ddesc_neon = {8, 6, 256, 96, 2046, ck_dukr_neon_8x6, 0, 0,
                                            NULL, NULL, NULL, NULL, NULL, 0};
const ck_sgemm_desc *ck_sgemm_desc_neon(void) { return &ck_sdesc_neon; }
const ck_dgemm_desc *ck_dgemm_desc_neon(void) { return &ck_ddesc_neon; }

#endif /* CK_NEON */
