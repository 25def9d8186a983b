import CCUDA

/// Thin Swift wrappers over the CUDA runtime calls of the `CCUDA` shim: one function per C call,
/// turning its status into `CUDAError` (the function's CUDA name and CUDA's error name).
///
/// Callers check availability first (`CUDA.checkAvailable`); these wrappers only translate.
enum CUDARuntime {
    /// A `cudaMemcpyKind`.
    enum CopyKind: Int32 {
        case hostToHost = 0, hostToDevice = 1, deviceToHost = 2, deviceToDevice = 3, inferred = 4
    }

    // MARK: - Errors

    /// Throws the `CUDAError` for a non-zero status returned by runtime function `function`.
    static func check(_ status: Int32, _ function: String) throws {
        if status != 0 { throw error(status, function: function) }
    }

    /// The `CUDAError` for `status` from runtime function `function`.
    static func error(_ status: Int32, function: String) -> CUDAError {
        if let shimError = CUDALibrary.cudart.shimError(status, function: function) {
            return shimError
        }
        return .apiCall(function: function, code: status, name: errorName(status),
                        message: errorString(status))
    }

    /// CUDA's enum name for an error code (`cudaErrorInsufficientDriver`).
    static func errorName(_ code: Int32) -> String {
        var name: UnsafePointer<CChar>?
        guard ccuda_get_error_name(code, &name) == 0 else { return "cudaError \(code)" }
        return CUDAText.string(name, fallback: "cudaError \(code)")
    }

    /// CUDA's description of an error code.
    static func errorString(_ code: Int32) -> String {
        var message: UnsafePointer<CChar>?
        guard ccuda_get_error_string(code, &message) == 0 else { return "unknown CUDA error" }
        return CUDAText.string(message, fallback: "unknown CUDA error")
    }

    /// `cudaGetLastError`: returns and clears the runtime's last error (0 for none).
    @discardableResult
    static func getLastError() -> Int32 { ccuda_get_last_error() }

    // MARK: - Versions and devices

    /// `cudaRuntimeGetVersion`: 1000 × major + 10 × minor (13050 for 13.5).
    static func runtimeVersion() throws -> Int {
        var version: Int32 = 0
        try check(ccuda_runtime_get_version(&version), "cudaRuntimeGetVersion")
        return Int(version)
    }

    /// `cudaDriverGetVersion`: the CUDA version the driver supports, 0 with no driver.
    static func driverVersion() throws -> Int {
        var version: Int32 = 0
        try check(ccuda_driver_get_version(&version), "cudaDriverGetVersion")
        return Int(version)
    }

    /// `cudaGetDeviceCount`.
    static func deviceCount() throws -> Int {
        var count: Int32 = 0
        try check(ccuda_get_device_count(&count), "cudaGetDeviceCount")
        return Int(count)
    }

    /// `cudaGetDevice`: the calling thread's current device.
    static func currentDevice() throws -> Int {
        var device: Int32 = 0
        try check(ccuda_get_device(&device), "cudaGetDevice")
        return Int(device)
    }

    /// `cudaSetDevice`: makes `device` current on the calling thread.
    static func setDevice(_ device: Int) throws {
        try check(ccuda_set_device(Int32(clamping: device)), "cudaSetDevice")
    }

    /// `cudaDeviceGetAttribute`.
    static func deviceAttribute(_ attribute: Int32, device: Int) throws -> Int {
        var value: Int32 = 0
        try check(ccuda_device_get_attribute(&value, attribute, Int32(clamping: device)),
                  "cudaDeviceGetAttribute")
        return Int(value)
    }

    /// The device's name (`cudaGetDeviceProperties`, reading only its leading name field).
    static func deviceName(_ device: Int) throws -> String {
        var buffer = [CChar](repeating: 0, count: 257)
        try buffer.withUnsafeMutableBufferPointer { chars in
            try check(ccuda_get_device_name(Int32(clamping: device), chars.baseAddress, chars.count),
                      "cudaGetDeviceProperties")
        }
        return CUDAText.string(fromNulTerminated: buffer)
    }

    /// The device's total memory in bytes (`cuDeviceTotalMem`, or `cudaMemGetInfo`).
    static func deviceTotalMemory(_ device: Int) throws -> Int {
        var bytes = 0
        try check(ccuda_device_total_memory(Int32(clamping: device), &bytes), "cuDeviceTotalMem")
        return bytes
    }

    /// `cudaMemGetInfo` for the current device.
    static func memoryInfo() throws -> (free: Int, total: Int) {
        var free = 0
        var total = 0
        try check(ccuda_mem_get_info(&free, &total), "cudaMemGetInfo")
        return (free, total)
    }

    /// `cudaDeviceSynchronize` on the current device.
    static func deviceSynchronize() throws {
        try check(ccuda_device_synchronize(), "cudaDeviceSynchronize")
    }

    // MARK: - Memory

    /// `cudaMalloc` on the current device.
    static func malloc(_ byteCount: Int) throws -> UnsafeMutableRawPointer {
        var pointer: UnsafeMutableRawPointer?
        try check(ccuda_malloc(&pointer, byteCount), "cudaMalloc")
        guard let pointer else {
            throw CUDAError.apiCall(function: "cudaMalloc", code: 0, name: "cudaSuccess",
                                    message: "returned a null pointer for \(byteCount) bytes")
        }
        return pointer
    }

    /// `cudaFree`.
    static func free(_ pointer: UnsafeMutableRawPointer) throws {
        try check(ccuda_free(pointer), "cudaFree")
    }

    /// `cudaMallocHost`: page-locked host memory.
    static func mallocHost(_ byteCount: Int) throws -> UnsafeMutableRawPointer {
        var pointer: UnsafeMutableRawPointer?
        try check(ccuda_malloc_host(&pointer, byteCount), "cudaMallocHost")
        guard let pointer else {
            throw CUDAError.apiCall(function: "cudaMallocHost", code: 0, name: "cudaSuccess",
                                    message: "returned a null pointer for \(byteCount) bytes")
        }
        return pointer
    }

    /// `cudaFreeHost`.
    static func freeHost(_ pointer: UnsafeMutableRawPointer) throws {
        try check(ccuda_free_host(pointer), "cudaFreeHost")
    }

    /// `cudaMemcpy`.
    static func memcpy(_ destination: UnsafeMutableRawPointer, _ source: UnsafeRawPointer,
                       byteCount: Int, kind: CopyKind) throws {
        try check(ccuda_memcpy(destination, source, byteCount, kind.rawValue), "cudaMemcpy")
    }

    /// `cudaMemcpyAsync`.
    static func memcpyAsync(_ destination: UnsafeMutableRawPointer, _ source: UnsafeRawPointer,
                            byteCount: Int, kind: CopyKind, stream: OpaquePointer? = nil) throws {
        try check(ccuda_memcpy_async(destination, source, byteCount, kind.rawValue, stream),
                  "cudaMemcpyAsync")
    }

    /// `cudaMemset`.
    static func memset(_ pointer: UnsafeMutableRawPointer, value: Int32, byteCount: Int) throws {
        try check(ccuda_memset(pointer, value, byteCount), "cudaMemset")
    }

    /// `cudaMemsetAsync`.
    static func memsetAsync(_ pointer: UnsafeMutableRawPointer, value: Int32, byteCount: Int,
                            stream: OpaquePointer? = nil) throws {
        try check(ccuda_memset_async(pointer, value, byteCount, stream), "cudaMemsetAsync")
    }

    // MARK: - Streams and events

    /// `cudaStreamCreateWithFlags`.
    static func streamCreate(nonBlocking: Bool = true) throws -> OpaquePointer? {
        var stream: OpaquePointer?
        try check(ccuda_stream_create(&stream, nonBlocking ? UInt32(CCUDA_STREAM_NON_BLOCKING) : 0),
                  "cudaStreamCreateWithFlags")
        return stream
    }

    /// `cudaStreamDestroy`.
    static func streamDestroy(_ stream: OpaquePointer?) throws {
        try check(ccuda_stream_destroy(stream), "cudaStreamDestroy")
    }

    /// `cudaStreamSynchronize` (nil: the default stream).
    static func streamSynchronize(_ stream: OpaquePointer? = nil) throws {
        try check(ccuda_stream_synchronize(stream), "cudaStreamSynchronize")
    }

    /// `cudaEventCreateWithFlags` with timing disabled (the cheap kind, for ordering only).
    static func eventCreate() throws -> OpaquePointer? {
        var event: OpaquePointer?
        try check(ccuda_event_create(&event, UInt32(CCUDA_EVENT_DISABLE_TIMING)),
                  "cudaEventCreateWithFlags")
        return event
    }

    /// `cudaEventDestroy`.
    static func eventDestroy(_ event: OpaquePointer?) throws {
        try check(ccuda_event_destroy(event), "cudaEventDestroy")
    }

    /// `cudaEventRecord` (nil stream: the default stream).
    static func eventRecord(_ event: OpaquePointer?, stream: OpaquePointer? = nil) throws {
        try check(ccuda_event_record(event, stream), "cudaEventRecord")
    }

    /// `cudaEventSynchronize`.
    static func eventSynchronize(_ event: OpaquePointer?) throws {
        try check(ccuda_event_synchronize(event), "cudaEventSynchronize")
    }

    // MARK: - Kernels

    /// `cudaLibraryLoadData`: loads a CUBIN or NUL-terminated PTX image for every device.
    static func libraryLoadData(_ image: UnsafeRawPointer) throws -> OpaquePointer {
        var library: OpaquePointer?
        try check(ccuda_library_load_data(&library, image), "cudaLibraryLoadData")
        guard let library else {
            throw CUDAError.apiCall(function: "cudaLibraryLoadData", code: 0, name: "cudaSuccess",
                                    message: "returned a null library")
        }
        return library
    }

    /// `cudaLibraryUnload`.
    static func libraryUnload(_ library: OpaquePointer) throws {
        try check(ccuda_library_unload(library), "cudaLibraryUnload")
    }

    /// `cudaLibraryGetKernel`.
    static func libraryGetKernel(_ library: OpaquePointer, name: String) throws -> OpaquePointer {
        var kernel: OpaquePointer?
        try check(ccuda_library_get_kernel(&kernel, library, name), "cudaLibraryGetKernel")
        guard let kernel else {
            throw CUDAError.apiCall(function: "cudaLibraryGetKernel", code: 0, name: "cudaSuccess",
                                    message: "returned a null kernel for '\(name)'")
        }
        return kernel
    }

    /// `cudaLaunchKernel` with a kernel from `libraryGetKernel`; `arguments` point at each
    /// parameter's value, in order.
    static func launchKernel(_ kernel: OpaquePointer, grid: ccuda_dim3, block: ccuda_dim3,
                             arguments: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                             sharedMemoryBytes: Int, stream: OpaquePointer? = nil) throws {
        try check(ccuda_launch_kernel(kernel, grid, block, arguments, sharedMemoryBytes, stream),
                  "cudaLaunchKernel")
    }
}
