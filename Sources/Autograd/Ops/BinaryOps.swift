/// One side of a binary op: a tensor or a Swift scalar.
enum Operand {
    case tensor(Tensor)
    case scalar(Scalar)

    var tensor: Tensor? {
        if case .tensor(let t) = self { return t }
        return nil
    }

    var promotion: PromotionOperand {
        switch self {
        case .tensor(let t): return PromotionOperand(dtype: t.dtype, tier: t.rank == 0 ? .zeroDim : .dimensioned)
        case .scalar(let s): return PromotionOperand(dtype: s.defaultDType, tier: .scalar)
        }
    }

    var shape: [Int] { tensor?.shape ?? [] }
}

extension Tensor {
    /// The device two operands run on: equal devices, or a 0-d CPU tensor joining the other.
    static func commonDevice(_ a: Tensor, _ b: Tensor, op: String) throws(ShapeError) -> Device {
        if a.device == b.device { return a.device }
        if a.rank == 0 && a.device == .cpu { return b.device }
        if b.rank == 0 && b.device == .cpu { return a.device }
        throw ShapeError("\(op): expected all tensors to be on the same device, but found at least two devices, \(a.device) and \(b.device)")
    }

    /// The shapes, dtypes and devices of a binary op, validated: (result dtype, compute dtype,
    /// output shape, device).
    static func planBinary(_ op: BinaryOp, _ lhs: Operand, _ rhs: Operand, name: String) throws(ShapeError)
        -> (result: DType, compute: DType, shape: [Int], device: Device)
    {
        // One switch over the operand kinds: each tensor is taken out once (copying an Operand
        // retains four references).
        var device = Device.cpu
        var result: DType
        let shape: [Int]
        switch (lhs, rhs) {
        case (.tensor(let a), .tensor(let b)):
            device = try commonDevice(a, b, op: name)
            result = a.dtype == b.dtype ? a.dtype : DType.resultType([lhs.promotion, rhs.promotion])
            shape = a.shape == b.shape ? a.shape : try Shape.broadcast(a.shape, b.shape, op: name)
        case (.tensor(let a), .scalar(let s)):
            device = a.device
            // A scalar of the same or lower category never changes the dtype.
            result = s.defaultDType.category <= a.dtype.category ? a.dtype : DType.resultType([lhs.promotion, rhs.promotion])
            shape = a.shape
        case (.scalar(let s), .tensor(let b)):
            device = b.device
            result = s.defaultDType.category <= b.dtype.category ? b.dtype : DType.resultType([lhs.promotion, rhs.promotion])
            shape = b.shape
        case (.scalar, .scalar):
            result = DType.resultType([lhs.promotion, rhs.promotion])
            shape = []
        }
        var compute = result
        switch op {
        case .div, .atan2:
            if !result.isFloatingPoint { result = .defaultFloat }
            compute = result
        case .eq, .ne, .lt, .le, .gt, .ge, .logicalAnd, .logicalOr, .logicalXor:
            compute = result
            result = .bool
        case .sub:
            if result == .bool {
                throw ShapeError("\(name): subtraction, the `-` operator, with two bool tensors is not supported. Use logicalXor(_:_:) instead.")
            }
        default:
            break
        }
        if compute == .float16 || compute == .bfloat16 { compute = .float32 }
        return (result, compute, shape, device)
    }

    /// Runs a binary kernel without recording: promotion, broadcasting, half widening.
    static func computeBinary(_ op: BinaryOp, _ lhs: Operand, _ rhs: Operand, name: String) -> Tensor {
        // Plan-free fast paths for CPU float operands (what the planned path below computes
        // for them: a Swift scalar never promotes a float tensor, two 0-d tensors of one dtype
        // neither promote nor broadcast), without the promotion plan and strided loops.
        switch (lhs, rhs) {
        case (.tensor(let x), .scalar(let s)):
            if let out = computeFloatScalar(op, x, s, scalarOnLeft: false) { return out }
        case (.scalar(let s), .tensor(let x)):
            if let out = computeFloatScalar(op, x, s, scalarOnLeft: true) { return out }
        case (.tensor(let a), .tensor(let b)):
            if let out = computeFloatScalars(op, a, b) { return out }
        default:
            break
        }
        let plan = check { () throws(ShapeError) in try planBinary(op, lhs, rhs, name: name) }
        func materialize(_ operand: Operand) -> Tensor {
            switch operand {
            case .tensor(let t):
                var x = t.dtype == plan.compute ? t : t.convertedWithoutGrad(to: plan.compute)
                if x.device != plan.device { x = x.to(device: plan.device) }
                return x
            case .scalar(let s):
                return Tensor(scalar: s, dtype: plan.compute, device: plan.device)
            }
        }
        let a = materialize(lhs), b = materialize(rhs)
        let outDType = op.isComparison ? DType.bool : plan.compute
        let out = binaryOutput(a, b, shape: plan.shape, dtype: outDType, device: plan.device)
        Backends.backend(for: plan.device).binary(op, a, b, into: out)
        if outDType != plan.result { return out.convertedWithoutGrad(to: plan.result) }
        return out
    }
}

extension Tensor {
    /// The output of an element-wise op on `a` and `b`: laid out as the operands are when every
    /// operand of the output's shape shares one transposed/permuted dense CPU layout and any
    /// other operand is a single value (PyTorch's rule for inputs that agree on a layout);
    /// contiguous otherwise.
    static func binaryOutput(_ a: Tensor, _ b: Tensor, shape: [Int], dtype: DType, device: Device) -> Tensor {
        if shape.count >= 2 && device.kind == .cpu {
            let aFull = a.shape == shape, bFull = b.shape == shape
            let donor: Tensor? = aFull && bFull ? (a.strides == b.strides ? a : nil)
                : aFull && b.count == 1 ? a : bFull && a.count == 1 ? b : nil
            if let donor, !donor.isContiguous { return Tensor(uninitializedLike: donor, dtype: dtype) }
        }
        return Tensor(uninitializedShape: shape, dtype: dtype, device: device)
    }
}

// MARK: - Tensor-scalar fast path

extension Tensor {
    /// `x op s` (`s op x` with `scalarOnLeft`) for a CPU float32/float64 tensor and a Swift
    /// scalar, or nil for anything else: what `computeBinary`'s planned path computes for these operands
    /// (a Swift scalar never promotes a floating tensor, so the result has `x`'s dtype), without
    /// its operand enums and promotion plan. A 0-d `x` is computed right here, element for
    /// element as the CPU scalar kernel computes it (`CPUKernels.scalarOp`).
    @inline(__always)
    static func computeFloatScalar(_ op: BinaryOp, _ x: Tensor, _ s: Scalar, scalarOnLeft: Bool) -> Tensor? {
        guard x.storage.device.kind == .cpu, x.dtype == .float32 || x.dtype == .float64, op.hasScalarKernel else { return nil }
        let out = Tensor(uninitializedLike: x, dtype: x.dtype)
        if x.shape.isEmpty {
            if x.dtype == .float32 {
                out.pointer(Float.self)[0] = CPUKernels.scalarOp(op, x.pointer(Float.self)[x.offset], s.value(as: Float.self), scalarOnLeft: scalarOnLeft)
            } else {
                out.pointer(Double.self)[0] = CPUKernels.scalarOp(op, x.pointer(Double.self)[x.offset], s.value(as: Double.self), scalarOnLeft: scalarOnLeft)
            }
            return out
        }
        Backends.cpu.binaryScalar(op, x, s, scalarOnLeft: scalarOnLeft, into: out)
        return out
    }
}

extension Tensor {
    /// `a op b` for two 0-d CPU tensors of one floating dtype (float32/float64) and an
    /// arithmetic op, or nil for anything else: what `computeBinary` computes for them (same
    /// dtype, no broadcasting, no promotion), with the expressions of `CPUKernels.binaryFloat`,
    /// but without its operand enums, plan and strided loop.
    @inline(__always)
    static func computeFloatScalars(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) -> Tensor? {
        guard a.shape.isEmpty, b.shape.isEmpty, a.dtype == b.dtype, a.dtype == .float32 || a.dtype == .float64,
              a.storage.device.kind == .cpu, b.storage.device.kind == .cpu else { return nil }
        switch op {
        case .add, .sub, .mul, .div: break
        default: return nil
        }
        let out = Tensor(uninitializedShape: [], dtype: a.dtype, device: .cpu)
        if a.dtype == .float32 {
            out.pointer(Float.self)[0] = CPUKernels.arithmetic(op, a.pointer(Float.self)[a.offset], b.pointer(Float.self)[b.offset])
        } else {
            out.pointer(Double.self)[0] = CPUKernels.arithmetic(op, a.pointer(Double.self)[a.offset], b.pointer(Double.self)[b.offset])
        }
        return out
    }
}

// MARK: - Arithmetic operators

extension Tensor {
    /// Elementwise sum with broadcasting; dtype by PyTorch's promotion. Differentiable.
    /// - Precondition: shapes broadcast; devices match.
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor {
        let out = computeBinary(.add, .tensor(lhs), .tensor(rhs), name: "add")
        return record(out, inputs: lhs, rhs) { AddBackward0() }
    }

    /// Elementwise difference with broadcasting. Differentiable.
    /// - Precondition: shapes broadcast; devices match; not both bool.
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor {
        let out = computeBinary(.sub, .tensor(lhs), .tensor(rhs), name: "sub")
        return record(out, inputs: lhs, rhs) { SubBackward0() }
    }

    /// Elementwise product with broadcasting. Differentiable.
    /// - Precondition: shapes broadcast; devices match.
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor {
        let out = computeBinary(.mul, .tensor(lhs), .tensor(rhs), name: "mul")
        return record(out, inputs: lhs, rhs) {
            let node = MulBackward0()
            node.lhsSlot = node.save(lhs)
            node.rhsSlot = node.save(rhs)
            return node
        }
    }

    /// Elementwise true division with broadcasting (integers divide as floats). Differentiable.
    /// - Precondition: shapes broadcast; devices match.
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor {
        let out = computeBinary(.div, .tensor(lhs), .tensor(rhs), name: "div")
        return record(out, inputs: lhs, rhs) {
            let node = DivBackward0()
            node.lhsSlot = node.save(lhs)
            node.rhsSlot = node.save(rhs)
            return node
        }
    }

    /// Elementwise negation. Differentiable.
    /// - Precondition: not a bool tensor.
    public static prefix func - (x: Tensor) -> Tensor {
        precondition(x.dtype != .bool, "neg: negation, the `-` operator, on a bool tensor is not supported. Use logicalNot() instead.")
        let out = x.computeUnary(.neg)
        return record(out, input: x) { NegBackward0() }
    }

    // Scalar forms. A Swift scalar does not promote a tensor within its category
    // (int32 tensor * 2 stays int32, float16 tensor * 2.5 stays float16).

    static func scalarOp(_ op: BinaryOp, _ x: Tensor, _ s: Scalar, scalarOnLeft: Bool, name: String) -> Tensor {
        let out = computeBinary(op, scalarOnLeft ? .scalar(s) : .tensor(x), scalarOnLeft ? .tensor(x) : .scalar(s), name: name)
        let value = s.doubleValue
        switch op {
        case .add:
            return record(out, input: x) { AddBackward0() }
        case .sub:
            return record(out, input: x) { scalarOnLeft ? RsubBackward1() : SubBackward0() }
        case .mul:
            return record(out, input: x) {
                let node = MulBackward0()
                node.scalar = value
                return node
            }
        case .div:
            return record(out, input: x) {
                let node = DivBackward0()
                node.scalar = value
                if scalarOnLeft { node.rhsSlot = node.save(x) }
                return node
            }
        default:
            return out
        }
    }

    /// `tensor + scalar`. Differentiable.
    public static func + (lhs: Tensor, rhs: Double) -> Tensor { scalarOp(.add, lhs, .double(rhs), scalarOnLeft: false, name: "add") }
    /// `scalar + tensor`. Differentiable.
    public static func + (lhs: Double, rhs: Tensor) -> Tensor { scalarOp(.add, rhs, .double(lhs), scalarOnLeft: true, name: "add") }
    /// `tensor - scalar`. Differentiable.
    public static func - (lhs: Tensor, rhs: Double) -> Tensor { scalarOp(.sub, lhs, .double(rhs), scalarOnLeft: false, name: "sub") }
    /// `scalar - tensor` (`RsubBackward1`). Differentiable.
    public static func - (lhs: Double, rhs: Tensor) -> Tensor { scalarOp(.sub, rhs, .double(lhs), scalarOnLeft: true, name: "rsub") }
    /// `tensor * scalar`. Differentiable.
    public static func * (lhs: Tensor, rhs: Double) -> Tensor { scalarOp(.mul, lhs, .double(rhs), scalarOnLeft: false, name: "mul") }
    /// `scalar * tensor`. Differentiable.
    public static func * (lhs: Double, rhs: Tensor) -> Tensor { scalarOp(.mul, rhs, .double(lhs), scalarOnLeft: true, name: "mul") }
    /// `tensor / scalar`. Differentiable.
    public static func / (lhs: Tensor, rhs: Double) -> Tensor { scalarOp(.div, lhs, .double(rhs), scalarOnLeft: false, name: "div") }
    /// `scalar / tensor`. Differentiable.
    public static func / (lhs: Double, rhs: Tensor) -> Tensor { scalarOp(.div, rhs, .double(lhs), scalarOnLeft: true, name: "div") }

    /// `tensor + integer`: an integer tensor keeps its dtype. Differentiable.
    public static func + (lhs: Tensor, rhs: Int) -> Tensor { scalarOp(.add, lhs, .int(Int64(rhs)), scalarOnLeft: false, name: "add") }
    /// `integer + tensor`. Differentiable.
    public static func + (lhs: Int, rhs: Tensor) -> Tensor { scalarOp(.add, rhs, .int(Int64(lhs)), scalarOnLeft: true, name: "add") }
    /// `tensor - integer`. Differentiable.
    public static func - (lhs: Tensor, rhs: Int) -> Tensor { scalarOp(.sub, lhs, .int(Int64(rhs)), scalarOnLeft: false, name: "sub") }
    /// `integer - tensor` (`RsubBackward1`). Differentiable.
    public static func - (lhs: Int, rhs: Tensor) -> Tensor { scalarOp(.sub, rhs, .int(Int64(lhs)), scalarOnLeft: true, name: "rsub") }
    /// `tensor * integer`. Differentiable.
    public static func * (lhs: Tensor, rhs: Int) -> Tensor { scalarOp(.mul, lhs, .int(Int64(rhs)), scalarOnLeft: false, name: "mul") }
    /// `integer * tensor`. Differentiable.
    public static func * (lhs: Int, rhs: Tensor) -> Tensor { scalarOp(.mul, rhs, .int(Int64(lhs)), scalarOnLeft: true, name: "mul") }
    /// `tensor / integer` (true division). Differentiable.
    public static func / (lhs: Tensor, rhs: Int) -> Tensor { scalarOp(.div, lhs, .int(Int64(rhs)), scalarOnLeft: false, name: "div") }
    /// `integer / tensor` (true division). Differentiable.
    public static func / (lhs: Int, rhs: Tensor) -> Tensor { scalarOp(.div, rhs, .int(Int64(lhs)), scalarOnLeft: true, name: "div") }

    /// `tensor + Float`. Differentiable.
    public static func + (lhs: Tensor, rhs: Float) -> Tensor { lhs + Double(rhs) }
    /// `Float + tensor`. Differentiable.
    public static func + (lhs: Float, rhs: Tensor) -> Tensor { Double(lhs) + rhs }
    /// `tensor - Float`. Differentiable.
    public static func - (lhs: Tensor, rhs: Float) -> Tensor { lhs - Double(rhs) }
    /// `Float - tensor`. Differentiable.
    public static func - (lhs: Float, rhs: Tensor) -> Tensor { Double(lhs) - rhs }
    /// `tensor * Float`. Differentiable.
    public static func * (lhs: Tensor, rhs: Float) -> Tensor { lhs * Double(rhs) }
    /// `Float * tensor`. Differentiable.
    public static func * (lhs: Float, rhs: Tensor) -> Tensor { Double(lhs) * rhs }
    /// `tensor / Float`. Differentiable.
    public static func / (lhs: Tensor, rhs: Float) -> Tensor { lhs / Double(rhs) }
    /// `Float / tensor`. Differentiable.
    public static func / (lhs: Float, rhs: Tensor) -> Tensor { Double(lhs) / rhs }
}

// MARK: - Power

extension Tensor {
    /// `self ** exponent` elementwise with a scalar exponent (`PowBackward0`). Integer tensors
    /// with an integer exponent stay integer; a floating exponent gives a floating result.
    public func pow(_ exponent: Double) -> Tensor { powScalar(.double(exponent)) }

    /// `self ** exponent` with an integer exponent (`PowBackward0`).
    /// - Precondition: an integer tensor needs a non-negative exponent.
    public func pow(_ exponent: Int) -> Tensor { powScalar(.int(Int64(exponent))) }

    private func powScalar(_ exponent: Scalar) -> Tensor {
        let out = Tensor.computeBinary(.pow, .tensor(self), .scalar(exponent), name: "pow")
        return Tensor.record(out, input: self) {
            let node = PowBackward0()
            node.exponent = exponent.doubleValue
            node.selfSlot = node.save(self)
            return node
        }
    }

    /// `self ** exponent` elementwise with a tensor exponent and broadcasting (`PowBackward1`).
    public func pow(_ exponent: Tensor) -> Tensor {
        let out = Tensor.computeBinary(.pow, .tensor(self), .tensor(exponent), name: "pow")
        return Tensor.record(out, inputs: self, exponent) {
            let node = PowBackward1()
            node.selfSlot = node.save(self)
            node.exponentSlot = node.save(exponent)
            node.resultSlot = node.save(out, isOutput: true)
            return node
        }
    }
}

// MARK: - Backward nodes

/// Backward of `a + b`: the gradient flows unchanged to both.
final class AddBackward0: GradFn, @unchecked Sendable {
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        let g = gradOutputs[0]
        return edges.indices.map { needsInputGrad($0) ? g : nil }
    }

    override func applySingle(_ gradOutput: Tensor) throws -> Tensor? { gradOutput }

    override func applyPair(_ gradOutput: Tensor) throws -> (Tensor?, Tensor?) {
        (needsInputGrad(0) ? gradOutput : nil, needsInputGrad(1) ? gradOutput : nil)
    }
}

/// Backward of `a - b`: `g` and `-g`.
final class SubBackward0: GradFn, @unchecked Sendable {
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil, nil] }
        if edges.count == 1 { return [g] }
        return [needsInputGrad(0) ? g : nil, needsInputGrad(1) ? -g : nil]
    }

    /// `tensor - scalar` (the one-input form).
    override func applySingle(_ gradOutput: Tensor) throws -> Tensor? { gradOutput }

    override func applyPair(_ gradOutput: Tensor) throws -> (Tensor?, Tensor?) {
        (needsInputGrad(0) ? gradOutput : nil, needsInputGrad(1) ? -gradOutput : nil)
    }
}

/// Backward of `scalar - x`: `-g`.
final class RsubBackward1: UnaryGradFn, @unchecked Sendable {
    override func gradient(_ g: Tensor) throws -> Tensor { -g }
}

/// Backward of `-x`.
final class NegBackward0: UnaryGradFn, @unchecked Sendable {
    override func gradient(_ g: Tensor) throws -> Tensor { -g }
}

/// Backward of `a * b`: `g * b` and `g * a` (or `g * scalar`).
final class MulBackward0: GradFn, @unchecked Sendable {
    var lhsSlot = -1, rhsSlot = -1
    var scalar: Double?

    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return edges.map { _ in nil } }
        if let scalar { return [g * scalar] }
        let a = try savedTensor(lhsSlot), b = try savedTensor(rhsSlot)
        return [needsInputGrad(0) ? g * b : nil, needsInputGrad(1) ? g * a : nil]
    }

    override func applySingle(_ gradOutput: Tensor) throws -> Tensor? {
        if let scalar { return gradOutput * scalar }
        return try super.applySingle(gradOutput)
    }

    override func applyPair(_ gradOutput: Tensor) throws -> (Tensor?, Tensor?) {
        if let scalar { return (gradOutput * scalar, nil) }
        let a = try savedTensor(lhsSlot), b = try savedTensor(rhsSlot)
        return (needsInputGrad(0) ? gradOutput * b : nil, needsInputGrad(1) ? gradOutput * a : nil)
    }
}

/// Backward of `a / b`: `g / b` and `-g * a / b²`.
final class DivBackward0: GradFn, @unchecked Sendable {
    var lhsSlot = -1, rhsSlot = -1
    var scalar: Double?

    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return edges.map { _ in nil } }
        if let scalar { return [try scalarGradient(g, scalar)] }
        let a = try savedTensor(lhsSlot), b = try savedTensor(rhsSlot)
        return [needsInputGrad(0) ? g / b : nil, needsInputGrad(1) ? -g * a / (b * b) : nil]
    }

    override func applySingle(_ gradOutput: Tensor) throws -> Tensor? {
        if let scalar { return try scalarGradient(gradOutput, scalar) }
        return try super.applySingle(gradOutput)
    }

    /// The one-input forms: `x / scalar` and `scalar / x`.
    private func scalarGradient(_ g: Tensor, _ scalar: Double) throws -> Tensor {
        if rhsSlot >= 0 {  // scalar / x
            let x = try savedTensor(rhsSlot)
            return -g * scalar / (x * x)
        }
        return g / scalar
    }
}

/// Backward of `x.pow(scalar)`: `g * e * x^(e-1)` (zero when e == 0).
final class PowBackward0: UnaryGradFn, @unchecked Sendable {
    var exponent = 0.0
    var selfSlot = -1

    override func gradient(_ g: Tensor) throws -> Tensor {
        let x = try savedTensor(selfSlot)
        if exponent == 0 { return Tensor.zeros(like: g) }
        let e = exponent
        // Not recording (no createGraph): one fused CPU kernel computing the same expression,
        // element for element, instead of three ops.
        if !GradMode.isEnabled, let fused = Tensor.powBackwardFused(g, x, exponent: e) { return fused }
        let power = e - 1 == e.rounded() ? x.pow(Int(e - 1)) : x.pow(e - 1)
        return g * (power * e)
    }
}

extension Tensor {
    /// `g * (x.pow(e - 1) * e)` in one pass for CPU float32/float64 operands of one shape and
    /// dtype (nil otherwise), rounding each step as the three separate ops do.
    static func powBackwardFused(_ g: Tensor, _ x: Tensor, exponent e: Double) -> Tensor? {
        guard g.device == .cpu, x.device == .cpu, g.dtype == x.dtype, g.shape == x.shape,
              g.dtype == .float32 || g.dtype == .float64 else { return nil }
        let out = Tensor(uninitializedShape: g.shape, dtype: g.dtype)
        if g.dtype == .float32 && ![1.0, 2.0, 3.0].contains(e - 1) {
            // float32 x ** (e - 1) of a dense tensor is a C kernel with its own (more accurate)
            // values: the power from the op itself, then the product in one pass
            let power = withNoGrad { e - 1 == (e - 1).rounded() ? x.pow(Int(e - 1)) : x.pow(e - 1) }
            CPUKernels.powBackward(g, power: power, exponent: e, into: out, Float.self)
        } else if g.dtype == .float32 {
            CPUKernels.powBackward(g, x, exponent: e, into: out, Float.self)
        } else {
            CPUKernels.powBackward(g, x, exponent: e, into: out, Double.self)
        }
        return out
    }
}

/// Backward of `x.pow(y)` with a tensor exponent: `g * y * x^(y-1)` and `g * x^y * log x`
/// (0 where x == 0 and y >= 0, as PyTorch masks it).
final class PowBackward1: GradFn, @unchecked Sendable {
    var selfSlot = -1, exponentSlot = -1, resultSlot = -1

    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil, nil] }
        let x = try savedTensor(selfSlot), y = try savedTensor(exponentSlot)
        var gx: Tensor? = nil, gy: Tensor? = nil
        if needsInputGrad(0) {
            gx = g * y * x.pow(y - 1)
        }
        if needsInputGrad(1) {
            let result = try savedTensor(resultSlot)
            let mask = (x .== 0.0).logicalAnd(y .>= 0.0)
            gy = Tensor.where(mask, Tensor.zeros([], dtype: g.dtype, device: g.device), g * result * x.log())
        }
        return [gx, gy]
    }
}

// MARK: - Maximum and minimum

/// The elementwise maximum of two tensors with broadcasting; NaN propagates. Differentiable
/// (`MaximumBackward0`: ties split the gradient in half, as PyTorch does).
/// - Precondition: shapes broadcast; devices match.
public func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
    let out = Tensor.computeBinary(.maximum, .tensor(a), .tensor(b), name: "maximum")
    return Tensor.record(out, inputs: a, b) {
        let node = MaximumBackward0()
        node.lhsSlot = node.save(a)
        node.rhsSlot = node.save(b)
        return node
    }
}

/// The elementwise minimum of two tensors with broadcasting; NaN propagates. Differentiable
/// (`MinimumBackward0`).
/// - Precondition: shapes broadcast; devices match.
public func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
    let out = Tensor.computeBinary(.minimum, .tensor(a), .tensor(b), name: "minimum")
    return Tensor.record(out, inputs: a, b) {
        let node = MinimumBackward0()
        node.lhsSlot = node.save(a)
        node.rhsSlot = node.save(b)
        return node
    }
}

/// Shared backward of `maximum`/`minimum`: the gradient goes to the selected side, halved on ties.
class SelectingBinaryBackward: GradFn, @unchecked Sendable {
    var lhsSlot = -1, rhsSlot = -1
    var selectsLarger: Bool { true }

    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil, nil] }
        let a = try savedTensor(lhsSlot).detached(), b = try savedTensor(rhsSlot).detached()
        let zero = Tensor.zeros([], dtype: g.dtype, device: g.device)
        let tie = a .== b
        let aWins = selectsLarger ? a .> b : a .< b
        let half = g * 0.5
        let ga = Tensor.where(tie, half, Tensor.where(aWins, g, zero))
        let gb = Tensor.where(tie, half, Tensor.where(aWins, zero, g))
        return [needsInputGrad(0) ? ga : nil, needsInputGrad(1) ? gb : nil]
    }
}

/// Backward of `maximum`.
final class MaximumBackward0: SelectingBinaryBackward, @unchecked Sendable {}

/// Backward of `minimum`.
final class MinimumBackward0: SelectingBinaryBackward, @unchecked Sendable {
    override var selectsLarger: Bool { false }
}
