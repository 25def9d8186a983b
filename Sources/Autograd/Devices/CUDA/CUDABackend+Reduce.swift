// Reductions on CUDA: the host side of `ag_reduce` and `ag_index_reduce`
// (CUDAKernelSources+Reduce.swift), which choose each launch's shape.

/// The launch shape of one reduction: which threads share an output, how many blocks.
struct CUDAReductionPlan: Equatable {
    /// Threads along x share an output (row mode) rather than threads along y.
    var rowMode: Bool
    /// Threads per block along x and y (their product at most `threadsPerBlock`; the
    /// threads sharing an output are a power of two, a multiple of 32 in row mode).
    var block: (x: Int, y: Int)
    /// Blocks along x (outputs) and y (chunks of the reduced elements).
    var grid: (x: Int, y: Int)
    /// Reduced elements per block along grid.y.
    var chunk: Int

    static func == (a: CUDAReductionPlan, b: CUDAReductionPlan) -> Bool {
        a.rowMode == b.rowMode && a.block == b.block && a.grid == b.grid && a.chunk == b.chunk
    }

    /// The smallest power of two at least `n` (1 for n ≤ 1).
    static func powerOfTwo(atLeast n: Int) -> Int {
        var p = 1
        while p < n { p <<= 1 }
        return p
    }

    /// The plan for `outputs` results of `length` elements each.
    ///
    /// - Parameters:
    ///   - rowMode: Whether the reduced elements of one output are closer together in memory
    ///     than neighbouring outputs are.
    ///   - targetBlocks: The blocks that keep the device busy; fewer output blocks than that
    ///     split the reduced elements along grid.y (when `allowSplit`).
    init(outputs: Int, length: Int, rowMode: Bool, targetBlocks: Int, allowSplit: Bool) {
        let threads = CUDAKernelSources.threadsPerBlock
        self.rowMode = rowMode
        if rowMode {
            let x = min(max(Self.powerOfTwo(atLeast: length), 32), threads)
            block = (x, max(1, min(threads / x, Self.powerOfTwo(atLeast: outputs))))
        } else {
            let x = min(Self.powerOfTwo(atLeast: outputs), 32)
            block = (x, max(1, min(threads / x, Self.powerOfTwo(atLeast: length))))
        }
        let lanes = rowMode ? block.x : block.y
        let outputsPerBlock = rowMode ? block.y : block.x
        let blocksX = (outputs + outputsPerBlock - 1) / outputsPerBlock
        var splits = 1
        if allowSplit && blocksX < targetBlocks && length >= lanes * 64 {
            splits = min((targetBlocks + blocksX - 1) / blocksX, length / (lanes * 32), 65_535)
        }
        if splits > 1 {
            let perSplit = (length + splits - 1) / splits
            chunk = (perSplit + lanes - 1) / lanes * lanes
            splits = (length + chunk - 1) / chunk
        } else {
            chunk = max(length, 1)
        }
        grid = (max(blocksX, 1), max(splits, 1))
    }
}

extension CUDABackend {
    /// Blocks that keep every multiprocessor busy.
    var targetReductionBlocks: Int { multiprocessorCount * 4 }

    func reduce(_ op: ReduceOp, _ x: Tensor, dims: [Int], into out: Tensor) {
        reduce(op, x, dims: dims, into: out, allowSplit: true)
    }

    /// `reduce`, optionally without splitting the reduced elements across blocks (the second
    /// pass of a split reduction).
    func reduce(_ op: ReduceOp, _ x: Tensor, dims: [Int], into out: Tensor, allowSplit: Bool) {
        checkDevice(x, out, op: "reduce \(op)")
        precondition(x.dtype == out.dtype, "CUDA reduce \(op): input \(x.dtype), output \(out.dtype)")
        guard let name = CUDAKernelSources.reduceKernelName(op, x.dtype) else {
            preconditionFailure("CUDA reduce \(op) is not defined for \(x.dtype) tensors (the op layer casts first)")
        }
        let reduced = Set(dims)
        let keptDims = (0..<x.rank).filter { !reduced.contains($0) }
        let reducedDims = (0..<x.rank).filter { reduced.contains($0) }
        let keptShape = keptDims.map { x.shape[$0] }
        let kept = CUDAStridedLayout(shape: keptShape, operands: [
            (keptDims.map { out.strides[$0] }, out.offset), (keptDims.map { x.strides[$0] }, x.offset),
        ])
        let red = CUDAStridedLayout(shape: reducedDims.map { x.shape[$0] },
                                    operands: [(reducedDims.map { x.strides[$0] }, 0)])
        let outputs = kept.count, length = red.count
        guard outputs > 0 else { return }
        if kept.rank > CUDAKernelSources.maxDims || red.rank > CUDAKernelSources.maxDims {
            // Too many dims that do not coalesce: gather the kept dims first, the reduced ones
            // last, into a dense tensor whose dims coalesce into two.
            let order = keptDims + reducedDims
            let dense = x.viewing(shape: order.map { x.shape[$0] }, strides: order.map { x.strides[$0] },
                                  offset: x.offset).contiguousWithoutGrad()
            let view = dense.viewing(shape: [outputs, length], strides: [length, 1], offset: dense.offset)
            let flat = Tensor(uninitializedShape: [outputs, 1], dtype: out.dtype, device: device)
            reduce(op, view, dims: [1], into: flat, allowSplit: allowSplit)
            let shape = keptShape + [1]
            copy(flat.viewing(shape: shape, strides: Shape.contiguousStrides(shape), offset: 0),
                 into: Tensor(storage: out.storage, shape: shape, strides: keptDims.map { out.strides[$0] } + [0],
                              offset: out.offset, dtype: out.dtype))
            return
        }
        let keptInner = kept.rank == 0 ? Int.max : abs(kept.strides[1][kept.rank - 1])
        let reducedInner = red.rank == 0 ? Int.max : abs(red.strides[0][red.rank - 1])
        let rowMode = outputs == 1 || reducedInner < keptInner
        let plan = CUDAReductionPlan(outputs: outputs, length: length, rowMode: rowMode,
                                     targetBlocks: targetReductionBlocks, allowSplit: allowSplit)
        let kernel = self.kernel(name, module: "reduce_\(x.dtype)")
        if plan.grid.y == 1 {
            launchReduce(kernel, plan: plan, kept: kept, red: red, splitStride: 0, out: out, x: x)
            return
        }
        // Split: partial results [splits, kept...] (dense), then reduce them over dim 0.
        let partial = Tensor(uninitializedShape: [plan.grid.y] + keptShape, dtype: x.dtype, device: device)
        let partialKept = CUDAStridedLayout(shape: keptShape, operands: [
            (Shape.contiguousStrides(keptShape), 0), (keptDims.map { x.strides[$0] }, x.offset),
        ])
        launchReduce(kernel, plan: plan, kept: partialKept, red: red, splitStride: outputs, out: partial, x: x)
        let target = Tensor(storage: out.storage, shape: [1] + keptShape,
                            strides: [0] + keptDims.map { out.strides[$0] }, offset: out.offset, dtype: out.dtype)
        reduce(op, partial, dims: [0], into: target, allowSplit: false)
    }

    private func launchReduce(_ kernel: CUDAKernel, plan: CUDAReductionPlan, kept: CUDAStridedLayout,
                              red: CUDAStridedLayout, splitStride: Int, out: Tensor, x: Tensor) {
        let bytes = kept.packed(mode: .general) + red.packed(mode: .general)
            + CUDAStridedLayout.bytes(of: [Int64(kept.count), Int64(red.count), Int64(plan.chunk),
                                           plan.rowMode ? 1 : 0, Int64(splitStride)])
        launch(kernel, grid: (plan.grid.x, plan.grid.y, 1), block: (plan.block.x, plan.block.y, 1),
               [.bytes(bytes), .pointer(out.storage.pointer), .pointer(x.storage.pointer)])
    }

    func reduceWithIndex(_ op: IndexReduceOp, _ x: Tensor, dim: Int, values: Tensor, indices: Tensor) {
        checkDevice(x, values, indices, op: "max/min with indices")
        precondition(values.dtype == x.dtype && indices.dtype == .int64,
                     "CUDA max/min with indices: input \(x.dtype), values \(values.dtype), indices \(indices.dtype)")
        let keptDims = (0..<x.rank).filter { $0 != dim }
        let keptShape = keptDims.map { x.shape[$0] }
        let kept = CUDAStridedLayout(shape: keptShape, operands: [
            (keptDims.map { values.strides[$0] }, values.offset), (keptDims.map { indices.strides[$0] }, indices.offset),
            (keptDims.map { x.strides[$0] }, x.offset),
        ])
        let outputs = kept.count, length = x.shape[dim], stride = x.strides[dim]
        guard outputs > 0 else { return }
        if kept.rank > CUDAKernelSources.maxDims {
            let order = keptDims + [dim]
            let dense = x.viewing(shape: order.map { x.shape[$0] }, strides: order.map { x.strides[$0] },
                                  offset: x.offset).contiguousWithoutGrad()
            let view = dense.viewing(shape: [outputs, length], strides: [length, 1], offset: dense.offset)
            let v = Tensor(uninitializedShape: [outputs, 1], dtype: values.dtype, device: device)
            let i = Tensor(uninitializedShape: [outputs, 1], dtype: .int64, device: device)
            reduceWithIndex(op, view, dim: 1, values: v, indices: i)
            let shape = keptShape + [1]
            copy(v.viewing(shape: shape, strides: Shape.contiguousStrides(shape), offset: 0),
                 into: Tensor(storage: values.storage, shape: shape, strides: keptDims.map { values.strides[$0] } + [0],
                              offset: values.offset, dtype: values.dtype))
            copy(i.viewing(shape: shape, strides: Shape.contiguousStrides(shape), offset: 0),
                 into: Tensor(storage: indices.storage, shape: shape, strides: keptDims.map { indices.strides[$0] } + [0],
                              offset: indices.offset, dtype: .int64))
            return
        }
        let keptInner = kept.rank == 0 ? Int.max : abs(kept.strides[2][kept.rank - 1])
        let rowMode = outputs == 1 || abs(stride) < keptInner
        let plan = CUDAReductionPlan(outputs: outputs, length: length, rowMode: rowMode,
                                     targetBlocks: targetReductionBlocks, allowSplit: false)
        let bytes = kept.packed(mode: .general)
            + CUDAStridedLayout.bytes(of: [Int64(outputs), Int64(length), Int64(stride), rowMode ? 1 : 0])
        let name = "ag_index_reduce_\(x.dtype)_\(op == .max ? "max" : "min")"
        launch(kernel(name, module: "index_reduce"), grid: (plan.grid.x, 1, 1), block: (plan.block.x, plan.block.y, 1),
               [.bytes(bytes), .pointer(values.storage.pointer), .pointer(indices.storage.pointer),
                .pointer(x.storage.pointer)])
    }
}
