// MARK: - Layer normalization

/// Layer normalization over the trailing `normalizedShape` dims (PyTorch's `F.layer_norm`):
/// `(x − mean) / sqrt(var + eps) · weight + bias`, with the biased variance. Same shape and
/// dtype as the input. Differentiable in all three (`NativeLayerNormBackward0`).
///
/// ```swift
/// layerNorm(Tensor.randn([4, 10]), normalizedShape: [10]).shape   // [4, 10]
/// ```
/// - Parameters:
///   - weight, bias: optional affine parameters of shape `normalizedShape`.
/// - Precondition: floating input whose trailing dims equal `normalizedShape`; weight and bias
///   of that shape, dtype and device.
public func layerNorm(_ input: Tensor, normalizedShape: [Int], weight: Tensor? = nil, bias: Tensor? = nil,
                      eps: Double = 1e-5) -> Tensor {
    check { () throws(ShapeError) in
        guard input.dtype.isFloatingPoint else { throw ShapeError("layerNorm: expected a floating input, got \(input.dtype)") }
        guard !normalizedShape.isEmpty, input.rank >= normalizedShape.count,
              Array(input.shape.suffix(normalizedShape.count)) == normalizedShape else {
            throw ShapeError("layerNorm: Given normalized_shape=\(Shape.describe(normalizedShape)), expected input with shape [*, \(normalizedShape.map(String.init).joined(separator: ", "))], but got input of size \(Shape.describe(input.shape))")
        }
        for (name, t) in [("weight", weight), ("bias", bias)] {
            guard let t else { continue }
            guard t.shape == normalizedShape && t.dtype == input.dtype && t.device == input.device else {
                throw ShapeError("layerNorm: expected \(name) of shape \(Shape.describe(normalizedShape)), dtype \(input.dtype) on \(input.device), got \(Shape.describe(t.shape)), \(t.dtype) on \(t.device)")
            }
        }
    }
    let dims = Array((input.rank - normalizedShape.count)..<input.rank)
    let inputs = [input] + [weight, bias].compactMap { $0 }
    // The fused forward also hands over each row's mean and rstd when a backward will need them.
    let recording = GradMode.isEnabled && inputs.contains { $0.requiresGrad }
    var statistics: (mean: Tensor, rstd: Tensor)?
    let out = withNoGrad { () -> Tensor in
        if normalizedShape.count == 1,
           let fused = CKernelPaths.layerNorm(input, weight: weight, bias: bias, eps: eps, statistics: recording) {
            if let mean = fused.mean, let rstd = fused.rstd { statistics = (mean, rstd) }
            return fused.y
        }
        var y = normalized(input.detached(), dims: dims, eps: eps).xhat
        if let weight { y = y * weight.detached() }
        if let bias { y = y + bias.detached() }
        return y
    }.detached()
    return Tensor.record(out, inputs: inputs) {
        let node = NativeLayerNormBackward0(dims: dims, eps: eps, hasWeight: weight != nil, hasBias: bias != nil,
                                            parameterShape: normalizedShape)
        node.inputSlot = node.save(input)
        if let weight { node.weightSlot = node.save(weight) }
        node.statistics = statistics
        return node
    }
}

/// `(x − mean) · rstd` over `dims`, with the statistics, in differentiable ops.
func normalized(_ x: Tensor, dims: [Int], eps: Double) -> (xhat: Tensor, rstd: Tensor, mean: Tensor, centered: Tensor) {
    let mean = x.mean(dims: dims, keepDim: true)
    let centered = x - mean
    let rstd = 1.0 / ((centered * centered).mean(dims: dims, keepDim: true) + eps).sqrt()
    return (centered * rstd, rstd, mean, centered)
}

/// The input gradient of a normalization over `dims` whose statistics came from the input:
/// `rstd · (ĝ − mean(ĝ) − x̂ · mean(ĝ · x̂))` with `ĝ = g · weight`.
func normalizationInputGradient(_ gHat: Tensor, xhat: Tensor, rstd: Tensor, dims: [Int]) -> Tensor {
    rstd * (gHat - gHat.mean(dims: dims, keepDim: true) - xhat * (gHat * xhat).mean(dims: dims, keepDim: true))
}

/// Shared backward of layer and batch normalization with batch statistics.
class NormalizationBackward: GradFn, @unchecked Sendable {
    /// Dims the statistics are taken over.
    let dims: [Int]
    let eps: Double
    let hasWeight: Bool, hasBias: Bool
    /// The shape of weight and bias.
    let parameterShape: [Int]
    var inputSlot = -1, weightSlot = -1

    init(dims: [Int], eps: Double, hasWeight: Bool, hasBias: Bool, parameterShape: [Int]) {
        self.dims = dims
        self.eps = eps
        self.hasWeight = hasWeight
        self.hasBias = hasBias
        self.parameterShape = parameterShape
        super.init()
    }

    /// The dims weight and bias gradients are summed over, and the broadcast shape of weight.
    func parameterLayout(rank: Int) -> (sumDims: [Int], broadcastShape: [Int]) { preconditionFailure("abstract") }

    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        let count = 1 + (hasWeight ? 1 : 0) + (hasBias ? 1 : 0)
        guard let g = gradOutputs[0] else { return [Tensor?](repeating: nil, count: count) }
        let x = try savedTensor(inputSlot)
        let layout = parameterLayout(rank: x.rank)
        if !GradMode.isEnabled, let fused = try fusedGradients(g, input: x) { return fused }
        func reducedToParameter(_ t: Tensor) -> Tensor {
            (layout.sumDims.isEmpty ? t : t.sum(dims: layout.sumDims)).reshaped(parameterShape)
        }
        let (xhat, rstd, _, _) = normalized(x, dims: dims, eps: eps)
        let weight = hasWeight ? try savedTensor(weightSlot).reshaped(layout.broadcastShape) : nil
        var result: [Tensor?] = []
        result.append(needsInputGrad(0) ? inputGradient(g * (weight ?? Tensor.ones([], dtype: g.dtype, device: g.device)), xhat: xhat, rstd: rstd) : nil)
        if hasWeight { result.append(needsInputGrad(1) ? reducedToParameter(g * xhat) : nil) }
        if hasBias { result.append(needsInputGrad(result.count) ? reducedToParameter(g) : nil) }
        return result
    }

    /// The gradients in one fused pass, the same bits as the composed ones below, or nil where
    /// the subclass has none for these operands (first order only: called without recording).
    func fusedGradients(_ g: Tensor, input x: Tensor) throws -> [Tensor?]? { nil }

    /// The gradient of the input given `ĝ = g · weight`.
    func inputGradient(_ gHat: Tensor, xhat: Tensor, rstd: Tensor) -> Tensor {
        normalizationInputGradient(gHat, xhat: xhat, rstd: rstd, dims: dims)
    }
}

/// Backward of `layerNorm`.
final class NativeLayerNormBackward0: NormalizationBackward, @unchecked Sendable {
    /// Each row's mean and rstd from the fused forward (`[rows]`), or nil where the forward
    /// was composed; the fused backward then computes them again (the same values).
    var statistics: (mean: Tensor, rstd: Tensor)?

    override func parameterLayout(rank: Int) -> (sumDims: [Int], broadcastShape: [Int]) {
        (Array(0..<(rank - parameterShape.count)), parameterShape)
    }

    /// Over the last dim: one C pass per row gives the input gradient and the sums over the
    /// rows of g * xhat and g (the weight and bias gradients), the composed ops' bits (summing
    /// the leading dims of a contiguous tensor is the sum over the rows of its [rows, n] view).
    override func fusedGradients(_ g: Tensor, input x: Tensor) throws -> [Tensor?]? {
        guard parameterShape.count == 1, needsInputGrad(0) else { return nil }
        let weightGrad = hasWeight && needsInputGrad(1), biasGrad = hasBias && needsInputGrad(hasWeight ? 2 : 1)
        guard let fused = CKernelPaths.layerNormBackward(x, g, weight: hasWeight ? try savedTensor(weightSlot) : nil, eps: eps,
                                                         mean: statistics?.mean, rstd: statistics?.rstd,
                                                         withSums: weightGrad || biasGrad) else { return nil }
        var result: [Tensor?] = [fused.dx]
        if hasWeight { result.append(weightGrad ? fused.dw : nil) }
        if hasBias { result.append(biasGrad ? fused.db : nil) }
        return result
    }
}

// MARK: - Batch normalization

/// Batch normalization over every dim but the channel dim 1 (PyTorch's `F.batch_norm`) for
/// `[N, C]`, `[N, C, L]` or `[N, C, H, W]` input. In training it normalizes with the batch's
/// statistics and, when given, updates `runningMean`/`runningVar` in place
/// (`(1 − momentum)·running + momentum·batch`, the variance unbiased); otherwise it uses the
/// running statistics. Differentiable in input, weight and bias (`NativeBatchNormBackward0`).
/// - Parameters:
///   - runningMean, runningVar: `[C]` running statistics (required when `training` is false).
///   - weight, bias: optional `[C]` affine parameters.
/// - Precondition: rank 2–4 floating input; `[C]` statistics and parameters of its dtype and
///   device; more than one value per channel when training.
public func batchNorm(_ input: Tensor, runningMean: Tensor?, runningVar: Tensor?, weight: Tensor? = nil, bias: Tensor? = nil,
                      training: Bool, momentum: Double = 0.1, eps: Double = 1e-5) -> Tensor {
    check { () throws(ShapeError) in
        guard input.rank >= 2 && input.rank <= 5 && input.dtype.isFloatingPoint else {
            throw ShapeError("batchNorm: expected a floating input of rank 2 to 5, got \(Shape.describe(input.shape)) \(input.dtype)")
        }
        let c = input.shape[1]
        for (name, t) in [("runningMean", runningMean), ("runningVar", runningVar), ("weight", weight), ("bias", bias)] {
            guard let t else { continue }
            guard t.shape == [c] && t.dtype == input.dtype && t.device == input.device else {
                throw ShapeError("batchNorm: expected \(name) of shape [\(c)], dtype \(input.dtype) on \(input.device), got \(Shape.describe(t.shape)), \(t.dtype) on \(t.device)")
            }
        }
        if training && input.count / Swift.max(c, 1) <= 1 {
            throw ShapeError("batchNorm: Expected more than 1 value per channel when training, got input size \(Shape.describe(input.shape))")
        }
        if !training && (runningMean == nil || runningVar == nil) {
            throw ShapeError("batchNorm: running_mean and running_var must be defined in evaluation mode")
        }
    }
    let c = input.shape[1]
    let dims = [0] + Array(2..<input.rank)
    var broadcast = [Int](repeating: 1, count: input.rank)
    broadcast[1] = c
    let out = withNoGrad { () -> Tensor in
        let x = input.detached()
        var y: Tensor
        if training, let fused = CKernelPaths.batchNormTrain(x, weight: weight?.detached(), bias: bias?.detached(), eps: eps) {
            if let runningMean, let runningVar {
                let n = Double(input.count / c)
                runningMean.mulInPlace(1 - momentum).addInPlace(fused.mean * momentum)
                runningVar.mulInPlace(1 - momentum).addInPlace(fused.squares / Swift.max(n - 1, 1) * momentum)
            }
            return fused.out
        }
        if training {
            let (xhat, _, mean, centered) = normalized(x, dims: dims, eps: eps)
            y = xhat
            if let runningMean, let runningVar {
                // The batch statistics the normalization just computed, not a second pass.
                let n = Double(input.count / c)
                let mean = mean.reshaped([c])
                let unbiased = (centered * centered).sum(dims: dims) / Swift.max(n - 1, 1)
                runningMean.mulInPlace(1 - momentum).addInPlace(mean * momentum)
                runningVar.mulInPlace(1 - momentum).addInPlace(unbiased * momentum)
            }
        } else {
            // Non-nil: checked by the validator above in evaluation mode.
            if let fused = CKernelPaths.batchNormEval(x, mean: runningMean!, variance: runningVar!, weight: weight?.detached(),
                                                      bias: bias?.detached(), eps: eps) {
                return fused
            }
            let mean = runningMean!.reshaped(broadcast), variance = runningVar!.reshaped(broadcast)
            y = (x - mean) / (variance + eps).sqrt()
        }
        if let weight { y = y * weight.detached().reshaped(broadcast) }
        if let bias { y = y + bias.detached().reshaped(broadcast) }
        return y
    }.detached()
    let inputs = [input] + [weight, bias].compactMap { $0 }
    return Tensor.record(out, inputs: inputs) {
        let node = NativeBatchNormBackward0(dims: dims, eps: eps, hasWeight: weight != nil, hasBias: bias != nil, parameterShape: [c])
        node.inputSlot = node.save(input)
        if let weight { node.weightSlot = node.save(weight) }
        if !training, let runningMean, let runningVar {
            // The statistics are constants in evaluation mode: save copies, since training
            // steps later update the running buffers in place.
            node.runningMeanSlot = node.save(runningMean.clonedWithoutGrad())
            node.runningVarSlot = node.save(runningVar.clonedWithoutGrad())
        }
        return node
    }
}

/// Backward of `batchNorm` (batch statistics in training, running statistics in evaluation).
final class NativeBatchNormBackward0: NormalizationBackward, @unchecked Sendable {
    var runningMeanSlot = -1, runningVarSlot = -1

    override func parameterLayout(rank: Int) -> (sumDims: [Int], broadcastShape: [Int]) {
        var shape = [Int](repeating: 1, count: rank)
        shape[1] = parameterShape[0]
        return (dims, shape)
    }

    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard runningMeanSlot >= 0 else { return try super.apply(gradOutputs) }
        let count = 1 + (hasWeight ? 1 : 0) + (hasBias ? 1 : 0)
        guard let g = gradOutputs[0] else { return [Tensor?](repeating: nil, count: count) }
        let x = try savedTensor(inputSlot)
        let layout = parameterLayout(rank: x.rank)
        let mean = try savedTensor(runningMeanSlot).reshaped(layout.broadcastShape)
        let rstd = 1.0 / (try savedTensor(runningVarSlot).reshaped(layout.broadcastShape) + eps).sqrt()
        let xhat = (x - mean) * rstd
        var result: [Tensor?] = []
        var scale = rstd
        if hasWeight { scale = scale * (try savedTensor(weightSlot)).reshaped(layout.broadcastShape) }
        result.append(needsInputGrad(0) ? g * scale : nil)
        if hasWeight { result.append(needsInputGrad(1) ? (g * xhat).sum(dims: dims) : nil) }
        if hasBias { result.append(needsInputGrad(result.count) ? g.sum(dims: dims) : nil) }
        return result
    }
}
