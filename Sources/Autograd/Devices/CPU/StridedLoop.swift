/// Walks up to four operands laid out over one iteration shape, one innermost row at a time.
///
/// Dimensions are first coalesced (merged where every operand's strides allow) and size-1
/// dimensions dropped, so a contiguous or simply broadcast operand becomes one long row.
/// `body(offsets, count, innerStrides)` receives each operand's element offset at the row
/// start, the row length and each operand's stride along the row.
struct StridedLoop {
    var shape: [Int]
    var strides: [SIMD4<Int>]
    var base: SIMD4<Int>

    init(shape: [Int], operands: [(strides: [Int], offset: Int)]) {
        precondition(operands.count <= 4)
        var s = [SIMD4<Int>](repeating: .zero, count: shape.count)
        var b = SIMD4<Int>.zero
        for (k, op) in operands.enumerated() {
            b[k] = op.offset
            for d in 0..<shape.count { s[d][k] = op.strides[d] }
        }
        // Drop size-1 dims, then merge dim i into i+1 where stride[i] == stride[i+1] * size[i+1].
        var newShape: [Int] = []
        var newStrides: [SIMD4<Int>] = []
        for d in 0..<shape.count where shape[d] != 1 {
            if let last = newShape.last, newStrides[newStrides.count - 1] == s[d] &* SIMD4(repeating: shape[d]) {
                newShape[newShape.count - 1] = last * shape[d]
                newStrides[newStrides.count - 1] = s[d]
            } else {
                newShape.append(shape[d])
                newStrides.append(s[d])
            }
        }
        self.shape = newShape
        self.strides = newStrides
        self.base = b
    }

    /// Calls `body` for each innermost row.
    @inline(__always)
    func forEachRow(_ body: (SIMD4<Int>, Int, SIMD4<Int>) -> Void) {
        let rank = shape.count
        if rank == 0 {
            body(base, 1, .zero)
            return
        }
        if shape.contains(0) { return }
        let inner = shape[rank - 1]
        let innerStride = strides[rank - 1]
        if rank == 1 {
            body(base, inner, innerStride)
            return
        }
        var counter = [Int](repeating: 0, count: rank - 1)
        var offsets = base
        while true {
            body(offsets, inner, innerStride)
            var d = rank - 2
            while d >= 0 {
                counter[d] += 1
                offsets &+= strides[d]
                if counter[d] < shape[d] { break }
                offsets &-= strides[d] &* SIMD4(repeating: shape[d])
                counter[d] = 0
                d -= 1
            }
            if d < 0 { return }
        }
    }
}

extension Tensor {
    /// The strides and offset of this tensor read over `target` (broadcast with 0 strides).
    func operand(over target: [Int]) -> (strides: [Int], offset: Int) {
        (Shape.broadcastStrides(shape: shape, strides: strides, to: target), offset)
    }

    /// A typed pointer to element 0 of the storage (CPU only).
    @inline(__always)
    func pointer<T>(_: T.Type) -> UnsafeMutablePointer<T> {
        storage.pointer.assumingMemoryBound(to: T.self)
    }
}
