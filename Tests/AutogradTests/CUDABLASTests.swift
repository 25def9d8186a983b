import XCTest
@testable import Autograd

/// cuBLAS binding: status translation everywhere, handle creation where libcublas loads, GEMM
/// on a GPU.
final class CUDABLASTests: XCTestCase {
    func testStatusesBecomeNamedErrors() {
        XCTAssertEqual(CUDABLAS.error(1, function: "cublasCreate_v2"),
                       .apiCall(function: "cublasCreate_v2", code: 1, name: "CUBLAS_STATUS_NOT_INITIALIZED",
                                message: "cuBLAS returned CUBLAS_STATUS_NOT_INITIALIZED"))
        guard case .apiCall(_, 13, "CUBLAS_STATUS_EXECUTION_FAILED", _) = CUDABLAS.error(13, function: "cublasGemmEx")
        else { return XCTFail("status 13") }
    }

    func testHandleNeedsCUDA() throws {
        try XCTSkipIf(CUDA.isAvailable, "CUDA is available on this machine")
        XCTAssertThrowsError(try CUDABLAS.handle(device: 0)) { error in
            XCTAssertEqual((error as? CUDAError)?.description, CUDA.unavailabilityReason)
        }
    }

    func testCreateWithoutDriverReportsCUBLASStatus() throws {
        try XCTSkipUnless(CUDALibrary.cublas.isLoaded, "libcublas not found")
        try XCTSkipIf(CUDA.isAvailable, "CUDA is available on this machine")
        XCTAssertThrowsError(try CUDABLAS.create()) { error in
            guard case .apiCall("cublasCreate_v2", _, let name, _)? = error as? CUDAError else {
                return XCTFail("\(error)")
            }
            XCTAssertTrue(name.hasPrefix("CUBLAS_STATUS_"), name)
        }
    }

    // MARK: - GPU only

    func testRowMajorSgemmMatchesHandComputedProduct() throws {
        try XCTSkipUnless(CUDA.isAvailable, CUDA.unavailabilityReason ?? "")
        try XCTSkipUnless(CUDALibrary.cublas.isLoaded, "libcublas not found")
        // A is 2x3, B is 3x2, row-major; C = A · B = [[58, 64], [139, 154]].
        let a: [Float] = [1, 2, 3, 4, 5, 6]
        let b: [Float] = [7, 8, 9, 10, 11, 12]
        let allocator = CUDAAllocator.shared
        let buffers = try [6, 6, 4].map { try allocator.allocate(byteCount: $0 * 4, device: 0) }
        defer { buffers.forEach { allocator.free($0, device: 0) } }
        try a.withUnsafeBytes { try CUDA.copyHostToDevice(from: $0.baseAddress!, to: buffers[0], byteCount: 24, device: 0) }
        try b.withUnsafeBytes { try CUDA.copyHostToDevice(from: $0.baseAddress!, to: buffers[1], byteCount: 24, device: 0) }
        let handle = try CUDABLAS.handle(device: 0)
        try CUDA.withDevice(0) {
            // Column-major Cᵀ (2x2) = Bᵀ (2x3) · Aᵀ (3x2).
            try CUDABLAS.sgemm(handle, .none, .none, m: 2, n: 2, k: 3, alpha: 1,
                             a: buffers[1].assumingMemoryBound(to: Float.self), lda: 2,
                             b: buffers[0].assumingMemoryBound(to: Float.self), ldb: 3,
                             beta: 0, c: buffers[2].assumingMemoryBound(to: Float.self), ldc: 2)
        }
        var c = [Float](repeating: 0, count: 4)
        try c.withUnsafeMutableBytes { try CUDA.copyDeviceToHost(from: buffers[2], to: $0.baseAddress!, byteCount: 16, device: 0) }
        XCTAssertEqual(c, [58, 64, 139, 154])
    }
}
