/* Run-time instruction-set selection. */
#include "ck_internal.h"

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

long ck_l2_bytes(void) {
    static atomic_long cached = 0;
    long v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v > 0) return v;
#if defined(_SC_LEVEL2_CACHE_SIZE)
    v = sysconf(_SC_LEVEL2_CACHE_SIZE);
#elif defined(__APPLE__)
    int64_t l2 = 0;
    size_t len = sizeof(l2);
    if (sysctlbyname("hw.l2cachesize", &l2, &len, NULL, 0) == 0) v = (long)l2;
#endif
    if (v <= 0) v = 512L * 1024;
    atomic_store_explicit(&cached, v, memory_order_relaxed);
    return v;
}
