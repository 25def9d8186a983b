/* float32 <-> IEEE 754 binary16 conversions: AVX-512 or F16C on x86, the NEON conversions on
 * arm64, the portable bit arithmetic elsewhere; on all threads for large arrays.
 *
 * Non-NaN values have one right answer (round to nearest, ties to even; float16 to float32 is
 * exact), which the instructions give. NaNs differ between instructions (a signaling NaN comes
 * back quiet from vcvtph2ps), so any block of 16 that holds a NaN is redone by the portable
 * functions, which are the rules of the Swift `Half` type: the same bits everywhere. */
#include "ck_internal.h"

#include <stdatomic.h>
#include <string.h>

#if CK_X86
#include <immintrin.h>
#endif
#if CK_NEON
#include <arm_neon.h>
#endif

#define CK_HALF_BLOCK 16
#define CK_HALF_PAR (1L << 16) /* elements; chunks of at least half of it */

/* ---- portable ---- */

static uint16_t ck_f32_to_f16_bits(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    uint32_t exponent = (x >> 23) & 0xff, mantissa = x & 0x7fffff;
    if (exponent == 0xff) return (uint16_t)(sign | 0x7c00 | (mantissa ? 0x200 | (mantissa >> 13) : 0));
    int e = (int)exponent - 127 + 15;
    if (e >= 0x1f) return (uint16_t)(sign | 0x7c00);
    if (e <= 0) { /* a subnormal half or zero: the mantissa with its implicit bit, shifted */
        if (e < -10) return sign;
        mantissa |= 0x800000;
        int shift = 14 - e;
        uint32_t h = mantissa >> shift, rest = mantissa & ((1u << shift) - 1), halfway = 1u << (shift - 1);
        if (rest > halfway || (rest == halfway && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = mantissa >> 13, rest = mantissa & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) {
        h++;
        if (h == 0x400) {
            h = 0;
            if (++e >= 0x1f) return (uint16_t)(sign | 0x7c00);
        }
    }
    return (uint16_t)(sign | (uint32_t)e << 10 | h);
}

static float ck_f16_bits_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    uint32_t bits;
    if (exponent == 0) {
        float magnitude = (float)mantissa * 0x1p-24f; /* zero or subnormal, exact */
        memcpy(&bits, &magnitude, 4);
        bits |= sign;
    } else if (exponent == 0x1f) {
        bits = sign | 0x7f800000 | mantissa << 13;
    } else {
        bits = sign | (exponent + 127 - 15) << 23 | mantissa << 13;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static void ck_to_half_portable(long n, const float *x, uint16_t *out) {
    for (long i = 0; i < n; i++) out[i] = ck_f32_to_f16_bits(x[i]);
}

static void ck_from_half_portable(long n, const uint16_t *x, float *out) {
    for (long i = 0; i < n; i++) out[i] = ck_f16_bits_to_f32(x[i]);
}

/* ---- vector ---- */

#if CK_X86
CK_TARGET_AVX512 static void ck_to_half_avx512(long n, const float *x, uint16_t *out) {
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        if (_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q)) ck_to_half_portable(16, x + i, out + i);
        else _mm256_storeu_si256((__m256i *)(out + i), _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    ck_to_half_portable(n - i, x + i, out + i);
}

CK_TARGET_AVX512 static void ck_from_half_avx512(long n, const uint16_t *x, float *out) {
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(x + i)));
        if (_mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q)) ck_from_half_portable(16, x + i, out + i);
        else _mm512_storeu_ps(out + i, v);
    }
    ck_from_half_portable(n - i, x + i, out + i);
}

__attribute__((target("avx2,f16c"))) static void ck_to_half_f16c(long n, const float *x, uint16_t *out) {
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        if (_mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q))) ck_to_half_portable(8, x + i, out + i);
        else _mm_storeu_si128((__m128i *)(out + i), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    ck_to_half_portable(n - i, x + i, out + i);
}

__attribute__((target("avx2,f16c"))) static void ck_from_half_f16c(long n, const uint16_t *x, float *out) {
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i)));
        if (_mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q))) ck_from_half_portable(8, x + i, out + i);
        else _mm256_storeu_ps(out + i, v);
    }
    ck_from_half_portable(n - i, x + i, out + i);
}

static int ck_has_f16c(void) {
    static atomic_int cached = -1;
    int has = atomic_load_explicit(&cached, memory_order_relaxed);
    if (has < 0) {
        __builtin_cpu_init();
        has = __builtin_cpu_supports("f16c") ? 1 : 0;
        atomic_store_explicit(&cached, has, memory_order_relaxed);
    }
    return has;
}
#endif

#if CK_NEON
static void ck_to_half_neon(long n, const float *x, uint16_t *out) {
    long i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t v = vld1q_f32(x + i);
        if (vminvq_u32(vceqq_f32(v, v)) == 0) ck_to_half_portable(4, x + i, out + i);
        else vst1_u16(out + i, vreinterpret_u16_f16(vcvt_f16_f32(v)));
    }
    ck_to_half_portable(n - i, x + i, out + i);
}

static void ck_from_half_neon(long n, const uint16_t *x, float *out) {
    long i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t v = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(x + i)));
        if (vminvq_u32(vceqq_f32(v, v)) == 0) ck_from_half_portable(4, x + i, out + i);
        else vst1q_f32(out + i, v);
    }
    ck_from_half_portable(n - i, x + i, out + i);
}
#endif

typedef void (*ck_to_half_fn)(long n, const float *x, uint16_t *out);
typedef void (*ck_from_half_fn)(long n, const uint16_t *x, float *out);

static ck_to_half_fn ck_to_half_now(void) {
#if CK_X86
    int isa = ck_isa_now();
    if (isa == CKERNELS_ISA_AVX512) return ck_to_half_avx512;
    if (isa == CKERNELS_ISA_AVX2 && ck_has_f16c()) return ck_to_half_f16c;
#elif CK_NEON
    if (ck_isa_now() == CKERNELS_ISA_NEON) return ck_to_half_neon;
#endif
    return ck_to_half_portable;
}

static ck_from_half_fn ck_from_half_now(void) {
#if CK_X86
    int isa = ck_isa_now();
    if (isa == CKERNELS_ISA_AVX512) return ck_from_half_avx512;
    if (isa == CKERNELS_ISA_AVX2 && ck_has_f16c()) return ck_from_half_f16c;
#elif CK_NEON
    if (ck_isa_now() == CKERNELS_ISA_NEON) return ck_from_half_neon;
#endif
    return ck_from_half_portable;
}

typedef struct {
    int to_half;
    const void *x;
    void *out;
} ck_half_ctx;

static void ck_half_chunk(void *v, long begin, long end) {
    ck_half_ctx *c = (ck_half_ctx *)v;
    if (c->to_half) ck_to_half_now()(end - begin, (const float *)c->x + begin, (uint16_t *)c->out + begin);
    else ck_from_half_now()(end - begin, (const uint16_t *)c->x + begin, (float *)c->out + begin);
}

static int ck_half_run(int to_half, long n, const void *x, void *out) {
    if (n < 0) return CKERNELS_EINVAL;
    if (n == 0) return CKERNELS_OK;
    if (x == NULL || out == NULL) return CKERNELS_EINVAL;
    ck_half_ctx c = {to_half, x, out};
    int threads = ck_threads_available();
    if (n < CK_HALF_PAR || threads <= 1) {
        ck_half_chunk(&c, 0, n);
        return CKERNELS_OK;
    }
    long chunk = (n + 4L * threads - 1) / (4L * threads); /* ~4 chunks per thread */
    if (chunk < CK_HALF_PAR / 2) chunk = CK_HALF_PAR / 2;
    chunk = (chunk + CK_HALF_BLOCK - 1) / CK_HALF_BLOCK * CK_HALF_BLOCK;
    ck_parallel_chunks(n, chunk, ck_half_chunk, &c);
    return CKERNELS_OK;
}

int ckernels_f32_to_f16(long n, const float *x, uint16_t *out) { return ck_half_run(1, n, x, out); }

int ckernels_f16_to_f32(long n, const uint16_t *x, float *out) { return ck_half_run(0, n, x, out); }
