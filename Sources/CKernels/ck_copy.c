/* Strided copies: `contiguous()` of transposed, permuted, sliced or expanded views, and copies
 * between views. See ckernels_copy_strided in CKernels.h. */
#include "ck_internal.h"

#include <stdint.h>
#include <string.h>

/* Parallel from this many bytes copied (both cores pay off once the data leaves L2). */
#define CK_COPY_PAR_BYTES (1L << 19)
/* Tiles of the transposing copy: TILE x TILE elements. */
#define CK_COPY_TILE 32

typedef struct {
    long elem, rank;
    long shape[CKERNELS_COPY_MAX_RANK];
    long ss[CKERNELS_COPY_MAX_RANK], ds[CKERNELS_COPY_MAX_RANK];
    const char *src;
    char *dst;
    int transpose; /* the two innermost dims are copied in tiles */
    long outer;    /* dims [0, outer) are walked by the unit counter */
    long blocks;   /* units per position: tile rows of a plane when transposing, else
                    * segments of the innermost row (one row may be all there is) */
} ck_copy_ctx;

/* One innermost row of n elements: dst[i * ds] = src[i * ss]. */
#define CK_COPY_ROW(T)                                                                     \
    static void ck_copy_row_##T(long n, const char *src, long ss, char *dst, long ds) {   \
        const T *s = (const T *)src;                                                       \
        T *d = (T *)dst;                                                                   \
        if (ss == 0) {                                                                     \
            const T v = s[0];                                                              \
            if (ds == 1)                                                                   \
                for (long i = 0; i < n; i++) d[i] = v;                                     \
            else                                                                           \
                for (long i = 0; i < n; i++) d[i * ds] = v;                                \
        } else if (ds == 1 && ss == -1) { /* a flipped row (vectorizes) */                 \
            for (long i = 0; i < n; i++) d[i] = s[-i];                                     \
        } else if (ds == 1) {                                                              \
            for (long i = 0; i < n; i++) d[i] = s[i * ss];                                 \
        } else {                                                                           \
            for (long i = 0; i < n; i++) d[i * ds] = s[i * ss];                            \
        }                                                                                  \
    }                                                                                      \
    /* Rows [r0, r1) x columns [c0, c1) of a plane whose source is unit-stride along rows: \
     * dst[r * dr + c] = src[r + c * sc], a tile at a time so that both sides stay in L1. */ \
    static void ck_copy_tile_##T(long r0, long r1, long c0, long c1, const char *src,     \
                                 long sc, char *dst, long dr) {                            \
        const T *s = (const T *)src;                                                       \
        T *d = (T *)dst;                                                                   \
        for (long r = r0; r < r1; r++)                                                     \
            for (long c = c0; c < c1; c++) d[r * dr + c] = s[r + c * sc];                  \
    }
/* Bit copies: every dtype of that size, NaN payloads and signed zeros kept. */
CK_COPY_ROW(uint8_t)
CK_COPY_ROW(uint16_t)
CK_COPY_ROW(uint32_t)
CK_COPY_ROW(uint64_t)

static void ck_copy_row(long elem, long n, const char *src, long ss, char *dst, long ds) {
    if (ss == 1 && ds == 1) {
        memcpy(dst, src, (size_t)(n * elem));
        return;
    }
    switch (elem) {
    case 1: ck_copy_row_uint8_t(n, src, ss, dst, ds); break;
    case 2: ck_copy_row_uint16_t(n, src, ss, dst, ds); break;
    case 4: ck_copy_row_uint32_t(n, src, ss, dst, ds); break;
    default: ck_copy_row_uint64_t(n, src, ss, dst, ds); break;
    }
}

static void ck_copy_tile(long elem, long r0, long r1, long c0, long c1, const char *src, long sc,
                         char *dst, long dr) {
    switch (elem) {
    case 1: ck_copy_tile_uint8_t(r0, r1, c0, c1, src, sc, dst, dr); break;
    case 2: ck_copy_tile_uint16_t(r0, r1, c0, c1, src, sc, dst, dr); break;
    case 4: ck_copy_tile_uint32_t(r0, r1, c0, c1, src, sc, dst, dr); break;
    default: ck_copy_tile_uint64_t(r0, r1, c0, c1, src, sc, dst, dr); break;
    }
}

/* Units [begin, end): each is one position of dims [0, outer) (times `blocks` tile rows). */
static void ck_copy_chunk(void *v, long begin, long end) {
    const ck_copy_ctx *c = (const ck_copy_ctx *)v;
    const long elem = c->elem, rank = c->rank, outer = c->outer;
    long idx[CKERNELS_COPY_MAX_RANK];
    long pos = begin / c->blocks, block = begin % c->blocks;
    const char *s = c->src;
    char *d = c->dst;
    for (long k = outer - 1; k >= 0; k--) { /* the multi-index of the first unit's position */
        idx[k] = pos % c->shape[k];
        pos /= c->shape[k];
        s += idx[k] * c->ss[k] * elem;
        d += idx[k] * c->ds[k] * elem;
    }
    for (long u = begin; u < end; u++) {
        if (!c->transpose) { /* segment `block` of the innermost row */
            const long n = c->shape[rank - 1], len = (n + c->blocks - 1) / c->blocks;
            const long i0 = block * len, i1 = i0 + len < n ? i0 + len : n;
            if (i0 < i1)
                ck_copy_row(elem, i1 - i0, s + i0 * c->ss[rank - 1] * elem, c->ss[rank - 1],
                            d + i0 * c->ds[rank - 1] * elem, c->ds[rank - 1]);
        } else { /* tile row `block` of the plane: rows [r0, r1) of dim rank-2 */
            const long rows = c->shape[rank - 2], cols = c->shape[rank - 1];
            const long r0 = block * CK_COPY_TILE, r1 = r0 + CK_COPY_TILE < rows ? r0 + CK_COPY_TILE : rows;
            for (long c0 = 0; c0 < cols; c0 += CK_COPY_TILE)
                ck_copy_tile(elem, r0, r1, c0, c0 + CK_COPY_TILE < cols ? c0 + CK_COPY_TILE : cols, s,
                             c->ss[rank - 1], d, c->ds[rank - 2]);
        }
        if (++block < c->blocks) continue;
        block = 0;
        for (long k = outer - 1; k >= 0; k--) { /* next position of dims [0, outer) */
            s += c->ss[k] * elem;
            d += c->ds[k] * elem;
            if (++idx[k] < c->shape[k]) break;
            s -= c->shape[k] * c->ss[k] * elem;
            d -= c->shape[k] * c->ds[k] * elem;
            idx[k] = 0;
        }
    }
}

int ckernels_copy_strided(long elemSize, long rank, const long *shape, const void *src,
                          const long *srcStrides, void *dst, const long *dstStrides) {
    if ((elemSize != 1 && elemSize != 2 && elemSize != 4 && elemSize != 8) || rank < 0 ||
        rank > CKERNELS_COPY_MAX_RANK)
        return CKERNELS_EINVAL;
    long count = 1;
    for (long k = 0; k < rank; k++) {
        if (shape == NULL || srcStrides == NULL || dstStrides == NULL || shape[k] < 0) return CKERNELS_EINVAL;
        count *= shape[k];
    }
    if (count == 0) return CKERNELS_OK;
    if (src == NULL || dst == NULL) return CKERNELS_EINVAL;
    if (rank == 0) {
        memcpy(dst, src, (size_t)elemSize);
        return CKERNELS_OK;
    }
    ck_copy_ctx c;
    c.elem = elemSize;
    /* Dims of length 1 dropped, and a dim merged into the one before it wherever both sides
     * step over it as one longer dim (a broadcast scalar is one row, a contiguous block too). */
    long r = 0;
    for (long k = 0; k < rank; k++) {
        if (shape[k] == 1) continue;
        if (r > 0 && c.ss[r - 1] == srcStrides[k] * shape[k] && c.ds[r - 1] == dstStrides[k] * shape[k]) {
            c.shape[r - 1] *= shape[k];
            c.ss[r - 1] = srcStrides[k];
            c.ds[r - 1] = dstStrides[k];
            continue;
        }
        c.shape[r] = shape[k];
        c.ss[r] = srcStrides[k];
        c.ds[r] = dstStrides[k];
        r++;
    }
    if (r == 0) { /* one element */
        memcpy(dst, src, (size_t)elemSize);
        return CKERNELS_OK;
    }
    rank = c.rank = r;
    shape = c.shape;
    c.src = (const char *)src;
    c.dst = (char *)dst;
    /* A transpose: the destination is unit-stride along the last dim, the source along the one
     * before. Row by row, every element read would touch a new cache line. */
    const int transpose = c.transpose = rank >= 2 && c.ds[rank - 1] == 1 && c.ss[rank - 2] == 1 && c.ss[rank - 1] != 1 &&
                          c.ss[rank - 1] != 0 && shape[rank - 2] > 1;
    c.outer = transpose ? rank - 2 : rank - 1;
    long positions = 1;
    for (long k = 0; k < c.outer; k++) positions *= shape[k];
    const int threads = count * elemSize < CK_COPY_PAR_BYTES ? 1 : ck_threads_available();
    if (transpose) {
        c.blocks = (shape[rank - 2] + CK_COPY_TILE - 1) / CK_COPY_TILE;
    } else {
        /* few long rows (a contiguous block, a broadcast scalar): cut them into segments of at
         * least 4096 elements, so that every thread gets ~4 units */
        long want = (4L * threads + positions - 1) / positions, most = shape[rank - 1] / 4096;
        c.blocks = threads == 1 || want <= 1 ? 1 : (want < most ? want : (most > 1 ? most : 1));
    }
    const long units = positions * c.blocks;
    if (threads == 1 || units < 2) {
        ck_copy_chunk(&c, 0, units);
        return CKERNELS_OK;
    }
    ck_parallel_chunks(units, (units - 1) / (4L * threads) + 1, ck_copy_chunk, &c); /* ~4 per thread */
    return CKERNELS_OK;
}
