// Variance, standard deviation, logsumexp and vector norms.

extension Tensor {
    /// Validates var/std arguments, returning the normalized dims.
    func validateMoment(_ dims: [Int]?, op: String) throws(ShapeError) -> [Int] {
        guard dtype.isFloatingPoint else {
            throw ShapeError("\(op): only supports floating point dtypes (got \(dtype))")
        }
        return try reductionDims(dims.flatMap { $0.isEmpty ? nil : $0 }, op: op)
    }

    /// The variance over all elements, `Σ(x - mean)² / (N - correction)`, a 0-d tensor
    /// (`correction: 1` is Bessel's unbiased estimate, 0 the population variance). NaN or ∞
    /// when `N - correction <= 0`, as in PyTorch. Differentiable (`VarBackward0`).
    /// - Precondition: a floating dtype.
    public func `var`(correction: Double = 1) -> Tensor { moment(nil, correction, false, std: false) }

    /// The variance over `dim`. Differentiable (`VarBackward0`).
    /// - Precondition: a floating dtype; `dim` in range.
    public func `var`(dim: Int, correction: Double = 1, keepDim: Bool = false) -> Tensor {
        moment([dim], correction, keepDim, std: false)
    }

    /// The variance over several dims (all when empty). Differentiable (`VarBackward0`).
    /// - Precondition: a floating dtype; each dim in range and listed once.
    public func `var`(dims: [Int], correction: Double = 1, keepDim: Bool = false) -> Tensor {
        moment(dims, correction, keepDim, std: false)
    }

    /// The standard deviation over all elements, `sqrt(var(correction:))`, a 0-d tensor.
    /// Differentiable (`StdBackward0`; zero gradient where the result is 0).
    /// - Precondition: a floating dtype.
    public func std(correction: Double = 1) -> Tensor { moment(nil, correction, false, std: true) }

    /// The standard deviation over `dim`. Differentiable (`StdBackward0`).
    /// - Precondition: a floating dtype; `dim` in range.
    public func std(dim: Int, correction: Double = 1, keepDim: Bool = false) -> Tensor {
        moment([dim], correction, keepDim, std: true)
    }

    /// The standard deviation over several dims (all when empty). Differentiable (`StdBackward0`).
    /// - Precondition: a floating dtype; each dim in range and listed once.
    public func std(dims: [Int], correction: Double = 1, keepDim: Bool = false) -> Tensor {
        moment(dims, correction, keepDim, std: true)
    }

    private func moment(_ dims: [Int]?, _ correction: Double, _ keepDim: Bool, std: Bool) -> Tensor {
        let d = check { () throws(ShapeError) in try validateMoment(dims, op: std ? "std" : "var") }
        let n = d.reduce(1) { $0 * shape[$1] }
        let divisor = Swift.max(0, Double(n) - correction)
        let out = sameDTypeCompute { x in
            let centered = x - x.mean(dims: d, keepDim: true)
            let v = (centered * centered).sum(dims: d, keepDim: keepDim) / divisor
            return std ? v.sqrt() : v
        }
        return Tensor.record(out, input: self) {
            let node: MomentBackward = std ? StdBackward0(dims: d, keepDim: keepDim, divisor: divisor)
                : VarBackward0(dims: d, keepDim: keepDim, divisor: divisor)
            node.selfSlot = node.save(self)
            if std { node.resultSlot = node.save(out, isOutput: true) }
            return node
        }
    }
}

/// Shared state of the var/std backward nodes.
class MomentBackward: GradFn, @unchecked Sendable {
    let dims: [Int], keepDim: Bool, divisor: Double
    var selfSlot = -1, resultSlot = -1
    init(dims: [Int], keepDim: Bool, divisor: Double) {
        self.dims = dims
        self.keepDim = keepDim
        self.divisor = divisor
        super.init()
    }

    /// `g · 2 (x - mean) / (N - correction)`, the variance's vector-Jacobian product.
    func varianceGradient(_ g: Tensor, _ x: Tensor) -> Tensor {
        let centered = x - x.mean(dims: dims, keepDim: true)
        return g.restoringReduced(dims: dims, keepDim: keepDim) * centered * (2 / divisor)
    }
}

/// Backward of `var`.
final class VarBackward0: MomentBackward, @unchecked Sendable {
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        return [varianceGradient(g, try savedTensor(selfSlot))]
    }
}

/// Backward of `std`: the variance's gradient scaled by `1 / (2 · result)` (0 where result is 0).
final class StdBackward0: MomentBackward, @unchecked Sendable {
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let x = try savedTensor(selfSlot), y = try savedTensor(resultSlot)
        let safe = Tensor.where(y .== 0.0, Tensor.full([], value: .infinity, dtype: y.dtype, device: y.device), y)
        return [varianceGradient(g / (safe * 2), x)]
    }
}

// MARK: - logsumexp

extension Tensor {
    /// `log Σ exp(x)` over `dims` (all when empty), computed stably by subtracting the
    /// maximum first; floating result (integers → float32); `-∞` over an empty dim.
    /// Differentiable (`LogsumexpBackward0`).
    /// - Precondition: each dim in range and listed once.
    public func logsumexp(dims: [Int], keepDim: Bool = false) -> Tensor {
        let d = check { () throws(ShapeError) in try reductionDimsOrAll(dims, op: "logsumexp") }
        let out = floatingCompute { x in
            var m: Tensor
            if d.allSatisfy({ x.shape[$0] > 0 }) && x.count > 0 {
                m = x.amax(dims: d, keepDim: true)
                m = Tensor.where(m.isInf(), Tensor.zeros([], dtype: m.dtype), m)
            } else {
                m = Tensor.zeros([], dtype: x.dtype)
            }
            let s = (x - m).exp().sum(dims: d, keepDim: true).log() + m
            return keepDim ? s : s.reshaped(x.shape.enumerated().filter { !d.contains($0.offset) }.map(\.element))
        }
        return Tensor.record(out, input: self) {
            let node = LogsumexpBackward0(dims: d, keepDim: keepDim)
            node.selfSlot = node.save(self)
            node.resultSlot = node.save(out, isOutput: true)
            return node
        }
    }

    /// `log Σ exp(x)` over `dim`. Differentiable (`LogsumexpBackward0`).
    /// - Precondition: `dim` in range.
    public func logsumexp(dim: Int, keepDim: Bool = false) -> Tensor { logsumexp(dims: [dim], keepDim: keepDim) }
}

/// Backward of `logsumexp`: `g · exp(x - result)`.
final class LogsumexpBackward0: GradFn, @unchecked Sendable {
    let dims: [Int], keepDim: Bool
    var selfSlot = -1, resultSlot = -1
    init(dims: [Int], keepDim: Bool) {
        self.dims = dims
        self.keepDim = keepDim
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let x = try savedTensor(selfSlot), y = try savedTensor(resultSlot)
        return [g.restoringReduced(dims: dims, keepDim: keepDim) * (x - y.restoringReduced(dims: dims, keepDim: keepDim)).exp()]
    }
}

// MARK: - Norms

extension Tensor {
    /// The vector `p`-norm of all elements, a 0-d tensor (PyTorch's `linalg.vector_norm`):
    /// `p = 2` Euclidean, `1` sum of magnitudes, `.infinity` largest magnitude, `-.infinity`
    /// smallest, `0` count of nonzeros, else `(Σ|x|^p)^(1/p)`. Keeps the floating dtype.
    /// Differentiable (`LinalgVectorNormBackward0`; zero gradient at the origin for p = 2).
    /// - Precondition: a floating dtype; not an ∞-norm of an empty tensor.
    public func norm(p: Double = 2) -> Tensor { norm(p: p, dims: [], keepDim: false) }

    /// The vector `p`-norm over `dim`. Differentiable (`LinalgVectorNormBackward0`).
    /// - Precondition: a floating dtype; `dim` in range.
    public func norm(p: Double = 2, dim: Int, keepDim: Bool = false) -> Tensor { norm(p: p, dims: [dim], keepDim: keepDim) }

    /// Validates a norm, returning the normalized dims.
    func validateNorm(p: Double, dims: [Int]) throws(ShapeError) -> [Int] {
        guard dtype.isFloatingPoint else {
            throw ShapeError("norm: expected a floating point tensor as input (got \(dtype))")
        }
        let d = try reductionDimsOrAll(dims, op: "norm")
        if p.isInfinite && d.contains(where: { shape[$0] == 0 }) {
            throw ShapeError("norm: cannot compute the \(p) norm on an empty tensor because the operation does not have an identity (shape \(Shape.describe(shape)))")
        }
        return d
    }

    /// The vector `p`-norm over several dims (all when empty). Differentiable.
    /// - Precondition: a floating dtype; dims in range and listed once; no ∞-norm over an empty dim.
    public func norm(p: Double = 2, dims: [Int], keepDim: Bool = false) -> Tensor {
        let d = check { () throws(ShapeError) in try validateNorm(p: p, dims: dims) }
        let out = sameDTypeCompute { x in
            switch p {   // |x| only where it is used (a whole pass over x)
            case 2:
                if d == [x.rank - 1], let squares = CKernelPaths.sumOfSquaresAlongLastDim(x) {   // same bits
                    return (keepDim ? squares.unsqueezed(dim: x.rank - 1) : squares).sqrt()
                }
                return (x * x).sum(dims: d, keepDim: keepDim).sqrt()
            case 1: return x.abs().sum(dims: d, keepDim: keepDim)
            case .infinity: return d.isEmpty ? x.abs() : x.abs().amax(dims: d, keepDim: keepDim)
            case -.infinity: return d.isEmpty ? x.abs() : x.abs().amin(dims: d, keepDim: keepDim)
            case 0: return (x .!= 0).to(x.dtype).sum(dims: d, keepDim: keepDim)
            default: return x.abs().pow(p).sum(dims: d, keepDim: keepDim).pow(1 / p)
            }
        }
        return Tensor.record(out, input: self) {
            let node = LinalgVectorNormBackward0(p: p, dims: d, keepDim: keepDim)
            node.selfSlot = node.save(self)
            node.resultSlot = node.save(out, isOutput: true)
            return node
        }
    }
}

/// Backward of `norm` (PyTorch's `norm_backward`).
final class LinalgVectorNormBackward0: GradFn, @unchecked Sendable {
    let p: Double, dims: [Int], keepDim: Bool
    var selfSlot = -1, resultSlot = -1
    init(p: Double, dims: [Int], keepDim: Bool) {
        self.p = p
        self.dims = dims
        self.keepDim = keepDim
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let x = try savedTensor(selfSlot)
        let y = try savedTensor(resultSlot).restoringReduced(dims: dims, keepDim: keepDim)
        let gk = g.restoringReduced(dims: dims, keepDim: keepDim)
        let zero = Tensor.zeros([], dtype: x.dtype, device: x.device)
        switch p {
        case 0:
            return [Tensor.zeros(like: x)]
        case 1:
            return [gk * x.sign()]
        case 2:
            let scale = Tensor.where(y .== 0.0, zero, gk / y)
            return [x * scale]
        case .infinity, -.infinity:
            let mask = (x.abs() .== y.detached()).to(x.dtype)
            let count = mask.sum(dims: dims, keepDim: true)
            return [x.sign() * mask * (gk / count)]
        default:
            let scale = Tensor.where(y .== 0.0, zero, gk / y.pow(p - 1))
            return [x * x.abs().pow(p - 2) * scale]
        }
    }
}
