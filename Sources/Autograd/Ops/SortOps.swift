// sort, argsort and topk along a dim.

extension Tensor {
    /// The elements sorted along `dim` (the last by default), ascending unless `descending`, and
    /// where each came from. The sort is stable: equal elements keep their order. NaN sorts
    /// above every number (last ascending, first descending), as in PyTorch. Values are
    /// differentiable (`SortBackward0`: the gradient goes back to each value's source); indices
    /// are int64.
    /// ```swift
    /// let (v, i) = Tensor([3.0, 1.0, 2.0]).sort()   // v = [1, 2, 3], i = [1, 2, 0]
    /// ```
    /// - Precondition: `dim` in range (a 0-d tensor takes dim 0 or -1). Every dtype sorts.
    public func sort(dim: Int = -1, descending: Bool = false) -> (values: Tensor, indices: Tensor) {
        let d = check { () throws(ShapeError) -> Int in try Shape.normalize(dim: dim, rank: Swift.max(rank, 1), op: "sort") }
        if rank == 0 {
            let (v, i) = reshaped([1]).sort(dim: 0, descending: descending)
            return (v.reshaped([]), i.reshaped([]))
        }
        let indices = sortIndices(dim: d, descending: descending)
        return (selecting(indices, dim: d, node: SortBackward0(dim: d, index: indices.clone(), inputShape: shape)), indices)
    }

    /// The indices that sort this tensor along `dim` (`sort(dim:descending:).indices`), int64.
    /// - Precondition: `dim` in range.
    public func argsort(dim: Int = -1, descending: Bool = false) -> Tensor {
        let d = check { () throws(ShapeError) -> Int in try Shape.normalize(dim: dim, rank: Swift.max(rank, 1), op: "argsort") }
        return rank == 0 ? Tensor.zeros([], dtype: .int64, device: device) : sortIndices(dim: d, descending: descending)
    }

    /// The `k` largest elements along `dim` (the smallest when `largest` is false) and their
    /// indices, in sorted order (largest first, or smallest first); ties keep their order and
    /// NaN counts as the largest value, as in PyTorch. Values are differentiable.
    /// - Precondition: `dim` in range, `0 <= k <= shape[dim]`.
    public func topk(_ k: Int, dim: Int = -1, largest: Bool = true) -> (values: Tensor, indices: Tensor) {
        let d = check { () throws(ShapeError) -> Int in try validateTopk(k, dim: dim) }
        if rank == 0 {
            let (v, i) = reshaped([1]).topk(k, dim: 0, largest: largest)
            return k == 1 ? (v.reshaped([]), i.reshaped([])) : (v, i)
        }
        let indices = sortIndices(dim: d, descending: largest, limit: k).narrow(dim: d, start: 0, length: k).contiguous()
        return (selecting(indices, dim: d, node: TopkBackward0(dim: d, index: indices.clone(), inputShape: shape)), indices)
    }

    /// The elements at `indices` along `dim`, recorded with `node` (PyTorch's node names).
    private func selecting(_ indices: Tensor, dim: Int, node: @escaping @autoclosure () -> GradFn) -> Tensor {
        let values = withNoGrad { gather(dim: dim, index: indices) }
        return Tensor.record(values, input: self) { node() }
    }

    /// Validates topk's arguments, returning the normalized dim.
    func validateTopk(_ k: Int, dim: Int) throws(ShapeError) -> Int {
        let d = try Shape.normalize(dim: dim, rank: Swift.max(rank, 1), op: "topk")
        let n = rank == 0 ? 1 : shape[d]
        guard k >= 0 && k <= n else { throw ShapeError("topk: selected index k (\(k)) out of range for dimension \(d) with size \(n)") }
        return d
    }

    /// The int64 indices of a stable sort along `dim` (host computation, rows on all threads;
    /// the result on this tensor's device).
    /// Only the first `limit` positions of each row need to be right (topk): the rest is left
    /// unspecified.
    private func sortIndices(dim d: Int, descending: Bool, limit: Int? = nil) -> Tensor {
        let n = shape[d], last = rank - 1
        // rows of n along the last dim, on the CPU
        let moved = withNoGrad { (d == last ? self : transposed(d, last)).to(device: .cpu).contiguous() }
        let rows = n == 0 ? 0 : moved.count / n
        let out = Tensor(uninitializedShape: moved.shape, dtype: .int64)
        if rows > 0 && n > 0 {
            // each element's key: an unsigned integer in the sort's order (descending: the
            // complement), NaN above every number; ties by position (stable)
            let keys = withNoGrad { () -> Tensor in
                if dtype.isFloatingPoint { return moved.convertedWithoutGrad(to: dtype == .float64 ? .float64 : .float32).contiguous() }
                return moved.convertedWithoutGrad(to: .int64).contiguous()
            }
            let po = out.pointer(Int64.self), flip: UInt64 = descending ? ~0 : 0
            withExtendedLifetime(keys) {
                switch keys.dtype {
                case .float32:
                    let pk = keys.pointer(UInt32.self) + keys.offset
                    Tensor.sortRows(rows, n, limit: limit, po) { row, i in
                        var bits = pk[row * n + i]
                        if bits & 0x7fff_ffff > 0x7f80_0000 { bits = 0x7fc0_0000 }   // every NaN alike, above +inf
                        if bits == 0x8000_0000 { bits = 0 }   // -0 ties with +0
                        let ordered = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
                        return UInt64(ordered) ^ (flip & 0xffff_ffff)
                    }
                case .float64:
                    let pk = keys.pointer(UInt64.self) + keys.offset
                    Tensor.sortRows(rows, n, limit: limit, po) { row, i in
                        var bits = pk[row * n + i]
                        if bits & 0x7fff_ffff_ffff_ffff > 0x7ff0_0000_0000_0000 { bits = 0x7ff8_0000_0000_0000 }
                        if bits == 1 << 63 { bits = 0 }
                        return (bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63)) ^ flip
                    }
                default:
                    let pk = keys.pointer(Int64.self) + keys.offset
                    Tensor.sortRows(rows, n, limit: limit, po) { row, i in UInt64(bitPattern: pk[row * n + i]) ^ (1 << 63) ^ flip }
                }
            }
        }
        let back = d == last ? out : out.transposed(d, last).contiguous()
        return back.to(device: device)
    }

    /// Sorts positions 0..<n of each of `rows` rows by `key(row, i)` (ties by position) into
    /// `out` (rows of n int64), rows on all threads. With a `limit` of at most 32, only the
    /// first `limit` are found (a sorted insertion buffer), the rest of the row left as it was.
    private static func sortRows(_ rows: Int, _ n: Int, limit: Int?, _ out: UnsafeMutablePointer<Int64>,
                                 _ key: @escaping (Int, Int) -> UInt64) {
        CKernelPaths.parallelFor(rows, grain: Swift.max(1, (1 << 14) / Swift.max(1, n))) { begin, end in
            var pairs = [(key: UInt64, index: Int)](repeating: (0, 0), count: n)
            for row in begin..<end {
                let dst = out + row * n
                if let k = limit, k <= 32 {
                    // the k smallest (key, index) in order, by insertion
                    var best: [(key: UInt64, index: Int)] = []
                    best.reserveCapacity(k + 1)
                    for i in 0..<n {
                        let e = (key: key(row, i), index: i)
                        if best.count == k, let worst = best.last, !(e.key < worst.key) { continue }
                        var at = best.count
                        while at > 0 && e.key < best[at - 1].key { at -= 1 }
                        best.insert(e, at: at)
                        if best.count > k { best.removeLast() }
                    }
                    for (j, e) in best.enumerated() { dst[j] = Int64(e.index) }
                    continue
                }
                for i in 0..<n { pairs[i] = (key(row, i), i) }
                pairs.sort { $0.key != $1.key ? $0.key < $1.key : $0.index < $1.index }
                for i in 0..<n { dst[i] = Int64(pairs[i].index) }
            }
        }
    }
}

/// Backward of `sort`'s values.
final class SortBackward0: SelectionBackward, @unchecked Sendable {}

/// Backward of `topk`'s values.
final class TopkBackward0: SelectionBackward, @unchecked Sendable {}
