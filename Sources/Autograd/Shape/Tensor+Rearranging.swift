// Copies that rearrange elements: flipped, rolled, repeated, tiled.

extension Tensor {
    /// Normalizes a list of distinct dims for `op`.
    func normalizedDistinctDims(_ dims: [Int], op: String) throws(ShapeError) -> [Int] {
        var result: [Int] = []
        for d in dims {
            let n = try Shape.normalize(dim: d, rank: rank, op: op)
            guard !result.contains(n) else { throw ShapeError("\(op): dim \(n) appears multiple times in the list of dims") }
            result.append(n)
        }
        return result
    }

    /// A copy with the order of elements reversed along each of `dims` (PyTorch's `flip`).
    /// Differentiable (`FlipBackward0`).
    ///
    /// ```swift
    /// Tensor([[1, 2], [3, 4]]).flipped(dims: [1])   // [[2, 1], [4, 3]]
    /// ```
    /// - Precondition: dims in range and distinct.
    /// - Complexity: O(n), copies.
    public func flipped(dims: [Int]) -> Tensor {
        let ds = check { () throws(ShapeError) in try normalizedDistinctDims(dims, op: "flip") }
        let out = Tensor(uninitializedShape: shape, dtype: dtype, device: device)
        if count > 0 && rank > 0 {
            var st = strides, off = offset
            for d in ds {
                off += (shape[d] - 1) * st[d]
                st[d] = -st[d]
            }
            Backends.backend(for: device).copy(viewing(shape: shape, strides: st, offset: off), into: out)
        } else if count > 0 {
            Backends.backend(for: device).copy(self, into: out)
        }
        return Tensor.record(out, input: self) { FlipBackward0(dims: ds) }
    }

    /// A copy with elements shifted by `shifts[i]` along `dims[i]`, wrapping around (PyTorch's
    /// `roll`); with no dims, the flattened tensor rolls and keeps its shape.
    /// Differentiable (`RollBackward0`).
    ///
    /// ```swift
    /// Tensor([1, 2, 3, 4]).rolled(shifts: [1])   // [4, 1, 2, 3]
    /// ```
    /// - Precondition: `shifts.count == dims.count` (or one shift and no dims); dims in range.
    /// - Complexity: O(n), copies.
    public func rolled(shifts: [Int], dims: [Int] = []) -> Tensor {
        let ds = check { () throws(ShapeError) -> [Int] in
            if dims.isEmpty {
                guard shifts.count == 1 else { throw ShapeError("roll: shifts (\(shifts.count)) must have one element when no dims are given") }
                return []
            }
            guard shifts.count == dims.count else {
                throw ShapeError("roll: shifts and dimensions must align. shifts: \(shifts.count), dims: \(dims.count)")
            }
            var r: [Int] = []
            for d in dims { r.append(try Shape.normalize(dim: d, rank: rank, op: "roll")) }
            return r
        }
        let out: Tensor
        if ds.isEmpty {
            let flat = detached().reshaped([-1])
            out = flat.rollCopy(shifts: shifts, dims: [0]).reshaped(shape).detached()
        } else {
            out = detached().rollCopy(shifts: shifts, dims: ds)
        }
        return Tensor.record(out, input: self) { RollBackward0(shifts: shifts, dims: ds) }
    }

    /// The rolled copy, not recorded: two block copies per dim.
    private func rollCopy(shifts: [Int], dims: [Int]) -> Tensor {
        var current = self
        let backend = Backends.backend(for: device)
        for (shift, d) in zip(shifts, dims) {
            let n = current.shape[d]
            let out = Tensor(uninitializedShape: current.shape, dtype: dtype, device: device)
            if out.count > 0 {
                let s = ((shift % n) + n) % n
                func block(_ t: Tensor, _ start: Int, _ length: Int) -> Tensor {
                    let g = ViewGeometry(of: t).slicing(dim: d, start: start, end: start + length, step: 1)
                    return t.viewing(shape: g.shape, strides: g.strides, offset: g.offset)
                }
                if n - s > 0 { backend.copy(block(current, 0, n - s), into: block(out, s, n - s)) }
                if s > 0 { backend.copy(block(current, n - s, s), into: block(out, 0, s)) }
            }
            current = out
        }
        return current
    }

    /// The tensor repeated `repeats[i]` times along each dim (PyTorch's `repeat`); extra
    /// leading counts add dims. Differentiable (`RepeatBackward0`).
    ///
    /// ```swift
    /// Tensor([1, 2]).repeated([2, 2])   // [[1, 2, 1, 2], [1, 2, 1, 2]]
    /// ```
    /// - Precondition: `repeats.count >= rank`; counts non-negative.
    /// - Complexity: O(result count), copies.
    public func repeated(_ repeats: [Int]) -> Tensor {
        check { () throws(ShapeError) in
            guard repeats.count >= rank else {
                throw ShapeError("repeat: number of dimensions of repeat dims (\(repeats.count)) can not be smaller than number of dimensions of tensor (\(rank))")
            }
            guard repeats.allSatisfy({ $0 >= 0 }) else { throw ShapeError("repeat: repeats must be non-negative (got \(repeats))") }
        }
        let padded = [Int](repeating: 1, count: repeats.count - rank) + shape
        var interleaved: [Int] = [], expandedShape: [Int] = []
        for (r, s) in zip(repeats, padded) {
            interleaved += [1, s]
            expandedShape += [r, s]
        }
        let resultShape = zip(repeats, padded).map { $0 * $1 }
        let out = withNoGrad {
            detached().reshaped(interleaved).expanded(to: expandedShape).contiguous().reshaped(resultShape)
        }.detached()
        return Tensor.record(out, input: self) { RepeatBackward0(repeats: repeats, inputShape: shape) }
    }

    /// The tensor tiled `repeats` times (PyTorch's `tile`): like `repeated`, with missing
    /// leading counts taken as 1. Differentiable (`RepeatBackward0`).
    /// - Precondition: counts non-negative.
    /// - Complexity: O(result count), copies.
    public func tiled(_ repeats: [Int]) -> Tensor {
        let padded = repeats.count < rank ? [Int](repeating: 1, count: rank - repeats.count) + repeats : repeats
        return repeated(padded)
    }
}

// MARK: - Backward nodes

/// Backward of `flipped`: flip the gradient back.
final class FlipBackward0: GradFn, @unchecked Sendable {
    let dims: [Int]
    init(dims: [Int]) {
        self.dims = dims
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] { [gradOutputs[0]?.flipped(dims: dims)] }
}

/// Backward of `rolled`: roll the gradient back.
final class RollBackward0: GradFn, @unchecked Sendable {
    let shifts: [Int], dims: [Int]
    init(shifts: [Int], dims: [Int]) {
        self.shifts = shifts
        self.dims = dims
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        [gradOutputs[0]?.rolled(shifts: shifts.map { -$0 }, dims: dims)]
    }
}

/// Backward of `repeated`: sum the gradient over the copies.
final class RepeatBackward0: GradFn, @unchecked Sendable {
    let repeats: [Int], inputShape: [Int]
    init(repeats: [Int], inputShape: [Int]) {
        self.repeats = repeats
        self.inputShape = inputShape
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let padded = [Int](repeating: 1, count: repeats.count - inputShape.count) + inputShape
        var split: [Int] = []
        for (r, s) in zip(repeats, padded) { split += [r, s] }
        let copyDims = Array(stride(from: 0, to: split.count, by: 2))
        if g.count == 0 { return [Tensor.zeros(inputShape, dtype: g.dtype, device: g.device)] }
        return [g.reshaped(split).sum(dims: copyDims).reshaped(inputShape)]
    }
}
