/// How a loss combines its per-element values (PyTorch's `reduction=` argument).
public enum LossReduction: Sendable, Equatable {
    /// No reduction: one loss per element (per sample for class losses).
    case none
    /// The (weighted) mean, PyTorch's default.
    case mean
    /// The sum.
    case sum
}

// MARK: - Negative log-likelihood

/// Validates class-index targets for `[N, C]`, `[C]` or `[N, C, d1, …]` inputs.
func validateClassTargets(_ input: Tensor, _ targets: Tensor, weight: Tensor?, ignoreIndex: Int, op: String) throws(ShapeError) {
    guard input.rank >= 1 else { throw ShapeError("\(op): expected input of shape [N, C], [C] or [N, C, d1, ...], got a 0-d tensor") }
    guard input.dtype.isFloatingPoint else { throw ShapeError("\(op): expected a floating input, got \(input.dtype)") }
    guard targets.dtype.isInteger else {
        throw ShapeError("\(op): expected integer class targets, got dtype \(targets.dtype)")
    }
    let expected: [Int]
    switch input.rank {
    case 1: expected = []
    default: expected = [input.shape[0]] + Array(input.shape.dropFirst(2))
    }
    guard targets.shape == expected else {
        throw ShapeError("\(op): expected targets of shape \(Shape.describe(expected)), got \(Shape.describe(targets.shape)) for input \(Shape.describe(input.shape))")
    }
    let classes = input.shape[input.rank == 1 ? 0 : 1]
    if let weight {
        guard weight.rank == 1 && weight.shape[0] == classes else {
            throw ShapeError("\(op): weight tensor should be defined either for all \(classes) classes or no classes but got weight tensor of shape: \(Shape.describe(weight.shape))")
        }
        guard weight.dtype.isFloatingPoint && weight.device == input.device else {
            throw ShapeError("\(op): expected a floating weight on \(input.device), got \(weight.dtype) on \(weight.device)")
        }
    }
    for t in targets.scalars(as: Int64.self) where t != Int64(ignoreIndex) && (t < 0 || t >= Int64(classes)) {
        throw ShapeError("\(op): target \(t) is out of bounds for \(classes) classes")
    }
}

/// The negative log-likelihood loss of log-probabilities at integer class `targets`
/// (PyTorch's `F.nll_loss`). `logProbabilities` is `[N, C]`, `[C]` or `[N, C, d1, …]` with
/// targets `[N]`, `[]` or `[N, d1, …]`. Per element the loss is `-weight[t] · x[t]` (zero where
/// `t == ignoreIndex`); `.mean` divides the sum by the total weight of the counted targets.
/// Differentiable in `logProbabilities` (`NllLossBackward0`, `NllLoss2DBackward0` for ranks ≥ 3).
/// - Parameters:
///   - weight: optional per-class weights `[C]`.
///   - ignoreIndex: a target value that contributes neither loss nor weight.
///   - reduction: `.mean` (default), `.sum` or `.none` (shape of `targets`).
/// - Precondition: floating input; integer targets of the matching shape, each in `0..<C` or
///   equal to `ignoreIndex`; weight `[C]` on the same device.
public func nllLoss(logProbabilities: Tensor, targets: Tensor, weight: Tensor? = nil, ignoreIndex: Int = -100,
                    reduction: LossReduction = .mean) -> Tensor {
    let input = logProbabilities
    check { () throws(ShapeError) in try validateClassTargets(input, targets, weight: weight, ignoreIndex: ignoreIndex, op: "nllLoss") }
    let (coefficients, rows) = nllLossRowsCPU(input, targets, weight: weight, ignoreIndex: ignoreIndex)
        ?? nllLossRows(input, targets, weight: weight, ignoreIndex: ignoreIndex)
    let denominator = withNoGrad { coefficients.sum() }
    let out = withNoGrad { () -> Tensor in
        switch reduction {
        case .none: return rows.reshaped(targets.shape)
        case .sum: return rows.sum()
        case .mean: return rows.sum() / denominator
        }
    }.detached()
    return Tensor.record(out, input: input) {
        let node: NllLossBackwardBase = input.rank >= 3 ? NllLoss2DBackward0() : NllLossBackward0()
        node.inputShape = input.shape
        node.reduction = reduction
        node.coefficientsSlot = node.save(coefficients)
        node.denominatorSlot = node.save(denominator)
        return node
    }
}

/// The per-class coefficients `[M, C]` of `nllLoss` (the target's weight at its class, zero
/// elsewhere and in ignored rows) and the per-row losses `[M]`, `M` the flattened targets,
/// with tensor ops on any device.
func nllLossRows(_ input: Tensor, _ targets: Tensor, weight: Tensor?, ignoreIndex: Int) -> (Tensor, Tensor) {
    let classes = input.shape[input.rank == 1 ? 0 : 1]
    let flatTargets = targets.to(.int64).reshaped([-1, 1]).to(device: input.device)
    let onehot = Tensor.arange(classes, device: input.device).reshaped([1, classes]) .== flatTargets
    let counted = flatTargets .!= Tensor.full([], value: Double(ignoreIndex), dtype: .int64, device: input.device)
    let picked = onehot.logicalAnd(counted)
    var coefficients = picked.to(input.dtype)
    if let weight { coefficients = coefficients * weight.detached().to(input.dtype).reshaped([1, classes]) }
    let rows = withNoGrad { () -> Tensor in
        // Only the target's log-probability enters a row (as PyTorch's gather): the others are
        // replaced by zero before the product, so a -inf elsewhere (a masked class) gives no
        // NaN (0 * -inf); an ignored row is zero.
        let negativeZero = Tensor.full([], value: -0.0, dtype: input.dtype, device: input.device)
        return -(Tensor.where(picked, classLast(input.detached()), negativeZero) * coefficients).sum(dim: 1)
    }
    return (coefficients, rows)
}

/// `nllLossRows` in one loop for float32/float64 CPU inputs (instead of ten small ops): the
/// same coefficients, and each row `-(x[t] * weight[t])` (0 where ignored), the same values
/// (a zero row may differ in the sign of zero). Nil for other devices and dtypes.
func nllLossRowsCPU(_ input: Tensor, _ targets: Tensor, weight: Tensor?, ignoreIndex: Int) -> (Tensor, Tensor)? {
    guard input.device == .cpu, targets.device == .cpu, weight.map({ $0.device == .cpu }) ?? true else { return nil }
    switch input.dtype {
    case .float32: return nllLossRowsCPU(input, targets, weight, ignoreIndex, Float.self)
    case .float64: return nllLossRowsCPU(input, targets, weight, ignoreIndex, Double.self)
    default: return nil
    }
}

private func nllLossRowsCPU<T: FloatElement>(_ input: Tensor, _ targets: Tensor, _ weight: Tensor?, _ ignoreIndex: Int,
                                             _: T.Type) -> (Tensor, Tensor) {
    let x = classLast(input.detached()).contiguousWithoutGrad()
    let m = x.shape[0], classes = x.shape[1]
    let t = targets.to(.int64).scalars(as: Int64.self)
    let wt = weight.map { $0.detached().to(input.dtype).contiguousWithoutGrad() }
    let coefficients = Tensor.zeros([m, classes], dtype: input.dtype)
    let rows = Tensor(uninitializedShape: [m], dtype: input.dtype)
    withExtendedLifetime((x, wt, coefficients, rows)) {
        let px = x.pointer(T.self) + x.offset, pc = coefficients.pointer(T.self), pr = rows.pointer(T.self)
        let w = wt.map { $0.pointer(T.self) + $0.offset }
        for i in 0..<m {
            let target = t[i]
            guard target != Int64(ignoreIndex) else {
                pr[i] = 0
                continue
            }
            let k = Int(target), wk = w?[k] ?? 1
            pc[i * classes + k] = wk
            pr[i] = -(px[i * classes + k] * wk)
        }
    }
    return (coefficients, rows)
}

/// `[N, C, d…]` → `[N·d…, C]` (class dim last, flattened); `[C]` → `[1, C]`; `[N, C]` unchanged.
func classLast(_ x: Tensor) -> Tensor {
    switch x.rank {
    case 1: return x.reshaped([1, x.shape[0]])
    case 2: return x
    default:
        let order = [0] + Array(2..<x.rank) + [1]
        return x.permuted(order).reshaped([-1, x.shape[1]])
    }
}

/// Inverse of `classLast`: `[M, C]` back to the input's shape.
func classRestored(_ rows: Tensor, shape: [Int]) -> Tensor {
    switch shape.count {
    case 1, 2: return rows.reshaped(shape)
    default:
        let permutedShape = [shape[0]] + Array(shape.dropFirst(2)) + [shape[1]]
        let order = [0, shape.count - 1] + Array(1..<(shape.count - 1))
        return rows.reshaped(permutedShape).permuted(order)
    }
}

/// Shared backward of `nllLoss`: `-coefficients · g`, scaled by the reduction.
class NllLossBackwardBase: GradFn, @unchecked Sendable {
    var inputShape: [Int] = []
    var reduction = LossReduction.mean
    var coefficientsSlot = -1, denominatorSlot = -1
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let coefficients = try savedTensor(coefficientsSlot).to(g.dtype)
        let scale: Tensor
        switch reduction {
        case .none: scale = g.reshaped([-1, 1])
        case .sum: scale = g
        case .mean: scale = g / (try savedTensor(denominatorSlot)).to(g.dtype)
        }
        return [classRestored(-(coefficients * scale), shape: inputShape)]
    }
}

/// Backward of `nllLoss` for `[N, C]` and `[C]` inputs.
final class NllLossBackward0: NllLossBackwardBase, @unchecked Sendable {}
/// Backward of `nllLoss` for inputs of rank 3 or more.
final class NllLoss2DBackward0: NllLossBackwardBase, @unchecked Sendable {}

// MARK: - Cross-entropy

/// The cross-entropy loss between `logits` and `targets` (PyTorch's `F.cross_entropy`):
/// `logSoftmax` over the class dim (dim 1, or 0 for `[C]` input) followed by `nllLoss`.
///
/// `targets` are either integer class indices (`[N]`, `[]`, `[N, d1, …]`) or, when floating
/// with the logits' shape, class probabilities. Differentiable in `logits`.
///
/// ```swift
/// crossEntropy(logits: Tensor.randn([4, 3]), targets: Tensor([0, 2, 1, 1]))                       // mean, 0-d
/// crossEntropy(logits: x, targets: t, reduction: .none, labelSmoothing: 0.1).shape                // [4]
/// ```
/// - Parameters:
///   - weight: optional per-class weights `[C]`.
///   - ignoreIndex: a class-index target value that is skipped (index targets only).
///   - reduction: `.mean` (default; weighted by `weight` for index targets, by `N·d…` for
///     probability targets), `.sum` or `.none`.
///   - labelSmoothing: ε in [0, 1]: the target becomes `(1 − ε)·target + ε / C`.
/// - Precondition: as `nllLoss`; probability targets floating with the logits' shape and
///   `ignoreIndex < 0`; `labelSmoothing` in [0, 1].
public func crossEntropy(logits: Tensor, targets: Tensor, weight: Tensor? = nil, ignoreIndex: Int = -100,
                         reduction: LossReduction = .mean, labelSmoothing: Double = 0) -> Tensor {
    check { () throws(ShapeError) in
        guard labelSmoothing >= 0 && labelSmoothing <= 1 else {
            throw ShapeError("crossEntropy: label smoothing must be between 0.0 and 1.0. Got: \(labelSmoothing)")
        }
        guard logits.rank >= 1 else { throw ShapeError("crossEntropy: expected logits of shape [N, C], [C] or [N, C, d1, ...], got a 0-d tensor") }
    }
    let classDim = logits.rank == 1 ? 0 : 1
    let classes = logits.shape[classDim]
    let logp = logits.logSoftmax(dim: classDim)
    var weightShape = [Int](repeating: 1, count: logits.rank)
    weightShape[classDim] = classes
    let broadcastWeight = weight.map { $0.reshaped(weightShape) }
    if targets.shape == logits.shape && targets.dtype.isFloatingPoint {
        check { () throws(ShapeError) in
            guard ignoreIndex < 0 else { throw ShapeError("crossEntropy: ignoreIndex is not supported for floating point target") }
            if let weight, weight.rank != 1 || weight.shape[0] != classes {
                throw ShapeError("crossEntropy: weight tensor should be defined either for all \(classes) classes or no classes but got weight tensor of shape: \(Shape.describe(weight.shape))")
            }
        }
        let smoothed = labelSmoothing > 0 ? targets * (1 - labelSmoothing) + labelSmoothing / Double(classes) : targets
        var product = logp * smoothed
        if let broadcastWeight { product = product * broadcastWeight }
        switch reduction {
        case .none: return -product.sum(dim: classDim)
        case .sum: return -product.sum()
        case .mean: return -product.sum() / Double(logits.count / Swift.max(classes, 1))
        }
    }
    let nll = nllLoss(logProbabilities: logp, targets: targets, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction)
    guard labelSmoothing > 0 else { return nll }
    // PyTorch's cross_entropy_loss_label_smoothing: a uniform term over all classes.
    let kept = (targets.to(.int64) .!= Tensor.full([], value: Double(ignoreIndex), dtype: .int64)).to(device: logits.device)
    var smooth = -(broadcastWeight.map { logp * $0 } ?? logp).sum(dim: classDim)
    smooth = smooth * kept.to(smooth.dtype)
    let term: Tensor
    switch reduction {
    case .none: term = smooth
    case .sum: term = smooth.sum()
    case .mean:
        let t = targets.scalars(as: Int64.self)
        let w = weight?.scalars(as: Double.self)
        var denominator = 0.0
        for c in t where c != Int64(ignoreIndex) { denominator += w.map { $0[Int(c)] } ?? 1 }
        term = smooth.sum() / denominator
    }
    return (1 - labelSmoothing) * nll + term * (labelSmoothing / Double(classes))
}

// MARK: - Binary cross-entropy

/// Validates the operands of the binary cross-entropy losses.
func validateBinaryLoss(_ input: Tensor, _ targets: Tensor, weight: Tensor?, op: String) throws(ShapeError) {
    guard input.shape == targets.shape else {
        throw ShapeError("\(op): Using a target size (\(Shape.describe(targets.shape))) that is different to the input size (\(Shape.describe(input.shape))) is deprecated. Please ensure they have the same size.")
    }
    guard input.dtype.isFloatingPoint && targets.dtype.isFloatingPoint else {
        throw ShapeError("\(op): expected floating input and targets, got \(input.dtype) and \(targets.dtype)")
    }
    guard input.device == targets.device else {
        throw ShapeError("\(op): expected input and targets on the same device, but found \(input.device) and \(targets.device)")
    }
    if let weight, !Shape.isExpandable(weight.shape, to: input.shape) {
        throw ShapeError("\(op): weight of shape \(Shape.describe(weight.shape)) does not broadcast to the input shape \(Shape.describe(input.shape))")
    }
}

/// Reduces per-element losses.
func reduceLoss(_ losses: Tensor, _ reduction: LossReduction) -> Tensor {
    switch reduction {
    case .none: return losses
    case .sum: return losses.sum()
    case .mean: return losses.mean()
    }
}

/// The incoming gradient spread over `shape` as the reduction's adjoint.
func lossGradient(_ g: Tensor, shape: [Int], reduction: LossReduction) -> Tensor {
    switch reduction {
    case .none: return g
    case .sum: return g.expanded(to: shape)
    case .mean: return g.expanded(to: shape) / Double(Swift.max(Shape.count(shape), 1))
    }
}

/// The binary cross-entropy between probabilities `predictions` and `targets` of the same
/// shape (PyTorch's `F.binary_cross_entropy`): `-w · (t·log p + (1 − t)·log(1 − p))`, each log
/// clamped to ≥ −100 as PyTorch does. Differentiable in both (`BinaryCrossEntropyBackward0`).
/// - Parameters:
///   - weight: optional rescaling weight broadcastable to the input.
///   - reduction: `.mean` (default), `.sum` or `.none`.
/// - Precondition: equal shapes, floating, same device; predictions within [0, 1].
public func binaryCrossEntropy(predictions: Tensor, targets: Tensor, weight: Tensor? = nil,
                               reduction: LossReduction = .mean) -> Tensor {
    check { () throws(ShapeError) in
        try validateBinaryLoss(predictions, targets, weight: weight, op: "binaryCrossEntropy")
        let bad = withNoGrad { ((predictions.detached() .< 0.0).logicalOr(predictions.detached() .> 1.0)).to(.int64).sum().item() }
        if bad > 0 { throw ShapeError("binaryCrossEntropy: all elements of input should be between 0 and 1") }
    }
    let out = withNoGrad { () -> Tensor in
        let p = predictions.detached(), t = targets.detached()
        let floor = Tensor.full([], value: -100, dtype: p.dtype, device: p.device)
        var l = -(t * maximum(p.log(), floor) + (1 - t) * maximum((1 - p).log(), floor))
        if let weight { l = l * weight.detached() }
        return reduceLoss(l, reduction)
    }.detached()
    return Tensor.record(out, inputs: [predictions, targets]) {
        let node = BinaryCrossEntropyBackward0(reduction: reduction, shape: predictions.shape)
        node.predictionsSlot = node.save(predictions)
        node.targetsSlot = node.save(targets)
        if let weight { node.weightSlot = node.save(weight.detached()) }
        return node
    }
}

/// Backward of `binaryCrossEntropy`: `g·w·(p − t) / max(p(1 − p), 1e-12)` for the predictions,
/// `g·w·(log(1 − p) − log p)` (clamped logs) for the targets.
final class BinaryCrossEntropyBackward0: GradFn, @unchecked Sendable {
    let reduction: LossReduction, shape: [Int]
    var predictionsSlot = -1, targetsSlot = -1, weightSlot = -1
    init(reduction: LossReduction, shape: [Int]) {
        self.reduction = reduction
        self.shape = shape
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let gOut = gradOutputs[0] else { return [nil, nil] }
        let p = try savedTensor(predictionsSlot), t = try savedTensor(targetsSlot)
        var g = lossGradient(gOut, shape: shape, reduction: reduction)
        if weightSlot >= 0 { g = g * (try savedTensor(weightSlot)) }
        let eps = Tensor.full([], value: 1e-12, dtype: p.dtype, device: p.device)
        let floor = Tensor.full([], value: -100, dtype: p.dtype, device: p.device)
        return [needsInputGrad(0) ? g * (p - t) / maximum((1 - p) * p, eps) : nil,
                needsInputGrad(1) ? g * (maximum((1 - p).log(), floor) - maximum(p.log(), floor)) : nil]
    }
}

/// The binary cross-entropy of `logits` against `targets`, computed stably from logits
/// (PyTorch's `F.binary_cross_entropy_with_logits`):
/// `w · ((1 − t)·x + (1 + (posWeight − 1)·t) · softplus(−x))`.
/// Differentiable in logits and targets (`BinaryCrossEntropyWithLogitsBackward0`).
/// - Parameters:
///   - weight: optional rescaling weight broadcastable to the input.
///   - posWeight: optional weight of positive examples, broadcastable (usually `[C]`).
///   - reduction: `.mean` (default), `.sum` or `.none`.
/// - Precondition: equal shapes, floating, same device; weights broadcast.
public func binaryCrossEntropyWithLogits(logits: Tensor, targets: Tensor, weight: Tensor? = nil, posWeight: Tensor? = nil,
                                         reduction: LossReduction = .mean) -> Tensor {
    check { () throws(ShapeError) in
        try validateBinaryLoss(logits, targets, weight: weight, op: "binaryCrossEntropyWithLogits")
        try validateBinaryLoss(logits, targets, weight: posWeight, op: "binaryCrossEntropyWithLogits")
    }
    let out = withNoGrad { () -> Tensor in
        let x = logits.detached(), t = targets.detached()
        let softplusNeg = stableSoftplusOfNegation(x)
        let logWeight = posWeight.map { 1 + ($0.detached() - 1) * t } ?? Tensor.ones([], dtype: x.dtype, device: x.device)
        var l = (1 - t) * x + logWeight * softplusNeg
        if let weight { l = l * weight.detached() }
        return reduceLoss(l, reduction)
    }.detached()
    return Tensor.record(out, inputs: [logits, targets]) {
        let node = BinaryCrossEntropyWithLogitsBackward0(reduction: reduction, shape: logits.shape)
        node.logitsSlot = node.save(logits)
        node.targetsSlot = node.save(targets)
        if let weight { node.weightSlot = node.save(weight.detached()) }
        if let posWeight { node.posWeightSlot = node.save(posWeight.detached()) }
        return node
    }
}

/// `softplus(−x) = max(−x, 0) + log1p(exp(−|x|))`, finite for every x (not recorded).
func stableSoftplusOfNegation(_ x: Tensor) -> Tensor {
    withNoGrad {
        let zero = Tensor.zeros([], dtype: x.dtype, device: x.device)
        return maximum(-x, zero) + (-x.abs()).exp().log1p()
    }
}

/// Backward of `binaryCrossEntropyWithLogits`: `g·w·(lw·σ(x) − lw + 1 − t)` for the logits
/// (`σ(x) − t` without `posWeight`), `g·w·(−x + (posWeight − 1)·softplus(−x))` for the targets.
final class BinaryCrossEntropyWithLogitsBackward0: GradFn, @unchecked Sendable {
    let reduction: LossReduction, shape: [Int]
    var logitsSlot = -1, targetsSlot = -1, weightSlot = -1, posWeightSlot = -1
    init(reduction: LossReduction, shape: [Int]) {
        self.reduction = reduction
        self.shape = shape
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let gOut = gradOutputs[0] else { return [nil, nil] }
        let x = try savedTensor(logitsSlot), t = try savedTensor(targetsSlot)
        var g = lossGradient(gOut, shape: shape, reduction: reduction)
        if weightSlot >= 0 { g = g * (try savedTensor(weightSlot)) }
        var gradX: Tensor? = nil, gradT: Tensor? = nil
        if posWeightSlot >= 0 {
            let pw = try savedTensor(posWeightSlot)
            let lw = 1 + (pw - 1) * t
            if needsInputGrad(0) { gradX = g * (lw * x.sigmoid() - lw + 1 - t) }
            if needsInputGrad(1) {
                // softplus(−x) written with differentiable ops: −log σ(x).
                gradT = g * (-x - (pw - 1) * x.sigmoid().log())
            }
        } else {
            if needsInputGrad(0) { gradX = g * (x.sigmoid() - t) }
            if needsInputGrad(1) { gradT = -g * x }
        }
        return [gradX, gradT]
    }
}
