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

/// GELU as a module (PyTorch's `nn.GELU`): `x·Φ(x)`, or its tanh approximation
/// `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))` with `approximateTanh`.
public final class GELU: Module {
    /// Whether the tanh approximation is used.
    public let approximateTanh: Bool
    /// Creates the layer.
    public init(approximateTanh: Bool = false) {
        self.approximateTanh = approximateTanh
        super.init()
    }
    /// GELU of the input, differentiable.
    public override func forward(_ input: Tensor) -> Tensor {
        if approximateTanh {
            let inner = (input + input.pow(3) * 0.044715) * (2 / Double.pi).squareRoot()
            return input * 0.5 * (1 + inner.tanh())
        }
        return geluExact(input)
    }
}

/// Exact GELU written with differentiable ops: `x·Φ(x)` with `Φ` from the error function,
/// whose derivative `2/√π·e^(−z²)` is itself differentiable.
func geluExact(_ x: Tensor) -> Tensor {
    x * 0.5 * (1 + erfDifferentiable(x / 2.0.squareRoot()))
}

/// `erf(z)`, recorded as `ErfBackward0`.
func erfDifferentiable(_ z: Tensor) -> Tensor {
    let out = z.computeUnary(.erf)
    return Tensor.record(out, inputs: [z]) {
        let node = NNErfBackward()
        node.selfSlot = node.save(z)
        return node
    }
}

/// Backward of `erf`: `g · 2/√π · e^(−z²)`.
final class NNErfBackward: GradFn, @unchecked Sendable {
    var selfSlot = -1
    override var name: String { "ErfBackward0" }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let z = try savedTensor(selfSlot)
        return [g * (-(z * z)).exp() * (2 / Double.pi.squareRoot())]
    }
}
