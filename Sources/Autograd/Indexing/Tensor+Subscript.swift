/// One step of a resolved subscript, applied to the current view in order.
enum IndexStep {
    case select(dim: Int, index: Int)
    case slice(dim: Int, start: Int, end: Int, step: Int)
    case unsqueeze(dim: Int)
}

/// A subscript resolved against a shape: basic steps, then an optional advanced index.
struct IndexPlan {
    var steps: [IndexStep] = []
    var advancedDims: [Int] = []
    var advancedTensors: [Tensor] = []
}

extension Tensor {
    /// Resolves a subscript: expands the ellipsis, turns masks into integer indices, and
    /// checks every entry against the dims it indexes.
    func planIndexing(_ indices: [TensorIndex]) throws(ShapeError) -> IndexPlan {
        var consumed = 0, ellipses = 0
        for index in indices {
            switch index.kind {
            case .ellipsis: ellipses += 1
            case .newAxis: break
            case .tensor(let t) where t.dtype == .bool || t.dtype == .uint8: consumed += t.rank
            default: consumed += 1
            }
        }
        guard ellipses <= 1 else { throw ShapeError("index: an index can only have a single ellipsis ('...')") }
        guard consumed <= rank else {
            throw ShapeError("index: too many indices for tensor of dimension \(rank) (got \(consumed) for shape \(Shape.describe(shape)))")
        }
        var plan = IndexPlan()
        var current = shape
        var cur = 0
        for index in indices {
            switch index.kind {
            case .all:
                cur += 1
            case .ellipsis:
                cur += rank - consumed
            case .newAxis:
                plan.steps.append(.unsqueeze(dim: cur))
                current.insert(1, at: cur)
                cur += 1
            case .at(let i):
                let n = current[cur]
                guard i >= -n && i < n else {
                    throw ShapeError("index: index \(i) is out of bounds for dimension \(cur) with size \(n) (shape \(Shape.describe(current)))")
                }
                plan.steps.append(.select(dim: cur, index: i < 0 ? i + n : i))
                current.remove(at: cur)
            case .range(let start, let end, let step):
                guard step > 0 else { throw ShapeError("index: step must be greater than zero (got \(step))") }
                let (s, e) = Tensor.clampSliceBounds(start: start, end: end, size: current[cur])
                plan.steps.append(.slice(dim: cur, start: s, end: e, step: step))
                current[cur] = e > s ? (e - s + step - 1) / step : 0
                cur += 1
            case .tensor(let t):
                if t.dtype == .bool || t.dtype == .uint8 {
                    if t.rank == 0 {
                        plan.steps.append(.unsqueeze(dim: cur))
                        current.insert(1, at: cur)
                        plan.advancedDims.append(cur)
                        plan.advancedTensors.append(Tensor.zeros([t.item(as: Bool.self) ? 1 : 0], dtype: .int64, device: t.device))
                        cur += 1
                        continue
                    }
                    let covered = Array(current[cur..<(cur + t.rank)])
                    guard covered == t.shape else {
                        throw ShapeError("index: the shape of the mask \(Shape.describe(t.shape)) at index \(cur) does not match the shape of the indexed tensor \(Shape.describe(current))")
                    }
                    let coordinates = t.nonzeroCoordinates()
                    for k in 0..<t.rank {
                        plan.advancedDims.append(cur + k)
                        plan.advancedTensors.append(coordinates[k])
                    }
                    cur += t.rank
                } else {
                    guard !t.dtype.isFloatingPoint else {
                        throw ShapeError("index: tensors used as indices must be long, int, byte or bool tensors (got \(t.dtype))")
                    }
                    plan.advancedDims.append(cur)
                    plan.advancedTensors.append(t)
                    cur += 1
                }
            }
        }
        return plan
    }

    /// The coordinates of the true elements of a mask, one int64 tensor per dim, in row-major
    /// order: the trues counted first, then the coordinates written row by row of the last dim,
    /// branch-free (each element's coordinates are written, and the position advances by its
    /// flag, into columns one longer than the count).
    func nonzeroCoordinates() -> [Tensor] {
        guard rank > 0 else { return [] }
        let mask = withNoGrad { (dtype == .bool ? self : (self .!= 0)).to(device: .cpu).contiguous() }
        let n = mask.count, last = shape[rank - 1]
        let flags = UnsafeRawPointer(mask.storage.pointer + mask.offset).assumingMemoryBound(to: UInt8.self)
        var count = 0
        for i in 0..<n { count &+= Tensor.isSet(flags[i]) }   // any nonzero byte is true
        let columns = (0..<rank).map { _ in Tensor(uninitializedShape: [count + 1], dtype: .int64) }
        if count > 0 {
            let out = columns.map { $0.pointer(Int64.self) }, lastColumn = out[rank - 1]
            var coordinate = [Int64](repeating: 0, count: rank)   // of the current row (last dim 0)
            var k = 0
            for rowStart in stride(from: 0, to: n, by: Swift.max(last, 1)) where last > 0 {
                let row = flags + rowStart
                if rank == 1 {
                    for j in 0..<last {
                        lastColumn[k] = Int64(j)
                        k &+= Tensor.isSet(row[j])
                    }
                } else if rank == 2 {
                    let first = out[0], c0 = coordinate[0]
                    for j in 0..<last {
                        first[k] = c0
                        lastColumn[k] = Int64(j)
                        k &+= Tensor.isSet(row[j])
                    }
                } else {
                    for j in 0..<last {
                        for d in 0..<(rank - 1) { out[d][k] = coordinate[d] }
                        lastColumn[k] = Int64(j)
                        k &+= Tensor.isSet(row[j])
                    }
                }
                var d = rank - 2   // the odometer over the leading dims
                while d >= 0 {
                    coordinate[d] += 1
                    if coordinate[d] < Int64(shape[d]) { break }
                    coordinate[d] = 0
                    d -= 1
                }
            }
        }
        return withExtendedLifetime(mask) { columns.map { $0.narrow(dim: 0, start: 0, length: count).to(device: device) } }
    }

    /// 1 for a nonzero byte, 0 for zero, without a branch (the top bit of b | -b).
    @inline(__always)
    static func isSet(_ b: UInt8) -> Int { Int((b | (0 &- b)) >> 7) }

    /// The positions of nonzero elements, an int64 tensor of shape `[count, rank]` in
    /// row-major order (PyTorch's `nonzero`). Not differentiable.
    /// - Complexity: O(n); reads the values on the host.
    public func nonzero() -> Tensor {
        let coordinates = nonzeroCoordinates()
        let n = coordinates.first?.count ?? (self .!= 0).scalars(as: Bool.self).filter { $0 }.count
        if rank == 0 { return Tensor.zeros([n, 0], dtype: .int64, device: device) }
        return Tensor.stackColumns(coordinates, rows: n)
    }

    /// `[rows, k]` from k int64 columns (no cat needed).
    static func stackColumns(_ columns: [Tensor], rows: Int) -> Tensor {
        let out = Tensor(uninitializedShape: [rows, columns.count], dtype: .int64, device: columns.first?.device ?? .cpu)
        for (k, c) in columns.enumerated() where rows > 0 {
            let view = out.viewing(shape: [rows], strides: [columns.count], offset: k)
            Backends.backend(for: out.device).copy(c, into: view)
        }
        return out
    }

    /// The basic steps applied as recorded views (`SelectBackward0`, `SliceBackward0`,
    /// `UnsqueezeBackward0`).
    private func applyingSteps(_ steps: [IndexStep]) -> Tensor {
        var v = self
        for step in steps {
            switch step {
            case .select(let d, let i): v = v.select(dim: d, index: i)
            case .slice(let d, let s, let e, let st): v = v.slice(dim: d, start: s, end: e, step: st)
            case .unsqueeze(let d): v = v.unsqueezed(dim: d)
            }
        }
        return v
    }

    /// The basic steps applied as an unrecorded view of the same storage.
    private func viewAfterSteps(_ steps: [IndexStep]) -> Tensor {
        var g = ViewGeometry(of: self)
        for step in steps {
            switch step {
            case .select(let d, let i): g = g.selecting(dim: d, index: i)
            case .slice(let d, let s, let e, let st): g = g.slicing(dim: d, start: s, end: e, step: st)
            case .unsqueeze(let d):
                let stride = d < g.shape.count ? g.shape[d] * g.strides[d] : 1
                g.shape.insert(1, at: d)
                g.strides.insert(stride, at: d)
            }
        }
        return viewing(shape: g.shape, strides: g.strides, offset: g.offset)
    }

    /// Reads `self[indices]`: basic entries give views, index tensors a copy.
    func reading(_ indices: [TensorIndex]) -> Tensor {
        let plan = check { () throws(ShapeError) in try planIndexing(indices) }
        if plan.steps.isEmpty && plan.advancedDims.isEmpty {
            return viewWithGrad(shape: shape, strides: strides, offset: offset) { _ in AliasBackward0() }
        }
        let v = applyingSteps(plan.steps)
        if plan.advancedDims.isEmpty { return v }
        let advanced = check { () throws(ShapeError) in
            try AdvancedIndex.make(dims: plan.advancedDims, tensors: plan.advancedTensors, shape: v.shape, op: "index")
        }
        return v.index(advanced)
    }

    /// Writes `value` (broadcast, converted to this dtype) into `self[indices]` in place,
    /// through to the storage every view shares, and bumps the version counter.
    func writing(_ value: Tensor, at indices: [TensorIndex]) {
        let plan = check { () throws(ShapeError) in try planIndexing(indices) }
        let v = viewAfterSteps(plan.steps)
        let advanced: AdvancedIndex? = plan.advancedDims.isEmpty ? nil : check { () throws(ShapeError) in
            try AdvancedIndex.make(dims: plan.advancedDims, tensors: plan.advancedTensors, shape: v.shape, op: "index_put_")
        }
        let target = advanced?.resultShape(v.shape) ?? v.shape
        let recording = GradMode.isEnabled && (requiresGrad || value.requiresGrad)
        check { () throws(ShapeError) in
            guard Shape.isExpandable(value.shape, to: target) else {
                throw ShapeError("index_put_: shape mismatch: value tensor of shape \(Shape.describe(value.shape)) cannot be broadcast to indexing result of shape \(Shape.describe(target))")
            }
            if recording && isLeaf && requiresGrad {
                throw ShapeError("index_put_: a leaf Variable that requires grad is being used in an in-place operation.")
            }
            if recording && !dtype.isFloatingPoint {
                throw ShapeError("index_put_: cannot write a tensor that requires grad into a \(dtype) tensor")
            }
            // Views of leaves, views made in no-grad mode, inference tensors, expanded tensors.
            try validateInPlace(others: [value])
        }
        var source = value.dtype == dtype ? value.detached() : value.convertedWithoutGrad(to: dtype)
        if source.device != device { source = source.to(device: device) }
        if let advanced {
            advanced.put(source, into: v, accumulate: false)
        } else if v.count > 0 {
            Backends.backend(for: device).copy(source.expandedWithoutGrad(to: v.shape), into: v)
        }
        storage.version += 1
        if recording {
            let node = CopySlices(indices: indices, inputShape: shape)
            node.connect([self, value])
            // On a view, the base's history is rebased too (ViewHistory.swift).
            rebaseHistory(onto: node)
        }
    }
}

// MARK: - Subscripts

extension Tensor {
    /// The elements that `indices` pick, with PyTorch's indexing rules: integers select
    /// (dropping the dim), ranges slice, `.newAxis` inserts a dim, `...`/`.ellipsis` stands
    /// for the remaining dims, and index tensors (integer positions or bool masks) gather.
    /// Basic indices give a view sharing storage; index tensors give a copy.
    /// Differentiable (`SelectBackward0`, `SliceBackward0`, `IndexBackward0`, …).
    ///
    /// Setting writes into the selected elements in place (through views, to the shared
    /// storage), converting and broadcasting the new value, and bumps the version counter;
    /// it is recorded (`CopySlices`) when the value or the tensor requires grad.
    ///
    /// ```swift
    /// let x = Tensor.arange(12).reshaped([3, 4])
    /// x[1]                  // [4, 5, 6, 7]
    /// x[1..<3, .range(0, nil, step: 2)]   // [[4, 6], [8, 10]]
    /// x[x .> 9]             // [10, 11]
    /// x[0] = Tensor(0)      // first row zeroed
    /// ```
    /// - Precondition: at most `rank` dims indexed, one ellipsis; integers, masks and index
    ///   tensors in bounds; positive steps; for setting, the value broadcasts to the selection
    ///   and the tensor is not a leaf that requires grad.
    public subscript(_ indices: any TensorIndexConvertible...) -> Tensor {
        get { reading(indices.map(\.tensorIndex)) }
        nonmutating set { writing(newValue, at: indices.map(\.tensorIndex)) }
    }

    /// `self[..., indices...]`: Swift's `...` (UnboundedRange) as the ellipsis in first place.
    public subscript(_ ellipsis: UnboundedRange, _ indices: any TensorIndexConvertible...) -> Tensor {
        get { reading([.ellipsis] + indices.map(\.tensorIndex)) }
        nonmutating set { writing(newValue, at: [.ellipsis] + indices.map(\.tensorIndex)) }
    }

    /// `self[first, ..., rest...]`: Swift's `...` as the ellipsis in second place.
    public subscript(_ first: any TensorIndexConvertible, _ ellipsis: UnboundedRange,
                     _ indices: any TensorIndexConvertible...) -> Tensor {
        get { reading([first.tensorIndex, .ellipsis] + indices.map(\.tensorIndex)) }
        nonmutating set { writing(newValue, at: [first.tensorIndex, .ellipsis] + indices.map(\.tensorIndex)) }
    }

    /// The elements `indices` pick, given as an array (for indices built at run time).
    public subscript(indices indices: [TensorIndex]) -> Tensor {
        get { reading(indices) }
        nonmutating set { writing(newValue, at: indices) }
    }
}

// MARK: - Backward nodes

/// Backward of `x[...]` with no entries: the identity.
final class AliasBackward0: GradFn, @unchecked Sendable {
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] { [gradOutputs[0]] }
}

/// Backward of a subscript assignment: the old tensor's gradient is zero where overwritten;
/// the value's gradient is the gradient read at the written positions (summed over
/// broadcasting by the engine).
final class CopySlices: GradFn, @unchecked Sendable {
    let indices: [TensorIndex], inputShape: [Int]
    init(indices: [TensorIndex], inputShape: [Int]) {
        self.indices = indices
        self.inputShape = inputShape
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil, nil] }
        var gSelf: Tensor? = nil
        if needsInputGrad(0) {
            let keep = Tensor.ones(inputShape, dtype: g.dtype, device: g.device)
            withNoGrad { keep.writing(Tensor.zeros([], dtype: g.dtype, device: g.device), at: indices) }
            gSelf = g * keep
        }
        return [gSelf, needsInputGrad(1) ? g.reading(indices) : nil]
    }
}
