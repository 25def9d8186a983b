infix operator .== : ComparisonPrecedence
infix operator .!= : ComparisonPrecedence
infix operator .< : ComparisonPrecedence
infix operator .<= : ComparisonPrecedence
infix operator .> : ComparisonPrecedence
infix operator .>= : ComparisonPrecedence

extension Tensor {
    static func compare(_ op: BinaryOp, _ lhs: Operand, _ rhs: Operand, _ name: String) -> Tensor {
        computeBinary(op, lhs, rhs, name: name)
    }

    /// Elementwise `==` with broadcasting; a bool tensor. Not differentiable.
    public static func .== (lhs: Tensor, rhs: Tensor) -> Tensor { compare(.eq, .tensor(lhs), .tensor(rhs), "eq") }
    /// Elementwise `!=` with broadcasting; a bool tensor.
    public static func .!= (lhs: Tensor, rhs: Tensor) -> Tensor { compare(.ne, .tensor(lhs), .tensor(rhs), "ne") }
    /// Elementwise `<` with broadcasting; a bool tensor.
    public static func .< (lhs: Tensor, rhs: Tensor) -> Tensor { compare(.lt, .tensor(lhs), .tensor(rhs), "lt") }
    /// Elementwise `<=` with broadcasting; a bool tensor.
    public static func .<= (lhs: Tensor, rhs: Tensor) -> Tensor { compare(.le, .tensor(lhs), .tensor(rhs), "le") }
    /// Elementwise `>` with broadcasting; a bool tensor.
    public static func .> (lhs: Tensor, rhs: Tensor) -> Tensor { compare(.gt, .tensor(lhs), .tensor(rhs), "gt") }
    /// Elementwise `>=` with broadcasting; a bool tensor.
    public static func .>= (lhs: Tensor, rhs: Tensor) -> Tensor { compare(.ge, .tensor(lhs), .tensor(rhs), "ge") }

    /// Elementwise `== scalar`; a bool tensor.
    public static func .== (lhs: Tensor, rhs: Double) -> Tensor { compare(.eq, .tensor(lhs), .scalar(.double(rhs)), "eq") }
    /// Elementwise `!= scalar`; a bool tensor.
    public static func .!= (lhs: Tensor, rhs: Double) -> Tensor { compare(.ne, .tensor(lhs), .scalar(.double(rhs)), "ne") }
    /// Elementwise `< scalar`; a bool tensor.
    public static func .< (lhs: Tensor, rhs: Double) -> Tensor { compare(.lt, .tensor(lhs), .scalar(.double(rhs)), "lt") }
    /// Elementwise `<= scalar`; a bool tensor.
    public static func .<= (lhs: Tensor, rhs: Double) -> Tensor { compare(.le, .tensor(lhs), .scalar(.double(rhs)), "le") }
    /// Elementwise `> scalar`; a bool tensor.
    public static func .> (lhs: Tensor, rhs: Double) -> Tensor { compare(.gt, .tensor(lhs), .scalar(.double(rhs)), "gt") }
    /// Elementwise `>= scalar`; a bool tensor.
    public static func .>= (lhs: Tensor, rhs: Double) -> Tensor { compare(.ge, .tensor(lhs), .scalar(.double(rhs)), "ge") }

    /// Elementwise logical and (nonzero is true); a bool tensor.
    public func logicalAnd(_ other: Tensor) -> Tensor { Tensor.compare(.logicalAnd, .tensor(self), .tensor(other), "logicalAnd") }
    /// Elementwise logical or; a bool tensor.
    public func logicalOr(_ other: Tensor) -> Tensor { Tensor.compare(.logicalOr, .tensor(self), .tensor(other), "logicalOr") }
    /// Elementwise logical exclusive or; a bool tensor.
    public func logicalXor(_ other: Tensor) -> Tensor { Tensor.compare(.logicalXor, .tensor(self), .tensor(other), "logicalXor") }
    /// Elementwise logical not; a bool tensor.
    public func logicalNot() -> Tensor {
        let out = Tensor(uninitializedShape: shape, dtype: .bool, device: device)
        let x = dtype == .float16 || dtype == .bfloat16 ? convertedWithoutGrad(to: .float32) : self
        Backends.backend(for: device).unary(.logicalNot, x, into: out)
        return out
    }

    /// Elementwise `condition ? a : b` with broadcasting (PyTorch's `torch.where`); the dtype
    /// promotes `a` and `b`. Differentiable in `a` and `b` (`WhereBackward0`).
    /// - Precondition: `condition` is bool; shapes broadcast; devices match.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let plan = check { () throws(ShapeError) -> (DType, [Int], Device) in
            guard condition.dtype == .bool else {
                throw ShapeError("where: expected condition to be a bool tensor, but got a tensor with dtype \(condition.dtype)")
            }
            let dtype = DType.resultType([Operand.tensor(a).promotion, Operand.tensor(b).promotion])
            let shape = try Shape.broadcast(try Shape.broadcast(condition.shape, a.shape, op: "where"), b.shape, op: "where")
            var device = try commonDevice(a, b, op: "where")
            device = try commonDevice(condition, Tensor(uninitializedShape: [], dtype: .bool, device: device), op: "where")
            return (dtype, shape, device)
        }
        let (dtype, shape, device) = plan
        let out = Tensor(uninitializedShape: shape, dtype: dtype, device: device)
        let ca = a.dtype == dtype ? a.to(device: device) : a.convertedWithoutGrad(to: dtype).to(device: device)
        let cb = b.dtype == dtype ? b.to(device: device) : b.convertedWithoutGrad(to: dtype).to(device: device)
        Backends.backend(for: device).select(condition.to(device: device), ca, cb, into: out)
        return record(out, inputs: a, b) {
            let node = WhereBackward0()
            node.conditionSlot = node.save(condition)
            return node
        }
    }
}

/// Backward of `where(c, a, b)`: the gradient goes to `a` where `c`, to `b` elsewhere.
final class WhereBackward0: GradFn, @unchecked Sendable {
    var conditionSlot = -1

    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil, nil] }
        let c = try savedTensor(conditionSlot)
        let zero = Tensor.zeros([], dtype: g.dtype, device: g.device)
        return [needsInputGrad(0) ? Tensor.where(c, g, zero) : nil,
                needsInputGrad(1) ? Tensor.where(c, zero, g) : nil]
    }
}

// MARK: - Integer scalars and scalars on the left

extension Tensor {
    /// Elementwise `== integer`; an integer tensor compares exactly (no float rounding).
    public static func .== (lhs: Tensor, rhs: Int) -> Tensor { compare(.eq, .tensor(lhs), .scalar(.int(Int64(rhs))), "eq") }
    /// Elementwise `!= integer`; a bool tensor.
    public static func .!= (lhs: Tensor, rhs: Int) -> Tensor { compare(.ne, .tensor(lhs), .scalar(.int(Int64(rhs))), "ne") }
    /// Elementwise `< integer`; a bool tensor.
    public static func .< (lhs: Tensor, rhs: Int) -> Tensor { compare(.lt, .tensor(lhs), .scalar(.int(Int64(rhs))), "lt") }
    /// Elementwise `<= integer`; a bool tensor.
    public static func .<= (lhs: Tensor, rhs: Int) -> Tensor { compare(.le, .tensor(lhs), .scalar(.int(Int64(rhs))), "le") }
    /// Elementwise `> integer`; a bool tensor.
    public static func .> (lhs: Tensor, rhs: Int) -> Tensor { compare(.gt, .tensor(lhs), .scalar(.int(Int64(rhs))), "gt") }
    /// Elementwise `>= integer`; a bool tensor.
    public static func .>= (lhs: Tensor, rhs: Int) -> Tensor { compare(.ge, .tensor(lhs), .scalar(.int(Int64(rhs))), "ge") }

    /// Elementwise `scalar == tensor`; a bool tensor.
    public static func .== (lhs: Double, rhs: Tensor) -> Tensor { rhs .== lhs }
    /// Elementwise `scalar != tensor`; a bool tensor.
    public static func .!= (lhs: Double, rhs: Tensor) -> Tensor { rhs .!= lhs }
    /// Elementwise `scalar < tensor`; a bool tensor.
    public static func .< (lhs: Double, rhs: Tensor) -> Tensor { rhs .> lhs }
    /// Elementwise `scalar <= tensor`; a bool tensor.
    public static func .<= (lhs: Double, rhs: Tensor) -> Tensor { rhs .>= lhs }
    /// Elementwise `scalar > tensor`; a bool tensor.
    public static func .> (lhs: Double, rhs: Tensor) -> Tensor { rhs .< lhs }
    /// Elementwise `scalar >= tensor`; a bool tensor.
    public static func .>= (lhs: Double, rhs: Tensor) -> Tensor { rhs .<= lhs }

    /// Elementwise `integer == tensor`; a bool tensor.
    public static func .== (lhs: Int, rhs: Tensor) -> Tensor { rhs .== lhs }
    /// Elementwise `integer != tensor`; a bool tensor.
    public static func .!= (lhs: Int, rhs: Tensor) -> Tensor { rhs .!= lhs }
    /// Elementwise `integer < tensor`; a bool tensor.
    public static func .< (lhs: Int, rhs: Tensor) -> Tensor { rhs .> lhs }
    /// Elementwise `integer <= tensor`; a bool tensor.
    public static func .<= (lhs: Int, rhs: Tensor) -> Tensor { rhs .>= lhs }
    /// Elementwise `integer > tensor`; a bool tensor.
    public static func .> (lhs: Int, rhs: Tensor) -> Tensor { rhs .< lhs }
    /// Elementwise `integer >= tensor`; a bool tensor.
    public static func .>= (lhs: Int, rhs: Tensor) -> Tensor { rhs .<= lhs }
}
