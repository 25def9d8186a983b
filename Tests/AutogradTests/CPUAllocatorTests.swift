import Foundation
import XCTest
@testable import Autograd

/// The CPU allocator's large-buffer path: alignment, huge-page advice, and the caching
/// semantics kept around it (the reuse and limit tests are in FastPathTests).
final class CPUAllocatorTests: XCTestCase {
    static let sizes = [4096, 5000, (4 << 20) - 1, 4 << 20, (5 << 20) + 3, 64 << 20]

    func testLargeBlocksAreAlignedAndReused() {
        let allocator = CPUAllocator(limit: 256 << 20)
        defer { allocator.emptyCache() }
        for size in Self.sizes {
            let p = allocator.allocate(byteCount: size)
            let huge = CPUAllocator.sizeClass(size) >= CPUAllocator.hugePageThreshold
            XCTAssertEqual(Int(bitPattern: p) % (huge ? CPUAllocator.hugePageSize : 64), 0, "size \(size)")
            XCTAssertEqual(huge, size >= (4 << 20) - 1, "size \(size)")   // 4 MiB - 1 rounds up to 4 MiB
            p.storeBytes(of: 1, toByteOffset: 0, as: UInt8.self)
            p.storeBytes(of: 2, toByteOffset: size - 1, as: UInt8.self)
            allocator.deallocate(p, byteCount: size)
            XCTAssertEqual(allocator.allocate(byteCount: size), p, "a freed block of the same class comes back")
            XCTAssertEqual(p.load(fromByteOffset: size - 1, as: UInt8.self), 2)
            allocator.deallocate(p, byteCount: size)
        }
        XCTAssertEqual(allocator.cachedBytes, Set(Self.sizes.map(CPUAllocator.sizeClass)).reduce(0, +))
        allocator.emptyCache()
        XCTAssertEqual(allocator.cachedBytes, 0)
    }

    /// Linux: blocks from 4 MiB on carry the huge-page advice (`hg` in /proc/self/smaps).
    func testLargeBlocksAreAdvisedForHugePages() throws {
        #if os(Linux)
        guard FileManager.default.fileExists(atPath: "/sys/kernel/mm/transparent_hugepage/enabled") else {
            throw XCTSkip("kernel without transparent huge pages")
        }
        let allocator = CPUAllocator(limit: 0)
        for (size, advised) in [(64 << 20, true), (1 << 20, false)] {
            let p = allocator.allocate(byteCount: size)
            defer { allocator.deallocate(p, byteCount: size) }
            let flags = try XCTUnwrap(Self.vmFlags(containing: UInt(bitPattern: p)), "no mapping for the block")
            XCTAssertEqual(flags.contains("hg"), advised, "size \(size): VmFlags \(flags)")
        }
        #else
        throw XCTSkip("huge-page advice is Linux only")
        #endif
    }

    /// The VmFlags of the mapping holding `address`, from /proc/self/smaps.
    static func vmFlags(containing address: UInt) -> [Substring]? {
        // Read to the end: /proc files report a size of 0.
        guard let data = FileHandle(forReadingAtPath: "/proc/self/smaps")?.readDataToEndOfFile() else { return nil }
        let smaps = String(decoding: data, as: UTF8.self)
        var inside = false
        for line in smaps.split(separator: "\n") {
            if let dash = line.firstIndex(of: "-"), let space = line.firstIndex(of: " "), dash < space,
               let lo = UInt(line[..<dash], radix: 16), let hi = UInt(line[line.index(after: dash)..<space], radix: 16) {
                inside = lo <= address && address < hi
            } else if inside && line.hasPrefix("VmFlags:") {
                return line.dropFirst("VmFlags:".count).split(separator: " ")
            }
        }
        return nil
    }
}
