// Batched matrix products on CUDA: cuBLAS's strided-batched GEMM for float32 and float64,
// the tiled NVRTC kernel (CUDAKernelSources.matmulModule) otherwise.

/// How a row-major matrix operand is handed to cuBLAS, which is column-major.
///
/// A row-major `[rows, cols]` matrix whose columns are dense (`s2 == 1`) is, read column-major
/// with leading dimension `s1`, its own transpose; one whose rows are dense (`s1 == 1`) is the
/// matrix itself with leading dimension `s2`.
struct CUDAGEMMOperand: Equatable {
    /// Whether cuBLAS must transpose what it reads to get the row-major matrix's transpose.
    var transposed: Bool
    /// The leading dimension.
    var leadingDimension: Int

    /// The operand for a `[rows, cols]` matrix with row stride `s1` and column stride `s2`
    /// read as its transpose (the `Cᵀ = Bᵀ · Aᵀ` form), or nil when cuBLAS cannot read it in
    /// place (overlapping or doubly strided elements).
    init?(rows: Int, cols: Int, rowStride s1: Int, columnStride s2: Int) {
        if (s2 == 1 || cols <= 1) && (rows <= 1 || s1 >= max(cols, 1)) {
            transposed = false
            leadingDimension = rows <= 1 ? max(cols, 1) : s1
        } else if (s1 == 1 || rows <= 1) && (cols <= 1 || s2 >= max(rows, 1)) {
            transposed = true
            leadingDimension = cols <= 1 ? max(rows, 1) : s2
        } else {
            return nil
        }
        guard leadingDimension <= Int(Int32.max) else { return nil }
    }
}

extension CUDABackend {
    func matmul(_ a: Tensor, _ b: Tensor, into out: Tensor) {
        checkDevice(a, b, out, op: "matmul")
        precondition(a.rank == 3 && b.rank == 3 && out.rank == 3 && a.dtype == b.dtype && a.dtype == out.dtype,
                     "CUDA matmul: expects [B, M, K] @ [B, K, N] -> [B, M, N] of one dtype, got \(a.shape) \(a.dtype) @ \(b.shape) \(b.dtype) -> \(out.shape) \(out.dtype)")
        let batch = a.shape[0], m = a.shape[1], k = a.shape[2], n = b.shape[2]
        guard batch > 0 && m > 0 && n > 0 else { return }
        if k == 0 {
            fill(out, with: .int(0))
            return
        }
        if (a.dtype == .float32 || a.dtype == .float64) && Self.cuBLASEnabled && CUDALibrary.cublas.isLoaded
            && [batch, m, n, k].allSatisfy({ $0 <= Int(Int32.max) }) {
            matmulCUBLAS(a, b, into: out)
            return
        }
        matmulTiled(a, b, into: out)
    }

    /// `out = a @ b` through `cublasSgemmStridedBatched` / `cublasDgemmStridedBatched`,
    /// computing the column-major `outᵀ = bᵀ · aᵀ`; operands cuBLAS cannot read in place are
    /// made dense first, and an output it cannot write is computed into a dense temporary.
    func matmulCUBLAS(_ a: Tensor, _ b: Tensor, into out: Tensor) {
        let batch = a.shape[0], m = a.shape[1], k = a.shape[2], n = b.shape[2]
        func operand(_ t: Tensor, rows: Int, cols: Int) -> (Tensor, CUDAGEMMOperand) {
            if let form = CUDAGEMMOperand(rows: rows, cols: cols, rowStride: t.strides[1], columnStride: t.strides[2]),
               t.strides[0] >= 0 {
                return (t, form)
            }
            let dense = t.contiguousWithoutGrad()
            // Dense rows of `cols` elements: always representable.
            return (dense, CUDAGEMMOperand(rows: rows, cols: cols, rowStride: cols, columnStride: 1)!)
        }
        let (ca, fa) = operand(a, rows: m, cols: k)
        let (cb, fb) = operand(b, rows: k, cols: n)
        let outWritable = (out.strides[2] == 1 || n == 1) && (m == 1 || out.strides[1] >= n)
            && (batch == 1 || out.strides[0] >= m * n) && out.strides[1] <= Int(Int32.max)
        let target = outWritable ? out : Tensor(uninitializedShape: out.shape, dtype: out.dtype, device: device)
        let ldc = m == 1 ? max(n, 1) : target.strides[1]
        let size = a.dtype.byteCount
        let pa = UnsafeRawPointer(ca.storage.pointer + ca.offset * size)
        let pb = UnsafeRawPointer(cb.storage.pointer + cb.offset * size)
        let pc = target.storage.pointer + target.offset * size
        let strideA = batch == 1 ? 0 : ca.strides[0], strideB = batch == 1 ? 0 : cb.strides[0]
        let strideC = batch == 1 ? 0 : target.strides[0]
        let opX: CUDABLAS.Operation = fb.transposed ? .transpose : .none
        let opY: CUDABLAS.Operation = fa.transposed ? .transpose : .none
        succeed("cuBLAS GEMM [\(batch), \(m), \(k)] @ [\(batch), \(k), \(n)]") {
            let handle = try CUDABLAS.handle(device: ordinal)
            try CUDA.withDevice(ordinal) {
                try withExtendedLifetime((ca, cb, target)) {
                    if a.dtype == .float32 {
                        try CUDABLAS.sgemmStridedBatched(
                            handle, opX, opY, m: n, n: m, k: k, alpha: 1,
                            a: pb.assumingMemoryBound(to: Float.self), lda: fb.leadingDimension, strideA: strideB,
                            b: pa.assumingMemoryBound(to: Float.self), ldb: fa.leadingDimension, strideB: strideA,
                            beta: 0, c: pc.assumingMemoryBound(to: Float.self), ldc: ldc, strideC: strideC,
                            batchCount: batch)
                    } else {
                        try CUDABLAS.dgemmStridedBatched(
                            handle, opX, opY, m: n, n: m, k: k, alpha: 1,
                            a: pb.assumingMemoryBound(to: Double.self), lda: fb.leadingDimension, strideA: strideB,
                            b: pa.assumingMemoryBound(to: Double.self), ldb: fa.leadingDimension, strideB: strideA,
                            beta: 0, c: pc.assumingMemoryBound(to: Double.self), ldc: ldc, strideC: strideC,
                            batchCount: batch)
                    }
                }
            }
        }
        if !outWritable { copy(target, into: out) }
    }

    /// `out = a @ b` with the tiled kernel, reading every operand through its strides.
    func matmulTiled(_ a: Tensor, _ b: Tensor, into out: Tensor) {
        guard CUDAKernelSources.matmulDTypes.contains(a.dtype) else {
            preconditionFailure("CUDA matmul: \(a.dtype) is widened by the op layer")
        }
        let batch = a.shape[0], m = a.shape[1], k = a.shape[2], n = b.shape[2]
        let tile = CUDAKernelSources.matmulTile
        precondition((m + tile - 1) / tile <= 65_535, "CUDA matmul: \(m) rows exceed the tiled kernel's grid")
        var words: [Int64] = [batch, m, n, k].map(Int64.init)
        words += [out.offset, a.offset, b.offset].map(Int64.init)
        for t in [out, a, b] { words += t.strides.map(Int64.init) }
        launch(kernel("ag_matmul_\(a.dtype)", module: "matmul"),
               grid: ((n + tile - 1) / tile, (m + tile - 1) / tile, min(batch, 65_535)), block: (tile, tile, 1),
               [.bytes(CUDAStridedLayout.bytes(of: words)), .pointer(out.storage.pointer),
                .pointer(a.storage.pointer), .pointer(b.storage.pointer)])
    }
}
