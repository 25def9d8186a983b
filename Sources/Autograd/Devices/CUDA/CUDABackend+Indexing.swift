// Indexing and scans on CUDA: the host side of the `index`, `index_add` and `scan` modules
// (CUDAKernelSources+Indexing.swift), replacing the host-staged defaults.

extension CUDABackend {
    // MARK: - Index errors

    /// Runs `body` with a cleared 16-byte device error slot (see `ag_report_index`), waits
    /// for the kernels it queued, and returns the first out-of-range value they reported.
    ///
    /// Reading the slot synchronises with the device: the price of a clear error at the op
    /// that caused it instead of a fault at some later call.
    func reportedIndexError(_ body: (UnsafeMutableRawPointer) -> Void) -> Int64? {
        let slot = succeed("allocating the index error slot") { try allocate(byteCount: 16) }
        defer { deallocate(slot, byteCount: 16) }
        succeed("clearing the index error slot") {
            try CUDA.withDevice(ordinal) { try CUDARuntime.memsetAsync(slot, value: 0, byteCount: 16) }
        }
        body(slot)
        var words: (UInt64, UInt64) = (0, 0)
        succeed("reading the index error slot") {
            try withUnsafeMutableBytes(of: &words) { host in
                // A 16-byte tuple, so the base address is not nil.
                try CUDA.copyDeviceToHost(from: slot, to: host.baseAddress!, byteCount: 16, device: ordinal)
            }
        }
        return words.0 == 0 ? nil : Int64(bitPattern: words.1)
    }

    /// The kernel-name suffix of an index tensor's dtype.
    private func indexSuffix(_ index: Tensor, op: String) -> String {
        guard let suffix = CUDAKernelSources.indexSuffix(index.dtype) else {
            preconditionFailure("CUDA \(op): index tensors must be int32 or int64 (got \(index.dtype))")
        }
        return suffix
    }

    /// Launches a kernel taking `ag_layout<3>` then `pointers` then `extra`, once per slice of
    /// a layout with more dims than the kernels hold.
    private func launchIndexed(_ kernel: CUDAKernel, layout: CUDAStridedLayout, tensors: [Tensor],
                               extra: [CUDAKernelArgument]) {
        guard layout.count > 0 else { return }
        let bases = tensors.map { CUDAKernelArgument.pointer(UnsafeRawPointer($0.storage.pointer)) }
        for slice in layout.slices(maxRank: CUDAKernelSources.maxDims) {
            launch(kernel, grid: (elementwiseBlocks(work: slice.count), 1, 1),
                   block: (CUDAKernelSources.threadsPerBlock, 1, 1),
                   [.bytes(slice.packed(mode: .general))] + bases + extra)
        }
    }

    // MARK: - gather / scatter

    func gather(_ x: Tensor, dim: Int, index: Tensor, into out: Tensor) {
        check { () throws(ShapeError) in try gatherChecked(x, dim: dim, index: index, into: out) }
    }

    /// `gather`, throwing the CPU's message when the kernel met an index outside
    /// `0..<x.shape[dim]` (the op layer checks first; this guards direct backend calls).
    ///
    /// - Throws: `ShapeError` "gather: index I is out of bounds for dimension D with size S".
    func gatherChecked(_ x: Tensor, dim: Int, index: Tensor, into out: Tensor) throws(ShapeError) {
        checkDevice(x, index, out, op: "gather")
        precondition(x.dtype == out.dtype && index.shape == out.shape && x.rank == index.rank,
                     "CUDA gather: x \(x.dtype) \(x.shape), index \(index.shape), out \(out.dtype) \(out.shape)")
        var xs = x.strides
        xs[dim] = 0
        let layout = CUDAStridedLayout(shape: index.shape, operands: [
            (out.strides, out.offset), (xs, x.offset), (index.strides, index.offset),
        ])
        let name = "ag_index_gather_\(x.dtype.byteCount)_\(indexSuffix(index, op: "gather"))"
        let size = x.shape[dim]
        let bad = reportedIndexError { slot in
            launchIndexed(kernel(name, module: "index"), layout: layout, tensors: [out, x, index],
                          extra: [.int64(Int64(x.strides[dim])), .int64(Int64(size)), .pointer(slot)])
        }
        if let bad { throw ShapeError("gather: index \(bad) is out of bounds for dimension \(dim) with size \(size)") }
    }

    func scatter(_ src: Tensor, dim: Int, index: Tensor, into target: Tensor, accumulate: Bool) {
        check { () throws(ShapeError) in
            try scatterChecked(src, dim: dim, index: index, into: target, accumulate: accumulate)
        }
    }

    /// `scatter`, throwing the CPU's message for an index outside `0..<target.shape[dim]`.
    /// Accumulation uses atomics (compare-and-swap on 32-bit words for 1- and 2-byte dtypes),
    /// so float sums may differ from the CPU's in the last bits when indices repeat.
    ///
    /// - Throws: `ShapeError` "scatter: index I is out of bounds for dimension D with size S"
    ///   (`scatter_add` when accumulating).
    func scatterChecked(_ src: Tensor, dim: Int, index: Tensor, into target: Tensor,
                        accumulate: Bool) throws(ShapeError) {
        let op = accumulate ? "scatter_add" : "scatter"
        checkDevice(src, index, target, op: op)
        precondition(src.dtype == target.dtype && src.rank == index.rank && target.rank == index.rank,
                     "CUDA \(op): src \(src.dtype) \(src.shape), index \(index.shape), target \(target.dtype) \(target.shape)")
        var ts = target.strides
        ts[dim] = 0
        let layout = CUDAStridedLayout(shape: index.shape, operands: [
            (ts, target.offset), (src.strides, src.offset), (index.strides, index.offset),
        ])
        let suffix = indexSuffix(index, op: op)
        let kernel = accumulate
            ? self.kernel("ag_index_add_scatter_\(target.dtype)_\(suffix)", module: "index_add")
            : self.kernel("ag_index_scatter_\(target.dtype.byteCount)_\(suffix)", module: "index")
        let size = target.shape[dim]
        let bad = reportedIndexError { slot in
            launchIndexed(kernel, layout: layout, tensors: [target, src, index],
                          extra: [.int64(Int64(target.strides[dim])), .int64(Int64(size)), .pointer(slot)])
        }
        if let bad { throw ShapeError("\(op): index \(bad) is out of bounds for dimension \(dim) with size \(size)") }
    }

    // MARK: - take / put

    /// The layout of `take`/`put` over `offsets.shape + base.shape`: operand 0 the batched
    /// tensor (`out` or `values`), operand 1 `base` (not moving along the batch dims),
    /// operand 2 the offsets (not moving along base's dims).
    private func offsetLayout(batched: Tensor, base: Tensor, offsets: Tensor) -> CUDAStridedLayout {
        let b = offsets.rank
        return CUDAStridedLayout(shape: offsets.shape + base.shape, operands: [
            (batched.strides, batched.offset),
            ([Int](repeating: 0, count: b) + base.strides, base.offset),
            (offsets.strides + [Int](repeating: 0, count: base.rank), offsets.offset),
        ])
    }

    func take(_ base: Tensor, offsets: Tensor, into out: Tensor) {
        check { () throws(ShapeError) in try takeChecked(base, offsets: offsets, into: out) }
    }

    /// `take`, throwing when an element position falls outside base's storage.
    ///
    /// - Throws: `ShapeError` "index: element offset P is out of bounds for a storage of N elements".
    func takeChecked(_ base: Tensor, offsets: Tensor, into out: Tensor) throws(ShapeError) {
        checkDevice(base, offsets, out, op: "index")
        precondition(base.dtype == out.dtype && out.shape == offsets.shape + base.shape,
                     "CUDA index: base \(base.dtype) \(base.shape), offsets \(offsets.shape), out \(out.dtype) \(out.shape)")
        let layout = offsetLayout(batched: out, base: base, offsets: offsets)
        let limit = base.storage.byteCount / base.dtype.byteCount
        let name = "ag_index_take_\(base.dtype.byteCount)_\(indexSuffix(offsets, op: "index"))"
        let bad = reportedIndexError { slot in
            launchIndexed(kernel(name, module: "index"), layout: layout, tensors: [out, base, offsets],
                          extra: [.int64(Int64(limit)), .pointer(slot)])
        }
        if let bad { throw ShapeError("index: element offset \(bad) is out of bounds for a storage of \(limit) elements") }
    }

    func put(_ values: Tensor, offsets: Tensor, into base: Tensor, accumulate: Bool) {
        check { () throws(ShapeError) in try putChecked(values, offsets: offsets, into: base, accumulate: accumulate) }
    }

    /// `put`, throwing when an element position falls outside base's storage. Accumulation
    /// uses atomics, as `scatterChecked`.
    ///
    /// - Throws: `ShapeError` "index_put: element offset P is out of bounds for a storage of N elements".
    func putChecked(_ values: Tensor, offsets: Tensor, into base: Tensor, accumulate: Bool) throws(ShapeError) {
        checkDevice(values, offsets, base, op: "index_put")
        precondition(base.dtype == values.dtype && values.shape == offsets.shape + base.shape,
                     "CUDA index_put: base \(base.dtype) \(base.shape), offsets \(offsets.shape), values \(values.dtype) \(values.shape)")
        let layout = offsetLayout(batched: values, base: base, offsets: offsets)
        let limit = base.storage.byteCount / base.dtype.byteCount
        let suffix = indexSuffix(offsets, op: "index_put")
        let kernel = accumulate
            ? self.kernel("ag_index_add_put_\(base.dtype)_\(suffix)", module: "index_add")
            : self.kernel("ag_index_put_\(base.dtype.byteCount)_\(suffix)", module: "index")
        let bad = reportedIndexError { slot in
            launchIndexed(kernel, layout: layout, tensors: [values, base, offsets],
                          extra: [.int64(Int64(limit)), .pointer(slot)])
        }
        if let bad {
            throw ShapeError("index_put: element offset \(bad) is out of bounds for a storage of \(limit) elements")
        }
    }

    // MARK: - Scans

    func scan(_ op: ScanOp, _ x: Tensor, dim: Int, into out: Tensor) {
        checkDevice(x, out, op: "scan")
        if x.rank == 0 {
            copy(x, into: out)
            return
        }
        guard CUDAKernelSources.computeDTypes.contains(x.dtype) else {
            preconditionFailure("CUDA scan \(op): half types are computed in float32 by the op layer")
        }
        let expected: DType = x.dtype.isFloatingPoint ? x.dtype : .int64
        precondition(out.dtype == expected && out.shape == x.shape,
                     "CUDA scan \(op): input \(x.dtype) \(x.shape), output \(out.dtype) \(out.shape)")
        let others = (0..<x.rank).filter { $0 != dim }
        let lines = CUDAStridedLayout(shape: others.map { x.shape[$0] }, operands: [
            (others.map { out.strides[$0] }, out.offset), (others.map { x.strides[$0] }, x.offset),
        ])
        let length = x.shape[dim]
        let perBlock = CUDAScanPlan.usesBlocks(lines: lines.count, length: length, lineStride: x.strides[dim],
                                               otherStrides: others.map { x.strides[$0] },
                                               multiprocessors: multiprocessorCount)
        let name = "ag_scan_\(perBlock ? "block_" : "")\(x.dtype)_\(op == .sum ? "sum" : "prod")"
        let extra: [CUDAKernelArgument] = [.int64(Int64(length)), .int64(Int64(x.strides[dim])),
                                           .int64(Int64(out.strides[dim]))]
        let kernel = self.kernel(name, module: "scan")
        for slice in lines.slices(maxRank: CUDAKernelSources.maxDims) {
            let threads = perBlock ? CUDAKernelSources.threadsPerBlock : 64
            // A block per line, or one thread per line in small blocks (so that a few lines
            // still spread over the multiprocessors).
            let blocks = perBlock ? min(slice.count, multiprocessorCount * 32)
                                  : min((slice.count + threads - 1) / threads, multiprocessorCount * 64)
            launch(kernel, grid: (max(blocks, 1), 1, 1), block: (threads, 1, 1),
                   [.bytes(slice.packed(mode: .general)), .pointer(out.storage.pointer), .pointer(x.storage.pointer)]
                   + extra)
        }
    }
}

/// How a scan is spread over the device.
enum CUDAScanPlan {
    /// Whether each line gets a block (`ag_scan_block`) rather than a thread (`ag_scan`):
    /// for lines of at least 64 elements that are either few (a thread each would leave the
    /// device idle) or contiguous in memory (threads walking neighbouring lines would not
    /// read together).
    static func usesBlocks(lines: Int, length: Int, lineStride: Int, otherStrides: [Int],
                           multiprocessors: Int) -> Bool {
        guard length >= 64 else { return false }
        let closest = otherStrides.map(abs).filter { $0 > 0 }.min() ?? Int.max
        return lines < multiprocessors * 32 || abs(lineStride) < closest
    }
}
