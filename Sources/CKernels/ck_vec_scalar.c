/* Element-wise kernels, portable C build (used where no SIMD level is available). */
#include "ck_internal.h"

#include <math.h>

#define CK_SCALAR_BINARY(NAME, T, EXPR)                                                      \
    static void NAME##_vv(long n, const T *a, const T *b, T *out) {                         \
        for (long i = 0; i < n; i++) { T x = a[i], y = b[i]; out[i] = EXPR; }                \
    }                                                                                        \
    static void NAME##_vs(long n, const T *a, const T *b, T *out) {                         \
        const T y = b[0];                                                                    \
        for (long i = 0; i < n; i++) { T x = a[i]; out[i] = EXPR; }                          \
    }                                                                                        \
    static void NAME##_sv(long n, const T *a, const T *b, T *out) {                         \
        const T x = a[0];                                                                    \
        for (long i = 0; i < n; i++) { T y = b[i]; out[i] = EXPR; }                          \
    }
#define CK_MAX_EXPR (x != x || y != y ? x + y : (x > y ? x : y))
#define CK_MIN_EXPR (x != x || y != y ? x + y : (x < y ? x : y))
CK_SCALAR_BINARY(ck_sadd, float, x + y)
CK_SCALAR_BINARY(ck_ssub, float, x - y)
CK_SCALAR_BINARY(ck_smul, float, x * y)
CK_SCALAR_BINARY(ck_sdiv, float, x / y)
CK_SCALAR_BINARY(ck_smaxop, float, CK_MAX_EXPR)
CK_SCALAR_BINARY(ck_sminop, float, CK_MIN_EXPR)
CK_SCALAR_BINARY(ck_dadd, double, x + y)
CK_SCALAR_BINARY(ck_dsub, double, x - y)
CK_SCALAR_BINARY(ck_dmul, double, x * y)
CK_SCALAR_BINARY(ck_ddiv, double, x / y)
CK_SCALAR_BINARY(ck_dmaxop, double, CK_MAX_EXPR)
CK_SCALAR_BINARY(ck_dminop, double, CK_MIN_EXPR)

#define CK_SCALAR_UNARY(NAME, T, EXPR)                                                       \
    static void NAME(long n, const T *in, T *out) {                                         \
        for (long i = 0; i < n; i++) { T x = in[i]; out[i] = EXPR; }                         \
    }
/* float transcendental functions through double libm: correctly rounded in practice */
CK_SCALAR_UNARY(ck_sexp, float, (float)exp((double)x))
CK_SCALAR_UNARY(ck_slog, float, (float)log((double)x))
CK_SCALAR_UNARY(ck_stanh, float, (float)tanh((double)x))
CK_SCALAR_UNARY(ck_ssigmoid, float, (float)(1.0 / (1.0 + exp(-(double)x))))
CK_SCALAR_UNARY(ck_sneg, float, -x)
CK_SCALAR_UNARY(ck_sabs, float, fabsf(x))
CK_SCALAR_UNARY(ck_ssqrt, float, sqrtf(x))
CK_SCALAR_UNARY(ck_srelu, float, x <= 0.0f ? 0.0f : x)
CK_SCALAR_UNARY(ck_dexp, double, exp(x))
CK_SCALAR_UNARY(ck_dlog, double, log(x))
CK_SCALAR_UNARY(ck_dtanh, double, tanh(x))
static double ck_sigmoid_d(double x) {
    double t = exp(-fabs(x));
    return (x < 0 ? t : 1.0) / (1.0 + t);
}
CK_SCALAR_UNARY(ck_dsigmoid, double, ck_sigmoid_d(x))
CK_SCALAR_UNARY(ck_dneg, double, -x)
CK_SCALAR_UNARY(ck_dabs, double, fabs(x))
CK_SCALAR_UNARY(ck_dsqrt, double, sqrt(x))
CK_SCALAR_UNARY(ck_drelu, double, x <= 0.0 ? 0.0 : x)

/* The documented 32-lane block order, in plain C. */
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

#define CK_SCALAR_MAX(NAME, T)                                                               \
    static int NAME(const T *x, long n, T *out) {                                            \
        T best = x[0];                                                                       \
        int nan = 0;                                                                         \
        for (long i = 0; i < n; i++) {                                                       \
            T v = x[i];                                                                      \
            nan |= v != v;                                                                   \
            best = v > best ? v : best;                                                      \
        }                                                                                    \
        if (nan) return 1;                                                                   \
        *out = best;                                                                         \
        return 0;                                                                            \
    }
CK_SCALAR_MAX(ck_smax_scalar, float)
CK_SCALAR_MAX(ck_dmax_scalar, double)

#define CK_BIN_ROW(P, OP) {ck_##P##OP##_vv, ck_##P##OP##_vs, ck_##P##OP##_sv}
static const ck_vec_table ck_vec_tab_scalar = {
    {CK_BIN_ROW(s, add), CK_BIN_ROW(s, sub), CK_BIN_ROW(s, mul), CK_BIN_ROW(s, div),
     CK_BIN_ROW(s, maxop), CK_BIN_ROW(s, minop)},
    {CK_BIN_ROW(d, add), CK_BIN_ROW(d, sub), CK_BIN_ROW(d, mul), CK_BIN_ROW(d, div),
     CK_BIN_ROW(d, maxop), CK_BIN_ROW(d, minop)},
    {ck_sexp, ck_slog, ck_stanh, ck_ssigmoid, ck_sneg, ck_sabs, ck_ssqrt, ck_srelu},
    {ck_dexp, ck_dlog, ck_dtanh, ck_dsigmoid, ck_dneg, ck_dabs, ck_dsqrt, ck_drelu},
    ck_ssum_block_scalar,
    ck_dsum_block_scalar,
    ck_smax_scalar,
    ck_dmax_scalar,
};

const ck_vec_table *ck_vec_table_scalar(void) { return &ck_vec_tab_scalar; }
