import CKernels

/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and
/// weight decay, matching PyTorch's `torch.optim.SGD` update step for step:
///
/// ```
/// g ← grad + weightDecay·p
/// b ← g (first step)  or  momentum·b + (1 − dampening)·g
/// g ← g + momentum·b (Nesterov)  or  b
/// p ← p − lr·g
/// ```
/// Contiguous float32/float64 parameters on the CPU are updated in one fused pass, in place,
/// with the same results as these formulas evaluated op by op.
public final class SGD: Optimizer {
    /// Momentum factor (0 disables the buffer).
    public let momentum: Double
    /// Dampening of the momentum.
    public let dampening: Double
    /// L2 penalty added to the gradient.
    public let weightDecay: Double
    /// Whether Nesterov momentum is used.
    public let nesterov: Bool

    /// Creates the optimizer.
    /// - Precondition: non-negative rates; Nesterov needs momentum and zero dampening.
    public init(_ parameters: [Parameter], learningRate: Double, momentum: Double = 0, dampening: Double = 0,
                weightDecay: Double = 0, nesterov: Bool = false) {
        precondition(momentum >= 0, "Invalid momentum value: \(momentum)")
        precondition(weightDecay >= 0, "Invalid weight_decay value: \(weightDecay)")
        precondition(!nesterov || (momentum > 0 && dampening == 0), "Nesterov momentum requires a momentum and zero dampening")
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        super.init(parameters, learningRate: learningRate)
    }

    /// One SGD step for one parameter.
    public override func update(_ p: Tensor, gradient: Tensor, index i: Int) {
        if FusedUpdates.applies(p, gradient) {
            let first = state[i]["momentum_buffer"] == nil
            let buffer = momentum != 0 ? FusedUpdates.takeState(&state[i], "momentum_buffer", like: p) : nil
            let h = ckernels_sgd_params(lr: learningRate, momentum: momentum, dampening: dampening, weight_decay: weightDecay,
                                        nesterov: nesterov ? 1 : 0, first: first ? 1 : 0)
            FusedUpdates.sgd(p, gradient, buffer: buffer, h)
            if let buffer { state[i]["momentum_buffer"] = buffer }
            return
        }
        var d = gradient
        if weightDecay != 0 { d = d + p * weightDecay }
        if momentum != 0 {
            let buffer: Tensor
            if let b = state[i]["momentum_buffer"] {
                buffer = b * momentum + d * (1 - dampening)
            } else {
                buffer = d.clonedWithoutGrad()
            }
            state[i]["momentum_buffer"] = buffer
            d = nesterov ? d + buffer * momentum : buffer
        }
        p.addInPlace(d * -learningRate)
    }
}
