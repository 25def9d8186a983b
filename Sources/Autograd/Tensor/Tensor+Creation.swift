import Synchronization

// MARK: - From Swift values

extension Tensor {
    /// Creates a tensor from a Swift scalar or (nested) array, with PyTorch's dtype rules:
    /// `Int` → `.int64`, floating → `.float32`, `Int32` → `.int32`, `Bool` → `.bool`;
    /// `dtype` overrides.
    ///
    /// ```swift
    /// let a = Tensor([[1, 2], [3, 4]])            // shape [2, 2], int64
    /// let s = Tensor(5.0, requiresGrad: true)     // 0-d float32 leaf
    /// ```
    /// - Precondition: nested arrays are rectangular; `requiresGrad` only with a floating dtype.
    /// - Complexity: O(n), copies the elements.
    public init<L: TensorLiteralConvertible>(_ value: L, dtype: DType? = nil, requiresGrad: Bool = false) {
        // A floating scalar into a float32/float64 tensor (`Tensor(5.0, requiresGrad: true)`):
        // one 0-d allocation, the same rounding as the general path's float64 conversion.
        // (A metadata comparison instead of `as? Double`, a dynamic cast through the runtime.)
        if L.self == Double.self, dtype == nil || dtype == .float32 || dtype == .float64 {
            let d = unsafeBitCast(value, to: Double.self)  // L is Double: checked above
            self = Tensor(scalar: .double(d), dtype: dtype ?? .float32)
            if requiresGrad { self.requiresGrad = true }
            return
        }
        var shape: [Int] = []
        var buffer = TensorLiteralBuffer()
        value.appendTensorLiteral(shape: &shape, depth: 0, into: &buffer)
        let literal = L.literalDType
        let target = dtype ?? literal
        let t: Tensor
        if literal.isFloatingPoint {
            t = Tensor.fromScalars(shape: shape, scalars: buffer.doubles, dtype: .float64)
        } else {
            t = Tensor.fromScalars(shape: shape, scalars: buffer.ints, dtype: .int64)
        }
        let converted = t.dtype == target ? t : t.convertedWithoutGrad(to: target)
        self = converted
        if requiresGrad { self.requiresGrad = true }
    }

    /// Creates a tensor of `shape` from row-major `scalars`.
    ///
    /// The dtype defaults to the Swift type's own (`Float` → float32, `Double` → float64,
    /// `Int` → int64, …); `dtype` converts.
    /// ```swift
    /// let s = Tensor(shape: [2, 3], scalars: [Float](repeating: 1, count: 6))
    /// ```
    /// - Precondition: `scalars.count` equals the product of `shape`; dims are non-negative;
    ///   `requiresGrad` only with a floating dtype.
    /// - Complexity: O(n), copies the elements.
    public init<S: TensorScalar>(shape: [Int], scalars: [S], dtype: DType? = nil, requiresGrad: Bool = false) {
        check { () throws(ShapeError) in try Tensor.validateShapeAndCount(shape, scalars.count, op: "Tensor(shape:scalars:)") }
        let t = Tensor.fromScalars(shape: shape, scalars: scalars, dtype: S.tensorDType)
        let target = dtype ?? S.tensorDType
        self = t.dtype == target ? t : t.convertedWithoutGrad(to: target)
        if requiresGrad { self.requiresGrad = true }
    }

    static func validateShapeAndCount(_ shape: [Int], _ count: Int, op: String) throws(ShapeError) {
        if let bad = shape.first(where: { $0 < 0 }) {
            throw ShapeError("\(op): negative dimension \(bad) in shape \(Shape.describe(shape))")
        }
        if Shape.count(shape) != count {
            throw ShapeError("\(op): shape \(Shape.describe(shape)) holds \(Shape.count(shape)) elements but \(count) scalars were given")
        }
    }

    /// A contiguous CPU tensor holding `scalars`, whose memory layout is `dtype`'s.
    static func fromScalars<S>(shape: [Int], scalars: [S], dtype: DType) -> Tensor {
        precondition(MemoryLayout<S>.stride == dtype.byteCount, "fromScalars: \(S.self) does not have \(dtype)'s layout")
        let t = Tensor(uninitializedShape: shape, dtype: dtype)
        scalars.withUnsafeBytes { raw in
            if let base = raw.baseAddress { t.storage.pointer.copyMemory(from: base, byteCount: raw.count) }
        }
        return t
    }

    /// A contiguous CPU tensor copied from raw little-endian, row-major bytes.
    static func fromBytes(_ bytes: UnsafeRawBufferPointer, shape: [Int], dtype: DType) -> Tensor {
        precondition(bytes.count == Shape.count(shape) * dtype.byteCount, "fromBytes: \(bytes.count) bytes for shape \(Shape.describe(shape)) of \(dtype)")
        let t = Tensor(uninitializedShape: shape, dtype: dtype)
        if let base = bytes.baseAddress, bytes.count > 0 { t.storage.pointer.copyMemory(from: base, byteCount: bytes.count) }
        return t
    }

    /// Creates a 0-d tensor from a scalar of known dtype.
    init(scalar: Scalar, dtype: DType, device: Device = .cpu) {
        self.init(uninitializedShape: [], dtype: dtype, device: device)
        Backends.backend(for: device).fill(self, with: scalar)
    }
}

// MARK: - Factories

extension Tensor {
    /// A tensor of `shape` filled with zeros. Default dtype float32.
    public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu, requiresGrad: Bool = false) -> Tensor {
        full(shape, value: 0, dtype: dtype, device: device, requiresGrad: requiresGrad)
    }

    /// A tensor of `shape` filled with ones. Default dtype float32.
    public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu, requiresGrad: Bool = false) -> Tensor {
        full(shape, value: 1, dtype: dtype, device: device, requiresGrad: requiresGrad)
    }

    /// A tensor of `shape` filled with `value`. Default dtype float32.
    /// - Precondition: dims are non-negative.
    public static func full(_ shape: [Int], value: Double, dtype: DType = .float32, device: Device = .cpu, requiresGrad: Bool = false) -> Tensor {
        check { () throws(ShapeError) in try validateShapeAndCount(shape, Shape.count(shape), op: "full") }
        let t = Tensor(uninitializedShape: shape, dtype: dtype, device: device)
        Backends.backend(for: device).fill(t, with: dtype.isFloatingPoint ? .double(value) : (dtype == .bool ? .bool(value != 0) : .int(truncatingToInt64(value))))
        if requiresGrad { t.requiresGrad = true }
        return t
    }

    /// Zeros with `other`'s shape, and its dtype and device unless given (PyTorch's `zeros_like`).
    public static func zeros(like other: Tensor, dtype: DType? = nil, device: Device? = nil, requiresGrad: Bool = false) -> Tensor {
        zeros(other.shape, dtype: dtype ?? other.dtype, device: device ?? other.device, requiresGrad: requiresGrad)
    }

    /// Ones with `other`'s shape, and its dtype and device unless given (PyTorch's `ones_like`).
    public static func ones(like other: Tensor, dtype: DType? = nil, device: Device? = nil, requiresGrad: Bool = false) -> Tensor {
        ones(other.shape, dtype: dtype ?? other.dtype, device: device ?? other.device, requiresGrad: requiresGrad)
    }

    /// `[start, start + step, …]` up to but excluding `end` (PyTorch's `arange`). The dtype is
    /// int64 when all three are integral and no dtype is given, else float32.
    /// - Precondition: `step` is nonzero and has the sign of `end - start`.
    public static func arange(_ start: Double = 0, _ end: Double, step: Double = 1, dtype: DType? = nil, device: Device = .cpu) -> Tensor {
        precondition(step != 0, "arange: step must be nonzero")
        precondition((end - start) / step >= 0 || start == end, "arange: upper bound and larger bound inconsistent with step sign (start \(start), end \(end), step \(step))")
        let integral = start.rounded() == start && end.rounded() == end && step.rounded() == step
        let resolved = dtype ?? (integral ? .int64 : .float32)
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        if resolved.isFloatingPoint {
            return sequence(n, dtype: resolved) { start + Double($0) * step }.to(device: device)
        }
        return integerSequence(n, start: Int64(start), step: Int64(step)).convertedWithoutGrad(to: resolved).to(device: device)
    }

    /// `[start, start + step, ...]`, n int64 values written straight into a CPU tensor on all
    /// threads (no host array).
    static func integerSequence(_ n: Int, start: Int64, step: Int64) -> Tensor {
        let t = Tensor(uninitializedShape: [n], dtype: .int64)
        let p = t.pointer(Int64.self)
        CKernelPaths.parallelFor(n, grain: 1 << 16) { begin, end in
            for i in begin..<end { p[i] = start &+ Int64(i) &* step }
        }
        return t
    }

    /// n values `value(i)` computed in double and rounded once to the float32 or float64 `dtype`
    /// (half types: through float32, as a conversion would), written into a CPU tensor on all
    /// threads.
    static func sequence(_ n: Int, dtype: DType, _ value: @escaping (Int) -> Double) -> Tensor {
        let compute: DType = dtype == .float64 ? .float64 : .float32
        let t = Tensor(uninitializedShape: [n], dtype: compute)
        if compute == .float64 {
            let p = t.pointer(Double.self)
            CKernelPaths.parallelFor(n, grain: 1 << 16) { begin, end in for i in begin..<end { p[i] = value(i) } }
        } else {
            let p = t.pointer(Float.self)
            CKernelPaths.parallelFor(n, grain: 1 << 16) { begin, end in for i in begin..<end { p[i] = Float(value(i)) } }
        }
        return t.convertedWithoutGrad(to: dtype)
    }

    /// `arange(0, end)` for integers: `[0, 1, …, end - 1]`, int64.
    public static func arange(_ end: Int, dtype: DType = .int64, device: Device = .cpu) -> Tensor {
        arange(0, Double(end), step: 1, dtype: dtype, device: device)
    }

    /// `count` evenly spaced values from `start` to `end` inclusive (PyTorch's `linspace`).
    /// Default dtype float32. Computed as PyTorch does: the first half from `start`, the second
    /// half from `end`, so both ends are exact.
    /// - Precondition: `count >= 0`.
    public static func linspace(_ start: Double, _ end: Double, count: Int, dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        precondition(count >= 0, "linspace: number of steps must be non-negative (got \(count))")
        let step = count > 1 ? (end - start) / Double(count - 1) : 0
        let half = count / 2
        let values = (0..<count).map { i in i < half ? start + step * Double(i) : end - step * Double(count - 1 - i) }
        return Tensor.fromScalars(shape: [count], scalars: values, dtype: .float64).convertedWithoutGrad(to: dtype).to(device: device)
    }
}

// MARK: - Random

/// A seedable pseudo-random generator (xoshiro256**), shareable across threads.
///
/// Tensors made with the same seed are identical on every platform. The streams differ from
/// PyTorch's Mersenne Twister, so seeds do not reproduce PyTorch's numbers.
///
/// On a CUDA device, samples come from Philox4x32-10 on the device, keyed by the seed, with a
/// counter of device calls as the offset (as PyTorch's CUDA generator does): deterministic
/// per seed, but different numbers from the CPU's for the same seed, as in PyTorch.
public final class Generator: @unchecked Sendable {
    // @unchecked Sendable: `state`, `seed` and `deviceCalls` are only touched under `lock`.
    private let lock = Mutex<Void>(())
    private var state: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var seed: UInt64 = 0
    private var deviceCalls: UInt64 = 0

    /// Creates a generator seeded with `seed`.
    public init(seed: UInt64 = 0) { manualSeed(seed) }

    /// The process-wide generator used when no generator or seed is given.
    public static let `default` = Generator(seed: 0x5eed)

    /// The generator a creation function draws from: a fresh one for an explicit `seed`, else
    /// `generator`, else `default`.
    static func resolve(seed: UInt64?, _ generator: Generator?) -> Generator {
        seed.map { Generator(seed: $0) } ?? generator ?? .default
    }

    /// Resets the generator to the stream of `seed`.
    public func manualSeed(_ seed: UInt64) {
        lock.withLock { _ in
            self.seed = seed
            deviceCalls = 0
            var x = seed
            func splitmix() -> UInt64 {
                x &+= 0x9e37_79b9_7f4a_7c15
                var z = x
                z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
                z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
                return z ^ (z >> 31)
            }
            state = (splitmix(), splitmix(), splitmix(), splitmix())
        }
    }

    /// One xoshiro256** step of `s`.
    @inline(__always)
    private static func step(_ s: inout (UInt64, UInt64, UInt64, UInt64)) -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }

    /// The Philox key and offset of the next device draw (PyTorch's `philox_cuda_state`): the
    /// seed, and the number of device draws made since seeding (then advanced by one).
    func nextPhiloxState() -> (seed: UInt64, offset: UInt64) {
        lock.withLock { _ in
            defer { deviceCalls &+= 1 }
            return (seed, deviceCalls)
        }
    }

    /// `count` raw 64-bit values.
    func next(_ count: Int) -> [UInt64] {
        lock.withLock { _ in
            var s = state
            defer { state = s }
            return (0..<count).map { _ in Generator.step(&s) }
        }
    }

    /// Writes `count` doubles uniform in [0, 1), 53 random bits each, to `out`.
    func fillUniform(_ out: UnsafeMutablePointer<Double>, count: Int) {
        lock.withLock { _ in
            var s = state
            for i in 0..<count { out[i] = Double(Generator.step(&s) >> 11) * 0x1.0p-53 }
            state = s
        }
    }

    /// Writes `count` standard normal doubles to `out`, which has room for `count + count % 2`
    /// (Box–Muller on pairs of uniforms; an odd count's last sine lands in the spare slot). The
    /// pairs are transformed in place, on all threads for large counts (libm's log, cos and sin
    /// are most of the cost; the same values on any thread count). `randn([4096, 1000])`, which
    /// went through three arrays: 122 -> 44 ms on two threads (PyTorch 20); `rand` 48 -> 9 ms
    /// (PyTorch 14).
    func fillNormal(_ out: UnsafeMutablePointer<Double>, count: Int) {
        let pairs = (count + 1) / 2
        fillUniform(out, count: 2 * pairs)
        CKernelPaths.parallelFor(pairs, grain: 2048) { begin, end in
            for pair in begin..<end {
                let i = 2 * pair
                let u1 = 1 - out[i], u2 = out[i + 1]
                let r = (-2 * _log(u1)).squareRoot()
                out[i] = r * _cos(2 * .pi * u2)
                out[i + 1] = r * _sin(2 * .pi * u2)
            }
        }
    }

    /// `count` doubles uniform in [0, 1) with 53 random bits each.
    func uniform(_ count: Int) -> [Double] {
        [Double](unsafeUninitializedCapacity: count) { out, initialized in
            if let base = out.baseAddress { fillUniform(base, count: count) }
            initialized = count
        }
    }

    /// `count` standard normal doubles (Box–Muller on pairs of uniforms, see `fillNormal`).
    func normal(_ count: Int) -> [Double] {
        [Double](unsafeUninitializedCapacity: count + count % 2) { out, initialized in
            if let base = out.baseAddress { fillNormal(base, count: count) }
            initialized = count
        }
    }
}

extension Tensor {
    /// Samples from the standard normal distribution. Default dtype float32. On a CUDA device
    /// the samples are made there (Philox; see `Generator`).
    /// - Parameters:
    ///   - seed: when given, a fresh generator with this seed (reproducible);
    ///   - generator: else this generator, else `Generator.default`.
    public static func randn(_ shape: [Int], dtype: DType = .float32, seed: UInt64? = nil, generator: Generator? = nil,
                             device: Device = .cpu, requiresGrad: Bool = false) -> Tensor {
        precondition(dtype.isFloatingPoint, "randn: expected a floating dtype (got \(dtype))")
        let g = Generator.resolve(seed: seed, generator)
        if device.kind == .cuda {
            let t = cudaRandom(.normal, shape: shape, dtype: dtype, generator: g, device: device)
            if requiresGrad { t.requiresGrad = true }
            return t
        }
        // Sampled straight into a float64 tensor (no arrays, no page faults for large ones),
        // with the odd count's spare slot, then converted.
        let count = Shape.count(shape)
        let samples = Tensor(uninitializedShape: [count + count % 2], dtype: .float64)
        g.fillNormal(samples.pointer(Double.self), count: count)
        var exact = samples[0..<count].reshaped(shape)
        if dtype == .float64 && count % 2 == 1 { exact = exact.clone() }   // not the spare slot's storage
        let t = exact.convertedWithoutGrad(to: dtype).to(device: device)
        if requiresGrad { t.requiresGrad = true }
        return t
    }

    /// Samples uniformly from [0, 1). Default dtype float32. Seed and generator as in `randn`;
    /// made on the device on CUDA (Philox; see `Generator`).
    public static func rand(_ shape: [Int], dtype: DType = .float32, seed: UInt64? = nil, generator: Generator? = nil,
                            device: Device = .cpu, requiresGrad: Bool = false) -> Tensor {
        precondition(dtype.isFloatingPoint, "rand: expected a floating dtype (got \(dtype))")
        let g = Generator.resolve(seed: seed, generator)
        if device.kind == .cuda {
            let t = cudaRandom(.uniform, shape: shape, dtype: dtype, generator: g, device: device)
            if requiresGrad { t.requiresGrad = true }
            return t
        }
        let samples = Tensor(uninitializedShape: shape, dtype: .float64)
        g.fillUniform(samples.pointer(Double.self), count: samples.count)
        let t = samples.convertedWithoutGrad(to: dtype).to(device: device)
        if requiresGrad { t.requiresGrad = true }
        return t
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif
private func _log(_ x: Double) -> Double { log(x) }
private func _cos(_ x: Double) -> Double { cos(x) }
private func _sin(_ x: Double) -> Double { sin(x) }
