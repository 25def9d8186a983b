/// The CUDA backend of one device: memory from the caching allocator, kernels from
/// `CUDAKernelSources` compiled by NVRTC on first use, matrix products through cuBLAS.
///
/// All work is queued on the device's default stream, so kernels run in the order they are
/// launched and a freed block can be handed out again at once (see `CUDAAllocator`). Launches
/// return before the kernel finishes; a transfer to the host waits for it.
///
/// The `DeviceBackend` protocol's kernel entry points do not throw, so a failure there (a
/// launch rejected by the driver, a kernel NVRTC refuses, which tests rule out for the
/// shipped sources) traps with CUDA's error; transfers to and from the host and allocation
/// throw `CUDAError`.
final class CUDABackend: DeviceBackend, @unchecked Sendable {
    // @unchecked Sendable: `device`, `ordinal` and `multiprocessorCount` are immutable;
    // `kernels` is only touched while holding `lock`.

    /// The device this backend serves.
    let device: Device
    /// The device's CUDA ordinal.
    let ordinal: Int
    /// The device's streaming multiprocessors (sizes grids).
    let multiprocessorCount: Int

    private let lock = CUDALock()
    private var kernels: [String: CUDAKernel] = [:]

    private init(ordinal: Int, properties: CUDADeviceProperties) {
        self.ordinal = ordinal
        device = .cuda(ordinal)
        multiprocessorCount = max(properties.multiprocessorCount, 1)
    }

    // MARK: - One backend per device

    private final class Registry: @unchecked Sendable {
        // @unchecked Sendable: `backends` is only touched while holding `lock`.
        let lock = CUDALock()
        var backends: [Int: CUDABackend] = [:]
    }
    private static let registry = Registry()

    /// The backend of CUDA device `index`, created on first use.
    ///
    /// - Throws: The errors of `CUDA.properties(of:)` (CUDA unavailable, no such device).
    static func backend(device index: Int) throws -> CUDABackend {
        try registry.lock.withLock {
            if let backend = registry.backends[index] { return backend }
            let backend = CUDABackend(ordinal: index, properties: try CUDA.properties(of: index))
            registry.backends[index] = backend
            return backend
        }
    }

    /// Whether matrix products of float32 and float64 use cuBLAS when it loads (else the tiled
    /// kernel). `AUTOGRAD_CUDA_DISABLE_CUBLAS=1` turns it off for the process.
    static let cuBLASEnabled: Bool = {
        guard let value = getenv("AUTOGRAD_CUDA_DISABLE_CUBLAS") else { return true }
        return String(cString: value) != "1"
    }()

    // MARK: - Memory

    func allocate(byteCount: Int) throws -> UnsafeMutableRawPointer {
        try CUDAAllocator.shared.allocate(byteCount: byteCount, device: ordinal)
    }

    func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        CUDAAllocator.shared.free(pointer, device: ordinal)
    }

    func copyToHost(_ source: Tensor, _ destination: UnsafeMutableRawPointer) throws {
        precondition(source.isContiguous, "CUDA copyToHost: the source must be contiguous")
        let size = source.dtype.byteCount
        try CUDA.copyDeviceToHost(from: source.storage.pointer + source.offset * size, to: destination,
                                  byteCount: source.count * size, device: ordinal)
    }

    func copyFromHost(_ source: UnsafeRawPointer, into destination: Tensor) throws {
        precondition(destination.isContiguous, "CUDA copyFromHost: the destination must be contiguous")
        let size = destination.dtype.byteCount
        try CUDA.copyHostToDevice(from: source, to: destination.storage.pointer + destination.offset * size,
                                  byteCount: destination.count * size, device: ordinal)
    }

    // MARK: - Kernels

    /// Kernel `name` of module `module`, compiled and loaded on first use.
    func kernel(_ name: String, module: String) -> CUDAKernel {
        if let kernel = lock.withLock({ kernels[name] }) { return kernel }
        let kernel = succeed("loading kernel \(name)") {
            try CUDAKernelRegistry.shared.kernel(named: name, source: CUDAKernelSources.source(module: module),
                                                 module: module, device: ordinal)
        }
        lock.withLock { kernels[name] = kernel }
        return kernel
    }

    /// Queues `kernel`.
    func launch(_ kernel: CUDAKernel, grid: (x: Int, y: Int, z: Int), block: (x: Int, y: Int, z: Int),
                _ arguments: [CUDAKernelArgument]) {
        succeed("launching \(kernel.name)") {
            try kernel.launch(grid: grid, block: block, arguments: arguments, device: ordinal)
        }
    }

    /// Runs a CUDA call from a non-throwing entry point, trapping with CUDA's error.
    @discardableResult
    func succeed<Result>(_ what: String, _ body: () throws -> Result) -> Result {
        do {
            return try body()
        } catch {
            preconditionFailure("CUDA backend on \(device): \(what) failed: \(error)")
        }
    }

    /// Blocks for an elementwise launch over `work` items: enough to fill the device many
    /// times over, each thread looping when there are more.
    func elementwiseBlocks(work: Int) -> Int {
        let threads = CUDAKernelSources.threadsPerBlock
        return max(1, min((work + threads - 1) / threads, multiprocessorCount * 32))
    }

    /// Launches an elementwise kernel over `layout` (operand 0 the output) with the tensors'
    /// storage pointers, after `extra` arguments; splits layouts with too many dims.
    func launchElementwise(_ kernel: CUDAKernel, layout: CUDAStridedLayout, tensors: [Tensor],
                           extra: [CUDAKernelArgument] = [], broadcastInputs: Bool = true) {
        guard layout.count > 0 else { return }
        let sizes = tensors.map { $0.dtype.byteCount }
        let bases = tensors.map { UnsafeRawPointer($0.storage.pointer) }
        for slice in layout.slices(maxRank: CUDAKernelSources.maxDims) {
            let mode = slice.mode(elementSizes: sizes, bases: bases, broadcastInputs: broadcastInputs)
            let work = mode == .vector ? max(slice.count / (16 / (sizes.max() ?? 16)), 1) : slice.count
            launch(kernel, grid: (elementwiseBlocks(work: work), 1, 1), block: (CUDAKernelSources.threadsPerBlock, 1, 1),
                   [.bytes(slice.packed(mode: mode))] + bases.map { .pointer($0) } + extra)
        }
    }

    /// Traps unless every tensor lives on this backend's device.
    func checkDevice(_ tensors: Tensor..., op: String) {
        for t in tensors {
            precondition(t.device == device, "CUDA \(op): a tensor on \(t.device) reached the backend of \(device)")
        }
    }

    // MARK: - Copy and fill

    func copy(_ source: Tensor, into destination: Tensor) {
        checkDevice(source, destination, op: "copy")
        guard destination.count > 0 else { return }
        if source.dtype == destination.dtype && source.shape == destination.shape
            && source.isContiguous && destination.isContiguous {
            let size = source.dtype.byteCount
            succeed("copying \(source.count * size) bytes") {
                try CUDA.copyDeviceToDevice(from: source.storage.pointer + source.offset * size,
                                            to: destination.storage.pointer + destination.offset * size,
                                            byteCount: source.count * size, device: ordinal)
            }
            return
        }
        let layout = CUDAStridedLayout(shape: destination.shape, operands: [
            (destination.strides, destination.offset), source.operand(over: destination.shape),
        ])
        let kernel = source.dtype == destination.dtype
            ? self.kernel("ag_memory_copy_\(source.dtype.byteCount)", module: "memory")
            : self.kernel("ag_cast_\(source.dtype)_to_\(destination.dtype)", module: "cast_\(source.dtype)")
        launchElementwise(kernel, layout: layout, tensors: [destination, source])
    }

    func fill(_ destination: Tensor, with value: Scalar) {
        checkDevice(destination, op: "fill")
        guard destination.count > 0 else { return }
        let size = destination.dtype.byteCount
        let bits = destination.dtype.visit(ScalarBits(value: value))
        if bits == 0 && destination.isContiguous {
            succeed("clearing \(destination.count * size) bytes") {
                try CUDA.withDevice(ordinal) {
                    try CUDARuntime.memsetAsync(destination.storage.pointer + destination.offset * size, value: 0,
                                                byteCount: destination.count * size)
                }
            }
            return
        }
        let layout = CUDAStridedLayout(shape: destination.shape, operands: [(destination.strides, destination.offset)])
        launchElementwise(kernel("ag_memory_fill_\(size)", module: "memory"), layout: layout,
                          tensors: [destination], extra: [.int64(Int64(bitPattern: bits))])
    }

    /// The bit pattern of a scalar converted to a dtype, in the low bytes of a UInt64.
    private struct ScalarBits: ElementVisitor {
        let value: Scalar
        func visit<T: Element>(_: T.Type) -> UInt64 {
            let converted = value.value(as: T.self)
            var bits: UInt64 = 0
            withUnsafeBytes(of: converted) { source in
                withUnsafeMutableBytes(of: &bits) { $0.copyMemory(from: source) }
            }
            return bits
        }
    }

    // MARK: - Elementwise

    func unary(_ op: UnaryOp, _ x: Tensor, into out: Tensor) {
        checkDevice(x, out, op: "unary \(op)")
        guard CUDAKernelSources.expression(op, x.dtype) != nil else {
            preconditionFailure("CUDA unary \(op) is not defined for \(x.dtype) tensors")
        }
        let layout = CUDAStridedLayout(shape: out.shape, operands: [(out.strides, out.offset), x.operand(over: out.shape)])
        let name = "ag_unary_\(x.dtype)_\(CUDAKernelSources.name(op))"
        launchElementwise(kernel(name, module: "unary_\(x.dtype)"), layout: layout, tensors: [out, x])
    }

    func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into out: Tensor) {
        checkDevice(a, b, out, op: "binary \(op)")
        precondition(a.dtype == b.dtype, "CUDA binary \(op): operands of \(a.dtype) and \(b.dtype)")
        guard CUDAKernelSources.expression(op, a.dtype) != nil else {
            preconditionFailure("CUDA \(op) is not defined for \(a.dtype) tensors")
        }
        let layout = CUDAStridedLayout(shape: out.shape, operands: [
            (out.strides, out.offset), a.operand(over: out.shape), b.operand(over: out.shape),
        ])
        let name = "ag_binary_\(a.dtype)_\(CUDAKernelSources.name(op))"
        launchElementwise(kernel(name, module: "binary_\(a.dtype)"), layout: layout, tensors: [out, a, b])
    }

    func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor, into out: Tensor) {
        checkDevice(condition, a, b, out, op: "where")
        precondition(condition.dtype == .bool && a.dtype == out.dtype && b.dtype == out.dtype,
                     "CUDA where: condition \(condition.dtype), operands \(a.dtype) and \(b.dtype), output \(out.dtype)")
        let layout = CUDAStridedLayout(shape: out.shape, operands: [
            (out.strides, out.offset), condition.operand(over: out.shape),
            a.operand(over: out.shape), b.operand(over: out.shape),
        ])
        launchElementwise(kernel("ag_memory_select_\(out.dtype.byteCount)", module: "memory"), layout: layout,
                          tensors: [out, condition, a, b])
    }
}

import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Compiling every kernel up front

extension CUDA {
    /// Compiles every kernel of the CUDA backend for device `index` (or loads it from the
    /// kernel cache), several modules at once, so that no op pays for NVRTC on first use.
    ///
    /// Optional: kernels are otherwise compiled when an op first needs them. Useful before
    /// timing, or once after installing a new driver.
    ///
    /// - Parameter index: A device ordinal; the first device by default.
    /// - Returns: The number of kernel modules now loaded.
    /// - Throws: The errors of `checkAvailable(device:)`; the first `CUDAError` of a module that
    ///   failed to compile or load.
    /// - Complexity: One NVRTC compilation per module not yet in the disk cache (about a second
    ///   each), spread over the CPU's cores.
    @discardableResult
    public static func compileKernels(device index: Int = 0) throws -> Int {
        try checkAvailable(device: index)
        let modules = CUDAKernelSources.all.keys.sorted()
        let failures = CUDACompileFailures()
        DispatchQueue.concurrentPerform(iterations: modules.count) { i in
            let module = modules[i]
            do {
                guard let name = CUDAKernelSources.kernelNames(module: module).first else { return }
                _ = try CUDAKernelRegistry.shared.kernel(named: name, source: CUDAKernelSources.source(module: module),
                                                         module: module, device: index)
            } catch {
                failures.lock.withLock { failures.errors.append(error) }
            }
        }
        if let error = failures.lock.withLock({ failures.errors.first }) { throw error }
        return modules.count
    }
}

/// Errors collected by `CUDA.compileKernels`.
private final class CUDACompileFailures: @unchecked Sendable {
    // @unchecked Sendable: `errors` is only touched while holding `lock`.
    let lock = CUDALock()
    var errors: [any Error] = []
}
