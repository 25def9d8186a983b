/* Correctness tests for CKernels: every fast path against a plain reference, on every ISA
 * level the CPU has, with 1 and several threads; exits 1 on the first class of failure.
 *
 * Build: cc -O2 -ISources/CKernels/include Sources/CKernels/[a-z]*.c Benchmarks/ckernels_test.c \
 *           -o /tmp/ckernels_test -lpthread -lm
 */
#include "CKernels.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int failures = 0;
#define CK_NBINARY_TEST 7 /* add, sub, mul, div, max, min, pow */
#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            if (failures++ < 30) {                                                           \
                printf("FAIL %s:%d [%s, %d threads]: ", __FILE__, __LINE__, ckernels_isa_name(), \
                       ckernels_num_threads());                                              \
                printf(__VA_ARGS__);                                                         \
                printf("\n");                                                                \
            }                                                                                \
        }                                                                                    \
    } while (0)

static uint64_t rs = 12345;
static double urand(void) { /* [-1, 1) */
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rs >> 11) * 0x1p-52 - 1.0;
}

/* ---------------------------------------------------------------------------------------- */
/* GEMM                                                                                      */
/* ---------------------------------------------------------------------------------------- */

/* Layout of an r x c operand: 0 row-major, 1 column-major (transposed), 2 padded strided
 * (every other column of a wider row-major array), 3 negative row stride. Returns the base
 * pointer into buf (which has room) and the strides. */
static long layout(int kind, long r, long c, long *rs_, long *cs_) {
    switch (kind) {
    case 0: *rs_ = c; *cs_ = 1; return 0;
    case 1: *rs_ = 1; *cs_ = r; return 0;
    case 2: *rs_ = 2 * c + 3; *cs_ = 2; return 0;
    default: *rs_ = -c; *cs_ = 1; return (r - 1) * c; /* row i at base - i*c */
    }
}
static long layout_size(int kind, long r, long c) { return kind == 2 ? r * (2 * c + 3) + 1 : r * c + 1; }

static void test_gemm_case(int dbl, long M, long N, long K, int la, int lb, int lc, double alpha,
                           double beta, int nan_c) {
    long rsA, csA, rsB, csB, rsC, csC;
    long oA = layout(la, M, K, &rsA, &csA), oB = layout(lb, K, N, &rsB, &csB);
    long oC = layout(lc, M, N, &rsC, &csC);
    long sA = layout_size(la, M, K), sB = layout_size(lb, K, N), sC = layout_size(lc, M, N);
    double *A = malloc(sizeof(double) * (size_t)sA), *B = malloc(sizeof(double) * (size_t)sB);
    double *C0 = malloc(sizeof(double) * sC), *R = malloc(sizeof(double) * (M * N + 1));
    double *S = malloc(sizeof(double) * (M * N + 1)); /* per-element error bound */
    for (long i = 0; i < sA; i++) A[i] = urand();
    for (long i = 0; i < sB; i++) B[i] = urand();
    for (long i = 0; i < sC; i++) C0[i] = nan_c ? NAN : urand();
    if (dbl) {
        for (long i = 0; i < sA; i++) A[i] += urand() * 1e-9; /* use the full mantissa */
    } else {
        for (long i = 0; i < sA; i++) A[i] = (float)A[i];
        for (long i = 0; i < sB; i++) B[i] = (float)B[i];
        for (long i = 0; i < sC; i++) C0[i] = (float)C0[i];
    }
    for (long i = 0; i < M; i++)
        for (long j = 0; j < N; j++) {
            long double s = 0, sa = 0;
            for (long p = 0; p < K; p++) {
                long double t = (long double)A[oA + i * rsA + p * csA] * B[oB + p * rsB + j * csB];
                s += t;
                sa += fabsl(t);
            }
            double c = C0[oC + i * rsC + j * csC];
            R[i * N + j] = (double)(alpha * s + (beta == 0 ? 0 : beta * c));
            /* |error| <= gamma_(K+2) (|alpha| sum|a b| + |beta c|), gamma_n ~ n u; doubled */
            double u = dbl ? 0x1p-53 : 0x1p-24;
            S[i * N + j] = 2.0 * (double)(K + 2) * u *
                           (double)(fabs(alpha) * sa + (beta == 0 ? 0 : fabs(beta * c))) + 1e-300;
        }
    double worst = 0; /* largest error / bound */
    long bad = -1;
    int st;
    if (dbl) {
        double *C = malloc(sizeof(double) * (size_t)sC);
        memcpy(C, C0, sizeof(double) * sC);
        st = ckernels_dgemm(M, N, K, alpha, A + oA, rsA, csA, B + oB, rsB, csB, beta, C + oC, rsC, csC);
        for (long i = 0; i < M; i++)
            for (long j = 0; j < N; j++) {
                double e = fabs(C[oC + i * rsC + j * csC] - R[i * N + j]) / S[i * N + j];
                if (!(e <= worst)) { worst = e; bad = i * N + j; }
            }
        /* independent of the thread count: rerun on one thread, compare bits */
        {
            double *Cs = malloc(sizeof(double) * (size_t)sC);
            memcpy(Cs, C0, sizeof(double) * sC);
            int nt = ckernels_num_threads();
            ckernels_set_num_threads(1);
            ckernels_dgemm(M, N, K, alpha, A + oA, rsA, csA, B + oB, rsB, csB, beta, Cs + oC, rsC, csC);
            ckernels_set_num_threads(nt);
            CHECK(memcmp(C, Cs, sizeof(double) * sC) == 0, "dgemm %ldx%ldx%ld differs between 1 and %d threads",
                  M, N, K, nt);
            free(Cs);
        }
        /* elements outside C untouched (padded layout) */
        if (lc == 2)
            for (long i = 0; i < sC; i++)
                if ((i % (2 * N + 3)) % 2 == 1 || i % (2 * N + 3) >= 2 * N)
                    CHECK(memcmp(&C[i], &C0[i], 8) == 0, "dgemm wrote outside C at %ld", i);
        free(C);
    } else {
        float *Af = malloc(4 * (size_t)sA), *Bf = malloc(4 * (size_t)sB), *C = malloc(4 * (size_t)sC),
              *Cs = malloc(4 * (size_t)sC);
        for (long i = 0; i < sA; i++) Af[i] = (float)A[i];
        for (long i = 0; i < sB; i++) Bf[i] = (float)B[i];
        for (long i = 0; i < sC; i++) C[i] = (float)C0[i];
        st = ckernels_sgemm(M, N, K, (float)alpha, Af + oA, rsA, csA, Bf + oB, rsB, csB, (float)beta,
                            C + oC, rsC, csC);
        for (long i = 0; i < M; i++)
            for (long j = 0; j < N; j++) {
                double e = fabs(C[oC + i * rsC + j * csC] - R[i * N + j]) / S[i * N + j];
                if (!(e <= worst)) { worst = e; bad = i * N + j; }
            }
        /* independent of the thread count: rerun on one thread, compare bits */
        int nt = ckernels_num_threads();
        for (long i = 0; i < sC; i++) Cs[i] = (float)C0[i];
        ckernels_set_num_threads(1);
        ckernels_sgemm(M, N, K, (float)alpha, Af + oA, rsA, csA, Bf + oB, rsB, csB, (float)beta,
                       Cs + oC, rsC, csC);
        ckernels_set_num_threads(nt);
        CHECK(memcmp(C, Cs, 4 * sC) == 0, "sgemm %ldx%ldx%ld differs between 1 and %d threads", M, N, K, nt);
        free(Af); free(Bf); free(C); free(Cs);
    }
    CHECK(st == CKERNELS_OK, "gemm status %d", st);
    CHECK(worst <= 1.0, "%cgemm M=%ld N=%ld K=%ld layouts %d%d%d alpha=%g beta=%g nanC=%d: error %.3g x bound at %ld",
          dbl ? 'd' : 's', M, N, K, la, lb, lc, alpha, beta, nan_c, worst, bad);
    free(A); free(B); free(C0); free(R); free(S);
}

static void test_gemm(void) {
    /* sizes around the register tiles (4, 6, 8, 12, 16, 32), K blocks (256/384) and M blocks */
    static const long sizes[][3] = {
        {1, 1, 1},     {2, 3, 4},     {5, 7, 3},      {6, 16, 1},    {12, 32, 8},   {13, 33, 9},
        {11, 31, 257}, {25, 17, 255}, {36, 48, 513},  {64, 64, 64},  {97, 130, 70}, {241, 65, 300},
        {300, 7, 41},  {7, 300, 41},  {1, 200, 100},  {200, 1, 100}, {129, 129, 1}, {250, 260, 600},
        {1, 3001, 700}, {2999, 1, 700}, {37, 1100, 300}, {30, 2100, 20},
        /* split over two threads with 4- and 8-row edge tiles, B read in place (double: at
         * most half the L2) or packed, one or more K blocks */
        {130, 70, 520}, {203, 530, 300}, {58, 250, 1000},
    };
    const int ns = (int)(sizeof sizes / sizeof *sizes);
    for (int s = 0; s < ns; s++)
        for (int dbl = 0; dbl < 2; dbl++) {
            long M = sizes[s][0], N = sizes[s][1], K = sizes[s][2];
            for (int l = 0; l < 4; l++)
                test_gemm_case(dbl, M, N, K, l, (l + 1) % 4, l == 3 ? 2 : l % 2, 1.0, 0.0, 0);
            test_gemm_case(dbl, M, N, K, 0, 0, 0, 0.75, 0.5, 0);
            test_gemm_case(dbl, M, N, K, 1, 0, 0, -2.0, 1.0, 0);
            test_gemm_case(dbl, M, N, K, 0, 1, 0, 1.0, 0.0, 1); /* beta 0 ignores NaN in C */
        }
    /* K = 0 and alpha = 0: C = beta*C, A and B unread (null) */
    float C[6] = {1, 2, 3, 4, 5, 6};
    CHECK(ckernels_sgemm(2, 3, 0, 1.0f, NULL, 0, 1, NULL, 0, 1, 2.0f, C, 3, 1) == CKERNELS_OK && C[5] == 12,
          "K=0 scaling");
    C[0] = NAN;
    CHECK(ckernels_sgemm(2, 3, 5, 0.0f, NULL, 0, 1, NULL, 0, 1, 0.0f, C, 3, 1) == CKERNELS_OK && C[0] == 0,
          "alpha=0 beta=0 clears NaN");
    CHECK(ckernels_sgemm(-1, 3, 5, 1.0f, C, 0, 1, C, 0, 1, 0.0f, C, 3, 1) == CKERNELS_EINVAL, "negative M");
    /* batched == loop: on one thread, whole products per thread, one product on all threads */
    static const long batches[][4] = {{5, 17, 40, 23}, {6, 130, 128, 129}, {3, 260, 250, 270}};
    for (int si = 0; si < 3; si++) {
        long bt = batches[si][0], M = batches[si][1], N = batches[si][2], K = batches[si][3];
        float *A = malloc(4 * bt * M * K), *B = malloc(4 * K * N), *C1 = malloc(4 * bt * M * N),
              *C2 = malloc(4 * bt * M * N);
        for (long i = 0; i < bt * M * K; i++) A[i] = (float)urand();
        for (long i = 0; i < K * N; i++) B[i] = (float)urand();
        CHECK(ckernels_sgemm_batched(bt, M, N, K, 1.0f, A, M * K, K, 1, B, 0, N, 1, 0.0f, C1, M * N, N, 1) == 0,
              "batched status");
        for (long b = 0; b < bt; b++)
            ckernels_sgemm(M, N, K, 1.0f, A + b * M * K, K, 1, B, N, 1, 0.0f, C2 + b * M * N, N, 1);
        CHECK(memcmp(C1, C2, 4 * bt * M * N) == 0, "sgemm_batched differs from a loop (%ld x %ld x %ld x %ld)", bt, M, N, K);
        free(A); free(B); free(C1); free(C2);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* element-wise                                                                              */
/* ---------------------------------------------------------------------------------------- */

static float bin_ref_f(int op, float x, float y) {
    switch (op) {
    case CKERNELS_ADD: return x + y;
    case CKERNELS_SUB: return x - y;
    case CKERNELS_MUL: return x * y;
    case CKERNELS_DIV: return x / y;
    case CKERNELS_MAX: return isnan(x) || isnan(y) ? NAN : (x > y ? x : y);
    default: return isnan(x) || isnan(y) ? NAN : (x < y ? x : y);
    }
}

static int same_f(float a, float b) { return (isnan(a) && isnan(b)) || memcmp(&a, &b, 4) == 0; }
static int same_d(double a, double b) { return (isnan(a) && isnan(b)) || memcmp(&a, &b, 8) == 0; }

static void test_elementwise(int isa_ref) {
    static const long lens[] = {0, 1, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 1000, 4099, 300001};
    for (int li = 0; li < (int)(sizeof lens / sizeof *lens); li++) {
        long n = lens[li];
        float *a = malloc(4 * (n + 1)), *b = malloc(4 * (n + 1)), *o = malloc(4 * (n + 1)),
              *r = malloc(4 * (n + 1));
        double *ad = malloc(8 * (n + 1)), *od = malloc(8 * (n + 1)), *rd = malloc(8 * (n + 1));
        for (long i = 0; i < n + 1; i++) {
            a[i] = (float)(urand() * 30);
            b[i] = (float)(urand() * 30);
            if (i % 97 == 5) a[i] = NAN;
            if (i % 89 == 7) b[i] = INFINITY;
            if (i % 83 == 3) b[i] = 0;
            ad[i] = urand() * (i % 3 == 0 ? 800 : 30); /* also the over/underflow scaling path */
        }
        for (int op = 0; op < 6; op++) {
            for (int mode = 0; mode < 4; mode++) {
                long ia = mode == 2 ? 0 : (mode == 3 ? -1 : 1), ib = mode == 1 ? 0 : 1;
                const float *pa = mode == 3 && n > 0 ? a + n - 1 : a;
                CHECK(ckernels_sbinary(op, n, pa, ia, b, ib, o) == 0, "sbinary status");
                for (long i = 0; i < n; i++) {
                    float want = bin_ref_f(op, pa[i * ia], b[i * ib]);
                    if (!same_f(o[i], want)) {
                        CHECK(0, "sbinary op %d mode %d n %ld at %ld: %a vs %a", op, mode, n, i, o[i], want);
                        break;
                    }
                }
            }
            /* in place, double */
            memcpy(od, ad, 8 * n);
            CHECK(ckernels_dbinary(op, n, od, 1, ad, 1, od) == 0, "dbinary status");
            for (long i = 0; i < n; i++) {
                double x = ad[i], want = op == 0 ? x + x : op == 1 ? 0 : op == 2 ? x * x : op == 3 ? 1 : x;
                if (!same_d(od[i], want)) {
                    CHECK(0, "dbinary in place op %d at %ld", op, i);
                    break;
                }
            }
        }
        /* unary: equal bit for bit to the portable build (which tests/ulp check for accuracy) */
        for (int op = 0; op <= CKERNELS_SILU; op++) {
            int cur = ckernels_isa();
            ckernels_sunary(op, n, a, o);
            ckernels_dunary(op, n, ad, od);
            ckernels_set_isa(isa_ref);
            ckernels_sunary(op, n, a, r);
            ckernels_dunary(op, n, ad, rd);
            ckernels_set_isa(cur);
            for (long i = 0; i < n; i++) {
                if (!same_f(o[i], r[i]) || !same_d(od[i], rd[i])) {
                    CHECK(0, "unary op %d n %ld at %ld: %a vs %a (x = %a)", op, n, i, o[i], r[i], a[i]);
                    break;
                }
            }
        }
        /* gelu forward and backward: equal bit for bit to the portable build too */
        for (int approx = 0; approx < 2; approx++)
            for (int bwd = 0; bwd < 2; bwd++) {
                int cur = ckernels_isa();
                if (bwd) { ckernels_sgelu_backward(approx, n, a, b, o); ckernels_dgelu_backward(approx, n, ad, ad, od); }
                else { ckernels_sgelu(approx, n, a, o); ckernels_dgelu(approx, n, ad, od); }
                ckernels_set_isa(isa_ref);
                if (bwd) { ckernels_sgelu_backward(approx, n, a, b, r); ckernels_dgelu_backward(approx, n, ad, ad, rd); }
                else { ckernels_sgelu(approx, n, a, r); ckernels_dgelu(approx, n, ad, rd); }
                ckernels_set_isa(cur);
                for (long i = 0; i < n; i++) {
                    if (!same_f(o[i], r[i]) || !same_d(od[i], rd[i])) {
                        CHECK(0, "gelu approx %d bwd %d n %ld at %ld: %a vs %a", approx, bwd, n, i, o[i], r[i]);
                        break;
                    }
                }
            }
        free(a); free(b); free(o); free(r); free(ad); free(od); free(rd);
    }
    float s[3] = {-0.0f, -0.0f, -0.0f}, out = 1;
    ckernels_sunary(CKERNELS_TANH, 1, s, s + 1);
    CHECK(signbit(s[1]), "tanh(-0) = -0");
    ckernels_sunary(CKERNELS_RELU, 1, s, s + 2);
    CHECK(s[2] == 0 && !signbit(s[2]), "relu(-0) = +0");
    float sp[] = {INFINITY, -INFINITY, 0.0f, -1.0f, 89.0f, -104.0f, 1e-45f};
    float wexp[] = {INFINITY, 0, 1, 0.36787944f, INFINITY, 0, 1};
    for (int i = 0; i < 7; i++) {
        ckernels_sunary(CKERNELS_EXP, 1, &sp[i], &out);
        CHECK(out == wexp[i] || fabsf(out - wexp[i]) < 1e-7f, "exp(%a) = %a", sp[i], out);
    }
    float wlog[] = {INFINITY, NAN, -INFINITY, NAN};
    for (int i = 0; i < 4; i++) {
        ckernels_sunary(CKERNELS_LOG, 1, &sp[i], &out);
        CHECK(same_f(out, wlog[i]), "log(%a) = %a", sp[i], out);
    }
    float werf[] = {1, -1, 0, -0.84270079f, 1, -1, 0x1p-149f};
    for (int i = 0; i < 7; i++) {
        ckernels_sunary(CKERNELS_ERF, 1, &sp[i], &out);
        CHECK(same_f(out, werf[i]) || fabsf(out - werf[i]) < 1.2e-7f, "erf(%a) = %a", sp[i], out);
    }
    float zn[2] = {-0.0f, NAN};
    ckernels_sunary(CKERNELS_ERF, 2, zn, zn);
    CHECK(zn[0] == 0 && signbit(zn[0]) && isnan(zn[1]), "erf(-0) = -0, erf(NaN) = NaN");
    CHECK(ckernels_sunary(99, 1, sp, &out) == CKERNELS_EINVAL, "bad op");
}

/* ---------------------------------------------------------------------------------------- */
/* reductions                                                                                */
/* ---------------------------------------------------------------------------------------- */

static void test_reductions(int isa_ref) {
    static const long lens[] = {1, 2, 31, 32, 33, 1023, 1024, 1025, 4095, 4097, 100000, 262144, 1048583};
    for (int li = 0; li < (int)(sizeof lens / sizeof *lens); li++) {
        long n = lens[li];
        float *x = malloc(4 * n);
        double *xd = malloc(8 * n);
        long double exact = 0, mag = 0;
        for (long i = 0; i < n; i++) {
            x[i] = (float)urand();
            xd[i] = urand();
            exact += x[i];
            mag += fabsl((long double)x[i]);
        }
        float s = 0, s1 = 0, sr = 0;
        double d = 0, d1 = 0, dr = 0;
        ckernels_ssum(n, x, &s);
        ckernels_dsum(n, xd, &d);
        int nt = ckernels_num_threads(), cur = ckernels_isa();
        ckernels_set_num_threads(1);
        ckernels_ssum(n, x, &s1);
        ckernels_dsum(n, xd, &d1);
        ckernels_set_num_threads(nt);
        ckernels_set_isa(isa_ref);
        ckernels_ssum(n, x, &sr);
        ckernels_dsum(n, xd, &dr);
        ckernels_set_isa(cur);
        CHECK(memcmp(&s, &s1, 4) == 0 && memcmp(&d, &d1, 8) == 0, "sum n=%ld differs with 1 thread", n);
        CHECK(memcmp(&s, &sr, 4) == 0 && memcmp(&d, &dr, 8) == 0, "sum n=%ld differs from portable", n);
        double bound = (32 + log2((double)n / 1024 + 1) + 2) * 0x1p-24 * (double)mag;
        CHECK(fabsl(s - exact) <= bound, "ssum n=%ld error %Lg > %g", n, fabsl(s - exact), bound);
        /* max with index: plant the maximum twice, a NaN later */
        long at = n / 3;
        x[at] = 5.0f;
        if (at + 1 < n) x[n - 1] = 5.0f;
        float m = 0;
        long idx = -2;
        ckernels_smax(n, x, &m, &idx);
        CHECK(m == 5.0f && idx == at, "smax n=%ld got %g at %ld, want 5 at %ld", n, m, idx, at);
        if (n > 3) {
            x[n / 2 + 1] = NAN;
            x[n - 2] = NAN;
            ckernels_smax(n, x, &m, &idx);
            CHECK(isnan(m) && idx == n / 2 + 1, "smax NaN n=%ld at %ld", n, idx);
        }
        xd[n - 1] = 7.0;
        double md = 0;
        ckernels_dmax(n, xd, &md, &idx);
        CHECK(md == 7.0 && idx == n - 1, "dmax n=%ld", n);
        free(x);
        free(xd);
    }
    float z[3] = {-0.0f, -0.0f, -0.0f}, r = 1;
    ckernels_ssum(3, z, &r);
    CHECK(r == 0 && signbit(r), "sum of -0 is -0");
    ckernels_ssum(0, z, &r);
    CHECK(r == 0 && !signbit(r), "empty sum is +0");
    long idx = 0;
    ckernels_smax(0, z, &r, &idx);
    CHECK(isinf(r) && r < 0 && idx == -1, "empty max");
}

/* ---------------------------------------------------------------------------------------- */
/* thread pool                                                                               */
/* ---------------------------------------------------------------------------------------- */

typedef struct {
    atomic_int *hits;
    atomic_int nested_inline;
    atomic_int calls;
    long grain, n;
    atomic_int small_chunks;
} pf_ctx;

static void pf_nested(void *v, long b, long e) {
    int *c = (int *)v; /* [items, calls]; only this thread touches it when inline */
    c[0] += (int)(e - b);
    c[1] += 1;
}

static void pf_body(void *v, long b, long e) {
    pf_ctx *c = (pf_ctx *)v;
    atomic_fetch_add(&c->calls, 1);
    if (e - b < c->grain && e != c->n) atomic_fetch_add(&c->small_chunks, 1);
    for (long i = b; i < e; i++) atomic_fetch_add(&c->hits[i], 1);
    if (ckernels_in_parallel_region()) {
        int count[2] = {0, 0};
        ckernels_parallel_for(1000, 1, pf_nested, count); /* must run inline, in one call */
        if (count[0] == 1000 && count[1] == 1) atomic_fetch_add(&c->nested_inline, 1);
    } else {
        atomic_fetch_add(&c->nested_inline, 1); /* an inline outer call: nothing to check */
    }
}

static void *user_thread(void *arg) {
    (void)arg;
    for (int rep = 0; rep < 200; rep++) {
        long n = 10000;
        pf_ctx c = {calloc((size_t)n, sizeof(atomic_int)), 0, 0, 100, n, 0};
        ckernels_parallel_for(n, 100, pf_body, &c);
        for (long i = 0; i < n; i++)
            if (atomic_load(&c.hits[i]) != 1) {
                CHECK(0, "concurrent parallel_for: index %ld hit %d times", i, atomic_load(&c.hits[i]));
                break;
            }
        free(c.hits);
        float A[64 * 64], B[64 * 64], C[64 * 64];
        for (int i = 0; i < 64 * 64; i++) { A[i] = 1; B[i] = 2; }
        ckernels_sgemm(64, 64, 64, 1.0f, A, 64, 1, B, 64, 1, 0.0f, C, 64, 1);
        if (C[4095] != 128.0f) CHECK(0, "concurrent sgemm");
    }
    return NULL;
}

/* Back-to-back two-chunk jobs (the shape of a 2-thread GEMM): each chunk records its thread. */
typedef struct {
    atomic_int hits[2];
    atomic_uintptr_t who[2];
} pf_pair;

static __thread char pf_mark;

static double pf_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void pf_pair_body(void *v, long b, long e) {
    pf_pair *p = (pf_pair *)v;
    for (long i = b; i < e; i++) {
        atomic_fetch_add(&p->hits[i], 1);
        atomic_store(&p->who[i], (uintptr_t)&pf_mark);
    }
    /* like a GEMM slice, take a while: up to 50 us or until the other chunk has started */
    double t0 = pf_now();
    while (atomic_load(&p->hits[0]) + atomic_load(&p->hits[1]) < 2 && pf_now() - t0 < 50e-6) {
    }
}

/* Workers that see a new job while its owner is still publishing it must wait for it, not
 * skip it: every chunk runs once, and (printed, timing-dependent) both threads take part in
 * nearly every job. Before the fix the owner ran both chunks of about a third of the jobs. */
static void test_pool_back_to_back(void) {
    const int jobs = 4000;
    int shared = 0;
    for (int j = 0; j < jobs; j++) {
        pf_pair p;
        for (int i = 0; i < 2; i++) {
            atomic_init(&p.hits[i], 0);
            atomic_init(&p.who[i], 0);
        }
        ckernels_parallel_for(2, 1, pf_pair_body, &p);
        if (atomic_load(&p.hits[0]) != 1 || atomic_load(&p.hits[1]) != 1) {
            CHECK(0, "back-to-back job %d: chunks hit %d, %d times", j, atomic_load(&p.hits[0]),
                  atomic_load(&p.hits[1]));
            break;
        }
        shared += atomic_load(&p.who[0]) != atomic_load(&p.who[1]);
    }
    printf("pool: %d of %d back-to-back two-chunk jobs ran on two threads\n", shared, jobs);
}

static void test_pool(void) {
    test_pool_back_to_back();
    static const long ns[] = {0, 1, 5, 199, 200, 201, 1000, 123457};
    for (int k = 0; k < (int)(sizeof ns / sizeof *ns); k++)
        for (long grain = 1; grain <= 1000; grain *= 10) {
            long n = ns[k];
            pf_ctx c = {calloc((size_t)n + 1, sizeof(atomic_int)), 0, 0, grain, n, 0};
            CHECK(ckernels_parallel_for(n, grain, pf_body, &c) == 0, "status");
            for (long i = 0; i < n; i++)
                if (atomic_load(&c.hits[i]) != 1) {
                    CHECK(0, "n=%ld grain=%ld: index %ld hit %d times", n, grain, i, atomic_load(&c.hits[i]));
                    break;
                }
            CHECK(atomic_load(&c.small_chunks) == 0, "a chunk below grain");
            CHECK(atomic_load(&c.nested_inline) == atomic_load(&c.calls), "nested call not inline");
            free(c.hits);
        }
    CHECK(ckernels_parallel_for(10, 1, NULL, NULL) == CKERNELS_EINVAL, "null fn");
    /* two user threads at once */
    pthread_t t1, t2;
    pthread_create(&t1, NULL, user_thread, NULL);
    pthread_create(&t2, NULL, user_thread, NULL);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    int nt = ckernels_num_threads();
    ckernels_set_num_threads(3);
    CHECK(ckernels_num_threads() == 3, "set_num_threads");
    user_thread(NULL);
    ckernels_set_num_threads(0);
    CHECK(ckernels_num_threads() >= 1, "default threads");
    ckernels_set_num_threads(nt);
}

/* pow: the same bits as the portable build in every mode; float32 pairs with a positive finite
 * base and a finite exponent other than 1, 2, 3 within 0.5 + 2^-20 ulp of double pow, the rest
 * equal to the rule in float (powf); float64 equal to the rule with pow. */
static void test_pow(int isa_ref) {
    enum { N = 100003 };
    float *a = malloc(4 * N), *b = malloc(4 * N), *o = malloc(4 * N), *r = malloc(4 * N);
    double *ad = malloc(8 * N), *bd = malloc(8 * N), *od = malloc(8 * N);
    const float sp[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1, 2, 3, -2, 0.5f, -1, 1e-40f, 1e30f, -3, 100, -100};
    for (long i = 0; i < N; i++) {
        a[i] = (float)(urand() * (i % 4 == 0 ? 1e6 : 4)) - (i % 5 == 0 ? 1.0f : 0.0f);
        b[i] = (float)(urand() * (i % 3 == 0 ? 200 : 6) - (i % 3 == 0 ? 100 : 3));
        if (i % 7 == 1) b[i] = (float)(int)b[i];
        if (i % 11 == 2) a[i] = sp[(i / 11) % 16];
        if (i % 13 == 3) b[i] = sp[(i / 13) % 16];
        ad[i] = a[i];
        bd[i] = b[i];
    }
    for (int mode = 0; mode < 3; mode++) {
        long ia = mode == 2 ? 0 : 1, ib = mode == 1 ? 0 : 1;
        int cur = ckernels_isa();
        CHECK(ckernels_sbinary(CKERNELS_POW, N, a, ia, b, ib, o) == 0 && ckernels_dbinary(CKERNELS_POW, N, ad, ia, bd, ib, od) == 0,
              "pow status");
        ckernels_set_isa(isa_ref);
        ckernels_sbinary(CKERNELS_POW, N, a, ia, b, ib, r);
        ckernels_set_isa(cur);
        CHECK(memcmp(o, r, 4 * N) == 0, "spow mode %d differs from the portable build", mode);
        double worst = 0;
        for (long i = 0; i < N; i++) {
            float x = a[i * ia], y = b[i * ib];
            double yd = y, xd = x;
            double wantd = yd == 2 ? xd * xd : yd == 1 ? xd : yd == 3 ? xd * xd * xd : pow(xd, yd);
            CHECK(same_d(od[i], wantd), "dpow(%a, %a) = %a, want %a", xd, yd, od[i], wantd);
            if (x > 0 && isfinite(x) && isfinite(y) && y != 1 && y != 2 && y != 3) {
                double exact = pow(xd, yd);
                if (isinf(exact) || fabs(exact) > FLT_MAX) {
                    CHECK(isinf(o[i]), "spow(%a, %a) = %a, want inf", x, y, o[i]);
                    continue;
                }
                int e = exact == 0 ? -149 : ilogb(exact) - 23;
                if (e < -149) e = -149;
                double err = fabs((double)o[i] - exact) / ldexp(1.0, e);
                if (err > worst) worst = err;
            } else {
                float want = y == 2 ? x * x : y == 1 ? x : y == 3 ? x * x * x : powf(x, y);
                CHECK(same_f(o[i], want), "spow(%a, %a) = %a, want %a", x, y, o[i], want);
            }
        }
        CHECK(worst <= 0.5 + 0x1p-20, "spow mode %d: %.6f ulp", mode, worst);
    }
    CHECK(ckernels_sbinary(CKERNELS_POW, 4, a, 2, b, 1, o) == CKERNELS_EINVAL, "pow with a stride");
    free(a); free(b); free(o); free(r); free(ad); free(bd); free(od);
}

/* float32 <-> float16: the same bits as the portable build (the Swift `Half` rules) for all
 * 65536 halves and 2^20 float patterns (NaN blocks included), at offsets 0-3 and odd lengths. */
static void test_half(int isa_ref) {
    enum { NF = 1 << 20 };
    float *f = malloc(4 * NF), *fo = malloc(4 * 65536), *fr = malloc(4 * 65536);
    uint16_t *h = malloc(2 * 65536), *ho = malloc(2 * NF), *hr = malloc(2 * NF);
    uint64_t s = 12345;
    for (long i = 0; i < NF; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t b = (uint32_t)(s >> 32);
        if (i % 3 == 0) b = (b & 0x80001fffu) | ((uint32_t)(100 + i % 50) << 23) | ((uint32_t)i & 0x7fe000u); /* near half ties */
        memcpy(&f[i], &b, 4);
    }
    for (long i = 0; i < 65536; i++) h[i] = (uint16_t)i;
    for (int off = 0; off < 4; off++) {
        int cur = ckernels_isa();
        CHECK(ckernels_f32_to_f16(NF - off - 5, f + off, ho) == 0 && ckernels_f16_to_f32(65536 - off, h + off, fo) == 0, "half status");
        ckernels_set_isa(isa_ref);
        ckernels_f32_to_f16(NF - off - 5, f + off, hr);
        ckernels_f16_to_f32(65536 - off, h + off, fr);
        ckernels_set_isa(cur);
        CHECK(memcmp(ho, hr, 2 * (size_t)(NF - off - 5)) == 0, "f32_to_f16 differs from the portable build (offset %d)", off);
        CHECK(memcmp(fo, fr, 4 * (size_t)(65536 - off)) == 0, "f16_to_f32 differs from the portable build (offset %d)", off);
    }
    float one = 1.0f, back = 0;
    uint16_t hb = 0;
    CHECK(ckernels_f32_to_f16(1, &one, &hb) == 0 && hb == 0x3c00 && ckernels_f16_to_f32(1, &hb, &back) == 0 && back == 1.0f,
          "1.0 <-> 0x3c00");
    uint16_t snan = 0x7d01;
    uint32_t back_bits = 0;
    CHECK(ckernels_f16_to_f32(1, &snan, &back) == 0 && (memcpy(&back_bits, &back, 4), back_bits == 0x7fa02000u),
          "signaling NaN kept");
    CHECK(ckernels_f32_to_f16(-1, f, ho) == CKERNELS_EINVAL && ckernels_f16_to_f32(3, NULL, fo) == CKERNELS_EINVAL, "bad arguments");
    free(f); free(fo); free(fr); free(h); free(ho); free(hr);
}

/* clamp in one pass against the rule written out here (Swift.max, then Swift.min; NaN in x or
 * a bound gives the default NaN): signed zeros, lo > hi, every length around the vector
 * widths, serial and threaded. */
static float clamp_ref_f(float x, float lo, float hi) {
    if (x != x || lo != lo || hi != hi) return __builtin_nanf("");
    float r = lo >= x ? lo : x;
    return hi < r ? hi : r;
}
static double clamp_ref_d(double x, double lo, double hi) {
    if (x != x || lo != lo || hi != hi) return __builtin_nan("");
    double r = lo >= x ? lo : x;
    return hi < r ? hi : r;
}
static void test_clamp(void) {
    static const long lens[] = {0, 1, 15, 16, 17, 33, 100, 70001};
    const float bounds[][2] = {{-0.5f, 0.5f}, {0.5f, -0.5f}, {-0.0f, 0.0f}, {0.0f, -0.0f}, {NAN, 1.0f}, {-1.0f, NAN}, {-INFINITY, 2.0f}};
    for (int li = 0; li < (int)(sizeof lens / sizeof *lens); li++) {
        long n = lens[li];
        float *x = malloc(4 * (n + 1)), *o = malloc(4 * (n + 1));
        double *xd = malloc(8 * (n + 1)), *od = malloc(8 * (n + 1));
        for (long i = 0; i < n; i++) {
            x[i] = (float)urand();
            if (i % 13 == 4) x[i] = NAN;
            if (i % 17 == 2) x[i] = -0.0f;
            if (i % 19 == 3) x[i] = 0.0f;
            xd[i] = x[i];
        }
        for (int k = 0; k < 7; k++) {
            float lo = bounds[k][0], hi = bounds[k][1];
            CHECK(ckernels_sclamp(n, x, lo, hi, o) == 0 && ckernels_dclamp(n, xd, lo, hi, od) == 0, "clamp status");
            for (long i = 0; i < n; i++) {
                float want = clamp_ref_f(x[i], lo, hi);
                double wantd = clamp_ref_d(xd[i], lo, hi);
                if (memcmp(&o[i], &want, 4) != 0 || memcmp(&od[i], &wantd, 8) != 0) {
                    CHECK(0, "clamp n %ld bounds %d at %ld: %a vs %a", n, k, i, o[i], want);
                    break;
                }
            }
        }
        free(x); free(o); free(xd); free(od);
    }
    CHECK(ckernels_sclamp(-1, NULL, 0, 0, NULL) == CKERNELS_EINVAL, "clamp n < 0");
}

/* Streaming (non-temporal) stores: with the threshold at 0 every contiguous binary, unary and
 * GELU call takes the streaming loops on the 64-byte-aligned middle of each chunk; the bits
 * must equal the ordinary stores' for every output alignment, length and mode. */
static void test_stream(void) {
    static const long lens[] = {1, 15, 16, 17, 33, 100, 4099, 70001};
    const long cap = 70001 + 64;
    float *a = aligned_alloc(64, 4 * cap), *b = aligned_alloc(64, 4 * cap);
    float *o = aligned_alloc(64, 4 * cap), *r = aligned_alloc(64, 4 * cap);
    double *ad = aligned_alloc(64, 8 * cap), *od = aligned_alloc(64, 8 * cap), *rd = aligned_alloc(64, 8 * cap);
    for (long i = 0; i < cap; i++) {
        a[i] = (float)(urand() * 8);
        b[i] = (float)(urand() * 8 + 9);
        ad[i] = urand() * 8;
    }
    for (int li = 0; li < (int)(sizeof lens / sizeof *lens); li++)
        for (long off = 0; off < 17; off += li < 6 ? 1 : 5) {
            long n = lens[li];
            float *so = o + off, *sr = r + off;
            double *sod = od + off, *srd = rd + off;
            for (int kind = 0; kind < CK_NBINARY_TEST + 4; kind++)
                for (int mode = 0; mode < (kind < CK_NBINARY_TEST ? 3 : 1); mode++) {
                    for (int pass = 0; pass < 2; pass++) {
                        long old = ckernels_set_stream_threshold(pass == 0 ? 0 : -1);
                        (void)old;
                        float *fo = pass == 0 ? so : sr;
                        double *dout = pass == 0 ? sod : srd;
                        memset(fo, 0x7f, 4 * n);
                        memset(dout, 0x7f, 8 * n);
                        if (kind < CK_NBINARY_TEST) {
                            long ia = mode == 2 ? 0 : 1, ib = mode == 1 ? 0 : 1;
                            CHECK(ckernels_sbinary(kind, n, a + 3, ia, b, ib, fo) == 0, "stream sbinary status");
                            CHECK(ckernels_dbinary(kind, n, ad + 1, ia, ad, ib, dout) == 0, "stream dbinary status");
                        } else if (kind == CK_NBINARY_TEST) {
                            ckernels_sunary(CKERNELS_EXP, n, a + 1, fo);
                            ckernels_dunary(CKERNELS_TANH, n, ad + 2, dout);
                        } else if (kind == CK_NBINARY_TEST + 1) {
                            ckernels_sunary(CKERNELS_SIN, n, a, fo); /* float held in double */
                            ckernels_dunary(CKERNELS_NEG, n, ad, dout);
                        } else if (kind == CK_NBINARY_TEST + 2) {
                            ckernels_sunary(CKERNELS_SQUARE, n, a, fo);
                            ckernels_dunary(CKERNELS_ERF, n, ad, dout); /* no streaming loop */
                        } else {
                            ckernels_sgelu(0, n, a, fo);
                            ckernels_dgelu(1, n, ad, dout);
                        }
                    }
                    ckernels_set_stream_threshold(-1);
                    for (long i = 0; i < n; i++)
                        if (!same_f(so[i], sr[i]) || !same_d(sod[i], srd[i])) {
                            CHECK(0, "stream kind %d mode %d n %ld offset %ld at %ld: %a vs %a, %a vs %a",
                                  kind, mode, n, off, i, so[i], sr[i], sod[i], srd[i]);
                            break;
                        }
                }
        }
    free(a); free(b); free(o); free(r); free(ad); free(od); free(rd);
}

int main(void) {
    int best = ckernels_isa();
    printf("CPU level %s, %d threads\n", ckernels_isa_name(), ckernels_num_threads());
    test_pool();
    for (int level = best;; level--) {
        if (level == CKERNELS_ISA_NEON && best != CKERNELS_ISA_NEON) continue;
        ckernels_set_isa(level);
        int before = failures;
        test_gemm();
        test_elementwise(CKERNELS_ISA_SCALAR);
        test_reductions(CKERNELS_ISA_SCALAR);
        test_half(CKERNELS_ISA_SCALAR);
        test_pow(CKERNELS_ISA_SCALAR);
        test_stream();
        test_clamp();
        printf("%-7s %s\n", ckernels_isa_name(), failures == before ? "ok" : "FAILED");
        if (level == CKERNELS_ISA_SCALAR || level == CKERNELS_ISA_NEON) break;
    }
    if (best == CKERNELS_ISA_NEON) { /* NEON's reference: the portable build */
        ckernels_set_isa(CKERNELS_ISA_SCALAR);
        test_gemm();
    }
    printf(failures ? "%d FAILURES\n" : "all tests passed\n", failures);
    return failures != 0;
}
