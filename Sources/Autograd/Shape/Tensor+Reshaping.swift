// Views that rearrange dimensions: mT, movingDim, flattened ranges, unflattened, squeezed(dims:).

extension Tensor {
    /// The view with the last two dims swapped (PyTorch's `.mT`, batched matrix transpose).
    /// Differentiable (`TransposeBackward0`).
    /// - Precondition: rank ≥ 2.
    public var mT: Tensor {
        check { () throws(ShapeError) in try validateMatrixTranspose() }
        return transposed(-2, -1)
    }

    /// Validates `mT`: rank at least 2.
    func validateMatrixTranspose() throws(ShapeError) {
        guard rank >= 2 else { throw ShapeError("mT: tensor.mT is only supported on matrices or batches of matrices. Got \(rank)-D tensor.") }
    }

    /// The view with dim `source` moved to position `destination`, the others keeping their
    /// order (PyTorch's `movedim`). Differentiable (`PermuteBackward0`).
    /// - Precondition: both dims in range.
    public func movedim(_ source: Int, _ destination: Int) -> Tensor { movingDim(source, to: destination) }

    func movingDim(_ source: Int, to destination: Int) -> Tensor {
        if rank == 0 { return self }
        let (s, t) = check { () throws(ShapeError) in
            (try Shape.normalize(dim: source, rank: rank, op: "movedim"), try Shape.normalize(dim: destination, rank: rank, op: "movedim"))
        }
        if s == t { return self }
        var order = Array(0..<rank)
        order.remove(at: s)
        order.insert(s, at: t)
        return permuted(order)
    }

    /// Dims `startDim...endDim` merged into one (a view when the strides allow, else a copy).
    /// Differentiable (`ViewBackward0`/`UnsafeViewBackward0`).
    ///
    /// ```swift
    /// Tensor.zeros([2, 3, 4]).flattened(startDim: 1).shape   // [2, 12]
    /// ```
    /// - Precondition: dims in range and `startDim <= endDim` after normalizing.
    public func flattened(startDim: Int, endDim: Int = -1) -> Tensor {
        if rank == 0 { return reshaped([1]) }
        let (s, e) = check { () throws(ShapeError) in try validateFlatten(startDim: startDim, endDim: endDim) }
        let merged = shape[s...e].reduce(1, *)
        return reshaped(Array(shape[..<s]) + [merged] + Array(shape[(e + 1)...]))
    }

    /// Validates `flattened(startDim:endDim:)`, returning the normalized dims.
    func validateFlatten(startDim: Int, endDim: Int) throws(ShapeError) -> (Int, Int) {
        let s = try Shape.normalize(dim: startDim, rank: rank, op: "flatten"), e = try Shape.normalize(dim: endDim, rank: rank, op: "flatten")
        guard s <= e else { throw ShapeError("flatten: start_dim (\(s)) cannot come after end_dim (\(e))") }
        return (s, e)
    }

    /// Validates `unflattened`, returning the normalized dim and the resolved sizes.
    func validateUnflatten(dim: Int, sizes: [Int]) throws(ShapeError) -> (Int, [Int]) {
        let d = try Shape.normalize(dim: dim, rank: rank, op: "unflatten")
        guard !sizes.isEmpty else { throw ShapeError("unflatten: sizes must be non-empty") }
        let n = rank == 0 ? 1 : shape[d]
        do {
            return (d, try Shape.inferReshape(sizes, count: n, op: "unflatten"))
        } catch {
            throw ShapeError("unflatten: provided sizes \(Shape.describe(sizes)) don't multiply up to the size of dim \(d) (\(n)) in the input tensor")
        }
    }

    /// Dim `dim` split into `sizes` (one may be -1, inferred), a view (PyTorch's `unflatten`).
    /// Differentiable (`ViewBackward0`).
    ///
    /// ```swift
    /// Tensor.zeros([2, 12]).unflattened(dim: 1, sizes: [3, -1]).shape   // [2, 3, 4]
    /// ```
    /// - Precondition: `dim` in range; the sizes multiply to `shape[dim]`.
    public func unflattened(dim: Int, sizes: [Int]) -> Tensor {
        let (d, resolved) = check { () throws(ShapeError) in try validateUnflatten(dim: dim, sizes: sizes) }
        if rank == 0 { return reshaped(resolved) }
        return reshaped(Array(shape[..<d]) + resolved + Array(shape[(d + 1)...]))
    }

    /// The view without those of `dims` whose size is 1 (others stay).
    /// Differentiable (`SqueezeBackward0`).
    /// - Precondition: each dim in range.
    public func squeezed(dims: [Int]) -> Tensor {
        let ds = check { () throws(ShapeError) -> Set<Int> in
            var r = Set<Int>()
            for d in dims { r.insert(try Shape.normalize(dim: d, rank: rank, op: "squeeze")) }
            return r
        }
        let keep = shape.indices.filter { !(ds.contains($0) && shape[$0] == 1) }
        return viewWithGrad(shape: keep.map { shape[$0] }, strides: keep.map { strides[$0] }, offset: offset) {
            SqueezeBackward0(inputShape: $0.shape)
        }
    }

    /// The view with a size-1 dim inserted for each of `dims` (positions in the result).
    /// Differentiable (`UnsqueezeBackward0` per dim).
    /// - Precondition: each dim in range of the result's rank; no repeats.
    public func unsqueezed(dims: [Int]) -> Tensor {
        let outRank = rank + dims.count
        let ds = check { () throws(ShapeError) -> [Int] in
            var r: [Int] = []
            for d in dims { r.append(try Shape.normalize(dim: d, rank: outRank, op: "unsqueeze")) }
            guard Set(r).count == r.count else { throw ShapeError("unsqueeze: dim appears multiple times in \(dims)") }
            return r.sorted()
        }
        var r = self
        for d in ds { r = r.unsqueezed(dim: d) }
        return r
    }
}
