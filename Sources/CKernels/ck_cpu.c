/* Run-time instruction-set selection. */
#include "ck_internal.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__APPLE__)
#include <sys/sysctl.h>
#endif

static atomic_int ck_isa_best = -1; /* what the CPU supports */
static atomic_int ck_isa_cur = -1;  /* what the kernels use (<= best) */

static int ck_detect(void) {
#if CK_X86 && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    /* __builtin_cpu_supports also checks that the OS saves the YMM/ZMM state. */
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return CKERNELS_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return CKERNELS_ISA_AVX2;
    return CKERNELS_ISA_SCALAR;
#elif CK_NEON
    return CKERNELS_ISA_NEON;
#else
    return CKERNELS_ISA_SCALAR;
#endif
}

static int ck_clamp(int level, int best) {
    if (level <= CKERNELS_ISA_SCALAR) return CKERNELS_ISA_SCALAR;
    if (best == CKERNELS_ISA_NEON) return CKERNELS_ISA_NEON;
    if (level == CKERNELS_ISA_NEON) return best; /* not an x86 level */
    return level < best ? level : best;
}

int ck_isa_now(void) {
    int cur = atomic_load_explicit(&ck_isa_cur, memory_order_acquire);
    if (CK_LIKELY(cur >= 0)) return cur;
    int best = ck_detect();
    int level = best;
    const char *env = getenv("AUTOGRAD_CPU_ISA");
    if (env != NULL) {
        if (strcmp(env, "scalar") == 0) level = CKERNELS_ISA_SCALAR;
        else if (strcmp(env, "avx2") == 0) level = ck_clamp(CKERNELS_ISA_AVX2, best);
        else if (strcmp(env, "avx512") == 0) level = ck_clamp(CKERNELS_ISA_AVX512, best);
    }
    atomic_store_explicit(&ck_isa_best, best, memory_order_relaxed);
    int expected = -1;
    /* Another thread may have finished first; both computed the same thing. */
    atomic_compare_exchange_strong(&ck_isa_cur, &expected, level);
    return atomic_load_explicit(&ck_isa_cur, memory_order_acquire);
}

int ckernels_isa(void) { return ck_isa_now(); }

const char *ckernels_isa_name(void) {
    switch (ck_isa_now()) {
    case CKERNELS_ISA_AVX2: return "avx2";
    case CKERNELS_ISA_AVX512: return "avx512";
    case CKERNELS_ISA_NEON: return "neon";
    default: return "scalar";
    }
}

int ckernels_set_isa(int level) {
    (void)ck_isa_now();
    int best = atomic_load_explicit(&ck_isa_best, memory_order_relaxed);
    atomic_store_explicit(&ck_isa_cur, ck_clamp(level, best), memory_order_release);
    return ck_isa_now();
}

const ck_vec_table *ck_vec_now(void) {
    switch (ck_isa_now()) {
#if CK_X86
    case CKERNELS_ISA_AVX512: return ck_vec_table_avx512();
    case CKERNELS_ISA_AVX2: return ck_vec_table_avx2();
#endif
#if CK_NEON
    case CKERNELS_ISA_NEON: return ck_vec_table_neon();
#endif
    default: return ck_vec_table_scalar();
    }
}

/* Bytes of the level-2 or level-3 cache (sysconf / sysctl), 0 when unknown. */
static long ck_cache_bytes(int level) {
    long v = 0;
#if defined(_SC_LEVEL2_CACHE_SIZE) && defined(_SC_LEVEL3_CACHE_SIZE)
    v = sysconf(level == 2 ? _SC_LEVEL2_CACHE_SIZE : _SC_LEVEL3_CACHE_SIZE);
#elif defined(__APPLE__)
    int64_t bytes = 0;
    size_t len = sizeof(bytes);
    if (sysctlbyname(level == 2 ? "hw.l2cachesize" : "hw.l3cachesize", &bytes, &len, NULL, 0) == 0) v = (long)bytes;
#endif
    return v > 0 ? v : 0;
}

long ck_l2_bytes(void) {
    static atomic_long cached = 0;
    long v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v > 0) return v;
    v = ck_cache_bytes(2);
    if (v <= 0) v = 512L * 1024;
    atomic_store_explicit(&cached, v, memory_order_relaxed);
    return v;
}

/* -1: not decided yet; LONG_MAX: never stream. */
static atomic_long ck_stream_bytes = -1;

/* Element-wise ops stream their output (non-temporal stores) when the bytes they touch (inputs
 * and output) reach 3/8 of the L3 cache. On the 2-core development VM (266 MB L3 reported) a
 * write of n floats followed by a sum of them, both on two threads, was faster with ordinary
 * stores up to 96 MiB touched (scale of 12M floats: 2.9 vs 3.3 ms; add of 8M: 2.46 vs 2.50) and
 * faster streamed from 128 MiB (scale of 16M: 4.1-4.5 vs 4.5-5.2 ms; add of 12M: 3.9 vs 4.0,
 * of 16M: 6.1 vs 7.1): below that, part of an ordinary output is still in L3 for its reader;
 * above it, ordinary stores read every output line first and write it back later. Without a
 * known L3 size nothing streams. */
long ck_stream_min_bytes(void) {
    long v = atomic_load_explicit(&ck_stream_bytes, memory_order_relaxed);
    if (v >= 0) return v;
    long l3 = ck_cache_bytes(3);
    v = l3 > 0 ? l3 / 8 * 3 : LONG_MAX;
    atomic_store_explicit(&ck_stream_bytes, v, memory_order_relaxed);
    return v;
}

long ckernels_set_stream_threshold(long bytes) {
    long previous = ck_stream_min_bytes();
    if (bytes < 0) {
        atomic_store_explicit(&ck_stream_bytes, -1, memory_order_relaxed);
        (void)ck_stream_min_bytes();
    } else {
        atomic_store_explicit(&ck_stream_bytes, bytes, memory_order_relaxed);
    }
    return previous;
}
