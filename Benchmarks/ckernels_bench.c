/* Throughput benchmark for CKernels (not part of the package build).
 *
 * Build: clang -O2 -ISources/CKernels/include Sources/CKernels/[a-z]*.c Benchmarks/ckernels_bench.c \
 *           -o /tmp/ckernels_bench -lpthread -lm
 * Run:   /tmp/ckernels_bench [--threads N] [--isa avx2|avx512|scalar] [--json] [--only PREFIX]
 *                            [--secs S] [--serve]
 * --serve reads case names from stdin, one per line, and answers each with one JSON line
 * (used by ckernels_compare.py to interleave the libraries case by case).
 * Prints one line per case: GFLOP/s for GEMM, GB/s (bytes read + written) and Gelem/s for
 * element-wise ops, each the median of 5 timed batches of about S/5 seconds (default S = 0.5).
 * Benchmarks/ckernels_compare.py runs this, NumPy and PyTorch in turns and prints ratios.
 */
#include "CKernels.h"

#define _GNU_SOURCE /* madvise */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int json = 0, first = 1, serve = 0;
static const char *only = NULL;
static double secs = 0.5;

typedef void (*case_fn)(void *);

/* Buffers as NumPy / PyTorch get them: 64-byte aligned; from 4 MiB on, 2 MiB aligned and
 * advised for transparent huge pages (NumPy does that for large arrays). Plain malloc (16-byte
 * offset, 4 KiB pages) measured up to 2x slower for 16M-element element-wise ops on 2 threads. */
static void *bench_alloc(size_t bytes) {
    void *p = NULL;
    size_t align = bytes >= (4u << 20) ? (2u << 20) : 64;
    size_t rounded = (bytes + align - 1) / align * align;
    if (posix_memalign(&p, align, rounded) != 0) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (align > 64) madvise(p, rounded, MADV_HUGEPAGE);
#endif
    return p;
}

/* Median seconds per call over 5 batches. */
static double time_case(case_fn fn, void *ctx) {
    fn(ctx); /* warm-up: page faults, packing buffers, pool start */
    double t0 = now();
    long calls = 0;
    while (now() - t0 < secs / 10 || calls < 2) {
        fn(ctx);
        calls++;
    }
    double per = (now() - t0) / (double)calls;
    long reps = (long)(secs / 5 / per);
    if (reps < 1) reps = 1;
    double t[5];
    for (int b = 0; b < 5; b++) {
        double s = now();
        for (long r = 0; r < reps; r++) fn(ctx);
        t[b] = (now() - s) / (double)reps;
    }
    for (int i = 0; i < 5; i++)
        for (int j = i + 1; j < 5; j++)
            if (t[j] < t[i]) { double x = t[i]; t[i] = t[j]; t[j] = x; }
    return t[2];
}

static void report(const char *name, const char *unit, double value, double seconds) {
    if (serve) {
        printf("{\"name\": \"%s\", \"unit\": \"%s\", \"value\": %.4f, \"us\": %.3f}\n", name, unit,
               value, seconds * 1e6);
    } else if (json) {
        printf("%s\n  {\"name\": \"%s\", \"unit\": \"%s\", \"value\": %.4f, \"us\": %.3f}", first ? "[" : ",",
               name, unit, value, seconds * 1e6);
    } else {
        printf("%-34s %9.2f %-8s (%10.1f us)\n", name, value, unit, seconds * 1e6);
    }
    first = 0;
    fflush(stdout);
}

static int wanted(const char *name) {
    if (serve) return strcmp(name, only) == 0;
    return only == NULL || strncmp(name, only, strlen(only)) == 0;
}

/* ---- GEMM ---- */
typedef struct {
    long M, N, K;
    int ta, tb, dbl;
    void *A, *B, *C;
} gemm_ctx;

static void gemm_call(void *v) {
    gemm_ctx *g = (gemm_ctx *)v;
    long rsA = g->ta ? 1 : g->K, csA = g->ta ? g->M : 1;
    long rsB = g->tb ? 1 : g->N, csB = g->tb ? g->K : 1;
    if (g->dbl)
        ckernels_dgemm(g->M, g->N, g->K, 1.0, g->A, rsA, csA, g->B, rsB, csB, 0.0, g->C, g->N, 1);
    else
        ckernels_sgemm(g->M, g->N, g->K, 1.0f, g->A, rsA, csA, g->B, rsB, csB, 0.0f, g->C, g->N, 1);
}

static void bench_gemm(long M, long N, long K, int ta, int tb, int dbl) {
    char name[96];
    snprintf(name, sizeof name, "%cgemm %s%ldx%ldx%ld%s", dbl ? 'd' : 's', ta ? "T" : "", M, N, K, tb ? "T" : "");
    if (M == N && N == K && !ta && !tb) snprintf(name, sizeof name, "%cgemm %ld", dbl ? 'd' : 's', M);
    if (!wanted(name)) return;
    size_t es = dbl ? 8 : 4;
    gemm_ctx g = {M, N, K, ta, tb, dbl, bench_alloc(es * M * K), bench_alloc(es * K * N),
                  bench_alloc(es * M * N)};
    for (long i = 0; i < M * K; i++) {
        if (dbl) ((double *)g.A)[i] = (double)(i % 17) * 0.1; else ((float *)g.A)[i] = (float)(i % 17) * 0.1f;
    }
    for (long i = 0; i < K * N; i++) {
        if (dbl) ((double *)g.B)[i] = (double)(i % 13) * 0.1; else ((float *)g.B)[i] = (float)(i % 13) * 0.1f;
    }
    double t = time_case(gemm_call, &g);
    report(name, "GFLOP/s", 2.0 * (double)M * (double)N * (double)K / t / 1e9, t);
    free(g.A); free(g.B); free(g.C);
}

/* ---- element-wise ---- */
typedef struct {
    int kind; /* 0 binary, 1 unary, 2 sum, 3 max, 4 binary scalar */
    int op, dbl;
    long n;
    void *a, *b, *out;
} ew_ctx;

static void ew_call(void *v) {
    ew_ctx *e = (ew_ctx *)v;
    float r;
    double rd;
    long idx;
    switch (e->kind) {
    case 0:
        if (e->dbl) ckernels_dbinary(e->op, e->n, e->a, 1, e->b, 1, e->out);
        else ckernels_sbinary(e->op, e->n, e->a, 1, e->b, 1, e->out);
        break;
    case 4: ckernels_sbinary(e->op, e->n, e->a, 1, e->b, 0, e->out); break;
    case 1:
        if (e->dbl) ckernels_dunary(e->op, e->n, e->a, e->out);
        else ckernels_sunary(e->op, e->n, e->a, e->out);
        break;
    case 2:
        if (e->dbl) ckernels_dsum(e->n, e->a, &rd);
        else ckernels_ssum(e->n, e->a, &r);
        break;
    default:
        if (e->dbl) ckernels_dmax(e->n, e->a, &rd, &idx);
        else ckernels_smax(e->n, e->a, &r, &idx);
        break;
    }
}

static void bench_ew(const char *label, int kind, int op, int dbl, long n) {
    char name[96];
    snprintf(name, sizeof name, "%s %s %ldM", label, dbl ? "f64" : "f32", n >> 20);
    if (!wanted(name)) return;
    size_t es = dbl ? 8 : 4;
    ew_ctx e = {kind, op, dbl, n, bench_alloc(es * n), bench_alloc(es * n), bench_alloc(es * n)};
    for (long i = 0; i < n; i++) {
        double x = (double)((i * 7919) % 1000) / 250.0 - 2.0 + 1e-3; /* (-2, 2), never 0 */
        if (dbl) { ((double *)e.a)[i] = x; ((double *)e.b)[i] = x + 3; ((double *)e.out)[i] = 0; }
        else { ((float *)e.a)[i] = (float)x; ((float *)e.b)[i] = (float)x + 3; ((float *)e.out)[i] = 0; }
    }
    if (op == CKERNELS_LOG && kind == 1)
        for (long i = 0; i < n; i++) {
            if (dbl) ((double *)e.a)[i] = fabs(((double *)e.a)[i]);
            else ((float *)e.a)[i] = fabsf(((float *)e.a)[i]);
        }
    double t = time_case(ew_call, &e);
    int streams = kind == 0 ? 3 : (kind == 1 || kind == 4) ? 2 : 1;
    report(name, "GB/s", (double)streams * (double)es * (double)n / t / 1e9, t);
    free(e.a); free(e.b); free(e.out);
}

static void run_all(void) {
    static const long sq[] = {64, 128, 256, 384, 512, 768, 1024, 1536, 2048};
    for (int i = 0; i < 9; i++) bench_gemm(sq[i], sq[i], sq[i], 0, 0, 0);
    /* tall-skinny and neural-network shapes; T marks a transposed operand (x W^T, dY^T X) */
    bench_gemm(128, 512, 784, 0, 1, 0);   /* MLP forward: x[128,784] W1^T */
    bench_gemm(128, 10, 512, 0, 1, 0);    /* MLP forward: h W2^T */
    bench_gemm(512, 784, 128, 1, 0, 0);   /* MLP backward: dW1 = dY^T x */
    bench_gemm(128, 784, 512, 0, 0, 0);   /* MLP backward: dX = dY W1 */
    bench_gemm(8192, 64, 256, 0, 0, 0);
    bench_gemm(64, 8192, 256, 0, 0, 0);
    bench_gemm(4096, 4096, 32, 0, 0, 0);
    bench_gemm(32, 32, 65536, 0, 0, 0);
    bench_gemm(1, 4096, 4096, 0, 0, 0);   /* vector x matrix */
    bench_gemm(4096, 1, 4096, 0, 0, 0);   /* matrix x vector */
    bench_gemm(256, 256, 256, 0, 0, 1);
    bench_gemm(512, 512, 512, 0, 0, 1);
    bench_gemm(1024, 1024, 1024, 0, 0, 1);

    const long n = 16L << 20;
    bench_ew("add", 0, CKERNELS_ADD, 0, n);
    bench_ew("mul", 0, CKERNELS_MUL, 0, n);
    bench_ew("mul scalar", 4, CKERNELS_MUL, 0, n);
    bench_ew("exp", 1, CKERNELS_EXP, 0, n);
    bench_ew("log", 1, CKERNELS_LOG, 0, n);
    bench_ew("tanh", 1, CKERNELS_TANH, 0, n);
    bench_ew("sigmoid", 1, CKERNELS_SIGMOID, 0, n);
    bench_ew("relu", 1, CKERNELS_RELU, 0, n);
    bench_ew("sum", 2, 0, 0, n);
    bench_ew("max", 3, 0, 0, n);
    bench_ew("add", 0, CKERNELS_ADD, 1, n);
    bench_ew("exp", 1, CKERNELS_EXP, 1, n);
    bench_ew("sum", 2, 0, 1, n);
}

int main(int argc, char **argv) {
    int threads = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (strcmp(argv[i], "--serve") == 0) serve = 1;
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
        else if (strcmp(argv[i], "--secs") == 0 && i + 1 < argc) secs = atof(argv[++i]);
        else if (strcmp(argv[i], "--isa") == 0 && i + 1 < argc) {
            const char *s = argv[++i];
            ckernels_set_isa(strcmp(s, "scalar") == 0 ? CKERNELS_ISA_SCALAR
                             : strcmp(s, "avx2") == 0 ? CKERNELS_ISA_AVX2 : CKERNELS_ISA_AVX512);
        }
    }
    if (threads > 0) ckernels_set_num_threads(threads);
    if (serve) {
        char line[256];
        while (fgets(line, sizeof line, stdin) != NULL) {
            line[strcspn(line, "\r\n")] = '\0';
            only = line;
            run_all();
            printf("{}\n"); /* end of answer */
            fflush(stdout);
        }
        return 0;
    }
    if (!json) printf("CKernels: isa %s, %d threads\n", ckernels_isa_name(), ckernels_num_threads());
    run_all();
    if (json) printf("\n]\n");
    return 0;
}
