// Random numbers on CUDA: Philox4x32-10 (the `random` module, CUDAKernelSources+Indexing.swift)
// keyed by the generator's seed, with the generator's device call counter as the offset
// (PyTorch's `philox_cuda_state`). Samples are made on the device; nothing goes through the host.

/// The distributions the device random kernels draw from.
enum RandomDistribution: Sendable {
    /// Uniform in [0, 1).
    case uniform
    /// Standard normal (Box–Muller).
    case normal
}

extension CUDABackend {
    /// Fills the contiguous float32 or float64 `out` with samples of `distribution`, from
    /// Philox keyed by `seed` at call offset `offset`.
    func random(_ distribution: RandomDistribution, into out: Tensor, seed: UInt64, offset: UInt64) {
        checkDevice(out, op: "random")
        precondition(out.isContiguous && (out.dtype == .float32 || out.dtype == .float64),
                     "CUDA random: a contiguous float32 or float64 output expected (got \(out.dtype))")
        guard out.count > 0 else { return }
        let perBlock = out.dtype == .float32 ? 4 : 2
        let name = "ag_random_\(distribution == .uniform ? "uniform" : "normal")_\(out.dtype)"
        launch(kernel(name, module: "random"),
               grid: (elementwiseBlocks(work: (out.count + perBlock - 1) / perBlock), 1, 1),
               block: (CUDAKernelSources.threadsPerBlock, 1, 1),
               [.pointer(out.storage.pointer + out.offset * out.dtype.byteCount), .int64(Int64(out.count)),
                .int64(Int64(bitPattern: seed)), .int64(Int64(bitPattern: offset))])
    }
}

extension CUDABackend {
    /// Fills the contiguous int64 `out` with integers uniform in `[low, low + range)` (range
    /// as an unsigned 64-bit count), from Philox keyed by `seed` at call offset `offset`.
    func randomIntegers(into out: Tensor, low: Int64, range: UInt64, seed: UInt64, offset: UInt64) {
        checkDevice(out, op: "randint")
        precondition(out.isContiguous && out.dtype == .int64, "CUDA randint: a contiguous int64 output expected (got \(out.dtype))")
        guard out.count > 0 else { return }
        launch(kernel("ag_random_integers_int64", module: "random"),
               grid: (elementwiseBlocks(work: (out.count + 1) / 2), 1, 1), block: (CUDAKernelSources.threadsPerBlock, 1, 1),
               [.pointer(out.storage.pointer + out.offset * 8), .int64(Int64(out.count)), .int64(Int64(bitPattern: seed)),
                .int64(Int64(bitPattern: offset)), .int64(low), .int64(Int64(bitPattern: range))])
    }
}

extension Tensor {
    /// Integers uniform in `[low, high)` made on CUDA device `device` from `generator`'s
    /// Philox state (as `cudaRandom`), converted to `dtype` there.
    static func cudaRandomIntegers(low: Int64, high: Int64, shape: [Int], dtype: DType, generator: Generator,
                                   device: Device) -> Tensor {
        guard let backend = Backends.backend(for: device) as? CUDABackend else {
            preconditionFailure("cudaRandomIntegers: \(device) is not a CUDA device")
        }
        let out = Tensor(uninitializedShape: shape, dtype: .int64, device: device)
        let state = generator.nextPhiloxState()
        backend.randomIntegers(into: out, low: low, range: UInt64(bitPattern: high &- low), seed: state.seed, offset: state.offset)
        return dtype == .int64 ? out : out.convertedWithoutGrad(to: dtype)
    }

    /// Samples of `distribution` made on CUDA device `device` from `generator`'s Philox
    /// state (its seed, and a call counter that this call advances): float32 for every
    /// floating dtype but float64, converted to `dtype` on the device.
    ///
    /// The numbers differ from the CPU's for the same seed (as PyTorch's CPU and CUDA streams
    /// do), but are the same on every CUDA device and launch shape for a seed and call count.
    static func cudaRandom(_ distribution: RandomDistribution, shape: [Int], dtype: DType, generator: Generator,
                           device: Device) -> Tensor {
        guard let backend = Backends.backend(for: device) as? CUDABackend else {
            preconditionFailure("cudaRandom: \(device) is not a CUDA device")
        }
        let compute: DType = dtype == .float64 ? .float64 : .float32
        let out = Tensor(uninitializedShape: shape, dtype: compute, device: device)
        let state = generator.nextPhiloxState()
        backend.random(distribution, into: out, seed: state.seed, offset: state.offset)
        return compute == dtype ? out : out.convertedWithoutGrad(to: dtype)
    }
}

extension Tensor {
    /// `bernoulli` on a CUDA device: uniform float64 draws compared with the probabilities
    /// there. The range check is a device reduction; only a failing tensor is read back (to
    /// name the offending value as the CPU path does).
    static func cudaBernoulli(_ probabilities: Tensor, generator: Generator) -> Tensor {
        let p = probabilities.detached()
        check { () throws(ShapeError) in
            try validateBernoulli(p, [])
            let inRange = withNoGrad { (p .>= 0.0).logicalAnd(p .<= 1.0).all() }.item() != 0
            if !inRange { try validateBernoulli(p, p.to(.float64).scalars(as: Double.self)) }
        }
        let p64 = p.dtype == .float64 ? p : p.convertedWithoutGrad(to: .float64)
        let u = cudaRandom(.uniform, shape: p.shape, dtype: .float64, generator: generator, device: p.device)
        return withNoGrad { u .< p64 }.convertedWithoutGrad(to: p.dtype)
    }
}
