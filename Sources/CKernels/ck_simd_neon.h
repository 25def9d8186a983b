/* The SIMD vocabulary of ck_vec_impl.inc for arm64 Advanced SIMD (4 floats / 2 doubles). */
#include <arm_neon.h>

#define CK_VT static inline __attribute__((always_inline))
#define CK_VF_W 4
#define CK_VD_W 2
#define CK_ISA_SUFFIX(x) x##_neon

typedef float32x4_t vf;
typedef uint32x4_t vfm;
typedef int32x4_t vfi;
typedef float64x2_t vd;
typedef uint64x2_t vdm;
typedef int64x2_t vdi;

CK_VT vf vf_load(const float *p) { return vld1q_f32(p); }
CK_VT void vf_store(float *p, vf v) { vst1q_f32(p, v); }
CK_VT vf vf_set1(float a) { return vdupq_n_f32(a); }
CK_VT vf vf_add(vf a, vf b) { return vaddq_f32(a, b); }
CK_VT vf vf_sub(vf a, vf b) { return vsubq_f32(a, b); }
CK_VT vf vf_mul(vf a, vf b) { return vmulq_f32(a, b); }
CK_VT vf vf_div(vf a, vf b) { return vdivq_f32(a, b); }
CK_VT vf vf_sqrt(vf a) { return vsqrtq_f32(a); }
CK_VT vf vf_fma(vf a, vf b, vf c) { return vfmaq_f32(c, a, b); }
CK_VT vf vf_fnma(vf a, vf b, vf c) { return vfmsq_f32(c, a, b); }
/* x86 semantics (a > b ? a : b), so every ISA returns the same operand for NaN */
CK_VT vf vf_max(vf a, vf b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
CK_VT vf vf_min(vf a, vf b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
CK_VT vfi vf_as_i(vf a) { return vreinterpretq_s32_f32(a); }
CK_VT vf vi_as_f(vfi a) { return vreinterpretq_f32_s32(a); }
CK_VT vf vf_and(vf a, vf b) { return vi_as_f(vandq_s32(vf_as_i(a), vf_as_i(b))); }
CK_VT vf vf_or(vf a, vf b) { return vi_as_f(vorrq_s32(vf_as_i(a), vf_as_i(b))); }
CK_VT vf vf_xor(vf a, vf b) { return vi_as_f(veorq_s32(vf_as_i(a), vf_as_i(b))); }
CK_VT vf vf_round(vf a) { return vrndnq_f32(a); }
CK_VT vf vf_floor(vf a) { return vrndmq_f32(a); }
CK_VT vf vf_ceil(vf a) { return vrndpq_f32(a); }
CK_VT vf vf_trunc(vf a) { return vrndq_f32(a); }
CK_VT vfm vf_lt(vf a, vf b) { return vcltq_f32(a, b); }
CK_VT vfm vf_le(vf a, vf b) { return vcleq_f32(a, b); }
CK_VT vfm vf_eq(vf a, vf b) { return vceqq_f32(a, b); }
CK_VT vfm vf_unord(vf a, vf b) { return vmvnq_u32(vandq_u32(vceqq_f32(a, a), vceqq_f32(b, b))); }
CK_VT vfm vfm_or(vfm a, vfm b) { return vorrq_u32(a, b); }
CK_VT vfm vfm_none(void) { return vdupq_n_u32(0); }
CK_VT vf vf_sel(vfm m, vf t, vf f) { return vbslq_f32(m, t, f); }
CK_VT int vfm_any(vfm m) { return vmaxvq_u32(m) != 0; }
CK_VT vf vfi_cvt_f(vfi a) { return vcvtq_f32_s32(a); }
CK_VT vfi vfi_set1(int a) { return vdupq_n_s32(a); }
CK_VT vfi vfi_add(vfi a, vfi b) { return vaddq_s32(a, b); }
CK_VT vfi vfi_sub(vfi a, vfi b) { return vsubq_s32(a, b); }
CK_VT vfi vfi_and(vfi a, vfi b) { return vandq_s32(a, b); }
#define vfi_srai(a, n) vshrq_n_s32((a), (n))
#define vfi_slli(a, n) vshlq_n_s32((a), (n))
/* t[i & 31] in each lane (t: 32 floats): byte indices 4 (i & 31) + 0..3, looked up in the
 * first 64 bytes (tbl gives 0 beyond them) and then in the last 64 (tbx keeps the lanes whose
 * index, less 64, wrapped out of range). */
CK_VT vf vf_lut32(const float *t, vfi i) {
    uint32x4_t k = vandq_u32(vreinterpretq_u32_s32(i), vdupq_n_u32(31));
    uint8x16_t b = vreinterpretq_u8_u32(vmlaq_n_u32(vdupq_n_u32(0x03020100u), k, 0x04040404u));
    uint8x16_t r = vqtbl4q_u8(vld1q_u8_x4((const uint8_t *)t), b);
    r = vqtbx4q_u8(r, vld1q_u8_x4((const uint8_t *)(t + 16)), vsubq_u8(b, vdupq_n_u8(64)));
    return vreinterpretq_f32_u8(r);
}

CK_VT vd vd_load(const double *p) { return vld1q_f64(p); }
CK_VT void vd_store(double *p, vd v) { vst1q_f64(p, v); }
CK_VT vd vd_set1(double a) { return vdupq_n_f64(a); }
CK_VT vd vd_add(vd a, vd b) { return vaddq_f64(a, b); }
CK_VT vd vd_sub(vd a, vd b) { return vsubq_f64(a, b); }
CK_VT vd vd_mul(vd a, vd b) { return vmulq_f64(a, b); }
CK_VT vd vd_div(vd a, vd b) { return vdivq_f64(a, b); }
CK_VT vd vd_sqrt(vd a) { return vsqrtq_f64(a); }
CK_VT vd vd_fma(vd a, vd b, vd c) { return vfmaq_f64(c, a, b); }
CK_VT vd vd_fnma(vd a, vd b, vd c) { return vfmsq_f64(c, a, b); }
CK_VT vd vd_max(vd a, vd b) { return vbslq_f64(vcgtq_f64(a, b), a, b); }
CK_VT vd vd_min(vd a, vd b) { return vbslq_f64(vcltq_f64(a, b), a, b); }
CK_VT vdi vd_as_i(vd a) { return vreinterpretq_s64_f64(a); }
CK_VT vd vi_as_d(vdi a) { return vreinterpretq_f64_s64(a); }
CK_VT vd vd_and(vd a, vd b) { return vi_as_d(vandq_s64(vd_as_i(a), vd_as_i(b))); }
CK_VT vd vd_or(vd a, vd b) { return vi_as_d(vorrq_s64(vd_as_i(a), vd_as_i(b))); }
CK_VT vd vd_xor(vd a, vd b) { return vi_as_d(veorq_s64(vd_as_i(a), vd_as_i(b))); }
CK_VT vd vd_round(vd a) { return vrndnq_f64(a); }
CK_VT vd vd_floor(vd a) { return vrndmq_f64(a); }
CK_VT vd vd_ceil(vd a) { return vrndpq_f64(a); }
CK_VT vd vd_trunc(vd a) { return vrndq_f64(a); }
/* CK_VD_W floats widened to doubles (exact), and doubles rounded to floats (nearest even) */
CK_VT vd vd_load_f(const float *p) { return vcvt_f64_f32(vld1_f32(p)); }
CK_VT void vd_store_f(float *p, vd v) { vst1_f32(p, vcvt_f32_f64(v)); }
CK_VT vdm vd_lt(vd a, vd b) { return vcltq_f64(a, b); }
CK_VT vdm vd_le(vd a, vd b) { return vcleq_f64(a, b); }
CK_VT vdm vd_eq(vd a, vd b) { return vceqq_f64(a, b); }
CK_VT vdm vd_unord(vd a, vd b) {
    return vreinterpretq_u64_u32(vmvnq_u32(vreinterpretq_u32_u64(vandq_u64(vceqq_f64(a, a), vceqq_f64(b, b)))));
}
CK_VT vdm vdm_or(vdm a, vdm b) { return vorrq_u64(a, b); }
CK_VT vdm vdm_none(void) { return vdupq_n_u64(0); }
CK_VT vd vd_sel(vdm m, vd t, vd f) { return vbslq_f64(m, t, f); }
CK_VT int vdm_any(vdm m) { return vmaxvq_u32(vreinterpretq_u32_u64(m)) != 0; }
CK_VT vdi vdi_set1(long long a) { return vdupq_n_s64(a); }
CK_VT vdi vdi_add(vdi a, vdi b) { return vaddq_s64(a, b); }
CK_VT vdi vdi_sub(vdi a, vdi b) { return vsubq_s64(a, b); }
CK_VT vdi vdi_and(vdi a, vdi b) { return vandq_s64(a, b); }
#define vdi_srli(a, n) vreinterpretq_s64_u64(vshrq_n_u64(vreinterpretq_u64_s64(a), (n)))
#define vdi_slli(a, n) vshlq_n_s64((a), (n))

/* ---- the fixed-order sum: 32 lanes ---- */
static float ck_ssum_block_neon(const float *x, long n) {
    float32x4_t a[8]; /* a[q] holds lanes 4q .. 4q+3 */
    for (int q = 0; q < 8; q++) a[q] = vdupq_n_f32(-0.0f);
    long i = 0;
    for (; i + 32 <= n; i += 32)
        for (int q = 0; q < 8; q++) a[q] = vaddq_f32(a[q], vld1q_f32(x + i + 4 * q));
    if (i < n) {
        float t[32];
        for (int j = 0; j < 32; j++) t[j] = i + j < n ? x[i + j] : -0.0f;
        for (int q = 0; q < 8; q++) a[q] = vaddq_f32(a[q], vld1q_f32(t + 4 * q));
    }
    for (int q = 0; q < 4; q++) a[q] = vaddq_f32(a[q], a[q + 4]); /* j + j+16 */
    for (int q = 0; q < 2; q++) a[q] = vaddq_f32(a[q], a[q + 2]); /* j + j+8 */
    a[0] = vaddq_f32(a[0], a[1]);                                 /* j + j+4 */
    float32x2_t h = vadd_f32(vget_low_f32(a[0]), vget_high_f32(a[0])); /* j + j+2 */
    return vget_lane_f32(h, 0) + vget_lane_f32(h, 1);
}

static double ck_dsum_block_neon(const double *x, long n) {
    float64x2_t a[16]; /* a[q] holds lanes 2q, 2q+1 */
    for (int q = 0; q < 16; q++) a[q] = vdupq_n_f64(-0.0);
    long i = 0;
    for (; i + 32 <= n; i += 32)
        for (int q = 0; q < 16; q++) a[q] = vaddq_f64(a[q], vld1q_f64(x + i + 2 * q));
    if (i < n) {
        double t[32];
        for (int j = 0; j < 32; j++) t[j] = i + j < n ? x[i + j] : -0.0;
        for (int q = 0; q < 16; q++) a[q] = vaddq_f64(a[q], vld1q_f64(t + 2 * q));
    }
    for (int w = 8; w >= 1; w /= 2) /* j + j+16, j+8, j+4, j+2 */
        for (int q = 0; q < w; q++) a[q] = vaddq_f64(a[q], a[q + w]);
    return vgetq_lane_f64(a[0], 0) + vgetq_lane_f64(a[0], 1);
}
#define CK_SSUM_BLOCK ck_ssum_block_neon
#define CK_DSUM_BLOCK ck_dsum_block_neon
