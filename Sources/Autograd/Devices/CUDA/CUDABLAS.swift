import CCUDA

/// Thin Swift wrappers over the cuBLAS calls of the `CCUDA` shim, one per C call, turning each
/// status into `CUDAError` (cuBLAS's function name and status name), plus one handle per device.
///
/// Matrices are column-major, as cuBLAS expects: a row-major `C = A · B` is computed as
/// `Cᵀ = Bᵀ · Aᵀ`, that is `gemm(n, m, k, B, A)` with the row lengths as leading dimensions.
/// Calls queue work on the default stream and return at once.
enum CUDABLAS {
    /// A `cublasOperation_t`.
    enum Operation: Int32 {
        case none = 0, transpose = 1
    }

    /// A `cudaDataType` for `gemmEx`.
    enum DataType: Int32 {
        case float32 = 0, float64 = 1, float16 = 2, bfloat16 = 14
    }

    /// A `cublasComputeType_t` for `gemmEx`.
    enum ComputeType: Int32 {
        case float32 = 68, float64 = 70, float32FastTF32 = 77
    }

    // MARK: - Errors

    /// Throws the `CUDAError` for a non-zero status returned by cuBLAS function `function`.
    static func check(_ status: Int32, _ function: String) throws {
        if status != 0 { throw error(status, function: function) }
    }

    /// The `CUDAError` for `status` from cuBLAS function `function`.
    static func error(_ status: Int32, function: String) -> CUDAError {
        if let shimError = CUDALibrary.cublas.shimError(status, function: function) {
            return shimError
        }
        var name: UnsafePointer<CChar>?
        _ = ccuda_cublas_get_status_name(status, &name)
        let statusName = CUDAText.string(name, fallback: "cublasStatus \(status)")
        return .apiCall(function: function, code: status, name: statusName,
                        message: "cuBLAS returned \(statusName)")
    }

    // MARK: - Handles

    /// One cuBLAS handle per device, created on first use and kept for the process (PyTorch
    /// does the same; destroying handles at exit races with driver teardown).
    private final class Handles: @unchecked Sendable {
        // @unchecked Sendable: `handles` is only touched while holding `lock`; a cuBLAS handle
        // may be used from several threads as long as its stream does not change, and ours
        // always uses the default stream.
        let lock = CUDALock()
        var handles: [Int: OpaquePointer] = [:]
    }
    private static let handles = Handles()

    /// The cuBLAS handle of device `device`.
    ///
    /// - Throws: The errors of `CUDA.checkAvailable(device:)`; `.libraryNotFound` without
    ///   libcublas; `.apiCall` naming `cublasCreate_v2`.
    static func handle(device: Int) throws -> OpaquePointer {
        try CUDA.checkAvailable(device: device)
        return try handles.lock.withLock {
            if let handle = handles.handles[device] { return handle }
            let handle = try CUDA.withDevice(device) { try create() }
            handles.handles[device] = handle
            return handle
        }
    }

    // MARK: - Calls

    /// `cublasCreate_v2` on the current device.
    static func create() throws -> OpaquePointer {
        var handle: OpaquePointer?
        try check(ccuda_cublas_create(&handle), "cublasCreate_v2")
        guard let handle else {
            throw CUDAError.apiCall(function: "cublasCreate_v2", code: 0, name: "CUBLAS_STATUS_SUCCESS",
                                    message: "returned a null handle")
        }
        return handle
    }

    /// `cublasDestroy_v2`.
    static func destroy(_ handle: OpaquePointer) throws {
        try check(ccuda_cublas_destroy(handle), "cublasDestroy_v2")
    }

    /// `cublasSetStream_v2` (nil: the default stream).
    static func setStream(_ handle: OpaquePointer, _ stream: OpaquePointer?) throws {
        try check(ccuda_cublas_set_stream(handle, stream), "cublasSetStream_v2")
    }

    /// `cublasSgemm_v2`: `C = alpha · op(A) · op(B) + beta · C`, column-major, host scalars.
    static func sgemm(_ handle: OpaquePointer, _ transA: Operation, _ transB: Operation,
                      m: Int, n: Int, k: Int, alpha: Float,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) throws {
        var alpha = alpha
        var beta = beta
        try check(ccuda_cublas_sgemm(handle, transA.rawValue, transB.rawValue, int(m), int(n), int(k),
                                     &alpha, a, int(lda), b, int(ldb), &beta, c, int(ldc)),
                  "cublasSgemm_v2")
    }

    /// `cublasDgemm_v2`: as `sgemm`, in float64.
    static func dgemm(_ handle: OpaquePointer, _ transA: Operation, _ transB: Operation,
                      m: Int, n: Int, k: Int, alpha: Double,
                      a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                      beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) throws {
        var alpha = alpha
        var beta = beta
        try check(ccuda_cublas_dgemm(handle, transA.rawValue, transB.rawValue, int(m), int(n), int(k),
                                     &alpha, a, int(lda), b, int(ldb), &beta, c, int(ldc)),
                  "cublasDgemm_v2")
    }

    /// `cublasSgemmStridedBatched`: `batchCount` independent `sgemm`s, matrix `i` of each
    /// operand at `i · stride` elements.
    static func sgemmStridedBatched(
        _ handle: OpaquePointer, _ transA: Operation, _ transB: Operation, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int, strideA: Int,
        b: UnsafePointer<Float>, ldb: Int, strideB: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, strideC: Int, batchCount: Int
    ) throws {
        var alpha = alpha
        var beta = beta
        try check(ccuda_cublas_sgemm_strided_batched(
            handle, transA.rawValue, transB.rawValue, int(m), int(n), int(k), &alpha,
            a, int(lda), Int64(strideA), b, int(ldb), Int64(strideB), &beta,
            c, int(ldc), Int64(strideC), int(batchCount)), "cublasSgemmStridedBatched")
    }

    /// `cublasDgemmStridedBatched`: as `sgemmStridedBatched`, in float64.
    static func dgemmStridedBatched(
        _ handle: OpaquePointer, _ transA: Operation, _ transB: Operation, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int, strideA: Int,
        b: UnsafePointer<Double>, ldb: Int, strideB: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int, strideC: Int, batchCount: Int
    ) throws {
        var alpha = alpha
        var beta = beta
        try check(ccuda_cublas_dgemm_strided_batched(
            handle, transA.rawValue, transB.rawValue, int(m), int(n), int(k), &alpha,
            a, int(lda), Int64(strideA), b, int(ldb), Int64(strideB), &beta,
            c, int(ldc), Int64(strideC), int(batchCount)), "cublasDgemmStridedBatched")
    }

    /// `cublasGemmEx`: mixed-precision GEMM (float16/bfloat16 inputs with float32 compute).
    ///
    /// `alpha` and `beta` point at host scalars of the compute type's precision (Float for
    /// `.float32` and `.float32FastTF32`, Double for `.float64`).
    static func gemmEx(
        _ handle: OpaquePointer, _ transA: Operation, _ transB: Operation, m: Int, n: Int, k: Int,
        alpha: UnsafeRawPointer, a: UnsafeRawPointer, aType: DataType, lda: Int,
        b: UnsafeRawPointer, bType: DataType, ldb: Int, beta: UnsafeRawPointer,
        c: UnsafeMutableRawPointer, cType: DataType, ldc: Int, computeType: ComputeType
    ) throws {
        try check(ccuda_cublas_gemm_ex(
            handle, transA.rawValue, transB.rawValue, int(m), int(n), int(k), alpha,
            a, aType.rawValue, int(lda), b, bType.rawValue, int(ldb), beta,
            c, cType.rawValue, int(ldc), computeType.rawValue, CCUDA_CUBLAS_GEMM_DEFAULT), "cublasGemmEx")
    }

    /// A dimension as cuBLAS's `int`.
    private static func int(_ value: Int) -> Int32 {
        precondition(value >= 0 && value <= Int(Int32.max),
                     "cuBLAS: dimension \(value) does not fit cuBLAS's 32-bit int")
        return Int32(value)
    }
}
