import CCUDA

/// What a CUDA device is: its name, memory, compute capability and size (PyTorch's
/// `torch.cuda.get_device_properties`).
///
/// ```swift
/// let p = try CUDA.properties(of: 0)
/// p.name                  // "NVIDIA H100 80GB HBM3"
/// p.computeCapability     // (major: 9, minor: 0)
/// ```
public struct CUDADeviceProperties: Sendable, CustomStringConvertible {
    /// The device ordinal (`cuda:index`).
    public let index: Int
    /// The marketing name, for example "NVIDIA H100 80GB HBM3".
    public let name: String
    /// The device's global memory in bytes.
    public let totalMemory: Int
    /// The compute capability (the `XY` in `sm_XY`), for example `(9, 0)` for Hopper.
    public let computeCapability: (major: Int, minor: Int)
    /// The number of streaming multiprocessors (SMs).
    public let multiprocessorCount: Int
    /// The most threads a block may have.
    public let maxThreadsPerBlock: Int
    /// The number of threads in a warp.
    public let warpSize: Int
    /// Shared memory a block may use without opting in, in bytes.
    public let sharedMemoryPerBlock: Int

    /// The architecture number NVRTC targets: `10 * major + minor` (90 for `sm_90`).
    var architecture: Int { computeCapability.major * 10 + computeCapability.minor }

    /// `NVIDIA H100 80GB HBM3 (cuda:0, sm_90, 132 SMs, 79.19 GiB)`.
    public var description: String {
        "\(name) (cuda:\(index), sm_\(architecture), \(multiprocessorCount) SMs, "
            + "\(CUDAError.formatBytes(totalMemory)))"
    }
}

/// Device properties, queried once per device.
final class CUDAPropertiesCache: @unchecked Sendable {
    // @unchecked Sendable: `cache` is only read and written while holding `lock`.
    private let lock = CUDALock()
    private var cache: [Int: CUDADeviceProperties] = [:]

    func properties(of index: Int) throws -> CUDADeviceProperties {
        if let cached = lock.withLock({ cache[index] }) { return cached }
        func attribute(_ attribute: Int32) throws -> Int {
            try CUDARuntime.deviceAttribute(attribute, device: index)
        }
        let properties = CUDADeviceProperties(
            index: index,
            name: try CUDARuntime.deviceName(index),
            totalMemory: try CUDARuntime.deviceTotalMemory(index),
            computeCapability: (try attribute(CCUDA_DEV_ATTR_COMPUTE_CAPABILITY_MAJOR),
                                try attribute(CCUDA_DEV_ATTR_COMPUTE_CAPABILITY_MINOR)),
            multiprocessorCount: try attribute(CCUDA_DEV_ATTR_MULTIPROCESSOR_COUNT),
            maxThreadsPerBlock: try attribute(CCUDA_DEV_ATTR_MAX_THREADS_PER_BLOCK),
            warpSize: try attribute(CCUDA_DEV_ATTR_WARP_SIZE),
            sharedMemoryPerBlock: try attribute(CCUDA_DEV_ATTR_MAX_SHARED_MEMORY_PER_BLOCK))
        lock.withLock { cache[index] = properties }
        return properties
    }
}

extension CUDA {
    static let propertiesCache = CUDAPropertiesCache()
}
