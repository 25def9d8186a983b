// indexSelect, indexAdd, gather, scatter, scatterAdd, maskedFill, maskedSelect.

extension Tensor {
    /// Validates a 1-D integer index along `dim` (indexSelect/indexAdd), returning the dim.
    func validateIndexAlongDim(_ index: Tensor, dim: Int, op: String) throws(ShapeError) -> Int {
        guard rank > 0 else { throw ShapeError("\(op): cannot index a 0-dim tensor along a dim") }
        let d = try Shape.normalize(dim: dim, rank: rank, op: op)
        guard index.dtype == .int64 || index.dtype == .int32 else {
            throw ShapeError("\(op): expected index to be an int64 or int32 tensor (got \(index.dtype))")
        }
        guard index.rank <= 1 else {
            throw ShapeError("\(op): index should have 1 dimension, but got shape \(Shape.describe(index.shape))")
        }
        guard index.device == device else {
            throw ShapeError("\(op): expected index on \(device), but found it on \(index.device)")
        }
        return d
    }

    /// The slices at positions `index` along `dim`, in that order (PyTorch's `index_select`);
    /// `dim` becomes `index.count` long. A copy. Differentiable (`IndexSelectBackward0`).
    ///
    /// ```swift
    /// Tensor.arange(6).reshaped([3, 2]).indexSelect(dim: 0, index: Tensor([2, 0]))   // [[4, 5], [0, 1]]
    /// ```
    /// - Precondition: `index` is a 1-D (or 0-d) int64/int32 tensor on the same device, in
    ///   bounds (negative from the end); `dim` in range.
    /// - Complexity: O(result count).
    public func indexSelect(dim: Int, index: Tensor) -> Tensor {
        let advanced = check { () throws(ShapeError) -> AdvancedIndex in
            let d = try validateIndexAlongDim(index, dim: dim, op: "index_select")
            return try AdvancedIndex.make(dims: [d], tensors: [index.reshaped([-1])], shape: shape, op: "index_select")
        }
        let out = advanced.gather(self)
        return Tensor.record(out, input: self) {
            IndexSelectBackward0(dim: advanced.dims[0], index: advanced.tensors[0], inputShape: shape)
        }
    }

    /// A copy with `source · alpha` added at positions `index` along `dim`; repeated positions
    /// accumulate (PyTorch's `index_add`). Differentiable in both (`IndexAddBackward0`).
    /// - Precondition: `index` 1-D integer, in bounds; `source` has this shape with `dim` of
    ///   length `index.count`; same dtype and device.
    public func indexAdd(dim: Int, index: Tensor, source: Tensor, alpha: Double = 1) -> Tensor {
        let advanced = check { () throws(ShapeError) -> AdvancedIndex in
            let d = try validateIndexAlongDim(index, dim: dim, op: "index_add")
            var expected = shape
            expected[d] = index.count
            guard source.shape == expected || (source.rank == 0 && expected == [1]) else {
                throw ShapeError("index_add: source shape \(Shape.describe(source.shape)) must match self shape \(Shape.describe(shape)) with dim \(d) of size \(index.count)")
            }
            guard source.dtype == dtype else {
                throw ShapeError("index_add: expected source to have dtype \(dtype), but got \(source.dtype)")
            }
            return try AdvancedIndex.make(dims: [d], tensors: [index.reshaped([-1])], shape: shape, op: "index_add")
        }
        let out = Tensor(uninitializedShape: shape, dtype: dtype, device: device)
        Backends.backend(for: device).copy(self, into: out)
        let scaled = alpha == 1 ? source.detached() : withNoGrad { source.detached() * alpha }
        advanced.put(scaled.reshaped(advanced.resultShape(shape)), into: out, accumulate: true)
        return Tensor.record(out, inputs: self, source) {
            IndexAddBackward0(dim: advanced.dims[0], index: advanced.tensors[0], alpha: alpha, sourceShape: source.shape)
        }
    }

    /// Validates gather/scatter arguments (PyTorch's rules), returning the normalized dim.
    func validateGatherScatter(dim: Int, index: Tensor, source: Tensor?, op: String) throws(ShapeError) -> Int {
        let d = try Shape.normalize(dim: dim, rank: rank, op: op)
        guard index.dtype == .int64 else { throw ShapeError("\(op): Expected dtype int64 for index (got \(index.dtype))") }
        guard index.device == device else { throw ShapeError("\(op): expected index on \(device), but found it on \(index.device)") }
        guard index.rank == rank || (index.rank <= 1 && rank <= 1) else {
            throw ShapeError("\(op): Index tensor must have the same number of dimensions as input tensor (index \(Shape.describe(index.shape)), input \(Shape.describe(shape)))")
        }
        if let source {
            guard source.dtype == dtype else { throw ShapeError("\(op): Expected self.dtype to be equal to src.dtype (\(dtype) vs \(source.dtype))") }
            guard source.rank == index.rank || (index.rank <= 1 && source.rank <= 1) else {
                throw ShapeError("\(op): Index tensor must have the same number of dimensions as src tensor (index \(Shape.describe(index.shape)), src \(Shape.describe(source.shape)))")
            }
        }
        for k in 0..<index.rank {
            if k != d && index.shape[k] > shape[k] {
                throw ShapeError("\(op): Size does not match at dimension \(k) expected index \(Shape.describe(index.shape)) to be smaller than self \(Shape.describe(shape)) apart from dimension \(d)")
            }
            if let source, index.shape[k] > source.shape[k] {
                throw ShapeError("\(op): Expected index \(Shape.describe(index.shape)) to be smaller than src \(Shape.describe(source.shape)) at dimension \(k)")
            }
        }
        let size = rank == 0 ? 1 : shape[d]
        if let bad = index.firstInt64(outside: Int64(size)) {
            throw ShapeError("\(op): index \(bad) is out of bounds for dimension \(d) with size \(size)")
        }
        return d
    }

    /// The first value (in logical order) of this int64 tensor outside `0..<bound`, or nil.
    /// A large contiguous CPU tensor is first checked in place on all threads
    /// (`ckernels_i64_in_range`), without the copy `scalars` makes: gather's check of a
    /// `[4096, 1000]` index took longer than the gather. Only a tensor with an offender is then
    /// searched for the first one.
    func firstInt64(outside bound: Int64) -> Int64? {
        if count >= 1 << 16, CKernelPaths.int64InRange(self, below: bound) == true { return nil }
        return scalars(as: Int64.self).first(where: { $0 < 0 || $0 >= bound })
    }

    /// `out[p] = self[p with p[dim] = index[p]]` over index's shape (PyTorch's `gather`).
    /// Differentiable (`GatherBackward0`).
    ///
    /// ```swift
    /// Tensor([[1, 2], [3, 4]]).gather(dim: 1, index: Tensor([[0, 0], [1, 0]]))   // [[1, 1], [4, 3]]
    /// ```
    /// - Precondition: `index` is int64 of the same rank, not larger than self outside `dim`,
    ///   values in `[0, shape[dim])`; same device.
    public func gather(dim: Int, index: Tensor) -> Tensor {
        let d = check { () throws(ShapeError) in try validateGatherScatter(dim: dim, index: index, source: nil, op: "gather") }
        let x = rank == 0 ? reshaped([1]).detached() : self
        let idx = index.rank == 0 ? index.reshaped([1]) : index
        let out = Tensor(uninitializedShape: idx.shape, dtype: dtype, device: device)
        if out.count > 0 { Backends.backend(for: device).gather(x, dim: d, index: idx, into: out) }
        let result = index.rank == 0 ? out.reshaped([]) : out
        return Tensor.record(result, input: self) { GatherBackward0(dim: d, index: index, inputShape: shape) }
    }

    /// A copy with `source[p]` written at `p with p[dim] = index[p]` for p over index's shape
    /// (PyTorch's `scatter`); when positions repeat, which write wins is unspecified.
    /// Differentiable (`ScatterBackward0`).
    /// - Precondition: as `gather`, and `source` (same dtype) at least index's size.
    public func scatter(dim: Int, index: Tensor, source: Tensor) -> Tensor {
        scatterImpl(dim: dim, index: index, source: source, accumulate: false, op: "scatter")
    }

    /// A copy with `value` written at the positions `index` selects along `dim`.
    /// Differentiable in self (`ScatterBackward1`).
    /// - Precondition: as `gather`.
    public func scatter(dim: Int, index: Tensor, value: Double) -> Tensor {
        let source = Tensor.full(index.shape, value: value, dtype: dtype, device: device)
        let out = withNoGrad { detached().scatterImpl(dim: dim, index: index, source: source, accumulate: false, op: "scatter") }.detached()
        return Tensor.record(out, input: self) { ScatterBackward1(dim: dim, index: index) }
    }

    /// A copy with `source[p]` added at `p with p[dim] = index[p]`; repeats accumulate
    /// (PyTorch's `scatter_add`). Differentiable (`ScatterAddBackward0`).
    /// - Precondition: as `scatter`.
    public func scatterAdd(dim: Int, index: Tensor, source: Tensor) -> Tensor {
        scatterImpl(dim: dim, index: index, source: source, accumulate: true, op: "scatter_add")
    }

    private func scatterImpl(dim: Int, index: Tensor, source: Tensor, accumulate: Bool, op: String) -> Tensor {
        let d = check { () throws(ShapeError) in try validateGatherScatter(dim: dim, index: index, source: source, op: op) }
        let out = Tensor(uninitializedShape: shape, dtype: dtype, device: device)
        Backends.backend(for: device).copy(self, into: out)
        if index.count > 0 {
            let target = rank == 0 ? out.reshaped([1]) : out
            let idx = index.rank == 0 ? index.reshaped([1]) : index
            let src = source.rank == 0 ? source.reshaped([1]) : source
            Backends.backend(for: device).scatter(src, dim: d, index: idx, into: target, accumulate: accumulate)
        }
        return Tensor.record(out, inputs: self, source) {
            accumulate ? ScatterAddBackward0(dim: d, index: index) : ScatterBackward0(dim: d, index: index)
        }
    }

    /// Validates a mask for maskedFill/maskedSelect.
    func validateMask(_ mask: Tensor, op: String, broadcastBoth: Bool) throws(ShapeError) {
        guard mask.dtype == .bool else { throw ShapeError("\(op): expected a bool mask, but got dtype \(mask.dtype)") }
        guard mask.device == device || mask.rank == 0 else {
            throw ShapeError("\(op): expected mask on \(device), but found it on \(mask.device)")
        }
        if broadcastBoth {
            _ = try Shape.broadcast(shape, mask.shape, op: op)
        } else if !Shape.isExpandable(mask.shape, to: shape) {
            throw ShapeError("\(op): mask of shape \(Shape.describe(mask.shape)) does not broadcast to the tensor's shape \(Shape.describe(shape))")
        }
    }

    /// A copy with `value` wherever `mask` is true (PyTorch's `masked_fill`); keeps the dtype.
    /// Differentiable (`MaskedFillBackward0`: zero gradient at the filled positions).
    /// - Precondition: `mask` is bool and broadcasts to this shape.
    public func maskedFill(_ mask: Tensor, value: Double) -> Tensor {
        check { () throws(ShapeError) in try validateMask(mask, op: "masked_fill", broadcastBoth: false) }
        let fill = Tensor(scalar: dtype.isFloatingPoint ? .double(value) : (dtype == .bool ? .bool(value != 0) : .int(truncatingToInt64(value))),
                          dtype: dtype, device: device)
        let out = withNoGrad { Tensor.where(mask, fill, detached()) }.detached()
        return Tensor.record(out, input: self) {
            let node = MaskedFillBackward0()
            node.mask = mask
            return node
        }
    }

    /// A copy with the 0-d `value` wherever `mask` is true. Differentiable in both
    /// (`MaskedFillBackward1`; the value's gradient sums over the filled positions).
    /// - Precondition: `mask` is bool and broadcasts to this shape; `value` is 0-d.
    public func maskedFill(_ mask: Tensor, value: Tensor) -> Tensor {
        check { () throws(ShapeError) in
            try validateMask(mask, op: "masked_fill", broadcastBoth: false)
            guard value.rank == 0 else {
                throw ShapeError("masked_fill: only supports a 0-dimensional value tensor, but got tensor with \(value.rank) dimension(s)")
            }
        }
        let out = withNoGrad { Tensor.where(mask, value.detached().convertedWithoutGrad(to: dtype), detached()) }.detached()
        return Tensor.record(out, inputs: self, value) {
            let node = MaskedFillBackward1()
            node.mask = mask
            return node
        }
    }

    /// The elements where `mask` (broadcast with this tensor) is true, as a 1-D copy
    /// (PyTorch's `masked_select`). Differentiable (`IndexBackward0`).
    /// - Precondition: `mask` is bool and broadcasts with this shape.
    public func maskedSelect(_ mask: Tensor) -> Tensor {
        let common = check { () throws(ShapeError) -> [Int] in
            try validateMask(mask, op: "masked_select", broadcastBoth: true)
            return try Shape.broadcast(shape, mask.shape, op: "masked_select")
        }
        let m = mask.expandedWithoutGrad(to: common)
        return expanded(to: common)[m]
    }
}

// MARK: - Backward nodes

/// Backward of `indexSelect`: the gradient added back at the selected positions.
final class IndexSelectBackward0: GradFn, @unchecked Sendable {
    let dim: Int, index: Tensor, inputShape: [Int]
    init(dim: Int, index: Tensor, inputShape: [Int]) {
        self.dim = dim
        self.index = index
        self.inputShape = inputShape
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        return [Tensor.zeros(inputShape, dtype: g.dtype, device: g.device).indexAdd(dim: dim, index: index, source: g)]
    }
}

/// Backward of `indexAdd`: `g` for self, `g.indexSelect · alpha` for the source.
final class IndexAddBackward0: GradFn, @unchecked Sendable {
    let dim: Int, index: Tensor, alpha: Double, sourceShape: [Int]
    init(dim: Int, index: Tensor, alpha: Double, sourceShape: [Int]) {
        self.dim = dim
        self.index = index
        self.alpha = alpha
        self.sourceShape = sourceShape
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil, nil] }
        var gs: Tensor? = nil
        if needsInputGrad(1) {
            let selected = g.indexSelect(dim: dim, index: index)
            gs = (alpha == 1 ? selected : selected * alpha).reshaped(sourceShape)
        }
        return [needsInputGrad(0) ? g : nil, gs]
    }
}

/// Backward of `gather`: the gradient scatter-added into zeros.
final class GatherBackward0: SelectionBackward, @unchecked Sendable {}

/// Backward of a selection of elements along a dim (gather, sort, topk): the gradient added
/// back at each value's source, zero elsewhere (`zeros.scatterAdd`, differentiable). Sort and
/// topk hold their own copy of the indices (the caller may change the returned ones in place).
class SelectionBackward: UnaryGradFn, @unchecked Sendable {
    let dim: Int, index: Tensor, inputShape: [Int]
    init(dim: Int, index: Tensor, inputShape: [Int]) {
        self.dim = dim
        self.index = index
        self.inputShape = inputShape
        super.init()
    }
    override func gradient(_ g: Tensor) throws -> Tensor {
        Tensor.zeros(inputShape, dtype: g.dtype, device: g.device).scatterAdd(dim: dim, index: index, source: g)
    }
}

/// Backward of `scatter`: zero at the overwritten positions for self; gathered for the source.
final class ScatterBackward0: GradFn, @unchecked Sendable {
    let dim: Int, index: Tensor
    init(dim: Int, index: Tensor) {
        self.dim = dim
        self.index = index
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil, nil] }
        return [needsInputGrad(0) ? g.scatter(dim: dim, index: index, value: 0) : nil,
                needsInputGrad(1) ? g.gather(dim: dim, index: index) : nil]
    }
}

/// Backward of `scatter(value:)`: zero at the overwritten positions.
final class ScatterBackward1: GradFn, @unchecked Sendable {
    let dim: Int, index: Tensor
    init(dim: Int, index: Tensor) {
        self.dim = dim
        self.index = index
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        [gradOutputs[0]?.scatter(dim: dim, index: index, value: 0)]
    }
}

/// Backward of `scatterAdd`: `g` for self; gathered for the source.
final class ScatterAddBackward0: GradFn, @unchecked Sendable {
    let dim: Int, index: Tensor
    init(dim: Int, index: Tensor) {
        self.dim = dim
        self.index = index
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil, nil] }
        return [needsInputGrad(0) ? g : nil, needsInputGrad(1) ? g.gather(dim: dim, index: index) : nil]
    }
}

/// Backward of `maskedFill(value: Double)`: zero where filled.
final class MaskedFillBackward0: GradFn, @unchecked Sendable {
    var mask: Tensor?
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0], let mask else { return [nil] }
        return [Tensor.where(mask, Tensor.zeros([], dtype: g.dtype, device: g.device), g)]
    }
}

/// Backward of `maskedFill(value: Tensor)`: zero where filled for self; the sum of the
/// gradient over the filled positions for the value.
final class MaskedFillBackward1: GradFn, @unchecked Sendable {
    var mask: Tensor?
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0], let mask else { return [nil, nil] }
        let zero = Tensor.zeros([], dtype: g.dtype, device: g.device)
        return [needsInputGrad(0) ? Tensor.where(mask, zero, g) : nil,
                needsInputGrad(1) ? Tensor.where(mask, g, zero).sum() : nil]
    }
}
