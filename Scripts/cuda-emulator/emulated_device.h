// Included (with -include) before a kernel module's CUDA C source when the emulated NVRTC
// compiles it for the host: CUDA's keywords, built-in variables and intrinsics, and a block
// scheduler that runs every thread of a block as a fiber (ucontext) on one OS thread, so
// __syncthreads and warp shuffles behave as on a GPU. Blocks run one after another, so
// `__shared__` variables can be plain statics.
//
// Part of the CUDA emulator for tests without a GPU (Scripts/cuda-emulator/README.md); not
// used by the library.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>
#include <ucontext.h>

#define __device__
#define __global__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

struct ag_emu_dim3 { unsigned int x, y, z; };

// The running fiber's coordinates (set by the scheduler before each switch into a fiber).
static ag_emu_dim3 threadIdx, blockIdx, blockDim, gridDim;

static inline float __int_as_float(int v) { float f; memcpy(&f, &v, 4); return f; }
static inline float __uint_as_float(unsigned int v) { float f; memcpy(&f, &v, 4); return f; }
static inline unsigned int __float_as_uint(float f) { unsigned int v; memcpy(&v, &f, 4); return v; }
static inline double __longlong_as_double(long long v) { double d; memcpy(&d, &v, 8); return d; }
static inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
    return (unsigned long long)(((unsigned __int128)a * b) >> 64);
}

namespace ag_emu {

enum State { runnable, waiting, finished };
static const size_t stackBytes = 128 * 1024;

struct Fiber {
    ucontext_t context;
    State state = runnable;
    ag_emu_dim3 index{0, 0, 0};
    unsigned linear = 0;
};

struct Barrier {
    unsigned expected = 0, arrived = 0;
    std::vector<Fiber*> waiters;
};

struct Block {
    std::vector<Fiber> fibers;
    ucontext_t scheduler;
    Fiber* current = nullptr;
    Barrier block;
    std::vector<Barrier> warps;
    std::vector<unsigned long long> slots;  // 32 per warp, for shuffles
    const std::function<void()>* body = nullptr;
};

static Block* active = nullptr;

// Fiber stacks, kept for the process (malloc'd, so untouched pages cost nothing).
static char* stack(unsigned index) {
    static std::vector<char*> pool;
    while (pool.size() <= index) pool.push_back(static_cast<char*>(malloc(stackBytes)));
    return pool[index];
}

static void fiber_main() {
    (*active->body)();
    active->current->state = finished;
    swapcontext(&active->current->context, &active->scheduler);
}

// Arrives at `b`: the last arrival releases everyone, the others wait for it.
static void arrive(Barrier& b) {
    Fiber* self = active->current;
    if (++b.arrived == b.expected) {
        for (Fiber* f : b.waiters) f->state = runnable;
        b.waiters.clear();
        b.arrived = 0;
        return;
    }
    self->state = waiting;
    b.waiters.push_back(self);
    swapcontext(&self->context, &active->scheduler);
}

// Runs `body` once per thread of every block of the grid.
static void run(ag_emu_dim3 grid, ag_emu_dim3 block, const std::function<void()>& body) {
    const unsigned threads = block.x * block.y * block.z;
    const unsigned warpCount = (threads + 31) / 32;
    Block b;
    b.fibers.resize(threads);
    b.warps.resize(warpCount);
    for (unsigned w = 0; w < warpCount; ++w) b.warps[w].expected = (w + 1) * 32 <= threads ? 32 : threads - w * 32;
    b.block.expected = threads;
    b.slots.assign(warpCount * 32, 0);
    b.body = &body;
    Block* previous = active;
    active = &b;
    gridDim = grid;
    blockDim = block;
    for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
    for (unsigned bx = 0; bx < grid.x; ++bx) {
        blockIdx = {bx, by, bz};
        for (unsigned t = 0; t < threads; ++t) {
            Fiber& f = b.fibers[t];
            f.state = runnable;
            f.linear = t;
            f.index = {t % block.x, (t / block.x) % block.y, t / (block.x * block.y)};
            getcontext(&f.context);
            f.context.uc_stack.ss_sp = stack(t);
            f.context.uc_stack.ss_size = stackBytes;
            f.context.uc_link = nullptr;
            makecontext(&f.context, fiber_main, 0);
        }
        unsigned done = 0;
        while (done < threads) {
            bool progressed = false;
            done = 0;
            for (unsigned t = 0; t < threads; ++t) {
                Fiber& f = b.fibers[t];
                if (f.state == finished) { ++done; continue; }
                if (f.state != runnable) continue;
                b.current = &f;
                threadIdx = f.index;
                swapcontext(&b.scheduler, &f.context);
                progressed = true;
                if (f.state == finished) ++done;
            }
            if (!progressed && done < threads) {
                fprintf(stderr, "cuda-emulator: deadlock in block (%u, %u, %u): threads wait at a barrier others never reach\n",
                        bx, by, bz);
                abort();
            }
        }
    }
    active = previous;
}

}  // namespace ag_emu

static inline void __syncthreads() { ag_emu::arrive(ag_emu::active->block); }

// Blocks run one at a time on one OS thread, so plain read-modify-write is atomic here.
template <typename T> static inline T atomicAdd(T* address, T value) {
    T old = *address;
    *address = old + value;
    return old;
}

template <typename T> static inline T atomicCAS(T* address, T compare, T value) {
    T old = *address;
    if (old == compare) *address = value;
    return old;
}

template <typename T>
static inline T __shfl_down_sync(unsigned int, T value, unsigned int delta, int width = 32) {
    static_assert(sizeof(T) <= 8, "shuffle of more than 8 bytes");
    ag_emu::Block& b = *ag_emu::active;
    const unsigned lane = b.current->linear % 32, warp = b.current->linear / 32;
    unsigned long long slot = 0;
    memcpy(&slot, &value, sizeof(T));
    b.slots[warp * 32 + lane] = slot;
    ag_emu::arrive(b.warps[warp]);
    T result = value;
    const unsigned source = lane + delta;
    if (source < (lane / width) * width + width && source < b.warps[warp].expected) {
        memcpy(&result, &b.slots[warp * 32 + source], sizeof(T));
    }
    ag_emu::arrive(b.warps[warp]);
    return result;
}
