import CKernels
/// CPU implementations of the indexing and scan kernel families.
extension CPUBackend {
    func gather(_ x: Tensor, dim: Int, index: Tensor, into out: Tensor) {
        out.dtype.visit(Gather(x: x, dim: dim, index: index, out: out))
    }

    private struct Gather: ElementVisitor {
        let x: Tensor, dim: Int, index: Tensor, out: Tensor
        func visit<T: Element>(_: T.Type) {
            if lastDimRows(T.self) { return }
            var xs = x.strides
            xs[dim] = 0
            let loop = StridedLoop(shape: index.shape, operands: [
                (out.strides, out.offset), (xs, x.offset), (index.strides, index.offset),
            ])
            let po = out.pointer(T.self), px = x.pointer(T.self), pi = index.pointer(Int64.self)
            let step = x.strides[dim]
            loop.forEachRow { off, n, st in
                var o = off
                for _ in 0..<n {
                    po[o[0]] = px[o[1] &+ Int(pi[o[2]]) &* step]
                    o &+= st
                }
            }
        }

        /// Along the last dim with contiguous index and output (picking classes, top-k style
        /// lookups): one tight loop per row, rows on all threads. `[4096, 1000]` from a
        /// `[4096, 1000]` float tensor on two threads, with the index check below: 15.8 -> 1.8 ms
        /// (PyTorch 2.6).
        private func lastDimRows<T: Element>(_: T.Type) -> Bool {
            let rank = index.rank
            guard dim == rank - 1, index.isContiguous, out.isContiguous, let n = index.shape.last, n > 0 else { return false }
            let rows = index.count / n
            // x's offset of each row, over index's leading shape (x may be larger there)
            var rowOffsets = [Int](repeating: 0, count: rows)
            var k = 0
            StridedLoop(shape: Array(index.shape.dropLast()), operands: [(Array(x.strides.dropLast()), x.offset)]).forEachRow { off, count, st in
                var o = off[0]
                for _ in 0..<count {
                    rowOffsets[k] = o
                    k += 1
                    o &+= st[0]
                }
            }
            let po = out.pointer(T.self) + out.offset, px = x.pointer(T.self), pi = index.pointer(Int64.self) + index.offset
            let step = x.strides[dim]
            rowOffsets.withUnsafeBufferPointer { rowOffsets in
                CKernelPaths.parallelFor(rows, grain: Swift.max(1, (1 << 14) / n)) { begin, end in
                    for r in begin..<end {
                        let xr = px + rowOffsets[r], ir = pi + r * n, orow = po + r * n
                        for j in 0..<n { orow[j] = xr[Int(ir[j]) &* step] }
                    }
                }
            }
            return true
        }
    }

    func scatter(_ src: Tensor, dim: Int, index: Tensor, into target: Tensor, accumulate: Bool) {
        let rank = index.rank, split = dim == 0 ? rank - 1 : 0
        if rank >= 2 && index.count >= CPUBackend.threadedElements && index.shape[split] >= 2 && ckernels_num_threads() > 1 {
            // Slabs along a dim other than `dim` on all threads: elements of different slabs
            // land in different places, and each element's contributions keep their order (the
            // same bits as one loop). [1000, 1000].scatterAdd(dim: 0) of [4096, 1000]: 14.4 ->
            // 6.1 ms (PyTorch 9.0).
            CPUBackend.onSlabs([index, src, target], dim: split) { t in
                t[2].dtype.visit(Scatter(src: t[1], dim: dim, index: t[0], target: t[2], accumulate: accumulate))
            }
            return
        }
        target.dtype.visit(Scatter(src: src, dim: dim, index: index, target: target, accumulate: accumulate))
    }

    private struct Scatter: ElementVisitor {
        let src: Tensor, dim: Int, index: Tensor, target: Tensor, accumulate: Bool
        func visit<T: Element>(_: T.Type) {
            var ts = target.strides
            ts[dim] = 0
            let loop = StridedLoop(shape: index.shape, operands: [
                (ts, target.offset), (src.strides, src.offset), (index.strides, index.offset),
            ])
            let pt = target.pointer(T.self), ps = src.pointer(T.self), pi = index.pointer(Int64.self)
            let step = target.strides[dim]
            let accumulate = self.accumulate
            loop.forEachRow { off, n, st in
                var o = off
                for _ in 0..<n {
                    let t = o[0] &+ Int(pi[o[2]]) &* step
                    pt[t] = accumulate ? ElementArithmetic.add(pt[t], ps[o[1]]) : ps[o[1]]
                    o &+= st
                }
            }
        }
    }

    func take(_ base: Tensor, offsets: Tensor, into out: Tensor) {
        out.dtype.visit(Take(base: base, offsets: offsets, out: out))
    }

    private struct Take: ElementVisitor {
        let base: Tensor, offsets: Tensor, out: Tensor
        func visit<T: Element>(_: T.Type) {
            if takeSlices(T.self) { return }
            let b = offsets.rank
            let outer = StridedLoop(shape: offsets.shape, operands: [
                (Array(out.strides.prefix(b)), out.offset), (offsets.strides, offsets.offset),
            ])
            let innerStrides = Array(out.strides.dropFirst(b))
            let po = out.pointer(T.self), px = base.pointer(T.self), pk = offsets.pointer(Int64.self)
            outer.forEachRow { off, n, st in
                var o = off
                for _ in 0..<n {
                    let inner = StridedLoop(shape: base.shape, operands: [
                        (innerStrides, o[0]), (base.strides, base.offset &+ Int(pk[o[1]])),
                    ])
                    inner.forEachRow { io, m, ist in
                        var p = io
                        for _ in 0..<m {
                            po[p[0]] = px[p[1]]
                            p &+= ist
                        }
                    }
                    o &+= st
                }
            }
        }

        /// Contiguous slices into a contiguous result (`indexSelect` along dim 0, embedding
        /// lookups, `x[indexTensor]`): one block copy per index, indices over both cores,
        /// instead of a strided loop built per index. False for other layouts.
        func takeSlices<T: Element>(_: T.Type) -> Bool {
            guard out.isContiguous, offsets.isContiguous, base.isContiguous, out.count == offsets.count * base.count else { return false }
            let m = base.count, count = offsets.count
            let po = out.pointer(T.self) + out.offset, px = base.pointer(T.self) + base.offset
            let pk = offsets.pointer(Int64.self) + offsets.offset
            CKernelPaths.parallelFor(count, grain: Swift.max(1, (1 << 15) / Swift.max(m, 1))) { begin, end in
                if m == 1 {   // single elements (x[mask], x[i, j]): loads and stores, not copies
                    for i in begin..<end { po[i] = px[Int(pk[i])] }
                } else {
                    for i in begin..<end { (po + i * m).update(from: px + Int(pk[i]), count: m) }
                }
            }
            return true
        }
    }

    func put(_ values: Tensor, offsets: Tensor, into base: Tensor, accumulate: Bool) {
        base.dtype.visit(Put(values: values, offsets: offsets, base: base, accumulate: accumulate))
    }

    private struct Put: ElementVisitor {
        let values: Tensor, offsets: Tensor, base: Tensor, accumulate: Bool
        func visit<T: Element>(_: T.Type) {
            if T.self == Float.self, putRows(Float.self) { return }
            if T.self == Double.self, putRows(Double.self) { return }
            let b = offsets.rank
            let outer = StridedLoop(shape: offsets.shape, operands: [
                (Array(values.strides.prefix(b)), values.offset), (offsets.strides, offsets.offset),
            ])
            let innerStrides = Array(values.strides.dropFirst(b))
            let pv = values.pointer(T.self), px = base.pointer(T.self), pk = offsets.pointer(Int64.self)
            let accumulate = self.accumulate
            outer.forEachRow { off, n, st in
                var o = off
                for _ in 0..<n {
                    let inner = StridedLoop(shape: base.shape, operands: [
                        (innerStrides, o[0]), (base.strides, base.offset &+ Int(pk[o[1]])),
                    ])
                    inner.forEachRow { io, m, ist in
                        var p = io
                        for _ in 0..<m {
                            px[p[1]] = accumulate ? ElementArithmetic.add(px[p[1]], pv[p[0]]) : pv[p[0]]
                            p &+= ist
                        }
                    }
                    o &+= st
                }
            }
        }

        /// Float rows: each indexed position a contiguous row of `base`, each values row
        /// contiguous (indexAdd along dim 0, embedding gradients, `x[i] += rows`). The rows go in
        /// index order, as in the loop above (repeated positions accumulate in that order, or the
        /// last write stays), split over the threads by target (`RowPutParts`) or else by
        /// columns: no two threads touch one element. False for other layouts.
        func putRows<T: FloatElement>(_: T.Type) -> Bool {
            let b = offsets.rank, m = base.count, count = offsets.count
            guard base.isContiguous, m >= 16, count > 0, Array(values.shape.dropFirst(b)) == base.shape,
                  Shape.isContiguous(shape: base.shape, strides: Array(values.strides.dropFirst(b))) else { return false }
            // each row's (values offset, base offset), in the loop's order
            var rows = [(value: Int, target: Int)]()
            rows.reserveCapacity(count)
            let pk = offsets.pointer(Int64.self)
            StridedLoop(shape: offsets.shape, operands: [
                (Array(values.strides.prefix(b)), values.offset), (offsets.strides, offsets.offset),
            ]).forEachRow { off, n, st in
                var o = off
                for _ in 0..<n {
                    rows.append((o[0], base.offset &+ Int(pk[o[1]])))
                    o &+= st
                }
            }
            let pv = values.pointer(T.self), px = base.pointer(T.self), accumulate = self.accumulate
            func put(_ src: UnsafeMutablePointer<T>, _ dst: UnsafeMutablePointer<T>, _ n: Int) {
                if accumulate {
                    if !CKernelPaths.addInPlace(dst, src, count: n) {
                        for j in 0..<n { dst[j] += src[j] }
                    }
                } else {
                    dst.update(from: src, count: n)
                }
            }
            let threads = Swift.max(1, Int(ckernels_num_threads()))
            if let parts = RowPutParts.make(rows, length: m, threads: threads) {
                // Many rows: each thread takes the rows whose target lies in its range of the
                // base, whole rows in index order ([4096 rows] into [1000, 1000]: 0.91-1.04 ->
                // 0.68-0.83 ms against column blocks, whose half rows stream worse).
                rows.withUnsafeBufferPointer { rows in
                    CKernelPaths.parallelFor(threads, grain: 1) { begin, end in
                        for row in rows where (begin..<end).contains(parts.part(of: row.target)) {
                            put(pv + row.value, px + row.target, m)
                        }
                    }
                }
                return true
            }
            // one column block per thread: each sweeps the rows once, in long runs (one thread
            // for rows that could share elements: then columns do not keep threads apart)
            let columnThreads = RowPutParts.disjoint(rows, length: m) ? threads : 1
            rows.withUnsafeBufferPointer { rows in
                CKernelPaths.parallelFor(m, grain: columnThreads == 1 ? m : Swift.max(256, (m + columnThreads - 1) / columnThreads)) { begin, end in
                    for row in rows { put(pv + row.value + begin, px + row.target + begin, end - begin) }
                }
            }
            return true
        }
    }

    // MARK: - Scans

    func scan(_ op: ScanOp, _ x: Tensor, dim: Int, into out: Tensor) {
        if x.rank == 0 {
            copy(x, into: out)
            return
        }
        switch x.dtype {
        case .float32: scanFloat(op, x, dim, out, Float.self)
        case .float64: scanFloat(op, x, dim, out, Double.self)
        case .bool, .uint8, .int8, .int16, .int32, .int64:
            x.dtype.visit(ScanInt(op: op, x: x, dim: dim, out: out))
        case .float16, .bfloat16:
            preconditionFailure("CPU scan \(op): half types are computed in float32 by the op layer")
        }
    }

    private func scanFloat<T: FloatElement>(_ op: ScanOp, _ x: Tensor, _ dim: Int, _ out: Tensor, _: T.Type) {
        if scanRows(op, x, dim, out, T.self) { return }
        if scanColumns(op, x, dim, out, T.self) { return }
        let others = (0..<x.rank).filter { $0 != dim }
        let loop = StridedLoop(shape: others.map { x.shape[$0] }, operands: [
            (others.map { out.strides[$0] }, out.offset), (others.map { x.strides[$0] }, x.offset),
        ])
        let po = out.pointer(T.self), px = x.pointer(T.self)
        let n = x.shape[dim], xs = x.strides[dim], os = out.strides[dim]
        let isSum = op == .sum
        loop.forEachRow { off, count, st in
            var o = off
            for _ in 0..<count {
                var acc: Double = isSum ? 0 : 1
                var i = o[1], j = o[0]
                for _ in 0..<n {
                    let v = Double(px[i])
                    acc = isSum ? acc + v : acc * v
                    po[j] = T(acc)
                    i &+= xs
                    j &+= os
                }
                o &+= st
            }
        }
    }

    /// The last dim of contiguous tensors, in C (`ckernels_*scan_rows`): eight rows at a time,
    /// rows split over the threads, each accumulated in double as the general loop does (so
    /// the same results).
    private func scanRows<T: FloatElement>(_ op: ScanOp, _ x: Tensor, _ dim: Int, _ out: Tensor, _: T.Type) -> Bool {
        guard dim == x.rank - 1, x.isContiguous, out.isContiguous, x.shape == out.shape else { return false }
        return CKernelPaths.scanRows(op, x, out)
    }

    /// A dim other than the last of contiguous tensors: blocks of up to 512 neighbouring columns
    /// advance together row by row (contiguous reads and writes, on all threads), each column
    /// accumulated in double in order as the general loop does (so the same results).
    private func scanColumns<T: FloatElement>(_ op: ScanOp, _ x: Tensor, _ dim: Int, _ out: Tensor, _: T.Type) -> Bool {
        guard dim < x.rank - 1, x.isContiguous, out.isContiguous, x.shape == out.shape else { return false }
        let outer = x.shape[..<dim].reduce(1, *), n = x.shape[dim], inner = x.shape[(dim + 1)...].reduce(1, *)
        let px = x.pointer(T.self) + x.offset, po = out.pointer(T.self) + out.offset
        let isSum = op == .sum, block = 512, blocks = (inner + block - 1) / block
        withExtendedLifetime((x, out)) {
            CKernelPaths.parallelFor(outer * blocks, grain: Swift.max(1, (1 << 15) / Swift.max(1, n * Swift.min(block, inner)))) { begin, end in
                let acc = UnsafeMutablePointer<Double>.allocate(capacity: block)
                defer { acc.deallocate() }
                for item in begin..<end {
                    let o = item / blocks, c0 = item % blocks * block, w = Swift.min(block, inner - c0)
                    acc.update(repeating: isSum ? 0 : 1, count: w)
                    var base = o * n * inner + c0
                    for _ in 0..<n {
                        let src = px + base, dst = po + base
                        if isSum {
                            for j in 0..<w {
                                acc[j] += Double(src[j])
                                dst[j] = T(acc[j])
                            }
                        } else {
                            for j in 0..<w {
                                acc[j] *= Double(src[j])
                                dst[j] = T(acc[j])
                            }
                        }
                        base += inner
                    }
                }
            }
        }
        return true
    }

    private struct ScanInt: ElementVisitor {
        let op: ScanOp, x: Tensor, dim: Int, out: Tensor
        func visit<T: Element>(_: T.Type) {
            let others = (0..<x.rank).filter { $0 != dim }
            let loop = StridedLoop(shape: others.map { x.shape[$0] }, operands: [
                (others.map { out.strides[$0] }, out.offset), (others.map { x.strides[$0] }, x.offset),
            ])
            let po = out.pointer(Int64.self), px = x.pointer(T.self)
            let n = x.shape[dim], xs = x.strides[dim], os = out.strides[dim]
            let isSum = op == .sum
            loop.forEachRow { off, count, st in
                var o = off
                for _ in 0..<count {
                    var acc: Int64 = isSum ? 0 : 1
                    var i = o[1], j = o[0]
                    for _ in 0..<n {
                        let v = px[i].int64Value
                        acc = isSum ? acc &+ v : acc &* v
                        po[j] = acc
                        i &+= xs
                        j &+= os
                    }
                    o &+= st
                }
            }
        }
    }
}

/// Addition for any element type, as accumulating kernels need it: floats (half types
/// widened to float32), integers wrapping, bool as logical or.
enum ElementArithmetic {
    @inline(__always)
    static func add<T: Element>(_ a: T, _ b: T) -> T {
        switch T.dtype {
        case .float64, .float32: return T(fromDouble: a.doubleValue + b.doubleValue)
        case .float16, .bfloat16: return T(fromDouble: Double(Float(a.doubleValue) + Float(b.doubleValue)))
        default: return T(fromInt64: a.int64Value &+ b.int64Value)
        }
    }
}

/// The split of many whole-row puts (`indexAdd` along dim 0, `indexPut` of rows) over `threads`
/// threads by target: target offsets in [low, high] cut into `threads` equal ranges, rows with
/// the same target in the same range, each range one thread's, so that no two threads write
/// one element and each element still gets its rows in index order. `make` gives nil for fewer
/// than 8 rows per thread, where one range would hold more than 3/4 of the rows (targets
/// bunched together: column blocks balance better), or where rows are not `disjoint`.
struct RowPutParts {
    let low: Int, span: Int, threads: Int

    /// The range (thread) that `target` belongs to.
    func part(of target: Int) -> Int { (target - low) * threads / span }

    /// The split for these rows ((values offset, target offset) pairs) of `length` elements.
    static func make(_ rows: [(value: Int, target: Int)], length: Int, threads: Int) -> RowPutParts? {
        guard threads > 1, rows.count >= 8 * threads, let low = rows.lazy.map(\.target).min(),
              let high = rows.lazy.map(\.target).max() else { return nil }
        let parts = RowPutParts(low: low, span: high - low + 1, threads: threads)
        var counts = [Int](repeating: 0, count: threads)
        for row in rows { counts[parts.part(of: row.target)] += 1 }
        return counts.max()! * 4 <= rows.count * 3 && disjoint(rows, length: length) ? parts : nil
    }

    /// Whether rows of `length` elements at these targets are the same or share no element:
    /// targets that differ only by whole rows (rows of an overlapping view would not).
    static func disjoint(_ rows: [(value: Int, target: Int)], length: Int) -> Bool {
        guard let first = rows.first?.target else { return true }
        return rows.allSatisfy { ($0.target - first) % length == 0 }
    }
}
