// In-place operations (PyTorch's `add_`, `mul_`, `fill_`, `copy_`, …).
//
// They write into the tensor's storage, which every copy of the value and every view of the
// same memory shares, and bump the storage's version counter, so saved tensors that were
// overwritten are detected at backward time. When grad mode is on and an operand requires
// grad, the tensor's history is rebased onto the op's node, on the shared autograd metadata,
// so every copy of the value sees it; a write through a view rebases its base (see
// ViewHistory.swift).

// MARK: - Operators

extension Tensor {
    /// Adds `rhs` (broadcast to `lhs`'s shape) into `lhs` in place (PyTorch's `add_`).
    /// Differentiable (`AddBackward0`).
    /// - Precondition: see `addInPlace(_:)`.
    public static func += (lhs: inout Tensor, rhs: Tensor) { lhs.addInPlace(rhs) }
    /// Subtracts `rhs` from `lhs` in place (`sub_`). Differentiable (`SubBackward0`).
    public static func -= (lhs: inout Tensor, rhs: Tensor) { lhs.subInPlace(rhs) }
    /// Multiplies `lhs` by `rhs` in place (`mul_`). Differentiable (`MulBackward0`).
    public static func *= (lhs: inout Tensor, rhs: Tensor) { lhs.mulInPlace(rhs) }
    /// Divides `lhs` by `rhs` in place (`div_`). Differentiable (`DivBackward0`).
    public static func /= (lhs: inout Tensor, rhs: Tensor) { lhs.divInPlace(rhs) }

    /// Adds a scalar in place. Differentiable.
    public static func += (lhs: inout Tensor, rhs: Double) { lhs.addInPlace(rhs) }
    /// Subtracts a scalar in place. Differentiable.
    public static func -= (lhs: inout Tensor, rhs: Double) { lhs.subInPlace(rhs) }
    /// Multiplies by a scalar in place. Differentiable.
    public static func *= (lhs: inout Tensor, rhs: Double) { lhs.mulInPlace(rhs) }
    /// Divides by a scalar in place. Differentiable.
    public static func /= (lhs: inout Tensor, rhs: Double) { lhs.divInPlace(rhs) }

    /// Adds an integer in place (an integer tensor keeps its dtype). Differentiable.
    public static func += (lhs: inout Tensor, rhs: Int) { lhs.addInPlace(rhs) }
    /// Subtracts an integer in place. Differentiable.
    public static func -= (lhs: inout Tensor, rhs: Int) { lhs.subInPlace(rhs) }
    /// Multiplies by an integer in place. Differentiable.
    public static func *= (lhs: inout Tensor, rhs: Int) { lhs.mulInPlace(rhs) }
    /// Divides by an integer in place (true division: only for floating tensors). Differentiable.
    public static func /= (lhs: inout Tensor, rhs: Int) { lhs.divInPlace(rhs) }

    /// Adds a `Float` in place. Differentiable.
    public static func += (lhs: inout Tensor, rhs: Float) { lhs.addInPlace(Double(rhs)) }
    /// Subtracts a `Float` in place. Differentiable.
    public static func -= (lhs: inout Tensor, rhs: Float) { lhs.subInPlace(Double(rhs)) }
    /// Multiplies by a `Float` in place. Differentiable.
    public static func *= (lhs: inout Tensor, rhs: Float) { lhs.mulInPlace(Double(rhs)) }
    /// Divides by a `Float` in place. Differentiable.
    public static func /= (lhs: inout Tensor, rhs: Float) { lhs.divInPlace(Double(rhs)) }
}

// MARK: - Named forms

extension Tensor {
    /// Adds `other`, broadcast to this tensor's shape, into this tensor's elements (PyTorch's
    /// `add_`). Every copy of the value and every view of the same storage sees the write.
    /// Differentiable (`AddBackward0`).
    ///
    /// ```swift
    /// let w = Tensor([1.0, 2.0], requiresGrad: true)
    /// withNoGrad { w.subInPlace(w.grad! * 0.1) }     // an SGD step
    /// ```
    /// - Returns: `self`, for chaining.
    /// - Precondition: `other` broadcasts to this shape; the promoted result dtype can be cast
    ///   to this dtype; with grad mode on, the tensor is not a leaf that requires grad (nor a
    ///   view of one); it is not an inference tensor outside inference mode; no two elements
    ///   share memory (an expanded tensor).
    /// - Complexity: O(n).
    @discardableResult
    public func addInPlace(_ other: Tensor) -> Tensor {
        binaryInPlace(.add, .tensor(other), name: "add_") { _ in AddBackward0() }
    }

    /// Adds a scalar to every element in place (`add_`). Differentiable (`AddBackward0`).
    @discardableResult
    public func addInPlace(_ scalar: Double) -> Tensor {
        binaryInPlace(.add, .scalar(.double(scalar)), name: "add_") { _ in AddBackward0() }
    }

    /// Adds an integer to every element in place (`add_`). Differentiable.
    @discardableResult
    public func addInPlace(_ scalar: Int) -> Tensor {
        binaryInPlace(.add, .scalar(.int(Int64(scalar))), name: "add_") { _ in AddBackward0() }
    }

    /// Subtracts `other`, broadcast to this shape, in place (`sub_`). Differentiable
    /// (`SubBackward0`).
    /// - Precondition: as for `addInPlace(_:)`; not a bool tensor.
    @discardableResult
    public func subInPlace(_ other: Tensor) -> Tensor {
        binaryInPlace(.sub, .tensor(other), name: "sub_") { _ in SubBackward0() }
    }

    /// Subtracts a scalar from every element in place (`sub_`). Differentiable.
    @discardableResult
    public func subInPlace(_ scalar: Double) -> Tensor {
        binaryInPlace(.sub, .scalar(.double(scalar)), name: "sub_") { _ in SubBackward0() }
    }

    /// Subtracts an integer from every element in place (`sub_`). Differentiable.
    @discardableResult
    public func subInPlace(_ scalar: Int) -> Tensor {
        binaryInPlace(.sub, .scalar(.int(Int64(scalar))), name: "sub_") { _ in SubBackward0() }
    }

    /// Multiplies by `other`, broadcast to this shape, in place (`mul_`). Differentiable
    /// (`MulBackward0`); when `other` requires grad, a copy of this tensor's previous values is
    /// kept for its gradient (PyTorch's `original_self`).
    /// - Precondition: as for `addInPlace(_:)`.
    @discardableResult
    public func mulInPlace(_ other: Tensor) -> Tensor {
        binaryInPlace(.mul, .tensor(other), name: "mul_") { old in
            let node = MulBackward0()
            node.rhsSlot = node.save(other)
            // The previous values are only read for `other`'s gradient.
            node.lhsSlot = other.requiresGrad ? node.save(old.clone()) : node.rhsSlot
            return node
        }
    }

    /// Multiplies every element by a scalar in place (`mul_`). Differentiable.
    @discardableResult
    public func mulInPlace(_ scalar: Double) -> Tensor {
        binaryInPlace(.mul, .scalar(.double(scalar)), name: "mul_") { _ in
            let node = MulBackward0()
            node.scalar = scalar
            return node
        }
    }

    /// Multiplies every element by an integer in place (`mul_`). Differentiable.
    @discardableResult
    public func mulInPlace(_ scalar: Int) -> Tensor {
        binaryInPlace(.mul, .scalar(.int(Int64(scalar))), name: "mul_") { _ in
            let node = MulBackward0()
            node.scalar = Double(scalar)
            return node
        }
    }

    /// Divides by `other`, broadcast to this shape, in place (`div_`, true division).
    /// Differentiable (`DivBackward0`).
    /// - Precondition: as for `addInPlace(_:)`; a floating tensor (the quotient is floating).
    @discardableResult
    public func divInPlace(_ other: Tensor) -> Tensor {
        binaryInPlace(.div, .tensor(other), name: "div_") { old in
            let node = DivBackward0()
            node.rhsSlot = node.save(other)
            node.lhsSlot = other.requiresGrad ? node.save(old.clone()) : node.rhsSlot
            return node
        }
    }

    /// Divides every element by a scalar in place (`div_`). Differentiable.
    @discardableResult
    public func divInPlace(_ scalar: Double) -> Tensor {
        binaryInPlace(.div, .scalar(.double(scalar)), name: "div_") { _ in
            let node = DivBackward0()
            node.scalar = scalar
            return node
        }
    }

    /// Divides every element by an integer in place (`div_`). Differentiable.
    @discardableResult
    public func divInPlace(_ scalar: Int) -> Tensor {
        binaryInPlace(.div, .scalar(.int(Int64(scalar))), name: "div_") { _ in
            let node = DivBackward0()
            node.scalar = Double(scalar)
            return node
        }
    }

    /// Sets every element to `value` (PyTorch's `fill_`). Differentiable (`FillBackward0`:
    /// no gradient flows to the previous values).
    /// - Precondition: as for `addInPlace(_:)` (except broadcasting).
    @discardableResult
    public func fill(_ value: Double) -> Tensor { fill(scalar: .double(value)) }

    /// Sets every element to the integer `value` (`fill_`), exactly for integer tensors.
    @discardableResult
    public func fill(_ value: Int) -> Tensor { fill(scalar: .int(Int64(value))) }

    /// Sets every element to `value` (`fill_`), for bool tensors.
    @discardableResult
    public func fill(_ value: Bool) -> Tensor { fill(scalar: .bool(value)) }

    private func fill(scalar: Scalar) -> Tensor {
        writeInPlace("fill_", others: [], makeNode: { _ in FillBackward0() }) {
            Backends.backend(for: device).fill(self, with: scalar)
        }
        return self
    }

    /// Sets every element to zero (PyTorch's `zero_`). Differentiable (`ZeroBackward0`).
    /// - Precondition: as for `fill(_:)`.
    @discardableResult
    public func zero() -> Tensor {
        writeInPlace("zero_", others: [], makeNode: { _ in ZeroBackward0() }) {
            Backends.backend(for: device).fill(self, with: .int(0))
        }
        return self
    }

    /// Clamps every element into `[min, max]` in place (PyTorch's `clamp_`); NaN stays NaN,
    /// and when `min > max` every element becomes `max`. Differentiable (`ClampBackward1`: the
    /// gradient passes where the previous value lay within the bounds).
    /// - Precondition: at least one bound is given; no fractional bound on an integer tensor
    ///   ("result type Float can't be cast to the desired output type Long"); as for
    ///   `addInPlace(_:)`.
    @discardableResult
    public func clampInPlace(min: Double? = nil, max: Double? = nil) -> Tensor {
        check { () throws(ShapeError) in try validateClamp(min: min, max: max) }
        writeInPlace("clamp_", others: [], makeNode: { old in
            let node = ClampInPlaceBackward()
            var mask: Tensor? = nil
            if let min { mask = Tensor.computeBinary(.ge, .tensor(old), .scalar(clampBound(min)), name: "clamp_") }
            if let max {
                let upper = Tensor.computeBinary(.le, .tensor(old), .scalar(clampBound(max)), name: "clamp_")
                mask = mask.map { Tensor.computeBinary(.logicalAnd, .tensor($0), .tensor(upper), name: "clamp_") } ?? upper
            }
            node.mask = mask
            return node
        }) {
            var values = self.detached()
            if let min { values = Tensor.computeBinary(.maximum, .tensor(values), .scalar(clampBound(min)), name: "clamp_") }
            if let max { values = Tensor.computeBinary(.minimum, .tensor(values), .scalar(clampBound(max)), name: "clamp_") }
            Backends.backend(for: device).copy(values, into: self)
        }
        return self
    }

    /// Copies `source`'s elements into this tensor (PyTorch's `copy_`): `source` is broadcast
    /// to this shape and converted to this dtype and device. Differentiable (`CopyBackwards`:
    /// the gradient flows to `source`, summed over broadcast dimensions, and not to the
    /// previous values).
    ///
    /// ```swift
    /// let buffer = Tensor.zeros([2, 3])
    /// buffer.copyFrom(Tensor([1.0, 2.0, 3.0]))    // every row becomes [1, 2, 3]
    /// ```
    /// - Precondition: `source` broadcasts to this shape; as for `fill(_:)`.
    /// - Complexity: O(n).
    @discardableResult
    public func copyFrom(_ source: Tensor) -> Tensor {
        check { () throws(ShapeError) in try validateCopy(from: source) }
        let recordsSource = source.dtype.isFloatingPoint && dtype.isFloatingPoint
        writeInPlace("copy_", others: recordsSource ? [source] : [], makeNode: { _ in CopyBackwards() }) {
            var src = source.detached()
            if src.device != device { src = src.to(device: device) }
            if src.storage === storage { src = src.independentCopy() }
            let expanded = Tensor(storage: src.storage, shape: shape,
                                  strides: Shape.broadcastStrides(shape: src.shape, strides: src.strides, to: shape),
                                  offset: src.offset, dtype: src.dtype)
            Backends.backend(for: device).copy(expanded, into: self)
        }
        return self
    }
}

// MARK: - Validation

extension Shape {
    /// Whether two elements of a tensor of `shape`/`strides` share memory for certain
    /// (PyTorch's `has_internal_overlap` YES case: a stride of 0 over more than one element).
    static func hasInternalOverlap(shape: [Int], strides: [Int]) -> Bool {
        zip(shape, strides).contains { $0.0 > 1 && $0.1 == 0 }
    }
}

extension DType {
    /// PyTorch's scalar type name (`Float`, `Long`, …), as its messages spell dtypes.
    var scalarTypeName: String {
        switch self {
        case .bool: return "Bool"
        case .uint8: return "Byte"
        case .int8: return "Char"
        case .int16: return "Short"
        case .int32: return "Int"
        case .int64: return "Long"
        case .float16: return "Half"
        case .bfloat16: return "BFloat16"
        case .float32: return "Float"
        case .float64: return "Double"
        }
    }

    /// Whether a result of this dtype may be written into a tensor of `target` (PyTorch's
    /// `canCast`): not floating into integral, not non-bool into bool.
    func canCast(to target: DType) -> Bool {
        if isFloatingPoint && !target.isFloatingPoint { return false }
        if self != .bool && target == .bool { return false }
        return true
    }
}

extension Tensor {
    /// Throws the message an in-place write into this tensor traps with, if any: inference
    /// tensors, overlapping elements, and (with grad mode on and an operand requiring grad)
    /// leaves that require grad, views of them, and views made in no-grad mode.
    /// - Parameter others: the op's tensor operands other than this one.
    func validateInPlace(others: [Tensor]) throws(ShapeError) {
        if storage.isInference && !GradMode.isInferenceMode {
            throw ShapeError("Inplace update to inference tensor outside InferenceMode is not allowed.You can make a clone to get a normal tensor before doing inplace update.See https://github.com/pytorch/rfcs/pull/17 for more details.")
        }
        if Shape.hasInternalOverlap(shape: shape, strides: strides) {
            throw ShapeError("unsupported operation: more than one element of the written-to tensor refers to a single memory location. Please clone() the tensor before performing the operation.")
        }
        guard GradMode.isEnabled, requiresGrad || others.contains(where: { $0.requiresGrad }) else { return }
        if let view = meta.view {
            if view.multipleOutputs {
                throw ShapeError("Output \(outputNr) of \(gradFn?.name ?? "a view op") is a view and is being modified inplace. This view is the output of a function that returns multiple views. Such functions do not allow the output views to be modified inplace. You should replace the inplace operation by an out-of-place one.")
            }
            if !view.createdWithGrad {
                throw ShapeError("A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both the view and the inplace either both inside the no_grad block (if you don't want the inplace to be tracked) or both outside (if you want the inplace to be tracked).")
            }
            if view.base.isLeaf && view.base.requiresGrad {
                throw ShapeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")
            }
        }
        if isLeaf && requiresGrad {
            throw ShapeError("a leaf Variable that requires grad is being used in an in-place operation.")
        }
    }

    /// Throws the message `self op= other` traps with for shapes and dtypes, if any.
    func validateBinaryInPlace(_ op: BinaryOp, _ other: Operand, name: String) throws(ShapeError) {
        let plan = try Tensor.planBinary(op, .tensor(self), other, name: name)
        if plan.shape != shape {
            throw ShapeError("\(name): output with shape \(Shape.describe(shape)) doesn't match the broadcast shape \(Shape.describe(plan.shape))")
        }
        if !plan.result.canCast(to: dtype) {
            throw ShapeError("\(name): result type \(plan.result.scalarTypeName) can't be cast to the desired output type \(dtype.scalarTypeName)")
        }
        if case .tensor(let t) = other, t.device != device, !(t.rank == 0 && t.device == .cpu) {
            throw ShapeError("\(name): expected all tensors to be on the same device, but found at least two devices, \(device) and \(t.device)")
        }
    }

    /// A clamp bound as an operand: whole numbers act as integers, so integer tensors can be
    /// clamped.
    func clampBound(_ v: Double) -> Scalar {
        dtype.isFloatingPoint || v != v.rounded() || Swift.abs(v) > 9e18 ? .double(v) : .int(Int64(v))
    }

    /// Throws the message `clampInPlace(min:max:)` traps with for its bounds, if any.
    func validateClamp(min: Double?, max: Double?) throws(ShapeError) {
        guard min != nil || max != nil else {
            throw ShapeError("clamp_: At least one of 'min' or 'max' must not be None")
        }
        if let min { try validateBinaryInPlace(.maximum, .scalar(clampBound(min)), name: "clamp_") }
        if let max { try validateBinaryInPlace(.minimum, .scalar(clampBound(max)), name: "clamp_") }
    }

    /// Throws the message `copyFrom(source)` traps with for shapes, if any.
    func validateCopy(from source: Tensor) throws(ShapeError) {
        let broadcast = try Shape.broadcast(shape, source.shape, op: "copy_")
        if broadcast != shape {
            throw ShapeError("copy_: output with shape \(Shape.describe(shape)) doesn't match the broadcast shape \(Shape.describe(broadcast))")
        }
    }

    /// A copy with its own contiguous storage, not recorded.
    func independentCopy() -> Tensor {
        let out = Tensor(uninitializedShape: shape, dtype: dtype, device: device)
        Backends.backend(for: device).copy(self, into: out)
        return out
    }
}

// MARK: - The in-place protocol

extension Tensor {
    /// `self = self op other`, written into this tensor's storage.
    func binaryInPlace(_ op: BinaryOp, _ other: Operand, name: String, makeNode: (Tensor) -> GradFn) -> Tensor {
        check { () throws(ShapeError) in try validateBinaryInPlace(op, other, name: name) }
        writeInPlace(name, others: other.tensor.map { [$0] } ?? [], makeNode: makeNode) {
            let backend = Backends.backend(for: device)
            if case .tensor(let t) = other, t.dtype == dtype, t.device == device, t.storage !== storage,
               dtype != .float16, dtype != .bfloat16 {
                backend.binary(op, self, t, into: self)
            } else {
                let values = Tensor.computeBinary(op, .tensor(self.detached()), other, name: name)
                backend.copy(values, into: self)
            }
        }
        return self
    }

    /// Validates, records and performs an in-place write: `makeNode` (given this tensor's
    /// previous value) runs before `write`, so it can save what backward needs; then the
    /// version is bumped and the history rebased onto the node.
    func writeInPlace(_ name: String, others: [Tensor], makeNode: (Tensor) -> GradFn, write: () -> Void) {
        check { () throws(ShapeError) in try validateInPlace(others: others) }
        var node: GradFn? = nil
        if GradMode.isEnabled, dtype.isFloatingPoint, requiresGrad || others.contains(where: { $0.requiresGrad }) {
            let n = makeNode(self)
            n.connect([self] + others)
            node = n
        }
        write()
        storage.bumpVersion()
        if let node { rebaseHistory(onto: node) }
    }

    /// Makes `node` this tensor's history after an in-place op; for a view, the base's history
    /// becomes `ViewWriteBackward(node)` and the view's a strided view of it.
    func rebaseHistory(onto node: GradFn) {
        guard let view = meta.view else {
            let old = meta.storedGradFn
            meta.gradFn = node
            meta.outputNr = 0
            moveRetainedGrad(from: old, to: node)
            return
        }
        let base = view.base
        let oldBaseFn = base.meta.storedGradFn
        let copySlices = ViewWriteBackward(base: base, view: self, fn: node)
        copySlices.edges = [Edge(to: base)] + node.edges.dropFirst()
        base.meta.gradFn = copySlices
        base.meta.outputNr = 0
        base.moveRetainedGrad(from: oldBaseFn, to: copySlices)

        let viewNode = RegeneratedViewBackward(input: base, shape: shape, strides: strides, offset: offset)
        viewNode.edges = [Edge(function: copySlices, inputIndex: 0, metadata: InputMetadata(base))]
        let old = meta.storedGradFn
        meta.gradFn = viewNode
        meta.outputNr = 0
        moveRetainedGrad(from: old, to: viewNode)
    }
}

// MARK: - Backward nodes

/// Backward of `fill(_:)`: the previous values get a zero gradient.
final class FillBackward0: GradFn, @unchecked Sendable {
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        [gradOutputs[0].map { Tensor.zeros(like: $0) }]
    }
}

/// Backward of `zero()`: the previous values get a zero gradient.
final class ZeroBackward0: GradFn, @unchecked Sendable {
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        [gradOutputs[0].map { Tensor.zeros(like: $0) }]
    }
}

/// Backward of `copyFrom(_:)`: zero for the previous values, the gradient itself for the
/// source (the engine sums it over broadcast dimensions and converts dtype and device).
final class CopyBackwards: GradFn, @unchecked Sendable {
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return edges.map { _ in nil } }
        if edges.count == 1 { return [needsInputGrad(0) ? Tensor.zeros(like: g) : nil] }
        return [needsInputGrad(0) ? Tensor.zeros(like: g) : nil, needsInputGrad(1) ? g : nil]
    }
}

/// Backward of `clampInPlace(min:max:)`: the gradient where the previous value lay within the
/// bounds, zero elsewhere. Named `ClampBackward1` as PyTorch names `clamp_` with scalar
/// bounds; the class name differs so an out-of-place `clamp` may declare `ClampBackward1`.
final class ClampInPlaceBackward: GradFn, @unchecked Sendable {
    var mask: Tensor?

    override var name: String { "ClampBackward1" }

    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        guard let mask else { return [g] }
        return [Tensor.where(mask, g, Tensor.zeros([], dtype: g.dtype, device: g.device))]
    }
}
