/* Convolution windows: im2col and col2im of one image over a band of output rows.
 *
 * Plain C: the work is copying and adding contiguous runs, bound by memory, and the compiler's
 * own vectorization of the unit-stride loops (SSE2 at -O2) is enough. Each row of the columns,
 * (c, i, j), reads one shifted, possibly strided, run of every input row it touches; the valid
 * range [lo, hi) of output columns is computed once per (j), so the inner loops carry no
 * bounds checks. */
#include "ck_internal.h"

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
    int ckernels_##P##im2col(const ckernels_window *w, const T *x, long sc, long sh, long sw,      \
                             T pad, long oy0, long oy1, T *cols, long ldc) {                       \
        if (!ck_window_ok(w) || oy0 < 0 || oy1 > w->out_h || oy0 > oy1) return CKERNELS_EINVAL;   \
        const long ow = w->out_w, band = (oy1 - oy0) * ow;                                         \
        if (band == 0 || w->channels == 0) return CKERNELS_OK;                                     \
        if (x == NULL || cols == NULL || ldc < band) return CKERNELS_EINVAL;                       \
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
        return CKERNELS_OK;                                                                        \
    }                                                                                              \
                                                                                                   \
    int ckernels_##P##col2im(const ckernels_window *w, const T *cols, long ldc, long oy0,          \
                             long oy1, T *image) {                                                 \
        if (!ck_window_ok(w) || oy0 < 0 || oy1 > w->out_h || oy0 > oy1) return CKERNELS_EINVAL;   \
        const long ow = w->out_w, band = (oy1 - oy0) * ow, hw = w->height * w->width;              \
        if (band == 0 || w->channels == 0) return CKERNELS_OK;                                     \
        if (image == NULL || cols == NULL || ldc < band) return CKERNELS_EINVAL;                   \
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
        return CKERNELS_OK;                                                                        \
    }

CK_CONV(s, float)
CK_CONV(d, double)
