#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

extension Tensor {
    /// Runs `body` without recording on this tensor widened to its compute dtype (integers and
    /// bool → float32, half types → float32) and rounds the result to the floating result
    /// dtype once at the end, as PyTorch's CPU kernels do for half types.
    func floatingCompute(_ body: (Tensor) -> Tensor) -> Tensor {
        let result = dtype.floatingResult
        let compute: DType = result == .float16 || result == .bfloat16 ? .float32 : result
        let x = dtype == compute ? detached() : convertedWithoutGrad(to: compute)
        let out = withNoGrad { body(x) }
        return out.dtype == result ? out.detached() : out.convertedWithoutGrad(to: result)
    }

    /// Runs `body` without recording on this tensor widened to float32 when it is a half type,
    /// keeping other dtypes, and converts the result back to this dtype.
    func sameDTypeCompute(_ body: (Tensor) -> Tensor) -> Tensor {
        let compute: DType = dtype == .float16 || dtype == .bfloat16 ? .float32 : dtype
        let x = dtype == compute ? detached() : convertedWithoutGrad(to: compute)
        let out = withNoGrad { body(x) }
        return out.dtype == dtype ? out.detached() : out.convertedWithoutGrad(to: dtype)
    }

    /// Validates that an op accepts this tensor's dtype.
    func validateFloatingOrInteger(_ op: String) throws(ShapeError) {
        if dtype == .bool { throw ShapeError("\(op): not implemented for bool tensors (dtype bool)") }
    }
}

// MARK: - Exponentials and logarithms

extension Tensor {
    /// `e^x - 1` elementwise, accurate near 0; floating result (integers → float32).
    /// Differentiable (`Expm1Backward0`).
    public func expm1() -> Tensor {
        let out = computeUnary(.expm1)
        return Tensor.record(out, input: self) {
            let node = Expm1Backward0()
            node.resultSlot = node.save(out, isOutput: true)
            return node
        }
    }

    /// `log(1 + x)` elementwise, accurate near 0; floating result. Differentiable (`Log1PBackward0`).
    public func log1p() -> Tensor {
        let out = computeUnary(.log1p)
        return Tensor.record(out, input: self) {
            let node = Log1PBackward0()
            node.selfSlot = node.save(self)
            return node
        }
    }

    /// Base-2 logarithm elementwise; floating result. Differentiable (`Log2Backward0`).
    public func log2() -> Tensor {
        let out = computeUnary(.log2)
        return Tensor.record(out, input: self) {
            let node = Log2Backward0()
            node.selfSlot = node.save(self)
            return node
        }
    }

    /// `1 / sqrt(x)` elementwise; floating result. Differentiable (`RsqrtBackward0`).
    public func rsqrt() -> Tensor {
        let out = computeUnary(.rsqrt)
        return Tensor.record(out, input: self) {
            let node = RsqrtBackward0()
            node.resultSlot = node.save(out, isOutput: true)
            return node
        }
    }

    /// `1 / x` elementwise; floating result (integers → float32). Differentiable (`ReciprocalBackward0`).
    public func reciprocal() -> Tensor {
        let out = computeUnary(.reciprocal)
        return Tensor.record(out, input: self) {
            let node = ReciprocalBackward0()
            node.resultSlot = node.save(out, isOutput: true)
            return node
        }
    }

    /// Tangent elementwise; floating result. Differentiable (`TanBackward0`).
    public func tan() -> Tensor {
        let out = computeUnary(.tan)
        return Tensor.record(out, input: self) {
            let node = TanBackward0()
            node.resultSlot = node.save(out, isOutput: true)
            return node
        }
    }

    /// Hyperbolic sine elementwise; floating result (integers → float32). Differentiable
    /// (`SinhBackward0`).
    public func sinh() -> Tensor { savingInput(computeUnary(.sinh)) { SinhBackward0() } }

    /// Hyperbolic cosine elementwise; floating result. Differentiable (`CoshBackward0`).
    public func cosh() -> Tensor { savingInput(computeUnary(.cosh)) { CoshBackward0() } }

    /// Inverse sine elementwise (NaN outside [-1, 1]); floating result. Differentiable
    /// (`AsinBackward0`; infinite at ±1).
    public func asin() -> Tensor { savingInput(computeUnary(.asin)) { AsinBackward0() } }

    /// Inverse cosine elementwise (NaN outside [-1, 1]); floating result. Differentiable
    /// (`AcosBackward0`; infinite at ±1).
    public func acos() -> Tensor { savingInput(computeUnary(.acos)) { AcosBackward0() } }

    /// Inverse tangent elementwise; floating result. Differentiable (`AtanBackward0`).
    public func atan() -> Tensor { savingInput(computeUnary(.atan)) { AtanBackward0() } }

    /// Inverse hyperbolic sine elementwise; floating result. Differentiable (`AsinhBackward0`).
    public func asinh() -> Tensor { savingInput(computeUnary(.asinh)) { AsinhBackward0() } }

    /// Inverse hyperbolic cosine elementwise (NaN below 1); floating result. Differentiable
    /// (`AcoshBackward0`; infinite at 1).
    public func acosh() -> Tensor { savingInput(computeUnary(.acosh)) { AcoshBackward0() } }

    /// Inverse hyperbolic tangent elementwise (±infinity at ±1, NaN beyond); floating result.
    /// Differentiable (`AtanhBackward0`).
    public func atanh() -> Tensor { savingInput(computeUnary(.atanh)) { AtanhBackward0() } }

    /// Records `out` with a node that saves this tensor (the input) for its backward.
    private func savingInput(_ out: Tensor, _ make: @escaping () -> SavedInputBackward) -> Tensor {
        Tensor.record(out, input: self) {
            let node = make()
            node.selfSlot = node.save(self)
            return node
        }
    }

    /// The Gauss error function elementwise; floating result. Differentiable (`ErfBackward0`).
    public func erf() -> Tensor {
        let out = computeUnary(.erf)
        return Tensor.record(out, input: self) {
            let node = ErfBackward0()
            node.selfSlot = node.save(self)
            return node
        }
    }
}

// MARK: - Rounding

extension Tensor {
    /// Rounds down elementwise; keeps the dtype (integers unchanged). Differentiable with a
    /// zero gradient (`FloorBackward0`).
    /// - Precondition: not a bool tensor.
    public func floor() -> Tensor { rounding(.floor, "floor") { FloorBackward0() } }

    /// Rounds up elementwise; keeps the dtype. Zero gradient (`CeilBackward0`).
    /// - Precondition: not a bool tensor.
    public func ceil() -> Tensor { rounding(.ceil, "ceil") { CeilBackward0() } }

    /// Rounds to the nearest integer, halves to even (PyTorch's `round`); keeps the dtype.
    /// Zero gradient (`RoundBackward0`).
    /// - Precondition: not a bool tensor.
    public func round() -> Tensor { rounding(.round, "round") { RoundBackward0() } }

    /// Rounds toward zero elementwise; keeps the dtype. Zero gradient (`TruncBackward0`).
    /// - Precondition: not a bool tensor.
    public func trunc() -> Tensor { rounding(.trunc, "trunc") { TruncBackward0() } }

    /// Rounds to `decimals` decimal places (halves to even), as `round(x * 10^d) / 10^d`;
    /// keeps the dtype. Zero gradient (`RoundBackward1`).
    /// - Precondition: a floating dtype.
    public func round(decimals: Int) -> Tensor {
        check { () throws(ShapeError) in
            guard dtype.isFloatingPoint else {
                throw ShapeError("round: decimals is only supported for floating tensors (got \(dtype))")
            }
        }
        let scale = powerOfTen(decimals)
        let out = sameDTypeCompute { x in
            decimals >= 0 ? (x * scale).computeUnary(.round) / scale : (x / (1 / scale)).computeUnary(.round) * (1 / scale)
        }
        return Tensor.record(out, input: self) { RoundBackward1() }
    }

    private func rounding(_ op: UnaryOp, _ name: String, _ node: () -> GradFn) -> Tensor {
        check { () throws(ShapeError) in try validateFloatingOrInteger(name) }
        let out = computeUnary(op)
        return Tensor.record(out, input: self, node)
    }
}

private func powerOfTen(_ n: Int) -> Double { pow(10.0, Double(n)) }

// MARK: - Classification

extension Tensor {
    /// Whether each element is NaN; a bool tensor (false for integers). Not differentiable.
    public func isNaN() -> Tensor { computeUnary(.isNaN) }

    /// Whether each element is ±infinity; a bool tensor. Not differentiable.
    public func isInf() -> Tensor { computeUnary(.isInf) }

    /// Whether each element is finite (not NaN, not ±infinity); a bool tensor. Not differentiable.
    public func isFinite() -> Tensor { computeUnary(.isFinite) }

    /// Whether each element is +infinity; a bool tensor. Not differentiable.
    public func isPosInf() -> Tensor {
        dtype.isFloatingPoint ? (self .== Double.infinity) : Tensor.zeros(shape, dtype: .bool, device: device)
    }

    /// Whether each element is -infinity; a bool tensor. Not differentiable.
    public func isNegInf() -> Tensor {
        dtype.isFloatingPoint ? (self .== -Double.infinity) : Tensor.zeros(shape, dtype: .bool, device: device)
    }

    /// Replaces NaN with `nan`, +∞ with `posinf` and -∞ with `neginf` (PyTorch's
    /// `nan_to_num`); the infinities default to the dtype's largest finite values. Keeps the
    /// dtype; integers are returned unchanged. Differentiable (`NanToNumBackward0`: the
    /// gradient passes where the input is finite).
    public func nanToNum(nan: Double = 0, posinf: Double? = nil, neginf: Double? = nil) -> Tensor {
        guard dtype.isFloatingPoint else { return clone() }
        let largest = dtype.greatestFiniteMagnitude
        let pos = posinf ?? largest, neg = neginf ?? -largest
        let out = withNoGrad { () -> Tensor in
            let x = detached()
            func filled(_ v: Double) -> Tensor { Tensor(scalar: .double(v), dtype: dtype, device: device) }
            var r = Tensor.where(x.isNaN(), filled(nan), x)
            r = Tensor.where(x .== Double.infinity, filled(pos), r)
            r = Tensor.where(x .== -Double.infinity, filled(neg), r)
            return r
        }
        return Tensor.record(out.detached(), input: self) {
            let node = NanToNumBackward0()
            node.selfSlot = node.save(self)
            return node
        }
    }
}

extension DType {
    /// The largest finite value of a floating dtype (PyTorch's `finfo(dtype).max`).
    var greatestFiniteMagnitude: Double {
        switch self {
        case .float16: return 65504
        case .bfloat16: return Double(BFloat16(bitPattern: 0x7f7f).floatValue)
        case .float32: return Double(Float.greatestFiniteMagnitude)
        default: return Double.greatestFiniteMagnitude
        }
    }
}

// MARK: - Backward nodes

/// Backward of `expm1`: `g * (result + 1)`.
final class Expm1Backward0: GradFn, @unchecked Sendable {
    var resultSlot = -1
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        return [g * (try savedTensor(resultSlot) + 1)]
    }
}

/// Backward of `log1p`: `g / (x + 1)`.
final class Log1PBackward0: GradFn, @unchecked Sendable {
    var selfSlot = -1
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        return [g / (try savedTensor(selfSlot) + 1)]
    }
}

/// Backward of `log2`: `g / (x ln 2)`.
final class Log2Backward0: GradFn, @unchecked Sendable {
    var selfSlot = -1
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        return [g / (try savedTensor(selfSlot) * 0.6931471805599453)]
    }
}

/// Backward of `rsqrt`: `-g * result³ / 2`.
final class RsqrtBackward0: GradFn, @unchecked Sendable {
    var resultSlot = -1
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let y = try savedTensor(resultSlot)
        return [g * y.pow(3) * -0.5]
    }
}

/// Backward of `reciprocal`: `-g * result²`.
final class ReciprocalBackward0: GradFn, @unchecked Sendable {
    var resultSlot = -1
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let y = try savedTensor(resultSlot)
        return [-g * (y * y)]
    }
}

/// Backward of `tan`: `g * (1 + result²)`.
final class TanBackward0: GradFn, @unchecked Sendable {
    var resultSlot = -1
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let y = try savedTensor(resultSlot)
        return [g * (y * y + 1)]
    }
}

/// A one-input backward that saves its op's input.
class SavedInputBackward: UnaryGradFn, @unchecked Sendable {
    var selfSlot = -1
    /// The input's gradient from `g` and the saved input `x`.
    func gradient(_ g: Tensor, _ x: Tensor) -> Tensor { preconditionFailure("\(name) does not implement gradient(_:_:)") }
    override func gradient(_ g: Tensor) throws -> Tensor { gradient(g, try savedTensor(selfSlot)) }
}

/// Backward of `sinh`: `g * cosh(x)`.
final class SinhBackward0: SavedInputBackward, @unchecked Sendable {
    override func gradient(_ g: Tensor, _ x: Tensor) -> Tensor { g * x.cosh() }
}

/// Backward of `cosh`: `g * sinh(x)`.
final class CoshBackward0: SavedInputBackward, @unchecked Sendable {
    override func gradient(_ g: Tensor, _ x: Tensor) -> Tensor { g * x.sinh() }
}

/// Backward of `asin`: `g / sqrt(1 - x²)` (as PyTorch: `g * (1 - x²).rsqrt()`).
final class AsinBackward0: SavedInputBackward, @unchecked Sendable {
    override func gradient(_ g: Tensor, _ x: Tensor) -> Tensor { g * (1 - x * x).rsqrt() }
}

/// Backward of `acos`: `-g / sqrt(1 - x²)`.
final class AcosBackward0: SavedInputBackward, @unchecked Sendable {
    override func gradient(_ g: Tensor, _ x: Tensor) -> Tensor { -g * (1 - x * x).rsqrt() }
}

/// Backward of `atan`: `g / (1 + x²)`.
final class AtanBackward0: SavedInputBackward, @unchecked Sendable {
    override func gradient(_ g: Tensor, _ x: Tensor) -> Tensor { g / (x * x + 1) }
}

/// Backward of `asinh`: `g / sqrt(x² + 1)`.
final class AsinhBackward0: SavedInputBackward, @unchecked Sendable {
    override func gradient(_ g: Tensor, _ x: Tensor) -> Tensor { g * (x * x + 1).rsqrt() }
}

/// Backward of `acosh`: `g / sqrt(x² - 1)`.
final class AcoshBackward0: SavedInputBackward, @unchecked Sendable {
    override func gradient(_ g: Tensor, _ x: Tensor) -> Tensor { g * (x * x - 1).rsqrt() }
}

/// Backward of `atanh`: `g / (1 - x²)`.
final class AtanhBackward0: SavedInputBackward, @unchecked Sendable {
    override func gradient(_ g: Tensor, _ x: Tensor) -> Tensor { g / (1 - x * x) }
}

/// Backward of `erf`: `g * 2/√π * e^(-x²)`.
final class ErfBackward0: GradFn, @unchecked Sendable {
    var selfSlot = -1
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let x = try savedTensor(selfSlot)
        return [g * (-(x * x)).exp() * 1.1283791670955126]
    }
}

/// A backward whose gradient is zero everywhere (rounding ops).
class ZeroGradientBackward: GradFn, @unchecked Sendable {
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        return [Tensor.zeros(like: g)]
    }
}

/// Backward of `floor`: zero.
final class FloorBackward0: ZeroGradientBackward, @unchecked Sendable {}
/// Backward of `ceil`: zero.
final class CeilBackward0: ZeroGradientBackward, @unchecked Sendable {}
/// Backward of `round`: zero.
final class RoundBackward0: ZeroGradientBackward, @unchecked Sendable {}
/// Backward of `round(decimals:)`: zero.
final class RoundBackward1: ZeroGradientBackward, @unchecked Sendable {}
/// Backward of `trunc`: zero.
final class TruncBackward0: ZeroGradientBackward, @unchecked Sendable {}

/// Backward of `nanToNum`: the gradient where the input was finite, else zero.
final class NanToNumBackward0: GradFn, @unchecked Sendable {
    var selfSlot = -1
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        if selfSlot < 0 { return [g] }
        let x = try savedTensor(selfSlot)
        return [Tensor.where(x.isFinite(), g, Tensor.zeros([], dtype: g.dtype, device: g.device))]
    }
}
