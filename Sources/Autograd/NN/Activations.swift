/// `max(x, 0)` as a module (PyTorch's `nn.ReLU`).
public final class ReLU: Module {
    /// `input.relu()`.
    public override func forward(_ input: Tensor) -> Tensor { input.relu() }
}

/// `tanh` as a module (PyTorch's `nn.Tanh`).
public final class Tanh: Module {
    /// `input.tanh()`.
    public override func forward(_ input: Tensor) -> Tensor { input.tanh() }
}

/// The logistic sigmoid as a module (PyTorch's `nn.Sigmoid`).
public final class Sigmoid: Module {
    /// `input.sigmoid()`.
    public override func forward(_ input: Tensor) -> Tensor { input.sigmoid() }
}

/// Softmax along `dim` as a module (PyTorch's `nn.Softmax`).
public final class Softmax: Module {
    /// The dim normalized over.
    public let dim: Int
    /// Creates the layer.
    public init(dim: Int) {
        self.dim = dim
        super.init()
    }
    /// `input.softmax(dim:)`.
    public override func forward(_ input: Tensor) -> Tensor { input.softmax(dim: dim) }
}

/// Log-softmax along `dim` as a module (PyTorch's `nn.LogSoftmax`).
public final class LogSoftmax: Module {
    /// The dim normalized over.
    public let dim: Int
    /// Creates the layer.
    public init(dim: Int) {
        self.dim = dim
        super.init()
    }
    /// `input.logSoftmax(dim:)`.
    public override func forward(_ input: Tensor) -> Tensor { input.logSoftmax(dim: dim) }
}

/// GELU as a module (PyTorch's `nn.GELU`): `x·Φ(x)`, or its tanh approximation.
public final class GELU: Module {
    /// Which form is computed.
    public let approximate: GeluApproximation
    /// Creates the layer.
    public init(approximate: GeluApproximation = .none) {
        self.approximate = approximate
        super.init()
    }
    /// `input.gelu(approximate:)`.
    public override func forward(_ input: Tensor) -> Tensor { input.gelu(approximate: approximate) }
}

/// SiLU (swish) `x·σ(x)` as a module (PyTorch's `nn.SiLU`).
public final class SiLU: Module {
    /// `input.silu()`.
    public override func forward(_ input: Tensor) -> Tensor { input.silu() }
}

/// Leaky ReLU as a module (PyTorch's `nn.LeakyReLU`).
public final class LeakyReLU: Module {
    /// The slope for negative inputs.
    public let negativeSlope: Double
    /// Creates the layer.
    public init(negativeSlope: Double = 0.01) {
        self.negativeSlope = negativeSlope
        super.init()
    }
    /// `input.leakyRelu(negativeSlope:)`.
    public override func forward(_ input: Tensor) -> Tensor { input.leakyRelu(negativeSlope: negativeSlope) }
}

/// ELU as a module (PyTorch's `nn.ELU`).
public final class ELU: Module {
    /// The saturation value for negative inputs.
    public let alpha: Double
    /// Creates the layer.
    public init(alpha: Double = 1) {
        self.alpha = alpha
        super.init()
    }
    /// `input.elu(alpha:)`.
    public override func forward(_ input: Tensor) -> Tensor { input.elu(alpha: alpha) }
}

/// Softplus `log(1 + e^(βx)) / β` as a module (PyTorch's `nn.Softplus`).
public final class Softplus: Module {
    /// The sharpness and the linear-regime threshold.
    public let beta: Double, threshold: Double
    /// Creates the layer.
    public init(beta: Double = 1, threshold: Double = 20) {
        self.beta = beta
        self.threshold = threshold
        super.init()
    }
    /// `input.softplus(beta:threshold:)`.
    public override func forward(_ input: Tensor) -> Tensor { input.softplus(beta: beta, threshold: threshold) }
}
