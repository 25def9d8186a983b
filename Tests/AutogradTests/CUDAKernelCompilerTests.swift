import Foundation
import XCTest
@testable import Autograd

/// NVRTC compilation (runs wherever libnvrtc loads, GPU or not) and the kernel caches.
final class CUDAKernelCompilerTests: XCTestCase {
    /// A small kernel that exercises what the backend's kernels use: 64-bit indexing, a
    /// grid-stride loop and a warp-shuffle reduction.
    static let sampleSource = """
        extern "C" __global__ void add_f32(const float* a, const float* b, float* out, long long n) {
            for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
                 i += (long long)gridDim.x * blockDim.x) {
                out[i] = a[i] + b[i];
            }
        }

        extern "C" __global__ void sum_f32(const float* x, float* out, long long n) {
            float value = 0.0f;
            for (long long i = threadIdx.x; i < n; i += blockDim.x) value += x[i];
            for (int offset = 16; offset > 0; offset /= 2)
                value += __shfl_down_sync(0xffffffffu, value, offset);
            if ((threadIdx.x & 31) == 0) atomicAdd(out, value);
        }
        """

    private func skipWithoutNVRTC(file: StaticString = #filePath, line: UInt = #line) throws {
        try requireCUDALibrary(.nvrtc, file: file, line: line)
    }

    private func temporaryDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("autograd-kernel-cache-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path + "/nested/kernels"
    }

    func testCompilesSampleKernelForSM80AndSM90() throws {
        try skipWithoutNVRTC()
        for arch in [80, 90] {
            let cubin = try CUDAKernelCompiler.compileOnly(source: Self.sampleSource, name: "sample", arch: arch)
            XCTAssertEqual(cubin.format, .cubin)
            XCTAssertEqual(cubin.target, "sm_\(arch)")
            XCTAssertEqual(Array(cubin.bytes.prefix(4)), [0x7f, 0x45, 0x4c, 0x46], "a CUBIN is an ELF file")

            let ptx = try CUDAKernelCompiler.compileOnly(source: Self.sampleSource, name: "sample", arch: arch,
                                                         format: .ptx)
            XCTAssertEqual(ptx.target, "compute_\(arch)")
            XCTAssertEqual(ptx.bytes.last, 0, "PTX keeps its NUL for cudaLibraryLoadData")
            let text = String(decoding: ptx.bytes.dropLast(), as: UTF8.self)
            XCTAssertTrue(text.contains(".target sm_\(arch)"), "PTX for compute_\(arch)")
            XCTAssertTrue(text.contains(".entry add_f32"))
            XCTAssertTrue(text.contains(".entry sum_f32"))
            XCTAssertTrue(text.contains("shfl.sync.down"))
        }
    }

    func testCompilationErrorCarriesNVRTCsLog() throws {
        try skipWithoutNVRTC()
        let source = "extern \"C\" __global__ void broken(float* x) { x[0] = undefined_name; }"
        XCTAssertThrowsError(try CUDAKernelCompiler.compileOnly(source: source, name: "broken", arch: 90)) { error in
            guard case let .compilationFailed(kernel, log)? = error as? CUDAError else {
                return XCTFail("expected compilationFailed, got \(error)")
            }
            XCTAssertEqual(kernel, "broken")
            XCTAssertTrue(log.contains("undefined_name"), log)
            XCTAssertTrue("\(error)".hasPrefix("NVRTC failed to compile kernel 'broken':\n"), "\(error)")
        }
    }

    func testUnknownArchitectureIsReportedAsACompilationFailure() throws {
        try skipWithoutNVRTC()
        XCTAssertThrowsError(try CUDAKernelCompiler.compileOnly(source: Self.sampleSource, name: "sample", arch: 11)) {
            guard case .compilationFailed? = $0 as? CUDAError else { return XCTFail("\($0)") }
        }
    }

    func testNVRTCReportsVersionAndArchitectures() throws {
        try skipWithoutNVRTC()
        let version = try CUDAKernelCompiler.nvrtcVersion()
        XCTAssertTrue(version.contains("."), version)
        let supported = try NVRTC.supportedArchitectures()
        XCTAssertTrue(supported.contains(80) && supported.contains(90), "\(supported)")
    }

    func testPlanPrefersCUBINAndFallsBackToPTX() {
        let supported = [75, 80, 86, 90, 100, 120]
        XCTAssertTrue(CUDAKernelCompiler.plan(deviceArchitecture: 90, supported: supported)! == (.cubin, 90))
        // A device newer than NVRTC knows: PTX for the newest known architecture below it.
        XCTAssertTrue(CUDAKernelCompiler.plan(deviceArchitecture: 130, supported: supported)! == (.ptx, 120))
        XCTAssertTrue(CUDAKernelCompiler.plan(deviceArchitecture: 89, supported: supported)! == (.ptx, 86))
        XCTAssertNil(CUDAKernelCompiler.plan(deviceArchitecture: 60, supported: supported))
        XCTAssertTrue(CUDAKernelCompiler.plan(deviceArchitecture: 61, supported: [])! == (.cubin, 61))
    }

    func testCacheServesFromMemoryThenFromDisk() throws {
        try skipWithoutNVRTC()
        let directory = try temporaryDirectory()
        let first = CUDAKernelCache(directory: directory)
        let compiled = try CUDAKernelCompiler.compile(source: Self.sampleSource, name: "sample",
                                                      deviceArchitecture: 90, cache: first)
        XCTAssertEqual(compiled.target, "sm_90")
        _ = try CUDAKernelCompiler.compile(source: Self.sampleSource, name: "sample", deviceArchitecture: 90,
                                           cache: first)
        XCTAssertEqual(first.compilations, 1, "the second call is served from memory")

        let second = CUDAKernelCache(directory: directory)   // a new process, in effect
        let loaded = try CUDAKernelCompiler.compile(source: Self.sampleSource, name: "sample",
                                                    deviceArchitecture: 90, cache: second)
        XCTAssertEqual(loaded, compiled)
        XCTAssertEqual(second.compilations, 0)
        XCTAssertEqual(second.diskHits, 1)

        // Another architecture is another entry.
        _ = try CUDAKernelCompiler.compile(source: Self.sampleSource, name: "sample", deviceArchitecture: 80,
                                           cache: second)
        XCTAssertEqual(second.compilations, 1)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
        XCTAssertEqual(files.filter { $0.hasSuffix(".kernel") }.count, 2, "\(files)")
        XCTAssertFalse(files.contains { $0.hasSuffix(".tmp") }, "\(files)")
    }

    func testCorruptOrUnwritableCacheOnlyMeansCompilingAgain() throws {
        try skipWithoutNVRTC()
        let directory = try temporaryDirectory()
        let cache = CUDAKernelCache(directory: directory)
        let compiled = try CUDAKernelCompiler.compile(source: Self.sampleSource, name: "sample",
                                                      deviceArchitecture: 80, cache: cache)
        for file in try FileManager.default.contentsOfDirectory(atPath: directory) {
            try Data("garbage".utf8).write(to: URL(fileURLWithPath: directory + "/" + file))
        }
        let fresh = CUDAKernelCache(directory: directory)
        XCTAssertEqual(try CUDAKernelCompiler.compile(source: Self.sampleSource, name: "sample",
                                                      deviceArchitecture: 80, cache: fresh), compiled)
        XCTAssertEqual(fresh.compilations, 1)
        XCTAssertEqual(fresh.diskHits, 0)

        let unwritable = CUDAKernelCache(directory: "/dev/null/kernels")
        XCTAssertEqual(try CUDAKernelCompiler.compile(source: Self.sampleSource, name: "sample",
                                                      deviceArchitecture: 80, cache: unwritable), compiled)
        let disabled = CUDAKernelCache(directory: nil)
        XCTAssertEqual(try CUDAKernelCompiler.compile(source: Self.sampleSource, name: "sample",
                                                      deviceArchitecture: 80, cache: disabled), compiled)
    }

    func testCacheFileNamesTheKeyItHolds() {
        let key = CUDAKernelCache.Key(source: "src", name: "k", target: "sm_90", options: ["--std=c++17"],
                                      nvrtcVersion: "13.5").serialized
        let binary = CUDAKernelBinary(format: .ptx, architecture: 90, bytes: [1, 2, 3, 0])
        let encoded = CUDAKernelCache.encode(binary, key: key)
        XCTAssertEqual(CUDAKernelCache.decode(encoded, key: key), binary)
        let otherKey = CUDAKernelCache.Key(source: "src", name: "k", target: "sm_90", options: ["--std=c++17"],
                                           nvrtcVersion: "13.6").serialized
        XCTAssertNil(CUDAKernelCache.decode(encoded, key: otherKey), "another NVRTC version is a miss")
        XCTAssertNil(CUDAKernelCache.decode(Array(encoded.prefix(20)), key: key))
        XCTAssertNil(CUDAKernelCache.decode([], key: key))
        let cache = CUDAKernelCache(directory: "/x")
        XCTAssertNotEqual(cache.path(forKey: key), cache.path(forKey: otherKey))
        XCTAssertTrue(cache.path(forKey: key)!.hasPrefix("/x/"))
    }

    func testDefaultFolderHonoursAUTOGRADKERNELCACHE() {
        let previous = getenv("AUTOGRAD_KERNEL_CACHE").map { String(cString: $0) }
        defer {
            if let previous { setenv("AUTOGRAD_KERNEL_CACHE", previous, 1) } else { unsetenv("AUTOGRAD_KERNEL_CACHE") }
        }
        setenv("AUTOGRAD_KERNEL_CACHE", "/tmp/my-kernels", 1)
        XCTAssertEqual(CUDAKernelCache.defaultDirectory(), "/tmp/my-kernels")
        setenv("AUTOGRAD_KERNEL_CACHE", "", 1)
        XCTAssertNil(CUDAKernelCache.defaultDirectory(), "an empty value turns the disk cache off")
        unsetenv("AUTOGRAD_KERNEL_CACHE")
        if let home = getenv("HOME").map({ String(cString: $0) }), getenv("XDG_CACHE_HOME") == nil {
            XCTAssertEqual(CUDAKernelCache.defaultDirectory(), home + "/.cache/swift-autograd/kernels")
        }
    }

    // MARK: - GPU only

    func testCompiledKernelRunsOnTheDevice() throws {
        try XCTSkipUnless(CUDA.isAvailable, CUDA.unavailabilityReason ?? "")
        let count = 100_003
        let a = (0..<count).map { Float($0) }
        let b = (0..<count).map { Float(2 * $0) + 0.5 }
        let bytes = count * MemoryLayout<Float>.stride
        let allocator = CUDAAllocator.shared
        let buffers = try (0..<3).map { _ in try allocator.allocate(byteCount: bytes, device: 0) }
        defer { buffers.forEach { allocator.free($0, device: 0) } }
        try a.withUnsafeBytes { try CUDA.copyHostToDevice(from: $0.baseAddress!, to: buffers[0], byteCount: bytes, device: 0) }
        try b.withUnsafeBytes { try CUDA.copyHostToDevice(from: $0.baseAddress!, to: buffers[1], byteCount: bytes, device: 0) }
        let add = try CUDAKernelRegistry.shared.kernel(named: "add_f32", source: Self.sampleSource, device: 0)
        try add.launch(grid: (x: 120, y: 1, z: 1), block: (x: 256, y: 1, z: 1),
                       arguments: [.pointer(buffers[0]), .pointer(buffers[1]), .pointer(buffers[2]), .int64(Int64(count))],
                       device: 0)
        var result = [Float](repeating: 0, count: count)
        try result.withUnsafeMutableBytes {
            try CUDA.copyDeviceToHost(from: buffers[2], to: $0.baseAddress!, byteCount: bytes, device: 0)
        }
        XCTAssertEqual(result, zip(a, b).map(+))
    }
}
