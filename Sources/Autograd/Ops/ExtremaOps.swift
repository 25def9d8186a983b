// Products, amax/amin and the logical reductions all/any.

extension Tensor {
    /// Reduction dims where an empty list means every dim (PyTorch's `dim=[]`/`dim=None`).
    func reductionDimsOrAll(_ dims: [Int], op: String) throws(ShapeError) -> [Int] {
        try reductionDims(dims.isEmpty ? nil : dims, op: op)
    }

    /// A reduced result of shape `shape` minus `dims` viewed with those dims restored as 1
    /// (a no-op when `keepDim` was true). Differentiable.
    func restoringReduced(dims: [Int], keepDim: Bool) -> Tensor {
        if keepDim { return self }
        var r = self
        for d in dims.sorted() { r = r.unsqueezed(dim: d) }
        return r
    }

    /// Validates that no reduced dim is empty, for reductions without an identity.
    func validateNonEmptyReduction(_ dims: [Int], op: String) throws(ShapeError) {
        if count == 0 && rank > 0 {
            if dims.count == rank && rank > 1 {
                throw ShapeError("\(op): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument (shape \(Shape.describe(shape)))")
            }
            for d in dims where shape[d] == 0 {
                throw ShapeError("\(op): Expected reduction dim \(d) to have non-zero size (shape \(Shape.describe(shape)))")
            }
        }
    }
}

// MARK: - Product

extension Tensor {
    /// The product of all elements, a 0-d tensor; integers and bool multiply in int64 (1 for
    /// an empty tensor). Differentiable (`ProdBackward0`, correct with zeros in the input).
    public func prod() -> Tensor {
        let out = computeReduce(.prod, dims: Array(0..<rank), keepDim: false, resultDType: dtype.sumResult)
        return Tensor.record(out, input: self) {
            let node = ProdBackward0()
            node.selfSlot = node.save(self)
            node.resultSlot = node.save(out, isOutput: true)
            return node
        }
    }

    /// The product over `dim`, removing it unless `keepDim`. Differentiable (`ProdBackward1`).
    /// - Precondition: `dim` is in range.
    public func prod(dim: Int, keepDim: Bool = false) -> Tensor {
        let d = check { () throws(ShapeError) in try reductionDims([dim], op: "prod") }
        let out = computeReduce(.prod, dims: d, keepDim: keepDim, resultDType: dtype.sumResult)
        return Tensor.record(out, input: self) {
            let node = ProdBackward1(dims: d, keepDim: keepDim)
            node.selfSlot = node.save(self)
            node.resultSlot = node.save(out, isOutput: true)
            return node
        }
    }
}

/// The product of every element of the last dim except the one at each position:
/// `r[..., i] = ∏_{k ≠ i} x[..., k]`, exact with zeros, written with differentiable ops
/// (O(n²) in the dim's size; used only when the input has zeros).
func productExcludingSelf(_ x: Tensor) -> Tensor {
    let n = x.shape[x.rank - 1]
    let eye = Tensor.eye(n, dtype: .bool, device: x.device)
    let one = Tensor.ones([], dtype: x.dtype, device: x.device)
    return Tensor.where(eye, one, x.unsqueezed(dim: -2)).prod(dim: -1)
}

/// Backward of `prod()`: `g · result / x`, or the product of the others where x has zeros.
final class ProdBackward0: GradFn, @unchecked Sendable {
    var selfSlot = -1, resultSlot = -1
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let x = try savedTensor(selfSlot), y = try savedTensor(resultSlot)
        if x.count == 0 { return [Tensor.zeros(like: x)] }
        if !(x .== 0.0).any().item(as: Bool.self) { return [g * y / x] }
        return [productExcludingSelf(x.reshaped([-1])).reshaped(x.shape) * g]
    }
}

/// Backward of `prod(dim:)`.
final class ProdBackward1: GradFn, @unchecked Sendable {
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
        let gk = g.restoringReduced(dims: dims, keepDim: keepDim)
        if x.rank == 0 || dims.isEmpty { return [g] }
        if x.count == 0 { return [Tensor.zeros(like: x)] }
        if !(x .== 0.0).any().item(as: Bool.self) {
            return [gk * y.restoringReduced(dims: dims, keepDim: keepDim) / x]
        }
        let d = dims[0]
        let others = productExcludingSelf(x.movingDim(d, to: -1)).movingDim(-1, to: d)
        return [others * gk]
    }
}

// MARK: - amax / amin

extension Tensor {
    /// The maximum over `dims` (all dims when empty), removing them unless `keepDim`; keeps
    /// the dtype. NaN propagates. Differentiable (`AmaxBackward0`: the gradient is shared
    /// evenly between tied maxima).
    /// - Precondition: each dim in range and listed once; no reduced dim is empty.
    public func amax(dims: [Int] = [], keepDim: Bool = false) -> Tensor { aextremum(.max, dims, keepDim) }

    /// The maximum over `dim`. Differentiable (`AmaxBackward0`).
    /// - Precondition: `dim` in range; the dim is not empty.
    public func amax(dim: Int, keepDim: Bool = false) -> Tensor { aextremum(.max, [dim], keepDim) }

    /// The minimum over `dims` (all dims when empty). Differentiable (`AminBackward0`).
    /// - Precondition: each dim in range and listed once; no reduced dim is empty.
    public func amin(dims: [Int] = [], keepDim: Bool = false) -> Tensor { aextremum(.min, dims, keepDim) }

    /// The minimum over `dim`. Differentiable (`AminBackward0`).
    /// - Precondition: `dim` in range; the dim is not empty.
    public func amin(dim: Int, keepDim: Bool = false) -> Tensor { aextremum(.min, [dim], keepDim) }

    /// Validates amax/amin arguments, returning the normalized dims.
    func validateAextremum(_ dims: [Int], op: String) throws(ShapeError) -> [Int] {
        let d = try reductionDimsOrAll(dims, op: op)
        try validateNonEmptyReduction(d, op: op)
        return d
    }

    private func aextremum(_ op: ReduceOp, _ dims: [Int], _ keepDim: Bool) -> Tensor {
        let name = op == .max ? "amax" : "amin"
        let d = check { () throws(ShapeError) in try validateAextremum(dims, op: name) }
        let out = computeReduce(op, dims: d, keepDim: keepDim, resultDType: dtype)
        return Tensor.record(out, input: self) {
            let node: AextremumBackward = op == .max ? AmaxBackward0(dims: d, keepDim: keepDim) : AminBackward0(dims: d, keepDim: keepDim)
            node.selfSlot = node.save(self)
            node.resultSlot = node.save(out, isOutput: true)
            return node
        }
    }

    /// The index of the maximum over `dim`, keeping it as size 1 when `keepDim` (int64).
    /// With `dim: nil`, the index into the flattened tensor. Not differentiable.
    /// - Precondition: `dim` in range; the dim is not empty.
    public func argmax(dim: Int?, keepDim: Bool) -> Tensor {
        guard let dim else {
            let i = argmax()
            return keepDim ? i.reshaped([Int](repeating: 1, count: rank)) : i
        }
        return argmax(dim: dim, keepDim: keepDim)
    }

    /// The index of the minimum over `dim` (int64); with `dim: nil`, into the flattened tensor.
    /// - Precondition: `dim` in range; the dim is not empty.
    public func argmin(dim: Int?, keepDim: Bool) -> Tensor {
        guard let dim else {
            let i = argmin()
            return keepDim ? i.reshaped([Int](repeating: 1, count: rank)) : i
        }
        return argmin(dim: dim, keepDim: keepDim)
    }
}

/// Shared backward of amax/amin: `g` split evenly among the positions equal to the result.
class AextremumBackward: GradFn, @unchecked Sendable {
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
        let mask = (x .== y.detached().restoringReduced(dims: dims, keepDim: keepDim)).to(g.dtype)
        let gk = g.restoringReduced(dims: dims, keepDim: keepDim)
        return [mask * (gk / mask.sum(dims: dims, keepDim: true))]
    }
}

/// Backward of `amax`.
final class AmaxBackward0: AextremumBackward, @unchecked Sendable {}
/// Backward of `amin`.
final class AminBackward0: AextremumBackward, @unchecked Sendable {}

// MARK: - all / any

extension Tensor {
    /// Whether every element is nonzero (NaN counts as nonzero); a 0-d bool tensor (uint8 for
    /// uint8 input, as PyTorch), true when empty. Not differentiable.
    public func all() -> Tensor { logicalReduce(.all, Array(0..<rank), false) }

    /// Whether any element is nonzero; a 0-d bool tensor, false when empty. Not differentiable.
    public func any() -> Tensor { logicalReduce(.any, Array(0..<rank), false) }

    /// `all()` over `dim`. Not differentiable.
    /// - Precondition: `dim` in range.
    public func all(dim: Int, keepDim: Bool = false) -> Tensor { all(dims: [dim], keepDim: keepDim) }

    /// `any()` over `dim`. Not differentiable.
    /// - Precondition: `dim` in range.
    public func any(dim: Int, keepDim: Bool = false) -> Tensor { any(dims: [dim], keepDim: keepDim) }

    /// `all()` over several dims (all when empty). Not differentiable.
    /// - Precondition: each dim in range and listed once.
    public func all(dims: [Int], keepDim: Bool = false) -> Tensor {
        let d = check { () throws(ShapeError) in try reductionDimsOrAll(dims, op: "all") }
        return logicalReduce(.all, d, keepDim)
    }

    /// `any()` over several dims (all when empty). Not differentiable.
    /// - Precondition: each dim in range and listed once.
    public func any(dims: [Int], keepDim: Bool = false) -> Tensor {
        let d = check { () throws(ShapeError) in try reductionDimsOrAll(dims, op: "any") }
        return logicalReduce(.any, d, keepDim)
    }

    private func logicalReduce(_ op: ReduceOp, _ dims: [Int], _ keepDim: Bool) -> Tensor {
        let x = dtype == .bool ? detached() : (self .!= 0)
        let out = x.computeReduce(op, dims: dims, keepDim: keepDim, resultDType: .bool)
        return dtype == .uint8 ? out.convertedWithoutGrad(to: .uint8) : out
    }
}
