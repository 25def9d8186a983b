/* Convolution windows: im2col and col2im of one image over a band of output rows.
 *
 * Portable C, plus an AVX-512 build for unit strides along the row (the usual case), where
 * each output row is a few masked vector loads and stores (the padding costs nothing extra);
 * the portable loops spend most of their time on the short padded edges of 30-odd-element
 * rows. Copies are exact and col2im adds in the same order on every path, so both builds give
 * identical bits. Each row of the columns,
 * (c, i, j), reads one shifted, possibly strided, run of every input row it touches; the valid
 * range [lo, hi) of output columns is computed once per (j), so the inner loops carry no
 * bounds checks. */
#include "ck_internal.h"

#include <limits.h>
#include <math.h>
#include <string.h>

/* Output columns ox in [lo, hi) read input column ox * stride + off, which lies in [0, width). */
static void ck_valid_range(long out_w, long width, long stride, long off, long *lo, long *hi) {
    long l = off >= 0 ? 0 : (-off + stride - 1) / stride;
    long h = width - 1 - off < 0 ? 0 : (width - 1 - off) / stride + 1;
    if (h > out_w) h = out_w;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

static int ck_window_ok(const ckernels_window *w) {
    return w != NULL && w->channels >= 0 && w->height >= 0 && w->width >= 0 && w->kernel_h > 0 &&
           w->kernel_w > 0 && w->stride_h > 0 && w->stride_w > 0 && w->pad_h >= 0 && w->pad_w >= 0 &&
           w->dilation_h > 0 && w->dilation_w > 0 && w->out_h >= 0 && w->out_w >= 0;
}

#define CK_CONV(P, T)                                                                              \
    static void ck_##P##im2col_c(const ckernels_window *w, const T *x, long sc, long sh, long sw,  \
                                 T pad, long oy0, long oy1, T *cols, long ldc) {                   \
        const long ow = w->out_w;                                                                  \
        long row = 0;                                                                              \
        for (long c = 0; c < w->channels; c++) {                                                   \
            const T *plane = x + c * sc;                                                           \
            for (long i = 0; i < w->kernel_h; i++) {                                               \
                for (long j = 0; j < w->kernel_w; j++, row++) {                                    \
                    T *restrict dst = cols + row * ldc;                                            \
                    const long off = j * w->dilation_w - w->pad_w;                                 \
                    long lo, hi;                                                                   \
                    ck_valid_range(ow, w->width, w->stride_w, off, &lo, &hi);                      \
                    for (long oy = oy0; oy < oy1; oy++, dst += ow) {                               \
                        const long y = oy * w->stride_h - w->pad_h + i * w->dilation_h;            \
                        if (y < 0 || y >= w->height) {                                             \
                            for (long ox = 0; ox < ow; ox++) dst[ox] = pad;                        \
                            continue;                                                              \
                        }                                                                          \
                        for (long ox = 0; ox < lo; ox++) dst[ox] = pad;                            \
                        const T *restrict src = plane + y * sh + off * sw;                         \
                        if (w->stride_w == 1 && sw == 1) {                                         \
                            for (long ox = lo; ox < hi; ox++) dst[ox] = src[ox];                   \
                        } else {                                                                   \
                            const long step = w->stride_w * sw;                                    \
                            for (long ox = lo; ox < hi; ox++) dst[ox] = src[ox * step];            \
                        }                                                                          \
                        for (long ox = hi; ox < ow; ox++) dst[ox] = pad;                           \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
                                                                                                   \
    static void ck_##P##col2im_c(const ckernels_window *w, const T *cols, long ldc, long oy0,      \
                                 long oy1, T *image) {                                             \
        const long ow = w->out_w, hw = w->height * w->width;                                       \
        long row = 0;                                                                              \
        for (long c = 0; c < w->channels; c++) {                                                   \
            T *plane = image + c * hw;                                                             \
            for (long i = 0; i < w->kernel_h; i++) {                                               \
                for (long j = 0; j < w->kernel_w; j++, row++) {                                    \
                    const T *restrict src = cols + row * ldc;                                      \
                    const long off = j * w->dilation_w - w->pad_w;                                 \
                    long lo, hi;                                                                   \
                    ck_valid_range(ow, w->width, w->stride_w, off, &lo, &hi);                      \
                    for (long oy = oy0; oy < oy1; oy++, src += ow) {                               \
                        const long y = oy * w->stride_h - w->pad_h + i * w->dilation_h;            \
                        if (y < 0 || y >= w->height) continue;                                     \
                        T *restrict dst = plane + y * w->width + off;                              \
                        if (w->stride_w == 1) {                                                    \
                            for (long ox = lo; ox < hi; ox++) dst[ox] += src[ox];                  \
                        } else {                                                                   \
                            const long step = w->stride_w;                                         \
                            for (long ox = lo; ox < hi; ox++) dst[ox * step] += src[ox];           \
                        }                                                                          \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

CK_CONV(s, float)
CK_CONV(d, double)

/* im2col for unit strides when the input's row stride equals out_w (a "same" convolution of a
 * contiguous image: 3x3 with padding 1, 5x5 with padding 2, ...). Then the band of one cols row
 * is the input plane shifted by a constant: the output rows that read inside the image are one
 * contiguous copy, after which the few columns of each row that fall outside the image (copied
 * from the neighbouring input row) are overwritten with `pad`, as are output rows above or
 * below the image. The copy starts and ends at valid input positions, so nothing outside the
 * image's rows is read. The same elements as the row-by-row loops, without their per-row cost
 * (a 32-wide row is two vectors, and the mask work around them cost as much as the copy). */
#define CK_IM2COL_SHIFT(P, T)                                                                      \
    static void ck_##P##im2col_shift(const ckernels_window *w, const T *x, long sc, long sh,      \
                                     T pad, long oy0, long oy1, T *cols, long ldc) {              \
        const long ow = w->out_w;                                                                  \
        long row = 0;                                                                              \
        for (long c = 0; c < w->channels; c++) {                                                   \
            const T *plane = x + c * sc;                                                           \
            for (long i = 0; i < w->kernel_h; i++) {                                               \
                const long dy = i * w->dilation_h - w->pad_h; /* input row = oy + dy */            \
                long oa = -dy > oy0 ? -dy : oy0, ob = w->height - dy < oy1 ? w->height - dy : oy1; \
                if (ob < oa) ob = oa;                                                              \
                for (long j = 0; j < w->kernel_w; j++, row++) {                                    \
                    T *dst = cols + row * ldc;                                                     \
                    const long off = j * w->dilation_w - w->pad_w;                                 \
                    long lo, hi;                                                                   \
                    ck_valid_range(ow, w->width, 1, off, &lo, &hi);                                \
                    for (long k = 0; k < (oa - oy0) * ow; k++) dst[k] = pad;                       \
                    for (long k = (ob - oy0) * ow; k < (oy1 - oy0) * ow; k++) dst[k] = pad;        \
                    if (oa == ob) continue;                                                        \
                    if (lo < hi) {                                                                 \
                        T *d0 = dst + (oa - oy0) * ow + lo;                                        \
                        const T *s0 = plane + (oa + dy) * sh + off + lo;                           \
                        memcpy(d0, s0, (size_t)((ob - oa - 1) * ow + hi - lo) * sizeof(T));        \
                    }                                                                              \
                    for (long oy = oa; oy < ob; oy++) {                                            \
                        T *r = dst + (oy - oy0) * ow;                                              \
                        for (long ox = 0; ox < lo; ox++) r[ox] = pad; /* lo <= hi <= ow */        \
                        for (long ox = hi; ox < ow; ox++) r[ox] = pad;                             \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

CK_IM2COL_SHIFT(s, float)
CK_IM2COL_SHIFT(d, double)

/* ---- AVX-512: whole output rows as masked vector loads and stores (unit strides only) ---- */
#if CK_X86
#include <immintrin.h>

/* Lanes [a, b) of a vector of n lanes (as an unsigned mask). */
static inline unsigned ck_lanes(long a, long b, long n) {
    if (a < 0) a = 0;
    if (b > n) b = n;
    if (b <= a) return 0;
    return (unsigned)(((1ul << b) - 1) & ~((1ul << a) - 1));
}

/* Masked loads do not fault on masked-off lanes, so a row's padding needs no scalar edges. */
#define CK_CONV_AVX512(P, T, V, N, MASK, SET1, MLOAD, MSTORE, ADD)                                 \
    CK_TARGET_AVX512 static void ck_##P##im2col_avx512(const ckernels_window *w, const T *x,      \
                                                       long sc, long sh, T pad, long oy0,          \
                                                       long oy1, T *cols, long ldc) {              \
        const long ow = w->out_w;                                                                  \
        const V vpad = SET1(pad);                                                                  \
        long row = 0;                                                                              \
        for (long c = 0; c < w->channels; c++) {                                                   \
            const T *plane = x + c * sc;                                                           \
            for (long i = 0; i < w->kernel_h; i++) {                                               \
                for (long j = 0; j < w->kernel_w; j++, row++) {                                    \
                    T *dst = cols + row * ldc;                                                     \
                    const long off = j * w->dilation_w - w->pad_w;                                 \
                    long lo, hi;                                                                   \
                    ck_valid_range(ow, w->width, 1, off, &lo, &hi);                                \
                    for (long oy = oy0; oy < oy1; oy++, dst += ow) {                               \
                        const long y = oy * w->stride_h - w->pad_h + i * w->dilation_h;            \
                        const int inside = y >= 0 && y < w->height;                                \
                        const T *src = plane + y * sh + off;                                       \
                        for (long ox = 0; ox < ow; ox += N) {                                      \
                            MASK store = (MASK)ck_lanes(0, ow - ox, N);                            \
                            MASK valid = inside ? (MASK)ck_lanes(lo - ox, hi - ox, N) : 0;         \
                            MSTORE(dst + ox, store, MLOAD(vpad, valid, src + ox));                 \
                        }                                                                          \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
                                                                                                   \
    CK_TARGET_AVX512 static void ck_##P##col2im_avx512(const ckernels_window *w, const T *cols,    \
                                                       long ldc, long oy0, long oy1, T *image) {   \
        const long ow = w->out_w, hw = w->height * w->width;                                       \
        const V zero = SET1((T)0);                                                                 \
        long row = 0;                                                                              \
        for (long c = 0; c < w->channels; c++) {                                                   \
            T *plane = image + c * hw;                                                             \
            for (long i = 0; i < w->kernel_h; i++) {                                               \
                for (long j = 0; j < w->kernel_w; j++, row++) {                                    \
                    const T *src = cols + row * ldc;                                               \
                    const long off = j * w->dilation_w - w->pad_w;                                 \
                    long lo, hi;                                                                   \
                    ck_valid_range(ow, w->width, 1, off, &lo, &hi);                                \
                    for (long oy = oy0; oy < oy1; oy++, src += ow) {                               \
                        const long y = oy * w->stride_h - w->pad_h + i * w->dilation_h;            \
                        if (y < 0 || y >= w->height) continue;                                     \
                        T *dst = plane + y * w->width + off;                                       \
                        for (long ox = lo - lo % N; ox < hi; ox += N) {                            \
                            MASK valid = (MASK)ck_lanes(lo - ox, hi - ox, N);                      \
                            V sum = ADD(MLOAD(zero, valid, dst + ox), MLOAD(zero, valid, src + ox)); \
                            MSTORE(dst + ox, valid, sum);                                          \
                        }                                                                          \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

CK_CONV_AVX512(s, float, __m512, 16, __mmask16, _mm512_set1_ps, _mm512_mask_loadu_ps,
               _mm512_mask_storeu_ps, _mm512_add_ps)
CK_CONV_AVX512(d, double, __m512d, 8, __mmask8, _mm512_set1_pd, _mm512_mask_loadu_pd,
               _mm512_mask_storeu_pd, _mm512_add_pd)
#endif

/* ---- entry points: checks and dispatch ---- */
#if CK_X86
#define CK_VECTOR_ROWS(w, sw) (ck_isa_now() == CKERNELS_ISA_AVX512 && (w)->stride_w == 1 && (sw) == 1)
#else
#define CK_VECTOR_ROWS(w, sw) 0
#endif

#define CK_CONV_ENTRY(P, T)                                                                        \
    int ckernels_##P##im2col(const ckernels_window *w, const T *x, long sc, long sh, long sw,      \
                             T pad, long oy0, long oy1, T *cols, long ldc) {                       \
        if (!ck_window_ok(w) || oy0 < 0 || oy1 > w->out_h || oy0 > oy1) return CKERNELS_EINVAL;   \
        const long band = (oy1 - oy0) * w->out_w;                                                  \
        if (band == 0 || w->channels == 0) return CKERNELS_OK;                                     \
        if (x == NULL || cols == NULL || ldc < band) return CKERNELS_EINVAL;                       \
        if (w->stride_w == 1 && w->stride_h == 1 && sw == 1 && sh == w->out_w) {                   \
            ck_##P##im2col_shift(w, x, sc, sh, pad, oy0, oy1, cols, ldc);                          \
            return CKERNELS_OK;                                                                    \
        }                                                                                          \
        CK_IF_AVX512(if (CK_VECTOR_ROWS(w, sw)) {                                                  \
            ck_##P##im2col_avx512(w, x, sc, sh, pad, oy0, oy1, cols, ldc);                         \
            return CKERNELS_OK;                                                                    \
        })                                                                                         \
        ck_##P##im2col_c(w, x, sc, sh, sw, pad, oy0, oy1, cols, ldc);                              \
        return CKERNELS_OK;                                                                        \
    }                                                                                              \
                                                                                                   \
    int ckernels_##P##col2im(const ckernels_window *w, const T *cols, long ldc, long oy0,          \
                             long oy1, T *image) {                                                 \
        if (!ck_window_ok(w) || oy0 < 0 || oy1 > w->out_h || oy0 > oy1) return CKERNELS_EINVAL;   \
        const long band = (oy1 - oy0) * w->out_w;                                                  \
        if (band == 0 || w->channels == 0) return CKERNELS_OK;                                     \
        if (image == NULL || cols == NULL || ldc < band) return CKERNELS_EINVAL;                   \
        CK_IF_AVX512(if (CK_VECTOR_ROWS(w, 1)) {                                                   \
            ck_##P##col2im_avx512(w, cols, ldc, oy0, oy1, image);                                  \
            return CKERNELS_OK;                                                                    \
        })                                                                                         \
        ck_##P##col2im_c(w, cols, ldc, oy0, oy1, image);                                           \
        return CKERNELS_OK;                                                                        \
    }

#if CK_X86
#define CK_IF_AVX512(code) code
#else
#define CK_IF_AVX512(code)
#endif

CK_CONV_ENTRY(s, float)
CK_CONV_ENTRY(d, double)

/* ---- direct convolution (unit horizontal stride, float32, AVX-512 or AVX2) ---- */
/* Output columns per tile of the direct kernel on this CPU: 32 (AVX-512), 16 (AVX2), or 0. */
static long ck_direct_tile_width(void) {
#if CK_X86
    const int isa = ck_isa_now();
    return isa == CKERNELS_ISA_AVX512 ? 32 : isa == CKERNELS_ISA_AVX2 ? 16 : 0;
#else
    return 0;
#endif
}

/* Whether tiles of tw columns take window w: unit horizontal stride, at least 7/8 of the tiles'
 * lanes used (out_w bounded first, so that nothing below overflows). */
static int ck_direct_applies(const ckernels_window *w, long tw) {
    return tw > 0 && ck_window_ok(w) && w->stride_w == 1 && w->out_w > 0 && w->out_w < (1L << 40) &&
           w->out_w * 8 >= (w->out_w + tw - 1) / tw * tw * 7;
}

int ckernels_sconv2d_direct_applies(const ckernels_window *w) {
    return ck_direct_applies(w, ck_direct_tile_width());
}

int ckernels_sconv2d_direct(const ckernels_window *w, long out_channels, const float *weight,
                            const float *bias, const float *x, long sc, long sh, long sw, long oy0,
                            long oy1, float *out, long ldo) {
    const long tw = ck_direct_tile_width(); /* read once: the level may change between calls */
    if (!ck_direct_applies(w, tw) || oy0 < 0 || oy1 > w->out_h || oy0 > oy1 || out_channels < 0 ||
        w->out_h > LONG_MAX / w->out_w || ldo < w->out_h * w->out_w)
        return CKERNELS_EINVAL;
    if (oy0 == oy1 || out_channels == 0) return CKERNELS_OK;
    if (out == NULL || (x == NULL && w->channels > 0)) return CKERNELS_EINVAL;
    const long C = w->channels, kh = w->kernel_h, kw = w->kernel_w, ow = w->out_w;
    long kk, K;
    if (__builtin_mul_overflow(kh, kw, &kk) || __builtin_mul_overflow(C, kk, &K) || K > (1L << 40))
        return CKERNELS_EINVAL;
    if (K == 0) { /* no terms: the bias alone */
        for (long o = 0; o < out_channels; o++)
            for (long q = oy0 * ow; q < oy1 * ow; q++) out[o * ldo + q] = bias ? 0.0f + bias[o] : 0.0f;
        return CKERNELS_OK;
    }
    if (weight == NULL) return CKERNELS_EINVAL;
#if CK_X86
    /* the band's input rows y0 .. y0 + rows - 1, each as wp columns from x' = -pad_w on: every
     * tile's tw lanes read inside a row, whatever columns it leaves unused. Sizes whose bytes
     * would overflow could not be allocated either. */
    const long dh = w->dilation_h, dw = w->dilation_w, mr = tw == 32 ? 12 : 6, tiles = (ow + tw - 1) / tw;
    long wp, rows, plane, floats, bytes, span_w, span_h;
    if (__builtin_mul_overflow(kw - 1, dw, &span_w) || __builtin_add_overflow(tiles * tw, span_w, &wp) ||
        __builtin_mul_overflow(oy1 - 1 - oy0, w->stride_h, &rows) ||
        __builtin_mul_overflow(kh - 1, dh, &span_h) || __builtin_add_overflow(rows, span_h, &rows) ||
        __builtin_add_overflow(rows, 1L, &rows) || __builtin_mul_overflow(rows, wp, &plane) ||
        __builtin_mul_overflow(C, plane, &floats) || __builtin_add_overflow(floats, 2 * (K + 8) + CK_ALIGN, &bytes) ||
        __builtin_mul_overflow(bytes, (long)sizeof(float), &bytes))
        return CKERNELS_ENOMEM;
    const long y0 = oy0 * w->stride_h - w->pad_h;
    const size_t offsets = (size_t)(K + 8);
    char *mem = (char *)ck_scratch((size_t)floats * sizeof(float) + offsets * sizeof(long) + CK_ALIGN);
    if (mem == NULL) return CKERNELS_ENOMEM;
    float *padded = (float *)mem;
    long *off = (long *)(mem + ((size_t)floats * sizeof(float) + CK_ALIGN - 1) / CK_ALIGN * CK_ALIGN);
    long lo, hi; /* padded columns [lo, hi) lie inside the image */
    lo = w->pad_w < wp ? w->pad_w : wp;
    hi = w->pad_w + w->width < wp ? w->pad_w + w->width : wp;
    for (long c = 0; c < C; c++)
        for (long r = 0; r < rows; r++) {
            float *dst = padded + c * plane + r * wp;
            const long y = y0 + r;
            if (y < 0 || y >= w->height) {
                memset(dst, 0, (size_t)wp * sizeof(float));
                continue;
            }
            memset(dst, 0, (size_t)lo * sizeof(float));
            if (hi > lo) { /* then lo == pad_w: padded column q is input column q - pad_w */
                const float *src = x + c * sc + y * sh;
                if (sw == 1) memcpy(dst + lo, src, (size_t)(hi - lo) * sizeof(float));
                else for (long q = lo; q < hi; q++) dst[q] = src[(q - lo) * sw];
            }
            memset(dst + hi, 0, (size_t)(wp - hi) * sizeof(float));
        }
    for (long c = 0, p = 0; c < C; c++)
        for (long i = 0; i < kh; i++)
            for (long j = 0; j < kw; j++) off[p++] = c * plane + i * dh * wp + j * dw;
    for (long p = K; p < K + 8; p++) off[p] = off[K - 1];
    /* mr output channels at a time (their weights stay in L1) over every tile of the band */
    for (long o0 = 0; o0 < out_channels; o0 += mr) {
        const int m = out_channels - o0 < mr ? (int)(out_channels - o0) : (int)mr;
        const float *a = weight + o0 * K, *b = bias ? bias + o0 : NULL;
        for (long oy = oy0; oy < oy1; oy++) {
            const float *row = padded + (oy - oy0) * w->stride_h * wp;
            for (long ox0 = 0; ox0 < ow; ox0 += tw) {
                const int n = ow - ox0 < tw ? (int)(ow - ox0) : (int)tw;
                float *dst = out + o0 * ldo + oy * ow + ox0;
                if (tw == 32) ck_sconv_tile_avx512(m, K, a, K, off, row + ox0, b, dst, ldo, n);
                else ck_sconv_tile_avx2(m, K, a, K, off, row + ox0, b, dst, ldo, n);
            }
        }
    }
    return CKERNELS_OK;
#else
    (void)sc; (void)sh; (void)sw;
    return CKERNELS_EINVAL;
#endif
}

/* ---- max pooling: each window's largest value and where it is ------------------------------ */
/* One window's maximum over positions inside the image only, in window order (i, then j): the
 * first NaN wins, else the largest value, the first of equals. Written as selects, not
 * branches: on random data each comparison would mispredict half the time. */
#define CK_POOL_TAKE(v, k)                                                                         \
    do {                                                                                           \
        const __typeof__(best) cand_ = (v);                                                        \
        const int take_ = (best == best) & ((cand_ != cand_) | (cand_ > best));                    \
        best = take_ ? cand_ : best;                                                               \
        bi = take_ ? (k) : bi;                                                                     \
    } while (0)

/* The output columns [*lo, *hi) whose whole window lies inside the image's columns. */
static void ck_inside_columns(const ckernels_window *w, long *lo, long *hi) {
    long a = 0, b = w->out_w;
    for (long j = 0; j < w->kernel_w; j++) {
        long l, h;
        ck_valid_range(w->out_w, w->width, w->stride_w, j * w->dilation_w - w->pad_w, &l, &h);
        if (l > a) a = l;
        if (h < b) b = h;
    }
    *lo = a;
    *hi = b < a ? a : b;
}

/* Outputs per run of the vectorized interior loop. */
#define CK_MP_RUN 256L

/* What both pooling kernels take: planes of x, outputs [planes, L], and for max pooling the
 * window offsets (NULL for window sums). */
#define CK_POOL_CTX(P, T)                                                                          \
    typedef struct {                                                                               \
        const ckernels_window *w;                                                                  \
        const T *x;                                                                                \
        long sn, sc, sh, sw;                                                                       \
        T *out;                                                                                    \
        int64_t *index;                                                                            \
    } ck_##P##pool_ctx;
CK_POOL_CTX(s, float)
CK_POOL_CTX(d, double)

/* The walk both pooling kernels share, over planes [begin, end) of a ck_##P##pool_ctx:
 * windows wholly inside the image a run of outputs at a time through RUN(s, m, step, kh, kw,
 * dh, dw, orow, irow) (s the first window, the next ones step elements on; independent lanes
 * the compiler vectorizes), the others one at a time through EDGE(&w, plane, sh, sw, y0, x0,
 * &orow[ox], irow + ox). irow is NULL without offsets. */
#define CK_POOL_CHUNK(NAME, P, T, RUN, EDGE)                                                       \
    static void NAME(void *v, long begin, long end) {                                              \
        const ck_##P##pool_ctx *c = (const ck_##P##pool_ctx *)v;                                   \
        const ckernels_window w = *c->w;                                                           \
        const long kh = w.kernel_h, kw = w.kernel_w, oh = w.out_h, ow = w.out_w;                  \
        const long sh = c->sh, sw = c->sw, dh = w.dilation_h * sh, dw = w.dilation_w * sw;        \
        long lo, hi;                                                                               \
        ck_inside_columns(&w, &lo, &hi);                                                           \
        for (long p = begin; p < end; p++) {                                                       \
            const T *plane = c->x + p / w.channels * c->sn + p % w.channels * c->sc;              \
            T *restrict out = c->out + p * oh * ow;                                                \
            int64_t *index = c->index ? c->index + p * oh * ow : NULL;                             \
            for (long oy = 0; oy < oh; oy++) {                                                     \
                const long y0 = oy * w.stride_h - w.pad_h;                                         \
                const int rows_inside = y0 >= 0 && y0 + (kh - 1) * w.dilation_h < w.height;        \
                T *restrict orow = out + oy * ow;                                                  \
                int64_t *irow = index ? index + oy * ow : NULL;                                    \
                const long a = rows_inside ? lo : ow, b = rows_inside ? hi : ow;                   \
                for (long r0 = a; r0 < b; r0 += CK_MP_RUN) {                                       \
                    const long m = b - r0 < CK_MP_RUN ? b - r0 : CK_MP_RUN;                        \
                    const T *s = plane + y0 * sh + (r0 * w.stride_w - w.pad_w) * sw;               \
                    const long step = w.stride_w * sw;                                             \
                    int64_t *ir = irow ? irow + r0 : NULL;                                         \
                    if (step == 1) RUN(s, m, 1, kh, kw, dh, dw, orow + r0, ir);                    \
                    else if (step == 2) RUN(s, m, 2, kh, kw, dh, dw, orow + r0, ir);               \
                    else RUN(s, m, step, kh, kw, dh, dw, orow + r0, ir);                           \
                }                                                                                  \
                for (long ox = 0; ox < ow; ox++) {                                                 \
                    if (ox == a) ox = b;                                                           \
                    if (ox >= ow) break;                                                           \
                    EDGE(&w, plane, sh, sw, y0, ox * w.stride_w - w.pad_w, orow + ox,              \
                         irow ? irow + ox : NULL);                                                 \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

/* The body of both pooling entry points: checks (INDEX_OK: the offsets pointer is acceptable),
 * then the planes, on the pool's threads from 32K window positions. */
#define CK_POOL_ENTRY(P, CHUNK, INDEX, INDEX_OK)                                                   \
        if (!ck_window_ok(w) || batch < 0) return CKERNELS_EINVAL;                                 \
        const long planes = batch * w->channels, per = w->out_h * w->out_w;                        \
        if (planes == 0 || per == 0) return CKERNELS_OK;                                           \
        if (x == NULL || out == NULL || !(INDEX_OK)) return CKERNELS_EINVAL;                       \
        ck_##P##pool_ctx c = {w, x, sn, sc, sh, sw, out, INDEX};                                   \
        long work = per * w->kernel_h * w->kernel_w;                                               \
        if (planes * work < (1L << 15)) CHUNK(&c, 0, planes);                                      \
        else ckernels_parallel_for(planes, ((1L << 14) + work - 1) / work, CHUNK, &c);             \
        return CKERNELS_OK;

#define CK_MAX_POOL(P, T, IT)                                                                      \
    /* m outputs whose windows lie inside the image; IT is an integer as wide as T, so the       \
     * selects vectorize. */                                                                      \
    static inline __attribute__((always_inline)) void ck_##P##mp_run(                             \
        const T *s, long m, long step, long kh, long kw, long dh, long dw, T *restrict orow,       \
        int64_t *restrict irow) {                                                                  \
        T best[CK_MP_RUN];                                                                         \
        IT bi[CK_MP_RUN];                                                                          \
        for (long ox = 0; ox < m; ox++) {                                                          \
            best[ox] = s[ox * step];                                                               \
            bi[ox] = 0;                                                                            \
        }                                                                                          \
        for (long k = 1; k < kh * kw; k++) {                                                       \
            const T *sk = s + k / kw * dh + k % kw * dw;                                           \
            for (long ox = 0; ox < m; ox++) {                                                      \
                const T cur = best[ox], cand = sk[ox * step];                                      \
                const int take = (cur == cur) & ((cand != cand) | (cand > cur));                   \
                best[ox] = take ? cand : cur;                                                      \
                bi[ox] = take ? (IT)k : bi[ox];                                                    \
            }                                                                                      \
        }                                                                                          \
        for (long ox = 0; ox < m; ox++) {                                                          \
            orow[ox] = best[ox];                                                                   \
            irow[ox] = bi[ox];                                                                     \
        }                                                                                          \
    }                                                                                              \
    /* one window that reaches outside the image: its positions inside, in window order */        \
    static inline __attribute__((always_inline)) void ck_##P##mp_edge(                            \
        const ckernels_window *w, const T *plane, long sh, long sw, long y0, long x0, T *o,        \
        int64_t *io) {                                                                             \
        T best = -(T)INFINITY;                                                                     \
        long bi = -1;                                                                              \
        for (long i = 0; i < w->kernel_h; i++) {                                                   \
            const long y = y0 + i * w->dilation_h;                                                 \
            if (y < 0 || y >= w->height) continue;                                                 \
            for (long j = 0; j < w->kernel_w; j++) {                                               \
                const long x = x0 + j * w->dilation_w;                                             \
                if (x < 0 || x >= w->width) continue;                                              \
                const T v_ = plane[y * sh + x * sw];                                               \
                if (bi < 0) {                                                                      \
                    best = v_;                                                                     \
                    bi = i * w->kernel_w + j;                                                      \
                } else {                                                                           \
                    CK_POOL_TAKE(v_, i * w->kernel_w + j);                                         \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        *o = best;                                                                                 \
        *io = bi < 0 ? 0 : bi; /* no position inside the image: -inf at offset 0 */               \
    }                                                                                              \
    CK_POOL_CHUNK(ck_##P##mp_chunk, P, T, ck_##P##mp_run, ck_##P##mp_edge)                         \
    int ckernels_##P##max_pool2d(const ckernels_window *w, long batch, const T *x, long sn,        \
                                 long sc, long sh, long sw, T *out, int64_t *index) {              \
        CK_POOL_ENTRY(P, ck_##P##mp_chunk, index, index != NULL)                                   \
    }
CK_MAX_POOL(s, float, int32_t)
CK_MAX_POOL(d, double, int64_t)

/* ---- window sums (average pooling) ---- */

/* Sums of each window of kk <= 64 positions, positions outside the image counting +0, in the
 * order of `ckernels_ssum_dim` over a column of kk: position k to accumulator k % 4 while four
 * remain, the rest to the first; (s0 + s1) + (s2 + s3), then +0.0 + that. Windows wholly
 * inside the image go a run of outputs at a time, the others position by position (the walk
 * of max pooling). */
#define CK_WINDOW_SUM(P, T)                                                                        \
    static inline __attribute__((always_inline)) void ck_##P##ws_run(                             \
        const T *s, long m, long step, long kh, long kw, long dh, long dw, T *restrict orow,       \
        int64_t *irow) {                                                                           \
        (void)irow;                                                                                \
        T acc[4][CK_MP_RUN];                                                                       \
        const long kk = kh * kw, full = kk - kk % 4;                                               \
        for (int q = 0; q < 4; q++)                                                                \
            for (long ox = 0; ox < m; ox++) acc[q][ox] = 0;                                        \
        for (long k = 0; k < kk; k++) {                                                            \
            const T *sk = s + k / kw * dh + k % kw * dw;                                           \
            T *restrict a = acc[k < full ? k % 4 : 0];                                             \
            for (long ox = 0; ox < m; ox++) a[ox] += sk[ox * step];                                \
        }                                                                                          \
        for (long ox = 0; ox < m; ox++)                                                            \
            orow[ox] = (T)0 + ((acc[0][ox] + acc[1][ox]) + (acc[2][ox] + acc[3][ox]));             \
    }                                                                                              \
    static inline __attribute__((always_inline)) void ck_##P##ws_edge(                            \
        const ckernels_window *w, const T *plane, long sh, long sw, long y0, long x0, T *o,        \
        int64_t *io) {                                                                             \
        (void)io;                                                                                  \
        const long kk = w->kernel_h * w->kernel_w, full = kk - kk % 4;                             \
        T acc[4] = {0, 0, 0, 0};                                                                   \
        long k = 0;                                                                                \
        for (long i = 0; i < w->kernel_h; i++) {                                                   \
            const long y = y0 + i * w->dilation_h;                                                 \
            const int row_in = y >= 0 && y < w->height;                                            \
            for (long j = 0; j < w->kernel_w; j++, k++) {                                          \
                const long xx = x0 + j * w->dilation_w;                                            \
                const T v_ = row_in && xx >= 0 && xx < w->width ? plane[y * sh + xx * sw] : (T)0;  \
                acc[k < full ? k % 4 : 0] += v_;                                                   \
            }                                                                                      \
        }                                                                                          \
        *o = (T)0 + ((acc[0] + acc[1]) + (acc[2] + acc[3]));                                       \
    }                                                                                              \
    CK_POOL_CHUNK(ck_##P##ws_chunk, P, T, ck_##P##ws_run, ck_##P##ws_edge)                         \
    int ckernels_##P##window_sum2d(const ckernels_window *w, long batch, const T *x, long sn,      \
                                   long sc, long sh, long sw, T *out) {                            \
        if (w != NULL && w->kernel_h * w->kernel_w > 64) return CKERNELS_EINVAL;                   \
        CK_POOL_ENTRY(P, ck_##P##ws_chunk, NULL, 1)                                                \
    }
CK_WINDOW_SUM(s, float)
CK_WINDOW_SUM(d, double)
