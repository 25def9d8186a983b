/// An n-dimensional array with a run-time dtype and device that records the operations
/// applied to it, so gradients can flow back through them (PyTorch's `torch.Tensor`).
///
/// `Tensor` is a value type holding three references:
/// - **storage**, the elements, shared with every view of the same memory (`reshaped`,
///   `transposed`, slices) and with copies of the value. In-place operations write through
///   to it, so a view and its base see each other's writes, as in PyTorch;
/// - **autograd metadata** (`requiresGrad`, `grad`, `gradFn`), shared by copies of the value,
///   so a copy of a leaf sees the same `.grad` after `backward()`;
/// - the **shape and strides** that say how this value reads the storage.
///
/// In other words, `let b = a` behaves like Python's `b = a`: both names denote one tensor.
/// Use `clone()` for an independent copy and `detach()` for a tensor outside the graph.
///
/// ```swift
/// let study = Tensor(5.0, requiresGrad: true)
/// let grade = study.pow(3)            // tensor(125., gradFn=<PowBackward0>)
/// try grade.backward()
/// study.grad!.item()                  // 75.0
/// ```
public struct Tensor: @unchecked Sendable {
    // @unchecked Sendable: a value type whose references are only replaced through `var`
    // bindings the caller owns; `storage` and `meta` are classes whose mutable state is
    // documented (and locked where shared across threads).
    // `storage` and `meta` are `var` only so `isKnownUniquelyReferenced` can test them
    // (AccumulateGrad adopting a gradient nobody else holds); nothing reassigns them.
    var storage: TensorStorage
    /// The size of each dimension.
    public let shape: [Int]
    /// The distance, in elements, between neighbours along each dimension.
    public let strides: [Int]
    /// The index of the first element in the storage, in elements.
    public let offset: Int
    /// The element type.
    public let dtype: DType
    var meta: AutogradMeta

    /// Wraps existing storage; the designated initializer every other one funnels into.
    init(storage: TensorStorage, shape: [Int], strides: [Int], offset: Int, dtype: DType,
         meta: AutogradMeta = AutogradMeta()) {
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
        self.dtype = dtype
        self.meta = meta
    }

    /// Allocates an uninitialized contiguous tensor on `device`.
    init(uninitializedShape shape: [Int], dtype: DType, device: Device = .cpu) {
        let count = Shape.count(shape)
        if device.kind == .cpu {
            let storage = TensorStorage(cpuByteCount: Swift.max(count, 1) * dtype.byteCount)
            self.init(storage: storage, shape: shape, strides: Shape.contiguousStrides(shape), offset: 0, dtype: dtype)
            return
        }
        let backend = Backends.backend(for: device)
        let storage: TensorStorage
        do {
            storage = try TensorStorage(backend: backend, byteCount: Swift.max(count, 1) * dtype.byteCount)
        } catch {
            preconditionFailure("allocation of \(count) \(dtype) elements on \(device) failed: \(error)")
        }
        self.init(storage: storage, shape: shape, strides: Shape.contiguousStrides(shape), offset: 0, dtype: dtype)
    }

    /// Allocates an uninitialized CPU tensor of `layout`'s shape laid out as `layout` is when
    /// that is a non-contiguous CPU tensor whose elements fill a block of storage in some order
    /// of its dims (transposed, permuted): PyTorch's element-wise ops keep such a layout, and
    /// then run over the block in memory order. Contiguous otherwise (rank < 2 decides that
    /// first: scalar-heavy tapes pay nothing more).
    @inline(__always)
    init(uninitializedLike layout: Tensor, dtype: DType) {
        guard layout.rank >= 2, layout.storage.device.kind == .cpu, !layout.isContiguous, layout.isDenseInSomeOrder else {
            self.init(uninitializedShape: layout.shape, dtype: dtype, device: layout.device)
            return
        }
        let storage = TensorStorage(cpuByteCount: Swift.max(layout.count, 1) * dtype.byteCount)
        self.init(storage: storage, shape: layout.shape, strides: layout.strides, offset: 0, dtype: dtype)
    }

    /// The device the elements live on.
    public var device: Device { storage.device }

    /// The number of elements (PyTorch's `numel()`).
    public var count: Int { Shape.count(shape) }

    /// The number of dimensions (PyTorch's `dim()`).
    public var rank: Int { shape.count }

    /// Whether the elements are laid out densely in row-major order.
    public var isContiguous: Bool { Shape.isContiguous(shape: shape, strides: strides) }

    /// The same elements, shape and storage with fresh autograd metadata (no history).
    func withFreshMeta() -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset, dtype: dtype)
    }

    /// A view of the same storage with another shape/strides/offset and fresh metadata.
    func viewing(shape: [Int], strides: [Int], offset: Int) -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset, dtype: dtype)
    }

    /// Whether both values denote the same tensor (same autograd identity).
    func isSameTensor(as other: Tensor) -> Bool { meta === other.meta }

    /// Whether this value is the only reference to its elements and its autograd identity,
    /// has no history, hooks or gradient of its own, and covers its whole storage densely from
    /// element 0, so it can become a leaf's `.grad` as is (in-place accumulation into it then
    /// never writes one element twice, and nobody else observes it).
    mutating func isUniquelyOwnedPlainTensor() -> Bool {
        guard offset == 0, storage.byteCount == Swift.max(count, 1) * dtype.byteCount, isContiguous,
              isKnownUniquelyReferenced(&storage), isKnownUniquelyReferenced(&meta) else { return false }
        return meta.storedGradFn == nil && meta.view == nil && !meta.requiresGrad && meta.grad == nil
            && !meta.retainsGrad && meta.gradAccumulator == nil
            && meta.tensorHooks.isEmpty && meta.postAccumulateHooks.isEmpty
    }
}
