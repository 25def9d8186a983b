/// Kernels that move elements by computed positions: gather/scatter along a dim and
/// advanced indexing through precomputed element offsets.
///
/// Like every kernel family they know nothing of autograd. Index tensors arrive as int64,
/// already bounds-checked and with negative values wrapped by the op layer (the CUDA backend
/// also takes int32 indices, and its kernels check bounds again, reporting the first bad
/// value with the CPU's message). Every dtype is accepted, half types included (these
/// kernels move values; accumulation happens in the element's own arithmetic, widened to
/// float32 for half types).
protocol IndexingKernels {
    /// `out[p] = x[p with p[dim] replaced by index[p]]` over index's shape (PyTorch's
    /// `gather`); `out` has index's shape.
    func gather(_ x: Tensor, dim: Int, index: Tensor, into out: Tensor)
    /// `target[p with p[dim] replaced by index[p]] = src[p]` (or `+=` when `accumulate`)
    /// over index's shape (PyTorch's `scatter_`/`scatter_add_`); writes in place.
    func scatter(_ src: Tensor, dim: Int, index: Tensor, into target: Tensor, accumulate: Bool)
    /// `out[b, r] = base[r]` read at the extra element offset `offsets[b]`: `out` has shape
    /// `offsets.shape + base.shape`. The op layer folds the indexed dims into `offsets`.
    func take(_ base: Tensor, offsets: Tensor, into out: Tensor)
    /// `base[r]` at extra offset `offsets[b]` `= values[b, r]` (or `+=` when `accumulate`,
    /// summing duplicates); `values` has shape `offsets.shape + base.shape` (any strides).
    func put(_ values: Tensor, offsets: Tensor, into base: Tensor, accumulate: Bool)
}

/// Running reductions along one dim.
enum ScanOp: Sendable {
    case sum, prod
}

/// Cumulative kernels (PyTorch's `cumsum`, `cumprod`).
protocol ScanKernels {
    /// `out[..., i, ...] = x[..., 0, ...] ⊕ … ⊕ x[..., i, ...]` along `dim`; `out` has x's
    /// shape. Floats accumulate in double, integers in int64 (PyTorch's CPU accumulate types).
    func scan(_ op: ScanOp, _ x: Tensor, dim: Int, into out: Tensor)
}

// MARK: - Host fallback

/// Runs a kernel family on the CPU for a backend that has no native implementation (the CPU
/// and CUDA backends both have their own): inputs are staged to host memory, the CPU kernel
/// runs, and results are copied back. Correct on every device; a backend overrides a method
/// when it has a faster kernel.
extension IndexingKernels where Self: DeviceBackend {
    func gather(_ x: Tensor, dim: Int, index: Tensor, into out: Tensor) {
        let hostOut = out.hostCopy()
        Backends.cpu.gather(x.hostCopy(), dim: dim, index: index.hostCopy(), into: hostOut)
        out.overwrite(from: hostOut)
    }

    func scatter(_ src: Tensor, dim: Int, index: Tensor, into target: Tensor, accumulate: Bool) {
        let hostTarget = target.hostCopy()
        Backends.cpu.scatter(src.hostCopy(), dim: dim, index: index.hostCopy(), into: hostTarget, accumulate: accumulate)
        target.overwrite(from: hostTarget)
    }

    func take(_ base: Tensor, offsets: Tensor, into out: Tensor) {
        // Offsets address base's storage, so the whole storage travels.
        let (hostBase, _) = base.hostStorageCopy()
        let hostOut = out.hostCopy()
        Backends.cpu.take(hostBase, offsets: offsets.hostCopy(), into: hostOut)
        out.overwrite(from: hostOut)
    }

    func put(_ values: Tensor, offsets: Tensor, into base: Tensor, accumulate: Bool) {
        let (hostBase, whole) = base.hostStorageCopy()
        Backends.cpu.put(values.hostCopy(), offsets: offsets.hostCopy(), into: hostBase, accumulate: accumulate)
        whole.overwriteStorage(from: hostBase)
    }
}

extension ScanKernels where Self: DeviceBackend {
    func scan(_ op: ScanOp, _ x: Tensor, dim: Int, into out: Tensor) {
        let hostOut = out.hostCopy()
        Backends.cpu.scan(op, x.hostCopy(), dim: dim, into: hostOut)
        out.overwrite(from: hostOut)
    }
}

extension Tensor {
    /// A CPU tensor with this one's values and geometry-free contiguous layout (self on the CPU).
    func hostCopy() -> Tensor { device == .cpu ? self : withFreshMeta().cpu() }

    /// The whole storage copied to the host, viewed with this tensor's geometry, plus a
    /// tensor spanning the whole device storage (for copying back).
    func hostStorageCopy() -> (view: Tensor, whole: Tensor) {
        let n = storage.byteCount / dtype.byteCount
        let whole = Tensor(storage: storage, shape: [n], strides: [1], offset: 0, dtype: dtype)
        if device == .cpu { return (self, whole) }
        let host = whole.cpu()
        return (host.viewing(shape: shape, strides: strides, offset: offset), whole)
    }

    /// Copies `host` (a CPU tensor of this shape) into this device tensor, any strides.
    func overwrite(from host: Tensor) {
        if device == .cpu {
            if host.storage !== storage { Backends.cpu.copy(host, into: self) }
            return
        }
        let staged = host.to(device: device)
        Backends.backend(for: device).copy(staged, into: self)
    }

    /// Copies a whole host storage back over this tensor's (which spans its storage).
    func overwriteStorage(from hostView: Tensor) {
        if device == .cpu { return }
        let n = storage.byteCount / dtype.byteCount
        let hostWhole = Tensor(storage: hostView.storage, shape: [n], strides: [1], offset: 0, dtype: dtype)
        overwrite(from: hostWhole)
    }
}
