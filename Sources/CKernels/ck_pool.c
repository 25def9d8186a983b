/* The process-wide thread pool: persistent workers that spin briefly, then sleep. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#endif
#include "ck_internal.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#if CK_X86
#include <immintrin.h>
#endif

#define CK_MAX_THREADS 256
#define CK_LOCKED 0xFFFFFFFFu /* low half of the ticket while a job is being written */

/*
 * Protocol. One thread at a time owns the pool (g_busy). The owner publishes a job by
 *   1. ticket = (gen+1, LOCKED)      -- invalidates claims on the previous job;
 *   2. writes the job fields (release);
 *   3. ticket = (gen+1, 0)           -- opens the job;
 * then claims chunks like any worker and waits until `done` reaches the chunk count.
 * A thread claims chunk c by a compare-and-swap of the ticket from (gen, c) to (gen, c+1),
 * after reading the fields with acquire loads. If it read any field of a newer job, it
 * synchronized with a write made after step 1, so its compare-and-swap fails: a late worker
 * can never run a chunk of a job with another job's function. `done` only counts chunks that
 * were claimed from the current generation, and the owner returns only when all of them ran.
 */
static atomic_uint_fast64_t g_ticket;
static _Atomic(ckernels_range_fn) g_fn;
static _Atomic(void *) g_ctx;
static atomic_long g_n, g_chunk, g_nchunks;
static atomic_int g_active;       /* workers (ids 0..active-1) that may take part */
static atomic_long g_done;        /* chunks finished in the current job */
static atomic_int g_busy;         /* 1 while a thread owns the pool */
static atomic_int g_nthreads;     /* configured total, caller included; 0 = not yet read */
static atomic_int g_sleepers;     /* workers blocked on g_cv */
static atomic_int g_owner_asleep; /* owner blocked on g_done_cv */
static long g_spin_ns = 50000;
/* When a user thread last found the pool busy: the process's own threads are competing for
 * the cores, so idle workers sleep at once instead of spinning for the next CK_QUIET_NS. */
static atomic_long g_contended_ns;
#define CK_QUIET_NS 20000000L

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t g_done_cv = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t g_cfg_mu = PTHREAD_MUTEX_INITIALIZER; /* guards g_started */
static int g_started;                                          /* workers created */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static __thread int tl_in_region; /* this thread is a worker or owns a region */

static inline void ck_pause(void) {
#if CK_X86
    _mm_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static long ck_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static int ck_default_threads(void) {
    const char *env = getenv("AUTOGRAD_NUM_THREADS");
    if (env != NULL && *env != '\0') {
        char *end = NULL;
        long v = strtol(env, &end, 10);
        if (end != NULL && *end == '\0' && v > 0) return v > CK_MAX_THREADS ? CK_MAX_THREADS : (int)v;
    }
    long n = -1;
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) n = CPU_COUNT(&set);
#endif
    if (n <= 0) n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 0) n = 1;
    return n > CK_MAX_THREADS ? CK_MAX_THREADS : (int)n;
}

static void ck_atfork_child(void) {
    /* Workers do not survive fork(): start over with none. */
    g_started = 0;
    atomic_store(&g_busy, 0);
    atomic_store(&g_sleepers, 0);
    atomic_store(&g_owner_asleep, 0);
    pthread_mutex_init(&g_mu, NULL);
    pthread_mutex_init(&g_cfg_mu, NULL);
    pthread_cond_init(&g_cv, NULL);
    pthread_cond_init(&g_done_cv, NULL);
    tl_in_region = 0;
}

static void ck_pool_init(void) {
    atomic_store(&g_nthreads, ck_default_threads());
    const char *spin = getenv("AUTOGRAD_SPIN_US");
    if (spin != NULL && *spin != '\0') {
        long v = strtol(spin, NULL, 10);
        if (v >= 0 && v < 10000000) g_spin_ns = v * 1000;
    }
    pthread_atfork(NULL, NULL, ck_atfork_child);
}

/* Claims and runs chunks of job `gen` until none are left. */
static void ck_run_chunks(uint32_t gen) {
    for (;;) {
        uint_fast64_t t = atomic_load_explicit(&g_ticket, memory_order_acquire);
        uint32_t c = (uint32_t)t;
        if ((uint32_t)(t >> 32) != gen) return;
        if (c == CK_LOCKED) {
            /* The owner is still writing this job's fields (a few stores): wait for it to open
             * the job. Returning here made a worker that saw the new generation early skip the
             * whole job -- about a third of the jobs at sgemm 256 on 2 threads, each of them
             * then run by the owner alone. */
            ck_pause();
            continue;
        }
        ckernels_range_fn fn = atomic_load_explicit(&g_fn, memory_order_acquire);
        void *ctx = atomic_load_explicit(&g_ctx, memory_order_acquire);
        long n = atomic_load_explicit(&g_n, memory_order_acquire);
        long chunk = atomic_load_explicit(&g_chunk, memory_order_acquire);
        long nchunks = atomic_load_explicit(&g_nchunks, memory_order_acquire);
        if ((long)c >= nchunks) return;
        if (!atomic_compare_exchange_weak_explicit(&g_ticket, &t, t + 1, memory_order_acq_rel,
                                                   memory_order_acquire))
            continue;
        long begin = (long)c * chunk;
        long end = begin + chunk < n ? begin + chunk : n;
        fn(ctx, begin, end);
        if (atomic_fetch_add(&g_done, 1) + 1 == nchunks && atomic_load(&g_owner_asleep)) {
            pthread_mutex_lock(&g_mu);
            pthread_cond_signal(&g_done_cv);
            pthread_mutex_unlock(&g_mu);
        }
    }
}

static void *ck_worker_main(void *arg) {
    int id = (int)(intptr_t)arg;
    tl_in_region = 1;
    uint32_t seen = (uint32_t)(atomic_load(&g_ticket) >> 32);
    for (;;) {
        /* Wait for a new generation: spin for g_spin_ns, then sleep. */
        long t0 = ck_now_ns();
        unsigned spins = 0;
        int spinning = g_spin_ns > 0 && t0 - atomic_load_explicit(&g_contended_ns, memory_order_relaxed) > CK_QUIET_NS;
        uint32_t gen;
        for (;;) {
            gen = (uint32_t)(atomic_load_explicit(&g_ticket, memory_order_acquire) >> 32);
            if (gen != seen) break;
            if (spinning) {
                ck_pause();
                if ((++spins & 63u) == 0 && ck_now_ns() - t0 > g_spin_ns) spinning = 0;
                continue;
            }
            pthread_mutex_lock(&g_mu);
            atomic_fetch_add(&g_sleepers, 1);
            while ((uint32_t)(atomic_load(&g_ticket) >> 32) == seen) pthread_cond_wait(&g_cv, &g_mu);
            atomic_fetch_sub(&g_sleepers, 1);
            pthread_mutex_unlock(&g_mu);
        }
        seen = gen;
        if (id < atomic_load_explicit(&g_active, memory_order_acquire)) ck_run_chunks(gen);
    }
    return NULL;
}

/* Creates workers up to `want` (caller holds g_busy). Returns how many exist. */
static int ck_ensure_workers(int want) {
    if (want > CK_MAX_THREADS - 1) want = CK_MAX_THREADS - 1;
    pthread_mutex_lock(&g_cfg_mu);
    if (g_started < want) {
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old); /* signals go to the user's threads */
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        while (g_started < want) {
            pthread_t th;
            if (pthread_create(&th, &attr, ck_worker_main, (void *)(intptr_t)g_started) != 0) break;
            g_started++;
        }
        pthread_attr_destroy(&attr);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    int have = g_started;
    pthread_mutex_unlock(&g_cfg_mu);
    return have;
}

int ckernels_num_threads(void) {
    pthread_once(&g_once, ck_pool_init);
    return atomic_load(&g_nthreads);
}

int ckernels_set_num_threads(int n) {
    pthread_once(&g_once, ck_pool_init);
    if (n <= 0) n = ck_default_threads();
    if (n > CK_MAX_THREADS) n = CK_MAX_THREADS;
    /* Wait for a region running on another thread; from inside one, just set the value. */
    int owned = 0;
    if (!tl_in_region) {
        int expected = 0;
        while (!atomic_compare_exchange_weak(&g_busy, &expected, 1)) {
            expected = 0;
            sched_yield();
        }
        owned = 1;
    }
    atomic_store(&g_nthreads, n);
    if (owned) atomic_store_explicit(&g_busy, 0, memory_order_release);
    return CKERNELS_OK;
}

int ckernels_in_parallel_region(void) { return tl_in_region; }

int ck_threads_available(void) {
    if (tl_in_region) return 1;
    return ckernels_num_threads();
}

void ck_parallel_chunks(long n, long chunk, ckernels_range_fn fn, void *ctx) {
    if (n <= 0) return;
    if (chunk < 1) chunk = 1;
    long nchunks = (n - 1) / chunk + 1;
    if (nchunks > 0x3FFFFFFFL) { /* keep the chunk index well inside 32 bits */
        nchunks = 0x3FFFFFFFL;
        chunk = (n - 1) / nchunks + 1;
        nchunks = (n - 1) / chunk + 1;
    }
    int nthreads = ckernels_num_threads();
    if (nchunks <= 1 || nthreads <= 1 || tl_in_region) {
        fn(ctx, 0, n);
        return;
    }
    int expected = 0;
    if (!atomic_compare_exchange_strong(&g_busy, &expected, 1)) {
        atomic_store_explicit(&g_contended_ns, ck_now_ns(), memory_order_relaxed);
        fn(ctx, 0, n); /* another user thread owns the pool */
        return;
    }
    int workers = ck_ensure_workers(nthreads - 1);
    if (workers == 0) {
        atomic_store_explicit(&g_busy, 0, memory_order_release);
        fn(ctx, 0, n);
        return;
    }
    if (workers > nthreads - 1) workers = nthreads - 1;
    tl_in_region = 1;

    uint_fast64_t gen = (atomic_load(&g_ticket) >> 32) + 1;
    gen &= 0xFFFFFFFFu;
    atomic_store(&g_ticket, (gen << 32) | CK_LOCKED);
    atomic_store_explicit(&g_fn, fn, memory_order_release);
    atomic_store_explicit(&g_ctx, ctx, memory_order_release);
    atomic_store_explicit(&g_n, n, memory_order_release);
    atomic_store_explicit(&g_chunk, chunk, memory_order_release);
    atomic_store_explicit(&g_nchunks, nchunks, memory_order_release);
    atomic_store_explicit(&g_active, workers, memory_order_release);
    atomic_store(&g_done, 0);
    atomic_store(&g_ticket, gen << 32);
    if (atomic_load(&g_sleepers) > 0) {
        pthread_mutex_lock(&g_mu);
        pthread_cond_broadcast(&g_cv);
        pthread_mutex_unlock(&g_mu);
    }

    ck_run_chunks((uint32_t)gen);

    /* Wait for the chunks other threads are still running. */
    if (atomic_load_explicit(&g_done, memory_order_acquire) != nchunks) {
        long t0 = ck_now_ns();
        unsigned spins = 0;
        while (atomic_load_explicit(&g_done, memory_order_acquire) != nchunks) {
            ck_pause();
            if ((++spins & 63u) == 0 && ck_now_ns() - t0 > g_spin_ns) {
                pthread_mutex_lock(&g_mu);
                atomic_store(&g_owner_asleep, 1);
                while (atomic_load(&g_done) != nchunks) pthread_cond_wait(&g_done_cv, &g_mu);
                atomic_store(&g_owner_asleep, 0);
                pthread_mutex_unlock(&g_mu);
                break;
            }
        }
    }
    tl_in_region = 0;
    atomic_store_explicit(&g_busy, 0, memory_order_release);
}

int ckernels_parallel_for(long n, long grain, ckernels_range_fn fn, void *ctx) {
    if (fn == NULL) return CKERNELS_EINVAL;
    if (n <= 0) return CKERNELS_OK;
    if (grain < 1) grain = 1;
    int nthreads = ck_threads_available();
    if (n < 2 * grain || nthreads <= 1) {
        fn(ctx, 0, n);
        return CKERNELS_OK;
    }
    /* About four chunks per thread, so a thread slowed by other load takes fewer. */
    long chunk = (n - 1) / ((long)nthreads * 4) + 1;
    if (chunk < grain) chunk = grain;
    ck_parallel_chunks(n, chunk, fn, ctx);
    return CKERNELS_OK;
}
