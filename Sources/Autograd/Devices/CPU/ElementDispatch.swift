/// Calls a generic function with the Swift type of a dtype (Swift has no generic closures, so
/// kernels implement this protocol's `visit`).
protocol ElementVisitor {
    associatedtype Result
    func visit<T: Element>(_ type: T.Type) -> Result
}

/// Integer element types: arithmetic wraps on overflow, as in PyTorch.
protocol IntElement: Element, FixedWidthInteger {}
extension UInt8: IntElement {}
extension Int8: IntElement {}
extension Int16: IntElement {}
extension Int32: IntElement {}
extension Int64: IntElement {}

extension DType {
    /// Dispatches `visitor` on the storage type of this dtype.
    func visit<V: ElementVisitor>(_ visitor: V) -> V.Result {
        switch self {
        case .bool: return visitor.visit(Bool.self)
        case .uint8: return visitor.visit(UInt8.self)
        case .int8: return visitor.visit(Int8.self)
        case .int16: return visitor.visit(Int16.self)
        case .int32: return visitor.visit(Int32.self)
        case .int64: return visitor.visit(Int64.self)
        case .float16: return visitor.visit(Half.self)
        case .bfloat16: return visitor.visit(BFloat16.self)
        case .float32: return visitor.visit(Float.self)
        case .float64: return visitor.visit(Double.self)
        }
    }
}
