// MARK: - Pointwise regression losses

/// Validates the operands of a pointwise loss and returns the broadcast shape.
func validatePointwiseLoss(_ predictions: Tensor, _ targets: Tensor, op: String) throws(ShapeError) -> [Int] {
    guard predictions.dtype.isFloatingPoint else { throw ShapeError("\(op): expected floating predictions, got \(predictions.dtype)") }
    guard predictions.device == targets.device else {
        throw ShapeError("\(op): expected predictions and targets on the same device, but found \(predictions.device) and \(targets.device)")
    }
    return try Shape.broadcast(predictions.shape, targets.shape, op: op)
}

/// Runs a pointwise loss: validates, computes `perElement(p − t)` without recording, reduces,
/// and records `node`.
private func pointwiseLoss(_ predictions: Tensor, _ targets: Tensor, reduction: LossReduction, op: String,
                           perElement: (Tensor) -> Tensor, node makeNode: () -> PointwiseLossBackward) -> Tensor {
    let shape = check { () throws(ShapeError) in try validatePointwiseLoss(predictions, targets, op: op) }
    let out = withNoGrad { reduceLoss(perElement(predictions.detached() - targets.detached()), reduction) }.detached()
    return Tensor.record(out, inputs: [predictions, targets]) {
        let node = makeNode()
        node.reduction = reduction
        node.shape = shape
        node.predictionsSlot = node.save(predictions)
        node.targetsSlot = node.save(targets)
        return node
    }
}

/// The mean squared error `(predictions − targets)²`, reduced (PyTorch's `F.mse_loss`).
/// Differentiable in both (`MseLossBackward0`).
/// - Parameters:
///   - reduction: `.mean` (default), `.sum` or `.none` (the broadcast shape).
/// - Precondition: floating predictions; shapes broadcast; same device.
public func mseLoss(predictions: Tensor, targets: Tensor, reduction: LossReduction = .mean) -> Tensor {
    pointwiseLoss(predictions, targets, reduction: reduction, op: "mseLoss", perElement: { $0 * $0 }) { MseLossBackward0() }
}

/// The mean absolute error `|predictions − targets|`, reduced (PyTorch's `F.l1_loss`). Written
/// with differentiable ops, so its `gradFn` is `MeanBackward0` (or `AbsBackward0`, `SumBackward0`),
/// as in PyTorch.
/// - Precondition: floating predictions; shapes broadcast; same device.
public func l1Loss(predictions: Tensor, targets: Tensor, reduction: LossReduction = .mean) -> Tensor {
    check { () throws(ShapeError) in _ = try validatePointwiseLoss(predictions, targets, op: "l1Loss") }
    return reduceLoss((predictions - targets).abs(), reduction)
}

/// The smooth L1 loss (PyTorch's `F.smooth_l1_loss`): `0.5·d²/β` where `|d| < β`, else
/// `|d| − 0.5·β`, with `d = predictions − targets`; `β = 0` is the L1 loss.
/// Differentiable in both (`SmoothL1LossBackward0`).
/// - Precondition: floating predictions; shapes broadcast; same device; `beta >= 0`.
public func smoothL1Loss(predictions: Tensor, targets: Tensor, reduction: LossReduction = .mean, beta: Double = 1) -> Tensor {
    precondition(beta >= 0, "smoothL1Loss: beta must be non-negative (got \(beta))")
    return pointwiseLoss(predictions, targets, reduction: reduction, op: "smoothL1Loss", perElement: { d in
        let a = d.abs()
        if beta == 0 { return a }
        return Tensor.where(a .< beta, d * d * (0.5 / beta), a - 0.5 * beta)
    }) { SmoothL1LossBackward0(parameter: beta) }
}

/// The Huber loss (PyTorch's `F.huber_loss`): `0.5·d²` where `|d| < δ`, else `δ·(|d| − 0.5·δ)`.
/// Differentiable in both (`HuberLossBackward0`).
/// - Precondition: floating predictions; shapes broadcast; same device; `delta > 0`.
public func huberLoss(predictions: Tensor, targets: Tensor, reduction: LossReduction = .mean, delta: Double = 1) -> Tensor {
    precondition(delta > 0, "huberLoss: delta must be positive (got \(delta))")
    return pointwiseLoss(predictions, targets, reduction: reduction, op: "huberLoss", perElement: { d in
        let a = d.abs()
        return Tensor.where(a .< delta, d * d * 0.5, (a - 0.5 * delta) * delta)
    }) { HuberLossBackward0(parameter: delta) }
}

// MARK: - Backward nodes

/// Shared backward of the pointwise losses: `lossʹ(d) · g` to the predictions and its
/// negation to the targets, each summed back to its own shape.
class PointwiseLossBackward: GradFn, @unchecked Sendable {
    var reduction = LossReduction.mean
    var shape: [Int] = []
    var predictionsSlot = -1, targetsSlot = -1
    let parameter: Double

    init(parameter: Double = 0) {
        self.parameter = parameter
        super.init()
    }

    /// The derivative of the per-element loss at `d`, with differentiable ops.
    func derivative(_ d: Tensor) -> Tensor { preconditionFailure("\(name) does not implement derivative") }

    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let gOut = gradOutputs[0] else { return [nil, nil] }
        let p = try savedTensor(predictionsSlot), t = try savedTensor(targetsSlot)
        let grad = derivative(p - t) * lossGradient(gOut, shape: shape, reduction: reduction)
        return [needsInputGrad(0) ? grad.sumToSize(p.shape) : nil,
                needsInputGrad(1) ? (-grad).sumToSize(t.shape) : nil]
    }
}

/// Backward of `mseLoss`: `2d`.
final class MseLossBackward0: PointwiseLossBackward, @unchecked Sendable {
    override func derivative(_ d: Tensor) -> Tensor { d * 2.0 }
}

/// Backward of `smoothL1Loss`: `d/β` inside, `sign(d)` outside.
final class SmoothL1LossBackward0: PointwiseLossBackward, @unchecked Sendable {
    override func derivative(_ d: Tensor) -> Tensor {
        if parameter == 0 { return d.sign() }
        return Tensor.where(d.abs().detached() .< parameter, d / parameter, d.sign())
    }
}

/// Backward of `huberLoss`: `d` inside, `δ·sign(d)` outside.
final class HuberLossBackward0: PointwiseLossBackward, @unchecked Sendable {
    override func derivative(_ d: Tensor) -> Tensor {
        Tensor.where(d.abs().detached() .< parameter, d, d.sign() * parameter)
    }
}
