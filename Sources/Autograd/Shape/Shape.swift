/// Shape arithmetic shared by ops and kernels.
enum Shape {
    /// The number of elements of `shape` (1 for a 0-d shape).
    static func count(_ shape: [Int]) -> Int {
        var n = 1
        for d in shape { n *= d }
        return n
    }

    /// Row-major strides for `shape`.
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = s
            s *= Swift.max(shape[i], 1)
        }
        return strides
    }

    /// Whether `strides` describe a dense row-major layout of `shape` (size-1 dims ignored).
    static func isContiguous(shape: [Int], strides: [Int]) -> Bool {
        var expected = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            if shape[i] == 1 { continue }
            if shape[i] == 0 { return true }
            if strides[i] != expected { return false }
            expected *= shape[i]
        }
        return true
    }

    /// Formats a shape as PyTorch users read it: `[2, 3]`.
    static func describe(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }

    /// Normalizes a possibly negative dimension index, or throws naming the op.
    static func normalize(dim: Int, rank: Int, op: String) throws(ShapeError) -> Int {
        let r = Swift.max(rank, 1)
        guard dim >= -r && dim < r else {
            throw ShapeError("\(op): dimension out of range (expected to be in range of [\(-r), \(r - 1)], but got \(dim))")
        }
        return dim < 0 ? dim + r : dim
    }

    /// The broadcast shape of `a` and `b` (NumPy/PyTorch rules), or throws naming the op.
    static func broadcast(_ a: [Int], _ b: [Int], op: String) throws(ShapeError) -> [Int] {
        let n = Swift.max(a.count, b.count)
        var result = [Int](repeating: 1, count: n)
        for i in 0..<n {
            let da = i < n - a.count ? 1 : a[i - (n - a.count)]
            let db = i < n - b.count ? 1 : b[i - (n - b.count)]
            if da == db || db == 1 {
                result[i] = da
            } else if da == 1 {
                result[i] = db
            } else {
                throw ShapeError("\(op): the size of tensor a (\(da)) must match the size of tensor b (\(db)) at non-singleton dimension \(i); shapes \(describe(a)) and \(describe(b))")
            }
        }
        return result
    }

    /// Strides that read a tensor of `shape`/`strides` as if expanded to `target` (0 where broadcast).
    static func broadcastStrides(shape: [Int], strides: [Int], to target: [Int]) -> [Int] {
        let lead = target.count - shape.count
        var result = [Int](repeating: 0, count: target.count)
        for i in 0..<shape.count where shape[i] != 1 || target[lead + i] == 1 {
            result[lead + i] = shape[i] == 1 ? 0 : strides[i]
        }
        return result
    }
}

/// A shape, dimension or argument error detected by an op's validator. Operators trap with its
/// message; tests call the validators directly to reach the failure path.
public struct ShapeError: Error, CustomStringConvertible, Equatable {
    /// The message, naming the op and the offending shapes or values.
    public let message: String
    init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

/// Runs a throwing validator; a failure is a programmer error, so it traps with the message.
@inline(__always)
func check<T>(_ body: () throws(ShapeError) -> T) -> T {
    do {
        return try body()
    } catch {
        preconditionFailure(error.message)
    }
}
