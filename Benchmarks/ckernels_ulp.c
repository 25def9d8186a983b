/* Accuracy sweep for the CKernels transcendental functions.
 *
 * float32: every one of the 2^32 bit patterns (or every `step`-th with --step N), compared
 * with the exact value computed in double precision, for exp, log, tanh, sigmoid, erf, sin, cos,
 * log1p, on the best
 * ISA level the CPU has; the lower levels, which compute the same bits (ckernels_test checks
 * that), are swept with a step of 257 unless --all-isas is given. float64: random bit patterns plus dense samples of the interesting ranges,
 * compared with long double. Prints the largest error in ulps of the exact result (in the
 * output format; denormal results use the denormal ulp) and where it occurs; fails (exit 1)
 * above 2 ulp or on any special-value mismatch.
 *
 * Build: cc -O2 -ISources/CKernels/include Sources/CKernels/[a-z]*.c Benchmarks/ckernels_ulp.c \
 *           -o /tmp/ckernels_ulp -lpthread -lm
 * Run:   /tmp/ckernels_ulp            (full sweep, ~1 min per function and ISA on 2 cores)
 *        /tmp/ckernels_ulp --only sin (one function)
 *        /tmp/ckernels_ulp --step 97  (sampled)
 */
#include "CKernels.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

static const char *const names[] = {"exp", "log", "tanh", "sigmoid", "erf", "sin", "cos", "log1p",
                                    "tan", "expm1", "log2", "sinh", "cosh"};
static const int ops[] = {CKERNELS_EXP, CKERNELS_LOG, CKERNELS_TANH, CKERNELS_SIGMOID, CKERNELS_ERF,
                          CKERNELS_SIN, CKERNELS_COS, CKERNELS_LOG1P, CKERNELS_TAN, CKERNELS_EXPM1,
                          CKERNELS_LOG2, CKERNELS_SINH, CKERNELS_COSH};
#define NFUNCS 13

static double ref_f(int op, float xf) {
    double x = xf;
    switch (op) {
    case CKERNELS_EXP: return exp(x);
    case CKERNELS_LOG: return log(x);
    case CKERNELS_TANH: return tanh(x);
    case CKERNELS_ERF: return erf(x);
    case CKERNELS_SIN: return sin(x);
    case CKERNELS_COS: return cos(x);
    case CKERNELS_LOG1P: return log1p(x);
    case CKERNELS_TAN: return tan(x);
    case CKERNELS_EXPM1: return expm1(x);
    case CKERNELS_LOG2: return log2(x);
    case CKERNELS_SINH: return sinh(x);
    case CKERNELS_COSH: return cosh(x);
    default: return 1.0 / (1.0 + exp(-x));
    }
}
static long double ref_d(int op, double xd) {
    long double x = xd;
    switch (op) {
    case CKERNELS_EXP: return expl(x);
    case CKERNELS_LOG: return logl(x);
    case CKERNELS_TANH: return tanhl(x);
    case CKERNELS_ERF: return erfl(x);
    case CKERNELS_SIN: return sinl(x);
    case CKERNELS_COS: return cosl(x);
    case CKERNELS_LOG1P: return log1pl(x);
    case CKERNELS_TAN: return tanl(x);
    case CKERNELS_EXPM1: return expm1l(x);
    case CKERNELS_LOG2: return log2l(x);
    case CKERNELS_SINH: return sinhl(x);
    case CKERNELS_COSH: return coshl(x);
    default: return 1.0L / (1.0L + expl(-x));
    }
}

/* float32 error in ulps of the exact (double) value; same rules as ulp_err, in double only. */
static double ulp_err_f(float got, double ref) {
    if (isnan(ref) || isnan(got)) return isnan(ref) && isnan(got) ? 0 : INFINITY;
    if (isinf(ref) || fabs(ref) >= (double)FLT_MAX + 0x1p103) /* rounds to inf */
        return isinf(got) && !signbit(got) == !signbit(ref) ? 0 : INFINITY;
    if (isinf(got)) return INFINITY;
    int e = ref == 0 ? -126 : ilogb(ref);
    if (e < -126) e = -126;
    return fabs((double)got - ref) / ldexp(1.0, e - 23);
}

/* Error of `got` in ulps of the exact value `ref`, in a format with `mant` fraction bits,
 * minimum normal exponent `emin` and largest finite `maxv`. Special cases: NaN must match NaN;
 * an exact value beyond the overflow threshold must give inf (and vice versa). */
static double ulp_err(long double got, long double ref, int mant, int emin, long double maxv) {
    if (isnan(ref) || isnan(got)) return isnan(ref) && isnan(got) ? 0 : INFINITY;
    long double halfulp_max = ldexpl(1.0L, ilogbl(maxv) - mant - 1);
    if (isinf(ref) || fabsl(ref) >= maxv + halfulp_max) /* rounds to inf */
        return isinf(got) && !signbit(got) == !signbit(ref) ? 0 : INFINITY;
    if (isinf(got)) return INFINITY;
    if (ref == 0) return got == 0 ? 0 : fabsl(got) / ldexpl(1.0L, emin - mant);
    int e = ilogbl(ref);
    if (e < emin) e = emin;
    return (double)(fabsl(got - ref) / ldexpl(1.0L, e - mant));
}

typedef struct {
    int op;
    uint64_t step;
    double worst;
    uint32_t worst_bits;
    pthread_mutex_t mu;
} sweep_ctx;

#define BATCH 4096
static void sweep_chunk(void *v, long begin, long end) {
    sweep_ctx *c = (sweep_ctx *)v;
    float in[BATCH], out[BATCH];
    double worst = 0;
    uint32_t worst_bits = 0;
    for (long blk = begin; blk < end; blk++) { /* a block = BATCH inputs */
        for (int i = 0; i < BATCH; i++) {
            uint32_t bits = (uint32_t)(((uint64_t)blk * BATCH + (uint64_t)i) * c->step);
            memcpy(&in[i], &bits, 4);
        }
        ckernels_sunary(c->op, BATCH, in, out); /* inline: we are inside a pool region */
        for (int i = 0; i < BATCH; i++) {
            double e = ulp_err_f(out[i], ref_f(c->op, in[i]));
            if (e > worst) {
                worst = e;
                memcpy(&worst_bits, &in[i], 4);
            }
        }
    }
    pthread_mutex_lock(&c->mu);
    if (worst > c->worst) {
        c->worst = worst;
        c->worst_bits = worst_bits;
    }
    pthread_mutex_unlock(&c->mu);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void) { /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double check_double(int op, long samples, double *worst_x) {
    enum { B = 4096 };
    static double in[B], out[B];
    double worst = 0;
    const double specials[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, 1.0, -1.0, DBL_MIN, -DBL_MIN,
                               4.9e-324, -4.9e-324, DBL_MAX, -DBL_MAX, 709.78, 709.79, -745.13,
                               -745.14, -708.4, 0.625, -0.625, 0.6249999999999999, 20, -20, 0.5,
                               1e-300, 1e-10, -1e-10, 0.6931471805599453, 2.0, 0.7071067811865476};
    for (long done = 0; done < samples; done += B) {
        for (int i = 0; i < B; i++) {
            uint64_t r = rng();
            double x;
            switch (r % 4) {
            case 0: memcpy(&x, &r, 8); break;                                  /* any bits */
            case 1: x = ((double)(r >> 11) * 0x1p-53 - 0.5) * 1500.0; break;    /* exp range */
            case 2: x = ((double)(r >> 11) * 0x1p-53 - 0.5) * 4.0; break;       /* near 0 */
            default: x = ldexp((double)(r >> 11) * 0x1p-53 + 0.5, (int)(r % 2100) - 1075); break;
            }
            if (done == 0 && i < (int)(sizeof specials / sizeof *specials)) x = specials[i];
            in[i] = x;
        }
        ckernels_dunary(op, B, in, out);
        for (int i = 0; i < B; i++) {
            double e = ulp_err(out[i], ref_d(op, in[i]), 52, -1022, DBL_MAX);
            if (e > worst) {
                worst = e;
                *worst_x = in[i];
            }
        }
    }
    return worst;
}

int main(int argc, char **argv) {
    uint64_t step = 1;
    long dsamples = 1L << 24;
    int all_isas = 0;
    const char *only = NULL;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--all-isas") == 0) all_isas = 1;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--only") == 0) only = argv[i + 1];
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--step") == 0) step = strtoull(argv[i + 1], NULL, 10);
        if (strcmp(argv[i], "--dsamples") == 0) dsamples = strtol(argv[i + 1], NULL, 10);
    }
    if (step == 0) step = 1;
    int fail = 0;
    int best = ckernels_set_isa(CKERNELS_ISA_AVX512);
    printf("threads %d; float32: %s of 2^32 inputs; float64: %ld samples\n", ckernels_num_threads(),
           step == 1 ? "all" : "a sample", dsamples);
    for (int level = best; level >= 0; level--) {
        if (level == CKERNELS_ISA_NEON - 0 && best != CKERNELS_ISA_NEON) continue;
        if (ckernels_set_isa(level) != level) continue;
        for (int f = 0; f < NFUNCS; f++) {
            if (only && strcmp(only, names[f]) != 0) continue;
            uint64_t st = level == best || all_isas || step > 257 ? step : 257;
            sweep_ctx c = {ops[f], st, 0, 0, PTHREAD_MUTEX_INITIALIZER};
            long blocks = (long)((((uint64_t)1 << 32) / st + BATCH - 1) / BATCH);
            ckernels_parallel_for(blocks, 1, sweep_chunk, &c);
            float wx;
            memcpy(&wx, &c.worst_bits, 4);
            double dwx = 0;
            double dw = check_double(ops[f], dsamples, &dwx);
            printf("%-7s %-8s %-9s float32 max %.3f ulp (x = %a = %.9g)   float64 max %.3f ulp (x = %.17g)\n",
                   ckernels_isa_name(), names[f], st == 1 ? "(all)" : "(sampled)", c.worst, wx, wx, dw, dwx);
            fflush(stdout);
            if (!(c.worst <= 2.0) || !(dw <= 2.0)) fail = 1;
        }
        if (level == CKERNELS_ISA_NEON) break;
    }
    printf(fail ? "FAIL: error above 2 ulp\n" : "OK: all within 2 ulp\n");
    return fail;
}
