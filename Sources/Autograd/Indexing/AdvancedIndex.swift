/// Indexing by integer tensors along some dims of a view (NumPy's "advanced" indexing).
///
/// The index tensors are int64, broadcast to one `batchShape` and made non-negative. The
/// result has the batch dims in place of the indexed dims when those are adjacent, else in
/// front, followed by (or around) the remaining dims, as PyTorch and NumPy order them.
struct AdvancedIndex {
    let dims: [Int]
    let tensors: [Tensor]
    let batchShape: [Int]

    /// Whether the indexed dims are consecutive (the batch dims then stay in place).
    var isAdjacent: Bool { dims.last.map { $0 - dims[0] + 1 == dims.count } ?? true }

    /// Builds the index: converts, broadcasts and bounds-checks `tensors` against `shape`.
    static func make(dims: [Int], tensors: [Tensor], shape: [Int], op: String) throws(ShapeError) -> AdvancedIndex {
        var batch: [Int] = []
        for t in tensors {
            guard !t.dtype.isFloatingPoint && t.dtype != .bool else {
                throw ShapeError("\(op): tensors used as indices must be long, int, byte or bool tensors (got \(t.dtype))")
            }
            batch = try Shape.broadcast(batch, t.shape, op: "\(op): shape mismatch: indexing tensors could not be broadcast together with shapes")
        }
        var normalized: [Tensor] = []
        for (d, t) in zip(dims, tensors) {
            let n = shape[d]
            if t.device == .cpu, t.dtype == .int64, t.isContiguous, CKernelPaths.int64InRange(t, below: Int64(n)) == true {
                // every index already in [0, n) (checked in C): a private copy, no host arrays
                let copy = Tensor(uninitializedShape: t.shape, dtype: .int64)
                Backends.cpu.copy(t, into: copy)
                normalized.append(copy.expandedWithoutGrad(to: batch))
                continue
            }
            let values = t.scalars(as: Int64.self)
            if let bad = values.first(where: { $0 < -Int64(n) || $0 >= Int64(n) }) {
                throw ShapeError("\(op): index \(bad) is out of bounds for dimension \(d) with size \(n)")
            }
            let fixed = values.map { $0 < 0 ? $0 + Int64(n) : $0 }
            let host = Tensor.fromScalars(shape: t.shape, scalars: fixed, dtype: .int64)
            normalized.append(host.to(device: t.device).expandedWithoutGrad(to: batch))
        }
        return AdvancedIndex(dims: dims, tensors: normalized, batchShape: batch)
    }

    /// The dims of a view of `rank` that are not indexed, in order.
    func restDims(rank: Int) -> [Int] { (0..<rank).filter { !dims.contains($0) } }

    /// The result shape for an input of `shape`, in natural (PyTorch) order.
    func resultShape(_ shape: [Int]) -> [Int] {
        let rest = restDims(rank: shape.count).map { shape[$0] }
        if isAdjacent {
            let lead = dims[0]
            return Array(rest[..<lead]) + batchShape + Array(rest[lead...])
        }
        return batchShape + rest
    }

    /// The permutation taking the batch-first layout `[batch..., rest...]` to natural order.
    func naturalOrder(restCount: Int) -> [Int] {
        let nb = batchShape.count
        guard isAdjacent && dims[0] > 0 else { return Array(0..<(nb + restCount)) }
        let lead = dims[0]
        return Array(nb..<(nb + lead)) + Array(0..<nb) + Array((nb + lead)..<(nb + restCount))
    }

    /// `v` split into the storage view of its rest dims and the element offsets of the
    /// indexed positions (int64, batch shape).
    private func split(_ v: Tensor) -> (base: Tensor, offsets: Tensor) {
        let rest = restDims(rank: v.rank)
        let base = v.viewing(shape: rest.map { v.shape[$0] }, strides: rest.map { v.strides[$0] }, offset: v.offset)
        if let offsets = hostOffsets(v.strides) { return (base, offsets) }
        var offsets: Tensor? = nil
        for (d, t) in zip(dims, tensors) {
            let term = Tensor.computeBinary(.mul, .tensor(t), .scalar(.int(Int64(v.strides[d]))), name: "index")
            offsets = offsets.map { Tensor.computeBinary(.add, .tensor($0), .tensor(term), name: "index") } ?? term
        }
        return (base, (offsets ?? Tensor.zeros(batchShape, dtype: .int64, device: v.device)).contiguousWithoutGrad())
    }

    /// `split`'s offsets in one pass on the CPU when there are one or two index tensors, each
    /// contiguous and of the batch shape (the same values as the tensor ops); nil otherwise.
    private func hostOffsets(_ strides: [Int]) -> Tensor? {
        let count = batchShape.reduce(1, *)
        guard !tensors.isEmpty, tensors.count <= 2, tensors.allSatisfy({ $0.device == .cpu && $0.dtype == .int64 && $0.isContiguous && $0.count == count }) else {
            return nil
        }
        let out = Tensor(uninitializedShape: batchShape, dtype: .int64), po = out.pointer(Int64.self)
        let a = tensors[0].pointer(Int64.self) + tensors[0].offset, sa = Int64(strides[dims[0]])
        withExtendedLifetime(tensors) {
            if tensors.count == 1 {
                CKernelPaths.parallelFor(count, grain: 1 << 15) { begin, end in
                    for i in begin..<end { po[i] = a[i] &* sa }
                }
            } else {
                let b = tensors[1].pointer(Int64.self) + tensors[1].offset, sb = Int64(strides[dims[1]])
                CKernelPaths.parallelFor(count, grain: 1 << 15) { begin, end in
                    for i in begin..<end { po[i] = a[i] &* sa &+ b[i] &* sb }
                }
            }
        }
        return out
    }

    /// The indexed elements of `v`, not recorded, in natural order.
    func gather(_ v: Tensor) -> Tensor {
        let (base, offsets) = split(v)
        let out = Tensor(uninitializedShape: batchShape + base.shape, dtype: v.dtype, device: v.device)
        if out.count > 0 { Backends.backend(for: v.device).take(base, offsets: offsets, into: out) }
        let order = naturalOrder(restCount: base.rank)
        return out.viewing(shape: order.map { out.shape[$0] }, strides: order.map { out.strides[$0] }, offset: out.offset)
    }

    /// Writes (or adds) `values`, broadcast to the natural result shape, into `target` in place.
    func put(_ values: Tensor, into target: Tensor, accumulate: Bool) {
        let (base, offsets) = split(target)
        let natural = resultShape(target.shape)
        var v = values.dtype == target.dtype ? values : values.convertedWithoutGrad(to: target.dtype)
        if v.device != target.device { v = v.to(device: target.device) }
        v = v.expandedWithoutGrad(to: natural)
        let order = naturalOrder(restCount: base.rank)
        var inverse = [Int](repeating: 0, count: order.count)
        for (i, o) in order.enumerated() { inverse[o] = i }
        let batchFirst = v.viewing(shape: inverse.map { v.shape[$0] }, strides: inverse.map { v.strides[$0] }, offset: v.offset)
        if Shape.count(natural) > 0 {
            Backends.backend(for: target.device).put(batchFirst, offsets: offsets, into: base, accumulate: accumulate)
        }
    }
}

extension Tensor {
    /// `self[indices]` for an advanced index. Differentiable (`IndexBackward0`).
    func index(_ advanced: AdvancedIndex) -> Tensor {
        let out = advanced.gather(self)
        return Tensor.record(out, input: self) { IndexBackward0(index: advanced, inputShape: shape) }
    }

    /// A copy of `self` with `values` written (or added) at an advanced index.
    /// Differentiable in both (`IndexPutBackward0`).
    func indexPutting(_ advanced: AdvancedIndex, values: Tensor, accumulate: Bool) -> Tensor {
        let natural = advanced.resultShape(shape)
        check { () throws(ShapeError) in
            guard Shape.isExpandable(values.shape, to: natural) else {
                throw ShapeError("index_put: shape mismatch: value tensor of shape \(Shape.describe(values.shape)) cannot be broadcast to indexing result of shape \(Shape.describe(natural))")
            }
        }
        let out = Tensor(uninitializedShape: shape, dtype: dtype, device: device)
        Backends.backend(for: device).copy(self, into: out)
        advanced.put(values, into: out, accumulate: accumulate)
        return Tensor.record(out, inputs: self, values) { IndexPutBackward0(index: advanced, accumulate: accumulate) }
    }

    /// A copy with `values` written at the positions `indices` select in the leading dims
    /// (PyTorch's `index_put`); with `accumulate`, added instead (duplicates sum).
    /// Differentiable in `self` and `values` (`IndexPutBackward0`).
    ///
    /// ```swift
    /// Tensor.zeros([3]).indexPut([Tensor([0, 0, 2])], values: Tensor([1.0, 2.0, 3.0]), accumulate: true)  // [3, 0, 3]
    /// ```
    /// - Precondition: integer index tensors that broadcast together, in bounds; at most
    ///   `rank` of them; `values` broadcasts to the indexed shape.
    public func indexPut(_ indices: [Tensor], values: Tensor, accumulate: Bool = false) -> Tensor {
        let advanced = check { () throws(ShapeError) -> AdvancedIndex in
            guard indices.count <= rank && !indices.isEmpty else {
                throw ShapeError("index_put: expected 1 to \(rank) index tensors, got \(indices.count)")
            }
            return try AdvancedIndex.make(dims: Array(0..<indices.count), tensors: indices, shape: shape, op: "index_put")
        }
        return indexPutting(advanced, values: values, accumulate: accumulate)
    }
}

// MARK: - Backward nodes

/// Backward of advanced indexing: the gradient added into zeros at the indexed positions.
final class IndexBackward0: GradFn, @unchecked Sendable {
    let index: AdvancedIndex, inputShape: [Int]
    init(index: AdvancedIndex, inputShape: [Int]) {
        self.index = index
        self.inputShape = inputShape
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        return [Tensor.zeros(inputShape, dtype: g.dtype, device: g.device).indexPutting(index, values: g, accumulate: true)]
    }
}

/// Backward of `indexPut`: the base's gradient (zeroed at the written positions unless
/// accumulating) and the gradient read back at the indexed positions for the values.
final class IndexPutBackward0: GradFn, @unchecked Sendable {
    let index: AdvancedIndex, accumulate: Bool
    init(index: AdvancedIndex, accumulate: Bool) {
        self.index = index
        self.accumulate = accumulate
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil, nil] }
        var gBase: Tensor? = nil
        if needsInputGrad(0) {
            gBase = accumulate ? g : g.indexPutting(index, values: Tensor.zeros([], dtype: g.dtype, device: g.device), accumulate: false)
        }
        return [gBase, needsInputGrad(1) ? g.index(index) : nil]
    }
}
