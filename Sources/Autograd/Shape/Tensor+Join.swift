extension Tensor {
    /// Validates `cat`'s inputs and returns the normalized dim, result dtype and shape.
    static func planCat(_ tensors: [Tensor], dim: Int, op: String) throws(ShapeError) -> (dim: Int, dtype: DType, shape: [Int]) {
        guard let first = tensors.first(where: { !($0.rank == 1 && $0.count == 0) }) ?? tensors.first else {
            throw ShapeError("\(op): expected a non-empty list of Tensors")
        }
        let d = try Shape.normalize(dim: dim, rank: first.rank, op: op)
        guard first.rank > 0 else { throw ShapeError("\(op): zero-dimensional tensor (at position 0) cannot be concatenated") }
        var dtype = first.dtype
        var size = 0
        for (i, t) in tensors.enumerated() {
            if t.rank == 1 && t.count == 0 && first.rank != 1 { continue }  // PyTorch skips legacy empty tensors
            guard t.device == first.device else {
                throw ShapeError("\(op): expected all tensors to be on the same device, but found \(first.device) and \(t.device) (tensor \(i))")
            }
            guard t.rank == first.rank else {
                throw ShapeError("\(op): tensors must have same number of dimensions: got \(first.rank) and \(t.rank) (tensor \(i))")
            }
            for k in 0..<t.rank where k != d && t.shape[k] != first.shape[k] {
                throw ShapeError("\(op): sizes of tensors must match except in dimension \(d). Expected size \(first.shape[k]) but got size \(t.shape[k]) for tensor number \(i) in the list (shapes \(Shape.describe(first.shape)) and \(Shape.describe(t.shape)))")
            }
            dtype = DType.promoted(dtype, t.dtype)
            size += t.shape[d]
        }
        var shape = first.shape
        shape[d] = size
        return (d, dtype, shape)
    }

    /// Concatenates tensors along `dim` (PyTorch's `torch.cat`); dtypes promote. Differentiable
    /// (`CatBackward0`).
    /// - Precondition: same rank and device; sizes equal except along `dim`.
    /// - Complexity: O(total elements), copies.
    public static func cat(_ tensors: [Tensor], dim: Int = 0) -> Tensor {
        let plan = check { () throws(ShapeError) in try planCat(tensors, dim: dim, op: "cat") }
        let parts = tensors.filter { !($0.rank == 1 && $0.count == 0 && plan.shape.count != 1) }
        let device = parts.first?.device ?? .cpu
        let out = Tensor(uninitializedShape: plan.shape, dtype: plan.dtype, device: device)
        var start = 0
        for t in parts {
            let n = t.shape[plan.dim]
            if n > 0 {
                let slice = out.narrowView(dim: plan.dim, start: start, length: n)
                Backends.backend(for: device).copy(t, into: slice)
            }
            start += n
        }
        return record(out, inputs: parts) {
            CatBackward0(dim: plan.dim, sizes: parts.map { $0.shape[plan.dim] })
        }
    }

    /// Stacks equally shaped tensors along a new dimension `dim` (PyTorch's `torch.stack`).
    /// Differentiable (`StackBackward0`).
    /// - Precondition: all shapes equal; same device.
    public static func stack(_ tensors: [Tensor], dim: Int = 0) -> Tensor {
        let d = check { () throws(ShapeError) -> Int in
            guard let first = tensors.first else { throw ShapeError("stack: expected a non-empty list of Tensors") }
            for (i, t) in tensors.enumerated() where t.shape != first.shape {
                throw ShapeError("stack: expects each tensor to be equal size, but got \(Shape.describe(first.shape)) at entry 0 and \(Shape.describe(t.shape)) at entry \(i)")
            }
            return try Shape.normalize(dim: dim, rank: first.rank + 1, op: "stack")
        }
        let out = withNoGrad { cat(tensors.map { $0.unsqueezed(dim: d) }, dim: d) }.detached()
        return record(out, inputs: tensors) { StackBackward0(dim: d, count: tensors.count) }
    }

    /// A view of `length` entries of `dim` starting at `start`, unrecorded.
    func narrowView(dim: Int, start: Int, length: Int) -> Tensor {
        var s = shape
        s[dim] = length
        return viewing(shape: s, strides: strides, offset: offset + start * strides[dim])
    }
}

// MARK: - Backward nodes

/// Backward of `cat`: the gradient sliced back into each input's part.
final class CatBackward0: GradFn, @unchecked Sendable {
    let dim: Int, sizes: [Int]
    init(dim: Int, sizes: [Int]) {
        self.dim = dim
        self.sizes = sizes
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return sizes.map { _ in nil } }
        var start = 0
        var result: [Tensor?] = []
        for (i, n) in sizes.enumerated() {
            result.append(needsInputGrad(i) ? g.narrow(dim: dim, start: start, length: n) : nil)
            start += n
        }
        return result
    }
}

/// Backward of `stack`: each input gets its slice with the stacked dim removed.
final class StackBackward0: GradFn, @unchecked Sendable {
    let dim: Int, count: Int
    init(dim: Int, count: Int) {
        self.dim = dim
        self.count = count
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return (0..<count).map { _ in nil } }
        return (0..<count).map { i in needsInputGrad(i) ? g.narrow(dim: dim, start: i, length: 1).squeezed(dim: dim) : nil }
    }
}
