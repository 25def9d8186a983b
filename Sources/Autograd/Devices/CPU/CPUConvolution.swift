import CKernels

/// The CPU's fused convolution: for each band of output rows of one image, im2col into a
/// buffer that stays in cache, then one GEMM per group straight into the output (or, going
/// back, GEMMs out of the output gradient and col2im straight into the input gradient). No
/// batch-sized column matrix is built, nothing is permuted or copied afterwards, and bands
/// run in parallel over the CKernels pool. Where the direct kernel applies (float32, AVX-512
/// or AVX2, unit stride along the row), the forward and, with unit strides, the input gradient
/// skip the columns: tiles of output channels by output columns read the band's zero-padded
/// input rows through a table of window offsets (`ckernels_sconv2d_direct`).
///
/// It computes the same products as the op-by-op path in `convolution4D` and
/// `ConvolutionBackward0` (which stays the reference, and the path on other devices and when
/// a backward graph is recorded); results differ from it only by the rounding of sums taken
/// in another order: GEMMs over bands instead of the whole image, and weight and bias
/// gradients summed per image, then over `slots(...)` fixed runs of images, then over the
/// runs in order. That order depends on the batch size alone, never on the thread count.
enum CPUConvolution {
    /// The most bytes of columns one band holds (it stays in the 2 MiB L2 of one core next to
    /// the GEMM's packed panels); a band is at least one output row.
    static let bandBytes = 1 << 20

    /// The forward `[N, C, H, W] ⊛ [O, C/G, kH, kW] (+ bias)` → `[N, O, outH, outW]` on the CPU for
    /// float32/float64, or nil when this path does not cover the operands (another device or dtype,
    /// or a packing buffer that could not be allocated). Where `ckernels_sconv2d_direct_applies`
    /// (float32 on AVX-512 or AVX2, unit horizontal stride, output rows that fill the kernel's
    /// column tiles), each band is computed from the image directly, bias included, without
    /// columns; `direct: false` forces im2col and the GEMM (for tests comparing the two).
    /// `bandBytes` is for tests that want many bands.
    static func forward(_ x: Tensor, _ w: Tensor, _ b: Tensor?, geometry g: WindowGeometry, groups: Int,
                        bandBytes: Int = bandBytes, direct: Bool = true) -> Tensor? {
        guard x.device == .cpu, x.dtype == w.dtype, b.map({ $0.dtype == x.dtype }) ?? true else { return nil }
        switch x.dtype {
        case .float32: return forward(x, w, b, g, groups, bandBytes, direct, Float.self)
        case .float64: return forward(x, w, b, g, groups, bandBytes, direct, Double.self)
        default: return nil
        }
    }

    /// The gradients of a convolution's input `[N, C, H, W]`, weight `[O, C/G, kH, kW]` and
    /// bias `[O]` (each only when asked for) from the output gradient `[N, O, outH, outW]`,
    /// or nil when this path does not cover the operands.
    static func backward(_ gradOutput: Tensor, input x: Tensor, weight w: Tensor, geometry g: WindowGeometry, groups: Int,
                         needs: (input: Bool, weight: Bool, bias: Bool),
                         bandBytes: Int = bandBytes, direct: Bool = true) -> (input: Tensor?, weight: Tensor?, bias: Tensor?)? {
        guard x.device == .cpu, gradOutput.device == .cpu, x.dtype == w.dtype, gradOutput.dtype == x.dtype else { return nil }
        switch x.dtype {
        case .float32: return backward(gradOutput, x, w, g, groups, needs, bandBytes, direct, Float.self)
        case .float64: return backward(gradOutput, x, w, g, groups, needs, bandBytes, direct, Double.self)
        default: return nil
        }
    }

    /// The runs of images whose weight and bias gradients are summed together before the runs
    /// are added in order: up to 8 (load balance on a few cores), fewer when their partial
    /// weight gradients would pass 64 MiB. A function of the sizes only, not of the thread count.
    static func slots(batch: Int, weightBytes: Int) -> Int {
        Swift.max(1, Swift.min(batch, 8, (64 << 20) / Swift.max(1, weightBytes)))
    }

    /// Output rows per band for this geometry: as many as fit in `bandBytes`, evened out over
    /// the bands an image needs (two bands of 16 rows rather than 28 and 4).
    static func bandRows<T>(_ g: WindowGeometry, _ bandBytes: Int, _: T.Type) -> Int {
        let rowBytes = g.channels * g.kernelH * g.kernelW * g.outW * MemoryLayout<T>.stride
        let most = Swift.max(1, Swift.min(g.outH, bandBytes / Swift.max(1, rowBytes)))
        let bands = (g.outH + most - 1) / most
        return (g.outH + bands - 1) / bands
    }

    /// Whether the columns of image `n` are `x` itself: a 1×1 window at stride 1 without
    /// padding over an image whose rows are dense, so each channel is one row of `L` values.
    static func isPointwise(_ x: Tensor, _ g: WindowGeometry) -> Bool {
        g.kernelH == 1 && g.kernelW == 1 && g.strideH == 1 && g.strideW == 1 && g.paddingH == 0 && g.paddingW == 0
            && (g.width == 1 || x.strides[3] == 1) && (g.height == 1 || x.strides[2] == g.width)
    }

    /// Runs `body` with CKernels capped at its portable C build, for tests of that path (not
    /// while kernels run on other threads: the level is process-wide).
    static func withPortableKernels<R>(_ body: () throws -> R) rethrows -> R {
        try withKernels(capped: CKERNELS_ISA_SCALAR, body)
    }

    /// Runs `body` with CKernels capped at `level` (a `CKERNELS_ISA_*` value, lowered to what
    /// this CPU has), for tests of the AVX2 and portable paths (not while kernels run on other
    /// threads: the level is process-wide).
    static func withKernels<R>(capped level: Int32, _ body: () throws -> R) rethrows -> R {
        let previous = ckernels_isa()
        _ = ckernels_set_isa(level)
        defer { _ = ckernels_set_isa(previous) }
        return try body()
    }

    /// Runs `body` with the CKernels pool set to `threads` threads, then restores the default
    /// (for tests that check results do not depend on the thread count).
    static func withThreads<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
        _ = ckernels_set_num_threads(Int32(threads))
        defer { _ = ckernels_set_num_threads(0) }
        return try body()
    }

    // MARK: - Forward

    private static func forward<T: ConvScalar>(_ x: Tensor, _ weight: Tensor, _ bias: Tensor?, _ g: WindowGeometry,
                                               _ groups: Int, _ bandBytes: Int, _ useDirectKernel: Bool, _: T.Type) -> Tensor? {
        let n = g.batch, o = weight.shape[0], og = o / groups, l = g.outH * g.outW
        let cg = g.channels / groups, kg = cg * g.kernelH * g.kernelW, ckk = g.channels * g.kernelH * g.kernelW
        guard n > 0, o > 0, kg > 0, l > 0 else { return nil }
        let w = weight.contiguousWithoutGrad(), b = bias?.contiguousWithoutGrad()
        let out = Tensor(uninitializedShape: [n, o, g.outH, g.outW], dtype: x.dtype)
        let rows = bandRows(g, bandBytes, T.self), bands = (g.outH + rows - 1) / rows
        let pointwise = isPointwise(x, g)
        var window = ckernels_window(geometry: g, channels: g.channels)
        // one group's window, for the direct kernel (which reads the image without columns)
        var groupWindow = ckernels_window(geometry: g, channels: cg)
        let direct = !pointwise && useDirectKernel && T.convDirectApplies(&groupWindow)
        let (sn, sc, sh, sw) = (x.strides[0], x.strides[1], x.strides[2], x.strides[3])
        let status = UnsafeMutableBufferPointer<Int32>.allocate(capacity: n * bands)
        defer { status.deallocate() }
        status.initialize(repeating: CKERNELS_OK)
        withExtendedLifetime((x, w, b, out)) {
            let px = UnsafePointer(x.pointer(T.self) + x.offset), pw = UnsafePointer(w.pointer(T.self) + w.offset)
            let pb = b.map { UnsafePointer($0.pointer(T.self) + $0.offset) }, po = out.pointer(T.self)
            CKernelPaths.parallelFor(n * bands, grain: 1) { begin, end in
                let scratch = pointwise || direct ? nil : UnsafeMutablePointer<T>.allocate(capacity: ckk * rows * g.outW)
                defer { scratch?.deallocate() }
                for item in begin..<end {
                    let img = item / bands, oy0 = item % bands * rows, oy1 = Swift.min(g.outH, oy0 + rows)
                    let width = (oy1 - oy0) * g.outW, at = oy0 * g.outW
                    let image = px + img * sn
                    if direct {
                        for gi in 0..<groups {
                            let s = T.convDirect(&groupWindow, og, pw + gi * og * kg, pb.map { $0 + gi * og }, image + gi * cg * sc,
                                                 sc, sh, sw, oy0, oy1, po + (img * o + gi * og) * l, l)
                            if s != CKERNELS_OK { status[item] = s }
                        }
                        continue
                    }
                    let cols: UnsafePointer<T>, ldc: Int
                    if let scratch {
                        status[item] = T.im2col(&window, image, sc, sh, sw, 0, oy0, oy1, scratch, width)
                        if status[item] != CKERNELS_OK { continue }
                        (cols, ldc) = (UnsafePointer(scratch), width)
                    } else {
                        (cols, ldc) = (image + at, sc)
                    }
                    let dst = po + img * o * l
                    for gi in 0..<groups {
                        let s = T.gemm(og, width, kg, pw + gi * og * kg, kg, 1, cols + gi * kg * ldc, ldc, 1,
                                       0, dst + gi * og * l + at, l, 1)
                        if s != CKERNELS_OK { status[item] = s }
                    }
                    if let pb {
                        for oc in 0..<o {
                            let row = dst + oc * l + at, v = pb[oc]
                            for k in 0..<width { row[k] += v }
                        }
                    }
                }
            }
        }
        return status.allSatisfy { $0 == CKERNELS_OK } ? out : nil
    }

    // MARK: - Backward

    /// The window of the input gradient as a convolution of the output gradient (`channels` of
    /// them per group) with the flipped weights: unit strides, padding (k - 1) * d - p, the
    /// input's size as output. Nil where the strides are not 1 or the padding exceeds
    /// (k - 1) * d (the adjoint would crop).
    static func transposedWindow(_ g: WindowGeometry, channels: Int) -> ckernels_window? {
        let padH = (g.kernelH - 1) * g.dilationH - g.paddingH, padW = (g.kernelW - 1) * g.dilationW - g.paddingW
        guard g.strideH == 1, g.strideW == 1, padH >= 0, padW >= 0 else { return nil }
        return ckernels_window(channels: channels, height: g.outH, width: g.outW, kernel_h: g.kernelH, kernel_w: g.kernelW,
                               stride_h: 1, stride_w: 1, pad_h: padH, pad_w: padW,
                               dilation_h: g.dilationH, dilation_w: g.dilationW, out_h: g.height, out_w: g.width)
    }

    /// Input rows per call of the direct kernel for the input gradient: as many as keep the
    /// output gradient's zero-padded rows that they read (`channels` per group, each a little
    /// wider than a row) within `bandBytes` of scratch, at least one.
    static func adjointBandRows<T>(_ g: WindowGeometry, channels: Int, bandBytes: Int, _: T.Type) -> Int {
        let rowBytes = channels * (g.width + 32 + (g.kernelW - 1) * g.dilationW) * MemoryLayout<T>.stride
        return Swift.max(1, bandBytes / Swift.max(1, rowBytes) - (g.kernelH - 1) * g.dilationH)
    }

    /// The weights `[O, C/G, kH, kW]` (contiguous) as G blocks of `[C/G, O/G, kH, kW]`, each
    /// window turned by 180°: block g, [c, o, i, j] = w[g * O/G + o, c, kH - 1 - i, kW - 1 - j].
    /// The caller deallocates.
    static func flippedWeights<T: ConvScalar>(_ w: Tensor, groups: Int, _: T.Type) -> UnsafeMutablePointer<T> {
        let (o, cg, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3]), og = o / groups, kk = kh * kw
        let out = UnsafeMutablePointer<T>.allocate(capacity: o * cg * kk)
        withExtendedLifetime(w) {
            let src = w.pointer(T.self) + w.offset
            for gi in 0..<groups {
                for c in 0..<cg {
                    for oc in 0..<og {
                        let from = src + ((gi * og + oc) * cg + c) * kk, to = out + ((gi * cg + c) * og + oc) * kk
                        for k in 0..<kk { to[k] = from[kk - 1 - k] }
                    }
                }
            }
        }
        return out
    }

    private static func backward<T: ConvScalar>(_ gradOutput: Tensor, _ x: Tensor, _ weight: Tensor, _ g: WindowGeometry,
                                                _ groups: Int, _ needs: (input: Bool, weight: Bool, bias: Bool),
                                                _ bandBytes: Int, _ useDirectKernel: Bool, _: T.Type)
        -> (input: Tensor?, weight: Tensor?, bias: Tensor?)? {
        let n = g.batch, o = weight.shape[0], og = o / groups, l = g.outH * g.outW
        let cg = g.channels / groups, kg = cg * g.kernelH * g.kernelW, ckk = g.channels * g.kernelH * g.kernelW
        let hw = g.height * g.width
        guard n > 0, o > 0, kg > 0, l > 0 else { return nil }
        let gy = gradOutput.contiguousWithoutGrad(), w = weight.contiguousWithoutGrad()
        let rows = bandRows(g, bandBytes, T.self), bands = (g.outH + rows - 1) / rows
        let pointwise = isPointwise(x, g)
        let slotCount = slots(batch: n, weightBytes: o * kg * MemoryLayout<T>.stride)
        var window = ckernels_window(geometry: g, channels: g.channels)
        let (sn, sc, sh, sw) = (x.strides[0], x.strides[1], x.strides[2], x.strides[3])
        // With unit strides the input gradient is a convolution of the output gradient with the
        // flipped, transposed weights (padding (k - 1) * d - p): the direct kernel, where it
        // applies, computes it without gradCols and col2im.
        let transposed = Self.transposedWindow(g, channels: og)
        let directInput = needs.input && !pointwise && useDirectKernel && {
            guard var t = transposed else { return false }
            return T.convDirectApplies(&t)
        }()
        let flipped = directInput ? flippedWeights(w, groups: groups, T.self) : nil
        defer { flipped?.deallocate() }
        let inputRows = adjointBandRows(g, channels: og, bandBytes: bandBytes, T.self)

        // Zeroed image by image inside the parallel loop, just before col2im adds into it.
        let gradInput = needs.input ? Tensor(uninitializedShape: g.imageShape, dtype: x.dtype) : nil
        // Per-run partial sums, added in run order at the end.
        let weightParts = needs.weight ? UnsafeMutablePointer<T>.allocate(capacity: slotCount * o * kg) : nil
        let biasParts = needs.bias ? UnsafeMutablePointer<T>.allocate(capacity: slotCount * o) : nil
        defer {
            weightParts?.deallocate()
            biasParts?.deallocate()
        }
        let status = UnsafeMutableBufferPointer<Int32>.allocate(capacity: slotCount)
        defer { status.deallocate() }
        status.initialize(repeating: CKERNELS_OK)

        withExtendedLifetime((gy, x, w, gradInput)) {
            let py = UnsafePointer(gy.pointer(T.self) + gy.offset), pw = UnsafePointer(w.pointer(T.self) + w.offset)
            let px = UnsafePointer(x.pointer(T.self) + x.offset), pgi = gradInput?.pointer(T.self)
            CKernelPaths.parallelFor(slotCount, grain: 1) { begin, end in
                let bandSize = ckk * rows * g.outW
                // One buffer serves both: the columns are dead once the weight GEMM has read them.
                let buffer = (needs.weight || (needs.input && !directInput)) && !pointwise
                    ? UnsafeMutablePointer<T>.allocate(capacity: bandSize) : nil
                defer { buffer?.deallocate() }
                let cols = needs.weight ? buffer : nil, gradCols = needs.input && !directInput ? buffer : nil
                for slot in begin..<end {
                    let wPart = weightParts.map { $0 + slot * o * kg }, bPart = biasParts.map { $0 + slot * o }
                    bPart?.initialize(repeating: 0, count: o)
                    var first = true
                    for img in (slot * n / slotCount)..<((slot + 1) * n / slotCount) {
                        let dy = py + img * o * l, image = px + img * sn
                        if let pgi, let flipped, var t = transposed {
                            for y0 in stride(from: 0, to: g.height, by: inputRows) {
                                let y1 = Swift.min(g.height, y0 + inputRows)
                                for gi in 0..<groups {
                                    let s = T.convDirect(&t, cg, flipped + gi * cg * og * g.kernelH * g.kernelW, nil,
                                                         dy + gi * og * l, l, g.outW, 1, y0, y1,
                                                         pgi + (img * g.channels + gi * cg) * hw, hw)
                                    if s != CKERNELS_OK { status[slot] = s }
                                }
                            }
                        } else if let pgi, !pointwise {
                            (pgi + img * g.channels * hw).initialize(repeating: 0, count: g.channels * hw)
                        }
                        if let bPart {
                            for oc in 0..<o { bPart[oc] += T.sum(l, dy + oc * l) }
                        }
                        for band in 0..<bands {
                            let oy0 = band * rows, oy1 = Swift.min(g.outH, oy0 + rows)
                            let width = (oy1 - oy0) * g.outW, at = oy0 * g.outW
                            var s = CKERNELS_OK
                            if let wPart {
                                // gradWeight[g] += gy[g rows, band] · cols[g]ᵀ (B read transposed).
                                let src: UnsafePointer<T>, ldc: Int
                                if let cols {
                                    s = T.im2col(&window, image, sc, sh, sw, 0, oy0, oy1, cols, width)
                                    (src, ldc) = (UnsafePointer(cols), width)
                                } else {
                                    (src, ldc) = (image + at, sc)
                                }
                                // As its transpose, gradWeight[g]ᵀ += cols[g] · gy[g rows, band]ᵀ: the
                                // columns are then A, read as row copies, and only gy's og rows are
                                // transposed into B (measured 134 -> 146 GFLOP/s on one core for
                                // 64 x 288 x 512). The same products summed in the same order: the
                                // same bits. `weightParts` hold gradWeightᵀ per group.
                                for gi in 0..<groups where s == CKERNELS_OK {
                                    s = T.gemm(kg, og, width, src + gi * kg * ldc, ldc, 1, dy + gi * og * l + at, 1, l,
                                               first ? 0 : 1, wPart + gi * og * kg, og, 1)
                                }
                            }
                            if let pgi, !directInput, s == CKERNELS_OK {
                                // gradCols[g] = w[g]ᵀ · gy[g rows, band], then folded into the image.
                                let dst: UnsafeMutablePointer<T>, ldc: Int
                                if let gradCols {
                                    (dst, ldc) = (gradCols, width)
                                } else {
                                    (dst, ldc) = (pgi + img * g.channels * hw + at, hw)
                                }
                                for gi in 0..<groups where s == CKERNELS_OK {
                                    s = T.gemm(kg, width, og, pw + gi * og * kg, 1, kg, dy + gi * og * l + at, l, 1,
                                               0, dst + gi * kg * ldc, ldc, 1)
                                }
                                if let gradCols, s == CKERNELS_OK {
                                    s = T.col2im(&window, gradCols, width, oy0, oy1, pgi + img * g.channels * hw)
                                }
                            }
                            if s != CKERNELS_OK { status[slot] = s }
                            first = false
                        }
                    }
                }
            }
        }
        guard status.allSatisfy({ $0 == CKERNELS_OK }) else { return nil }

        var gradWeight: Tensor?
        if let weightParts {
            // Each part holds gradWeight[g]ᵀ ([kg, og]) per group; summed in slot order.
            let out = Tensor(uninitializedShape: weight.shape, dtype: x.dtype), p = out.pointer(T.self)
            withExtendedLifetime(out) {
                for slot in 0..<slotCount {
                    let part = weightParts + slot * o * kg
                    for gi in 0..<groups {
                        let dst = p + gi * og * kg, src = part + gi * og * kg
                        for oc in 0..<og {
                            let row = dst + oc * kg
                            if slot == 0 {
                                for k in 0..<kg { row[k] = src[k * og + oc] }
                            } else {
                                for k in 0..<kg { row[k] += src[k * og + oc] }
                            }
                        }
                    }
                }
            }
            gradWeight = out
        }
        var gradBias: Tensor?
        if let biasParts {
            let out = Tensor(uninitializedShape: [o], dtype: x.dtype), p = out.pointer(T.self)
            withExtendedLifetime(out) {
                p.update(from: biasParts, count: o)
                for slot in 1..<slotCount {
                    for k in 0..<o { p[k] += biasParts[slot * o + k] }
                }
            }
            gradBias = out
        }
        return (gradInput, gradWeight, gradBias)
    }
}

// MARK: - Element types

/// Float and Double with their CKernels entries (GEMM, windows, sums), so the fused paths
/// are written once.
protocol ConvScalar: FloatElement {
    static func im2col(_ w: UnsafePointer<ckernels_window>, _ x: UnsafePointer<Self>, _ sc: Int, _ sh: Int, _ sw: Int,
                       _ pad: Self, _ oy0: Int, _ oy1: Int, _ cols: UnsafeMutablePointer<Self>, _ ldc: Int) -> Int32
    static func col2im(_ w: UnsafePointer<ckernels_window>, _ cols: UnsafePointer<Self>, _ ldc: Int, _ oy0: Int, _ oy1: Int,
                       _ image: UnsafeMutablePointer<Self>) -> Int32
    static func gemm(_ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Self>, _ rsA: Int, _ csA: Int,
                     _ b: UnsafePointer<Self>, _ rsB: Int, _ csB: Int, _ beta: Self,
                     _ c: UnsafeMutablePointer<Self>, _ rsC: Int, _ csC: Int) -> Int32
    /// The sum of `n` contiguous values in CKernels' fixed blocked order.
    static func sum(_ n: Int, _ x: UnsafePointer<Self>) -> Self
    /// Whether `convDirect` computes window `w` on this CPU.
    static func convDirectApplies(_ w: UnsafePointer<ckernels_window>) -> Bool
    /// One band of output rows of one group computed from the image without a column matrix,
    /// bias included (`ckernels_sconv2d_direct`); only where `convDirectApplies`.
    static func convDirect(_ w: UnsafePointer<ckernels_window>, _ outChannels: Int, _ weight: UnsafePointer<Self>,
                           _ bias: UnsafePointer<Self>?, _ x: UnsafePointer<Self>, _ sc: Int, _ sh: Int, _ sw: Int,
                           _ oy0: Int, _ oy1: Int, _ out: UnsafeMutablePointer<Self>, _ ldo: Int) -> Int32
}

extension Float: ConvScalar {
    static func im2col(_ w: UnsafePointer<ckernels_window>, _ x: UnsafePointer<Float>, _ sc: Int, _ sh: Int, _ sw: Int,
                       _ pad: Float, _ oy0: Int, _ oy1: Int, _ cols: UnsafeMutablePointer<Float>, _ ldc: Int) -> Int32 {
        ckernels_sim2col(w, x, sc, sh, sw, pad, oy0, oy1, cols, ldc)
    }
    static func col2im(_ w: UnsafePointer<ckernels_window>, _ cols: UnsafePointer<Float>, _ ldc: Int, _ oy0: Int, _ oy1: Int,
                       _ image: UnsafeMutablePointer<Float>) -> Int32 {
        ckernels_scol2im(w, cols, ldc, oy0, oy1, image)
    }
    static func gemm(_ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ rsA: Int, _ csA: Int,
                     _ b: UnsafePointer<Float>, _ rsB: Int, _ csB: Int, _ beta: Float,
                     _ c: UnsafeMutablePointer<Float>, _ rsC: Int, _ csC: Int) -> Int32 {
        ckernels_sgemm(m, n, k, 1, a, rsA, csA, b, rsB, csB, beta, c, rsC, csC)
    }
    static func sum(_ n: Int, _ x: UnsafePointer<Float>) -> Float {
        var r: Float = 0
        // n >= 0 and x non-null: ckernels_ssum cannot fail here.
        _ = ckernels_ssum(n, x, &r)
        return r
    }
    static func convDirectApplies(_ w: UnsafePointer<ckernels_window>) -> Bool { ckernels_sconv2d_direct_applies(w) != 0 }
    static func convDirect(_ w: UnsafePointer<ckernels_window>, _ outChannels: Int, _ weight: UnsafePointer<Float>,
                           _ bias: UnsafePointer<Float>?, _ x: UnsafePointer<Float>, _ sc: Int, _ sh: Int, _ sw: Int,
                           _ oy0: Int, _ oy1: Int, _ out: UnsafeMutablePointer<Float>, _ ldo: Int) -> Int32 {
        ckernels_sconv2d_direct(w, outChannels, weight, bias, x, sc, sh, sw, oy0, oy1, out, ldo)
    }
}

extension Double: ConvScalar {
    static func im2col(_ w: UnsafePointer<ckernels_window>, _ x: UnsafePointer<Double>, _ sc: Int, _ sh: Int, _ sw: Int,
                       _ pad: Double, _ oy0: Int, _ oy1: Int, _ cols: UnsafeMutablePointer<Double>, _ ldc: Int) -> Int32 {
        ckernels_dim2col(w, x, sc, sh, sw, pad, oy0, oy1, cols, ldc)
    }
    static func col2im(_ w: UnsafePointer<ckernels_window>, _ cols: UnsafePointer<Double>, _ ldc: Int, _ oy0: Int, _ oy1: Int,
                       _ image: UnsafeMutablePointer<Double>) -> Int32 {
        ckernels_dcol2im(w, cols, ldc, oy0, oy1, image)
    }
    static func gemm(_ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Double>, _ rsA: Int, _ csA: Int,
                     _ b: UnsafePointer<Double>, _ rsB: Int, _ csB: Int, _ beta: Double,
                     _ c: UnsafeMutablePointer<Double>, _ rsC: Int, _ csC: Int) -> Int32 {
        ckernels_dgemm(m, n, k, 1, a, rsA, csA, b, rsB, csB, beta, c, rsC, csC)
    }
    static func sum(_ n: Int, _ x: UnsafePointer<Double>) -> Double {
        var r: Double = 0
        // n >= 0 and x non-null: ckernels_dsum cannot fail here.
        _ = ckernels_dsum(n, x, &r)
        return r
    }
    /// No direct kernel for float64: its convolutions take im2col and the GEMM.
    static func convDirectApplies(_ w: UnsafePointer<ckernels_window>) -> Bool { false }
    static func convDirect(_ w: UnsafePointer<ckernels_window>, _ outChannels: Int, _ weight: UnsafePointer<Double>,
                           _ bias: UnsafePointer<Double>?, _ x: UnsafePointer<Double>, _ sc: Int, _ sh: Int, _ sw: Int,
                           _ oy0: Int, _ oy1: Int, _ out: UnsafeMutablePointer<Double>, _ ldo: Int) -> Int32 {
        CKERNELS_EINVAL
    }
}

extension ckernels_window {
    /// The C window of `g` over one image, with `channels` channels.
    init(geometry g: WindowGeometry, channels: Int) {
        self.init(channels: channels, height: g.height, width: g.width, kernel_h: g.kernelH, kernel_w: g.kernelW,
                  stride_h: g.strideH, stride_w: g.strideW, pad_h: g.paddingH, pad_w: g.paddingW,
                  dilation_h: g.dilationH, dilation_w: g.dilationW, out_h: g.outH, out_w: g.outW)
    }
}
