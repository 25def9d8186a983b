extension Tensor {
    /// A bound given as a Swift number: integral values stay integers for integer tensors
    /// (so `intTensor.clamp(min: 0)` stays an integer tensor, as with Python ints).
    private func boundScalar(_ v: Double) -> Scalar {
        !dtype.isFloatingPoint && v.rounded() == v && Swift.abs(v) < 9.0e18 ? .int(Int64(v)) : .double(v)
    }

    /// Validates a clamp: at least one bound; not bool.
    static func validateClamp(_ x: Tensor, hasMin: Bool, hasMax: Bool, op: String) throws(ShapeError) {
        guard hasMin || hasMax else { throw ShapeError("\(op): at least one of 'min' or 'max' must not be nil") }
        if x.dtype == .bool { throw ShapeError("\(op): not implemented for bool tensors (dtype bool)") }
    }

    /// Each element limited to `[min, max]` (PyTorch's `clamp`); either bound may be omitted.
    /// When `min > max` every element becomes `max`. NaN stays NaN. The dtype promotes with
    /// the bounds as Swift scalars (an integer tensor with integral bounds stays integer).
    /// Differentiable (`ClampBackward1`: the gradient passes where `min <= x <= max`).
    ///
    /// ```swift
    /// Tensor([-2.0, 0.5, 3.0]).clamp(min: -1, max: 1)   // [-1, 0.5, 1]
    /// ```
    /// - Precondition: at least one bound; not a bool tensor.
    public func clamp(min: Double? = nil, max: Double? = nil) -> Tensor {
        check { () throws(ShapeError) in try Tensor.validateClamp(self, hasMin: min != nil, hasMax: max != nil, op: "clamp") }
        var out = self.detached()
        if let min, let max, let once = CKernelPaths.clamp(out, min, max) {
            out = once   // both bounds in one pass (float CPU tensors), the same bits
        } else {
            if let min { out = Tensor.computeBinary(.maximum, .tensor(out), .scalar(boundScalar(min)), name: "clamp") }
            if let max { out = Tensor.computeBinary(.minimum, .tensor(out), .scalar(boundScalar(max)), name: "clamp") }
        }
        return Tensor.record(out, input: self) {
            let node = ClampBackward1(min: min, max: max)
            node.selfSlot = node.save(self)
            return node
        }
    }

    /// Each element limited by tensor bounds, broadcasting (PyTorch's `clamp(min:max:)` with
    /// tensors); the dtype promotes over all operands. Differentiable in all three
    /// (`ClampBackward0`).
    /// - Precondition: at least one bound; shapes broadcast; devices match; not bool.
    public func clamp(min: Tensor? = nil, max: Tensor? = nil) -> Tensor {
        check { () throws(ShapeError) in try Tensor.validateClamp(self, hasMin: min != nil, hasMax: max != nil, op: "clamp") }
        var out = self.detached()
        if let min { out = Tensor.computeBinary(.maximum, .tensor(out), .tensor(min), name: "clamp") }
        if let max { out = Tensor.computeBinary(.minimum, .tensor(out), .tensor(max), name: "clamp") }
        var inputs = [self]
        if let min { inputs.append(min) }
        if let max { inputs.append(max) }
        return Tensor.record(out, inputs: inputs) {
            let node = ClampBackward0(hasMin: min != nil, hasMax: max != nil)
            node.selfSlot = node.save(self)
            if let min { node.minSlot = node.save(min) }
            if let max { node.maxSlot = node.save(max) }
            return node
        }
    }

    /// Alias of `clamp(min:max:)` (PyTorch's `clip`). Differentiable.
    public func clip(min: Double? = nil, max: Double? = nil) -> Tensor { clamp(min: min, max: max) }

    /// Alias of `clamp(min:max:)` with tensor bounds (PyTorch's `clip`). Differentiable.
    public func clip(min: Tensor? = nil, max: Tensor? = nil) -> Tensor { clamp(min: min, max: max) }
}

// MARK: - Backward nodes

/// Backward of `clamp` with scalar bounds: `g` where `min <= x <= max`, else 0.
final class ClampBackward1: GradFn, @unchecked Sendable {
    let min: Double?, max: Double?
    var selfSlot = -1
    init(min: Double?, max: Double?) {
        self.min = min
        self.max = max
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let x = try savedTensor(selfSlot)
        var mask: Tensor? = nil
        if let min { mask = x .>= min }
        if let max {
            let m = x .<= max
            mask = mask.map { $0.logicalAnd(m) } ?? m
        }
        guard let mask else { return [g] }
        return [Tensor.where(mask, g, Tensor.zeros([], dtype: g.dtype, device: g.device))]
    }
}

/// Backward of `clamp` with tensor bounds (PyTorch's `clamp_backward_min_max`).
final class ClampBackward0: GradFn, @unchecked Sendable {
    let hasMin: Bool, hasMax: Bool
    var selfSlot = -1, minSlot = -1, maxSlot = -1
    init(hasMin: Bool, hasMax: Bool) {
        self.hasMin = hasMin
        self.hasMax = hasMax
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return edges.map { _ in nil } }
        let x = try savedTensor(selfSlot)
        let zero = Tensor.zeros([], dtype: g.dtype, device: g.device)
        let lo = hasMin ? try savedTensor(minSlot) : nil
        let hi = hasMax ? try savedTensor(maxSlot) : nil
        var result: [Tensor?] = []
        if needsInputGrad(0) {
            var mask: Tensor? = nil
            if let lo { mask = x .>= lo }
            if let hi {
                let m = x .<= hi
                mask = mask.map { $0.logicalAnd(m) } ?? m
            }
            result.append(mask.map { Tensor.where($0, g, zero) } ?? g)
        } else {
            result.append(nil)
        }
        if let lo {
            if needsInputGrad(1) {
                var mask = x .< lo
                if let hi { mask = mask.logicalAnd(lo .< hi) }
                result.append(Tensor.where(mask, g, zero))
            } else {
                result.append(nil)
            }
        }
        if let hi {
            if needsInputGrad(result.count) {
                var mask = x .> hi
                if let lo { mask = mask.logicalOr(hi .< lo) }
                result.append(Tensor.where(mask, g, zero))
            } else {
                result.append(nil)
            }
        }
        return result
    }
}
