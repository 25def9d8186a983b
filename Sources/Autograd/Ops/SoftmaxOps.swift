extension Tensor {
    /// `exp(x) / sum(exp(x))` along `dim`, computed stably (the maximum is subtracted first);
    /// floating result. Differentiable (`SoftmaxBackward0`).
    /// - Precondition: `dim` in range.
    public func softmax(dim: Int) -> Tensor {
        let d = check { () throws(ShapeError) in try Shape.normalize(dim: dim, rank: rank, op: "softmax") }
        let out = withNoGrad { () -> Tensor in
            let x = to(dtype.floatingResult).detached()
            if x.rank == 0 { return Tensor.ones(like: x) }
            if let fast = CKernelPaths.softmax(x, dim: d, log: false) { return fast }
            let shifted = x - x.max(dim: d, keepDim: true).values
            let e = shifted.exp()
            return e / e.sum(dim: d, keepDim: true)
        }.detached()
        return Tensor.record(out, input: self) {
            let node = SoftmaxBackward0(dim: d)
            node.resultSlot = node.save(out, isOutput: true)
            return node
        }
    }

    /// `log(softmax(x))` along `dim`, computed as `x - max - log(sum(exp(x - max)))` so it stays
    /// finite for large inputs; floating result. Differentiable (`LogSoftmaxBackward0`).
    /// - Precondition: `dim` in range.
    public func logSoftmax(dim: Int) -> Tensor {
        let d = check { () throws(ShapeError) in try Shape.normalize(dim: dim, rank: rank, op: "logSoftmax") }
        let out = withNoGrad { () -> Tensor in
            let x = to(dtype.floatingResult).detached()
            if x.rank == 0 { return Tensor.zeros(like: x) }
            if let fast = CKernelPaths.softmax(x, dim: d, log: true) { return fast }
            let shifted = x - x.max(dim: d, keepDim: true).values
            return shifted - shifted.exp().sum(dim: d, keepDim: true).log()
        }.detached()
        return Tensor.record(out, input: self) {
            let node = LogSoftmaxBackward0(dim: d)
            node.resultSlot = node.save(out, isOutput: true)
            return node
        }
    }
}

// MARK: - Backward nodes

/// Backward of `softmax`: `y * (g - sum(g * y))` along the dim.
final class SoftmaxBackward0: GradFn, @unchecked Sendable {
    let dim: Int
    var resultSlot = -1
    init(dim: Int) {
        self.dim = dim
        super.init()
    }

    /// Whether the fused CPU kernel may compute a softmax/logSoftmax backward: only when the
    /// result is not itself recorded (no `createGraph`), since the kernel is not differentiable;
    /// otherwise the formula runs as differentiable ops.
    static func fusedBackwardApplies(_ y: Tensor, _ g: Tensor) -> Bool {
        !GradMode.isEnabled || (!y.requiresGrad && !g.requiresGrad)
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let y = try savedTensor(resultSlot)
        if y.rank == 0 { return [g * 0.0] }
        if Self.fusedBackwardApplies(y, g), let fast = CKernelPaths.softmaxBackward(y, g, dim: dim, log: false) { return [fast] }
        return [y * (g - (g * y).sum(dim: dim, keepDim: true))]
    }
}

/// Backward of `logSoftmax`: `g - exp(y) * sum(g)` along the dim.
final class LogSoftmaxBackward0: GradFn, @unchecked Sendable {
    let dim: Int
    var resultSlot = -1
    init(dim: Int) {
        self.dim = dim
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let y = try savedTensor(resultSlot)
        if y.rank == 0 { return [g * 0.0] }
        if SoftmaxBackward0.fusedBackwardApplies(y, g), let fast = CKernelPaths.softmaxBackward(y, g, dim: dim, log: true) { return [fast] }
        return [g - y.exp() * g.sum(dim: dim, keepDim: true)]
    }
}
