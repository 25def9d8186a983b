/// A Swift number type that tensors can be built from and read into.
///
/// `Int` and `Int64` map to `.int64`, `Int32` to `.int32`, `Float` to `.float32`, `Double` to
/// `.float64` when given explicitly in `Tensor(shape:scalars:)` (literals in `Tensor(_:)` follow
/// PyTorch: floating literals become `.float32`), `Bool` to `.bool`.
public protocol TensorScalar: Sendable {
    /// The dtype whose elements have exactly this type's memory layout.
    static var tensorDType: DType { get }
}

extension Bool: TensorScalar { public static var tensorDType: DType { .bool } }
extension UInt8: TensorScalar { public static var tensorDType: DType { .uint8 } }
extension Int8: TensorScalar { public static var tensorDType: DType { .int8 } }
extension Int16: TensorScalar { public static var tensorDType: DType { .int16 } }
extension Int32: TensorScalar { public static var tensorDType: DType { .int32 } }
extension Int64: TensorScalar { public static var tensorDType: DType { .int64 } }
extension Int: TensorScalar { public static var tensorDType: DType { .int64 } }
extension Half: TensorScalar { public static var tensorDType: DType { .float16 } }
extension BFloat16: TensorScalar { public static var tensorDType: DType { .bfloat16 } }
extension Float: TensorScalar { public static var tensorDType: DType { .float32 } }
extension Double: TensorScalar { public static var tensorDType: DType { .float64 } }

/// Values `Tensor(_:)` accepts: Swift scalars and (nested) arrays of them.
///
/// ```swift
/// Tensor([[1, 2], [3, 4]])     // int64, shape [2, 2]
/// Tensor([0.5, 1.5])           // float32 (PyTorch's default floating dtype)
/// ```
public protocol TensorLiteralConvertible {
    /// The dtype PyTorch would give this literal: Int → int64, floating → float32, Bool → bool.
    static var literalDType: DType { get }
    /// Appends this value's shape (below `depth`) and elements; internal detail of `Tensor(_:)`.
    func appendTensorLiteral(shape: inout [Int], depth: Int, into buffer: inout TensorLiteralBuffer)
}

/// Collects the elements of a nested array literal; an implementation detail of `Tensor(_:)`.
public struct TensorLiteralBuffer {
    var doubles: [Double] = []
    var ints: [Int64] = []
    var shapeKnown: [Bool] = []
}

extension TensorLiteralConvertible where Self: BinaryFloatingPoint {
    /// Floating literals become float32, PyTorch's default.
    public static var literalDType: DType { .float32 }
}

extension Double: TensorLiteralConvertible {
    /// Appends the element.
    public func appendTensorLiteral(shape: inout [Int], depth: Int, into buffer: inout TensorLiteralBuffer) {
        buffer.doubles.append(self)
    }
}

extension Float: TensorLiteralConvertible {
    /// Appends the element.
    public func appendTensorLiteral(shape: inout [Int], depth: Int, into buffer: inout TensorLiteralBuffer) {
        buffer.doubles.append(Double(self))
    }
}

extension Int: TensorLiteralConvertible {
    /// Integer literals become int64.
    public static var literalDType: DType { .int64 }
    /// Appends the element.
    public func appendTensorLiteral(shape: inout [Int], depth: Int, into buffer: inout TensorLiteralBuffer) {
        buffer.ints.append(Int64(self))
    }
}

extension Int64: TensorLiteralConvertible {
    /// Int64 values become int64.
    public static var literalDType: DType { .int64 }
    /// Appends the element.
    public func appendTensorLiteral(shape: inout [Int], depth: Int, into buffer: inout TensorLiteralBuffer) {
        buffer.ints.append(self)
    }
}

extension Int32: TensorLiteralConvertible {
    /// Int32 values become int32.
    public static var literalDType: DType { .int32 }
    /// Appends the element.
    public func appendTensorLiteral(shape: inout [Int], depth: Int, into buffer: inout TensorLiteralBuffer) {
        buffer.ints.append(Int64(self))
    }
}

extension Bool: TensorLiteralConvertible {
    /// Bool values become bool.
    public static var literalDType: DType { .bool }
    /// Appends the element.
    public func appendTensorLiteral(shape: inout [Int], depth: Int, into buffer: inout TensorLiteralBuffer) {
        buffer.ints.append(self ? 1 : 0)
    }
}

extension Array: TensorLiteralConvertible where Element: TensorLiteralConvertible {
    /// The element type's dtype.
    public static var literalDType: DType { Element.literalDType }

    /// Appends the elements, recording (or checking) the length at `depth`.
    public func appendTensorLiteral(shape: inout [Int], depth: Int, into buffer: inout TensorLiteralBuffer) {
        if depth == shape.count {
            shape.append(count)
            buffer.shapeKnown.append(true)
        } else {
            precondition(shape[depth] == count,
                         "Tensor(_:): nested arrays must be rectangular: expected a sequence of length \(shape[depth]) at dim \(depth) (got \(count))")
        }
        for element in self {
            element.appendTensorLiteral(shape: &shape, depth: depth + 1, into: &buffer)
        }
    }
}
