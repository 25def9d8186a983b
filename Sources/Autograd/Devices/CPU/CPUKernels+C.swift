import CKernels

/// The CPU backend's entries into the CKernels target (AVX2/FMA, AVX-512 or NEON chosen at run
/// time, one process-wide thread pool honoring `AUTOGRAD_NUM_THREADS`): GEMM, and contiguous
/// element-wise and sum fast paths. Each entry returns `false` when its case is not covered
/// (dtype, layout, op), and the caller then runs the generic Swift loop, which stays the
/// reference implementation the tests compare these paths against.
enum CKernelPaths {
    /// Below this many elements the unary transcendental functions keep libm's results (the
    /// vectorized ones are within 2 ulp of them, not bit-identical), and small tensors skip the
    /// call overhead.
    static let unaryThreshold = 32

    // MARK: - GEMM

    /// `out[b] = a[b] @ b[b]` for 3-D float32/float64 operands with any strides.
    static func matmul(_ a: Tensor, _ b: Tensor, _ out: Tensor) -> Bool {
        guard a.dtype == b.dtype, a.dtype == out.dtype, a.dtype == .float32 || a.dtype == .float64 else { return false }
        let batch = a.shape[0], m = a.shape[1], k = a.shape[2], n = b.shape[2]
        // Distinct (i, j) of the output must be distinct elements: true for fresh outputs;
        // a broadcast (stride 0) output dimension of extent > 1 goes to the Swift loop.
        if (batch > 1 && out.strides[0] == 0) || (m > 1 && out.strides[1] == 0) || (n > 1 && out.strides[2] == 0) { return false }
        let status: Int32
        if a.dtype == .float32 {
            status = withExtendedLifetime((a, b, out)) {
                ckernels_sgemm_batched(batch, m, n, k, 1,
                                       a.pointer(Float.self) + a.offset, a.strides[0], a.strides[1], a.strides[2],
                                       b.pointer(Float.self) + b.offset, b.strides[0], b.strides[1], b.strides[2],
                                       0, out.pointer(Float.self) + out.offset, out.strides[0], out.strides[1], out.strides[2])
            }
        } else {
            status = withExtendedLifetime((a, b, out)) {
                ckernels_dgemm_batched(batch, m, n, k, 1,
                                       a.pointer(Double.self) + a.offset, a.strides[0], a.strides[1], a.strides[2],
                                       b.pointer(Double.self) + b.offset, b.strides[0], b.strides[1], b.strides[2],
                                       0, out.pointer(Double.self) + out.offset, out.strides[0], out.strides[1], out.strides[2])
            }
        }
        // ENOMEM (packing buffers) leaves `out` unchanged: the Swift loop then computes it.
        return status == CKERNELS_OK
    }

    // MARK: - Element-wise

    private static func code(_ op: BinaryOp) -> Int32? {
        switch op {
        case .add: return CKERNELS_ADD
        case .sub: return CKERNELS_SUB
        case .mul: return CKERNELS_MUL
        case .div: return CKERNELS_DIV
        // CPUKernels.power's rule; float32 within 0.5 + 2^-20 ulp of the exact power (libm's
        // powf where the base is not positive and finite), float64 libm's pow (the same bits)
        case .pow: return CKERNELS_POW
        default: return nil   // maximum/minimum: signed zeros may differ from the Swift loop
        }
    }

    /// `out = a op b` for float32/float64 when `out` is contiguous and each input is either
    /// dense with out's shape or a single broadcast value.
    static func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ out: Tensor) -> Bool {
        guard let code = code(op), a.dtype == b.dtype, a.dtype == out.dtype,
              a.dtype == .float32 || a.dtype == .float64 else { return false }
        let n = out.count
        // dense: laid out as out's block (contiguous, or the same transposed/permuted layout)
        let aDense = a.hasSameDenseLayout(as: out), bDense = b.hasSameDenseLayout(as: out)
        let flat = aDense && bDense || aDense && b.count == 1 || bDense && a.count == 1
        guard flat || out.isContiguous else { return false }
        let incA: Int, incB: Int
        if aDense && bDense {
            (incA, incB) = (1, 1)
        } else if aDense && b.count == 1 {
            (incA, incB) = (1, 0)
        } else if bDense && a.count == 1 {
            (incA, incB) = (0, 1)
        } else {
            return binaryRows(code, a, b, out, aDense: aDense, bDense: bDense)
                || binaryColumns(code, a, b, out, aDense: aDense, bDense: bDense)
        }
        let status: Int32 = withExtendedLifetime((a, b, out)) {
            if a.dtype == .float32 {
                return ckernels_sbinary(code, n, a.pointer(Float.self) + a.offset, incA,
                                        b.pointer(Float.self) + b.offset, incB, out.pointer(Float.self) + out.offset)
            }
            return ckernels_dbinary(code, n, a.pointer(Double.self) + a.offset, incA,
                                    b.pointer(Double.self) + b.offset, incB, out.pointer(Double.self) + out.offset)
        }
        return status == CKERNELS_OK
    }

    /// One operand dense with out's shape, the other a row repeated along the leading dims (a
    /// bias `[N]` against `[B, N]`): rows of `out` through `ckernels_*binary_rows`, instead of
    /// the generic broadcasting loop. Rows shorter than 16 stay with that loop.
    private static func binaryRows(_ code: Int32, _ a: Tensor, _ b: Tensor, _ out: Tensor, aDense: Bool, bDense: Bool) -> Bool {
        guard aDense || bDense, let cols = repeatedRow(aDense ? b : a, over: out.shape),
              cols >= 16, cols < out.count else { return false }
        let rows = out.count / cols
        let rsA = aDense ? cols : 0, rsB = bDense ? cols : 0
        let status: Int32 = withExtendedLifetime((a, b, out)) {
            if a.dtype == .float32 {
                return ckernels_sbinary_rows(code, rows, cols, a.pointer(Float.self) + a.offset, rsA,
                                             b.pointer(Float.self) + b.offset, rsB, out.pointer(Float.self) + out.offset)
            }
            return ckernels_dbinary_rows(code, rows, cols, a.pointer(Double.self) + a.offset, rsA,
                                         b.pointer(Double.self) + b.offset, rsB, out.pointer(Double.self) + out.offset)
        }
        return status == CKERNELS_OK
    }

    /// One operand dense with out's shape, the other one value per row of it, the values
    /// repeating along leading dims (a `[B, 1]` mean against `[B, N]`, a per-channel
    /// `[C, 1, 1]` scale against `[N, C, H, W]`): rows of `out` through `ckernels_*binary_cols`.
    /// Rows shorter than 16 stay with the generic loop.
    private static func binaryColumns(_ code: Int32, _ a: Tensor, _ b: Tensor, _ out: Tensor, aDense: Bool, bDense: Bool) -> Bool {
        guard aDense != bDense, let (cols, period) = repeatedColumn(aDense ? b : a, over: out.shape),
              cols >= 16, cols < out.count else { return false }
        let rows = out.count / cols
        let side: Int32 = aDense ? 1 : 2
        let status: Int32 = withExtendedLifetime((a, b, out)) {
            if a.dtype == .float32 {
                return ckernels_sbinary_cols(code, rows, cols, period, a.pointer(Float.self) + a.offset, b.pointer(Float.self) + b.offset,
                                             side, out.pointer(Float.self) + out.offset)
            }
            return ckernels_dbinary_cols(code, rows, cols, period, a.pointer(Double.self) + a.offset, b.pointer(Double.self) + b.offset,
                                         side, out.pointer(Double.self) + out.offset)
        }
        return status == CKERNELS_OK
    }

    /// When `t`, broadcast to `shape`, holds one value per row of `cols` elements (broadcast,
    /// stride 0, along a trailing block of dims), its values contiguous along the dims before
    /// that (`period` of them) and repeated (stride 0) along any leading dims: (cols, period).
    /// Else nil.
    static func repeatedColumn(_ t: Tensor, over shape: [Int]) -> (cols: Int, period: Int)? {
        guard t.rank <= shape.count else { return nil }
        let strides = Shape.broadcastStrides(shape: t.shape, strides: t.strides, to: shape)
        var cols = 1, d = shape.count - 1
        while d >= 0 && (shape[d] == 1 || strides[d] == 0) {   // the broadcast trailing block
            cols *= shape[d]
            d -= 1
        }
        var period = 1
        while d >= 0 && (shape[d] == 1 || strides[d] == period) {   // the values, contiguous
            period *= shape[d]
            d -= 1
        }
        while d >= 0 {   // leading dims repeat them
            if shape[d] != 1 && strides[d] != 0 { return nil }
            d -= 1
        }
        return (cols, period)
    }

    /// The row length when `t`, broadcast to `shape`, is one contiguous block of its trailing
    /// dims repeated along the leading ones (strides 0 there), else nil.
    static func repeatedRow(_ t: Tensor, over shape: [Int]) -> Int? {
        guard t.rank <= shape.count else { return nil }
        let strides = Shape.broadcastStrides(shape: t.shape, strides: t.strides, to: shape)
        var cols = 1, d = shape.count - 1
        while d >= 0 && (shape[d] == 1 || strides[d] == cols) {   // the dense trailing block
            cols *= shape[d]
            d -= 1
        }
        while d >= 0 {   // the rest repeats it
            if shape[d] != 1 && strides[d] != 0 { return nil }
            d -= 1
        }
        return cols
    }

    /// `destination = source` for one dtype, `source` broadcast to destination's shape, through
    /// `ckernels_copy_strided` (memcpy rows, fills for broadcast rows, tiled transposes, both
    /// cores on large copies) after merging the dims the strides allow; false when more dims
    /// than the kernel takes remain. A copy of the bytes, as the element loop it replaces.
    static func copy(_ source: Tensor, into destination: Tensor) -> Bool {
        let size = source.dtype.byteCount
        guard source.dtype == destination.dtype, size == 1 || size == 2 || size == 4 || size == 8 else { return false }
        let loop = StridedLoop(shape: destination.shape,
                               operands: [(destination.strides, destination.offset), source.operand(over: destination.shape)])
        guard loop.shape.count <= Int(CKERNELS_COPY_MAX_RANK) else { return false }
        let dstStrides = loop.strides.map { $0[0] }, srcStrides = loop.strides.map { $0[1] }
        let status: Int32 = withExtendedLifetime((source, destination)) {
            ckernels_copy_strided(size, loop.shape.count, loop.shape, source.storage.pointer + loop.base[1] * size, srcStrides,
                                  destination.storage.pointer + loop.base[0] * size, dstStrides)
        }
        return status == CKERNELS_OK
    }

    /// ReLU's backward `where(y > 0, g, 0)` in one pass (`ckernels_*relu_backward`) for
    /// contiguous float32/float64 CPU tensors of one shape; nil otherwise. The same values as the
    /// compare-and-select it replaces (0 where y is NaN or not positive).
    static func reluBackward(_ y: Tensor, _ g: Tensor) -> Tensor? {
        guard y.device == .cpu, g.device == .cpu, y.dtype == g.dtype, y.dtype == .float32 || y.dtype == .float64,
              y.shape == g.shape, y.isContiguous, g.isContiguous else { return nil }
        let out = Tensor(uninitializedShape: g.shape, dtype: g.dtype)
        let status: Int32 = withExtendedLifetime((y, g, out)) {
            if y.dtype == .float32 {
                return ckernels_srelu_backward(out.count, y.pointer(Float.self) + y.offset, g.pointer(Float.self) + g.offset,
                                               out.pointer(Float.self))
            }
            return ckernels_drelu_backward(out.count, y.pointer(Double.self) + y.offset, g.pointer(Double.self) + g.offset,
                                           out.pointer(Double.self))
        }
        return status == CKERNELS_OK ? out : nil
    }

    /// `out = x op s` (`s op x`) for a contiguous float32/float64 `x` and contiguous `out`.
    /// `x ** 2` is `x * x` here and `x ** 3` is `x * x * x`, as `CPUKernels.power` computes them
    /// (the square is correctly rounded, the same bits as a correctly rounded pow).
    static func binaryScalar(_ op: BinaryOp, _ x: Tensor, _ s: Scalar, scalarOnLeft: Bool, _ out: Tensor) -> Bool {
        if op == .pow && !scalarOnLeft && s.doubleValue == 3 { return unary(cube: x, out) }
        let square = op == .pow && !scalarOnLeft && s.doubleValue == 2
        guard let code = square ? CKERNELS_MUL : code(op), x.dtype == out.dtype, x.hasSameDenseLayout(as: out),
              x.count >= 16 else { return false }
        let n = x.count
        let status: Int32 = withExtendedLifetime((x, out)) {
            if x.dtype == .float32 {
                var v = s.value(as: Float.self)
                let px = UnsafePointer(x.pointer(Float.self) + x.offset), po = out.pointer(Float.self) + out.offset
                if square { return ckernels_sbinary(code, n, px, 1, px, 1, po) }
                return scalarOnLeft ? ckernels_sbinary(code, n, &v, 0, px, 1, po) : ckernels_sbinary(code, n, px, 1, &v, 0, po)
            }
            if x.dtype == .float64 {
                var v = s.value(as: Double.self)
                let px = UnsafePointer(x.pointer(Double.self) + x.offset), po = out.pointer(Double.self) + out.offset
                if square { return ckernels_dbinary(code, n, px, 1, px, 1, po) }
                return scalarOnLeft ? ckernels_dbinary(code, n, &v, 0, px, 1, po) : ckernels_dbinary(code, n, px, 1, &v, 0, po)
            }
            return CKERNELS_EINVAL
        }
        return status == CKERNELS_OK
    }

    private static func code(_ op: UnaryOp) -> Int32? {
        switch op {
        case .exp: return CKERNELS_EXP
        case .log: return CKERNELS_LOG
        case .tanh: return CKERNELS_TANH
        case .sigmoid: return CKERNELS_SIGMOID
        case .neg: return CKERNELS_NEG
        case .abs: return CKERNELS_ABS
        case .sqrt: return CKERNELS_SQRT
        case .erf: return CKERNELS_ERF
        case .relu: return CKERNELS_RELU   // x <= 0 -> +0, NaN kept: the Swift loop's bits
        // The exact ops below give the Swift loop's bits (NaNs included).
        case .floor: return CKERNELS_FLOOR
        case .ceil: return CKERNELS_CEIL
        case .round: return CKERNELS_ROUND
        case .trunc: return CKERNELS_TRUNC
        case .sign: return CKERNELS_SIGN
        case .reciprocal: return CKERNELS_RECIPROCAL
        case .rsqrt: return CKERNELS_RSQRT
        case .square: return CKERNELS_SQUARE
        // float32 sin, cos and log1p are evaluated in double and rounded once (within 0.5001
        // ulp); float64 sin and cos are libm's (the Swift loop's bits), log1p within 1.44 ulp.
        case .sin: return CKERNELS_SIN
        case .cos: return CKERNELS_COS
        case .log1p: return CKERNELS_LOG1P
        // the same for float32 tan, expm1, log2, sinh and cosh; float64 takes libm's
        case .tan: return CKERNELS_TAN
        case .expm1: return CKERNELS_EXPM1
        case .log2: return CKERNELS_LOG2
        case .sinh: return CKERNELS_SINH
        case .cosh: return CKERNELS_COSH
        default: return nil
        }
    }

    /// `out = f(x)` for float32/float64 tensors of at least `unaryThreshold` elements laid out
    /// as one dense block (both contiguous, or the same transposed/permuted layout).
    static func unary(_ op: UnaryOp, _ x: Tensor, _ out: Tensor) -> Bool {
        guard let code = code(op) else { return false }
        return unary(code, x, out)
    }

    /// `x` limited to `[lo, hi]` in one C pass for a float32/float64 CPU tensor of at least 16
    /// elements laid out as one dense block: the bits of `maximum` with `lo`, then `minimum`
    /// with `hi` (the bounds rounded to the dtype); the result in x's layout. Nil otherwise.
    static func clamp(_ x: Tensor, _ lo: Double, _ hi: Double) -> Tensor? {
        guard x.storage.device.kind == .cpu, x.dtype == .float32 || x.dtype == .float64, x.count >= 16,
              x.isDenseInSomeOrder else { return nil }
        let out = Tensor(uninitializedLike: x, dtype: x.dtype)   // x's layout: one block like x's
        let status: Int32 = withExtendedLifetime((x, out)) {
            if x.dtype == .float32 {
                return ckernels_sclamp(x.count, x.pointer(Float.self) + x.offset, Float(lo), Float(hi), out.pointer(Float.self) + out.offset)
            }
            return ckernels_dclamp(x.count, x.pointer(Double.self) + x.offset, lo, hi, out.pointer(Double.self) + out.offset)
        }
        return status == CKERNELS_OK ? out : nil
    }

    /// Whether `op` has a C kernel for float32/float64.
    static func hasKernel(_ op: UnaryOp) -> Bool { code(op) != nil }

    /// `x * sigmoid(x)` (silu's forward) of a contiguous float32/float64 CPU tensor of at least
    /// `unaryThreshold` elements in one C pass: the bits of the two ops it replaces, which take
    /// the C sigmoid and product at that size; nil otherwise.
    static func silu(_ x: Tensor) -> Tensor? {
        guard x.device == .cpu else { return nil }
        let out = Tensor(uninitializedShape: x.shape, dtype: x.dtype)
        return unary(CKERNELS_SILU, x, out) ? out : nil
    }

    /// `out = x * x * x` (`x ** 3`) for contiguous float32/float64 tensors of at least
    /// `unaryThreshold` elements.
    static func unary(cube x: Tensor, _ out: Tensor) -> Bool { unary(CKERNELS_CUBE, x, out) }

    private static func unary(_ code: Int32, _ x: Tensor, _ out: Tensor) -> Bool {
        guard x.dtype == out.dtype, x.dtype == .float32 || x.dtype == .float64,
              x.count >= unaryThreshold, x.hasSameDenseLayout(as: out) else { return false }
        let n = x.count
        let status: Int32 = withExtendedLifetime((x, out)) {
            if x.dtype == .float32 {
                return ckernels_sunary(code, n, x.pointer(Float.self) + x.offset, out.pointer(Float.self) + out.offset)
            }
            return ckernels_dunary(code, n, x.pointer(Double.self) + x.offset, out.pointer(Double.self) + out.offset)
        }
        return status == CKERNELS_OK
    }

    // MARK: - Reductions

    /// The sum of every element of a contiguous float32/float64 `x` into the one-element
    /// `out`, in CKernels' fixed blocked order (blocks of 1024, 32 lanes, pairwise across
    /// blocks; the same on every ISA and thread count).
    /// A dense view in another order (a transposed or permuted contiguous block) is summed in
    /// its memory order, as PyTorch does: the same set of elements, the same fixed blocking.
    static func sumAll(_ x: Tensor, _ out: Tensor) -> Bool {
        guard x.dtype == out.dtype, x.dtype == .float32 || x.dtype == .float64, x.isDenseInSomeOrder, out.count == 1 else { return false }
        let n = x.count
        let status: Int32 = withExtendedLifetime((x, out)) {
            if x.dtype == .float32 {
                return ckernels_ssum(n, x.pointer(Float.self) + x.offset, out.pointer(Float.self) + out.offset)
            }
            return ckernels_dsum(n, x.pointer(Double.self) + x.offset, out.pointer(Double.self) + out.offset)
        }
        return status == CKERNELS_OK
    }

    /// The (outer, n, inner) split of a contiguous tensor around `dim`: the n elements of
    /// `dim` lie `inner` apart, in `outer` blocks (sumDim and softmax take this layout).
    private static func split(_ shape: [Int], around dim: Int) -> (outer: Int, n: Int, inner: Int) {
        (shape[..<dim].reduce(1, *), shape[dim], shape[(dim + 1)...].reduce(1, *))
    }

    /// The sum over one dim `dim` of a contiguous float32/float64 `x` into the contiguous `out`
    /// (x's shape with that dim 1) by CKernels (`ckernels_ssum_dim`: vectorized across the
    /// columns, or row by row when `dim` is the last), in exactly the pairwise order of
    /// `CPUKernels.pairwiseSum`, so the result equals the Swift loop's bit for bit, on both
    /// cores.
    static func sumDim(_ x: Tensor, dim: Int, _ out: Tensor) -> Bool {
        guard x.dtype == out.dtype, x.dtype == .float32 || x.dtype == .float64, x.isContiguous, out.isContiguous else { return false }
        let (outer, n, inner) = split(x.shape, around: dim)
        guard out.count == outer * inner else { return false }
        let status: Int32 = withExtendedLifetime((x, out)) {
            if x.dtype == .float32 {
                return ckernels_ssum_dim(outer, n, inner, x.pointer(Float.self) + x.offset, out.pointer(Float.self) + out.offset)
            }
            return ckernels_dsum_dim(outer, n, inner, x.pointer(Double.self) + x.offset, out.pointer(Double.self) + out.offset)
        }
        return status == CKERNELS_OK
    }

    /// The sum over every dim but one, `k`, of a contiguous float32/float64 `x` (a batch norm's
    /// statistics over N, H, W) into the contiguous `out` (shape[k] values) by
    /// `ckernels_*sum_outer_inner`: per index of `k`, the pairwise sums of the contiguous
    /// blocks after it, added in order over the dims before it, which is the order of the Swift
    /// loop (`CPUKernels.reduceRows`) for this layout, so the same bits. False unless the dims
    /// after `k` hold more than one element.
    static func sumAllButOne(_ x: Tensor, dims: [Int], _ out: Tensor) -> Bool {
        guard x.dtype == out.dtype, x.dtype == .float32 || x.dtype == .float64, x.isContiguous, out.isContiguous,
              Set(dims).count == dims.count, dims.count == x.rank - 1,
              let k = (0..<x.rank).first(where: { !dims.contains($0) }) else { return false }
        let (outer, mid, inner) = split(x.shape, around: k)
        guard inner > 1, out.count == mid else { return false }
        let status: Int32 = withExtendedLifetime((x, out)) {
            if x.dtype == .float32 {
                return ckernels_ssum_outer_inner(outer, mid, inner, x.pointer(Float.self) + x.offset, out.pointer(Float.self) + out.offset)
            }
            return ckernels_dsum_outer_inner(outer, mid, inner, x.pointer(Double.self) + x.offset, out.pointer(Double.self) + out.offset)
        }
        return status == CKERNELS_OK
    }

    /// Cumulative sums or products along the last dim of a contiguous float32/float64 `x` into
    /// the contiguous `out` of its shape (`ckernels_*scan_rows`: accumulated in double, in index
    /// order, rounded as stored, as `CPUBackend`'s scan loop does: the same bits).
    static func scanRows(_ op: ScanOp, _ x: Tensor, _ out: Tensor) -> Bool {
        guard x.dtype == out.dtype, x.dtype == .float32 || x.dtype == .float64, x.rank >= 1, x.isContiguous, out.isContiguous,
              x.shape == out.shape else { return false }
        let n = x.shape[x.rank - 1], rows = n == 0 ? 0 : x.count / n
        let code = op == .sum ? CKERNELS_SCAN_SUM : CKERNELS_SCAN_PROD
        let status: Int32 = withExtendedLifetime((x, out)) {
            if x.dtype == .float32 {
                return ckernels_sscan_rows(code, rows, n, x.pointer(Float.self) + x.offset, out.pointer(Float.self) + out.offset)
            }
            return ckernels_dscan_rows(code, rows, n, x.pointer(Double.self) + x.offset, out.pointer(Double.self) + out.offset)
        }
        return status == CKERNELS_OK
    }

    /// Max pooling of a float32/float64 CPU `x` `[N, C, H, W]` (any strides) over the windows
    /// of `g` in one C pass (`ckernels_*max_pool2d`): each window's maximum `[N, C, L]` and its
    /// offset in the window (int64 `[N, C, L]`), by the rules of `max(dim:)` over the window
    /// (NaN first, then the first maximum), except that positions in the padding never win.
    /// Nil for other devices or dtypes.
    static func maxPool2d(_ x: Tensor, geometry g: WindowGeometry) -> (values: Tensor, window: Tensor)? {
        guard x.device == .cpu, x.dtype == .float32 || x.dtype == .float64, x.rank == 4 else { return nil }
        let l = g.outH * g.outW
        let values = Tensor(uninitializedShape: [g.batch, g.channels, l], dtype: x.dtype)
        let window = Tensor(uninitializedShape: [g.batch, g.channels, l], dtype: .int64)
        var w = ckernels_window(geometry: g, channels: g.channels)
        let (sn, sc, sh, sw) = (x.strides[0], x.strides[1], x.strides[2], x.strides[3])
        let status: Int32 = withExtendedLifetime((x, values, window)) {
            let index = window.pointer(Int64.self)
            if x.dtype == .float32 {
                return ckernels_smax_pool2d(&w, g.batch, x.pointer(Float.self) + x.offset, sn, sc, sh, sw, values.pointer(Float.self), index)
            }
            return ckernels_dmax_pool2d(&w, g.batch, x.pointer(Double.self) + x.offset, sn, sc, sh, sw, values.pointer(Double.self), index)
        }
        return status == CKERNELS_OK ? (values, window) : nil
    }

    /// The sum of each window of `g` over a float32/float64 CPU `x` `[N, C, H, W]` (any strides)
    /// in one C pass (`ckernels_*window_sum2d`), `[N, C, L]`: the bits of summing im2col's
    /// columns (padding as 0) over the window dim. Nil for other devices or dtypes, or windows
    /// of more than 64 positions.
    static func windowSum2d(_ x: Tensor, geometry g: WindowGeometry) -> Tensor? {
        guard x.device == .cpu, x.dtype == .float32 || x.dtype == .float64, x.rank == 4, g.kernelH * g.kernelW <= 64 else { return nil }
        let sums = Tensor(uninitializedShape: [g.batch, g.channels, g.outH * g.outW], dtype: x.dtype)
        var w = ckernels_window(geometry: g, channels: g.channels)
        let (sn, sc, sh, sw) = (x.strides[0], x.strides[1], x.strides[2], x.strides[3])
        let status: Int32 = withExtendedLifetime((x, sums)) {
            if x.dtype == .float32 {
                return ckernels_swindow_sum2d(&w, g.batch, x.pointer(Float.self) + x.offset, sn, sc, sh, sw, sums.pointer(Float.self))
            }
            return ckernels_dwindow_sum2d(&w, g.batch, x.pointer(Double.self) + x.offset, sn, sc, sh, sw, sums.pointer(Double.self))
        }
        return status == CKERNELS_OK ? sums : nil
    }

    /// gelu's forward of a contiguous float32/float64 CPU `x` of at least `unaryThreshold`
    /// elements in one C pass (`ckernels_*gelu`): the composed form's operations in its order,
    /// rounded alike, with the C erf and tanh the composed form gets at these sizes: the same
    /// bits. Nil for other layouts, devices, dtypes or sizes.
    static func gelu(_ x: Tensor, approximate: GeluApproximation) -> Tensor? {
        guard x.device == .cpu, x.dtype == .float32 || x.dtype == .float64, x.isContiguous,
              x.count >= unaryThreshold else { return nil }
        let out = Tensor(uninitializedShape: x.shape, dtype: x.dtype)
        let mode: Int32 = approximate == .tanh ? 1 : 0
        let status: Int32 = withExtendedLifetime((x, out)) {
            if x.dtype == .float32 {
                return ckernels_sgelu(mode, x.count, x.pointer(Float.self) + x.offset, out.pointer(Float.self))
            }
            return ckernels_dgelu(mode, x.count, x.pointer(Double.self) + x.offset, out.pointer(Double.self))
        }
        return status == CKERNELS_OK ? out : nil
    }

    /// gelu's input gradient `g · gelu'(x)` for contiguous float32/float64 CPU `x` and `g` of
    /// one shape and at least `unaryThreshold` elements, in one C pass
    /// (`ckernels_*gelu_backward`), the same bits as the composed form in `GeluBackward0`.
    /// Nil for other layouts, devices, dtypes or sizes.
    static func geluBackward(_ x: Tensor, _ g: Tensor, approximate: GeluApproximation) -> Tensor? {
        guard x.device == .cpu, g.device == .cpu, x.dtype == .float32 || x.dtype == .float64, g.dtype == x.dtype,
              x.shape == g.shape, x.isContiguous, g.isContiguous, x.count >= unaryThreshold else { return nil }
        let out = Tensor(uninitializedShape: x.shape, dtype: x.dtype)
        let mode: Int32 = approximate == .tanh ? 1 : 0
        let status: Int32 = withExtendedLifetime((x, g, out)) {
            if x.dtype == .float32 {
                return ckernels_sgelu_backward(mode, x.count, x.pointer(Float.self) + x.offset, g.pointer(Float.self) + g.offset,
                                               out.pointer(Float.self))
            }
            return ckernels_dgelu_backward(mode, x.count, x.pointer(Double.self) + x.offset, g.pointer(Double.self) + g.offset,
                                           out.pointer(Double.self))
        }
        return status == CKERNELS_OK ? out : nil
    }

    /// layerNorm's forward over the last dim of a contiguous float32/float64 CPU `x` (weight
    /// and bias contiguous `[n]`, or nil) in one C pass per row (`ckernels_*layer_norm`), the
    /// same ops as `normalized(_:dims:eps:)` followed by `* weight + bias`, rounded alike: the
    /// same bits. With `statistics`, also each row's mean and rstd (`[rows]`, the values the
    /// backward would compute again). Nil for other layouts, devices or dtypes.
    static func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Double,
                          statistics: Bool = false) -> (y: Tensor, mean: Tensor?, rstd: Tensor?)? {
        guard x.device == .cpu, x.dtype == .float32 || x.dtype == .float64, x.rank >= 1, x.isContiguous,
              let n = x.shape.last, n >= 1 else { return nil }
        for p in [weight, bias] {
            guard let p else { continue }
            guard p.device == .cpu, p.dtype == x.dtype, p.shape == [n], p.isContiguous else { return nil }
        }
        let out = Tensor(uninitializedShape: x.shape, dtype: x.dtype)
        let rows = x.count / n
        let mean = statistics ? Tensor(uninitializedShape: [rows], dtype: x.dtype) : nil
        let rstd = statistics ? Tensor(uninitializedShape: [rows], dtype: x.dtype) : nil
        let status: Int32 = withExtendedLifetime((x, weight, bias, out, mean, rstd)) {
            if x.dtype == .float32 {
                func p(_ t: Tensor) -> UnsafePointer<Float> { UnsafePointer(t.pointer(Float.self) + t.offset) }
                return ckernels_slayer_norm(rows, n, p(x), weight.map(p), bias.map(p), Float(eps), out.pointer(Float.self),
                                            mean?.pointer(Float.self), rstd?.pointer(Float.self))
            }
            func p(_ t: Tensor) -> UnsafePointer<Double> { UnsafePointer(t.pointer(Double.self) + t.offset) }
            return ckernels_dlayer_norm(rows, n, p(x), weight.map(p), bias.map(p), eps, out.pointer(Double.self),
                                        mean?.pointer(Double.self), rstd?.pointer(Double.self))
        }
        return status == CKERNELS_OK ? (out, mean, rstd) : nil
    }

    /// layerNorm's gradients over the last dim of a contiguous float32/float64 CPU `x` from the
    /// output gradient `g` (made contiguous) and weight (`[n]`, or nil), in one C pass per row
    /// (`ckernels_*layer_norm_backward`): the input gradient, the same bits as the composed
    /// backward (`normalized` and `normalizationInputGradient`), and, when `withSums`, the
    /// sums over the rows of `g * xhat` and of `g` (`[n]`), the same bits as `sum(dims: [0])`
    /// of a rank-2 tensor. `mean` and `rstd`: the forward's (`layerNorm(_:weight:bias:eps:statistics:)`
    /// of this `x`), or nil to compute them again. Nil for other layouts, devices or dtypes.
    static func layerNormBackward(_ x: Tensor, _ g: Tensor, weight: Tensor?, eps: Double, mean: Tensor? = nil,
                                  rstd: Tensor? = nil, withSums: Bool) -> (dx: Tensor, dw: Tensor?, db: Tensor?)? {
        guard x.device == .cpu, g.device == .cpu, x.dtype == .float32 || x.dtype == .float64, g.dtype == x.dtype,
              x.rank >= 1, x.isContiguous, g.shape == x.shape, let n = x.shape.last, n >= 1 else { return nil }
        if let weight { guard weight.device == .cpu, weight.dtype == x.dtype, weight.shape == [n] else { return nil } }
        let gc = g.isContiguous ? g : g.contiguous(), wc = weight.map { $0.isContiguous ? $0 : $0.contiguous() }
        let dx = Tensor(uninitializedShape: x.shape, dtype: x.dtype)
        let dw = withSums ? Tensor(uninitializedShape: [n], dtype: x.dtype) : nil
        let db = withSums ? Tensor(uninitializedShape: [n], dtype: x.dtype) : nil
        let rows = x.count / n
        var statistics: (mean: Tensor, rstd: Tensor)?
        if let mean, let rstd {
            guard [mean, rstd].allSatisfy({ $0.device == .cpu && $0.dtype == x.dtype && $0.shape == [rows] && $0.isContiguous }) else {
                return nil
            }
            statistics = (mean, rstd)
        }
        let status: Int32 = withExtendedLifetime((x, gc, wc, dx, dw, db, statistics)) {
            if x.dtype == .float32 {
                func p(_ t: Tensor) -> UnsafePointer<Float> { UnsafePointer(t.pointer(Float.self) + t.offset) }
                return ckernels_slayer_norm_backward(rows, n, p(x), p(gc), wc.map(p), Float(eps), statistics.map { p($0.mean) },
                                                     statistics.map { p($0.rstd) }, dx.pointer(Float.self),
                                                     dw?.pointer(Float.self), db?.pointer(Float.self))
            }
            func p(_ t: Tensor) -> UnsafePointer<Double> { UnsafePointer(t.pointer(Double.self) + t.offset) }
            return ckernels_dlayer_norm_backward(rows, n, p(x), p(gc), wc.map(p), eps, statistics.map { p($0.mean) },
                                                 statistics.map { p($0.rstd) }, dx.pointer(Double.self),
                                                 dw?.pointer(Double.self), db?.pointer(Double.self))
        }
        return status == CKERNELS_OK ? (dx, dw, db) : nil
    }

    /// batchNorm's evaluation-mode forward of a contiguous float32/float64 CPU `x` ([N, C, ...])
    /// with contiguous `[C]` statistics, weight and bias (or nil) in one C pass
    /// (`ckernels_*batch_norm_eval`): `(x - mean) / sqrt(var + eps) * weight + bias`, rounded as
    /// the composed ops round it, so the same bits. Nil for other layouts, devices or dtypes.
    static func batchNormEval(_ x: Tensor, mean: Tensor, variance: Tensor, weight: Tensor?, bias: Tensor?, eps: Double) -> Tensor? {
        guard x.device == .cpu, x.dtype == .float32 || x.dtype == .float64, x.rank >= 2, x.isContiguous else { return nil }
        let c = x.shape[1]
        for p in [mean, variance, weight, bias] {
            guard let p else { continue }
            guard p.device == .cpu, p.dtype == x.dtype, p.shape == [c], p.isContiguous else { return nil }
        }
        let n = x.shape[0], hw = x.shape.dropFirst(2).reduce(1, *)
        let out = Tensor(uninitializedShape: x.shape, dtype: x.dtype)
        let status: Int32 = withExtendedLifetime((x, mean, variance, weight, bias, out)) {
            if x.dtype == .float32 {
                func p(_ t: Tensor) -> UnsafePointer<Float> { UnsafePointer(t.pointer(Float.self) + t.offset) }
                return ckernels_sbatch_norm_eval(n, c, hw, p(x), p(mean), p(variance), weight.map(p), bias.map(p), Float(eps),
                                                 out.pointer(Float.self))
            }
            func p(_ t: Tensor) -> UnsafePointer<Double> { UnsafePointer(t.pointer(Double.self) + t.offset) }
            return ckernels_dbatch_norm_eval(n, c, hw, p(x), p(mean), p(variance), weight.map(p), bias.map(p), eps,
                                             out.pointer(Double.self))
        }
        return status == CKERNELS_OK ? out : nil
    }

    /// batchNorm's training-mode forward of a contiguous float32/float64 CPU `x` ([N, C, ...]
    /// with more than one element per channel and image) with contiguous `[C]` weight and bias
    /// (or nil) in one C call (`ckernels_*batch_norm_train`): the output, each channel's batch
    /// mean `[C]` and its sum of squared deviations `[C]`, rounded as the composed ops round
    /// them (`normalized` and `* weight + bias`), so the same bits. Nil for other layouts,
    /// devices or dtypes.
    static func batchNormTrain(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Double) -> (out: Tensor, mean: Tensor, squares: Tensor)? {
        guard x.device == .cpu, x.dtype == .float32 || x.dtype == .float64, x.rank >= 3, x.isContiguous else { return nil }
        let n = x.shape[0], c = x.shape[1], hw = x.shape.dropFirst(2).reduce(1, *)
        guard hw > 1 else { return nil }   // one element per block: the composed sums take another order
        for p in [weight, bias] {
            guard let p else { continue }
            guard p.device == .cpu, p.dtype == x.dtype, p.shape == [c], p.isContiguous else { return nil }
        }
        let out = Tensor(uninitializedShape: x.shape, dtype: x.dtype)
        let mean = Tensor(uninitializedShape: [c], dtype: x.dtype), squares = Tensor(uninitializedShape: [c], dtype: x.dtype)
        let status: Int32 = withExtendedLifetime((x, weight, bias, out, mean, squares)) {
            if x.dtype == .float32 {
                func p(_ t: Tensor) -> UnsafePointer<Float> { UnsafePointer(t.pointer(Float.self) + t.offset) }
                return ckernels_sbatch_norm_train(n, c, hw, p(x), weight.map(p), bias.map(p), Float(eps), out.pointer(Float.self),
                                                  mean.pointer(Float.self), squares.pointer(Float.self))
            }
            func p(_ t: Tensor) -> UnsafePointer<Double> { UnsafePointer(t.pointer(Double.self) + t.offset) }
            return ckernels_dbatch_norm_train(n, c, hw, p(x), weight.map(p), bias.map(p), eps, out.pointer(Double.self),
                                              mean.pointer(Double.self), squares.pointer(Double.self))
        }
        return status == CKERNELS_OK ? (out, mean, squares) : nil
    }

    /// The maximum or minimum along one dim of a contiguous float32/float64 `x`, with its index,
    /// into contiguous `values` and `indices` by `ckernels_*argext_dim` (vectorized along the
    /// last dim or across the columns of another, both cores): the element and index the Swift
    /// loop picks (the first NaN, else the first of equal extremes).
    static func reduceWithIndex(_ op: IndexReduceOp, _ x: Tensor, dim: Int, values: Tensor, indices: Tensor) -> Bool {
        guard x.dtype == values.dtype, x.dtype == .float32 || x.dtype == .float64, indices.dtype == .int64,
              x.isContiguous, values.isContiguous, indices.isContiguous else { return false }
        let (outer, n, inner) = split(x.shape, around: dim)
        guard n >= 1, inner >= 1, values.count == outer * inner, indices.count == outer * inner else { return false }
        let isMax: Int32 = op == .max ? 1 : 0
        let status: Int32 = withExtendedLifetime((x, values, indices)) {
            let pi = indices.pointer(Int64.self) + indices.offset
            if x.dtype == .float32 {
                return ckernels_sargext_dim(outer, n, inner, x.pointer(Float.self) + x.offset, isMax,
                                            values.pointer(Float.self) + values.offset, pi)
            }
            return ckernels_dargext_dim(outer, n, inner, x.pointer(Double.self) + x.offset, isMax,
                                        values.pointer(Double.self) + values.offset, pi)
        }
        return status == CKERNELS_OK
    }

    /// The largest element of a contiguous float32/float64 `x` into the one-element `out`.
    /// NaN wins, as in the Swift loop. A zero maximum is left to the Swift loop, which
    /// reports the sign of the last of equal zeros where CKernels reports the first.
    static func maxAll(_ x: Tensor, _ out: Tensor) -> Bool {
        guard x.dtype == out.dtype, x.dtype == .float32 || x.dtype == .float64, x.isDenseInSomeOrder, out.count == 1 else { return false }
        let n = x.count
        return withExtendedLifetime((x, out)) {
            if x.dtype == .float32 {
                var r: Float = 0
                guard ckernels_smax(n, x.pointer(Float.self) + x.offset, &r, nil) == CKERNELS_OK, r != 0 else { return false }
                out.pointer(Float.self)[out.offset] = r
            } else {
                var r: Double = 0
                guard ckernels_dmax(n, x.pointer(Double.self) + x.offset, &r, nil) == CKERNELS_OK, r != 0 else { return false }
                out.pointer(Double.self)[out.offset] = r
            }
            return true
        }
    }

    // MARK: - Softmax

    /// `softmax` (or `logSoftmax` with `log`) along `dim` of a contiguous float32/float64 CPU
    /// tensor of rank >= 1, fused in CKernels (`ckernels_ssoftmax`: max, exp and sum, scale,
    /// one slice at a time while it is in cache; rows or column groups split over the pool).
    /// The same formula as the op-by-op path, `exp(x - max) / sum` or `x - max - log(sum)`,
    /// with CKernels' vectorized exp and its fixed summation order, so results agree with
    /// that path to rounding; `nil` when the case is not covered.
    static func softmax(_ x: Tensor, dim: Int, log: Bool) -> Tensor? {
        guard x.device == .cpu, x.dtype == .float32 || x.dtype == .float64, x.rank >= 1, x.isContiguous else { return nil }
        let (outer, n, inner) = split(x.shape, around: dim)
        let out = Tensor(uninitializedShape: x.shape, dtype: x.dtype)
        let status: Int32 = withExtendedLifetime((x, out)) {
            if x.dtype == .float32 {
                return ckernels_ssoftmax(outer, n, inner, x.pointer(Float.self) + x.offset, out.pointer(Float.self) + out.offset, log ? 1 : 0)
            }
            return ckernels_dsoftmax(outer, n, inner, x.pointer(Double.self) + x.offset, out.pointer(Double.self) + out.offset, log ? 1 : 0)
        }
        return status == CKERNELS_OK ? out : nil
    }

    /// The input gradient of `softmax` (`log`: `logSoftmax`) along `dim` from the forward
    /// output `y` and the output gradient `g`: `y * (g - sum(g * y))` or `g - exp(y) * sum(g)`
    /// in one CKernels pass per slice (`ckernels_ssoftmax_backward`). Covers float32/float64
    /// CPU tensors of the same dtype and shape, `y` contiguous; a non-contiguous `g` (for
    /// instance an expanded one from `sum()`'s backward) is copied first. `nil` otherwise.
    static func softmaxBackward(_ y: Tensor, _ g: Tensor, dim: Int, log: Bool) -> Tensor? {
        guard y.device == .cpu, g.device == .cpu, y.dtype == g.dtype, y.dtype == .float32 || y.dtype == .float64,
              y.rank >= 1, y.shape == g.shape, y.isContiguous else { return nil }
        let g = g.contiguous()
        let (outer, n, inner) = split(y.shape, around: dim)
        let out = Tensor(uninitializedShape: y.shape, dtype: y.dtype)
        let status: Int32 = withExtendedLifetime((y, g, out)) {
            if y.dtype == .float32 {
                return ckernels_ssoftmax_backward(outer, n, inner, y.pointer(Float.self) + y.offset, g.pointer(Float.self) + g.offset,
                                                  out.pointer(Float.self) + out.offset, log ? 1 : 0)
            }
            return ckernels_dsoftmax_backward(outer, n, inner, y.pointer(Double.self) + y.offset, g.pointer(Double.self) + g.offset,
                                              out.pointer(Double.self) + out.offset, log ? 1 : 0)
        }
        return status == CKERNELS_OK ? out : nil
    }

    /// The sums of squares along the last dim of a contiguous float32/float64 CPU tensor (shape
    /// without the last dim), the same bits as `(x * x).sum(dims: [last])`, without the squares'
    /// array (`ckernels_*sum_squares_rows`). Nil for other layouts, devices or dtypes.
    static func sumOfSquaresAlongLastDim(_ x: Tensor) -> Tensor? {
        guard x.device == .cpu, x.dtype == .float32 || x.dtype == .float64, x.rank >= 1, x.isContiguous,
              let n = x.shape.last else { return nil }
        let rows = n == 0 ? x.shape.dropLast().reduce(1, *) : x.count / n
        let out = Tensor(uninitializedShape: Array(x.shape.dropLast()), dtype: x.dtype)
        let status: Int32 = withExtendedLifetime((x, out)) {
            if x.dtype == .float32 {
                return ckernels_ssum_squares_rows(rows, n, x.pointer(Float.self) + x.offset, out.pointer(Float.self))
            }
            return ckernels_dsum_squares_rows(rows, n, x.pointer(Double.self) + x.offset, out.pointer(Double.self))
        }
        return status == CKERNELS_OK ? out : nil
    }

    /// Whether every value of a contiguous int64 CPU tensor lies in `0..<bound`, checked in
    /// place on all threads (`ckernels_i64_in_range`); nil for other tensors.
    static func int64InRange(_ t: Tensor, below bound: Int64) -> Bool? {
        guard t.device == .cpu, t.dtype == .int64, t.isContiguous, bound >= 0 else { return nil }
        var inside: Int32 = 0
        let status = withExtendedLifetime(t) {
            ckernels_i64_in_range(t.count, UnsafePointer(t.pointer(Int64.self) + t.offset), bound, &inside)
        }
        return status == CKERNELS_OK ? inside != 0 : nil
    }

    /// float32 -> float16 or float16 -> float32 of a contiguous CPU tensor into a contiguous one
    /// of its shape by `ckernels_f32_to_f16` / `ckernels_f16_to_f32` (conversion instructions on
    /// all threads, the `Half` type's bits, NaNs included); false for other pairs or layouts.
    static func convertHalf(_ source: Tensor, into destination: Tensor) -> Bool {
        guard source.shape == destination.shape, source.isContiguous, destination.isContiguous else { return false }
        let n = source.count
        let status: Int32 = withExtendedLifetime((source, destination)) {
            switch (source.dtype, destination.dtype) {
            case (.float32, .float16):
                return ckernels_f32_to_f16(n, source.pointer(Float.self) + source.offset, destination.pointer(UInt16.self) + destination.offset)
            case (.float16, .float32):
                return ckernels_f16_to_f32(n, source.pointer(UInt16.self) + source.offset, destination.pointer(Float.self) + destination.offset)
            default:
                return CKERNELS_EINVAL
            }
        }
        return status == CKERNELS_OK
    }

    /// `dst[i] += src[i]` for `i < n` on this thread, by the vector kernels of
    /// `ckernels_sbinary`/`ckernels_dbinary` (the same IEEE sums as a Swift loop): true when done,
    /// false for other element types or when the two ranges overlap without being the same.
    static func addInPlace<T: FloatElement>(_ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>, count n: Int) -> Bool {
        guard n > 0 else { return true }
        let d = UnsafeRawPointer(dst), s = UnsafeRawPointer(src), bytes = n * MemoryLayout<T>.stride
        guard d == s || d + bytes <= s || s + bytes <= d else { return false }
        if T.self == Float.self {
            let o = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: Float.self)
            return ckernels_sbinary(CKERNELS_ADD, n, o, 1, s.assumingMemoryBound(to: Float.self), 1, o) == CKERNELS_OK
        }
        if T.self == Double.self {
            let o = UnsafeMutableRawPointer(dst).assumingMemoryBound(to: Double.self)
            return ckernels_dbinary(CKERNELS_ADD, n, o, 1, s.assumingMemoryBound(to: Double.self), 1, o) == CKERNELS_OK
        }
        return false
    }

    // MARK: - Thread pool

    /// Runs `body` over the items [0, n) in disjoint chunks of at least `grain` items on the
    /// CKernels pool and the calling thread (inline when `n < 2 * grain`, when nested, or
    /// while another thread uses the pool); all chunks have finished when it returns.
    static func parallelFor(_ n: Int, grain: Int, _ body: (Int, Int) -> Void) {
        if n <= 0 { return }
        if n < 2 * grain {
            body(0, n)
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = RangeBody(body)
            let status = withExtendedLifetime(box) {
                ckernels_parallel_for(n, grain, { context, begin, end in
                    guard let context else { return }
                    Unmanaged<RangeBody>.fromOpaque(context).takeUnretainedValue().body(begin, end)
                }, Unmanaged.passUnretained(box).toOpaque())
            }
            precondition(status == CKERNELS_OK, "ckernels_parallel_for failed (\(status))")
        }
    }
}

/// The Swift body of a `ckernels_parallel_for` region, passed to the C callback as its context.
private final class RangeBody {
    let body: (Int, Int) -> Void
    init(_ body: @escaping (Int, Int) -> Void) { self.body = body }

}

extension Tensor {
    /// Whether the elements fill the `count` storage slots from `offset` exactly once, in some
    /// order of the dims (contiguous, transposed, permuted; size-1 dims ignored): then an
    /// order-free reduction may read that block directly.
    var isDenseInSomeOrder: Bool {
        if isContiguous { return true }
        var dims = shape.indices.filter { shape[$0] != 1 }.map { (stride: strides[$0], size: shape[$0]) }
        guard dims.allSatisfy({ $0.stride > 0 }) else { return false }
        dims.sort { $0.stride < $1.stride }
        var expected = 1
        for d in dims {
            guard d.stride == expected else { return false }
            expected *= d.size
        }
        return true
    }

    /// Whether this tensor and `other` have one shape and are both laid out as the same dense
    /// block (both contiguous, or the same strides on every dim longer than 1 and dense in some
    /// order): element i of one sits at the same place in its block as element i of the other,
    /// so an element-wise kernel may run over the two blocks as flat arrays.
    func hasSameDenseLayout(as other: Tensor) -> Bool {
        guard shape == other.shape else { return false }
        let contiguous = isContiguous
        if contiguous || other.isContiguous { return contiguous && other.isContiguous }
        for d in shape.indices where shape[d] != 1 && strides[d] != other.strides[d] { return false }
        return isDenseInSomeOrder
    }
}
