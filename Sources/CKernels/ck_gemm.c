/* GEMM: public entry points, portable micro-kernels, packing scratch. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* posix_memalign */
#endif
#include "ck_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* ---- per-thread packing scratch, freed when the thread exits ---- */
static pthread_key_t ck_scratch_key;
static pthread_once_t ck_scratch_once = PTHREAD_ONCE_INIT;
static __thread void *tl_scratch;
static __thread size_t tl_scratch_cap;

static void ck_scratch_make_key(void) { pthread_key_create(&ck_scratch_key, free); }

void *ck_scratch(size_t bytes) {
    if (CK_LIKELY(tl_scratch_cap >= bytes)) return tl_scratch;
    pthread_once(&ck_scratch_once, ck_scratch_make_key);
    free(tl_scratch);
    tl_scratch = NULL;
    tl_scratch_cap = 0;
    pthread_setspecific(ck_scratch_key, NULL);
    bytes = (bytes + 4095) & ~(size_t)4095;
    void *p = NULL;
    if (posix_memalign(&p, 4096, bytes) != 0) return NULL;
    tl_scratch = p;
    tl_scratch_cap = bytes;
    pthread_setspecific(ck_scratch_key, p);
    return p;
}

/* ---- portable micro-kernels (4 x 8), written so compilers can vectorize the j loops ---- */
#define CK_PORTABLE_UKR(NAME, T)                                                               \
    static void NAME(long k, const T *a, const T *b, T *c, long rsc, T alpha, T beta, int m,   \
                     int n) {                                                                  \
        T acc[4][8] = {{0}};                                                                   \
        for (long p = 0; p < k; p++, a += 4, b += 8)                                           \
            for (int i = 0; i < 4; i++)                                                        \
                for (int j = 0; j < 8; j++) acc[i][j] += a[i] * b[j];                          \
        for (int i = 0; i < m; i++)                                                            \
            for (int j = 0; j < n; j++)                                                        \
                c[i * rsc + j] = beta == (T)0 ? alpha * acc[i][j]                              \
                                              : alpha * acc[i][j] + beta * c[i * rsc + j];     \
    }
CK_PORTABLE_UKR(ck_sukr_scalar_4x8, float)
CK_PORTABLE_UKR(ck_dukr_scalar_4x8, double)

static const ck_sgemm_desc ck_sdesc_scalar = {4, 8, 256, 128, 2048, ck_sukr_scalar_4x8, 1, 0,
                                              NULL, NULL, NULL, NULL, NULL, 0};
static const ck_dgemm_desc ck_ddesc_scalar = {4, 8, 256, 64, 2048, ck_dukr_scalar_4x8, 1, 0,
                                              NULL, NULL, NULL, NULL, NULL, 0};
const ck_sgemm_desc *ck_sgemm_desc_scalar(void) { return &ck_sdesc_scalar; }
const ck_dgemm_desc *ck_dgemm_desc_scalar(void) { return &ck_ddesc_scalar; }

static const ck_sgemm_desc *ck_sdesc_now(void) {
    switch (ck_isa_now()) {
#if CK_X86
    case CKERNELS_ISA_AVX512: return ck_sgemm_desc_avx512();
    case CKERNELS_ISA_AVX2: return ck_sgemm_desc_avx2();
#endif
#if CK_NEON
    case CKERNELS_ISA_NEON: return ck_sgemm_desc_neon();
#endif
    default: return ck_sgemm_desc_scalar();
    }
}

static const ck_dgemm_desc *ck_ddesc_now(void) {
    switch (ck_isa_now()) {
#if CK_X86
    case CKERNELS_ISA_AVX512: return ck_dgemm_desc_avx512();
    case CKERNELS_ISA_AVX2: return ck_dgemm_desc_avx2();
#endif
#if CK_NEON
    case CKERNELS_ISA_NEON: return ck_dgemm_desc_neon();
#endif
    default: return ck_dgemm_desc_scalar();
    }
}

/* Its address tells threads apart (ck_gemm_driver.inc: which end of the slices to take). */
static __thread char ck_gemm_thread_mark;

/* Below this many multiply-adds a GEMM stays on one thread. */
#define CK_GEMM_PAR_MIN (2.0 * 64 * 64 * 64)

#define CK_T float
#define CK_P(x) ck_s##x
#define CK_DESC ck_sgemm_desc
#define CK_DESC_NOW ck_sdesc_now
#define CK_VEC_DOT ck_vec_now()->sdot
#define CK_VEC_AXPY ck_vec_now()->saxpy
#include "ck_gemm_driver.inc"
#undef CK_VEC_DOT
#undef CK_VEC_AXPY
#undef CK_T
#undef CK_P
#undef CK_DESC
#undef CK_DESC_NOW

#define CK_T double
#define CK_P(x) ck_d##x
#define CK_DESC ck_dgemm_desc
#define CK_DESC_NOW ck_ddesc_now
#define CK_VEC_DOT ck_vec_now()->ddot
#define CK_VEC_AXPY ck_vec_now()->daxpy
#include "ck_gemm_driver.inc"
#undef CK_VEC_DOT
#undef CK_VEC_AXPY
#undef CK_T
#undef CK_P
#undef CK_DESC
#undef CK_DESC_NOW

int ckernels_sgemm(long M, long N, long K, float alpha, const float *A, long rsA, long csA,
                   const float *B, long rsB, long csB, float beta, float *C, long rsC, long csC) {
    return ck_sgemm(ck_threads_available(), M, N, K, alpha, A, rsA, csA, B, rsB, csB, beta, C,
                    rsC, csC);
}

int ckernels_dgemm(long M, long N, long K, double alpha, const double *A, long rsA, long csA,
                   const double *B, long rsB, long csB, double beta, double *C, long rsC,
                   long csC) {
    return ck_dgemm(ck_threads_available(), M, N, K, alpha, A, rsA, csA, B, rsB, csB, beta, C,
                    rsC, csC);
}

/* ---- batched ---- */
#define CK_BATCHED(P, T)                                                                       \
    typedef struct {                                                                           \
        long M, N, K;                                                                          \
        T alpha, beta;                                                                         \
        const T *A;                                                                            \
        long bsA, rsA, csA;                                                                    \
        const T *B;                                                                            \
        long bsB, rsB, csB;                                                                    \
        T *C;                                                                                  \
        long bsC, rsC, csC;                                                                    \
        int err;                                                                               \
    } ck_##P##batch_ctx;                                                                       \
    static void ck_##P##batch_task(void *v, long begin, long end) {                            \
        ck_##P##batch_ctx *x = (ck_##P##batch_ctx *)v;                                         \
        for (long i = begin; i < end; i++) {                                                   \
            int st = ck_##P##gemm(1, x->M, x->N, x->K, x->alpha, x->A + i * x->bsA, x->rsA,     \
                                  x->csA, x->B + i * x->bsB, x->rsB, x->csB, x->beta,           \
                                  x->C + i * x->bsC, x->rsC, x->csC);                          \
            if (st != CKERNELS_OK) x->err = st;                                                \
        }                                                                                      \
    }                                                                                          \
    int ckernels_##P##gemm_batched(long batch, long M, long N, long K, T alpha, const T *A,     \
                                   long bsA, long rsA, long csA, const T *B, long bsB,         \
                                   long rsB, long csB, T beta, T *C, long bsC, long rsC,       \
                                   long csC) {                                                 \
        if (batch < 0 || M < 0 || N < 0 || K < 0) return CKERNELS_EINVAL;                      \
        if (batch == 0 || M == 0 || N == 0) return CKERNELS_OK;                                \
        double work = (double)M * (double)N * (double)K;                                       \
        int threads = ck_threads_available();                                                  \
        /* whole products per thread up to about 200^3 (one parallel region, not one per       \
         * product: [64, 128, 128] 0.91 -> 0.84 ms); larger ones one at a time on all threads  \
         * (their own split is as fast: [16, 256, 256] 1.56 ms either way) */                  \
        if (threads > 1 && batch > 1 && work <= 16.0 * CK_GEMM_PAR_MIN &&                      \
            work * (double)batch >= CK_GEMM_PAR_MIN) {                                         \
            ck_##P##batch_ctx x = {M,   N,   K,   alpha, beta, A,   bsA, rsA, csA,             \
                                   B,   bsB, rsB, csB,   C,    bsC, rsC, csC, CKERNELS_OK};    \
            long grain = (long)(CK_GEMM_PAR_MIN / work) + 1;                                   \
            long chunk = (batch - 1) / (4L * threads) + 1;                                     \
            ck_parallel_chunks(batch, chunk > grain ? chunk : grain, ck_##P##batch_task, &x);  \
            return x.err;                                                                      \
        }                                                                                      \
        for (long i = 0; i < batch; i++) {                                                     \
            int st = ck_##P##gemm(threads, M, N, K, alpha, A + i * bsA, rsA, csA, B + i * bsB, \
                                  rsB, csB, beta, C + i * bsC, rsC, csC);                      \
            if (st != CKERNELS_OK) return st;                                                  \
        }                                                                                      \
        return CKERNELS_OK;                                                                    \
    }
CK_BATCHED(s, float)
CK_BATCHED(d, double)
