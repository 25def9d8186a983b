import Dispatch
import XCTest
@testable import Autograd

/// A pretend device with a fixed capacity, standing in for cudaMalloc/cudaFree so the caching
/// allocator's logic is tested on every machine.
private final class FakeDevice: @unchecked Sendable {
    // @unchecked Sendable: every stored property is only touched while holding `lock`.
    private let lock = CUDALock()
    private let capacity: Int
    private var live: [UnsafeMutableRawPointer: Int] = [:]
    private(set) var mallocCalls = 0
    private(set) var freeCalls = 0
    var failure: CUDAError?

    init(capacity: Int) { self.capacity = capacity }

    var usedBytes: Int { lock.withLock { live.values.reduce(0, +) } }

    func allocate(_ byteCount: Int) throws -> UnsafeMutableRawPointer {
        try lock.withLock {
            mallocCalls += 1
            if let failure { throw failure }
            if live.values.reduce(0, +) + byteCount > capacity {
                throw CUDAError.apiCall(function: "cudaMalloc", code: 2,
                                        name: "cudaErrorMemoryAllocation", message: "out of memory")
            }
            let pointer = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 256)
            live[pointer] = byteCount
            return pointer
        }
    }

    func free(_ pointer: UnsafeMutableRawPointer) {
        lock.withLock {
            freeCalls += 1
            precondition(live.removeValue(forKey: pointer) != nil, "double free")
            pointer.deallocate()
        }
    }

    var backend: CUDAAllocator.Backend {
        CUDAAllocator.Backend(allocate: { bytes, _ in try self.allocate(bytes) },
                              free: { pointer, _ in self.free(pointer) })
    }
}

private let mib = 1 << 20

final class CUDAAllocatorTests: XCTestCase {
    func testRoundingUses512ByteAnd2MiBBuckets() {
        XCTAssertEqual(CUDAAllocator.roundedSize(0), 512)
        XCTAssertEqual(CUDAAllocator.roundedSize(1), 512)
        XCTAssertEqual(CUDAAllocator.roundedSize(512), 512)
        XCTAssertEqual(CUDAAllocator.roundedSize(513), 1024)
        XCTAssertEqual(CUDAAllocator.roundedSize(mib), mib)
        XCTAssertEqual(CUDAAllocator.roundedSize(mib + 1), 2 * mib)
        XCTAssertEqual(CUDAAllocator.roundedSize(3 * mib), 4 * mib)
        XCTAssertEqual(CUDAAllocator.roundedSize(4 * mib), 4 * mib)
    }

    func testFreedSmallBlocksAreReusedFromTheirBucket() throws {
        let device = FakeDevice(capacity: 64 * mib)
        let allocator = CUDAAllocator(backend: device.backend)
        let a = try allocator.allocate(byteCount: 1000, device: 0)
        allocator.free(a, device: 0)
        let b = try allocator.allocate(byteCount: 700, device: 0)   // same 1024-byte bucket
        XCTAssertEqual(a, b)
        XCTAssertEqual(device.mallocCalls, 1)
        let c = try allocator.allocate(byteCount: 1500, device: 0)  // 1536: another bucket
        XCTAssertNotEqual(b, c)
        XCTAssertEqual(device.mallocCalls, 2)
        XCTAssertEqual(allocator.backendAllocationCount(device: 0), 2)
    }

    func testLargeBlocksAreReusedOnlyWithinAQuarter() throws {
        let device = FakeDevice(capacity: 64 * mib)
        let allocator = CUDAAllocator(backend: device.backend)
        let a = try allocator.allocate(byteCount: 8 * mib, device: 0)
        allocator.free(a, device: 0)
        let b = try allocator.allocate(byteCount: 7 * mib, device: 0)    // rounds to 8 MiB
        XCTAssertEqual(a, b)
        allocator.free(b, device: 0)
        let c = try allocator.allocate(byteCount: 5 * mib, device: 0)    // 6 MiB: 8 is too big
        XCTAssertNotEqual(c, a)
        XCTAssertEqual(device.mallocCalls, 2)
        XCTAssertEqual(allocator.allocatedBytes(device: 0), 6 * mib)
        XCTAssertEqual(allocator.reservedBytes(device: 0), 14 * mib)
    }

    func testStatisticsTrackAllocatedAndReservedBytes() throws {
        let device = FakeDevice(capacity: 64 * mib)
        let allocator = CUDAAllocator(backend: device.backend)
        let a = try allocator.allocate(byteCount: 100, device: 0)
        let b = try allocator.allocate(byteCount: 3 * mib, device: 0)
        XCTAssertEqual(allocator.allocatedBytes(device: 0), 512 + 4 * mib)
        XCTAssertEqual(allocator.reservedBytes(device: 0), 512 + 4 * mib)
        allocator.free(b, device: 0)
        XCTAssertEqual(allocator.allocatedBytes(device: 0), 512)
        XCTAssertEqual(allocator.reservedBytes(device: 0), 512 + 4 * mib)
        allocator.emptyCache()
        XCTAssertEqual(allocator.reservedBytes(device: 0), 512)
        XCTAssertEqual(device.usedBytes, 512)
        allocator.free(a, device: 0)
        allocator.emptyCache(device: 0)
        XCTAssertEqual(allocator.reservedBytes(device: 0), 0)
        XCTAssertEqual(device.usedBytes, 0)
        XCTAssertEqual(device.freeCalls, 2)
    }

    func testOutOfMemoryReleasesTheCacheAndRetriesOnce() throws {
        let device = FakeDevice(capacity: 4 * mib)
        let allocator = CUDAAllocator(backend: device.backend)
        let a = try allocator.allocate(byteCount: 2 * mib, device: 0)
        allocator.free(a, device: 0)                                  // 2 MiB cached
        let b = try allocator.allocate(byteCount: 4 * mib, device: 0) // fails, releases, retries
        XCTAssertEqual(device.mallocCalls, 3)
        XCTAssertEqual(device.freeCalls, 1)
        XCTAssertEqual(allocator.reservedBytes(device: 0), 4 * mib)
        allocator.free(b, device: 0)
    }

    func testOutOfMemoryThrowsTheRequestedBytes() throws {
        let device = FakeDevice(capacity: 4 * mib)
        let allocator = CUDAAllocator(backend: device.backend)
        let held = try allocator.allocate(byteCount: 2 * mib, device: 0)
        XCTAssertThrowsError(try allocator.allocate(byteCount: 3 * mib - 5, device: 0)) { error in
            XCTAssertEqual(error as? CUDAError,
                           .outOfMemory(device: 0, requestedBytes: 3 * mib - 5, reservedBytes: 2 * mib))
            XCTAssertTrue("\(error)".contains("tried to allocate 3.00 MiB"), "\(error)")
        }
        XCTAssertEqual(device.mallocCalls, 3)   // the block, then one try and one retry
        XCTAssertEqual(allocator.allocatedBytes(device: 0), 2 * mib)
        allocator.free(held, device: 0)
    }

    func testOtherBackendErrorsPassThroughUnchanged() {
        let device = FakeDevice(capacity: 4 * mib)
        let failure = CUDAError.apiCall(function: "cudaMalloc", code: 700,
                                        name: "cudaErrorIllegalAddress", message: "illegal address")
        device.failure = failure
        let allocator = CUDAAllocator(backend: device.backend)
        XCTAssertThrowsError(try allocator.allocate(byteCount: 10, device: 0)) { error in
            XCTAssertEqual(error as? CUDAError, failure)
        }
        XCTAssertEqual(device.mallocCalls, 1)
        XCTAssertEqual(allocator.reservedBytes(device: 0), 0)
    }

    func testEachDeviceHasItsOwnPool() throws {
        let device = FakeDevice(capacity: 64 * mib)
        let allocator = CUDAAllocator(backend: device.backend)
        let a = try allocator.allocate(byteCount: 4096, device: 0)
        allocator.free(a, device: 0)
        let b = try allocator.allocate(byteCount: 4096, device: 1)
        XCTAssertNotEqual(a, b)
        XCTAssertEqual(allocator.allocatedBytes(device: 0), 0)
        XCTAssertEqual(allocator.allocatedBytes(device: 1), 4096)
        allocator.free(b, device: 1)
    }

    func testConcurrentAllocationsBalance() throws {
        let device = FakeDevice(capacity: 1 << 30)
        let allocator = CUDAAllocator(backend: device.backend)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for i in 0..<500 {
                let bytes = (i % 7 + 1) * 1000 + worker
                if let pointer = try? allocator.allocate(byteCount: bytes, device: 0) {
                    allocator.free(pointer, device: 0)
                }
            }
        }
        XCTAssertEqual(allocator.allocatedBytes(device: 0), 0)
        XCTAssertLessThanOrEqual(device.mallocCalls, 8 * 7 * 2)
        allocator.emptyCache()
        XCTAssertEqual(device.usedBytes, 0)
    }

    // MARK: - GPU only

    func testDeviceBlocksAreReused() throws {
        try XCTSkipUnless(CUDA.isAvailable, CUDA.unavailabilityReason ?? "")
        let allocator = CUDAAllocator.shared
        let before = CUDA.memoryAllocated(device: 0)
        let a = try allocator.allocate(byteCount: 3 * mib, device: 0)
        XCTAssertEqual(CUDA.memoryAllocated(device: 0), before + 4 * mib)
        allocator.free(a, device: 0)
        let misses = allocator.backendAllocationCount(device: 0)
        let b = try allocator.allocate(byteCount: 3 * mib, device: 0)
        XCTAssertEqual(a, b)
        XCTAssertEqual(allocator.backendAllocationCount(device: 0), misses)
        allocator.free(b, device: 0)
        XCTAssertGreaterThanOrEqual(CUDA.memoryReserved(device: 0), 4 * mib)
        CUDA.emptyCache()
        XCTAssertEqual(CUDA.memoryReserved(device: 0), CUDA.memoryAllocated(device: 0))
    }

    func testDeviceOutOfMemoryThrowsTypedError() throws {
        try XCTSkipUnless(CUDA.isAvailable, CUDA.unavailabilityReason ?? "")
        let total = try CUDA.properties(of: 0).totalMemory
        let request = total * 2
        XCTAssertThrowsError(try CUDAAllocator.shared.allocate(byteCount: request, device: 0)) { error in
            guard case let .outOfMemory(device, requestedBytes, _)? = error as? CUDAError else {
                return XCTFail("expected outOfMemory, got \(error)")
            }
            XCTAssertEqual(device, 0)
            XCTAssertEqual(requestedBytes, request)
        }
        // The failure is not sticky: the device still works.
        let pointer = try CUDAAllocator.shared.allocate(byteCount: 1024, device: 0)
        CUDAAllocator.shared.free(pointer, device: 0)
        try CUDA.synchronize(0)
    }
}
