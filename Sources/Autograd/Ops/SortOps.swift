// sort, argsort and topk along a dim.

extension Tensor {
    /// The elements sorted along `dim` (the last by default), ascending unless `descending`, and
    /// where each came from. The sort is stable: equal elements keep their order. NaN sorts
    /// above every number (last ascending, first descending), as in PyTorch. Values are
    /// differentiable (the gradient goes back to each value's source, via `gather`); indices
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
        return (gather(dim: d, index: indices), indices)
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
        let indices = sortIndices(dim: d, descending: largest).narrow(dim: d, start: 0, length: k).contiguous()
        return (gather(dim: d, index: indices), indices)
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
    private func sortIndices(dim d: Int, descending: Bool) -> Tensor {
        let n = shape[d], last = rank - 1
        // rows of n along the last dim, on the CPU
        let moved = withNoGrad { (d == last ? self : transposed(d, last)).to(device: .cpu).contiguous() }
        let rows = n == 0 ? 0 : moved.count / n
        let out = Tensor(uninitializedShape: moved.shape, dtype: .int64)
        if rows > 0 && n > 0 {
            let po = out.pointer(Int64.self)
            if dtype.isFloatingPoint {
                let keys = withNoGrad { moved.convertedWithoutGrad(to: .float64).contiguous() }
                let pk = keys.pointer(Double.self) + keys.offset
                withExtendedLifetime(keys) {
                    Tensor.sortRows(rows, n, po) { row, a, b in
                        // NaN above everything; equal keys by position (stable)
                        let x = pk[row * n + a], y = pk[row * n + b]
                        if x.isNaN || y.isNaN { return x.isNaN != y.isNaN ? (descending ? x.isNaN : y.isNaN) : a < b }
                        return x == y ? a < b : (descending ? x > y : x < y)
                    }
                }
            } else {
                let keys = withNoGrad { moved.convertedWithoutGrad(to: .int64).contiguous() }
                let pk = keys.pointer(Int64.self) + keys.offset
                withExtendedLifetime(keys) {
                    Tensor.sortRows(rows, n, po) { row, a, b in
                        let x = pk[row * n + a], y = pk[row * n + b]
                        return x == y ? a < b : (descending ? x > y : x < y)
                    }
                }
            }
        }
        let back = d == last ? out : out.transposed(d, last).contiguous()
        return back.to(device: device)
    }

    /// Sorts positions 0..<n of each of `rows` rows by `before(row, a, b)` (a strict total
    /// order) into `out` (rows of n int64), rows on all threads.
    private static func sortRows(_ rows: Int, _ n: Int, _ out: UnsafeMutablePointer<Int64>,
                                 _ before: @escaping (Int, Int, Int) -> Bool) {
        CKernelPaths.parallelFor(rows, grain: Swift.max(1, (1 << 14) / Swift.max(1, n))) { begin, end in
            var order = [Int](repeating: 0, count: n)
            for row in begin..<end {
                for i in 0..<n { order[i] = i }
                order.sort { before(row, $0, $1) }
                let dst = out + row * n
                for i in 0..<n { dst[i] = Int64(order[i]) }
            }
        }
    }
}
