import XCTest
@testable import Autograd

/// Host↔device copies: the staging pipelines' ordering (with fakes, everywhere) and real
/// round trips (GPU only).
final class CUDAMemoryCopyTests: XCTestCase {
    func testChunksCoverTheRangeInOrder() {
        XCTAssertEqual(CUDAPinnedStaging.chunks(byteCount: 0, chunkBytes: 4), [])
        XCTAssertEqual(CUDAPinnedStaging.chunks(byteCount: 4, chunkBytes: 4), [0..<4])
        XCTAssertEqual(CUDAPinnedStaging.chunks(byteCount: 10, chunkBytes: 4), [0..<4, 4..<8, 8..<10])
    }

    /// A simulated DMA engine: an enqueued copy happens only when its buffer is waited on, so
    /// refilling a buffer before waiting for it would corrupt the result.
    func testHostToDevicePipelineNeverRefillsABufferInFlight() throws {
        for byteCount in [1, 7, 8, 9, 24, 31, 100] {
            let source = (0..<byteCount).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            var device = [UInt8](repeating: 0, count: byteCount)
            var buffers = [[UInt8]](repeating: [], count: 2)
            var pending: [Int: Range<Int>] = [:]   // buffer -> chunk whose DMA has not run yet
            func complete(_ buffer: Int) {
                if let range = pending.removeValue(forKey: buffer) {
                    device.replaceSubrange(range, with: buffers[buffer])
                }
            }
            try CUDAPinnedStaging.pipelineHostToDevice(
                chunks: CUDAPinnedStaging.chunks(byteCount: byteCount, chunkBytes: 8),
                wait: { complete($0) },
                fill: { range, buffer in
                    XCTAssertNil(pending[buffer], "buffer \(buffer) refilled while in flight")
                    buffers[buffer] = Array(source[range])
                },
                enqueue: { range, buffer in pending[buffer] = range })
            complete(0)   // the final stream synchronisation
            complete(1)
            XCTAssertEqual(device, source, "byteCount \(byteCount)")
        }
    }

    func testDeviceToHostPipelineDrainsEachChunkAfterItsCopy() throws {
        for byteCount in [1, 7, 8, 9, 24, 31, 100] {
            let device = (0..<byteCount).map { UInt8(truncatingIfNeeded: $0 &* 91 &+ 5) }
            var host = [UInt8](repeating: 0, count: byteCount)
            var buffers = [[UInt8]](repeating: [], count: 2)
            var pending: [Int: Range<Int>] = [:]
            var undrained: Set<Int> = []
            try CUDAPinnedStaging.pipelineDeviceToHost(
                chunks: CUDAPinnedStaging.chunks(byteCount: byteCount, chunkBytes: 8),
                enqueue: { range, buffer in
                    XCTAssertFalse(undrained.contains(buffer), "buffer \(buffer) overwritten before drain")
                    pending[buffer] = range
                    undrained.insert(buffer)
                },
                wait: { buffer in
                    if let range = pending.removeValue(forKey: buffer) {
                        buffers[buffer] = Array(device[range])
                    }
                },
                drain: { range, buffer in
                    XCTAssertNil(pending[buffer], "buffer \(buffer) drained before its copy finished")
                    host.replaceSubrange(range, with: buffers[buffer])
                    undrained.remove(buffer)
                })
            XCTAssertEqual(host, device, "byteCount \(byteCount)")
            XCTAssertTrue(undrained.isEmpty)
        }
    }

    // MARK: - GPU only

    func testCopiesRoundTripThroughTheDevice() throws {
        try XCTSkipUnless(CUDA.isAvailable, CUDA.unavailabilityReason ?? "")
        let sizes = [1, 1000, CUDA.stagingThreshold - 1, CUDA.stagingThreshold + 3,
                     2 * CUDAPinnedStaging.chunkBytes + 12_345]
        for byteCount in sizes {
            let source = (0..<byteCount).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
            var result = [UInt8](repeating: 0, count: byteCount)
            let first = try CUDAAllocator.shared.allocate(byteCount: byteCount, device: 0)
            let second = try CUDAAllocator.shared.allocate(byteCount: byteCount, device: 0)
            defer {
                CUDAAllocator.shared.free(first, device: 0)
                CUDAAllocator.shared.free(second, device: 0)
            }
            try source.withUnsafeBytes { bytes in
                try CUDA.copyHostToDevice(from: bytes.baseAddress!, to: first, byteCount: byteCount, device: 0)
            }
            try CUDA.copyDeviceToDevice(from: first, to: second, byteCount: byteCount, device: 0)
            try result.withUnsafeMutableBytes { bytes in
                try CUDA.copyDeviceToHost(from: second, to: bytes.baseAddress!, byteCount: byteCount, device: 0)
            }
            XCTAssertEqual(result, source, "round trip of \(byteCount) bytes")
        }
    }
}
