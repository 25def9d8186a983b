extension Tensor {
    /// Validates a matrix product's operands.
    static func validateMatmul(_ a: Tensor, _ b: Tensor, op: String) throws(ShapeError) {
        guard a.dtype == b.dtype else {
            throw ShapeError("\(op): expected both operands to have the same dtype, but got \(a.dtype) and \(b.dtype) for shapes \(Shape.describe(a.shape)) and \(Shape.describe(b.shape))")
        }
        guard a.dtype != .bool else { throw ShapeError("\(op): not implemented for bool tensors") }
        guard a.device == b.device else {
            throw ShapeError("\(op): expected all tensors to be on the same device, but found \(a.device) and \(b.device)")
        }
        guard a.rank >= 1 && b.rank >= 1 else {
            throw ShapeError("\(op): both arguments need at least 1 dimension, but got shapes \(Shape.describe(a.shape)) and \(Shape.describe(b.shape))")
        }
        let k1 = a.shape[a.rank - 1]
        let k2 = b.rank == 1 ? b.shape[0] : b.shape[b.rank - 2]
        guard k1 == k2 else {
            throw ShapeError("\(op): inner dimensions differ (\(k1) vs \(k2)) for shapes \(Shape.describe(a.shape)) and \(Shape.describe(b.shape))")
        }
    }

    /// `[B, M, K] @ [B, K, N]` without recording.
    static func computeBmm(_ a: Tensor, _ b: Tensor) -> Tensor {
        let compute: DType = a.dtype == .float16 || a.dtype == .bfloat16 ? .float32 : a.dtype
        let ca = a.dtype == compute ? a : a.convertedWithoutGrad(to: compute)
        let cb = b.dtype == compute ? b : b.convertedWithoutGrad(to: compute)
        let out = Tensor(uninitializedShape: [a.shape[0], a.shape[1], b.shape[2]], dtype: compute, device: a.device)
        Backends.backend(for: a.device).matmul(ca, cb, into: out)
        return compute == a.dtype ? out : out.convertedWithoutGrad(to: a.dtype)
    }

    /// The matrix product with PyTorch's `matmul` rules: 1-D·1-D is a dot product, 2-D@2-D a
    /// matrix product, a 1-D operand gains (then loses) a dimension, and higher ranks are
    /// batches whose leading dims broadcast. Differentiable.
    ///
    /// ```swift
    /// Tensor.ones([2, 3]).matmul(Tensor.ones([3, 4])).shape        // [2, 4]
    /// Tensor.ones([5, 2, 3]).matmul(Tensor.ones([3, 4])).shape     // [5, 2, 4]
    /// ```
    /// - Precondition: same dtype (not bool) and device; the inner dimensions agree;
    ///   batch dimensions broadcast.
    public func matmul(_ other: Tensor) -> Tensor {
        check { () throws(ShapeError) in try Tensor.validateMatmul(self, other, op: "matmul") }
        switch (rank, other.rank) {
        case (1, 1):
            return dot(other)
        case (2, 2):
            return mm(other)
        case (1, 2):
            return unsqueezed(dim: 0).mm(other).squeezed(dim: 0)
        case (2, 1):
            return mm(other.unsqueezed(dim: 1)).squeezed(dim: 1)
        default:
            let a = rank == 1 ? unsqueezed(dim: 0) : self
            let b = other.rank == 1 ? other.unsqueezed(dim: 1) : other
            let n = a.shape[a.rank - 2], k = a.shape[a.rank - 1], p = b.shape[b.rank - 1]
            let batch = check { () throws(ShapeError) in
                try Shape.broadcast(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)), op: "matmul")
            }
            let bcount = Shape.count(batch)
            let a3 = a.expanded(to: batch + [n, k]).reshaped([bcount, n, k])
            let b3 = b.expanded(to: batch + [k, p]).reshaped([bcount, k, p])
            var out = a3.bmm(b3).reshaped(batch + [n, p])
            if rank == 1 { out = out.squeezed(dim: -2) }
            if other.rank == 1 { out = out.squeezed(dim: -1) }
            return out
        }
    }

    /// The product of two matrices `[M, K] @ [K, N]`. Differentiable (`MmBackward0`).
    /// - Precondition: both 2-D, same dtype and device, inner dimensions equal.
    public func mm(_ other: Tensor) -> Tensor {
        check { () throws(ShapeError) in
            try Tensor.validateMatmul(self, other, op: "mm")
            guard rank == 2 && other.rank == 2 else {
                throw ShapeError("mm: expected 2-D tensors, got shapes \(Shape.describe(shape)) and \(Shape.describe(other.shape))")
            }
        }
        let a3 = viewing(shape: [1] + shape, strides: [0] + strides, offset: offset)
        let b3 = other.viewing(shape: [1] + other.shape, strides: [0] + other.strides, offset: other.offset)
        let r = Tensor.computeBmm(a3, b3)
        let out = r.viewing(shape: [shape[0], other.shape[1]], strides: [r.strides[1], r.strides[2]], offset: r.offset)
        return Tensor.record(out, inputs: self, other) {
            let node = MmBackward0()
            node.lhsSlot = node.save(self)
            node.rhsSlot = node.save(other)
            return node
        }
    }

    /// Batched matrix product `[B, M, K] @ [B, K, N]`. Differentiable (`BmmBackward0`).
    /// - Precondition: both 3-D with equal batch sizes, same dtype and device.
    public func bmm(_ other: Tensor) -> Tensor {
        check { () throws(ShapeError) in
            try Tensor.validateMatmul(self, other, op: "bmm")
            guard rank == 3 && other.rank == 3 && shape[0] == other.shape[0] else {
                throw ShapeError("bmm: expected 3-D tensors with equal batch sizes, got shapes \(Shape.describe(shape)) and \(Shape.describe(other.shape))")
            }
        }
        let out = Tensor.computeBmm(self, other)
        return Tensor.record(out, inputs: self, other) {
            let node = BmmBackward0()
            node.lhsSlot = node.save(self)
            node.rhsSlot = node.save(other)
            return node
        }
    }

    /// The dot product of two 1-D tensors, a 0-d tensor. Differentiable (`DotBackward0`).
    /// - Precondition: both 1-D of equal length, same dtype and device.
    public func dot(_ other: Tensor) -> Tensor {
        check { () throws(ShapeError) in
            try Tensor.validateMatmul(self, other, op: "dot")
            guard rank == 1 && other.rank == 1 else {
                throw ShapeError("dot: 1D tensors expected, but got \(rank)D and \(other.rank)D tensors")
            }
        }
        let a3 = viewing(shape: [1, 1, shape[0]], strides: [0, 0, strides[0]], offset: offset)
        let b3 = other.viewing(shape: [1, other.shape[0], 1], strides: [0, other.strides[0], 0], offset: other.offset)
        let r = Tensor.computeBmm(a3, b3)
        let out = r.viewing(shape: [], strides: [], offset: r.offset)
        return Tensor.record(out, inputs: self, other) {
            let node = DotBackward0()
            node.lhsSlot = node.save(self)
            node.rhsSlot = node.save(other)
            return node
        }
    }
}

// MARK: - Backward nodes

/// Backward of `a.mm(b)`: `g @ bᵀ` and `aᵀ @ g`.
final class MmBackward0: GradFn, @unchecked Sendable {
    var lhsSlot = -1, rhsSlot = -1
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil, nil] }
        let a = try savedTensor(lhsSlot), b = try savedTensor(rhsSlot)
        return [needsInputGrad(0) ? g.mm(b.transposed(0, 1)) : nil,
                needsInputGrad(1) ? a.transposed(0, 1).mm(g) : nil]
    }
}

/// Backward of `a.bmm(b)`.
final class BmmBackward0: GradFn, @unchecked Sendable {
    var lhsSlot = -1, rhsSlot = -1
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil, nil] }
        let a = try savedTensor(lhsSlot), b = try savedTensor(rhsSlot)
        return [needsInputGrad(0) ? g.bmm(b.transposed(1, 2)) : nil,
                needsInputGrad(1) ? a.transposed(1, 2).bmm(g) : nil]
    }
}

/// Backward of `a.dot(b)`: `g * b` and `g * a`.
final class DotBackward0: GradFn, @unchecked Sendable {
    var lhsSlot = -1, rhsSlot = -1
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil, nil] }
        let a = try savedTensor(lhsSlot), b = try savedTensor(rhsSlot)
        return [needsInputGrad(0) ? g * b : nil, needsInputGrad(1) ? g * a : nil]
    }
}
