/// A compute backend: where tensors of one device are allocated and how their kernels run.
///
/// Kernels know nothing of autograd: they read their input tensors' storage through shape,
/// strides and offset, and write into an output tensor allocated by the caller on the same
/// device. Inputs arrive already cast to the op's compute dtype (one of bool, uint8, int8,
/// int16, int32, int64, float32, float64; half types are widened to float32 by the op layer).
/// A new device is a new conformance.
protocol DeviceBackend: AnyObject, Sendable, IndexingKernels, ScanKernels, ConvKernels {
    /// The device this backend serves.
    var device: Device { get }
    /// Allocates `byteCount` bytes of device memory (64-byte aligned from 4 KiB, 16 below).
    func allocate(byteCount: Int) throws -> UnsafeMutableRawPointer
    /// Returns memory obtained from `allocate`.
    func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int)
    /// Copies `source` into `destination` elementwise (same shape, any strides), converting dtype.
    func copy(_ source: Tensor, into destination: Tensor)
    /// Writes `value` into every element of `destination` (any strides).
    func fill(_ destination: Tensor, with value: Scalar)
    /// `out = op(x)` elementwise; `out` has x's shape.
    func unary(_ op: UnaryOp, _ x: Tensor, into out: Tensor)
    /// `out = op(a, b)` elementwise with broadcasting (a and b may have expanded strides).
    func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into out: Tensor)
    /// `out = condition ? a : b` elementwise with broadcasting.
    func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor, into out: Tensor)
    /// Reduces `x` over `dims` into `out`, whose shape is x's with those dims set to 1.
    func reduce(_ op: ReduceOp, _ x: Tensor, dims: [Int], into out: Tensor)
    /// Max/min over one dim with indices; `values` and `indices` have x's shape with `dim` set to 1.
    func reduceWithIndex(_ op: IndexReduceOp, _ x: Tensor, dim: Int, values: Tensor, indices: Tensor)
    /// `out[b] = a[b] @ b[b]` for 3-D operands `[B, M, K] @ [B, K, N] -> [B, M, N]`, any strides.
    func matmul(_ a: Tensor, _ b: Tensor, into out: Tensor)
    /// Copies the elements of a contiguous `source` to host memory at `destination`.
    ///
    /// Throws because a device reports its asynchronous failures (a kernel fault, a lost
    /// device) at the next synchronising transfer; the CPU never throws.
    func copyToHost(_ source: Tensor, _ destination: UnsafeMutableRawPointer) throws
    /// Copies `byteCount` host bytes into the contiguous tensor `destination`.
    func copyFromHost(_ source: UnsafeRawPointer, into destination: Tensor) throws
}

/// A scalar value of any dtype, as passed to `fill` and scalar operands.
public enum Scalar: Sendable, Equatable, CustomStringConvertible {
    /// A boolean.
    case bool(Bool)
    /// An integer (any integer dtype).
    case int(Int64)
    /// A floating value (any floating dtype).
    case double(Double)

    var doubleValue: Double {
        switch self {
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return Double(i)
        case .double(let d): return d
        }
    }

    var int64Value: Int64 {
        switch self {
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return i
        case .double(let d): return truncatingToInt64(d)
        }
    }

    /// The dtype a Swift scalar has on its own: bool, int64 or float32.
    var defaultDType: DType {
        switch self {
        case .bool: return .bool
        case .int: return .int64
        case .double: return .float32
        }
    }

    func value<T: Element>(as: T.Type) -> T {
        switch self {
        case .bool(let b): return T(fromInt64: b ? 1 : 0)
        case .int(let i): return T(fromInt64: i)
        case .double(let d): return T(fromDouble: d)
        }
    }

    /// The value as Swift prints it.
    public var description: String {
        switch self {
        case .bool(let b): return b.description
        case .int(let i): return i.description
        case .double(let d): return d.description
        }
    }
}

/// Elementwise single-input kernels.
enum UnaryOp: Sendable, CaseIterable {
    case neg, exp, log, sqrt, rsqrt, sin, cos, tan, tanh, sigmoid, relu, abs, sign
    case floor, ceil, round, trunc, reciprocal, expm1, log1p, log2, erf, square
    case asin, acos, atan, sinh, cosh, asinh, acosh, atanh
    case logicalNot, isNaN, isInf, isFinite
}

/// Elementwise two-input kernels.
enum BinaryOp: Sendable, CaseIterable {
    case add, sub, mul, div, pow, maximum, minimum, remainder, floorDivide, atan2
    case eq, ne, lt, le, gt, ge
    case logicalAnd, logicalOr, logicalXor

    /// Whether the CPU backend has a kernel taking the second operand as a Swift scalar
    /// (`CPUBackend.binaryScalar`).
    var hasScalarKernel: Bool {
        switch self {
        case .add, .sub, .mul, .div, .pow: return true
        default: return false
        }
    }

    var isComparison: Bool {
        switch self {
        case .eq, .ne, .lt, .le, .gt, .ge, .logicalAnd, .logicalOr, .logicalXor: return true
        default: return false
        }
    }
}

/// Reductions over a set of dims.
enum ReduceOp: Sendable, CaseIterable {
    case sum, prod, max, min, all, any
}

/// Reductions over one dim that also return the index of the chosen element.
enum IndexReduceOp: Sendable, CaseIterable {
    case max, min
}

/// Maps devices to backends.
enum Backends {
    static let cpu = CPUBackend()

    static func backend(for device: Device) -> any DeviceBackend {
        switch device.kind {
        case .cpu:
            return cpu
        case .cuda:
            return cudaBackend(for: device)
        }
    }
}
