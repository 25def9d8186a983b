// How in-place writes through views keep the graph right, as PyTorch does it:
//
// - every differentiable view remembers its root base and its own geometry (`ViewInfo`);
// - an in-place op on a view records its node `fn` as usual, then rebases the *base*: the
//   base's history becomes `ViewWriteBackward(fn)`, whose backward takes the base's gradient, runs
//   `fn` on the viewed region and writes the result back into that region;
// - the view's own history becomes a strided view of the base's new history
//   (`AsStridedBackward0`), and any other view of the same base regenerates its history the
//   same way the next time it is read (see `AutogradMeta.gradFn`), because the shared storage
//   version moved on.
//
// Both nodes are written with differentiable tensor ops (including in-place copies into
// views, which record `CopySlices` in turn), so gradients of gradients flow through them.

extension Tensor {
    /// An uninitialized tensor with `strides` over fresh storage just large enough to hold it
    /// (offset 0). Strides must be non-negative.
    static func strided(shape: [Int], strides: [Int], dtype: DType, device: Device) -> Tensor {
        let span = Shape.count(shape) == 0 ? 0 : 1 + zip(shape, strides).reduce(0) { $0 + ($1.0 - 1) * $1.1 }
        let storage: TensorStorage
        do {
            storage = try TensorStorage(backend: Backends.backend(for: device), byteCount: Swift.max(span, 1) * dtype.byteCount)
        } catch {
            preconditionFailure("allocation of \(span) \(dtype) elements on \(device) failed: \(error)")
        }
        return Tensor(storage: storage, shape: shape, strides: strides, offset: 0, dtype: dtype)
    }

    /// A differentiable view of this tensor's storage with any geometry (PyTorch's
    /// `as_strided`); `offset` is absolute, in storage elements.
    func asStridedView(shape: [Int], strides: [Int], offset: Int) -> Tensor {
        viewWithGrad(shape: shape, strides: strides, offset: offset) {
            RegeneratedViewBackward(input: $0, shape: shape, strides: strides, offset: offset)
        }
    }
}

/// The geometry of a tensor: how it reads its storage.
struct Geometry {
    let shape: [Int]
    let strides: [Int]
    let offset: Int

    init(_ tensor: Tensor) {
        shape = tensor.shape
        strides = tensor.strides
        offset = tensor.offset
    }

    init(shape: [Int], strides: [Int], offset: Int) {
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }
}

/// Backward of a strided view of an input (used for views whose history is regenerated after
/// an in-place write): scatters the gradient into a zero tensor laid out like the input.
/// Broadcast (stride-0) dimensions of the view are summed first, so overlapping reads
/// accumulate. Shown as PyTorch shows it, `AsStridedBackward0`.
final class RegeneratedViewBackward: GradFn, @unchecked Sendable {
    let input: Geometry
    let view: Geometry

    init(input: Tensor, shape: [Int], strides: [Int], offset: Int) {
        self.input = Geometry(input)
        self.view = Geometry(shape: shape, strides: strides, offset: offset)
        super.init()
    }

    override var name: String { "AsStridedBackward0" }

    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard var g = gradOutputs[0] else { return [nil] }
        var shape = view.shape
        let broadcastDims = shape.indices.filter { view.strides[$0] == 0 && shape[$0] > 1 }
        if !broadcastDims.isEmpty {
            g = g.sum(dims: broadcastDims, keepDim: true)
            for d in broadcastDims { shape[d] = 1 }
        }
        let result = Tensor.strided(shape: input.shape, strides: input.strides, dtype: g.dtype, device: g.device)
        Backends.backend(for: g.device).fill(result, with: .int(0))
        let region = result.asStridedView(shape: shape, strides: view.strides, offset: view.offset - input.offset)
        region.copyFrom(g)
        return [result]
    }
}

/// The history of a base after an in-place op wrote into one of its views (PyTorch's
/// `CopySlices`): the base's gradient passes through unchanged outside the view, and through
/// the in-place op's backward (`fn`) inside it. Its edges are the base's previous history,
/// then `fn`'s edges for the op's other operands. Shown as PyTorch shows it, `CopySlices`.
final class ViewWriteBackward: GradFn, @unchecked Sendable {
    let base: Geometry
    let view: Geometry
    let fn: GradFn

    init(base: Tensor, view: Tensor, fn: GradFn) {
        self.base = Geometry(base)
        self.view = Geometry(view)
        self.fn = fn
        super.init()
    }

    override var name: String { "CopySlices" }

    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return edges.map { _ in nil } }
        let result = Tensor.strided(shape: base.shape, strides: base.strides, dtype: g.dtype, device: g.device)
        result.copyFrom(g)
        let slice = result.asStridedView(shape: view.shape, strides: view.strides, offset: view.offset - base.offset)
        var grads = try fn.apply([slice.clone()])
        if let selfGrad = grads.first ?? nil {
            slice.copyFrom(selfGrad)
        } else {
            slice.zero()
        }
        if grads.isEmpty { grads = [nil] }
        grads[0] = result
        while grads.count < edges.count { grads.append(nil) }
        return grads
    }

    override func releaseSaved() {
        fn.releaseSaved()
        super.releaseSaved()
    }
}
