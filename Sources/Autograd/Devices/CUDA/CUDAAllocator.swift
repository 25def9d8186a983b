/// A caching allocator for device memory, in the manner of PyTorch's `CUDACachingAllocator`,
/// so training loops do not call `cudaMalloc` and `cudaFree` (which synchronises the device)
/// for every op.
///
/// Requests are rounded to a block size and freed blocks go back to per-device, per-size free
/// lists instead of to CUDA:
/// - **small** requests (≤ 1 MiB) round up to a multiple of 512 bytes (CUDA's own allocation
///   alignment) and reuse a cached block of exactly that size;
/// - **large** requests round up to a multiple of 2 MiB, the granularity at which the driver
///   maps device memory for large allocations, so the rounding costs no extra device memory;
///   they reuse the smallest cached block of at least that size and at most a quarter larger.
///
/// Unlike PyTorch, blocks are never split or merged: simpler, at the price of some
/// fragmentation under shape-varying workloads (`emptyCache()` returns everything).
///
/// A block is reused as soon as it is freed on the host. That is safe because the backend
/// queues all work for a device on one stream (the default stream), so the next user's kernels
/// run after the previous user's.
///
/// On `cudaErrorMemoryAllocation` the allocator releases the device's cache and retries once,
/// then throws `CUDAError.outOfMemory` with the bytes requested.
final class CUDAAllocator: @unchecked Sendable {
    // @unchecked Sendable: `pools` and everything in it is only read or written while holding
    // `lock`; `backend` is immutable and its closures are @Sendable.

    /// Where blocks come from and go back to: CUDA, or a fake in tests.
    struct Backend: Sendable {
        /// Allocates exactly `byteCount` bytes on `device`; throws `CUDAError.apiCall` with
        /// code 2 (`cudaErrorMemoryAllocation`) when the device is out of memory.
        var allocate: @Sendable (_ byteCount: Int, _ device: Int) throws -> UnsafeMutableRawPointer
        /// Returns a block to the device.
        var free: @Sendable (_ pointer: UnsafeMutableRawPointer, _ device: Int) -> Void

        /// `cudaMalloc` / `cudaFree` on the given device.
        static let cuda = Backend(
            allocate: { byteCount, device in
                try CUDA.withDevice(device) {
                    do {
                        return try CUDARuntime.malloc(byteCount)
                    } catch {
                        CUDARuntime.getLastError()  // clear it, so it is not reported again later
                        throw error
                    }
                }
            },
            free: { pointer, device in
                // cudaFree fails only after an earlier asynchronous error, which the next
                // synchronising call reports; there is nothing more to do with the block here.
                _ = try? CUDA.withDevice(device) { try CUDARuntime.free(pointer) }
            })
    }

    /// Requests up to this size are small.
    static let smallSizeLimit = 1 << 20
    /// Small requests round up to a multiple of this.
    static let smallGranularity = 512
    /// Large requests round up to a multiple of this.
    static let largeGranularity = 2 << 20

    /// The process-wide allocator for CUDA devices.
    static let shared = CUDAAllocator(backend: .cuda)

    /// One device's blocks.
    private struct Pool {
        /// Free blocks by size.
        var cached: [Int: [UnsafeMutableRawPointer]] = [:]
        /// Sizes of large blocks present in `cached`, ascending.
        var cachedLargeSizes: [Int] = []
        /// Blocks handed out, with their (rounded) sizes.
        var inUse: [UnsafeMutableRawPointer: Int] = [:]
        /// Bytes of blocks in use.
        var allocatedBytes = 0
        /// Bytes of blocks obtained from the backend (in use or cached).
        var reservedBytes = 0
        /// Calls to the backend's `allocate` that succeeded.
        var backendAllocations = 0
    }

    private let backend: Backend
    private let lock = CUDALock()
    private var pools: [Int: Pool] = [:]

    init(backend: Backend) {
        self.backend = backend
    }

    /// The block size a request of `byteCount` bytes gets.
    static func roundedSize(_ byteCount: Int) -> Int {
        if byteCount <= smallSizeLimit {
            return max(1, (byteCount + smallGranularity - 1) / smallGranularity) * smallGranularity
        }
        return (byteCount + largeGranularity - 1) / largeGranularity * largeGranularity
    }

    // MARK: - Allocation

    /// Returns a block of at least `byteCount` bytes on `device`, from the cache when possible.
    ///
    /// - Throws: `CUDAError.outOfMemory` when the device cannot provide the block even after
    ///   the cache was released; other `CUDAError`s from the backend unchanged.
    /// - Precondition: `byteCount >= 0`.
    func allocate(byteCount: Int, device: Int) throws -> UnsafeMutableRawPointer {
        precondition(byteCount >= 0, "CUDAAllocator.allocate: negative byte count \(byteCount)")
        let size = Self.roundedSize(byteCount)
        return try lock.withLock {
            var pool = pools[device] ?? Pool()
            defer { pools[device] = pool }
            if let (pointer, blockSize) = Self.takeCached(size, from: &pool) {
                pool.inUse[pointer] = blockSize
                pool.allocatedBytes += blockSize
                return pointer
            }
            let pointer: UnsafeMutableRawPointer
            do {
                pointer = try backend.allocate(size, device)
            } catch let error as CUDAError where error.isDeviceOutOfMemory {
                release(&pool, device: device)
                do {
                    pointer = try backend.allocate(size, device)
                } catch let error as CUDAError where error.isDeviceOutOfMemory {
                    throw CUDAError.outOfMemory(device: device, requestedBytes: byteCount,
                                                reservedBytes: pool.reservedBytes)
                }
            }
            pool.backendAllocations += 1
            pool.reservedBytes += size
            pool.inUse[pointer] = size
            pool.allocatedBytes += size
            return pointer
        }
    }

    /// Returns a block from `allocate(byteCount:device:)` to the cache.
    ///
    /// - Precondition: `pointer` is in use and came from this allocator for `device`.
    func free(_ pointer: UnsafeMutableRawPointer, device: Int) {
        lock.withLock {
            guard var pool = pools[device], let size = pool.inUse.removeValue(forKey: pointer) else {
                preconditionFailure(
                    "CUDAAllocator.free: \(pointer) is not a block in use on cuda:\(device)")
            }
            pool.allocatedBytes -= size
            if pool.cached[size, default: []].isEmpty && size > Self.smallSizeLimit {
                let index = pool.cachedLargeSizes.firstIndex { $0 > size } ?? pool.cachedLargeSizes.count
                pool.cachedLargeSizes.insert(size, at: index)
            }
            pool.cached[size, default: []].append(pointer)
            pools[device] = pool
        }
    }

    /// Gives every cached (free) block back to CUDA, on one device or all.
    func emptyCache(device: Int? = nil) {
        lock.withLock {
            for index in device.map({ [$0] }) ?? Array(pools.keys) {
                guard var pool = pools[index] else { continue }
                release(&pool, device: index)
                pools[index] = pool
            }
        }
    }

    // MARK: - Statistics

    /// Bytes in blocks handed out on `device` (rounded block sizes, as PyTorch reports).
    func allocatedBytes(device: Int) -> Int { lock.withLock { pools[device]?.allocatedBytes ?? 0 } }

    /// Bytes held from CUDA on `device`: blocks in use plus cached blocks.
    func reservedBytes(device: Int) -> Int { lock.withLock { pools[device]?.reservedBytes ?? 0 } }

    /// How many blocks were obtained from the backend on `device` (cache misses).
    func backendAllocationCount(device: Int) -> Int {
        lock.withLock { pools[device]?.backendAllocations ?? 0 }
    }

    // MARK: - Helpers (called holding `lock`)

    /// Removes and returns a cached block for a request rounded to `size`.
    private static func takeCached(_ size: Int, from pool: inout Pool) -> (UnsafeMutableRawPointer, Int)? {
        var blockSize = size
        if size > smallSizeLimit {
            // Best fit among large blocks no more than a quarter larger than the request.
            guard let found = pool.cachedLargeSizes.first(where: { $0 >= size }),
                  found <= size + size / 4 else { return nil }
            blockSize = found
        }
        guard var blocks = pool.cached[blockSize], let pointer = blocks.popLast() else { return nil }
        if blocks.isEmpty {
            pool.cached[blockSize] = nil
            pool.cachedLargeSizes.removeAll { $0 == blockSize }
        } else {
            pool.cached[blockSize] = blocks
        }
        return (pointer, blockSize)
    }

    /// Frees every cached block of `pool` through the backend.
    private func release(_ pool: inout Pool, device: Int) {
        for (size, blocks) in pool.cached {
            for pointer in blocks { backend.free(pointer, device) }
            pool.reservedBytes -= size * blocks.count
        }
        pool.cached = [:]
        pool.cachedLargeSizes = []
    }
}

extension CUDAError {
    /// Whether this is CUDA's `cudaErrorMemoryAllocation` (2).
    var isDeviceOutOfMemory: Bool {
        if case .apiCall(_, code: 2, _, _) = self { return true }
        return false
    }
}

// MARK: - Public statistics

extension CUDA {
    /// Bytes of device memory held by tensors on device `index`, through the caching allocator
    /// (PyTorch's `torch.cuda.memory_allocated`).
    ///
    /// Block sizes are counted after rounding (512 B for small, 2 MiB for large requests).
    /// 0 when CUDA is unavailable.
    ///
    /// - Parameter index: A device ordinal; the first device by default.
    public static func memoryAllocated(device index: Int = 0) -> Int {
        CUDAAllocator.shared.allocatedBytes(device: index)
    }

    /// Bytes of device memory the caching allocator holds from CUDA on device `index`: in use
    /// plus cached for reuse (PyTorch's `torch.cuda.memory_reserved`). 0 when CUDA is unavailable.
    ///
    /// - Parameter index: A device ordinal; the first device by default.
    public static func memoryReserved(device index: Int = 0) -> Int {
        CUDAAllocator.shared.reservedBytes(device: index)
    }

    /// Gives all cached, unused device memory back to CUDA, on every device, so other processes
    /// (or `nvidia-smi`) see it free (PyTorch's `torch.cuda.empty_cache`).
    ///
    /// Memory held by live tensors is not affected. Does nothing when CUDA is unavailable.
    ///
    /// - Complexity: One `cudaFree` per cached block; `cudaFree` waits for the device.
    public static func emptyCache() {
        CUDAAllocator.shared.emptyCache()
    }
}
