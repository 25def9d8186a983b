#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif
import CKernels
import Synchronization

/// Host memory for CPU tensors: a caching allocator for buffers of 4 KiB and more, the system
/// allocator below that.
///
/// Large buffers are what a training loop allocates and frees every step (activations,
/// gradients), and each fresh one costs the system allocator a `mmap`/`munmap` pair and a page
/// fault per 4 KiB on first touch (a fresh 64 MB output costs tens of milliseconds). Freed
/// large buffers are therefore kept in size-bucketed free lists (4 classes per power of two, so
/// a block is at most 25% larger than asked) and handed out again for a request of the same
/// class. Small buffers go to `malloc`, whose per-thread caches are cheaper than a lock.
///
/// The cache is bounded: at most `limit` bytes are kept (`AUTOGRAD_CPU_CACHE_MB`, default
/// 1024 MiB; `0` disables caching); a block that would exceed it goes back to the system.
/// `emptyCache()` returns everything.
///
/// Cached blocks are 64-byte aligned (whole cache lines, aligned AVX-512 vectors). From 4 MiB
/// on they are aligned to 2 MiB and, on Linux, advised for transparent huge pages
/// (`madvise(MADV_HUGEPAGE)`, as NumPy does for arrays of 4 MiB and more): one page fault per
/// 2 MiB instead of per 4 KiB on first touch, and far fewer TLB misses when streaming.
final class CPUAllocator: @unchecked Sendable {
    // @unchecked Sendable: the free lists live in `state`, a Mutex; `limit` is immutable.
    static let shared = CPUAllocator()

    /// Requests of this many bytes and more use the cache (and are 64-byte aligned).
    static let cachedThreshold = 4096

    /// Blocks of this many bytes and more are aligned to `hugePageSize` and advised for
    /// transparent huge pages.
    static let hugePageThreshold = 4 << 20
    static let hugePageSize = 2 << 20

    struct State {
        /// Free blocks by size class, as addresses (plain integers cross the lock's isolation
        /// boundary; pointers are not `Sendable`).
        var free: [Int: [UInt]] = [:]
        var cachedBytes = 0
    }

    private let state = Mutex(State())
    let limit: Int

    init(limit: Int? = nil) {
        if let limit {
            self.limit = limit
        } else if let raw = getenv("AUTOGRAD_CPU_CACHE_MB"), let mb = Int(String(cString: raw)), mb >= 0 {
            self.limit = mb << 20
        } else {
            self.limit = 1 << 30
        }
    }

    /// The block size a request of `byteCount` bytes (>= `cachedThreshold`) gets: rounded up to
    /// a multiple of a quarter of its power of two.
    static func sizeClass(_ byteCount: Int) -> Int {
        let top = Int.bitWidth - 1 - byteCount.leadingZeroBitCount   // 2^top <= byteCount
        let step = 1 << (top - 2)
        return (byteCount + step - 1) & ~(step - 1)
    }

    func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        if byteCount <= TinyBlockCache.blockSize { return TinyBlockCache.allocate() }
        if byteCount < CPUAllocator.cachedThreshold {
            // Small buffers (scalars, tiny tensors) take malloc's natural alignment (16 bytes
            // on the 64-bit platforms Swift supports), straight from `malloc`:
            // `UnsafeMutableRawPointer.allocate(alignment: 16)` went through `posix_memalign`.
            guard let p = malloc(Swift.max(byteCount, 1)) else {
                preconditionFailure("CPUAllocator: malloc of \(byteCount) bytes failed")
            }
            return p
        }
        let size = CPUAllocator.sizeClass(byteCount)
        let reused = state.withLock { s -> UInt? in
            guard let p = s.free[size]?.popLast() else { return nil }
            s.cachedBytes -= size
            return p
        }
        if let reused, let p = UnsafeMutableRawPointer(bitPattern: reused) { return p }
        return CPUAllocator.freshBlock(size)
    }

    /// A new block of `size` bytes (a size class) from the system allocator.
    static func freshBlock(_ size: Int) -> UnsafeMutableRawPointer {
        guard size >= hugePageThreshold else { return UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64) }
        let p = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: hugePageSize)
        #if canImport(Glibc) || canImport(Musl)
        // Advice only: where transparent huge pages are off or unsupported the call fails and
        // the block simply keeps 4 KiB pages. `size` is a multiple of 1 MiB here.
        _ = madvise(p, size, MADV_HUGEPAGE)
        #endif
        return p
    }

    /// Returns memory from `allocate(byteCount:)`; `byteCount` must be the same value.
    func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        if byteCount <= TinyBlockCache.blockSize {
            TinyBlockCache.deallocate(pointer)
            return
        }
        if byteCount < CPUAllocator.cachedThreshold {
            free(pointer)
            return
        }
        let size = CPUAllocator.sizeClass(byteCount)
        let address = UInt(bitPattern: pointer)
        let limit = self.limit
        let kept = state.withLock { s -> Bool in
            guard s.cachedBytes + size <= limit else { return false }
            s.free[size, default: []].append(address)
            s.cachedBytes += size
            return true
        }
        if !kept { pointer.deallocate() }
    }

    /// Bytes held in the free lists now.
    var cachedBytes: Int { state.withLock { $0.cachedBytes } }

    /// Returns every cached block to the system.
    func emptyCache() {
        let blocks = state.withLock { s -> [UInt] in
            let all = s.free.values.flatMap { $0 }
            s.free = [:]
            s.cachedBytes = 0
            return all
        }
        for address in blocks { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() }
    }
}

/// Tiny host blocks (the elements of 0-d and few-element tensors) from per-thread free lists
/// kept in C thread-local storage (`ckernels_tiny_alloc`, see CKernels.h).
///
/// A scalar op allocates and frees one such buffer; long scalar graphs free thousands at
/// once, which overflows `malloc`'s small per-thread cache, and each `free` then took the
/// slow path (~70 instructions in `_int_free`, measured with callgrind). A Swift version of
/// this list (reached through `pthread_getspecific`) cost as much as it saved.
enum TinyBlockCache {
    /// Requests of up to this many bytes use the cache (16-byte aligned, as malloc's blocks).
    static let blockSize = Int(CKERNELS_TINY_BYTES)

    static func allocate() -> UnsafeMutableRawPointer {
        var block: UnsafeMutableRawPointer? = nil
        let status = ckernels_tiny_alloc(&block)
        guard status == CKERNELS_OK, let block else {
            preconditionFailure("CPUAllocator: a \(blockSize)-byte block could not be allocated (status \(status))")
        }
        return block
    }

    static func deallocate(_ pointer: UnsafeMutableRawPointer) {
        _ = ckernels_tiny_free(pointer)  // always CKERNELS_OK
    }

    /// Blocks held by the current thread's list.
    static var cachedOnThisThread: Int { ckernels_tiny_cached() }
}
