/* The SIMD vocabulary of ck_vec_impl.inc with one lane, in portable C: the same algorithms,
 * and so the same results bit for bit, as the vector builds. fma() is exact everywhere (a
 * library call on CPUs without the instruction; this path only runs on such CPUs). */
#include <math.h>
#include <string.h>

#define CK_VT static inline
#define CK_VF_W 1
#define CK_VD_W 1
#define CK_ISA_SUFFIX(x) x##_scalar

typedef float vf;
typedef int vfm;
typedef int32_t vfi;
typedef double vd;
typedef int vdm;
typedef int64_t vdi;

CK_VT vf vf_load(const float *p) { return *p; }
CK_VT void vf_store(float *p, vf v) { *p = v; }
CK_VT vf vf_set1(float a) { return a; }
CK_VT vf vf_add(vf a, vf b) { return a + b; }
CK_VT vf vf_sub(vf a, vf b) { return a - b; }
CK_VT vf vf_mul(vf a, vf b) { return a * b; }
CK_VT vf vf_div(vf a, vf b) { return a / b; }
CK_VT vf vf_sqrt(vf a) { return sqrtf(a); }
CK_VT vf vf_fma(vf a, vf b, vf c) { return fmaf(a, b, c); }
CK_VT vf vf_fnma(vf a, vf b, vf c) { return fmaf(-a, b, c); }
CK_VT vf vf_max(vf a, vf b) { return a > b ? a : b; } /* x86 semantics: b when unordered */
CK_VT vf vf_min(vf a, vf b) { return a < b ? a : b; }
CK_VT vfi vf_as_i(vf a) { vfi i; memcpy(&i, &a, 4); return i; }
CK_VT vf vi_as_f(vfi a) { vf f; memcpy(&f, &a, 4); return f; }
CK_VT vf vf_and(vf a, vf b) { return vi_as_f(vf_as_i(a) & vf_as_i(b)); }
CK_VT vf vf_or(vf a, vf b) { return vi_as_f(vf_as_i(a) | vf_as_i(b)); }
CK_VT vf vf_xor(vf a, vf b) { return vi_as_f(vf_as_i(a) ^ vf_as_i(b)); }
CK_VT vf vf_round(vf a) { return rintf(a); } /* default rounding: nearest even */
CK_VT vf vf_floor(vf a) { return floorf(a); }
CK_VT vf vf_ceil(vf a) { return ceilf(a); }
CK_VT vf vf_trunc(vf a) { return truncf(a); }
CK_VT vfm vf_lt(vf a, vf b) { return a < b; }
CK_VT vfm vf_le(vf a, vf b) { return a <= b; }
CK_VT vfm vf_eq(vf a, vf b) { return a == b; }
CK_VT vfm vf_unord(vf a, vf b) { return a != a || b != b; }
CK_VT vfm vfm_or(vfm a, vfm b) { return a | b; }
CK_VT vfm vfm_none(void) { return 0; }
CK_VT vf vf_sel(vfm m, vf t, vf f) { return m ? t : f; }
CK_VT int vfm_any(vfm m) { return m; }
CK_VT vf vfi_cvt_f(vfi a) { return (float)a; }
CK_VT vfi vfi_set1(int a) { return a; }
CK_VT vfi vfi_add(vfi a, vfi b) { return (vfi)((uint32_t)a + (uint32_t)b); }
CK_VT vfi vfi_sub(vfi a, vfi b) { return (vfi)((uint32_t)a - (uint32_t)b); }
CK_VT vfi vfi_and(vfi a, vfi b) { return a & b; }
CK_VT vfi ck_srai32(vfi a, int n) { return a >= 0 ? a >> n : ~(~a >> n); }
#define vfi_srai(a, n) ck_srai32((a), (n))
#define vfi_slli(a, n) ((vfi)((uint32_t)(a) << (n)))
CK_VT vf vf_lut32(const float *t, vfi i) { return t[i & 31]; } /* t: 32 floats */

CK_VT vd vd_load(const double *p) { return *p; }
CK_VT void vd_store(double *p, vd v) { *p = v; }
CK_VT vd vd_set1(double a) { return a; }
CK_VT vd vd_add(vd a, vd b) { return a + b; }
CK_VT vd vd_sub(vd a, vd b) { return a - b; }
CK_VT vd vd_mul(vd a, vd b) { return a * b; }
CK_VT vd vd_div(vd a, vd b) { return a / b; }
CK_VT vd vd_sqrt(vd a) { return sqrt(a); }
CK_VT vd vd_fma(vd a, vd b, vd c) { return fma(a, b, c); }
CK_VT vd vd_fnma(vd a, vd b, vd c) { return fma(-a, b, c); }
CK_VT vd vd_max(vd a, vd b) { return a > b ? a : b; }
CK_VT vd vd_min(vd a, vd b) { return a < b ? a : b; }
CK_VT vdi vd_as_i(vd a) { vdi i; memcpy(&i, &a, 8); return i; }
CK_VT vd vi_as_d(vdi a) { vd f; memcpy(&f, &a, 8); return f; }
CK_VT vd vd_and(vd a, vd b) { return vi_as_d(vd_as_i(a) & vd_as_i(b)); }
CK_VT vd vd_or(vd a, vd b) { return vi_as_d(vd_as_i(a) | vd_as_i(b)); }
CK_VT vd vd_xor(vd a, vd b) { return vi_as_d(vd_as_i(a) ^ vd_as_i(b)); }
CK_VT vd vd_round(vd a) { return rint(a); }
CK_VT vd vd_floor(vd a) { return floor(a); }
CK_VT vd vd_ceil(vd a) { return ceil(a); }
CK_VT vd vd_trunc(vd a) { return trunc(a); }
/* a float widened to a double (exact), and a double rounded to a float (nearest even) */
CK_VT vd vd_load_f(const float *p) { return (double)*p; }
CK_VT void vd_store_f(float *p, vd v) { *p = (float)v; }
CK_VT vdm vd_lt(vd a, vd b) { return a < b; }
CK_VT vdm vd_le(vd a, vd b) { return a <= b; }
CK_VT vdm vd_eq(vd a, vd b) { return a == b; }
CK_VT vdm vd_unord(vd a, vd b) { return a != a || b != b; }
CK_VT vdm vdm_or(vdm a, vdm b) { return a | b; }
CK_VT vdm vdm_none(void) { return 0; }
CK_VT vd vd_sel(vdm m, vd t, vd f) { return m ? t : f; }
CK_VT int vdm_any(vdm m) { return m; }
CK_VT vdi vdi_set1(long long a) { return (vdi)a; }
CK_VT vdi vdi_add(vdi a, vdi b) { return (vdi)((uint64_t)a + (uint64_t)b); }
CK_VT vdi vdi_sub(vdi a, vdi b) { return (vdi)((uint64_t)a - (uint64_t)b); }
CK_VT vdi vdi_and(vdi a, vdi b) { return a & b; }
#define vdi_srli(a, n) ((vdi)((uint64_t)(a) >> (n)))
#define vdi_slli(a, n) ((vdi)((uint64_t)(a) << (n)))

/* The documented 32-lane block order. */
#define CK_SCALAR_SUM_BLOCK(NAME, T)                                                         \
    static T NAME(const T *x, long n) {                                                      \
        T acc[CK_SUM_LANES];                                                                 \
        for (int j = 0; j < CK_SUM_LANES; j++) acc[j] = (T)-0.0;                             \
        for (long i = 0; i < n; i++) acc[i % CK_SUM_LANES] += x[i];                          \
        for (int w = CK_SUM_LANES / 2; w >= 1; w /= 2)                                       \
            for (int j = 0; j < w; j++) acc[j] += acc[j + w];                                \
        return acc[0];                                                                       \
    }
CK_SCALAR_SUM_BLOCK(ck_ssum_block_scalar, float)
CK_SCALAR_SUM_BLOCK(ck_dsum_block_scalar, double)
#define CK_SSUM_BLOCK ck_ssum_block_scalar
#define CK_DSUM_BLOCK ck_dsum_block_scalar
