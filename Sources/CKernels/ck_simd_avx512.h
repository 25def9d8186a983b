/* The SIMD vocabulary of ck_vec_impl.inc, for AVX-512 F/DQ/BW/VL (16 floats / 8 doubles). */
#include <immintrin.h>

#define CK_VT CK_TARGET_AVX512 static inline __attribute__((always_inline))
#define CK_VF_W 16
#define CK_VD_W 8
#define CK_ISA_SUFFIX(x) x##_avx512

typedef __m512 vf;
typedef __mmask16 vfm;
typedef __m512i vfi;
typedef __m512d vd;
typedef __mmask8 vdm;
typedef __m512i vdi;

CK_VT vf vf_load(const float *p) { return _mm512_loadu_ps(p); }
CK_VT void vf_store(float *p, vf v) { _mm512_storeu_ps(p, v); }
CK_VT vf vf_set1(float a) { return _mm512_set1_ps(a); }
CK_VT vf vf_add(vf a, vf b) { return _mm512_add_ps(a, b); }
CK_VT vf vf_sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
CK_VT vf vf_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
CK_VT vf vf_div(vf a, vf b) { return _mm512_div_ps(a, b); }
CK_VT vf vf_sqrt(vf a) { return _mm512_sqrt_ps(a); }
CK_VT vf vf_fma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
CK_VT vf vf_fnma(vf a, vf b, vf c) { return _mm512_fnmadd_ps(a, b, c); }
CK_VT vf vf_max(vf a, vf b) { return _mm512_max_ps(a, b); }
CK_VT vf vf_min(vf a, vf b) { return _mm512_min_ps(a, b); }
CK_VT vf vf_and(vf a, vf b) { return _mm512_and_ps(a, b); }
CK_VT vf vf_or(vf a, vf b) { return _mm512_or_ps(a, b); }
CK_VT vf vf_xor(vf a, vf b) { return _mm512_xor_ps(a, b); }
CK_VT vf vf_round(vf a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
CK_VT vf vf_floor(vf a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
CK_VT vf vf_ceil(vf a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC); }
CK_VT vf vf_trunc(vf a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC); }
CK_VT vfm vf_lt(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
CK_VT vfm vf_le(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
CK_VT vfm vf_eq(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
CK_VT vfm vf_unord(vf a, vf b) { return _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q); }
CK_VT vfm vfm_or(vfm a, vfm b) { return (vfm)(a | b); }
CK_VT vfm vfm_none(void) { return 0; }
CK_VT vf vf_sel(vfm m, vf t, vf f) { return _mm512_mask_blend_ps(m, f, t); }
CK_VT int vfm_any(vfm m) { return m != 0; }
CK_VT vfi vf_as_i(vf a) { return _mm512_castps_si512(a); }
CK_VT vf vi_as_f(vfi a) { return _mm512_castsi512_ps(a); }
CK_VT vfi vf_cvt_i(vf a) { return _mm512_cvtps_epi32(a); }
CK_VT vf vfi_cvt_f(vfi a) { return _mm512_cvtepi32_ps(a); }
CK_VT vfi vfi_set1(int a) { return _mm512_set1_epi32(a); }
CK_VT vfi vfi_add(vfi a, vfi b) { return _mm512_add_epi32(a, b); }
CK_VT vfi vfi_sub(vfi a, vfi b) { return _mm512_sub_epi32(a, b); }
CK_VT vfi vfi_and(vfi a, vfi b) { return _mm512_and_si512(a, b); }
#define vfi_srai(a, n) _mm512_srai_epi32((a), (n))
#define vfi_slli(a, n) _mm512_slli_epi32((a), (n))
/* t[i & 31] in each lane (t: 32 floats): both halves in registers, one two-source permute. */
CK_VT vf vf_lut32(const float *t, vfi i) {
    return _mm512_permutex2var_ps(_mm512_loadu_ps(t), i, _mm512_loadu_ps(t + 16));
}

CK_VT vd vd_load(const double *p) { return _mm512_loadu_pd(p); }
CK_VT void vd_store(double *p, vd v) { _mm512_storeu_pd(p, v); }
CK_VT vd vd_set1(double a) { return _mm512_set1_pd(a); }
CK_VT vd vd_add(vd a, vd b) { return _mm512_add_pd(a, b); }
CK_VT vd vd_sub(vd a, vd b) { return _mm512_sub_pd(a, b); }
CK_VT vd vd_mul(vd a, vd b) { return _mm512_mul_pd(a, b); }
CK_VT vd vd_div(vd a, vd b) { return _mm512_div_pd(a, b); }
CK_VT vd vd_sqrt(vd a) { return _mm512_sqrt_pd(a); }
CK_VT vd vd_fma(vd a, vd b, vd c) { return _mm512_fmadd_pd(a, b, c); }
CK_VT vd vd_fnma(vd a, vd b, vd c) { return _mm512_fnmadd_pd(a, b, c); }
CK_VT vd vd_max(vd a, vd b) { return _mm512_max_pd(a, b); }
CK_VT vd vd_min(vd a, vd b) { return _mm512_min_pd(a, b); }
CK_VT vd vd_and(vd a, vd b) { return _mm512_and_pd(a, b); }
CK_VT vd vd_or(vd a, vd b) { return _mm512_or_pd(a, b); }
CK_VT vd vd_xor(vd a, vd b) { return _mm512_xor_pd(a, b); }
CK_VT vd vd_round(vd a) { return _mm512_roundscale_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
CK_VT vd vd_floor(vd a) { return _mm512_roundscale_pd(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
CK_VT vd vd_ceil(vd a) { return _mm512_roundscale_pd(a, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC); }
CK_VT vd vd_trunc(vd a) { return _mm512_roundscale_pd(a, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC); }
/* CK_VD_W floats widened to doubles (exact), and doubles rounded to floats (nearest even) */
CK_VT vd vd_load_f(const float *p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
CK_VT void vd_store_f(float *p, vd v) { _mm256_storeu_ps(p, _mm512_cvtpd_ps(v)); }
/* Non-temporal stores (p aligned to the vector's size): the line goes to memory without being
 * read first. ck_elementwise.c uses them for outputs too large to stay in the last-level cache. */
#define CK_HAVE_STREAM 1
CK_VT void vf_store_nt(float *p, vf v) { _mm512_stream_ps(p, v); }
CK_VT void vd_store_nt(double *p, vd v) { _mm512_stream_pd(p, v); }
CK_VT void vd_store_f_nt(float *p, vd v) { _mm256_stream_ps(p, _mm512_cvtpd_ps(v)); }
CK_VT vdm vd_lt(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ); }
CK_VT vdm vd_le(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_LE_OQ); }
CK_VT vdm vd_eq(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_EQ_OQ); }
CK_VT vdm vd_unord(vd a, vd b) { return _mm512_cmp_pd_mask(a, b, _CMP_UNORD_Q); }
CK_VT vdm vdm_or(vdm a, vdm b) { return (vdm)(a | b); }
CK_VT vdm vdm_none(void) { return 0; }
CK_VT vd vd_sel(vdm m, vd t, vd f) { return _mm512_mask_blend_pd(m, f, t); }
CK_VT int vdm_any(vdm m) { return m != 0; }
CK_VT vdi vd_as_i(vd a) { return _mm512_castpd_si512(a); }
CK_VT vd vi_as_d(vdi a) { return _mm512_castsi512_pd(a); }
CK_VT vdi vdi_set1(long long a) { return _mm512_set1_epi64(a); }
CK_VT vdi vdi_add(vdi a, vdi b) { return _mm512_add_epi64(a, b); }
CK_VT vdi vdi_sub(vdi a, vdi b) { return _mm512_sub_epi64(a, b); }
CK_VT vdi vdi_and(vdi a, vdi b) { return _mm512_and_si512(a, b); }
#define vdi_srli(a, n) _mm512_srli_epi64((a), (n))
#define vdi_slli(a, n) _mm512_slli_epi64((a), (n))

/* u * 2^floor(n), rounded once (vscalef): same result as the generic ck_scalef */
#define CK_HAVE_SCALEF 1
CK_VT vf ck_scalef(vf u, vf n) { return _mm512_scalef_ps(u, n); }
CK_VT vd ck_scaled(vd u, vd n) { return _mm512_scalef_pd(u, n); }

/* ---- the fixed-order sum: 32 lanes ---- */
CK_VT float vf_fold16(vf v) { /* j + j+8, then j + j+4, j + j+2, j + j+1 */
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v),
                             _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    __m128 a = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    a = _mm_add_ps(a, _mm_movehl_ps(a, a));
    a = _mm_add_ss(a, _mm_movehdup_ps(a));
    return _mm_cvtss_f32(a);
}
CK_VT double vd_fold8(vd v) { /* j + j+4, j + j+2, j + j+1 */
    __m256d h = _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1));
    __m128d a = _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
    a = _mm_add_sd(a, _mm_unpackhi_pd(a, a));
    return _mm_cvtsd_f64(a);
}

CK_TARGET_AVX512 static float ck_ssum_block_avx512(const float *x, long n) {
    const vf z = vf_set1(-0.0f);
    vf a0 = z, a1 = z; /* lanes 0-15, 16-31 */
    long i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = vf_add(a0, vf_load(x + i));
        a1 = vf_add(a1, vf_load(x + i + 16));
    }
    if (i < n) {
        __mmask16 m0 = (__mmask16)(n - i >= 16 ? 0xFFFF : (1u << (n - i)) - 1);
        __mmask16 m1 = (__mmask16)(n - i >= 32 ? 0xFFFF : n - i <= 16 ? 0 : (1u << (n - i - 16)) - 1);
        a0 = vf_add(a0, _mm512_mask_loadu_ps(z, m0, x + i));
        a1 = vf_add(a1, _mm512_mask_loadu_ps(z, m1, x + i + 16));
    }
    return vf_fold16(vf_add(a0, a1)); /* j + j+16 */
}

CK_TARGET_AVX512 static double ck_dsum_block_avx512(const double *x, long n) {
    const vd z = vd_set1(-0.0);
    vd a0 = z, a1 = z, a2 = z, a3 = z; /* lanes 0-7, 8-15, 16-23, 24-31 */
    long i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = vd_add(a0, vd_load(x + i));
        a1 = vd_add(a1, vd_load(x + i + 8));
        a2 = vd_add(a2, vd_load(x + i + 16));
        a3 = vd_add(a3, vd_load(x + i + 24));
    }
    if (i < n) {
        double t[32];
        for (int j = 0; j < 32; j++) t[j] = i + j < n ? x[i + j] : -0.0;
        a0 = vd_add(a0, vd_load(t));
        a1 = vd_add(a1, vd_load(t + 8));
        a2 = vd_add(a2, vd_load(t + 16));
        a3 = vd_add(a3, vd_load(t + 24));
    }
    return vd_fold8(vd_add(vd_add(a0, a2), vd_add(a1, a3)));
}
#define CK_SSUM_BLOCK ck_ssum_block_avx512
#define CK_DSUM_BLOCK ck_dsum_block_avx512
