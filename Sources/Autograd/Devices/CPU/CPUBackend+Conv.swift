import CKernels

/// CPU implementations of the sliding-window and row-lookup kernels.
extension CPUBackend: ConvKernels {
    func im2col(_ x: Tensor, geometry g: WindowGeometry, padValue: Double, into cols: Tensor) {
        precondition(cols.shape == g.columnShape && cols.strides[2] == 1, "im2col: columns must be \(g.columnShape) with unit inner stride")
        switch x.dtype {
        case .float32: Self.im2col(x, g, padValue, cols, Float.self)
        case .float64: Self.im2col(x, g, padValue, cols, Double.self)
        default: preconditionFailure("CPU im2col: \(x.dtype) is not a floating compute dtype")
        }
    }

    func col2im(_ cols: Tensor, geometry g: WindowGeometry, into image: Tensor) {
        precondition(image.isContiguous && image.shape == g.imageShape && cols.shape == g.columnShape && cols.strides[2] == 1,
                     "col2im: a contiguous image and columns with unit inner stride expected")
        switch cols.dtype {
        case .float32: Self.col2im(cols, g, image, Float.self)
        case .float64: Self.col2im(cols, g, image, Double.self)
        default: preconditionFailure("CPU col2im: \(cols.dtype) is not a floating compute dtype")
        }
    }

    /// Elements of columns one parallel chunk should at least write (a chunk is one channel
    /// of one image, or several).
    private static let windowGrain = 1 << 15

    /// im2col through CKernels, one (image, channel) pair per item, in parallel. Exact copies,
    /// so the result is the reference loop's bit for bit.
    private static func im2col<T: ConvScalar>(_ x: Tensor, _ g: WindowGeometry, _ padValue: Double, _ cols: Tensor, _: T.Type) {
        let l = g.outH * g.outW, k = g.kernelH * g.kernelW
        let (cn, cr) = (cols.strides[0], cols.strides[1])
        // Rows that overlap (a stride below one row) are left to the reference loop.
        guard l > 0, k * g.channels > 0, cr >= l || (k * g.channels == 1) else {
            return im2colReference(x, g, padValue, cols, T.self)
        }
        var window = ckernels_window(geometry: g, channels: 1)
        let pad = T(fromDouble: padValue)
        let (sn, sc, sh, sw) = (x.strides[0], x.strides[1], x.strides[2], x.strides[3])
        let ldc = Swift.max(cr, l)
        withExtendedLifetime((x, cols)) {
            let px = UnsafePointer(x.pointer(T.self) + x.offset), pc = cols.pointer(T.self) + cols.offset
            CKernelPaths.parallelFor(g.batch * g.channels, grain: Swift.max(1, windowGrain / (k * l))) { begin, end in
                for item in begin..<end {
                    let n = item / g.channels, c = item % g.channels
                    let status = T.im2col(&window, px + n * sn + c * sc, sc, sh, sw, pad, 0, g.outH,
                                          pc + n * cn + c * k * cr, ldc)
                    precondition(status == CKERNELS_OK, "CPU im2col: CKernels rejected the window \(g) (\(status))")
                }
            }
        }
    }

    /// col2im through CKernels, one (image, channel) pair per item, in parallel. Each image
    /// element receives its terms in the reference loop's order, so results are identical.
    private static func col2im<T: ConvScalar>(_ cols: Tensor, _ g: WindowGeometry, _ image: Tensor, _: T.Type) {
        let l = g.outH * g.outW, k = g.kernelH * g.kernelW, hw = g.height * g.width
        let (cn, cr) = (cols.strides[0], cols.strides[1])
        guard l > 0, k * g.channels > 0, cr >= l || (k * g.channels == 1) else {
            return col2imReference(cols, g, image, T.self)
        }
        var window = ckernels_window(geometry: g, channels: 1)
        let ldc = Swift.max(cr, l)
        withExtendedLifetime((cols, image)) {
            let pc = UnsafePointer(cols.pointer(T.self) + cols.offset), pi = image.pointer(T.self) + image.offset
            CKernelPaths.parallelFor(g.batch * g.channels, grain: Swift.max(1, windowGrain / (k * l))) { begin, end in
                for item in begin..<end {
                    let n = item / g.channels, c = item % g.channels
                    let status = T.col2im(&window, pc + n * cn + c * k * cr, ldc, 0, g.outH, pi + (n * g.channels + c) * hw)
                    precondition(status == CKERNELS_OK, "CPU col2im: CKernels rejected the window \(g) (\(status))")
                }
            }
        }
    }

    // MARK: - Reference loops

    /// The plain im2col loop, the reference the CKernels path is tested against.
    static func im2colReference<T: FloatElement>(_ x: Tensor, _ g: WindowGeometry, _ padValue: Double, _ cols: Tensor, _: T.Type) {
        let px = x.pointer(T.self), pc = cols.pointer(T.self) + cols.offset
        let pad = T(fromDouble: padValue)
        let (sn, sc, sh, sw) = (x.strides[0], x.strides[1], x.strides[2], x.strides[3])
        let (cn, cr) = (cols.strides[0], cols.strides[1])
        let oh = g.outH, ow = g.outW
        for n in 0..<g.batch {
            var row = 0
            for c in 0..<g.channels {
                let plane = x.offset + n * sn + c * sc
                for i in 0..<g.kernelH {
                    for j in 0..<g.kernelW {
                        let dst = pc + n * cn + row * cr
                        row += 1
                        for oy in 0..<oh {
                            let y = oy * g.strideH - g.paddingH + i * g.dilationH
                            let out = dst + oy * ow
                            if y < 0 || y >= g.height {
                                for ox in 0..<ow { out[ox] = pad }
                                continue
                            }
                            let base = plane + y * sh
                            for ox in 0..<ow {
                                let xx = ox * g.strideW - g.paddingW + j * g.dilationW
                                out[ox] = xx >= 0 && xx < g.width ? px[base + xx * sw] : pad
                            }
                        }
                    }
                }
            }
        }
    }

    /// The plain col2im loop, the reference the CKernels path is tested against.
    static func col2imReference<T: FloatElement>(_ cols: Tensor, _ g: WindowGeometry, _ image: Tensor, _: T.Type) {
        let pc = cols.pointer(T.self) + cols.offset, pi = image.pointer(T.self) + image.offset
        let (cn, cr) = (cols.strides[0], cols.strides[1])
        let oh = g.outH, ow = g.outW
        for n in 0..<g.batch {
            var row = 0
            for c in 0..<g.channels {
                let plane = pi + (n * g.channels + c) * g.height * g.width
                for i in 0..<g.kernelH {
                    for j in 0..<g.kernelW {
                        let src = pc + n * cn + row * cr
                        row += 1
                        for oy in 0..<oh {
                            let y = oy * g.strideH - g.paddingH + i * g.dilationH
                            if y < 0 || y >= g.height { continue }
                            let dst = plane + y * g.width
                            let s = src + oy * ow
                            for ox in 0..<ow {
                                let xx = ox * g.strideW - g.paddingW + j * g.dilationW
                                if xx >= 0 && xx < g.width { dst[xx] += s[ox] }
                            }
                        }
                    }
                }
            }
        }
    }

    func gatherRows(_ source: Tensor, indices: Tensor, into out: Tensor) {
        precondition(source.isContiguous && indices.isContiguous && out.isContiguous && indices.dtype == .int64,
                     "gatherRows: contiguous operands and int64 indices expected")
        let m = indices.count
        guard m > 0 else { return }
        let rowBytes = out.count / m * out.dtype.byteCount
        let size = source.dtype.byteCount
        let src = source.storage.pointer + source.offset * size
        let dst = out.storage.pointer + out.offset * size
        let idx = indices.pointer(Int64.self) + indices.offset
        // rows on all threads, about 32 KiB or more each (an embedding of [64, 128] indices into
        // [50000, 512]: 1.36 -> 0.71 ms, PyTorch 0.77)
        CKernelPaths.parallelFor(m, grain: Swift.max(1, (32 << 10) / Swift.max(rowBytes, 1))) { begin, end in
            for r in begin..<end {
                (dst + r * rowBytes).copyMemory(from: src + Int(idx[r]) * rowBytes, byteCount: rowBytes)
            }
        }
    }

    func scatterAddRows(_ source: Tensor, indices: Tensor, into out: Tensor) {
        precondition(source.isContiguous && indices.isContiguous && out.isContiguous && indices.dtype == .int64,
                     "scatterAddRows: contiguous operands and int64 indices expected")
        switch source.dtype {
        case .float32: Self.scatterAddRows(source, indices, out, Float.self)
        case .float64: Self.scatterAddRows(source, indices, out, Double.self)
        default: preconditionFailure("CPU scatterAddRows: \(source.dtype) is not a floating compute dtype")
        }
    }

    private static func scatterAddRows<T: FloatElement>(_ source: Tensor, _ indices: Tensor, _ out: Tensor, _: T.Type) {
        let m = indices.count
        guard m > 0 else { return }
        let d = source.count / m
        let ps = source.pointer(T.self) + source.offset, po = out.pointer(T.self) + out.offset
        let idx = indices.pointer(Int64.self) + indices.offset
        for r in 0..<m {
            let dst = po + Int(idx[r]) * d, src = ps + r * d
            for k in 0..<d { dst[k] += src[k] }
        }
    }
}
