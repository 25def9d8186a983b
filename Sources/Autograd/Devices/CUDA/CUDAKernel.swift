import CCUDA

/// A value for one kernel parameter, in declaration order.
enum CUDAKernelArgument {
    case pointer(UnsafeRawPointer?)
    case int32(Int32)
    case int64(Int64)
    case float(Float)
    case double(Double)
    /// A struct passed by value: its bytes, laid out as the kernel's C declaration (8-byte
    /// aligned, as every struct the backend passes is made of 64-bit fields).
    case bytes([UInt8])

    /// The bytes the parameter occupies in the argument buffer (a multiple of 8).
    var slotBytes: Int {
        if case let .bytes(value) = self { return max(8, (value.count + 7) / 8 * 8) }
        return 8
    }
}

/// A kernel image loaded with `cudaLibraryLoadData`, which is context-independent: one load
/// serves every device. Unloaded when the last reference goes.
final class CUDAModule: @unchecked Sendable {
    // @unchecked Sendable: `handle` and `binary` are immutable (CUDA's library calls are
    // thread-safe); `kernels` is only touched while holding `lock`.
    let handle: OpaquePointer
    let binary: CUDAKernelBinary
    private let lock = CUDALock()
    private var kernels: [String: OpaquePointer] = [:]

    /// Loads `binary`.
    ///
    /// - Throws: `CUDAError.apiCall` naming `cudaLibraryLoadData` (for example
    ///   `cudaErrorUnsupportedPtxVersion` for PTX newer than the driver), or
    ///   `.missingFunction` for a libcudart older than 12.x's library API.
    init(binary: CUDAKernelBinary) throws {
        precondition(!binary.bytes.isEmpty, "CUDAModule: empty kernel image")
        self.binary = binary
        handle = try binary.bytes.withUnsafeBytes { image in
            // Non-empty (checked above), so baseAddress is not nil.
            try CUDARuntime.libraryLoadData(image.baseAddress!)
        }
    }

    deinit {
        try? CUDARuntime.libraryUnload(handle)
    }

    /// The `extern "C"` kernel `name` in this image (looked up once).
    ///
    /// - Throws: `CUDAError.apiCall` naming `cudaLibraryGetKernel` when there is no such kernel.
    func kernel(named name: String) throws -> CUDAKernel {
        let handle = try lock.withLock {
            if let kernel = kernels[name] { return kernel }
            let kernel = try CUDARuntime.libraryGetKernel(self.handle, name: name)
            kernels[name] = kernel
            return kernel
        }
        return CUDAKernel(name: name, handle: handle, module: self)
    }
}

/// A kernel ready to launch on any device.
struct CUDAKernel: @unchecked Sendable {
    // @unchecked Sendable: `handle` is an immutable CUDA handle, valid while `module` (held
    // here) is loaded.
    let name: String
    let handle: OpaquePointer
    let module: CUDAModule

    /// Queues the kernel on device `device`'s default stream.
    ///
    /// - Throws: `CUDAError.apiCall` naming `cudaLaunchKernel` (bad configuration, too many
    ///   resources, ...). Faults inside the kernel surface later, at a synchronising call.
    /// - Precondition: Every grid and block dimension is in `1...UInt32.max`.
    func launch(grid: (x: Int, y: Int, z: Int), block: (x: Int, y: Int, z: Int),
                sharedMemoryBytes: Int = 0, arguments: [CUDAKernelArgument], device: Int) throws {
        func dimension(_ value: Int, _ what: String) -> UInt32 {
            precondition(value >= 1 && value <= Int(UInt32.max),
                         "CUDAKernel.launch(\(name)): \(what) dimension \(value) out of range")
            return UInt32(value)
        }
        let gridDim = ccuda_dim3(x: dimension(grid.x, "grid"), y: dimension(grid.y, "grid"),
                                 z: dimension(grid.z, "grid"))
        let blockDim = ccuda_dim3(x: dimension(block.x, "block"), y: dimension(block.y, "block"),
                                  z: dimension(block.z, "block"))
        let count = max(arguments.count, 1)
        let words = max(arguments.reduce(0) { $0 + $1.slotBytes } / 8, 1)
        try withUnsafeTemporaryAllocation(of: UInt64.self, capacity: words) { slots in
            try withUnsafeTemporaryAllocation(of: UnsafeMutableRawPointer?.self, capacity: count) { pointers in
                // Each parameter's value sits in its own 8-byte-aligned slot; CUDA reads it through
                // the slot's address during cudaLaunchKernel. `words >= 1` and `count >= 1`, so
                // both base addresses are not nil.
                var slot = UnsafeMutableRawPointer(slots.baseAddress!)
                for (i, argument) in arguments.enumerated() {
                    switch argument {
                    case let .pointer(value): slot.storeBytes(of: value, as: UnsafeRawPointer?.self)
                    case let .int32(value): slot.storeBytes(of: value, as: Int32.self)
                    case let .int64(value): slot.storeBytes(of: value, as: Int64.self)
                    case let .float(value): slot.storeBytes(of: value, as: Float.self)
                    case let .double(value): slot.storeBytes(of: value, as: Double.self)
                    case let .bytes(value):
                        value.withUnsafeBytes { raw in
                            if let base = raw.baseAddress { slot.copyMemory(from: base, byteCount: raw.count) }
                        }
                    }
                    pointers[i] = slot
                    slot += argument.slotBytes
                }
                try CUDA.withDevice(device) {
                    try withExtendedLifetime(module) {
                        try CUDARuntime.launchKernel(handle, grid: gridDim, block: blockDim,
                                                     arguments: pointers.baseAddress,
                                                     sharedMemoryBytes: sharedMemoryBytes)
                    }
                }
            }
        }
    }
}

/// Kernels by source and device architecture: compiled (through `CUDAKernelCache`) and loaded
/// once per process.
final class CUDAKernelRegistry: @unchecked Sendable {
    // @unchecked Sendable: `modules` is only touched while holding `lock`.
    static let shared = CUDAKernelRegistry()

    private struct ModuleKey: Hashable {
        var source: String
        var deviceArchitecture: Int
        var options: [String]
    }

    private let lock = CUDALock()
    private var modules: [ModuleKey: CUDAModule] = [:]

    /// The `extern "C"` kernel `name` defined in `source`, compiled for device `device`.
    ///
    /// A source defining several kernels is compiled and loaded once: the module is looked up
    /// by source, architecture and options before compiling.
    ///
    /// - Parameters:
    ///   - name: The kernel.
    ///   - source: CUDA C source defining it.
    ///   - module: The source's name in compiler messages and the disk cache's key (the
    ///     kernel's name by default); give the same one for every kernel of a source.
    ///   - device: The device ordinal.
    ///   - options: Extra NVRTC options.
    /// - Throws: The errors of `CUDA.properties(of:)`, `CUDAKernelCompiler.compile` and
    ///   `CUDAModule`.
    func kernel(named name: String, source: String, module: String? = nil, device: Int,
                options: [String] = []) throws -> CUDAKernel {
        let architecture = try CUDA.properties(of: device).architecture
        let key = ModuleKey(source: source, deviceArchitecture: architecture, options: options)
        if let loaded = lock.withLock({ modules[key] }) { return try loaded.kernel(named: name) }
        let binary = try CUDAKernelCompiler.compile(source: source, name: module ?? name,
                                                    deviceArchitecture: architecture, options: options)
        let loaded = try lock.withLock {
            if let loaded = modules[key] { return loaded }
            let loaded = try CUDAModule(binary: binary)
            modules[key] = loaded
            return loaded
        }
        return try loaded.kernel(named: name)
    }
}
