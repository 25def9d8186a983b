#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

// MARK: - Uninitialized and filled

extension Tensor {
    /// A tensor of `shape` whose elements are not initialized (PyTorch's `empty`): write
    /// before reading. Default dtype float32.
    /// - Precondition: dims are non-negative.
    /// - Complexity: allocates; does not touch the elements.
    public static func empty(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu, requiresGrad: Bool = false) -> Tensor {
        check { () throws(ShapeError) in try validateShapeAndCount(shape, Shape.count(shape), op: "empty") }
        let t = Tensor(uninitializedShape: shape, dtype: dtype, device: device)
        if requiresGrad { t.requiresGrad = true }
        return t
    }

    /// An uninitialized tensor with `other`'s shape, and its dtype and device unless given.
    public static func empty(like other: Tensor, dtype: DType? = nil, device: Device? = nil, requiresGrad: Bool = false) -> Tensor {
        empty(other.shape, dtype: dtype ?? other.dtype, device: device ?? other.device, requiresGrad: requiresGrad)
    }

    /// `value` in every element, with `other`'s shape and its dtype and device unless given
    /// (PyTorch's `full_like`).
    public static func full(like other: Tensor, value: Double, dtype: DType? = nil, device: Device? = nil, requiresGrad: Bool = false) -> Tensor {
        full(other.shape, value: value, dtype: dtype ?? other.dtype, device: device ?? other.device, requiresGrad: requiresGrad)
    }

    /// `[start, start + step, …]` below `end` for integers, exactly (no rounding through
    /// Double); dtype int64 unless given.
    ///
    /// ```swift
    /// Tensor.arange(2, 10, step: 3)   // [2, 5, 8]
    /// ```
    /// - Precondition: `step` is nonzero and has the sign of `end - start`.
    public static func arange(_ start: Int, _ end: Int, step: Int = 1, dtype: DType = .int64, device: Device = .cpu) -> Tensor {
        check { () throws(ShapeError) in try validateArange(Double(start), Double(end), Double(step)) }
        let n = step > 0 ? Swift.max(0, (end - start + step - 1) / step) : Swift.max(0, (start - end - step - 1) / -step)
        if dtype.isFloatingPoint {
            return Tensor.sequence(n, dtype: dtype) { Double(start) + Double($0) * Double(step) }.to(device: device)
        }
        return Tensor.integerSequence(n, start: Int64(start), step: Int64(step)).convertedWithoutGrad(to: dtype).to(device: device)
    }

    /// Validates arange's bounds and step.
    static func validateArange(_ start: Double, _ end: Double, _ step: Double) throws(ShapeError) {
        guard step != 0 else { throw ShapeError("arange: step must be nonzero") }
        guard start.isFinite && end.isFinite else { throw ShapeError("arange: unsupported range: \(start) -> \(end)") }
        guard (end - start) / step >= 0 || start == end else {
            throw ShapeError("arange: upper bound and larger bound inconsistent with step sign (start \(start), end \(end), step \(step))")
        }
    }

    /// `count` values spaced evenly on a log scale: `base^linspace(start, end, count)`
    /// (PyTorch's `logspace`). Default dtype float32.
    /// - Precondition: `count >= 0`.
    public static func logspace(_ start: Double, _ end: Double, count: Int, base: Double = 10,
                                dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        check { () throws(ShapeError) in
            guard count >= 0 else { throw ShapeError("logspace: number of steps must be non-negative (got \(count))") }
        }
        let exponents = Tensor.linspace(start, end, count: count, dtype: .float64).scalars(as: Double.self)
        let values = exponents.map { libmPow(base, $0) }
        return Tensor.fromScalars(shape: [count], scalars: values, dtype: .float64).convertedWithoutGrad(to: dtype).to(device: device)
    }

    /// The `n × m` identity matrix (ones on the diagonal; `m` defaults to `n`). Default dtype float32.
    /// - Precondition: `n` and `m` are non-negative.
    public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .float32, device: Device = .cpu, requiresGrad: Bool = false) -> Tensor {
        let cols = m ?? n
        check { () throws(ShapeError) in
            guard n >= 0 && cols >= 0 else { throw ShapeError("eye: n and m must be non-negative (got \(n) and \(cols))") }
        }
        var values = [Bool](repeating: false, count: n * cols)
        for i in 0..<Swift.min(n, cols) { values[i * cols + i] = true }
        let t = Tensor.fromScalars(shape: [n, cols], scalars: values, dtype: .bool).convertedWithoutGrad(to: dtype).to(device: device)
        if requiresGrad { t.requiresGrad = true }
        return t
    }
}

// MARK: - Random

/// Reseeds the default generator, `Generator.default` (PyTorch's `torch.manual_seed`).
public func manualSeed(_ seed: UInt64) {
    Generator.default.manualSeed(seed)
}

extension Generator {
    /// `count` integers uniform in `[low, high)`, by the multiply-high method (no modulo bias
    /// beyond 2⁻⁶⁴ per value).
    func integers(_ count: Int, low: Int64, high: Int64) -> [Int64] {
        let range = UInt64(bitPattern: high &- low)
        return next(count).map { raw in low &+ Int64(bitPattern: raw.multipliedFullWidth(by: range).high) }
    }
}

extension Tensor {
    /// Integers drawn uniformly from `[low, high)` (PyTorch's `randint`). Default dtype int64.
    /// On a CUDA device they are drawn there (Philox; see `Generator`).
    /// - Parameters:
    ///   - seed: when given, a fresh generator with this seed; else `generator`, else
    ///     `Generator.default`.
    /// - Precondition: `low < high`; dims non-negative.
    public static func randint(_ low: Int, _ high: Int, _ shape: [Int], dtype: DType = .int64, seed: UInt64? = nil,
                               generator: Generator? = nil, device: Device = .cpu) -> Tensor {
        check { () throws(ShapeError) in
            guard low < high else { throw ShapeError("randint: expected low < high, but got low = \(low), high = \(high)") }
            try validateShapeAndCount(shape, Shape.count(shape), op: "randint")
        }
        let g = Generator.resolve(seed: seed, generator)
        if device.kind == .cuda {
            return cudaRandomIntegers(low: Int64(low), high: Int64(high), shape: shape, dtype: dtype, generator: g, device: device)
        }
        let values = g.integers(Shape.count(shape), low: Int64(low), high: Int64(high))
        return Tensor.fromScalars(shape: shape, scalars: values, dtype: .int64).convertedWithoutGrad(to: dtype).to(device: device)
    }

    /// Integers uniform in `[0, high)`. Default dtype int64.
    /// - Precondition: `high > 0`.
    public static func randint(_ high: Int, _ shape: [Int], dtype: DType = .int64, seed: UInt64? = nil,
                               generator: Generator? = nil, device: Device = .cpu) -> Tensor {
        randint(0, high, shape, dtype: dtype, seed: seed, generator: generator, device: device)
    }

    /// Draws 1 with probability `probabilities[i]` and 0 otherwise, elementwise (PyTorch's
    /// `bernoulli`); the result has the probabilities' shape, dtype and device. Not differentiable.
    /// On a CUDA device the draws are made there (Philox; see `Generator`).
    /// - Precondition: a floating tensor with every value in `[0, 1]`.
    public static func bernoulli(_ probabilities: Tensor, seed: UInt64? = nil, generator: Generator? = nil) -> Tensor {
        let g = Generator.resolve(seed: seed, generator)
        if probabilities.device.kind == .cuda { return cudaBernoulli(probabilities, generator: g) }
        let p = probabilities.to(.float64).scalars(as: Double.self)
        check { () throws(ShapeError) in try validateBernoulli(probabilities, p) }
        let u = g.uniform(p.count)
        let values = zip(u, p).map { $0 < $1 ? 1.0 : 0.0 }
        return Tensor.fromScalars(shape: probabilities.shape, scalars: values, dtype: .float64)
            .convertedWithoutGrad(to: probabilities.dtype).to(device: probabilities.device)
    }

    /// Ones with probability `p`, zeros otherwise, of `shape`. Default dtype float32.
    /// - Precondition: `0 <= p <= 1`; dims non-negative.
    public static func bernoulli(_ shape: [Int], p: Double, dtype: DType = .float32, seed: UInt64? = nil,
                                 generator: Generator? = nil, device: Device = .cpu) -> Tensor {
        bernoulli(full(shape, value: p, dtype: dtype.isFloatingPoint ? dtype : .float64, device: device), seed: seed, generator: generator)
            .convertedWithoutGrad(to: dtype)
    }

    static func validateBernoulli(_ probabilities: Tensor, _ values: [Double]) throws(ShapeError) {
        guard probabilities.dtype.isFloatingPoint else {
            throw ShapeError("bernoulli: expected a floating tensor of probabilities (got \(probabilities.dtype))")
        }
        if let bad = values.first(where: { !($0 >= 0 && $0 <= 1) }) {
            throw ShapeError("bernoulli: expected all probabilities to be in [0, 1] (got \(bad))")
        }
    }

    /// Uniform samples in [0, 1) with `other`'s shape, and its dtype and device unless given.
    public static func rand(like other: Tensor, dtype: DType? = nil, seed: UInt64? = nil, generator: Generator? = nil) -> Tensor {
        rand(other.shape, dtype: dtype ?? other.dtype, seed: seed, generator: generator, device: other.device)
    }

    /// Standard normal samples with `other`'s shape, and its dtype and device unless given.
    public static func randn(like other: Tensor, dtype: DType? = nil, seed: UInt64? = nil, generator: Generator? = nil) -> Tensor {
        randn(other.shape, dtype: dtype ?? other.dtype, seed: seed, generator: generator, device: other.device)
    }
}
private func libmPow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
