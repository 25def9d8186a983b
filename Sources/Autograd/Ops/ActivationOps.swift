/// How `gelu` evaluates the Gaussian CDF (PyTorch's `approximate=` argument).
public enum GeluApproximation: String, Sendable {
    /// The exact form `x Φ(x)` with the error function.
    case none
    /// The tanh form `0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))`.
    case tanh
}

extension Tensor {
    /// Validates an activation's input dtype: floating only, as PyTorch's kernels are.
    func validateFloating(_ op: String) throws(ShapeError) {
        guard dtype.isFloatingPoint else {
            throw ShapeError("\(op): expected a floating tensor, but got dtype \(dtype)")
        }
    }

    /// The Gaussian error linear unit `x Φ(x)` (or its tanh approximation); keeps the dtype.
    /// Differentiable (`GeluBackward0`).
    /// - Precondition: a floating dtype.
    public func gelu(approximate: GeluApproximation = .none) -> Tensor {
        check { () throws(ShapeError) in try validateFloating("gelu") }
        let out = sameDTypeCompute { x in
            CKernelPaths.gelu(x, approximate: approximate) ?? Tensor.geluComposed(x, approximate: approximate)
        }
        return Tensor.record(out, input: self) {
            let node = GeluBackward0(approximate: approximate)
            node.selfSlot = node.save(self)
            return node
        }
    }

    /// gelu as element-wise ops (any device, dtype or layout); the fused CPU kernels give
    /// the same bits.
    static func geluComposed(_ x: Tensor, approximate: GeluApproximation) -> Tensor {
        switch approximate {
        case .none:
            return x * ((x * 0.7071067811865476).erf() + 1) * 0.5
        case .tanh:
            let inner = (x + x * x * x * 0.044715) * 0.7978845608028654
            return x * (inner.tanh() + 1) * 0.5
        }
    }

    /// gelu's input gradient `g · gelu'(x)` as element-wise ops; the fused CPU kernels give
    /// the same bits.
    static func geluBackwardComposed(_ x: Tensor, _ g: Tensor, approximate: GeluApproximation) -> Tensor {
        switch approximate {
        case .none:
            let cdf = ((x * 0.7071067811865476).erf() + 1) * 0.5
            let pdf = (x * x * -0.5).exp() * 0.3989422804014327
            return g * (cdf + x * pdf)
        case .tanh:
            let k = 0.7978845608028654, c = 0.044715
            let x2 = x * x
            let t = ((x + x2 * x * c) * k).tanh()
            let dInner = (x2 * (3 * c) + 1) * k
            return g * ((t + 1) * 0.5 + x * (1 - t * t) * dInner * 0.5)
        }
    }

    /// `x · sigmoid(x)` (the swish); keeps the dtype. Differentiable (`SiluBackward0`).
    /// - Precondition: a floating dtype.
    public func silu() -> Tensor {
        check { () throws(ShapeError) in try validateFloating("silu") }
        let out = sameDTypeCompute { x in CKernelPaths.silu(x) ?? x * x.sigmoid() }
        return Tensor.record(out, input: self) {
            let node = SiluBackward0()
            node.selfSlot = node.save(self)
            return node
        }
    }

    /// `log(1 + e^(βx)) / β`, reverting to `x` where `βx > threshold` for stability; keeps
    /// the dtype. Differentiable (`SoftplusBackward0`).
    /// - Precondition: a floating dtype.
    public func softplus(beta: Double = 1, threshold: Double = 20) -> Tensor {
        check { () throws(ShapeError) in try validateFloating("softplus") }
        let out = sameDTypeCompute { x in
            let bx = x * beta
            return Tensor.where(bx .> threshold, x, bx.exp().log1p() / beta)
        }
        return Tensor.record(out, input: self) {
            let node = SoftplusBackward0(beta: beta, threshold: threshold)
            node.selfSlot = node.save(self)
            return node
        }
    }

    /// `x` where positive, `negativeSlope · x` elsewhere; keeps the dtype.
    /// Differentiable (`LeakyReluBackward0`).
    /// - Precondition: a floating dtype.
    public func leakyRelu(negativeSlope: Double = 0.01) -> Tensor {
        check { () throws(ShapeError) in try validateFloating("leakyRelu") }
        let out = sameDTypeCompute { x in Tensor.where(x .> 0.0, x, x * negativeSlope) }
        return Tensor.record(out, input: self) {
            let node = LeakyReluBackward0(negativeSlope: negativeSlope)
            node.selfSlot = node.save(self)
            return node
        }
    }

    /// The exponential linear unit: `x` where positive, `α (e^x - 1)` elsewhere; keeps the
    /// dtype. Differentiable (`EluBackward0`).
    /// - Precondition: a floating dtype.
    public func elu(alpha: Double = 1) -> Tensor {
        check { () throws(ShapeError) in try validateFloating("elu") }
        let out = sameDTypeCompute { x in Tensor.where(x .> 0.0, x, x.expm1() * alpha) }
        return Tensor.record(out, input: self) {
            let node = EluBackward0(alpha: alpha)
            node.selfSlot = node.save(self)
            return node
        }
    }

    /// `x` clamped to `[minValue, maxValue]`, as an activation (PyTorch's `hardtanh`); keeps
    /// the dtype. Differentiable (`HardtanhBackward0`: the gradient passes strictly inside).
    /// - Precondition: a floating dtype; `minValue <= maxValue`.
    public func hardtanh(minValue: Double = -1, maxValue: Double = 1) -> Tensor {
        check { () throws(ShapeError) in
            try validateFloating("hardtanh")
            guard minValue <= maxValue else {
                throw ShapeError("hardtanh: minValue (\(minValue)) must be less than or equal to maxValue (\(maxValue))")
            }
        }
        let out = withNoGrad { detached().clamp(min: minValue, max: maxValue) }.detached()
        return Tensor.record(out, input: self) {
            let node = HardtanhBackward0(minValue: minValue, maxValue: maxValue)
            node.selfSlot = node.save(self)
            return node
        }
    }
}

// MARK: - Backward nodes

private func zeroScalar(like g: Tensor) -> Tensor { Tensor.zeros([], dtype: g.dtype, device: g.device) }

/// Backward of `gelu`: `g (Φ(x) + x φ(x))`, or the tanh form's derivative.
final class GeluBackward0: GradFn, @unchecked Sendable {
    let approximate: GeluApproximation
    var selfSlot = -1
    init(approximate: GeluApproximation) {
        self.approximate = approximate
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let x = try savedTensor(selfSlot)
        if !GradMode.isEnabled, let fused = CKernelPaths.geluBackward(x, g, approximate: approximate) { return [fused] }
        return [Tensor.geluBackwardComposed(x, g, approximate: approximate)]
    }
}

/// Backward of `silu`: `g σ(x) (1 + x (1 - σ(x)))`.
final class SiluBackward0: GradFn, @unchecked Sendable {
    var selfSlot = -1
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let x = try savedTensor(selfSlot)
        let s = x.sigmoid()
        return [g * s * (x * (1 - s) + 1)]
    }
}

/// Backward of `softplus`: `g σ(βx)`, or `g` where `βx > threshold`.
final class SoftplusBackward0: GradFn, @unchecked Sendable {
    let beta: Double, threshold: Double
    var selfSlot = -1
    init(beta: Double, threshold: Double) {
        self.beta = beta
        self.threshold = threshold
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let bx = try savedTensor(selfSlot) * beta
        return [Tensor.where(bx .> threshold, g, g * bx.sigmoid())]
    }
}

/// Backward of `leakyRelu`: `g` where x > 0, else `g · slope`.
final class LeakyReluBackward0: GradFn, @unchecked Sendable {
    let negativeSlope: Double
    var selfSlot = -1
    init(negativeSlope: Double) {
        self.negativeSlope = negativeSlope
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let x = try savedTensor(selfSlot)
        return [Tensor.where(x .> 0.0, g, g * negativeSlope)]
    }
}

/// Backward of `elu`: `g` where x > 0, else `g α e^x`.
final class EluBackward0: GradFn, @unchecked Sendable {
    let alpha: Double
    var selfSlot = -1
    init(alpha: Double) {
        self.alpha = alpha
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let x = try savedTensor(selfSlot)
        return [Tensor.where(x .> 0.0, g, g * x.exp() * alpha)]
    }
}

/// Backward of `hardtanh`: `g` strictly inside (min, max), else 0.
final class HardtanhBackward0: GradFn, @unchecked Sendable {
    let minValue: Double, maxValue: Double
    var selfSlot = -1
    init(minValue: Double, maxValue: Double) {
        self.minValue = minValue
        self.maxValue = maxValue
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let x = try savedTensor(selfSlot)
        let inside = (x .> minValue).logicalAnd(x .< maxValue)
        return [Tensor.where(inside, g, zeroScalar(like: g))]
    }
}
