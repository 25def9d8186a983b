/* Element-wise operations and reductions: argument checks, dispatch, parallel splitting. */
#include "ck_internal.h"

#include <math.h>
#include <stdint.h>
#if CK_X86
#include <immintrin.h>
#endif

/* Parallel above these sizes (elements); chunks hold at least half of it. A region costs
 * ~0.5-1 us when workers are spinning; 32K elements per chunk is also PyTorch's grain. */
#define CK_PAR_EXACT (1L << 16)
#define CK_PAR_TRANSC (1L << 15)
#define CK_PAR_REDUCE (1L << 16)
/* Chunks start at multiples of this many elements (whole cache lines, aligned vectors). */
#define CK_UNIT 256L

static int ck_is_transcendental(int op) {
    return op == CKERNELS_EXP || op == CKERNELS_LOG || op == CKERNELS_TANH || op == CKERNELS_SIGMOID ||
           op == CKERNELS_ERF || op == CKERNELS_SIN || op == CKERNELS_COS || op == CKERNELS_LOG1P ||
           (op >= CKERNELS_TAN && op <= CKERNELS_SILU);
}

/* Splits [0, n) into units of CK_UNIT elements over the pool. */
static void ck_parallel_units(long n, long threshold, ckernels_range_fn fn, void *ctx) {
    int threads = ck_threads_available();
    if (n < threshold || threads <= 1) {
        fn(ctx, 0, n);
        return;
    }
    long units = (n + CK_UNIT - 1) / CK_UNIT;
    long chunk = (units - 1) / (4L * threads) + 1; /* ~4 chunks per thread */
    long min_chunk = threshold / (2 * CK_UNIT);
    if (chunk < min_chunk) chunk = min_chunk;
    ck_parallel_chunks(n, chunk * CK_UNIT, fn, ctx);
}

/* `rows` rows of `cols` elements, whole rows per chunk of about CK_PAR_EXACT / 2 elements; on
 * this thread below CK_PAR_EXACT elements or without workers. */
static void ck_parallel_rows(long rows, long cols, ckernels_range_fn fn, void *ctx) {
    long grain = (CK_PAR_EXACT / 2 + cols - 1) / cols;
    if ((double)rows * (double)cols < (double)CK_PAR_EXACT || ck_threads_available() <= 1) grain = rows;
    ck_parallel_chunks(rows, grain, fn, ctx);
}

/* Splits [begin, end) of an output of `size`-byte elements at `out` around [*mid, *stop): the
 * part that starts on a 64-byte boundary and holds whole 64-byte lines, where non-temporal
 * stores go. Empty when the elements do not tile the lines. */
static void ck_stream_span(const void *out, long size, long begin, long end, long *mid, long *stop) {
    uintptr_t at = (uintptr_t)out + (uintptr_t)(begin * size);
    long gap = (long)((64 - at % 64) % 64);
    if (gap % size != 0) {
        *mid = *stop = end;
        return;
    }
    long m = begin + gap / size;
    if (m > end) m = end;
    long per_line = 64 / size;
    *mid = m;
    *stop = m + (end - m) / per_line * per_line;
}

/* Orders this thread's non-temporal stores before the pool reports the chunk done. */
static void ck_stream_fence(void) {
#if CK_X86
    _mm_sfence();
#endif
}

/* Whether an op touching `bytes` (inputs and output) streams its output. */
static int ck_stream(double bytes) { return bytes >= (double)ck_stream_min_bytes(); }

/* ======================================================================================== */
/* binary / unary                                                                             */
/* ======================================================================================== */

#define CK_ELEMENTWISE(P, T, BINFIELD, UNFIELD)                                               \
    typedef struct {                                                                          \
        ck_##P##bin_fn fn, nt; /* nt: the streaming loop, or NULL */                          \
        const T *a, *b;                                                                       \
        int mode;                                                                             \
        T *out;                                                                               \
    } ck_##P##bin_ctx;                                                                        \
    static void ck_##P##bin_run(const ck_##P##bin_ctx *c, ck_##P##bin_fn fn, long begin,      \
                                long end) {                                                   \
        if (begin >= end) return;                                                             \
        const T *a = c->mode == 2 ? c->a : c->a + begin;                                      \
        const T *b = c->mode == 1 ? c->b : c->b + begin;                                      \
        fn(end - begin, a, b, c->out + begin);                                                \
    }                                                                                         \
    static void ck_##P##bin_chunk(void *v, long begin, long end) {                            \
        ck_##P##bin_ctx *c = (ck_##P##bin_ctx *)v;                                            \
        if (c->nt == NULL) {                                                                  \
            ck_##P##bin_run(c, c->fn, begin, end);                                            \
            return;                                                                           \
        }                                                                                     \
        long mid, stop;                                                                       \
        ck_stream_span(c->out, sizeof(T), begin, end, &mid, &stop);                           \
        ck_##P##bin_run(c, c->fn, begin, mid);                                                \
        ck_##P##bin_run(c, c->nt, mid, stop);                                                 \
        ck_##P##bin_run(c, c->fn, stop, end);                                                 \
        ck_stream_fence();                                                                    \
    }                                                                                         \
    static void ck_##P##strided(int op, long n, const T *a, long ia, const T *b, long ib,     \
                                T *out) {                                                     \
        for (long i = 0; i < n; i++) {                                                        \
            T x = a[i * ia], y = b[i * ib], r;                                                \
            switch (op) {                                                                     \
            case CKERNELS_ADD: r = x + y; break;                                              \
            case CKERNELS_SUB: r = x - y; break;                                              \
            case CKERNELS_MUL: r = x * y; break;                                              \
            case CKERNELS_DIV: r = x / y; break;                                              \
            case CKERNELS_MAX: r = x != x || y != y ? x + y : (x > y ? x : y); break;         \
            default: r = x != x || y != y ? x + y : (x < y ? x : y); break;                   \
            }                                                                                 \
            out[i] = r;                                                                       \
        }                                                                                     \
    }                                                                                         \
    int ckernels_##P##binary(int op, long n, const T *a, long incA, const T *b, long incB,    \
                             T *out) {                                                        \
        if (op < 0 || op >= CK_NBINARY || n < 0) return CKERNELS_EINVAL;                      \
        if (n == 0) return CKERNELS_OK;                                                       \
        if (a == NULL || b == NULL || out == NULL) return CKERNELS_EINVAL;                    \
        int mode = incA == 1 && incB == 1 ? 0 : incA == 1 && incB == 0 ? 1                   \
                                              : incA == 0 && incB == 1 ? 2 : -1;              \
        if (mode < 0) {                                                                       \
            if (op == CKERNELS_POW) return CKERNELS_EINVAL; /* vectors only */                \
            ck_##P##strided(op, n, a, incA, b, incB, out);                                    \
            return CKERNELS_OK;                                                               \
        }                                                                                     \
        const ck_vec_table *tab = ck_vec_now();                                               \
        int touched = mode == 0 ? 3 : 2;                                                      \
        ck_##P##bin_fn nt = ck_stream((double)n * sizeof(T) * touched)                        \
                                ? tab->BINFIELD##_nt[op][mode] : NULL;                        \
        ck_##P##bin_ctx c = {tab->BINFIELD[op][mode], nt, a, b, mode, out};                   \
        ck_parallel_units(n, op == CKERNELS_POW ? CK_PAR_TRANSC : CK_PAR_EXACT,               \
                          ck_##P##bin_chunk, &c);                                             \
        return CKERNELS_OK;                                                                   \
    }                                                                                         \
    typedef struct {                                                                          \
        ck_##P##bin_fn fn;                                                                    \
        long cols, rsA, rsB;                                                                  \
        const T *a, *b;                                                                       \
        T *out;                                                                               \
    } ck_##P##rows_ctx;                                                                       \
    static void ck_##P##rows_chunk(void *v, long begin, long end) {                           \
        const ck_##P##rows_ctx *c = (const ck_##P##rows_ctx *)v;                              \
        for (long r = begin; r < end; r++)                                                    \
            c->fn(c->cols, c->a + r * c->rsA, c->b + r * c->rsB, c->out + r * c->cols);       \
    }                                                                                         \
    int ckernels_##P##binary_rows(int op, long rows, long cols, const T *a, long rsA,         \
                                  const T *b, long rsB, T *out) {                             \
        if (op < 0 || op >= CK_NBINARY || rows < 0 || cols < 0) return CKERNELS_EINVAL;       \
        if ((rsA != 0 && rsA != cols) || (rsB != 0 && rsB != cols)) return CKERNELS_EINVAL;   \
        if (rows == 0 || cols == 0) return CKERNELS_OK;                                       \
        if (a == NULL || b == NULL || out == NULL) return CKERNELS_EINVAL;                    \
        ck_##P##rows_ctx c = {ck_vec_now()->BINFIELD[op][0], cols, rsA, rsB, a, b, out};      \
        ck_parallel_rows(rows, cols, ck_##P##rows_chunk, &c);                                 \
        return CKERNELS_OK;                                                                   \
    }                                                                                         \
    typedef struct {                                                                          \
        ck_##P##bin_fn fn;                                                                    \
        long cols, period;                                                                    \
        int side; /* 1: b holds one value per row, 2: a does */                               \
        const T *a, *b;                                                                       \
        T *out;                                                                               \
    } ck_##P##cols_ctx;                                                                       \
    static void ck_##P##cols_chunk(void *v, long begin, long end) {                           \
        const ck_##P##cols_ctx *c = (const ck_##P##cols_ctx *)v;                              \
        for (long r = begin; r < end; r++) {                                                  \
            const T *a = c->side == 2 ? c->a + r % c->period : c->a + r * c->cols;            \
            const T *b = c->side == 1 ? c->b + r % c->period : c->b + r * c->cols;            \
            c->fn(c->cols, a, b, c->out + r * c->cols);                                       \
        }                                                                                     \
    }                                                                                         \
    int ckernels_##P##binary_cols(int op, long rows, long cols, long period, const T *a,      \
                                  const T *b, int side, T *out) {                             \
        if (op < 0 || op >= CK_NBINARY || rows < 0 || cols < 0 || period < 1 ||               \
            (side != 1 && side != 2))                                                         \
            return CKERNELS_EINVAL;                                                           \
        if (rows == 0 || cols == 0) return CKERNELS_OK;                                       \
        if (a == NULL || b == NULL || out == NULL) return CKERNELS_EINVAL;                    \
        ck_##P##cols_ctx c = {ck_vec_now()->BINFIELD[op][side], cols, period, side, a, b,     \
                              out};                                                           \
        ck_parallel_rows(rows, cols, ck_##P##cols_chunk, &c);                                 \
        return CKERNELS_OK;                                                                   \
    }                                                                                         \
    typedef struct {                                                                          \
        ck_##P##un_fn fn, nt; /* nt: the streaming loop, or NULL */                           \
        const T *x;                                                                           \
        T *out;                                                                               \
    } ck_##P##un_ctx;                                                                         \
    static void ck_##P##un_chunk(void *v, long begin, long end) {                             \
        ck_##P##un_ctx *c = (ck_##P##un_ctx *)v;                                              \
        if (c->nt == NULL) {                                                                  \
            c->fn(end - begin, c->x + begin, c->out + begin);                                 \
            return;                                                                           \
        }                                                                                     \
        long mid, stop;                                                                       \
        ck_stream_span(c->out, sizeof(T), begin, end, &mid, &stop);                           \
        if (mid > begin) c->fn(mid - begin, c->x + begin, c->out + begin);                    \
        if (stop > mid) c->nt(stop - mid, c->x + mid, c->out + mid);                          \
        if (end > stop) c->fn(end - stop, c->x + stop, c->out + stop);                        \
        ck_stream_fence();                                                                    \
    }                                                                                         \
    static ck_##P##un_fn ck_##P##un_stream(ck_##P##un_fn nt, long n) {                        \
        return ck_stream(2.0 * (double)n * sizeof(T)) ? nt : NULL;                            \
    }                                                                                         \
    int ckernels_##P##unary(int op, long n, const T *x, T *out) {                             \
        if (op < 0 || op >= CK_NUNARY || n < 0) return CKERNELS_EINVAL;                       \
        if (n == 0) return CKERNELS_OK;                                                       \
        if (x == NULL || out == NULL) return CKERNELS_EINVAL;                                 \
        const ck_vec_table *tab = ck_vec_now();                                               \
        ck_##P##un_ctx c = {tab->UNFIELD[op], ck_##P##un_stream(tab->UNFIELD##_nt[op], n), x,   \
                            out};                                                             \
        ck_parallel_units(n, ck_is_transcendental(op) ? CK_PAR_TRANSC : CK_PAR_EXACT,         \
                          ck_##P##un_chunk, &c);                                              \
        return CKERNELS_OK;                                                                   \
    }

CK_ELEMENTWISE(s, float, sbinary, sunary)
CK_ELEMENTWISE(d, double, dbinary, dunary)

/* ======================================================================================== */
/* GELU                                                                                       */
/* ======================================================================================== */

#define CK_GELU(P, T)                                                                         \
    int ckernels_##P##gelu(int approximate, long n, const T *x, T *out) {                     \
        if ((approximate != 0 && approximate != 1) || n < 0) return CKERNELS_EINVAL;          \
        if (n == 0) return CKERNELS_OK;                                                       \
        if (x == NULL || out == NULL) return CKERNELS_EINVAL;                                 \
        const ck_vec_table *tab = ck_vec_now();                                               \
        ck_##P##un_ctx c = {tab->P##gelu[approximate],                                        \
                            ck_##P##un_stream(tab->P##gelu_nt[approximate], n), x, out};      \
        ck_parallel_units(n, CK_PAR_TRANSC, ck_##P##un_chunk, &c);                            \
        return CKERNELS_OK;                                                                   \
    }                                                                                         \
    int ckernels_##P##gelu_backward(int approximate, long n, const T *x, const T *g, T *out) { \
        if ((approximate != 0 && approximate != 1) || n < 0) return CKERNELS_EINVAL;          \
        if (n == 0) return CKERNELS_OK;                                                       \
        if (x == NULL || g == NULL || out == NULL) return CKERNELS_EINVAL;                    \
        ck_##P##bin_ctx c = {ck_vec_now()->P##gelu_bwd[approximate], NULL, x, g, 0, out};     \
        ck_parallel_units(n, CK_PAR_TRANSC, ck_##P##bin_chunk, &c);                           \
        return CKERNELS_OK;                                                                   \
    }
CK_GELU(s, float)
CK_GELU(d, double)

/* ======================================================================================== */
/* clamp                                                                                      */
/* ======================================================================================== */

#define CK_CLAMP(P, T)                                                                        \
    typedef struct {                                                                          \
        void (*fn)(long, const T *, T, T, T *);                                               \
        const T *x;                                                                           \
        T lo, hi;                                                                             \
        T *out;                                                                               \
    } ck_##P##clamp_ctx;                                                                      \
    static void ck_##P##clamp_chunk(void *v, long begin, long end) {                          \
        const ck_##P##clamp_ctx *c = (const ck_##P##clamp_ctx *)v;                            \
        c->fn(end - begin, c->x + begin, c->lo, c->hi, c->out + begin);                       \
    }                                                                                         \
    int ckernels_##P##clamp(long n, const T *x, T lo, T hi, T *out) {                         \
        if (n < 0) return CKERNELS_EINVAL;                                                    \
        if (n == 0) return CKERNELS_OK;                                                       \
        if (x == NULL || out == NULL) return CKERNELS_EINVAL;                                 \
        ck_##P##clamp_ctx c = {ck_vec_now()->P##clamp, x, lo, hi, out};                      \
        ck_parallel_units(n, CK_PAR_EXACT, ck_##P##clamp_chunk, &c);                          \
        return CKERNELS_OK;                                                                   \
    }
CK_CLAMP(s, float)
CK_CLAMP(d, double)

/* ======================================================================================== */
/* select                                                                                     */
/* ======================================================================================== */

typedef struct {
    long size, incA, incB;
    const unsigned char *cond;
    const void *a, *b;
    void *out;
} ck_select_ctx;

/* One loop per (element type, incA, incB): with the increments constant the compiler turns the
 * ternary into a vector blend (no branch on cond). */
#define CK_SELECT_LOOPS(T)                                                                    \
    {                                                                                         \
        const T *a = (const T *)c->a, *b = (const T *)c->b;                                   \
        T *o = (T *)c->out;                                                                   \
        const unsigned char *k = c->cond;                                                     \
        if (c->incA && c->incB) {                                                             \
            for (long i = begin; i < end; i++) { T x = a[i], y = b[i]; o[i] = k[i] ? x : y; } \
        } else if (c->incA) {                                                                 \
            T y = b[0];                                                                       \
            for (long i = begin; i < end; i++) { T x = a[i]; o[i] = k[i] ? x : y; }           \
        } else if (c->incB) {                                                                 \
            T x = a[0];                                                                       \
            for (long i = begin; i < end; i++) { T y = b[i]; o[i] = k[i] ? x : y; }           \
        } else {                                                                              \
            T x = a[0], y = b[0];                                                             \
            for (long i = begin; i < end; i++) o[i] = k[i] ? x : y;                           \
        }                                                                                     \
    }

static void ck_select_chunk(void *v, long begin, long end) {
    const ck_select_ctx *c = (const ck_select_ctx *)v;
    switch (c->size) {
    case 1: CK_SELECT_LOOPS(uint8_t) break;
    case 2: CK_SELECT_LOOPS(uint16_t) break;
    case 4: CK_SELECT_LOOPS(uint32_t) break;
    default: CK_SELECT_LOOPS(uint64_t) break;
    }
}

#define CK_RELU_BWD(P, T)                                                                          \
    typedef struct {                                                                               \
        const T *y, *g;                                                                            \
        T *out;                                                                                    \
    } ck_##P##relu_bwd_ctx;                                                                        \
    static void ck_##P##relu_bwd_chunk(void *v, long begin, long end) {                            \
        const ck_##P##relu_bwd_ctx *c = (const ck_##P##relu_bwd_ctx *)v;                          \
        const T *restrict y = c->y, *restrict g = c->g;                                            \
        T *restrict o = c->out;                                                                    \
        for (long i = begin; i < end; i++) {                                                       \
            T gi = g[i];                                                                           \
            o[i] = y[i] > (T)0 ? gi : (T)0;                                                        \
        }                                                                                          \
    }                                                                                              \
    int ckernels_##P##relu_backward(long n, const T *y, const T *g, T *out) {                      \
        if (n < 0) return CKERNELS_EINVAL;                                                         \
        if (n == 0) return CKERNELS_OK;                                                            \
        if (y == NULL || g == NULL || out == NULL) return CKERNELS_EINVAL;                         \
        ck_##P##relu_bwd_ctx c = {y, g, out};                                                      \
        ck_parallel_units(n, CK_PAR_EXACT, ck_##P##relu_bwd_chunk, &c);                            \
        return CKERNELS_OK;                                                                        \
    }

CK_RELU_BWD(s, float)
CK_RELU_BWD(d, double)

int ckernels_select(long n, long elemSize, const void *cond, const void *a, long incA,
                    const void *b, long incB, void *out) {
    if (n < 0 || (elemSize != 1 && elemSize != 2 && elemSize != 4 && elemSize != 8)) return CKERNELS_EINVAL;
    if ((incA != 0 && incA != 1) || (incB != 0 && incB != 1)) return CKERNELS_EINVAL;
    if (n == 0) return CKERNELS_OK;
    if (cond == NULL || a == NULL || b == NULL || out == NULL) return CKERNELS_EINVAL;
    ck_select_ctx c = {elemSize, incA, incB, (const unsigned char *)cond, a, b, out};
    ck_parallel_units(n, CK_PAR_EXACT, ck_select_chunk, &c);
    return CKERNELS_OK;
}

/* ======================================================================================== */
/* sum: fixed order (see CKernels.h)                                                          */
/* ======================================================================================== */

/* The largest power of two strictly below n (n >= 2). */
static long ck_pow2_below(long n) {
    long p = 1;
    while (p * 2 < n) p *= 2;
    return p;
}

#define CK_SUM(P, T, BLOCKFIELD)                                                              \
    /* Pairwise sum of blocks [first, first + count) of x (n elements in all). */            \
    static T ck_##P##sum_blocks(T (*block)(const T *, long), const T *x, long n, long first, \
                                long count) {                                                 \
        if (count == 1) {                                                                     \
            long begin = first * CK_SUM_BLOCK;                                                \
            long len = n - begin < CK_SUM_BLOCK ? n - begin : CK_SUM_BLOCK;                   \
            return block(x + begin, len);                                                     \
        }                                                                                     \
        long h = ck_pow2_below(count);                                                        \
        return ck_##P##sum_blocks(block, x, n, first, h) +                                    \
               ck_##P##sum_blocks(block, x, n, first + h, count - h);                         \
    }                                                                                         \
    /* The same tree over precomputed partial sums of groups of blocks. */                   \
    static T ck_##P##sum_partials(const T *part, long first, long count) {                    \
        if (count == 1) return part[first];                                                   \
        long h = ck_pow2_below(count);                                                        \
        return ck_##P##sum_partials(part, first, h) +                                         \
               ck_##P##sum_partials(part, first + h, count - h);                              \
    }                                                                                         \
    typedef struct {                                                                          \
        T (*block)(const T *, long);                                                          \
        const T *x;                                                                           \
        long n, nblocks, group; /* group: blocks per chunk, a power of two */                 \
        T *part;                                                                              \
    } ck_##P##sum_ctx;                                                                        \
    static void ck_##P##sum_chunk(void *v, long begin, long end) {                            \
        ck_##P##sum_ctx *c = (ck_##P##sum_ctx *)v;                                            \
        for (long g = begin; g < end; g++) {                                                  \
            long first = g * c->group;                                                        \
            long count = c->nblocks - first < c->group ? c->nblocks - first : c->group;       \
            c->part[g] = ck_##P##sum_blocks(c->block, c->x, c->n, first, count);              \
        }                                                                                     \
    }                                                                                         \
    int ckernels_##P##sum(long n, const T *x, T *result) {                                    \
        if (n < 0 || result == NULL || (n > 0 && x == NULL)) return CKERNELS_EINVAL;          \
        if (n == 0) {                                                                         \
            *result = (T)0;                                                                   \
            return CKERNELS_OK;                                                               \
        }                                                                                     \
        T (*block)(const T *, long) = ck_vec_now()->BLOCKFIELD;                               \
        long nblocks = (n + CK_SUM_BLOCK - 1) / CK_SUM_BLOCK;                                 \
        int threads = ck_threads_available();                                                 \
        if (n < CK_PAR_REDUCE || threads <= 1) {                                              \
            *result = ck_##P##sum_blocks(block, x, n, 0, nblocks);                            \
            return CKERNELS_OK;                                                               \
        }                                                                                     \
        /* Groups of 2^k blocks are whole subtrees of the pairwise tree, so summing the       \
         * group partials with the same tree gives the same result bit for bit. */            \
        long group = 1;                                                                       \
        while ((nblocks + group - 1) / group > 4L * threads) group *= 2;                       \
        long ngroups = (nblocks + group - 1) / group;                                         \
        T part[4 * 256 + 1];                                                                  \
        ck_##P##sum_ctx c = {block, x, n, nblocks, group, part};                              \
        ck_parallel_chunks(ngroups, 1, ck_##P##sum_chunk, &c);                                \
        *result = ck_##P##sum_partials(part, 0, ngroups);                                     \
        return CKERNELS_OK;                                                                   \
    }

CK_SUM(s, float, ssum_block)
CK_SUM(d, double, dsum_block)

/* ======================================================================================== */
/* max with index                                                                             */
/* ======================================================================================== */

#define CK_MAX_BLOCK 4096L /* elements scanned per step; the winning block is rescanned */

#define CK_MAX(P, T, MAXFIELD)                                                                \
    typedef struct {                                                                          \
        T value;                                                                              \
        long index;                                                                           \
        int nan;                                                                              \
    } ck_##P##max_res;                                                                        \
    static ck_##P##max_res ck_##P##max_range(int (*vmax)(const T *, long, T *), const T *x,   \
                                             long lo, long hi) {                              \
        ck_##P##max_res r = {(T)0, -1, 0};                                                    \
        T best = (T)0;                                                                        \
        long best_blk = -1;                                                                   \
        for (long blk = lo; blk < hi; blk += CK_MAX_BLOCK) {                                  \
            long m = hi - blk < CK_MAX_BLOCK ? hi - blk : CK_MAX_BLOCK;                       \
            T v;                                                                              \
            if (vmax(x + blk, m, &v)) {                                                       \
                for (long i = blk; i < blk + m; i++)                                          \
                    if (x[i] != x[i]) {                                                       \
                        r.value = x[i];                                                       \
                        r.index = i;                                                          \
                        r.nan = 1;                                                            \
                        return r;                                                             \
                    }                                                                         \
            }                                                                                 \
            if (best_blk < 0 || v > best) {                                                   \
                best = v;                                                                     \
                best_blk = blk;                                                               \
            }                                                                                 \
        }                                                                                     \
        long end = hi - best_blk < CK_MAX_BLOCK ? hi : best_blk + CK_MAX_BLOCK;               \
        for (long i = best_blk; i < end; i++)                                                 \
            if (x[i] == best) {                                                               \
                r.value = x[i];                                                               \
                r.index = i;                                                                  \
                break;                                                                        \
            }                                                                                 \
        return r;                                                                             \
    }                                                                                         \
    typedef struct {                                                                          \
        int (*vmax)(const T *, long, T *);                                                    \
        const T *x;                                                                           \
        long n, chunk;                                                                        \
        ck_##P##max_res *res;                                                                 \
    } ck_##P##max_ctx;                                                                        \
    static void ck_##P##max_chunk(void *v, long begin, long end) {                            \
        ck_##P##max_ctx *c = (ck_##P##max_ctx *)v;                                            \
        for (long g = begin; g < end; g++) {                                                  \
            long lo = g * c->chunk, hi = lo + c->chunk < c->n ? lo + c->chunk : c->n;         \
            c->res[g] = ck_##P##max_range(c->vmax, c->x, lo, hi);                             \
        }                                                                                     \
    }                                                                                         \
    int ckernels_##P##max(long n, const T *x, T *result, long *index) {                       \
        if (n < 0 || result == NULL || (n > 0 && x == NULL)) return CKERNELS_EINVAL;          \
        if (n == 0) {                                                                         \
            *result = (T)-INFINITY;                                                           \
            if (index != NULL) *index = -1;                                                   \
            return CKERNELS_OK;                                                               \
        }                                                                                     \
        int (*vmax)(const T *, long, T *) = ck_vec_now()->MAXFIELD;                           \
        int threads = ck_threads_available();                                                 \
        ck_##P##max_res r;                                                                    \
        if (n < CK_PAR_REDUCE || threads <= 1) {                                              \
            r = ck_##P##max_range(vmax, x, 0, n);                                             \
        } else {                                                                              \
            long nparts = 4L * threads;                                                       \
            long chunk = ((n - 1) / nparts + CK_MAX_BLOCK) / CK_MAX_BLOCK * CK_MAX_BLOCK;      \
            nparts = (n - 1) / chunk + 1;                                                     \
            ck_##P##max_res res[4 * 256];                                                     \
            ck_##P##max_ctx c = {vmax, x, n, chunk, res};                                     \
            ck_parallel_chunks(nparts, 1, ck_##P##max_chunk, &c);                             \
            r = res[0];                                                                       \
            for (long g = 1; g < nparts && !r.nan; g++)                                       \
                if (res[g].nan || res[g].value > r.value) r = res[g];                         \
        }                                                                                     \
        *result = r.value;                                                                    \
        if (index != NULL) *index = r.index;                                                  \
        return CKERNELS_OK;                                                                   \
    }

CK_MAX(s, float, smax)
CK_MAX(d, double, dmax)
