/// One entry of a tensor subscript: an integer, a slice, `.all`, `.ellipsis`, `.newAxis`, or
/// an index tensor (integers or a boolean mask), with PyTorch's (and NumPy's) meaning.
///
/// Swift values convert implicitly through `TensorIndexConvertible`:
/// ```swift
/// x[0]                  // select along dim 0
/// x[1..<3]              // slice (also 1...2, 1..., ..<3, negative bounds from the end)
/// x[..., 2]             // `...` (or .ellipsis) fills the remaining dims
/// x[.all, .newAxis, 0]  // `:` and None
/// x[.range(1, -1)]      // Python's x[1:-1]; .range(0, nil, step: 2) is x[::2]
/// x[mask]               // boolean mask tensor
/// x[Tensor([0, 2])]     // integer tensor (also x[[0, 2]])
/// ```
public struct TensorIndex: TensorIndexConvertible, CustomStringConvertible {
    enum Kind {
        case all, ellipsis, newAxis
        case at(Int)
        case range(start: Int?, end: Int?, step: Int)
        case tensor(Tensor)
    }

    let kind: Kind

    init(_ kind: Kind) { self.kind = kind }

    /// Itself.
    public var tensorIndex: TensorIndex { self }

    /// The index as Python would print it.
    public var description: String {
        switch kind {
        case .all: return ":"
        case .ellipsis: return "..."
        case .newAxis: return "None"
        case .at(let i): return "\(i)"
        case .range(let s, let e, let st):
            return "\(s.map(String.init) ?? ""):\(e.map(String.init) ?? "")" + (st == 1 ? "" : ":\(st)")
        case .tensor(let t): return "tensor(\(Shape.describe(t.shape)), \(t.dtype))"
        }
    }
}

/// A value that can appear in a tensor subscript (`Int`, Swift ranges, `[Int]`, `Tensor`,
/// `TensorIndex`).
public protocol TensorIndexConvertible {
    /// The index this value stands for.
    var tensorIndex: TensorIndex { get }
}

extension TensorIndexConvertible where Self == TensorIndex {
    /// Every position of one dim (Python's `:`).
    public static var all: TensorIndex { TensorIndex(.all) }
    /// As many `.all` as needed to cover the dims not otherwise indexed (Python's `...`).
    public static var ellipsis: TensorIndex { TensorIndex(.ellipsis) }
    /// A new dim of size 1 at this position (Python's `None`).
    public static var newAxis: TensorIndex { TensorIndex(.newAxis) }

    /// The single position `index` of one dim, which the result drops (negative from the end).
    public static func at(_ index: Int) -> TensorIndex { TensorIndex(.at(index)) }

    /// Python's slice `start:end:step`: negative bounds count from the end, nil means the end,
    /// out-of-range bounds clamp.
    /// - Precondition (when used): `step > 0`, as in PyTorch.
    public static func range(_ start: Int?, _ end: Int?, step: Int = 1) -> TensorIndex {
        TensorIndex(.range(start: start, end: end, step: step))
    }

    /// An index tensor: integers select positions (any shape, broadcast with the other index
    /// tensors), a bool mask selects where true.
    public static func tensor(_ index: Tensor) -> TensorIndex { TensorIndex(.tensor(index)) }
}

extension Int: TensorIndexConvertible {
    /// `.at(self)`.
    public var tensorIndex: TensorIndex { TensorIndex(.at(self)) }
}

extension Range: TensorIndexConvertible where Bound == Int {
    /// The slice `lowerBound:upperBound`.
    public var tensorIndex: TensorIndex { TensorIndex(.range(start: lowerBound, end: upperBound, step: 1)) }
}

extension ClosedRange: TensorIndexConvertible where Bound == Int {
    /// The slice `lowerBound:upperBound + 1` (through the end when upperBound is -1).
    public var tensorIndex: TensorIndex {
        TensorIndex(.range(start: lowerBound, end: upperBound == -1 ? nil : upperBound + 1, step: 1))
    }
}

extension PartialRangeFrom: TensorIndexConvertible where Bound == Int {
    /// The slice `lowerBound:`.
    public var tensorIndex: TensorIndex { TensorIndex(.range(start: lowerBound, end: nil, step: 1)) }
}

extension PartialRangeUpTo: TensorIndexConvertible where Bound == Int {
    /// The slice `:upperBound`.
    public var tensorIndex: TensorIndex { TensorIndex(.range(start: nil, end: upperBound, step: 1)) }
}

extension PartialRangeThrough: TensorIndexConvertible where Bound == Int {
    /// The slice `:upperBound + 1` (everything when upperBound is -1).
    public var tensorIndex: TensorIndex {
        TensorIndex(.range(start: nil, end: upperBound == -1 ? nil : upperBound + 1, step: 1))
    }
}

extension StrideTo: TensorIndexConvertible where Element == Int {
    /// The positions of `stride(from:to:by:)` as a slice (non-negative positions, positive step).
    public var tensorIndex: TensorIndex { strideIndex(Array(self)) }
}

extension StrideThrough: TensorIndexConvertible where Element == Int {
    /// The positions of `stride(from:through:by:)` as a slice (non-negative positions, positive step).
    public var tensorIndex: TensorIndex { strideIndex(Array(self)) }
}

/// A slice reproducing an arithmetic progression of positions; an empty one for no positions.
private func strideIndex(_ positions: [Int]) -> TensorIndex {
    guard let first = positions.first, let last = positions.last else { return TensorIndex(.range(start: 0, end: 0, step: 1)) }
    let step = positions.count > 1 ? positions[1] - first : 1
    return TensorIndex(.range(start: first, end: last + 1, step: step))
}

extension Array: TensorIndexConvertible where Element == Int {
    /// An int64 index tensor of these positions.
    public var tensorIndex: TensorIndex { TensorIndex(.tensor(Tensor(self))) }
}

extension Tensor: TensorIndexConvertible {
    /// The tensor as an index: a mask when bool, positions when integer.
    public var tensorIndex: TensorIndex { TensorIndex(.tensor(self)) }
}
