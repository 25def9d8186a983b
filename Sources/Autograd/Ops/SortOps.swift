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
                let source: SortKeys
                switch keys.dtype {
                case .float32: source = .float32(keys.pointer(UInt32.self) + keys.offset)
                case .float64: source = .float64(keys.pointer(UInt64.self) + keys.offset)
                default: source = .int64(keys.pointer(Int64.self) + keys.offset)
                }
                Tensor.sortRows(rows, n, limit: limit, po, source, flip: flip)
            }
        }
        let back = d == last ? out : out.transposed(d, last).contiguous()
        return back.to(device: device)
    }

    /// Where sortRows reads its keys: rows of n contiguous elements.
    private enum SortKeys {
        case float32(UnsafePointer<UInt32>), float64(UnsafePointer<UInt64>), int64(UnsafePointer<Int64>)

        /// The keys of row `row` (n elements) into `dst`: unsigned integers in the sort's order
        /// (xor `flip`: descending is the complement), NaN above every number, -0 tied with +0.
        @inline(__always)
        func load(row: Int, _ n: Int, flip: UInt64, into dst: UnsafeMutablePointer<UInt64>) {
            switch self {
            case .float32(let p):
                let src = p + row * n, flip32 = UInt32(truncatingIfNeeded: flip)
                for i in 0..<n {   // branch-free (vectorizes)
                    var bits = src[i]
                    bits = bits & 0x7fff_ffff > 0x7f80_0000 ? 0x7fc0_0000 : bits   // every NaN alike, above +inf
                    bits = bits == 0x8000_0000 ? 0 : bits   // -0 ties with +0
                    // negative: all bits flipped; else the sign bit set
                    let negative = UInt32(bitPattern: Int32(bitPattern: bits) >> 31)
                    dst[i] = UInt64(bits ^ (negative | 0x8000_0000) ^ flip32)
                }
            case .float64(let p):
                let src = p + row * n
                for i in 0..<n {
                    var bits = src[i]
                    bits = bits & 0x7fff_ffff_ffff_ffff > 0x7ff0_0000_0000_0000 ? 0x7ff8_0000_0000_0000 : bits
                    bits = bits == 1 << 63 ? 0 : bits
                    let negative = UInt64(bitPattern: Int64(bitPattern: bits) >> 63)
                    dst[i] = bits ^ (negative | 1 << 63) ^ flip
                }
            case .int64(let p):
                let src = p + row * n
                for i in 0..<n { dst[i] = UInt64(bitPattern: src[i]) ^ (1 << 63) ^ flip }
            }
        }

        /// Whether every key fits in 32 bits (float32 rows).
        var narrow: Bool { if case .float32 = self { return true } else { return false } }
    }

    /// Sorts positions 0..<n of each of `rows` rows by key (ties by position) into `out` (rows
    /// of n int64), rows on all threads. With a `limit` of at most 32, only the first `limit`
    /// are found (a sorted buffer of the best so far, entered only by keys below its last),
    /// the rest of the row left as it was; with a larger limit below n / 2, the limit-th key by
    /// radix selection, then the keys up to it sorted (insertion up to 128, radix beyond);
    /// otherwise a stable LSD radix sort (four
    /// byte passes for float32's 32-bit keys, eight for 64-bit ones, skipping bytes every key
    /// of the row shares).
    private static func sortRows(_ rows: Int, _ n: Int, limit: Int?, _ out: UnsafeMutablePointer<Int64>,
                                 _ keys: SortKeys, flip: UInt64) {
        let top = limit.flatMap { $0 <= 32 ? $0 : nil }
        let bytes = keys.narrow ? 4 : 8
        CKernelPaths.parallelFor(rows, grain: Swift.max(1, (1 << 14) / Swift.max(1, n))) { begin, end in
            let rowKeys = UnsafeMutablePointer<UInt64>.allocate(capacity: n)
            defer { rowKeys.deallocate() }
            if let k = top {
                guard k > 0 else { return }
                let bestKeys = UnsafeMutablePointer<UInt64>.allocate(capacity: k), bestIndex = UnsafeMutablePointer<Int>.allocate(capacity: k)
                defer { bestKeys.deallocate(); bestIndex.deallocate() }
                for row in begin..<end {
                    keys.load(row: row, n, flip: flip, into: rowKeys)
                    // the k smallest (key, position), in order
                    var count = 0, worst = UInt64.max   // worst: the key to beat once full
                    for i in 0..<n {
                        let key = rowKeys[i]
                        if count == k && key >= worst { continue }
                        insert(key, i, into: bestKeys, bestIndex, from: count < k ? count : k - 1)
                        if count < k { count += 1 }
                        if count == k { worst = bestKeys[k - 1] }
                    }
                    let dst = out + row * n
                    for j in 0..<k { dst[j] = Int64(bestIndex[j]) }
                }
                return
            }
            let scratchKeys = UnsafeMutablePointer<UInt64>.allocate(capacity: n)
            let positions = UnsafeMutablePointer<Int>.allocate(capacity: 2 * n)
            let counts = UnsafeMutablePointer<Int>.allocate(capacity: 8 * 256)
            let chosen = UnsafeMutablePointer<Int>.allocate(capacity: n)
            defer { scratchKeys.deallocate(); positions.deallocate(); counts.deallocate(); chosen.deallocate() }
            for row in begin..<end {
                keys.load(row: row, n, flip: flip, into: rowKeys)
                let dst = out + row * n
                if let k = limit, k < n / 2 {
                    // topk beyond the buffer: the k-th smallest key by radix selection, the keys up
                    // to it gathered in position order, then sorted (insertion, or radix beyond 128)
                    let (kth, ties) = radixSelect(rowKeys, n, k, bytes: bytes, candidates: chosen, counts: counts)
                    var left = ties, m = 0
                    for i in 0..<n {
                        let key = rowKeys[i]
                        guard key < kth || (key == kth && left > 0) else { continue }
                        if key == kth { left -= 1 }
                        rowKeys[m] = key   // m <= i: nothing unread is overwritten
                        chosen[m] = i
                        m += 1
                    }
                    if k <= 128 {
                        // few: a stable insertion sort (equal keys keep their position order)
                        for j in 1..<k { insert(rowKeys[j], chosen[j], into: rowKeys, chosen, from: j) }
                        for j in 0..<k { dst[j] = Int64(chosen[j]) }
                        continue
                    }
                    let (_, sorted) = radixSort(rowKeys, scratchKeys, positions, k, bytes: bytes, counts: counts)
                    for j in 0..<k { dst[j] = Int64(chosen[sorted[j]]) }
                    continue
                }
                let (_, sorted) = radixSort(rowKeys, scratchKeys, positions, n, bytes: bytes, counts: counts)
                for i in 0..<n { dst[i] = Int64(sorted[i]) }
            }
        }
    }

    /// One step of a stable insertion sort: the entries of `keys` (and `positions`) before
    /// `from` that are larger than `key` move up one place (the entry at `from` is overwritten),
    /// and (key, position) goes into the gap.
    @inline(__always)
    private static func insert(_ key: UInt64, _ position: Int, into keys: UnsafeMutablePointer<UInt64>,
                               _ positions: UnsafeMutablePointer<Int>, from: Int) {
        var at = from
        while at > 0 && key < keys[at - 1] {
            keys[at] = keys[at - 1]
            positions[at] = positions[at - 1]
            at -= 1
        }
        keys[at] = key
        positions[at] = position
    }

    /// The k-th smallest of the n keys at `keys` (1 <= k <= n) and how many keys equal to it are
    /// among the k smallest, by MSD radix selection: a histogram of one byte over the candidates
    /// (at first every key), the bucket holding the k-th kept as the next candidates, one byte
    /// further down, until the last byte or until every candidate is taken. `candidates` holds
    /// n positions, `counts` 256.
    private static func radixSelect(_ keys: UnsafeMutablePointer<UInt64>, _ n: Int, _ k: Int, bytes: Int,
                                    candidates: UnsafeMutablePointer<Int>, counts: UnsafeMutablePointer<Int>) -> (UInt64, Int) {
        for i in 0..<n { candidates[i] = i }
        var count = n, need = k
        var shift = UInt64(8 * (bytes - 1))
        while true {
            counts.initialize(repeating: 0, count: 256)
            for j in 0..<count { counts[Int(truncatingIfNeeded: keys[candidates[j]] >> shift) & 0xff] += 1 }
            var below = 0, bucket = 0
            while below + counts[bucket] < need {
                below += counts[bucket]
                bucket += 1
            }
            var kept = 0
            for j in 0..<count {
                let p = candidates[j]
                if Int(truncatingIfNeeded: keys[p] >> shift) & 0xff == bucket {
                    candidates[kept] = p
                    kept += 1
                }
            }
            count = kept
            need -= below
            if shift == 0 { return (keys[candidates[0]], need) }   // the candidates share every byte
            if need == count {
                // every candidate is among the k smallest: the k-th is their largest
                var largest: UInt64 = 0, ties = 0
                for j in 0..<count {
                    let key = keys[candidates[j]]
                    if key > largest { (largest, ties) = (key, 1) } else if key == largest { ties += 1 }
                }
                return (largest, ties)
            }
            shift -= 8
        }
    }

    /// Stable LSD radix sort of the n keys at `keys` by their low `bytes` bytes, carrying their
    /// positions 0..<n; `scratch` holds n keys, `positions` 2n positions, `counts` 8 x 256.
    /// - Returns: where the sorted keys and their original positions ended up.
    private static func radixSort(_ keys: UnsafeMutablePointer<UInt64>, _ scratch: UnsafeMutablePointer<UInt64>,
                                  _ positions: UnsafeMutablePointer<Int>, _ n: Int, bytes: Int,
                                  counts: UnsafeMutablePointer<Int>) -> (UnsafeMutablePointer<UInt64>, UnsafeMutablePointer<Int>) {
        counts.initialize(repeating: 0, count: bytes * 256)
        for i in 0..<n {
            let key = keys[i]
            for b in 0..<bytes { counts[b * 256 + Int(truncatingIfNeeded: key >> (8 * b)) & 0xff] += 1 }
            positions[i] = i
        }
        var srcK = keys, dstK = scratch, srcP = positions, dstP = positions + n
        for b in 0..<bytes {
            let count = counts + b * 256, shift = UInt64(8 * b)
            if count[Int(truncatingIfNeeded: srcK[0] >> shift) & 0xff] == n { continue }   // one value: nothing moves
            var total = 0
            for d in 0..<256 { let c = count[d]; count[d] = total; total += c }
            for i in 0..<n {
                let key = srcK[i], d = Int(truncatingIfNeeded: key >> shift) & 0xff, at = count[d]
                count[d] = at + 1
                dstK[at] = key
                dstP[at] = srcP[i]
            }
            swap(&srcK, &dstK)
            swap(&srcP, &dstP)
        }
        return (srcK, srcP)
    }
}

/// Backward of `sort`'s values.
final class SortBackward0: SelectionBackward, @unchecked Sendable {}

/// Backward of `topk`'s values.
final class TopkBackward0: SelectionBackward, @unchecked Sendable {}
