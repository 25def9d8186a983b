#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Host <-> device copies

extension CUDA {
    /// Transfers at least this large go through pinned staging buffers; smaller ones use a plain
    /// `cudaMemcpy` from pageable memory (whose fixed cost dominates anyway).
    static let stagingThreshold = 1 << 20

    /// Whether large transfers use pinned staging (`AUTOGRAD_CUDA_PINNED_STAGING=0` turns it off).
    static let pinnedStagingEnabled: Bool = {
        guard let value = getenv("AUTOGRAD_CUDA_PINNED_STAGING") else { return true }
        return String(cString: value) != "0"
    }()

    /// Copies `byteCount` bytes from host memory to device memory on device `index`.
    ///
    /// Returns once the data is on the device (the source may be reused at once). Large copies
    /// go through two pinned buffers, so copying into one overlaps the DMA out of the other.
    ///
    /// - Throws: `CUDAError.apiCall` naming the CUDA call that failed.
    static func copyHostToDevice(from source: UnsafeRawPointer, to destination: UnsafeMutableRawPointer,
                                 byteCount: Int, device index: Int) throws {
        guard byteCount > 0 else { return }
        try withDevice(index) {
            if byteCount >= stagingThreshold && pinnedStagingEnabled,
               let staging = CUDAPinnedStaging.forDevice(index),
               try staging.withBuffers({
                   try $0.copyHostToDevice(from: source, to: destination, byteCount: byteCount)
               }) != nil {
                return
            }
            try CUDARuntime.memcpy(destination, source, byteCount: byteCount, kind: .hostToDevice)
        }
    }

    /// Copies `byteCount` bytes from device memory on device `index` to host memory.
    ///
    /// Waits for work already queued on the device (the default stream) and returns once the
    /// bytes are in `destination`.
    ///
    /// - Throws: `CUDAError.apiCall` naming the CUDA call that failed (also an earlier
    ///   asynchronous kernel failure, which surfaces here).
    static func copyDeviceToHost(from source: UnsafeRawPointer, to destination: UnsafeMutableRawPointer,
                                 byteCount: Int, device index: Int) throws {
        guard byteCount > 0 else { return }
        try withDevice(index) {
            if byteCount >= stagingThreshold && pinnedStagingEnabled,
               let staging = CUDAPinnedStaging.forDevice(index),
               try staging.withBuffers({
                   try $0.copyDeviceToHost(from: source, to: destination, byteCount: byteCount)
               }) != nil {
                return
            }
            try CUDARuntime.memcpy(destination, source, byteCount: byteCount, kind: .deviceToHost)
        }
    }

    /// Queues a copy of `byteCount` bytes between device buffers (on one device, or between
    /// devices: CUDA's unified addressing finds both), in order with kernels on device `index`'s
    /// default stream. Does not wait for it.
    ///
    /// - Throws: `CUDAError.apiCall` naming `cudaMemcpyAsync`.
    static func copyDeviceToDevice(from source: UnsafeRawPointer, to destination: UnsafeMutableRawPointer,
                                   byteCount: Int, device index: Int) throws {
        guard byteCount > 0 else { return }
        try withDevice(index) {
            try CUDARuntime.memcpyAsync(destination, source, byteCount: byteCount, kind: .inferred)
        }
    }
}

// MARK: - Pinned staging

/// Two page-locked host buffers and two events for one device, used to pipeline large
/// host↔device transfers: while the GPU copies one chunk by DMA, the CPU fills or drains the
/// other buffer.
final class CUDAPinnedStaging: @unchecked Sendable {
    // @unchecked Sendable: `buffers` and `events` are created in `init` and used only inside
    // `withBuffers`, which holds `lock`.

    /// The size of each staging buffer (and of each chunk of a transfer).
    static let chunkBytes = 8 << 20

    /// The staging buffers of each device, created on first use.
    private final class Registry: @unchecked Sendable {
        // @unchecked Sendable: `staging` and `failed` are only touched while holding `lock`.
        let lock = CUDALock()
        var staging: [Int: CUDAPinnedStaging] = [:]
        var failed: Set<Int> = []
    }
    private static let registry = Registry()

    private let lock = CUDALock()
    private let buffers: [UnsafeMutableRawPointer]
    private let events: [OpaquePointer?]

    /// The staging buffers of device `index` (the current device), created on first use; nil
    /// if pinned memory could not be had (the caller then copies directly).
    static func forDevice(_ index: Int) -> CUDAPinnedStaging? {
        registry.lock.withLock {
            if let staging = registry.staging[index] { return staging }
            if registry.failed.contains(index) { return nil }
            guard let staging = try? CUDAPinnedStaging() else {
                registry.failed.insert(index)
                return nil
            }
            registry.staging[index] = staging
            return staging
        }
    }

    private init() throws {
        var buffers: [UnsafeMutableRawPointer] = []
        var events: [OpaquePointer?] = []
        do {
            for _ in 0..<2 {
                buffers.append(try CUDARuntime.mallocHost(Self.chunkBytes))
                events.append(try CUDARuntime.eventCreate())
            }
        } catch {
            for buffer in buffers { try? CUDARuntime.freeHost(buffer) }
            for event in events { try? CUDARuntime.eventDestroy(event) }
            throw error
        }
        self.buffers = buffers
        self.events = events
    }

    deinit {
        for buffer in buffers { try? CUDARuntime.freeHost(buffer) }
        for event in events { try? CUDARuntime.eventDestroy(event) }
    }

    /// Runs `body` with exclusive use of the buffers, or returns nil at once if another thread
    /// is using them (the caller then copies directly rather than wait).
    func withBuffers<Result>(_ body: (CUDAPinnedStaging) throws -> Result) rethrows -> Result? {
        try lock.withLockIfAvailable { try body(self) }
    }

    /// Host → pinned (CPU) then pinned → device (DMA), chunk by chunk, two buffers in flight.
    func copyHostToDevice(from source: UnsafeRawPointer, to destination: UnsafeMutableRawPointer,
                          byteCount: Int) throws {
        try Self.pipelineHostToDevice(
            chunks: Self.chunks(byteCount: byteCount, chunkBytes: Self.chunkBytes),
            wait: { buffer in try CUDARuntime.eventSynchronize(events[buffer]) },
            fill: { range, buffer in
                buffers[buffer].copyMemory(from: source + range.lowerBound, byteCount: range.count)
            },
            enqueue: { range, buffer in
                try CUDARuntime.memcpyAsync(destination + range.lowerBound, buffers[buffer],
                                            byteCount: range.count, kind: .hostToDevice)
                try CUDARuntime.eventRecord(events[buffer])
            })
        try CUDARuntime.streamSynchronize()
    }

    /// Device → pinned (DMA) then pinned → host (CPU), chunk by chunk, two buffers in flight.
    func copyDeviceToHost(from source: UnsafeRawPointer, to destination: UnsafeMutableRawPointer,
                          byteCount: Int) throws {
        try Self.pipelineDeviceToHost(
            chunks: Self.chunks(byteCount: byteCount, chunkBytes: Self.chunkBytes),
            enqueue: { range, buffer in
                try CUDARuntime.memcpyAsync(buffers[buffer], source + range.lowerBound,
                                            byteCount: range.count, kind: .deviceToHost)
                try CUDARuntime.eventRecord(events[buffer])
            },
            wait: { buffer in try CUDARuntime.eventSynchronize(events[buffer]) },
            drain: { range, buffer in
                (destination + range.lowerBound).copyMemory(from: buffers[buffer], byteCount: range.count)
            })
    }

    // MARK: Pipelines (separated from CUDA so tests can run them with fakes)

    /// `0..<byteCount` cut into consecutive ranges of at most `chunkBytes`.
    static func chunks(byteCount: Int, chunkBytes: Int) -> [Range<Int>] {
        stride(from: 0, to: byteCount, by: chunkBytes).map { $0..<min($0 + chunkBytes, byteCount) }
    }

    /// Chunk `i` uses buffer `i % 2`: wait until the buffer's previous DMA has finished, fill it
    /// from the host, queue its DMA (which records the buffer's event).
    static func pipelineHostToDevice(chunks: [Range<Int>], wait: (Int) throws -> Void,
                                     fill: (Range<Int>, Int) throws -> Void,
                                     enqueue: (Range<Int>, Int) throws -> Void) throws {
        for (i, range) in chunks.enumerated() {
            let buffer = i % 2
            if i >= 2 { try wait(buffer) }
            try fill(range, buffer)
            try enqueue(range, buffer)
        }
    }

    /// Chunk `i` uses buffer `i % 2`: queue its DMA into the buffer, then wait for and drain
    /// chunk `i - 1`'s buffer while it runs; finally wait for and drain the last chunk.
    static func pipelineDeviceToHost(chunks: [Range<Int>], enqueue: (Range<Int>, Int) throws -> Void,
                                     wait: (Int) throws -> Void,
                                     drain: (Range<Int>, Int) throws -> Void) throws {
        for (i, range) in chunks.enumerated() {
            try enqueue(range, i % 2)
            if i >= 1 {
                try wait((i - 1) % 2)
                try drain(chunks[i - 1], (i - 1) % 2)
            }
        }
        if let last = chunks.indices.last {
            try wait(last % 2)
            try drain(chunks[last], last % 2)
        }
    }
}
