extension Shape {
    /// Whether `shape` can be expanded (broadcast) to `target`.
    static func isExpandable(_ shape: [Int], to target: [Int]) -> Bool {
        guard shape.count <= target.count else { return false }
        let lead = target.count - shape.count
        for i in 0..<shape.count where shape[i] != 1 && shape[i] != target[lead + i] { return false }
        return true
    }

    /// Strides for viewing `oldShape`/`oldStrides` as `newShape` without copying, or nil when
    /// the layout does not allow it (PyTorch's `computeStride`).
    static func viewStrides(oldShape: [Int], oldStrides: [Int], newShape: [Int]) -> [Int]? {
        if oldShape.isEmpty { return [Int](repeating: 1, count: newShape.count) }
        if count(oldShape) == 0 { return contiguousStrides(newShape) }
        var newStrides = [Int](repeating: 0, count: newShape.count)
        var viewD = newShape.count - 1
        var chunkBaseStride = oldStrides[oldStrides.count - 1]
        var tensorNumel = 1, viewNumel = 1
        for tensorD in stride(from: oldShape.count - 1, through: 0, by: -1) {
            tensorNumel *= oldShape[tensorD]
            if tensorD == 0 || (oldShape[tensorD - 1] != 1 && oldStrides[tensorD - 1] != tensorNumel * chunkBaseStride) {
                while viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] == 1) {
                    newStrides[viewD] = viewNumel * chunkBaseStride
                    viewNumel *= newShape[viewD]
                    viewD -= 1
                }
                if viewNumel != tensorNumel { return nil }
                if tensorD > 0 {
                    chunkBaseStride = oldStrides[tensorD - 1]
                    tensorNumel = 1
                    viewNumel = 1
                }
            }
        }
        return viewD == -1 ? newStrides : nil
    }

    /// Resolves one `-1` in a requested shape and checks the element count.
    static func inferReshape(_ requested: [Int], count: Int, op: String) throws(ShapeError) -> [Int] {
        var shape = requested
        let inferred = shape.indices.filter { shape[$0] == -1 }
        if inferred.count > 1 { throw ShapeError("\(op): only one dimension can be inferred (shape \(describe(requested)))") }
        if let bad = shape.first(where: { $0 < -1 }) { throw ShapeError("\(op): invalid shape dimension \(bad)") }
        if let i = inferred.first {
            let known = shape.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            guard known != 0, count % known == 0 else {
                throw ShapeError("\(op): shape '\(describe(requested))' is invalid for input of size \(count)")
            }
            shape[i] = count / known
        }
        guard Shape.count(shape) == count else {
            throw ShapeError("\(op): shape '\(describe(requested))' is invalid for input of size \(count)")
        }
        return shape
    }
}

extension Tensor {
    /// The same elements with a new shape: a view when the strides allow it, else a copy
    /// (PyTorch's `reshape`). One dimension may be `-1` (inferred). Differentiable.
    ///
    /// ```swift
    /// Tensor.arange(6).reshaped([2, -1]).shape   // [2, 3]
    /// ```
    /// - Precondition: the element count is unchanged.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        let target = check { () throws(ShapeError) in try Shape.inferReshape(newShape, count: count, op: "reshape") }
        if target == shape { return viewWithGrad(shape: shape, strides: strides, offset: offset) { ViewBackward0(inputShape: $0.shape) } }
        if let s = Shape.viewStrides(oldShape: shape, oldStrides: strides, newShape: target) {
            return viewWithGrad(shape: target, strides: s, offset: offset) { ViewBackward0(inputShape: $0.shape) }
        }
        let copy = clone()
        return copy.viewWithGrad(shape: target, strides: Shape.contiguousStrides(target), offset: 0) { UnsafeViewBackward0(inputShape: $0.shape) }
    }

    /// A view of the same storage with other geometry, recorded with `makeNode` if needed.
    func viewWithGrad(shape: [Int], strides: [Int], offset: Int, _ makeNode: (Tensor) -> GradFn) -> Tensor {
        let out = viewing(shape: shape, strides: strides, offset: offset)
        return Tensor.record(out, input: self) { makeNode(self) }
    }

    /// The tensor flattened to one dimension (a view when possible). Differentiable.
    public func flattened() -> Tensor { reshaped([-1]) }

    /// A view with size-1 dimensions (or new leading ones) repeated to `newShape` without
    /// copying (stride 0). `-1` keeps a dimension. Differentiable (`ExpandBackward0`).
    /// - Precondition: each non-1 dimension equals its target.
    public func expanded(to newShape: [Int]) -> Tensor {
        let plan = check { () throws(ShapeError) -> ([Int], [Int]) in
            guard newShape.count >= rank else {
                throw ShapeError("expand: the number of sizes provided (\(newShape.count)) must be greater or equal to the number of dimensions in the tensor (\(rank))")
            }
            let lead = newShape.count - rank
            var target = newShape
            var newStrides = [Int](repeating: 0, count: newShape.count)
            for i in 0..<newShape.count {
                if i < lead {
                    guard newShape[i] >= 0 else { throw ShapeError("expand: -1 is not allowed in a leading, non-existing dimension (\(i))") }
                    continue
                }
                let d = shape[i - lead]
                if newShape[i] == -1 { target[i] = d }
                if d == target[i] {
                    newStrides[i] = strides[i - lead]
                } else if d == 1 {
                    newStrides[i] = 0
                } else {
                    throw ShapeError("expand: the expanded size of the tensor (\(target[i])) must match the existing size (\(d)) at non-singleton dimension \(i). Target sizes: \(Shape.describe(newShape)). Tensor sizes: \(Shape.describe(shape))")
                }
            }
            return (target, newStrides)
        }
        if plan.0 == shape { return self }
        return viewWithGrad(shape: plan.0, strides: plan.1, offset: offset) { ExpandBackward0(inputShape: $0.shape) }
    }

    /// A view with dimensions `dim0` and `dim1` swapped (negative dims count from the end).
    /// Differentiable (`TransposeBackward0`).
    public func transposed(_ dim0: Int, _ dim1: Int) -> Tensor {
        let (d0, d1) = check { () throws(ShapeError) in
            (try Shape.normalize(dim: dim0, rank: rank, op: "transpose"), try Shape.normalize(dim: dim1, rank: rank, op: "transpose"))
        }
        if rank == 0 { return viewWithGrad(shape: shape, strides: strides, offset: offset) { _ in TransposeBackward0(dim0: 0, dim1: 0) } }
        var s = shape, st = strides
        s.swapAt(d0, d1)
        st.swapAt(d0, d1)
        return viewWithGrad(shape: s, strides: st, offset: offset) { _ in TransposeBackward0(dim0: d0, dim1: d1) }
    }

    /// A view with dimensions reordered so result dim i is input dim `dims[i]`.
    /// Differentiable (`PermuteBackward0`).
    /// - Precondition: `dims` is a permutation of the dimensions.
    public func permuted(_ dims: [Int]) -> Tensor {
        let normalized = check { () throws(ShapeError) -> [Int] in
            guard dims.count == rank else {
                throw ShapeError("permute: number of dims don't match in permute (got \(dims.count) for a tensor of rank \(rank))")
            }
            var result: [Int] = []
            for d in dims { result.append(try Shape.normalize(dim: d, rank: rank, op: "permute")) }
            guard Set(result).count == rank else { throw ShapeError("permute: repeated dim in \(dims)") }
            return result
        }
        return viewWithGrad(shape: normalized.map { shape[$0] }, strides: normalized.map { strides[$0] }, offset: offset) { _ in
            PermuteBackward0(dims: normalized)
        }
    }

    /// The tensor with its dimensions reversed (PyTorch's `.T`); the transpose of a matrix.
    public var T: Tensor { permuted(Array((0..<rank).reversed())) }

    /// A view without dimension `dim` if its size is 1 (else unchanged). Differentiable (`SqueezeBackward1`).
    public func squeezed(dim: Int) -> Tensor {
        let d = check { () throws(ShapeError) in try Shape.normalize(dim: dim, rank: rank, op: "squeeze") }
        if rank == 0 || shape[d] != 1 { return viewWithGrad(shape: shape, strides: strides, offset: offset) { _ in SqueezeBackward1(dim: -1) } }
        var s = shape, st = strides
        s.remove(at: d)
        st.remove(at: d)
        return viewWithGrad(shape: s, strides: st, offset: offset) { _ in SqueezeBackward1(dim: d) }
    }

    /// A view without any size-1 dimensions. Differentiable (`SqueezeBackward0`).
    public func squeezed() -> Tensor {
        let keep = shape.indices.filter { shape[$0] != 1 }
        return viewWithGrad(shape: keep.map { shape[$0] }, strides: keep.map { strides[$0] }, offset: offset) {
            SqueezeBackward0(inputShape: $0.shape)
        }
    }

    /// A view with a new size-1 dimension at `dim` (`-1` appends). Differentiable (`UnsqueezeBackward0`).
    public func unsqueezed(dim: Int) -> Tensor {
        let d = check { () throws(ShapeError) in try Shape.normalize(dim: dim, rank: rank + 1, op: "unsqueeze") }
        var s = shape, st = strides
        let newStride = d < rank ? shape[d] * strides[d] : 1
        s.insert(1, at: d)
        st.insert(newStride, at: d)
        return viewWithGrad(shape: s, strides: st, offset: offset) { _ in UnsqueezeBackward0(dim: d) }
    }

    /// Sums a broadcast gradient back to `target` (PyTorch's `sum_to_size`). Differentiable.
    func sumToSize(_ target: [Int]) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        var dims = Array(0..<lead)
        for i in 0..<target.count where target[i] == 1 && shape[lead + i] != 1 { dims.append(lead + i) }
        var r = dims.isEmpty ? self : sum(dims: dims, keepDim: true)
        if lead > 0 || r.shape != target { r = r.reshaped(target) }
        return r
    }
}

// MARK: - Backward nodes

/// Backward of a view reshape: reshape the gradient back.
final class ViewBackward0: GradFn, @unchecked Sendable {
    let inputShape: [Int]
    init(inputShape: [Int]) {
        self.inputShape = inputShape
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] { [gradOutputs[0]?.reshaped(inputShape)] }
}

/// Backward of a reshape that had to copy: reshape the gradient back.
final class UnsafeViewBackward0: GradFn, @unchecked Sendable {
    let inputShape: [Int]
    init(inputShape: [Int]) {
        self.inputShape = inputShape
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] { [gradOutputs[0]?.reshaped(inputShape)] }
}

/// Backward of `expanded(to:)`: sum over the broadcast dimensions.
final class ExpandBackward0: GradFn, @unchecked Sendable {
    let inputShape: [Int]
    init(inputShape: [Int]) {
        self.inputShape = inputShape
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] { [gradOutputs[0]?.sumToSize(inputShape)] }
}

/// Backward of `transposed`: transpose back.
final class TransposeBackward0: GradFn, @unchecked Sendable {
    let dim0: Int, dim1: Int
    init(dim0: Int, dim1: Int) {
        self.dim0 = dim0
        self.dim1 = dim1
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        [gradOutputs[0].map { $0.rank == 0 ? $0 : $0.transposed(dim0, dim1) }]
    }
}

/// Backward of `permuted`: apply the inverse permutation.
final class PermuteBackward0: GradFn, @unchecked Sendable {
    let dims: [Int]
    init(dims: [Int]) {
        self.dims = dims
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        var inverse = [Int](repeating: 0, count: dims.count)
        for (i, d) in dims.enumerated() { inverse[d] = i }
        return [gradOutputs[0]?.permuted(inverse)]
    }
}

/// Backward of `squeezed(dim:)`: unsqueeze back (nothing when the dim was not squeezed).
final class SqueezeBackward1: GradFn, @unchecked Sendable {
    let dim: Int
    init(dim: Int) {
        self.dim = dim
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        [gradOutputs[0].map { dim < 0 ? $0 : $0.unsqueezed(dim: dim) }]
    }
}

/// Backward of `squeezed()`: reshape back.
final class SqueezeBackward0: GradFn, @unchecked Sendable {
    let inputShape: [Int]
    init(inputShape: [Int]) {
        self.inputShape = inputShape
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] { [gradOutputs[0]?.reshaped(inputShape)] }
}

/// Backward of `unsqueezed(dim:)`: squeeze the dim away.
final class UnsqueezeBackward0: GradFn, @unchecked Sendable {
    let dim: Int
    init(dim: Int) {
        self.dim = dim
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] { [gradOutputs[0]?.squeezed(dim: dim)] }
}
