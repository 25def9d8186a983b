/// The element type of a tensor, tagged at run time (PyTorch's `torch.dtype`).
///
/// Tensors carry their dtype as a value, not as a generic parameter, so one tape can hold
/// float32 and float64 tensors and `.to(_:)` can change it. Only floating dtypes can
/// require gradients.
public enum DType: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Booleans stored one byte each (`torch.bool`).
    case bool
    /// Unsigned 8-bit integers (`torch.uint8`).
    case uint8
    /// Signed 8-bit integers (`torch.int8`).
    case int8
    /// Signed 16-bit integers (`torch.int16`).
    case int16
    /// Signed 32-bit integers (`torch.int32`).
    case int32
    /// Signed 64-bit integers (`torch.int64`), the default integer dtype.
    case int64
    /// IEEE 754 half precision (`torch.float16`); computed in float32.
    case float16
    /// Brain floating point, 8 exponent bits and 7 mantissa bits (`torch.bfloat16`); computed in float32.
    case bfloat16
    /// IEEE 754 single precision (`torch.float32`), the default floating dtype.
    case float32
    /// IEEE 754 double precision (`torch.float64`).
    case float64

    /// The size of one element in bytes.
    public var byteCount: Int {
        switch self {
        case .bool, .uint8, .int8: return 1
        case .int16, .float16, .bfloat16: return 2
        case .int32, .float32: return 4
        case .int64, .float64: return 8
        }
    }

    /// Whether the dtype holds floating-point values (and so may require gradients).
    public var isFloatingPoint: Bool {
        switch self {
        case .float16, .bfloat16, .float32, .float64: return true
        default: return false
        }
    }

    /// Whether the dtype holds integers (bool excluded).
    public var isInteger: Bool {
        switch self {
        case .uint8, .int8, .int16, .int32, .int64: return true
        default: return false
        }
    }

    /// Whether the dtype is signed (bool and uint8 are not).
    public var isSigned: Bool { self != .bool && self != .uint8 }

    /// PyTorch's printed name, for example `float32`.
    public var description: String { rawValue }

    /// The dtype PyTorch uses for floating values when none is given: `.float32`.
    public static let defaultFloat: DType = .float32

    /// The dtype PyTorch uses for integers when none is given: `.int64`.
    public static let defaultInteger: DType = .int64

    /// The promotion category: 0 bool, 1 integer, 2 floating.
    var category: Int { self == .bool ? 0 : (isFloatingPoint ? 2 : 1) }

    /// The dtype a floating-point op produces from this dtype (integers and bool → float32).
    var floatingResult: DType { isFloatingPoint ? self : .defaultFloat }

    /// The dtype used to accumulate sums and products of this dtype (PyTorch: integers and
    /// bool → int64, half types → float32 internally).
    var sumResult: DType { isFloatingPoint ? self : .int64 }
}

// MARK: - Promotion

extension DType {
    /// PyTorch's `promote_types` for two tensor dtypes.
    ///
    /// Follows the table in `c10/core/ScalarType.h`: bool < integers < floats; within integers
    /// the wider type wins, and uint8 with a signed type needs int16 (or wider); float16 with
    /// bfloat16 gives float32.
    public static func promoted(_ a: DType, _ b: DType) -> DType {
        if a == b { return a }
        if a == .bool { return b }
        if b == .bool { return a }
        if a.isFloatingPoint || b.isFloatingPoint {
            if a.isFloatingPoint && b.isFloatingPoint {
                if (a == .float16 && b == .bfloat16) || (a == .bfloat16 && b == .float16) { return .float32 }
                return a.byteCount >= b.byteCount ? a : b
            }
            return a.isFloatingPoint ? a : b
        }
        // Both integers.
        if a == .uint8 || b == .uint8 {
            let other = a == .uint8 ? b : a
            return other == .int8 ? .int16 : other
        }
        return a.byteCount >= b.byteCount ? a : b
    }
}

/// One operand's contribution to result-type computation, PyTorch's three tiers:
/// tensors with dimensions, zero-dimensional tensors, and wrapped Swift scalars.
struct PromotionOperand {
    enum Tier: Int { case dimensioned = 0, zeroDim = 1, scalar = 2 }
    var dtype: DType
    var tier: Tier
}

extension DType {
    /// PyTorch's `result_type` over tensors and scalars: a higher category always wins; within
    /// the highest category, the highest-priority tier that has it decides, and its dtypes promote.
    static func resultType(_ operands: [PromotionOperand]) -> DType {
        var best: [DType?] = [nil, nil, nil]      // per tier
        var maxCategoryPerTier = [-1, -1, -1]
        for op in operands {
            let t = op.tier.rawValue
            if let cur = best[t] { best[t] = promoted(cur, op.dtype) } else { best[t] = op.dtype }
            maxCategoryPerTier[t] = max(maxCategoryPerTier[t], op.dtype.category)
        }
        var result: DType? = nil
        for t in 0..<3 {
            guard let d = best[t] else { continue }
            guard let r = result else { result = d; continue }
            if d.category > r.category {
                // A lower tier only contributes when it is of a higher category; a Swift scalar
                // then takes the default dtype of its category (float → float32, int → int64).
                if t == 2 {
                    result = d.category == 2 ? (r.category < 2 ? DType.defaultFloat : r)
                        : (d.category == 1 ? .int64 : d)
                } else {
                    result = d
                }
            }
        }
        return result ?? .float32
    }
}
