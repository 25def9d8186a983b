/* Fused optimizer updates: one pass over a parameter, its gradient and its state, element by
 * element the same IEEE operations, in the same order, as the op-by-op updates in
 * Sources/Autograd/Optim (so the results are the same bits). */
#include "ck_internal.h"

#include <math.h>

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

/* sqrt without errno (libm's sqrt may set it for negative inputs, which keeps compilers from
 * vectorizing a loop calling it); correctly rounded either way. */
#if defined(__has_builtin)
#if __has_builtin(__builtin_elementwise_sqrt)
#define CK_SQRTF(x) __builtin_elementwise_sqrt(x)
#define CK_SQRT(x) __builtin_elementwise_sqrt(x)
#endif
#endif
#ifndef CK_SQRTF
#define CK_SQRTF(x) sqrtf(x)
#define CK_SQRT(x) sqrt(x)
#endif

/* Parallel above this many elements (each touches 4-5 arrays). */
#define CK_OPTIM_PAR (1L << 15)

/* Each update's loop takes its flags as one compile-time `mode` (a bit per option) and its
 * arrays as restrict locals, so that the compiler vectorizes it; CK_MODE_SWITCH turns the
 * run-time mode into a case per value, each calling the always-inline loop with a constant. */
#define CK_MODE_CASE(LOOP, m) \
    case m: LOOP(c, begin, end, m); break;
#define CK_MODE_SWITCH8(LOOP, mode)                                                                \
    switch (mode) {                                                                                \
        CK_MODE_CASE(LOOP, 0) CK_MODE_CASE(LOOP, 1) CK_MODE_CASE(LOOP, 2) CK_MODE_CASE(LOOP, 3)    \
        CK_MODE_CASE(LOOP, 4) CK_MODE_CASE(LOOP, 5) CK_MODE_CASE(LOOP, 6) CK_MODE_CASE(LOOP, 7)    \
    }
#define CK_MODE_SWITCH16(LOOP, mode)                                                               \
    switch (mode) {                                                                                \
        CK_MODE_CASE(LOOP, 0) CK_MODE_CASE(LOOP, 1) CK_MODE_CASE(LOOP, 2) CK_MODE_CASE(LOOP, 3)    \
        CK_MODE_CASE(LOOP, 4) CK_MODE_CASE(LOOP, 5) CK_MODE_CASE(LOOP, 6) CK_MODE_CASE(LOOP, 7)    \
        CK_MODE_CASE(LOOP, 8) CK_MODE_CASE(LOOP, 9) CK_MODE_CASE(LOOP, 10) CK_MODE_CASE(LOOP, 11)  \
        CK_MODE_CASE(LOOP, 12) CK_MODE_CASE(LOOP, 13) CK_MODE_CASE(LOOP, 14) CK_MODE_CASE(LOOP, 15) \
    }

/* Runs CHUNK over [0, n) on the pool above CK_OPTIM_PAR elements. */
#define CK_OPTIM_RUN(n, CHUNK, ctx) \
    ck_parallel_chunks((n), (n) < CK_OPTIM_PAR ? (n) : CK_OPTIM_PAR / 2, CHUNK, (ctx))

#define CK_ADAM_COUPLED 1   /* g += p * wd */
#define CK_ADAM_DECOUPLED 2 /* p *= 1 - lr * wd */
#define CK_ADAM_AMSGRAD 4
#define CK_SGD_DECAY 1
#define CK_SGD_MOMENTUM 2
#define CK_SGD_FIRST 4    /* with momentum: the buffer starts as d */
#define CK_SGD_NESTEROV 8 /* with momentum */
#define CK_RMS_DECAY 1
#define CK_RMS_CENTERED 2
#define CK_RMS_MOMENTUM 4

#define CK_OPTIM(P, T, SQRT)                                                                       \
    typedef struct {                                                                               \
        T *p, *m, *v, *vmax;                                                                       \
        const T *g;                                                                                \
        T wd, decay, one_minus_b1, b2, one_minus_b2, bc2_sqrt, eps, neg_step;                      \
        int mode;                                                                                  \
    } ck_##P##adam_ctx;                                                                            \
    static inline __attribute__((always_inline)) void ck_##P##adam_loop(                           \
        const ck_##P##adam_ctx *c, long begin, long end, const int mode) {                         \
        T *restrict pp = c->p, *restrict mp = c->m, *restrict vp = c->v, *restrict xp = c->vmax;   \
        const T *restrict gp = c->g;                                                               \
        const T wd = c->wd, decay = c->decay, omb1 = c->one_minus_b1, b2 = c->b2;                  \
        const T omb2 = c->one_minus_b2, bc2 = c->bc2_sqrt, eps = c->eps, ns = c->neg_step;         \
        for (long i = begin; i < end; i++) {                                                       \
            T p = pp[i], g = gp[i];                                                                \
            if (mode & CK_ADAM_DECOUPLED) p = p * decay;                                           \
            if (mode & CK_ADAM_COUPLED) g = g + p * wd;                                            \
            T m = mp[i];                                                                           \
            m = m + (g - m) * omb1;                                                                \
            mp[i] = m;                                                                             \
            T v = vp[i] * b2 + (g * g) * omb2;                                                     \
            vp[i] = v;                                                                             \
            if (mode & CK_ADAM_AMSGRAD) {                                                          \
                T x = xp[i];                                                                       \
                x = x != x || v != v ? (T)NAN : (v >= x ? v : x);                                  \
                xp[i] = x;                                                                         \
                v = x;                                                                             \
            }                                                                                      \
            pp[i] = p + (m / (SQRT(v) / bc2 + eps)) * ns;                                          \
        }                                                                                          \
    }                                                                                              \
    static void ck_##P##adam_chunk(void *v_, long begin, long end) {                               \
        const ck_##P##adam_ctx *c = (const ck_##P##adam_ctx *)v_;                                  \
        CK_MODE_SWITCH8(ck_##P##adam_loop, c->mode)                                                \
    }                                                                                              \
    int ckernels_##P##adam(long n, T *p, const T *g, T *m, T *v, T *vmax,                          \
                           const ckernels_adam_params *h) {                                        \
        if (n < 0 || h == NULL) return CKERNELS_EINVAL;                                            \
        if (n == 0) return CKERNELS_OK;                                                            \
        if (p == NULL || g == NULL || m == NULL || v == NULL) return CKERNELS_EINVAL;              \
        const int wd = h->weight_decay != 0;                                                       \
        ck_##P##adam_ctx c = {p, m, v, vmax, g,                                                    \
                              (T)h->weight_decay, (T)(1 - h->lr * h->weight_decay),                \
                              (T)(1 - h->beta1), (T)h->beta2, (T)(1 - h->beta2),                   \
                              (T)h->bias_correction2_sqrt, (T)h->eps, (T)(-h->step_size),          \
                              (wd && !h->decoupled ? CK_ADAM_COUPLED : 0) |                        \
                                  (wd && h->decoupled ? CK_ADAM_DECOUPLED : 0) |                   \
                                  (vmax != NULL ? CK_ADAM_AMSGRAD : 0)};                           \
        CK_OPTIM_RUN(n, ck_##P##adam_chunk, &c);                                                   \
        return CKERNELS_OK;                                                                        \
    }                                                                                              \
                                                                                                   \
    typedef struct {                                                                               \
        T *p, *buf;                                                                                \
        const T *g;                                                                                \
        T wd, momentum, one_minus_dampening, neg_lr;                                               \
        int mode;                                                                                  \
    } ck_##P##sgd_ctx;                                                                             \
    static inline __attribute__((always_inline)) void ck_##P##sgd_loop(                            \
        const ck_##P##sgd_ctx *c, long begin, long end, const int mode) {                          \
        T *restrict pp = c->p, *restrict bp = c->buf;                                              \
        const T *restrict gp = c->g;                                                               \
        const T wd = c->wd, mu = c->momentum, omd = c->one_minus_dampening, nl = c->neg_lr;        \
        for (long i = begin; i < end; i++) {                                                       \
            T p = pp[i], d = gp[i];                                                                \
            if (mode & CK_SGD_DECAY) d = d + p * wd;                                               \
            if (mode & CK_SGD_MOMENTUM) {                                                          \
                T b = (mode & CK_SGD_FIRST) ? d : bp[i] * mu + d * omd;                            \
                bp[i] = b;                                                                         \
                d = (mode & CK_SGD_NESTEROV) ? d + b * mu : b;                                     \
            }                                                                                      \
            pp[i] = p + d * nl;                                                                    \
        }                                                                                          \
    }                                                                                              \
    static void ck_##P##sgd_chunk(void *v_, long begin, long end) {                                \
        const ck_##P##sgd_ctx *c = (const ck_##P##sgd_ctx *)v_;                                    \
        CK_MODE_SWITCH16(ck_##P##sgd_loop, c->mode)                                                \
    }                                                                                              \
    int ckernels_##P##sgd(long n, T *p, const T *g, T *buf, const ckernels_sgd_params *h) {       \
        if (n < 0 || h == NULL) return CKERNELS_EINVAL;                                            \
        if (n == 0) return CKERNELS_OK;                                                            \
        if (p == NULL || g == NULL || (h->momentum != 0 && buf == NULL)) return CKERNELS_EINVAL;   \
        const int mom = h->momentum != 0;                                                          \
        ck_##P##sgd_ctx c = {p, buf, g, (T)h->weight_decay, (T)h->momentum, (T)(1 - h->dampening), \
                             (T)(-h->lr),                                                          \
                             (h->weight_decay != 0 ? CK_SGD_DECAY : 0) | (mom ? CK_SGD_MOMENTUM : 0) | \
                                 (mom && h->first ? CK_SGD_FIRST : 0) |                            \
                                 (mom && h->nesterov ? CK_SGD_NESTEROV : 0)};                      \
        CK_OPTIM_RUN(n, ck_##P##sgd_chunk, &c);                                                    \
        return CKERNELS_OK;                                                                        \
    }                                                                                              \
                                                                                                   \
    typedef struct {                                                                               \
        T *p, *sq, *gavg, *buf;                                                                    \
        const T *g;                                                                                \
        T wd, alpha, one_minus_alpha, eps, momentum, neg_lr;                                       \
        int mode;                                                                                  \
    } ck_##P##rms_ctx;                                                                             \
    static inline __attribute__((always_inline)) void ck_##P##rms_loop(                            \
        const ck_##P##rms_ctx *c, long begin, long end, const int mode) {                          \
        T *restrict pp = c->p, *restrict sp = c->sq, *restrict ap = c->gavg, *restrict bp = c->buf; \
        const T *restrict gp = c->g;                                                               \
        const T wd = c->wd, al = c->alpha, oma = c->one_minus_alpha, eps = c->eps;                 \
        const T mu = c->momentum, nl = c->neg_lr;                                                  \
        for (long i = begin; i < end; i++) {                                                       \
            T p = pp[i], g = gp[i];                                                                \
            if (mode & CK_RMS_DECAY) g = g + p * wd;                                               \
            T s = sp[i] * al + (g * g) * oma;                                                      \
            sp[i] = s;                                                                             \
            T avg;                                                                                 \
            if (mode & CK_RMS_CENTERED) {                                                          \
                T a = ap[i];                                                                       \
                a = a + (g - a) * oma;                                                             \
                ap[i] = a;                                                                         \
                avg = SQRT(s - a * a);                                                             \
            } else {                                                                               \
                avg = SQRT(s);                                                                     \
            }                                                                                      \
            avg = avg + eps;                                                                       \
            if (mode & CK_RMS_MOMENTUM) {                                                          \
                T b = bp[i] * mu + g / avg;                                                        \
                bp[i] = b;                                                                         \
                pp[i] = p + b * nl;                                                                \
            } else {                                                                               \
                pp[i] = p + (g / avg) * nl;                                                        \
            }                                                                                      \
        }                                                                                          \
    }                                                                                              \
    static void ck_##P##rms_chunk(void *v_, long begin, long end) {                                \
        const ck_##P##rms_ctx *c = (const ck_##P##rms_ctx *)v_;                                    \
        CK_MODE_SWITCH8(ck_##P##rms_loop, c->mode)                                                 \
    }                                                                                              \
    int ckernels_##P##rmsprop(long n, T *p, const T *g, T *sq, T *gavg, T *buf,                    \
                              const ckernels_rmsprop_params *h) {                                  \
        if (n < 0 || h == NULL) return CKERNELS_EINVAL;                                            \
        if (n == 0) return CKERNELS_OK;                                                            \
        if (p == NULL || g == NULL || sq == NULL || (h->centered && gavg == NULL) ||               \
            (h->momentum > 0 && buf == NULL))                                                      \
            return CKERNELS_EINVAL;                                                                \
        ck_##P##rms_ctx c = {p, sq, gavg, buf, g, (T)h->weight_decay, (T)h->alpha,                 \
                             (T)(1 - h->alpha), (T)h->eps, (T)h->momentum, (T)(-h->lr),            \
                             (h->weight_decay != 0 ? CK_RMS_DECAY : 0) |                           \
                                 (h->centered ? CK_RMS_CENTERED : 0) |                             \
                                 (h->momentum > 0 ? CK_RMS_MOMENTUM : 0)};                         \
        CK_OPTIM_RUN(n, ck_##P##rms_chunk, &c);                                                    \
        return CKERNELS_OK;                                                                        \
    }

CK_OPTIM(s, float, CK_SQRTF)
CK_OPTIM(d, double, CK_SQRT)
