#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// IEEE 754 binary16, stored as its bit pattern so it works on every platform (Swift's
/// `Float16` is missing on macOS/x86_64). Arithmetic happens in `Float`.
public struct Half: Hashable, Sendable, CustomStringConvertible {
    /// The raw IEEE 754 binary16 bits.
    public var bitPattern: UInt16

    /// Creates a value from raw binary16 bits.
    public init(bitPattern: UInt16) { self.bitPattern = bitPattern }

    /// Rounds `value` to the nearest binary16 (ties to even), overflowing to ±infinity.
    public init(_ value: Float) {
        let bits = value.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xff)
        var mantissa = bits & 0x7f_ffff
        if exponent == 0xff {  // inf or nan
            bitPattern = sign | 0x7c00 | (mantissa != 0 ? 0x200 | UInt16(mantissa >> 13) : 0)
            return
        }
        var e = exponent - 127 + 15
        if e >= 0x1f {
            bitPattern = sign | 0x7c00
            return
        }
        if e <= 0 {
            // Subnormal half (or zero): shift the mantissa with the implicit bit in.
            if e < -10 {
                bitPattern = sign
                return
            }
            mantissa |= 0x80_0000
            let shift = UInt32(14 - e)
            let halfMantissa = mantissa >> shift
            let remainder = mantissa & ((1 << shift) - 1)
            let halfway = UInt32(1) << (shift - 1)
            var result = halfMantissa
            if remainder > halfway || (remainder == halfway && (halfMantissa & 1) == 1) { result += 1 }
            bitPattern = sign | UInt16(result)
            return
        }
        var halfMantissa = mantissa >> 13
        let remainder = mantissa & 0x1fff
        if remainder > 0x1000 || (remainder == 0x1000 && (halfMantissa & 1) == 1) {
            halfMantissa += 1
            if halfMantissa == 0x400 {
                halfMantissa = 0
                e += 1
                if e >= 0x1f {
                    bitPattern = sign | 0x7c00
                    return
                }
            }
        }
        bitPattern = sign | UInt16(e << 10) | UInt16(halfMantissa)
    }

    /// The value as a `Float` (exact).
    public var floatValue: Float {
        let sign = UInt32(bitPattern & 0x8000) << 16
        let exponent = UInt32((bitPattern >> 10) & 0x1f)
        let mantissa = UInt32(bitPattern & 0x3ff)
        if exponent == 0 {
            if mantissa == 0 { return Float(bitPattern: sign) }
            // Subnormal: value = mantissa * 2^-24.
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -magnitude : magnitude
        }
        if exponent == 0x1f {
            return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13))
        }
        return Float(bitPattern: sign | ((exponent + 127 - 15) << 23) | (mantissa << 13))
    }

    /// The value printed as a `Float`.
    public var description: String { floatValue.description }
}

/// bfloat16 (8 exponent bits, 7 mantissa bits), stored as its bit pattern; arithmetic in `Float`.
public struct BFloat16: Hashable, Sendable, CustomStringConvertible {
    /// The raw bfloat16 bits (the top half of a binary32).
    public var bitPattern: UInt16

    /// Creates a value from raw bfloat16 bits.
    public init(bitPattern: UInt16) { self.bitPattern = bitPattern }

    /// Rounds `value` to the nearest bfloat16 (ties to even), as PyTorch does.
    public init(_ value: Float) {
        if value.isNaN {
            bitPattern = 0x7fc0
            return
        }
        let bits = value.bitPattern
        let roundingBias = UInt32(0x7fff) + ((bits >> 16) & 1)
        bitPattern = UInt16(truncatingIfNeeded: (bits &+ roundingBias) >> 16)
    }

    /// The value as a `Float` (exact).
    public var floatValue: Float { Float(bitPattern: UInt32(bitPattern) << 16) }

    /// The value printed as a `Float`.
    public var description: String { floatValue.description }
}

// MARK: - Element

/// A Swift type that can be stored in a tensor's buffer. Internal: kernels are generic over it.
protocol Element: Sendable {
    static var dtype: DType { get }
    static var zero: Self { get }
    var doubleValue: Double { get }
    var int64Value: Int64 { get }
    init(fromDouble value: Double)
    init(fromInt64 value: Int64)
}

extension Element {
    /// Converts from any element type with C-like semantics (float → int truncates toward zero;
    /// out-of-range and NaN become the integer minimum, as x86 does; int → int wraps).
    @inline(__always)
    init<S: Element>(converting value: S) {
        if S.dtype.isFloatingPoint {
            self.init(fromDouble: value.doubleValue)
        } else {
            self.init(fromInt64: value.int64Value)
        }
    }
}

/// Converts a floating value to Int64 the way x86's cvttsd2si does: truncation, with NaN and
/// out-of-range values giving Int64.min (never a trap).
@inline(__always)
func truncatingToInt64(_ value: Double) -> Int64 {
    if value.isNaN || value >= 9_223_372_036_854_775_808.0 || value < -9_223_372_036_854_775_808.0 {
        return Int64.min
    }
    return Int64(value)
}

/// The same for targets of 32 bits or fewer (x86's 32-bit cvttsd2si): Int32.min when out of range.
@inline(__always)
func truncatingToInt32(_ value: Double) -> Int32 {
    if value.isNaN || value >= 2_147_483_648.0 || value <= -2_147_483_649.0 { return Int32.min }
    return Int32(value)
}

extension Bool: Element {
    static var dtype: DType { .bool }
    static var zero: Bool { false }
    var doubleValue: Double { self ? 1 : 0 }
    var int64Value: Int64 { self ? 1 : 0 }
    init(fromDouble value: Double) { self = value != 0 }
    init(fromInt64 value: Int64) { self = value != 0 }
}

extension UInt8: Element {
    static var dtype: DType { .uint8 }
    var doubleValue: Double { Double(self) }
    var int64Value: Int64 { Int64(self) }
    init(fromDouble value: Double) { self = UInt8(truncatingIfNeeded: truncatingToInt32(value)) }
    init(fromInt64 value: Int64) { self = UInt8(truncatingIfNeeded: value) }
}

extension Int8: Element {
    static var dtype: DType { .int8 }
    var doubleValue: Double { Double(self) }
    var int64Value: Int64 { Int64(self) }
    init(fromDouble value: Double) { self = Int8(truncatingIfNeeded: truncatingToInt32(value)) }
    init(fromInt64 value: Int64) { self = Int8(truncatingIfNeeded: value) }
}

extension Int16: Element {
    static var dtype: DType { .int16 }
    var doubleValue: Double { Double(self) }
    var int64Value: Int64 { Int64(self) }
    init(fromDouble value: Double) { self = Int16(truncatingIfNeeded: truncatingToInt32(value)) }
    init(fromInt64 value: Int64) { self = Int16(truncatingIfNeeded: value) }
}

extension Int32: Element {
    static var dtype: DType { .int32 }
    var doubleValue: Double { Double(self) }
    var int64Value: Int64 { Int64(self) }
    init(fromDouble value: Double) { self = Int32(truncatingIfNeeded: truncatingToInt32(value)) }
    init(fromInt64 value: Int64) { self = Int32(truncatingIfNeeded: value) }
}

extension Int64: Element {
    static var dtype: DType { .int64 }
    var doubleValue: Double { Double(self) }
    var int64Value: Int64 { self }
    init(fromDouble value: Double) { self = truncatingToInt64(value) }
    init(fromInt64 value: Int64) { self = value }
}

extension Half: Element {
    static var dtype: DType { .float16 }
    static var zero: Half { Half(bitPattern: 0) }
    var doubleValue: Double { Double(floatValue) }
    var int64Value: Int64 { truncatingToInt64(Double(floatValue)) }
    init(fromDouble value: Double) { self.init(Float(value)) }
    init(fromInt64 value: Int64) { self.init(Float(value)) }
}

extension BFloat16: Element {
    static var dtype: DType { .bfloat16 }
    static var zero: BFloat16 { BFloat16(bitPattern: 0) }
    var doubleValue: Double { Double(floatValue) }
    var int64Value: Int64 { truncatingToInt64(Double(floatValue)) }
    init(fromDouble value: Double) { self.init(Float(value)) }
    init(fromInt64 value: Int64) { self.init(Float(value)) }
}

extension Float: Element {
    static var dtype: DType { .float32 }
    var doubleValue: Double { Double(self) }
    var int64Value: Int64 { truncatingToInt64(Double(self)) }
    init(fromDouble value: Double) { self = Float(value) }
    init(fromInt64 value: Int64) { self = Float(value) }
}

extension Double: Element {
    static var dtype: DType { .float64 }
    var doubleValue: Double { self }
    var int64Value: Int64 { truncatingToInt64(self) }
    init(fromDouble value: Double) { self = value }
    init(fromInt64 value: Int64) { self = Double(value) }
}

// MARK: - Floating elements with math

/// Float and Double: the types CPU math kernels compute in (half types are widened to Float).
protocol FloatElement: Element, BinaryFloatingPoint {
    static func mathExp(_ x: Self) -> Self
    static func mathLog(_ x: Self) -> Self
    static func mathPow(_ x: Self, _ y: Self) -> Self
    static func mathSin(_ x: Self) -> Self
    static func mathCos(_ x: Self) -> Self
    static func mathTan(_ x: Self) -> Self
    static func mathTanh(_ x: Self) -> Self
    static func mathExpm1(_ x: Self) -> Self
    static func mathLog1p(_ x: Self) -> Self
    static func mathLog2(_ x: Self) -> Self
    static func mathErf(_ x: Self) -> Self
    static func mathAtan(_ x: Self) -> Self
    static func mathAsin(_ x: Self) -> Self
    static func mathAcos(_ x: Self) -> Self
    static func mathSinh(_ x: Self) -> Self
    static func mathCosh(_ x: Self) -> Self
    static func mathAsinh(_ x: Self) -> Self
    static func mathAcosh(_ x: Self) -> Self
    static func mathAtanh(_ x: Self) -> Self
    static func mathFmod(_ x: Self, _ y: Self) -> Self
    static func mathRound(_ x: Self) -> Self
}

extension Float: FloatElement {
    static func mathExp(_ x: Float) -> Float { expf(x) }
    static func mathLog(_ x: Float) -> Float { logf(x) }
    static func mathPow(_ x: Float, _ y: Float) -> Float { powf(x, y) }
    static func mathSin(_ x: Float) -> Float { sinf(x) }
    static func mathCos(_ x: Float) -> Float { cosf(x) }
    static func mathTan(_ x: Float) -> Float { tanf(x) }
    static func mathTanh(_ x: Float) -> Float { tanhf(x) }
    static func mathExpm1(_ x: Float) -> Float { expm1f(x) }
    static func mathLog1p(_ x: Float) -> Float { log1pf(x) }
    static func mathLog2(_ x: Float) -> Float { log2f(x) }
    static func mathErf(_ x: Float) -> Float { erff(x) }
    static func mathAtan(_ x: Float) -> Float { atanf(x) }
    static func mathAsin(_ x: Float) -> Float { asinf(x) }
    static func mathAcos(_ x: Float) -> Float { acosf(x) }
    static func mathSinh(_ x: Float) -> Float { sinhf(x) }
    static func mathCosh(_ x: Float) -> Float { coshf(x) }
    static func mathAsinh(_ x: Float) -> Float { asinhf(x) }
    static func mathAcosh(_ x: Float) -> Float { acoshf(x) }
    static func mathAtanh(_ x: Float) -> Float { atanhf(x) }
    static func mathFmod(_ x: Float, _ y: Float) -> Float { fmodf(x, y) }
    static func mathRound(_ x: Float) -> Float { x.rounded(.toNearestOrEven) }
}

extension Double: FloatElement {
    static func mathExp(_ x: Double) -> Double { exp(x) }
    static func mathLog(_ x: Double) -> Double { log(x) }
    static func mathPow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
    static func mathSin(_ x: Double) -> Double { sin(x) }
    static func mathCos(_ x: Double) -> Double { cos(x) }
    static func mathTan(_ x: Double) -> Double { tan(x) }
    static func mathTanh(_ x: Double) -> Double { tanh(x) }
    static func mathExpm1(_ x: Double) -> Double { expm1(x) }
    static func mathLog1p(_ x: Double) -> Double { log1p(x) }
    static func mathLog2(_ x: Double) -> Double { log2(x) }
    static func mathErf(_ x: Double) -> Double { erf(x) }
    static func mathAtan(_ x: Double) -> Double { atan(x) }
    static func mathAsin(_ x: Double) -> Double { asin(x) }
    static func mathAcos(_ x: Double) -> Double { acos(x) }
    static func mathSinh(_ x: Double) -> Double { sinh(x) }
    static func mathCosh(_ x: Double) -> Double { cosh(x) }
    static func mathAsinh(_ x: Double) -> Double { asinh(x) }
    static func mathAcosh(_ x: Double) -> Double { acosh(x) }
    static func mathAtanh(_ x: Double) -> Double { atanh(x) }
    static func mathFmod(_ x: Double, _ y: Double) -> Double { fmod(x, y) }
    static func mathRound(_ x: Double) -> Double { x.rounded(.toNearestOrEven) }
}
