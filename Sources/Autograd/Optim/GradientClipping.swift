/// Scales the gradients of `parameters` in place so their combined norm is at most `maxNorm`
/// (PyTorch's `clip_grad_norm_`): the total norm is the `normType`-norm of the per-parameter
/// norms, and every gradient is multiplied by `min(1, maxNorm / (total + 1e-6))`.
/// - Parameters:
///   - normType: `p` of the norm; `.infinity` for the largest absolute value.
/// - Returns: the total norm before clipping, a 0-d float32 tensor (NaN or infinite if a
///   gradient is).
/// - Precondition: `maxNorm >= 0`, `normType > 0`.
@discardableResult
public func clipGradNorm(_ parameters: [Parameter], maxNorm: Double, normType: Double = 2) -> Tensor {
    precondition(maxNorm >= 0 && normType > 0, "clipGradNorm: maxNorm must be non-negative and normType positive")
    return withNoGrad {
        let grads = parameters.compactMap { $0.grad?.detached() }
        guard !grads.isEmpty else { return Tensor.zeros([]) }
        let norms = grads.map { g -> Tensor in
            let a = g.abs().to(.float64)
            if normType == .infinity { return a.max() }
            if normType == 1 { return a.sum() }
            return a.pow(normType).sum().pow(1 / normType)
        }
        let stacked = Tensor.stack(norms.map { $0.cpu() })
        let total = normType == .infinity ? stacked.max() : (normType == 1 ? stacked.sum() : stacked.pow(normType).sum().pow(1 / normType))
        let coefficient = Swift.min(1, maxNorm / (total.item() + 1e-6))
        for g in grads { g.mulInPlace(coefficient) }
        return total.to(.float32)
    }
}

/// Clamps every gradient of `parameters` to `[−clipValue, clipValue]` in place (PyTorch's
/// `clip_grad_value_`).
/// - Precondition: `clipValue >= 0`.
public func clipGradValue(_ parameters: [Parameter], clipValue: Double) {
    precondition(clipValue >= 0, "clipGradValue: clipValue must be non-negative (got \(clipValue))")
    withNoGrad {
        for p in parameters {
            guard let g = p.grad?.detached() else { continue }
            g.clampInPlace(min: -clipValue, max: clipValue)
        }
    }
}
