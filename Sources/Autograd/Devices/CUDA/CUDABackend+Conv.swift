// Sliding windows and row lookups on CUDA: the host side of the `window` module and of the
// row kernels of `index`/`index_add` (CUDAKernelSources+Indexing.swift), replacing the
// host-staged defaults of `ConvKernels`. Convolution itself is im2col + cuBLAS GEMM (the op
// layer), pooling is im2col + reductions.

extension CUDABackend {
    /// The bytes of `ag_window`: the geometry, x's strides and offset, the columns' strides
    /// and offset.
    private func windowBytes(_ g: WindowGeometry, x: (strides: [Int], offset: Int),
                             cols: (strides: [Int], offset: Int)) -> [UInt8] {
        let words = [g.batch, g.channels, g.height, g.width, g.kernelH, g.kernelW, g.strideH, g.strideW,
                     g.paddingH, g.paddingW, g.dilationH, g.dilationW, g.outH, g.outW]
            + x.strides + [x.offset] + Array(cols.strides.prefix(2)) + [cols.offset]
        return CUDAStridedLayout.bytes(of: words.map(Int64.init))
    }

    /// The floating dtype suffix of a window kernel.
    private func windowDType(_ dtype: DType, op: String) -> DType {
        guard dtype == .float32 || dtype == .float64 else {
            preconditionFailure("CUDA \(op): \(dtype) is not a floating compute dtype")
        }
        return dtype
    }

    func im2col(_ x: Tensor, geometry g: WindowGeometry, padValue: Double, into cols: Tensor) {
        checkDevice(x, cols, op: "im2col")
        precondition(cols.shape == g.columnShape && cols.strides[2] == 1 && x.shape == g.imageShape && x.dtype == cols.dtype,
                     "CUDA im2col: x \(x.shape) and columns \(cols.shape) (unit inner stride) expected for \(g)")
        let dtype = windowDType(x.dtype, op: "im2col")
        let total = cols.count
        guard total > 0 else { return }
        launch(kernel("ag_window_im2col_\(dtype)", module: "window"), grid: (elementwiseBlocks(work: total), 1, 1),
               block: (CUDAKernelSources.threadsPerBlock, 1, 1),
               [.bytes(windowBytes(g, x: (x.strides, x.offset), cols: (cols.strides, cols.offset))),
                .pointer(cols.storage.pointer), .pointer(x.storage.pointer), .double(padValue)])
    }

    func col2im(_ cols: Tensor, geometry g: WindowGeometry, into image: Tensor) {
        checkDevice(cols, image, op: "col2im")
        precondition(image.isContiguous && image.shape == g.imageShape && cols.shape == g.columnShape
                     && cols.strides[2] == 1 && image.dtype == cols.dtype,
                     "CUDA col2im: a contiguous image and columns with unit inner stride expected")
        let dtype = windowDType(cols.dtype, op: "col2im")
        let total = image.count
        guard total > 0 else { return }
        let strides = Shape.contiguousStrides(image.shape)
        launch(kernel("ag_window_col2im_\(dtype)", module: "window"), grid: (elementwiseBlocks(work: total), 1, 1),
               block: (CUDAKernelSources.threadsPerBlock, 1, 1),
               [.bytes(windowBytes(g, x: (strides, 0), cols: (cols.strides, cols.offset))),
                .pointer(image.storage.pointer + image.offset * dtype.byteCount), .pointer(cols.storage.pointer)])
    }

    // MARK: - Rows

    func gatherRows(_ source: Tensor, indices: Tensor, into out: Tensor) {
        check { () throws(ShapeError) in try gatherRowsChecked(source, indices: indices, into: out) }
    }

    /// `gatherRows`, throwing the CPU embedding's message for an index outside `0..<V`.
    ///
    /// - Throws: `ShapeError` "embedding: index I is out of range for V embeddings".
    func gatherRowsChecked(_ source: Tensor, indices: Tensor, into out: Tensor) throws(ShapeError) {
        checkDevice(source, indices, out, op: "embedding")
        precondition(source.isContiguous && indices.isContiguous && out.isContiguous && source.dtype == out.dtype,
                     "CUDA gatherRows: contiguous operands of one dtype expected")
        let m = indices.count
        guard m > 0, out.count > 0 else { return }
        let width = out.count / m
        let rows = width == 0 ? 0 : source.count / width
        let size = out.dtype.byteCount
        let name = "ag_index_gather_rows_\(size)_\(indexSuffix(indices))"
        let bad = reportedIndexError { slot in
            launch(kernel(name, module: "index"), grid: (elementwiseBlocks(work: out.count), 1, 1),
                   block: (CUDAKernelSources.threadsPerBlock, 1, 1),
                   [.pointer(out.storage.pointer + out.offset * size), .pointer(source.storage.pointer + source.offset * size),
                    .pointer(indices.storage.pointer + indices.offset * indices.dtype.byteCount),
                    .int64(Int64(rows)), .int64(Int64(width)), .int64(Int64(out.count)), .pointer(slot)])
        }
        if let bad { throw ShapeError("embedding: index \(bad) is out of range for \(rows) embeddings") }
    }

    func scatterAddRows(_ source: Tensor, indices: Tensor, into out: Tensor) {
        check { () throws(ShapeError) in try scatterAddRowsChecked(source, indices: indices, into: out) }
    }

    /// `scatterAddRows` with atomic float adds (rows that repeat may sum in another order than
    /// the CPU's), throwing the CPU embedding's message for an index outside `0..<V`.
    ///
    /// - Throws: `ShapeError` "embedding: index I is out of range for V embeddings".
    func scatterAddRowsChecked(_ source: Tensor, indices: Tensor, into out: Tensor) throws(ShapeError) {
        checkDevice(source, indices, out, op: "embedding backward")
        precondition(source.isContiguous && indices.isContiguous && out.isContiguous && source.dtype == out.dtype,
                     "CUDA scatterAddRows: contiguous operands of one dtype expected")
        let dtype = windowDType(source.dtype, op: "scatterAddRows")
        let m = indices.count
        guard m > 0, source.count > 0 else { return }
        let width = source.count / m
        let rows = out.count / width
        let size = dtype.byteCount
        let name = "ag_index_add_rows_\(dtype)_\(indexSuffix(indices))"
        let bad = reportedIndexError { slot in
            launch(kernel(name, module: "index_add"), grid: (elementwiseBlocks(work: source.count), 1, 1),
                   block: (CUDAKernelSources.threadsPerBlock, 1, 1),
                   [.pointer(out.storage.pointer + out.offset * size), .pointer(source.storage.pointer + source.offset * size),
                    .pointer(indices.storage.pointer + indices.offset * indices.dtype.byteCount),
                    .int64(Int64(rows)), .int64(Int64(width)), .int64(Int64(source.count)), .pointer(slot)])
        }
        if let bad { throw ShapeError("embedding: index \(bad) is out of range for \(rows) embeddings") }
    }

    private func indexSuffix(_ indices: Tensor) -> String {
        guard let suffix = CUDAKernelSources.indexSuffix(indices.dtype) else {
            preconditionFailure("CUDA embedding: indices must be int32 or int64 (got \(indices.dtype))")
        }
        return suffix
    }
}
