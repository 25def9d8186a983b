extension Tensor {
    /// Normalized, sorted, de-duplicated reduction dims (all dims when `dims` is nil or
    /// empty, as PyTorch's `dim=[]`).
    func reductionDims(_ dims: [Int]?, op: String) throws(ShapeError) -> [Int] {
        guard let dims, !dims.isEmpty else { return Array(0..<rank) }
        var result = Set<Int>()
        for d in dims {
            let n = try Shape.normalize(dim: d, rank: rank, op: op)
            guard result.insert(n).inserted else { throw ShapeError("\(op): dim \(n) appears multiple times in the list of dims") }
        }
        return result.sorted().filter { $0 < Swift.max(rank, 1) && rank > 0 }
    }

    /// Runs a reduction kernel without recording; the result has reduced dims kept as 1 or
    /// removed per `keepDim`.
    func computeReduce(_ op: ReduceOp, dims: [Int], keepDim: Bool, resultDType: DType) -> Tensor {
        var compute = resultDType == .float16 || resultDType == .bfloat16 ? DType.float32 : resultDType
        if op == .all || op == .any { compute = .bool }
        let x = dtype == compute ? self : convertedWithoutGrad(to: compute)
        var keptShape = shape
        for d in dims { keptShape[d] = 1 }
        let out = Tensor(uninitializedShape: keptShape, dtype: compute, device: device)
        Backends.backend(for: device).reduce(op, x, dims: dims, into: out)
        var result = out
        if !keepDim {
            let finalShape = shape.enumerated().filter { !dims.contains($0.offset) }.map(\.element)
            result = out.viewing(shape: finalShape, strides: Shape.contiguousStrides(finalShape), offset: 0)
        }
        return compute == resultDType ? result : result.convertedWithoutGrad(to: resultDType)
    }

    /// The sum of all elements, a 0-d tensor; integers and bool sum to int64.
    /// Pairwise summation for floats. Differentiable (`SumBackward0`).
    public func sum() -> Tensor {
        let out = computeReduce(.sum, dims: Array(0..<rank), keepDim: false, resultDType: dtype.sumResult)
        return Tensor.record(out, input: self) { SumBackward0(inputShape: shape) }
    }

    /// The sum over `dim`, removing it unless `keepDim`. Differentiable (`SumBackward1`).
    ///
    /// ```swift
    /// Tensor.ones([2, 3]).sum(dim: 1).shape                  // [2]
    /// Tensor.ones([2, 3]).sum(dim: 1, keepDim: true).shape   // [2, 1]
    /// ```
    /// - Precondition: `dim` is in range.
    public func sum(dim: Int, keepDim: Bool = false) -> Tensor { sum(dims: [dim], keepDim: keepDim) }

    /// The sum over several dims. Differentiable (`SumBackward1`).
    /// - Precondition: each dim is in range and appears once.
    public func sum(dims: [Int], keepDim: Bool = false) -> Tensor {
        let d = check { () throws(ShapeError) in try reductionDims(dims, op: "sum") }
        let out = computeReduce(.sum, dims: d, keepDim: keepDim, resultDType: dtype.sumResult)
        return Tensor.record(out, input: self) { SumBackward1(inputShape: shape, dims: d, keepDim: keepDim) }
    }

    /// The mean of all elements, a 0-d tensor. Differentiable (`MeanBackward0`).
    /// - Precondition: a floating dtype (PyTorch cannot infer an integer mean's dtype).
    public func mean() -> Tensor {
        precondition(dtype.isFloatingPoint, "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: \(dtype)")
        let out = computeReduce(.sum, dims: Array(0..<rank), keepDim: false, resultDType: dtype)
        let result = out.divScalarWithoutGrad(Double(Swift.max(count, 0)))
        return Tensor.record(result, input: self) { MeanBackward0(inputShape: shape) }
    }

    /// The mean over `dim`. Differentiable (`MeanBackward1`).
    /// - Precondition: a floating dtype; `dim` in range.
    public func mean(dim: Int, keepDim: Bool = false) -> Tensor { mean(dims: [dim], keepDim: keepDim) }

    /// The mean over several dims. Differentiable (`MeanBackward1`).
    /// - Precondition: a floating dtype; each dim in range and listed once.
    public func mean(dims: [Int], keepDim: Bool = false) -> Tensor {
        precondition(dtype.isFloatingPoint, "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: \(dtype)")
        let d = check { () throws(ShapeError) in try reductionDims(dims, op: "mean") }
        let n = d.reduce(1) { $0 * shape[$1] }
        let out = computeReduce(.sum, dims: d, keepDim: keepDim, resultDType: dtype).divScalarWithoutGrad(Double(n))
        return Tensor.record(out, input: self) { MeanBackward1(inputShape: shape, dims: d, keepDim: keepDim, count: n) }
    }

    func divScalarWithoutGrad(_ s: Double) -> Tensor {
        withNoGrad { self / s }
    }

    /// The largest element, a 0-d tensor (NaN if any element is NaN). Differentiable
    /// (`MaxBackward1`: the gradient is split evenly between tied maxima).
    /// - Precondition: the tensor is not empty.
    public func max() -> Tensor { extremum(.max) }

    /// The smallest element, a 0-d tensor. Differentiable (`MinBackward1`).
    /// - Precondition: the tensor is not empty.
    public func min() -> Tensor { extremum(.min) }

    private func extremum(_ op: ReduceOp) -> Tensor {
        precondition(count > 0, "\(op)(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.")
        let out = computeReduce(op, dims: Array(0..<rank), keepDim: false, resultDType: dtype)
        return Tensor.record(out, input: self) {
            let node: ExtremumBackward = op == .max ? MaxBackward1() : MinBackward1()
            node.selfSlot = node.save(self)
            node.resultSlot = node.save(out, isOutput: true)
            return node
        }
    }

    /// The maximum over `dim` and where it occurs (first occurrence; NaN wins).
    /// Values are differentiable (`MaxBackward0`), indices are int64.
    /// - Precondition: `dim` in range; the dim is not empty.
    public func max(dim: Int, keepDim: Bool = false) -> (values: Tensor, indices: Tensor) { extremum(.max, dim: dim, keepDim: keepDim) }

    /// The minimum over `dim` and where it occurs. Values differentiable (`MinBackward0`).
    /// - Precondition: `dim` in range; the dim is not empty.
    public func min(dim: Int, keepDim: Bool = false) -> (values: Tensor, indices: Tensor) { extremum(.min, dim: dim, keepDim: keepDim) }

    private func extremum(_ op: IndexReduceOp, dim: Int, keepDim: Bool) -> (values: Tensor, indices: Tensor) {
        let name = op == .max ? "max" : "min"
        let d = check { () throws(ShapeError) -> Int in
            let d = try Shape.normalize(dim: dim, rank: rank, op: name)
            if rank > 0 && shape[d] == 0 {
                throw ShapeError("\(name)(): Expected reduction dim \(d) to have non-zero size.")
            }
            return d
        }
        let x = rank == 0 ? reshaped([1]).detached() : self
        var kept = x.shape
        kept[d] = 1
        let compute: DType = dtype == .float16 || dtype == .bfloat16 ? .float32 : dtype
        let xc = x.dtype == compute ? x : x.convertedWithoutGrad(to: compute)
        let values = Tensor(uninitializedShape: kept, dtype: compute, device: device)
        let indices = Tensor(uninitializedShape: kept, dtype: .int64, device: device)
        Backends.backend(for: device).reduceWithIndex(op, xc, dim: d, values: values, indices: indices)
        var v = compute == dtype ? values : values.convertedWithoutGrad(to: dtype)
        var i = indices
        if !keepDim || rank == 0 {
            var s = x.shape
            s.remove(at: d)
            if rank == 0 { s = [] }
            v = v.viewing(shape: s, strides: Shape.contiguousStrides(s), offset: 0)
            i = i.viewing(shape: s, strides: Shape.contiguousStrides(s), offset: 0)
        }
        let result = Tensor.record(v, input: self) {
            let node: IndexedExtremumBackward = op == .max ? MaxBackward0() : MinBackward0()
            node.configure(inputShape: shape, dim: rank == 0 ? -1 : d, keepDim: keepDim)
            node.indicesSlot = node.save(i)
            return node
        }
        return (result, i)
    }

    /// The index of the maximum along `dim` (int64).
    public func argmax(dim: Int, keepDim: Bool = false) -> Tensor { max(dim: dim, keepDim: keepDim).indices }

    /// The index of the minimum along `dim` (int64).
    public func argmin(dim: Int, keepDim: Bool = false) -> Tensor { min(dim: dim, keepDim: keepDim).indices }

    /// The index of the maximum of the flattened tensor (a 0-d int64 tensor).
    public func argmax() -> Tensor { detached().reshaped([-1]).max(dim: 0).indices }

    /// The index of the minimum of the flattened tensor (a 0-d int64 tensor).
    public func argmin() -> Tensor { detached().reshaped([-1]).min(dim: 0).indices }
}

// MARK: - Backward nodes

/// Expands a reduced gradient back over the reduced dims.
private func expandReduced(_ g: Tensor, inputShape: [Int], dims: [Int], keepDim: Bool) -> Tensor {
    var r = g
    if !keepDim { for d in dims.sorted() { r = r.unsqueezed(dim: d) } }
    return r.expanded(to: inputShape)
}

/// Backward of `sum()`: the gradient broadcast to the input's shape.
final class SumBackward0: GradFn, @unchecked Sendable {
    let inputShape: [Int]
    init(inputShape: [Int]) {
        self.inputShape = inputShape
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        [gradOutputs[0]?.reshaped([Int](repeating: 1, count: inputShape.count)).expanded(to: inputShape)]
    }
}

/// Backward of `sum(dims:)`: unsqueeze the reduced dims and broadcast.
final class SumBackward1: GradFn, @unchecked Sendable {
    let inputShape: [Int], dims: [Int], keepDim: Bool
    init(inputShape: [Int], dims: [Int], keepDim: Bool) {
        self.inputShape = inputShape
        self.dims = dims
        self.keepDim = keepDim
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        [gradOutputs[0].map { expandReduced($0, inputShape: inputShape, dims: dims, keepDim: keepDim) }]
    }
}

/// Backward of `mean()`: the gradient broadcast and divided by the element count.
final class MeanBackward0: GradFn, @unchecked Sendable {
    let inputShape: [Int]
    init(inputShape: [Int]) {
        self.inputShape = inputShape
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let n = Shape.count(inputShape)
        return [g.reshaped([Int](repeating: 1, count: inputShape.count)).expanded(to: inputShape) / Double(n)]
    }
}

/// Backward of `mean(dims:)`.
final class MeanBackward1: GradFn, @unchecked Sendable {
    let inputShape: [Int], dims: [Int], keepDim: Bool, count: Int
    init(inputShape: [Int], dims: [Int], keepDim: Bool, count: Int) {
        self.inputShape = inputShape
        self.dims = dims
        self.keepDim = keepDim
        self.count = count
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        [gradOutputs[0].map { expandReduced($0, inputShape: inputShape, dims: dims, keepDim: keepDim) / Double(count) }]
    }
}

/// Shared backward of `max()`/`min()`: the gradient divided evenly between tied extrema.
class ExtremumBackward: GradFn, @unchecked Sendable {
    var selfSlot = -1, resultSlot = -1
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let x = try savedTensor(selfSlot), y = try savedTensor(resultSlot)
        let mask = (x .== y.detached()).to(g.dtype)
        return [mask * (g / mask.sum())]
    }
}

/// Backward of `max()`.
final class MaxBackward1: ExtremumBackward, @unchecked Sendable {}
/// Backward of `min()`.
final class MinBackward1: ExtremumBackward, @unchecked Sendable {}

/// Shared backward of `max(dim:)`/`min(dim:)`: the gradient goes to the selected index.
class IndexedExtremumBackward: GradFn, @unchecked Sendable {
    var inputShape: [Int] = [], dim = 0, keepDim = false
    var indicesSlot = -1

    func configure(inputShape: [Int], dim: Int, keepDim: Bool) {
        self.inputShape = inputShape
        self.dim = dim
        self.keepDim = keepDim
    }

    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        if dim < 0 { return [g] }  // 0-d input: the value itself
        var indices = try savedTensor(indicesSlot)
        var gk = g
        if !keepDim {
            indices = indices.unsqueezed(dim: dim)
            gk = gk.unsqueezed(dim: dim)
        }
        var positionShape = [Int](repeating: 1, count: inputShape.count)
        positionShape[dim] = inputShape[dim]
        let positions = Tensor.arange(inputShape[dim], device: g.device).reshaped(positionShape)
        let mask = positions .== indices
        return [Tensor.where(mask, gk, Tensor.zeros([], dtype: g.dtype, device: g.device)).expanded(to: inputShape)]
    }
}

/// Backward of `max(dim:)`.
final class MaxBackward0: IndexedExtremumBackward, @unchecked Sendable {}
/// Backward of `min(dim:)`.
final class MinBackward0: IndexedExtremumBackward, @unchecked Sendable {}
