import CCUDA

/// CUDA devices: whether one can be used, how many there are, what they are, and the caching
/// allocator's memory statistics (PyTorch's `torch.cuda`).
///
/// CUDA is bound at run time: the package builds without a CUDA toolkit, and the CUDA runtime
/// is looked for on first use (see `CUDAError.libraryNotFound` for where). Nothing here traps
/// for lack of a GPU.
///
/// ```swift
/// if CUDA.isAvailable {
///     print(try CUDA.properties(of: 0))   // NVIDIA H100 80GB HBM3 (cuda:0, sm_90, 132 SMs, 79.19 GiB)
/// } else {
///     print(CUDA.unavailabilityReason!)   // libcudart not found (searched: libcudart.so.13, ...)
/// }
/// ```
public enum CUDA {
    /// Whether CUDA can be used: the runtime library loads, the driver is recent enough for it,
    /// and there is at least one device.
    ///
    /// Never traps. Computed once per process (on first use, thread-safely) and cached, like
    /// `torch.cuda.is_available()`.
    public static var isAvailable: Bool { availability.error == nil }

    /// The number of CUDA devices; 0 whenever `isAvailable` is false.
    public static var deviceCount: Int { availability.deviceCount }

    /// Why CUDA cannot be used, in words (for example "no CUDA device"); nil when it can.
    ///
    /// One of: `libcudart not found (searched: …)`; `CUDA driver version is insufficient for
    /// CUDA runtime version (cudaErrorInsufficientDriver, 35)`; `no CUDA device`; or the CUDA
    /// call that failed, with CUDA's error name.
    public static var unavailabilityReason: String? { availability.error?.description }

    /// Checks that tensors can be placed on CUDA device `index`.
    ///
    /// This is the check behind `try x.to(.cuda(index))`.
    ///
    /// - Parameter index: A device ordinal, `0..<CUDA.deviceCount`.
    /// - Throws: `CUDAError.libraryNotFound`, `.driverInsufficient`, `.noDevice` or `.apiCall`
    ///   when CUDA is not available (the same error each time); `.invalidDevice` when `index`
    ///   is out of range.
    public static func checkAvailable(device index: Int) throws {
        let state = availability
        if let error = state.error { throw error }
        guard index >= 0 && index < state.deviceCount else {
            throw CUDAError.invalidDevice(index: index, count: state.deviceCount)
        }
    }

    /// The name, memory, compute capability and multiprocessor count of device `index`
    /// (PyTorch's `torch.cuda.get_device_properties`).
    ///
    /// - Parameter index: A device ordinal, `0..<CUDA.deviceCount`.
    /// - Returns: The device's properties (queried once, then cached).
    /// - Throws: The errors of `checkAvailable(device:)`, or `CUDAError.apiCall` if a query fails.
    public static func properties(of index: Int) throws -> CUDADeviceProperties {
        try checkAvailable(device: index)
        return try propertiesCache.properties(of: index)
    }

    /// Waits until all work queued on device `index` has finished (`torch.cuda.synchronize`).
    ///
    /// Also the point where an asynchronous kernel failure is reported.
    ///
    /// - Parameter index: A device ordinal; the first device by default.
    /// - Throws: The errors of `checkAvailable(device:)`, or `CUDAError.apiCall` naming
    ///   `cudaDeviceSynchronize` and the error of the work that failed.
    public static func synchronize(_ index: Int = 0) throws {
        try checkAvailable(device: index)
        try withDevice(index) { try CUDARuntime.deviceSynchronize() }
    }
}

// MARK: - Availability

/// The outcome of the one-time probe behind `CUDA.isAvailable`.
struct CUDAAvailability: Sendable {
    var deviceCount: Int
    var error: CUDAError?
}

extension CUDA {
    /// Probed once, on first use; `static let` initialisation is thread-safe (swift_once).
    static let availability: CUDAAvailability = probeAvailability()

    /// Loads libcudart and asks for the device count, classifying every failure.
    static func probeAvailability() -> CUDAAvailability {
        do {
            try CUDALibrary.cudart.load()
        } catch let error as CUDAError {
            return CUDAAvailability(deviceCount: 0, error: error)
        } catch {
            return CUDAAvailability(deviceCount: 0, error: .noDevice)  // load() throws only CUDAError
        }
        var count: Int32 = 0
        let status = ccuda_get_device_count(&count)
        return CUDAAvailability(deviceCount: status == 0 ? Int(count) : 0,
                                error: availabilityError(status: status, count: Int(count)))
    }

    /// The error that makes CUDA unavailable for a `cudaGetDeviceCount` result, or nil.
    static func availabilityError(status: Int32, count: Int) -> CUDAError? {
        switch status {
        case 0:
            return count > 0 ? nil : .noDevice
        case CCUDA_CUDA_ERROR_INSUFFICIENT_DRIVER, CCUDA_CUDA_ERROR_STUB_LIBRARY:
            let message = CUDARuntime.errorString(status)
            return .driverInsufficient(message: "\(message) (\(CUDARuntime.errorName(status)), \(status))")
        case CCUDA_CUDA_ERROR_NO_DEVICE:
            return .noDevice
        default:
            return CUDARuntime.error(status, function: "cudaGetDeviceCount")
        }
    }

    /// Runs `body` with `index` as the calling thread's current device, then restores the
    /// previous one (PyTorch's device guard).
    static func withDevice<Result>(_ index: Int, _ body: () throws -> Result) throws -> Result {
        let previous = try CUDARuntime.currentDevice()
        if previous != index { try CUDARuntime.setDevice(index) }
        defer { if previous != index { try? CUDARuntime.setDevice(previous) } }
        return try body()
    }
}
