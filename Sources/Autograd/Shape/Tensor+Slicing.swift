// Views that keep part of a tensor: select, slices, narrow, split/chunk/unbind, diagonal.

extension Tensor {
    /// Validates `select(dim:index:)`, returning the normalized dim and index.
    func validateSelect(dim: Int, index: Int) throws(ShapeError) -> (Int, Int) {
        guard rank > 0 else { throw ShapeError("select: cannot be applied to a 0-dim tensor") }
        let d = try Shape.normalize(dim: dim, rank: rank, op: "select")
        let n = shape[d]
        guard index >= -n && index < n else {
            throw ShapeError("select: index \(index) out of range for tensor of size \(Shape.describe(shape)) at dimension \(d)")
        }
        return (d, index < 0 ? index + n : index)
    }

    /// The view at position `index` of `dim`, which it removes (PyTorch's `select`; `x[i]`
    /// selects along dim 0). Negative indices count from the end. Differentiable
    /// (`SelectBackward0`).
    ///
    /// ```swift
    /// Tensor.zeros([2, 3, 4]).select(dim: 1, index: -1).shape   // [2, 4]
    /// ```
    /// - Precondition: rank ≥ 1; `dim` and `index` in range.
    public func select(dim: Int, index: Int) -> Tensor {
        let (d, i) = check { () throws(ShapeError) in try validateSelect(dim: dim, index: index) }
        let view = ViewGeometry(of: self).selecting(dim: d, index: i)
        let grad = ViewGeometry(contiguous: shape).selecting(dim: d, index: i)
        return viewWithGrad(view) { SelectBackward0(inputShape: shape, geometry: grad) }
    }

    /// Clamps Python-style slice bounds (negative from the end, nil for the ends) to `[0, n]`.
    static func clampSliceBounds(start: Int?, end: Int?, size n: Int) -> (Int, Int) {
        func clamp(_ v: Int) -> Int { Swift.min(Swift.max(v < 0 ? v + n : v, 0), n) }
        let s = start.map(clamp) ?? 0
        let e = end.map(clamp) ?? n
        return (s, Swift.max(e, s))
    }

    /// Validates a slice, returning the normalized dim and clamped bounds.
    func validateSlice(dim: Int, start: Int?, end: Int?, step: Int) throws(ShapeError) -> (Int, Int, Int) {
        guard rank > 0 else { throw ShapeError("slice: cannot be applied to a 0-dim tensor") }
        let d = try Shape.normalize(dim: dim, rank: rank, op: "slice")
        guard step > 0 else { throw ShapeError("slice: step must be greater than zero (got \(step))") }
        let (s, e) = Tensor.clampSliceBounds(start: start, end: end, size: shape[d])
        return (d, s, e)
    }

    /// The view of positions `start, start + step, …` below `end` along `dim`, with Python's
    /// slice rules: negative bounds count from the end, out-of-range bounds clamp, nil means
    /// the end. Differentiable (`SliceBackward0`).
    /// - Precondition: rank ≥ 1; `dim` in range; `step > 0`.
    func slice(dim: Int, start: Int?, end: Int?, step: Int = 1) -> Tensor {
        let (d, s, e) = check { () throws(ShapeError) in try validateSlice(dim: dim, start: start, end: end, step: step) }
        let view = ViewGeometry(of: self).slicing(dim: d, start: s, end: e, step: step)
        let grad = ViewGeometry(contiguous: shape).slicing(dim: d, start: s, end: e, step: step)
        return viewWithGrad(view) { SliceBackward0(inputShape: shape, geometry: grad) }
    }

    /// Validates `narrow`, returning the normalized dim and start.
    func validateNarrow(dim: Int, start: Int, length: Int) throws(ShapeError) -> (Int, Int) {
        guard rank > 0 else { throw ShapeError("narrow: cannot be applied to a 0-dim tensor") }
        let d = try Shape.normalize(dim: dim, rank: rank, op: "narrow")
        let n = shape[d]
        guard start >= -n && start <= n else {
            throw ShapeError("narrow: start (\(start)) out of range for dimension \(d) of size \(n)")
        }
        let s = start < 0 ? start + n : start
        guard length >= 0 && s + length <= n else {
            throw ShapeError("narrow: start (\(s)) + length (\(length)) exceeds dimension size (\(n)) of dim \(d)")
        }
        return (d, s)
    }

    /// The view of `length` positions of `dim` from `start` (PyTorch's `narrow`).
    /// Differentiable (`SliceBackward0`).
    ///
    /// ```swift
    /// Tensor.arange(10).narrow(dim: 0, start: 2, length: 3)   // [2, 3, 4]
    /// ```
    /// - Precondition: `dim` in range; `0 <= start` (or negative from the end) and
    ///   `start + length <= shape[dim]`.
    public func narrow(dim: Int, start: Int, length: Int) -> Tensor {
        let (d, s) = check { () throws(ShapeError) in try validateNarrow(dim: dim, start: start, length: length) }
        return slice(dim: d, start: s, end: s + length)
    }

    /// Views of consecutive pieces of `dim`, each `size` long (the last may be shorter)
    /// (PyTorch's `split`). Differentiable (`SplitBackward0`).
    ///
    /// ```swift
    /// Tensor.arange(5).split(size: 2).map(\.shape)   // [[2], [2], [1]]
    /// ```
    /// - Precondition: rank ≥ 1; `dim` in range; `size > 0` (or 0 for an empty dim).
    public func split(size: Int, dim: Int = 0) -> [Tensor] {
        let d = check { () throws(ShapeError) -> Int in
            guard rank > 0 else { throw ShapeError("split: cannot be applied to a 0-dim tensor") }
            let d = try Shape.normalize(dim: dim, rank: rank, op: "split")
            guard size > 0 || (size == 0 && shape[d] == 0) else {
                throw ShapeError("split: split size must be positive for a non-empty dimension (got \(size) for dim \(d) of size \(shape[d]))")
            }
            return d
        }
        let n = shape[d]
        if n == 0 { return [splitPieces(dim: d, sizes: [0])[0]] }
        var sizes: [Int] = []
        var start = 0
        while start < n {
            sizes.append(Swift.min(size, n - start))
            start += size
        }
        return splitPieces(dim: d, sizes: sizes)
    }

    /// Views of consecutive pieces of `dim` with the given sizes (PyTorch's
    /// `split_with_sizes`). Differentiable (`SplitBackward0`).
    /// - Precondition: the sizes are non-negative and sum to `shape[dim]`.
    public func split(sizes: [Int], dim: Int = 0) -> [Tensor] {
        let d = check { () throws(ShapeError) -> Int in
            guard rank > 0 else { throw ShapeError("split: cannot be applied to a 0-dim tensor") }
            let d = try Shape.normalize(dim: dim, rank: rank, op: "split")
            guard sizes.allSatisfy({ $0 >= 0 }) && sizes.reduce(0, +) == shape[d] else {
                throw ShapeError("split: sizes \(sizes) must be non-negative and sum to \(shape[d]), the size of dim \(d) (shape \(Shape.describe(shape)))")
            }
            return d
        }
        return splitPieces(dim: d, sizes: sizes)
    }

    /// `chunks` views of nearly equal size along `dim`: each `ceil(n / chunks)` long, so
    /// fewer may come back (PyTorch's `chunk`). Differentiable (`SplitBackward0`).
    /// - Precondition: `chunks > 0`; `dim` in range.
    public func chunk(_ chunks: Int, dim: Int = 0) -> [Tensor] {
        check { () throws(ShapeError) in
            guard chunks > 0 else { throw ShapeError("chunk: number of chunks must be greater than 0 (got \(chunks))") }
            guard rank > 0 else { throw ShapeError("chunk: cannot be applied to a 0-dim tensor") }
            _ = try Shape.normalize(dim: dim, rank: rank, op: "chunk")
        }
        let n = shape[check { () throws(ShapeError) in try Shape.normalize(dim: dim, rank: rank, op: "chunk") }]
        let size = (n + chunks - 1) / chunks
        return split(size: Swift.max(size, n == 0 ? 0 : 1), dim: dim)
    }

    private func splitPieces(dim d: Int, sizes: [Int]) -> [Tensor] {
        var views: [ViewGeometry] = [], grads: [ViewGeometry] = []
        var start = 0
        for s in sizes {
            views.append(ViewGeometry(of: self).slicing(dim: d, start: start, end: start + s, step: 1))
            grads.append(ViewGeometry(contiguous: shape).slicing(dim: d, start: start, end: start + s, step: 1))
            start += s
        }
        let outs = views.map { viewing(shape: $0.shape, strides: $0.strides, offset: $0.offset) }
        Tensor.recordOutputs(outs, inputs: [self]) { SplitBackward0(inputShape: shape, geometries: grads) }
        return outs
    }

    /// The views at every position of `dim`, which each removes (PyTorch's `unbind`).
    /// Differentiable (`UnbindBackward0`).
    /// - Precondition: rank ≥ 1; `dim` in range.
    public func unbind(dim: Int = 0) -> [Tensor] {
        let d = check { () throws(ShapeError) -> Int in
            guard rank > 0 else { throw ShapeError("unbind: dimension specified as 0 but tensor has no dimensions") }
            return try Shape.normalize(dim: dim, rank: rank, op: "unbind")
        }
        let views = (0..<shape[d]).map { ViewGeometry(of: self).selecting(dim: d, index: $0) }
        let grads = (0..<shape[d]).map { ViewGeometry(contiguous: shape).selecting(dim: d, index: $0) }
        let outs = views.map { viewing(shape: $0.shape, strides: $0.strides, offset: $0.offset) }
        Tensor.recordOutputs(outs, inputs: [self]) { UnbindBackward0(inputShape: shape, geometries: grads) }
        return outs
    }

    /// The view of the diagonal `offset` of the matrices in dims `dim1`, `dim2` (removed; the
    /// diagonal becomes the last dim), as PyTorch's `diagonal`. Differentiable (`DiagonalBackward0`).
    /// - Precondition: rank ≥ 2; the dims are in range and differ.
    public func diagonal(offset: Int = 0, dim1: Int = 0, dim2: Int = 1) -> Tensor {
        let (d1, d2) = check { () throws(ShapeError) -> (Int, Int) in
            guard rank >= 2 else { throw ShapeError("diagonal: expected a tensor of at least 2 dimensions (got shape \(Shape.describe(shape)))") }
            let a = try Shape.normalize(dim: dim1, rank: rank, op: "diagonal"), b = try Shape.normalize(dim: dim2, rank: rank, op: "diagonal")
            guard a != b else { throw ShapeError("diagonal: dimensions cannot be identical \(dim1), \(dim2)") }
            return (a, b)
        }
        let view = ViewGeometry(of: self).diagonal(offset: offset, dim1: d1, dim2: d2)
        let grad = ViewGeometry(contiguous: shape).diagonal(offset: offset, dim1: d1, dim2: d2)
        return viewWithGrad(view) { DiagonalBackward0(inputShape: shape, geometry: grad) }
    }
}
