import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// Adam (PyTorch's `torch.optim.Adam`, with its L2-style `weightDecay`), step for step:
///
/// ```
/// g ← grad + weightDecay·p
/// m ← m + (1 − β₁)·(g − m);   v ← β₂·v + (1 − β₂)·g²
/// p ← p − lr / (1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)
/// ```
/// With `amsgrad`, the maximum of all `v` so far is used in the denominator.
///
/// Contiguous float32/float64 parameters on the CPU are updated in one fused pass over the
/// parameter, its gradient and the moments (like PyTorch's `fused=True`), in place, with the
/// same results as the element-wise formulas above evaluated op by op.
public class Adam: Optimizer {
    /// Decay rates of the first and second moment estimates.
    public let betas: (Double, Double)
    /// Added to the denominator for stability.
    public let eps: Double
    /// Weight decay (L2 penalty for Adam, decoupled for AdamW).
    public let weightDecay: Double
    /// Whether the AMSGrad variant is used.
    public let amsgrad: Bool
    /// Whether the decay is decoupled from the gradient (AdamW).
    let decoupled: Bool

    /// Creates the optimizer with PyTorch's defaults.
    /// - Precondition: `0 <= β < 1`, `eps >= 0`, `weightDecay >= 0`.
    public convenience init(_ parameters: [Parameter], learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                            eps: Double = 1e-8, weightDecay: Double = 0, amsgrad: Bool = false) {
        self.init(parameters, learningRate: learningRate, betas: betas, eps: eps, weightDecay: weightDecay, amsgrad: amsgrad, decoupled: false)
    }

    init(_ parameters: [Parameter], learningRate: Double, betas: (Double, Double), eps: Double, weightDecay: Double,
         amsgrad: Bool, decoupled: Bool) {
        precondition(betas.0 >= 0 && betas.0 < 1, "Invalid beta parameter at index 0: \(betas.0)")
        precondition(betas.1 >= 0 && betas.1 < 1, "Invalid beta parameter at index 1: \(betas.1)")
        precondition(eps >= 0, "Invalid epsilon value: \(eps)")
        precondition(weightDecay >= 0, "Invalid weight_decay value: \(weightDecay)")
        self.betas = betas
        self.eps = eps
        self.weightDecay = weightDecay
        self.amsgrad = amsgrad
        self.decoupled = decoupled
        super.init(parameters, learningRate: learningRate)
    }

    /// One Adam (or AdamW) step for one parameter.
    public override func update(_ p: Tensor, gradient: Tensor, index i: Int) {
        if FusedUpdates.applies(p, gradient) {
            let m = FusedUpdates.takeState(&state[i], "exp_avg", like: p)
            let v = FusedUpdates.takeState(&state[i], "exp_avg_sq", like: p)
            let vmax = amsgrad ? FusedUpdates.takeState(&state[i], "max_exp_avg_sq", like: p) : nil
            let t = Double(steps[i])
            let h = ckernels_adam_params(lr: learningRate, beta1: betas.0, beta2: betas.1, eps: eps, weight_decay: weightDecay,
                                         step_size: learningRate / (1 - pow(betas.0, t)),
                                         bias_correction2_sqrt: (1 - pow(betas.1, t)).squareRoot(), decoupled: decoupled ? 1 : 0)
            FusedUpdates.adam(p, gradient, m: m, v: v, vmax: vmax, h)
            state[i]["exp_avg"] = m
            state[i]["exp_avg_sq"] = v
            if let vmax { state[i]["max_exp_avg_sq"] = vmax }
            return
        }
        var g = gradient
        if weightDecay != 0 {
            if decoupled {
                p.mulInPlace(1 - learningRate * weightDecay)
            } else {
                g = g + p * weightDecay
            }
        }
        let (beta1, beta2) = betas
        let m0 = state[i]["exp_avg"] ?? Tensor.zeros(like: p)
        let v0 = state[i]["exp_avg_sq"] ?? Tensor.zeros(like: p)
        let m = m0 + (g - m0) * (1 - beta1)          // lerp, as PyTorch's exp_avg.lerp_
        var v = v0 * beta2 + g * g * (1 - beta2)
        state[i]["exp_avg"] = m
        state[i]["exp_avg_sq"] = v
        if amsgrad {
            let maxV = state[i]["max_exp_avg_sq"].map { maximum($0, v) } ?? v
            state[i]["max_exp_avg_sq"] = maxV
            v = maxV
        }
        let t = Double(steps[i])
        let biasCorrection1 = 1 - pow(beta1, t)
        let biasCorrection2Sqrt = (1 - pow(beta2, t)).squareRoot()
        let stepSize = learningRate / biasCorrection1
        let denominator = v.sqrt() / biasCorrection2Sqrt + eps
        p.addInPlace((m / denominator) * -stepSize)
    }
}

/// AdamW: Adam with decoupled weight decay (PyTorch's `torch.optim.AdamW`): the parameter is
/// first scaled by `1 − lr·weightDecay`, then takes the Adam step without decay in the gradient.
public final class AdamW: Adam {
    /// Creates the optimizer with PyTorch's defaults (`weightDecay` 0.01).
    /// - Precondition: as `Adam`.
    public init(_ parameters: [Parameter], learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                eps: Double = 1e-8, weightDecay: Double = 1e-2, amsgrad: Bool = false) {
        super.init(parameters, learningRate: learningRate, betas: betas, eps: eps, weightDecay: weightDecay, amsgrad: amsgrad, decoupled: true)
    }
}

/// RMSprop (PyTorch's `torch.optim.RMSprop`), step for step:
///
/// ```
/// g ← grad + weightDecay·p;   s ← α·s + (1 − α)·g²
/// avg ← √(s − ḡ²) (centered, ḡ ← ḡ + (1 − α)(g − ḡ))  or  √s;   avg ← avg + eps
/// b ← momentum·b + g / avg;  p ← p − lr·b     (momentum > 0)
/// p ← p − lr·g / avg                          (otherwise)
/// ```
/// Contiguous float32/float64 parameters on the CPU are updated in one fused pass, in place,
/// with the same results as these formulas evaluated op by op.
public final class RMSprop: Optimizer {
    /// Smoothing constant of the squared-gradient average.
    public let alpha: Double
    /// Added to the denominator for stability.
    public let eps: Double
    /// L2 penalty added to the gradient.
    public let weightDecay: Double
    /// Momentum factor.
    public let momentum: Double
    /// Whether the gradient's variance (not its second moment) normalizes the step.
    public let centered: Bool

    /// Creates the optimizer with PyTorch's defaults.
    /// - Precondition: non-negative hyper-parameters.
    public init(_ parameters: [Parameter], learningRate: Double = 1e-2, alpha: Double = 0.99, eps: Double = 1e-8,
                weightDecay: Double = 0, momentum: Double = 0, centered: Bool = false) {
        precondition(alpha >= 0, "Invalid alpha value: \(alpha)")
        precondition(eps >= 0, "Invalid epsilon value: \(eps)")
        precondition(weightDecay >= 0, "Invalid weight_decay value: \(weightDecay)")
        precondition(momentum >= 0, "Invalid momentum value: \(momentum)")
        self.alpha = alpha
        self.eps = eps
        self.weightDecay = weightDecay
        self.momentum = momentum
        self.centered = centered
        super.init(parameters, learningRate: learningRate)
    }

    /// One RMSprop step for one parameter.
    public override func update(_ p: Tensor, gradient: Tensor, index i: Int) {
        if FusedUpdates.applies(p, gradient) {
            let s = FusedUpdates.takeState(&state[i], "square_avg", like: p)
            let a = centered ? FusedUpdates.takeState(&state[i], "grad_avg", like: p) : nil
            let b = momentum > 0 ? FusedUpdates.takeState(&state[i], "momentum_buffer", like: p) : nil
            let h = ckernels_rmsprop_params(lr: learningRate, alpha: alpha, eps: eps, weight_decay: weightDecay,
                                            momentum: momentum, centered: centered ? 1 : 0)
            FusedUpdates.rmsprop(p, gradient, squareAverage: s, gradAverage: a, buffer: b, h)
            state[i]["square_avg"] = s
            if let a { state[i]["grad_avg"] = a }
            if let b { state[i]["momentum_buffer"] = b }
            return
        }
        var g = gradient
        if weightDecay != 0 { g = g + p * weightDecay }
        let s0 = state[i]["square_avg"] ?? Tensor.zeros(like: p)
        let s = s0 * alpha + g * g * (1 - alpha)
        state[i]["square_avg"] = s
        var avg: Tensor
        if centered {
            let a0 = state[i]["grad_avg"] ?? Tensor.zeros(like: p)
            let a = a0 + (g - a0) * (1 - alpha)
            state[i]["grad_avg"] = a
            avg = (s - a * a).sqrt()
        } else {
            avg = s.sqrt()
        }
        avg = avg + eps
        if momentum > 0 {
            let b0 = state[i]["momentum_buffer"] ?? Tensor.zeros(like: p)
            let b = b0 * momentum + g / avg
            state[i]["momentum_buffer"] = b
            p.addInPlace(b * -learningRate)
        } else {
            p.addInPlace((g / avg) * -learningRate)
        }
    }
}
