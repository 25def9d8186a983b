/* Softmax and log-softmax along one dim, forward and backward: argument checks, ISA dispatch,
 * parallel splitting. The kernels are in ck_softmax_tmpl.inc. */
#include "ck_internal.h"

/* Parallel from this many elements on (exp-bound work; PyTorch's grain is 32K too). */
#define CK_SMX_PAR (1L << 15)
/* Columns per work item when the softmax dim is not the last one. */
#define CK_SMX_COLS 64L

static const ck_softmax_table *ck_softmax_now(void) {
    switch (ck_isa_now()) {
#if CK_X86
    case CKERNELS_ISA_AVX512: return ck_softmax_table_avx512();
    case CKERNELS_ISA_AVX2: return ck_softmax_table_avx2();
#endif
#if CK_NEON
    case CKERNELS_ISA_NEON: return ck_softmax_table_neon();
#endif
    default: return ck_softmax_table_scalar();
    }
}

typedef struct {
    const ck_softmax_table *t;
    int dbl, log, bwd;
    long n, inner, groups; /* groups: column groups of CK_SMX_COLS per outer slice */
    const void *a, *b;     /* forward: x; backward: y, g */
    void *out;
} ck_smx_ctx;

static void ck_smx_rows_chunk(void *v, long begin, long end) {
    const ck_smx_ctx *c = (const ck_smx_ctx *)v;
    long off = begin * c->n, rows = end - begin;
    if (c->dbl) {
        const double *a = (const double *)c->a + off, *b = c->b ? (const double *)c->b + off : NULL;
        double *o = (double *)c->out + off;
        if (c->bwd) c->t->drows_bwd(rows, c->n, a, b, o, c->log);
        else c->t->drows(rows, c->n, a, o, c->log);
    } else {
        const float *a = (const float *)c->a + off, *b = c->b ? (const float *)c->b + off : NULL;
        float *o = (float *)c->out + off;
        if (c->bwd) c->t->srows_bwd(rows, c->n, a, b, o, c->log);
        else c->t->srows(rows, c->n, a, o, c->log);
    }
}

static void ck_smx_cols_chunk(void *v, long begin, long end) {
    const ck_smx_ctx *c = (const ck_smx_ctx *)v;
    for (long item = begin; item < end; item++) {
        long o = item / c->groups, c0 = (item % c->groups) * CK_SMX_COLS;
        long width = c->inner - c0 < CK_SMX_COLS ? c->inner - c0 : CK_SMX_COLS;
        long off = o * c->n * c->inner + c0;
        if (c->dbl) {
            const double *a = (const double *)c->a + off, *b = c->b ? (const double *)c->b + off : NULL;
            double *out = (double *)c->out + off;
            if (c->bwd) c->t->dcols_bwd(c->n, c->inner, width, a, b, out, c->log);
            else c->t->dcols(c->n, c->inner, width, a, out, c->log);
        } else {
            const float *a = (const float *)c->a + off, *b = c->b ? (const float *)c->b + off : NULL;
            float *out = (float *)c->out + off;
            if (c->bwd) c->t->scols_bwd(c->n, c->inner, width, a, b, out, c->log);
            else c->t->scols(c->n, c->inner, width, a, out, c->log);
        }
    }
}

static int ck_smx_run(int dbl, int bwd, long outer, long n, long inner, const void *a, const void *b,
                      void *out, int log) {
    if (outer < 0 || n < 0 || inner < 0) return CKERNELS_EINVAL;
    if (outer == 0 || n == 0 || inner == 0) return CKERNELS_OK;
    if (a == NULL || out == NULL || (bwd && b == NULL)) return CKERNELS_EINVAL;
    ck_smx_ctx c = {ck_softmax_now(), dbl, log != 0, bwd, n, inner, 0, a, b, out};
    const long total = outer * n * inner;
    if (inner == 1) {
        long grain = (CK_SMX_PAR / 2) / n;
        if (total < CK_SMX_PAR) ck_smx_rows_chunk(&c, 0, outer);
        else ckernels_parallel_for(outer, grain < 1 ? 1 : grain, ck_smx_rows_chunk, &c);
    } else {
        c.groups = (inner + CK_SMX_COLS - 1) / CK_SMX_COLS;
        long items = outer * c.groups;
        long per_item = n * (inner < CK_SMX_COLS ? inner : CK_SMX_COLS);
        long grain = (CK_SMX_PAR / 2) / per_item;
        if (total < CK_SMX_PAR) ck_smx_cols_chunk(&c, 0, items);
        else ckernels_parallel_for(items, grain < 1 ? 1 : grain, ck_smx_cols_chunk, &c);
    }
    return CKERNELS_OK;
}

int ckernels_ssoftmax(long outer, long n, long inner, const float *x, float *y, int log) {
    return ck_smx_run(0, 0, outer, n, inner, x, NULL, y, log);
}

int ckernels_dsoftmax(long outer, long n, long inner, const double *x, double *y, int log) {
    return ck_smx_run(1, 0, outer, n, inner, x, NULL, y, log);
}

int ckernels_ssoftmax_backward(long outer, long n, long inner, const float *y, const float *g, float *gx,
                               int log) {
    return ck_smx_run(0, 1, outer, n, inner, y, g, gx, log);
}

int ckernels_dsoftmax_backward(long outer, long n, long inner, const double *y, const double *g,
                               double *gx, int log) {
    return ck_smx_run(1, 1, outer, n, inner, y, g, gx, log);
}

/* ---- the index of each row's maximum or minimum ---- */

typedef struct {
    const ck_softmax_table *t; /* rows */
    int dbl, is_max;
    long n, inner, groups; /* columns: inner > 1, in groups of CK_SMX_COLS */
    const void *x;
    void *values;
    int64_t *indices;
} ck_argext_ctx;

static void ck_argext_chunk(void *v, long begin, long end) {
    const ck_argext_ctx *c = (const ck_argext_ctx *)v;
    if (c->dbl)
        c->t->dargext_rows(end - begin, c->n, (const double *)c->x + begin * c->n, c->is_max,
                           (double *)c->values + begin, c->indices + begin);
    else
        c->t->sargext_rows(end - begin, c->n, (const float *)c->x + begin * c->n, c->is_max,
                           (float *)c->values + begin, c->indices + begin);
}

static int ck_argext_run(int dbl, long rows, long n, const void *x, int isMax, void *values,
                         int64_t *indices) {
    if (rows < 0 || n < 1) return CKERNELS_EINVAL;
    if (rows == 0) return CKERNELS_OK;
    if (x == NULL || values == NULL || indices == NULL) return CKERNELS_EINVAL;
    ck_argext_ctx c = {ck_softmax_now(), dbl, isMax != 0, n, 1, 1, x, values, indices};
    /* memory-bound: parallel from 64K elements, ~32K per chunk */
    if (rows * n < 2 * CK_SMX_PAR) ck_argext_chunk(&c, 0, rows);
    else ckernels_parallel_for(rows, (CK_SMX_PAR + n - 1) / n, ck_argext_chunk, &c);
    return CKERNELS_OK;
}

int ckernels_sargext_rows(long rows, long n, const float *x, int isMax, float *values, int64_t *indices) {
    return ck_argext_run(0, rows, n, x, isMax, values, indices);
}

int ckernels_dargext_rows(long rows, long n, const double *x, int isMax, double *values, int64_t *indices) {
    return ck_argext_run(1, rows, n, x, isMax, values, indices);
}

/* ---- the same along a middle dimension: columns of an [outer, n, inner] array ---- */

/* `width` adjacent columns of one [n, inner] slice: best / index per column, the rules of
 * ck_smx_argext (first NaN latched, else strictly better replaces), written so that the loops
 * over columns vectorize. */
#define CK_ARGEXT_COLS(P, T)                                                                      \
    static void ck_##P##argext_cols(const T *x, long n, long inner, long width, int is_max,       \
                                    T *best, int64_t *index, unsigned char *nan) {              \
        for (long j = 0; j < width; j++) {                                                      \
            best[j] = x[j];                                                                     \
            index[j] = 0;                                                                       \
            nan[j] = x[j] != x[j];                                                              \
        }                                                                                       \
        for (long k = 1; k < n; k++) {                                                          \
            const T *row = x + k * inner;                                                       \
            for (long j = 0; j < width; j++) {                                                  \
                const T v = row[j];                                                             \
                const int isnan_v = v != v;                                                     \
                const int better = is_max ? v > best[j] : v < best[j];                          \
                const int take = !nan[j] && (isnan_v || better);                                \
                best[j] = take ? v : best[j];                                                   \
                index[j] = take ? (int64_t)k : index[j];                                        \
                nan[j] = (unsigned char)(nan[j] | isnan_v);                                     \
            }                                                                                   \
        }                                                                                       \
    }
CK_ARGEXT_COLS(s, float)
CK_ARGEXT_COLS(d, double)

static void ck_argext_cols_chunk(void *v, long begin, long end) {
    const ck_argext_ctx *c = (const ck_argext_ctx *)v;
    unsigned char nan[CK_SMX_COLS];
    for (long item = begin; item < end; item++) {
        const long o = item / c->groups, j0 = (item % c->groups) * CK_SMX_COLS;
        const long j1 = j0 + CK_SMX_COLS < c->inner ? j0 + CK_SMX_COLS : c->inner;
        const long in_off = o * c->n * c->inner + j0, out_off = o * c->inner + j0;
        if (c->dbl)
            ck_dargext_cols((const double *)c->x + in_off, c->n, c->inner, j1 - j0, c->is_max,
                            (double *)c->values + out_off, c->indices + out_off, nan);
        else
            ck_sargext_cols((const float *)c->x + in_off, c->n, c->inner, j1 - j0, c->is_max,
                            (float *)c->values + out_off, c->indices + out_off, nan);
    }
}

static int ck_argext_dim_run(int dbl, long outer, long n, long inner, const void *x, int isMax,
                             void *values, int64_t *indices) {
    if (outer < 0 || n < 1 || inner < 1) return CKERNELS_EINVAL;
    if (outer == 0) return CKERNELS_OK;
    if (x == NULL || values == NULL || indices == NULL) return CKERNELS_EINVAL;
    if (inner == 1) return ck_argext_run(dbl, outer, n, x, isMax, values, indices);
    ck_argext_ctx c = {NULL, dbl, isMax != 0, n, inner, (inner + CK_SMX_COLS - 1) / CK_SMX_COLS, x, values,
                       indices};
    const long items = outer * c.groups, per_item = n * (inner < CK_SMX_COLS ? inner : CK_SMX_COLS);
    if (outer * n * inner < 2 * CK_SMX_PAR) ck_argext_cols_chunk(&c, 0, items);
    else ckernels_parallel_for(items, (CK_SMX_PAR + per_item - 1) / per_item, ck_argext_cols_chunk, &c);
    return CKERNELS_OK;
}

int ckernels_sargext_dim(long outer, long n, long inner, const float *x, int isMax, float *values,
                         int64_t *indices) {
    return ck_argext_dim_run(0, outer, n, inner, x, isMax, values, indices);
}

int ckernels_dargext_dim(long outer, long n, long inner, const double *x, int isMax, double *values,
                         int64_t *indices) {
    return ck_argext_dim_run(1, outer, n, inner, x, isMax, values, indices);
}
