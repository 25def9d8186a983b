extension Tensor {
    /// Runs a unary kernel without recording. Floating functions of integer tensors compute in
    /// float32 (PyTorch's rule); half types compute in float32 and round back.
    func computeUnary(_ op: UnaryOp) -> Tensor {
        let floatingOnly: Bool
        switch op {
        case .neg, .abs, .sign, .floor, .ceil, .round, .trunc, .relu, .square, .logicalNot, .isNaN, .isInf, .isFinite:
            floatingOnly = false
        default:
            floatingOnly = true
        }
        let result: DType = floatingOnly ? dtype.floatingResult : dtype
        let compute: DType = result == .float16 || result == .bfloat16 ? .float32 : result
        let x = dtype == compute ? self : convertedWithoutGrad(to: compute)
        let outDType: DType
        switch op {
        case .logicalNot, .isNaN, .isInf, .isFinite: outDType = .bool
        default: outDType = compute
        }
        // x's layout if transposed/permuted dense (CPU)
        let out = Tensor(uninitializedLike: x, dtype: outDType)
        Backends.backend(for: device).unary(op, x, into: out)
        if outDType != .bool && outDType != result { return out.convertedWithoutGrad(to: result) }
        return out
    }

    /// `e^x` elementwise; floating result (integers → float32). Differentiable (`ExpBackward0`).
    public func exp() -> Tensor {
        let out = computeUnary(.exp)
        return Tensor.record(out, input: self) {
            let node = ExpBackward0()
            node.resultSlot = node.save(out, isOutput: true)
            return node
        }
    }

    /// Natural logarithm elementwise; floating result. Differentiable (`LogBackward0`).
    public func log() -> Tensor {
        let out = computeUnary(.log)
        return Tensor.record(out, input: self) {
            let node = LogBackward0()
            node.selfSlot = node.save(self)
            return node
        }
    }

    /// Square root elementwise; floating result. Differentiable (`SqrtBackward0`).
    public func sqrt() -> Tensor {
        let out = computeUnary(.sqrt)
        return Tensor.record(out, input: self) {
            let node = SqrtBackward0()
            node.resultSlot = node.save(out, isOutput: true)
            return node
        }
    }

    /// Sine elementwise; floating result. Differentiable (`SinBackward0`).
    public func sin() -> Tensor {
        let out = computeUnary(.sin)
        return Tensor.record(out, input: self) {
            let node = SinBackward0()
            node.selfSlot = node.save(self)
            return node
        }
    }

    /// Cosine elementwise; floating result. Differentiable (`CosBackward0`).
    public func cos() -> Tensor {
        let out = computeUnary(.cos)
        return Tensor.record(out, input: self) {
            let node = CosBackward0()
            node.selfSlot = node.save(self)
            return node
        }
    }

    /// Hyperbolic tangent elementwise; floating result. Differentiable (`TanhBackward0`).
    public func tanh() -> Tensor {
        let out = computeUnary(.tanh)
        return Tensor.record(out, input: self) {
            let node = TanhBackward0()
            node.resultSlot = node.save(out, isOutput: true)
            return node
        }
    }

    /// Logistic sigmoid `1 / (1 + e^-x)` elementwise, computed stably for both signs; floating
    /// result. Differentiable (`SigmoidBackward0`).
    public func sigmoid() -> Tensor {
        let out = computeUnary(.sigmoid)
        return Tensor.record(out, input: self) {
            let node = SigmoidBackward0()
            node.resultSlot = node.save(out, isOutput: true)
            return node
        }
    }

    /// `max(x, 0)` elementwise; keeps the dtype. Differentiable (`ReluBackward0`; gradient 0 at 0).
    public func relu() -> Tensor {
        let out = computeUnary(.relu)
        return Tensor.record(out, input: self) {
            let node = ReluBackward0()
            node.resultSlot = node.save(out, isOutput: true)
            return node
        }
    }

    /// Absolute value elementwise; keeps the dtype. Differentiable (`AbsBackward0`; gradient 0 at 0).
    public func abs() -> Tensor {
        let out = computeUnary(.abs)
        return Tensor.record(out, input: self) {
            let node = AbsBackward0()
            node.selfSlot = node.save(self)
            return node
        }
    }

    /// The sign (-1, 0 or 1) elementwise; keeps the dtype. Its gradient is zero (`SignBackward0`).
    public func sign() -> Tensor {
        let out = computeUnary(.sign)
        return Tensor.record(out, input: self) { SignBackward0() }
    }
}

// MARK: - Backward nodes

/// Backward of `exp`: `g * result`.
final class ExpBackward0: UnaryGradFn, @unchecked Sendable {
    var resultSlot = -1
    override func gradient(_ g: Tensor) throws -> Tensor {
        return g * (try savedTensor(resultSlot))
    }
}

/// Backward of `log`: `g / x`.
final class LogBackward0: UnaryGradFn, @unchecked Sendable {
    var selfSlot = -1
    override func gradient(_ g: Tensor) throws -> Tensor {
        return g / (try savedTensor(selfSlot))
    }
}

/// Backward of `sqrt`: `g / (2 * result)`.
final class SqrtBackward0: UnaryGradFn, @unchecked Sendable {
    var resultSlot = -1
    override func gradient(_ g: Tensor) throws -> Tensor {
        return g / (try savedTensor(resultSlot) * 2)
    }
}

/// Backward of `sin`: `g * cos x`.
final class SinBackward0: UnaryGradFn, @unchecked Sendable {
    var selfSlot = -1
    override func gradient(_ g: Tensor) throws -> Tensor {
        return g * (try savedTensor(selfSlot)).cos()
    }
}

/// Backward of `cos`: `-g * sin x`.
final class CosBackward0: UnaryGradFn, @unchecked Sendable {
    var selfSlot = -1
    override func gradient(_ g: Tensor) throws -> Tensor {
        return -g * (try savedTensor(selfSlot)).sin()
    }
}

/// Backward of `tanh`: `g * (1 - result²)`.
final class TanhBackward0: UnaryGradFn, @unchecked Sendable {
    var resultSlot = -1
    override func gradient(_ g: Tensor) throws -> Tensor {
        let y = try savedTensor(resultSlot)
        return g * (1 - y * y)
    }
}

/// Backward of `sigmoid`: `g * result * (1 - result)`.
final class SigmoidBackward0: UnaryGradFn, @unchecked Sendable {
    var resultSlot = -1
    override func gradient(_ g: Tensor) throws -> Tensor {
        let y = try savedTensor(resultSlot)
        return g * y * (1 - y)
    }
}

/// Backward of `relu`: `g` where the result is positive, else 0.
final class ReluBackward0: UnaryGradFn, @unchecked Sendable {
    var resultSlot = -1
    override func gradient(_ g: Tensor) throws -> Tensor {
        let y = try savedTensor(resultSlot)
        // Not recording (no createGraph): one pass instead of a compare and a select.
        if !GradMode.isEnabled, let fused = CKernelPaths.reluBackward(y, g) { return fused }
        return Tensor.where(y .> 0.0, g, Tensor.zeros([], dtype: g.dtype, device: g.device))
    }
}

/// Backward of `abs`: `g * sign(x)`.
final class AbsBackward0: UnaryGradFn, @unchecked Sendable {
    var selfSlot = -1
    override func gradient(_ g: Tensor) throws -> Tensor {
        return g * (try savedTensor(selfSlot)).sign()
    }
}

/// Backward of `sign`: zero.
final class SignBackward0: UnaryGradFn, @unchecked Sendable {
    override func gradient(_ g: Tensor) throws -> Tensor {
        return Tensor.zeros(like: g)
    }
}
