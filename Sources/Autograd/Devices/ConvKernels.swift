/// The geometry of a 2-D sliding window over `[N, C, H, W]` (1-D windows use `H == 1`).
///
/// Output position `(oy, ox)` with kernel offset `(i, j)` reads input row
/// `oy * strideH - paddingH + i * dilationH` and column `ox * strideW - paddingW + j * dilationW`.
struct WindowGeometry: Equatable, Sendable {
    var batch: Int, channels: Int, height: Int, width: Int
    var kernelH: Int, kernelW: Int
    var strideH: Int, strideW: Int
    var paddingH: Int, paddingW: Int
    var dilationH: Int, dilationW: Int

    /// Output height, PyTorch's `floor((H + 2p - d(k-1) - 1) / s) + 1`.
    var outH: Int { (height + 2 * paddingH - dilationH * (kernelH - 1) - 1) / strideH + 1 }
    /// Output width.
    var outW: Int { (width + 2 * paddingW - dilationW * (kernelW - 1) - 1) / strideW + 1 }
    /// The shape of the unfolded columns, `[N, C * kH * kW, outH * outW]` (PyTorch's `F.unfold`).
    var columnShape: [Int] { [batch, channels * kernelH * kernelW, outH * outW] }
    /// The shape of the image, `[N, C, H, W]`.
    var imageShape: [Int] { [batch, channels, height, width] }
}

/// Kernels of the sliding-window ops (convolution, pooling) and of row lookups (embedding,
/// mini-batches). Kernels know nothing of autograd; outputs are allocated by the caller.
///
/// A backend without its own implementation inherits the default below, which stages through
/// host memory and runs the CPU kernel: correct everywhere, fast only on the CPU.
protocol ConvKernels {
    /// im2col: `cols[n, (c·kH + i)·kW + j, oy·outW + ox] = x[n, c, y, x']`, or `padValue` where
    /// the window reads outside the image. `x` is `[N, C, H, W]` with any strides; `cols` has
    /// `geometry.columnShape` with any strides but a unit innermost one. Floating dtypes only.
    func im2col(_ x: Tensor, geometry: WindowGeometry, padValue: Double, into cols: Tensor)
    /// col2im: adds every column entry back into the image position it was read from (the
    /// adjoint of `im2col`). `cols` as for `im2col`; `image` is contiguous and zero-filled.
    func col2im(_ cols: Tensor, geometry: WindowGeometry, into image: Tensor)
    /// `out[m, :] = source[indices[m], :]` for a contiguous `[V, D]` source, contiguous int64
    /// `indices` `[M]` (already bounds-checked) and contiguous `out` `[M, D]`; any dtype.
    func gatherRows(_ source: Tensor, indices: Tensor, into out: Tensor)
    /// `out[indices[m], :] += source[m, :]` for contiguous `source` `[M, D]`, int64 `indices`
    /// `[M]` and contiguous `out` `[V, D]`; floating dtypes.
    func scatterAddRows(_ source: Tensor, indices: Tensor, into out: Tensor)
}

extension ConvKernels where Self: DeviceBackend {
    // Defaults for a backend without its own kernels: the CPU's, on host copies (the same
    // staging as the indexing defaults in IndexingKernels.swift).
    func im2col(_ x: Tensor, geometry: WindowGeometry, padValue: Double, into cols: Tensor) {
        let hostCols = cols.hostCopy()
        Backends.cpu.im2col(x.hostCopy(), geometry: geometry, padValue: padValue, into: hostCols)
        cols.overwrite(from: hostCols)
    }

    func col2im(_ cols: Tensor, geometry: WindowGeometry, into image: Tensor) {
        let hostImage = image.hostCopy()
        Backends.cpu.col2im(cols.hostCopy(), geometry: geometry, into: hostImage)
        image.overwrite(from: hostImage)
    }

    func gatherRows(_ source: Tensor, indices: Tensor, into out: Tensor) {
        let hostOut = out.hostCopy()
        Backends.cpu.gatherRows(source.hostCopy(), indices: indices.hostCopy(), into: hostOut)
        out.overwrite(from: hostOut)
    }

    func scatterAddRows(_ source: Tensor, indices: Tensor, into out: Tensor) {
        let hostOut = out.hostCopy()
        Backends.cpu.scatterAddRows(source.hostCopy(), indices: indices.hostCopy(), into: hostOut)
        out.overwrite(from: hostOut)
    }
}

extension Tensor {
    /// A contiguous copy with its own storage, not recorded.
    func clonedWithoutGrad() -> Tensor {
        let out = Tensor(uninitializedShape: shape, dtype: dtype, device: device)
        Backends.backend(for: device).copy(self, into: out)
        return out
    }
}
