extension Tensor {
    /// `exp(x) / sum(exp(x))` along `dim`, computed stably (the maximum is subtracted first);
    /// floating result. Differentiable (`SoftmaxBackward0`).
    /// - Precondition: `dim` in range.
    public func softmax(dim: Int) -> Tensor {
        let d = check { () throws(ShapeError) in try Shape.normalize(dim: dim, rank: rank, op: "softmax") }
        let out = withNoGrad { () -> Tensor in
            let x = to(dtype.floatingResult).detached()
            if x.rank == 0 { return Tensor.ones(like: x) }
            if d == x.rank - 1, let fast = CKernelPaths.softmaxLastDim(x, log: false) { return fast }
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
            if d == x.rank - 1, let fast = CKernelPaths.softmaxLastDim(x, log: true) { return fast }
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

/// The cross-entropy loss between `logits` `[N, C]` (or `[C]`) and integer class `targets`
/// `[N]` (or 0-d), averaged over the batch (PyTorch's `F.cross_entropy` with mean reduction).
/// Differentiable in `logits` (`NllLossBackward0` after `LogSoftmaxBackward0`).
/// - Precondition: `targets` is an integer tensor with values in `0..<C` and one entry per row.
public func crossEntropy(logits: Tensor, targets: Tensor) -> Tensor {
    nllLoss(logProbabilities: logits.logSoftmax(dim: logits.rank == 1 ? 0 : 1), targets: targets)
}

/// The negative log-likelihood loss of log-probabilities `[N, C]` (or `[C]`) at integer class
/// `targets`, averaged over the batch (PyTorch's `F.nll_loss`, mean reduction).
/// Differentiable in `logProbabilities` (`NllLossBackward0`).
/// - Precondition: `targets` is an integer tensor with values in `0..<C` and one entry per row.
public func nllLoss(logProbabilities: Tensor, targets: Tensor) -> Tensor {
    let input = logProbabilities
    check { () throws(ShapeError) in try validateClassTargets(input, targets, op: "nllLoss") }
    let classes = input.shape[input.rank - 1]
    let t2 = targets.rank == 0 ? targets.reshaped([1]) : targets
    let x2 = input.rank == 1 ? input.reshaped([1, classes]) : input
    let onehot = Tensor.arange(classes, device: input.device).reshaped([1, classes]) .== t2.to(.int64).reshaped([-1, 1])
    let out = withNoGrad { -(x2.detached() * onehot.to(input.dtype)).sum() / Double(x2.shape[0]) }.detached()
    return Tensor.record(out, input: input) {
        let node = NllLossBackward0(inputShape: input.shape)
        node.maskSlot = node.save(onehot)
        return node
    }
}

/// Validates integer class targets against `[N, C]` or `[C]` inputs.
func validateClassTargets(_ input: Tensor, _ targets: Tensor, op: String) throws(ShapeError) {
    guard input.rank == 1 || input.rank == 2 else {
        throw ShapeError("\(op): expected input of shape [N, C] or [C], got \(Shape.describe(input.shape))")
    }
    guard input.dtype.isFloatingPoint else { throw ShapeError("\(op): expected a floating input, got \(input.dtype)") }
    guard targets.dtype.isInteger else {
        throw ShapeError("\(op): expected integer class targets, got dtype \(targets.dtype)")
    }
    let n = input.rank == 2 ? input.shape[0] : 1
    guard (input.rank == 2 && targets.rank == 1 && targets.shape[0] == n) || (input.rank == 1 && targets.rank == 0) else {
        throw ShapeError("\(op): expected targets of shape \(input.rank == 2 ? "[\(n)]" : "[]"), got \(Shape.describe(targets.shape)) for input \(Shape.describe(input.shape))")
    }
    let classes = input.shape[input.rank - 1]
    for t in targets.scalars(as: Int64.self) where t < 0 || t >= Int64(classes) {
        throw ShapeError("\(op): target \(t) is out of bounds for \(classes) classes")
    }
}

/// The mean squared error `mean((predictions - targets)²)` (PyTorch's `F.mse_loss`, mean
/// reduction). Differentiable in both (`MseLossBackward0`).
/// - Precondition: the shapes broadcast (PyTorch warns when they differ; here they must match
///   or broadcast), same device.
public func mseLoss(predictions: Tensor, targets: Tensor) -> Tensor {
    let out = withNoGrad { () -> Tensor in
        let d = predictions.detached() - targets.detached()
        return (d * d).mean()
    }.detached()
    return Tensor.record(out, inputs: predictions, targets) {
        let node = MseLossBackward0()
        node.predictionsSlot = node.save(predictions)
        node.targetsSlot = node.save(targets)
        return node
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
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let y = try savedTensor(resultSlot)
        if y.rank == 0 { return [g * 0.0] }
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
        return [g - y.exp() * g.sum(dim: dim, keepDim: true)]
    }
}

/// Backward of `nllLoss` (mean): `-g / N` at each row's target class.
final class NllLossBackward0: GradFn, @unchecked Sendable {
    let inputShape: [Int]
    var maskSlot = -1
    init(inputShape: [Int]) {
        self.inputShape = inputShape
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let mask = try savedTensor(maskSlot).to(g.dtype)
        let n = inputShape.count == 2 ? inputShape[0] : 1
        return [(mask * (-g / Double(n))).reshaped(inputShape)]
    }
}

/// Backward of `mseLoss` (mean): `2 (p - t) g / n` and its negation.
final class MseLossBackward0: GradFn, @unchecked Sendable {
    var predictionsSlot = -1, targetsSlot = -1
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil, nil] }
        let p = try savedTensor(predictionsSlot), t = try savedTensor(targetsSlot)
        let d = p - t
        let scaled = d * (g * (2.0 / Double(Swift.max(d.count, 1))))
        return [needsInputGrad(0) ? scaled : nil, needsInputGrad(1) ? -scaled : nil]
    }
}
