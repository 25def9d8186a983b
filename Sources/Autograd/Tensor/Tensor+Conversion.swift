// MARK: - Dtype and device conversion

extension Tensor {
    /// This tensor's elements converted to `dtype` (PyTorch's `.to(dtype)`); returns `self`
    /// when the dtype already matches. Differentiable between floating dtypes (`ToCopyBackward0`).
    /// - Complexity: O(n) when converting.
    public func to(_ dtype: DType) -> Tensor {
        if dtype == self.dtype { return self }
        let out = convertedWithoutGrad(to: dtype)
        guard dtype.isFloatingPoint else { return out }
        return Tensor.record(out, input: self) { ToCopyBackward0() }
    }

    /// The conversion, not recorded on the tape.
    func convertedWithoutGrad(to dtype: DType) -> Tensor {
        if dtype == self.dtype { return withFreshMeta() }
        let out = Tensor(uninitializedShape: shape, dtype: dtype, device: device)
        Backends.backend(for: device).copy(self, into: out)
        return out
    }

    /// A copy of this tensor on `device` (PyTorch's `.to(device)`); `self` when already there.
    /// Differentiable: the gradient flows back to the original device (`ToCopyBackward0`).
    ///
    /// - Throws: `CUDAError` when the CUDA device cannot be used (library not found, driver
    ///   insufficient, no such device) or memory runs out.
    public func to(_ device: Device) throws -> Tensor {
        if device == self.device { return self }
        let out = try copiedWithoutGrad(to: device)
        return Tensor.record(out, input: self) { ToCopyBackward0() }
    }

    /// Moves to `device` for internal callers that already know it is usable.
    func to(device: Device) -> Tensor {
        if device == self.device { return self }
        do {
            return try to(device)
        } catch {
            preconditionFailure("cannot use \(device): \(error)")
        }
    }

    /// The cross-device copy, not recorded: staged through host memory.
    func copiedWithoutGrad(to device: Device) throws -> Tensor {
        if device.kind == .cuda { try CUDA.checkAvailable(device: device.index) }
        let source = contiguousWithoutGrad()
        let backend = Backends.backend(for: device)
        let storage = try TensorStorage(backend: backend, byteCount: Swift.max(count, 1) * dtype.byteCount)
        let out = Tensor(storage: storage, shape: shape, strides: Shape.contiguousStrides(shape), offset: 0, dtype: dtype)
        if count == 0 { return out }
        if source.device == .cpu {
            try backend.copyFromHost(source.storage.pointer + source.offset * dtype.byteCount, into: out)
        } else if device == .cpu {
            try source.storage.backend.copyToHost(source, out.storage.pointer)
        } else {
            let host = UnsafeMutableRawPointer.allocate(byteCount: count * dtype.byteCount, alignment: 64)
            defer { host.deallocate() }
            try source.storage.backend.copyToHost(source, host)
            try backend.copyFromHost(host, into: out)
        }
        return out
    }

    /// This tensor on `cuda:index` (PyTorch's `.cuda()`).
    /// - Throws: `CUDAError` as `to(_:)` does.
    public func cuda(_ index: Int = 0) throws -> Tensor { try to(.cuda(index)) }

    /// This tensor on the CPU (PyTorch's `.cpu()`); `self` when already there.
    public func cpu() -> Tensor {
        device == .cpu ? self : to(device: .cpu)
    }
}

// MARK: - Copies

extension Tensor {
    /// A new tensor with its own storage holding the same values (PyTorch's `clone()`).
    /// Differentiable (`CloneBackward0`).
    /// - Complexity: O(n).
    public func clone() -> Tensor {
        let out = Tensor(uninitializedShape: shape, dtype: dtype, device: device)
        Backends.backend(for: device).copy(self, into: out)
        return Tensor.record(out, input: self) { CloneBackward0() }
    }

    /// `self` if its elements are dense and row-major, else a contiguous copy
    /// (differentiable as `clone()`).
    public func contiguous() -> Tensor { isContiguous ? self : clone() }

    /// A contiguous tensor with the same values, not recorded.
    func contiguousWithoutGrad() -> Tensor {
        if isContiguous { return self }
        let out = Tensor(uninitializedShape: shape, dtype: dtype, device: device)
        Backends.backend(for: device).copy(self, into: out)
        return out
    }
}

// MARK: - Reading values

extension Tensor {
    /// The elements in row-major order, converted to `T` (PyTorch's `tolist()` flattened).
    ///
    /// ```swift
    /// Tensor([[1, 2], [3, 4]]).scalars(as: Int.self)   // [1, 2, 3, 4]
    /// ```
    /// - Complexity: O(n); copies from the device when not on the CPU.
    public func scalars<T: TensorScalar>(as type: T.Type) -> [T] {
        var t = convertedWithoutGrad(to: T.tensorDType)
        if t.device != .cpu { t = t.cpu() }
        t = t.contiguousWithoutGrad()
        let n = t.count
        precondition(MemoryLayout<T>.stride == T.tensorDType.byteCount)
        return [T](unsafeUninitializedCapacity: n) { buffer, initialized in
            if n > 0, let base = buffer.baseAddress {
                UnsafeMutableRawPointer(base).copyMemory(from: t.storage.pointer + t.offset * t.dtype.byteCount,
                                                         byteCount: n * t.dtype.byteCount)
            }
            initialized = n
        }
    }

    /// The value of a one-element tensor as a `Double` (PyTorch's `item()`).
    /// - Precondition: the tensor has exactly one element.
    public func item() -> Double { item(as: Double.self) }

    /// The value of a one-element tensor converted to `T`.
    /// - Precondition: the tensor has exactly one element.
    public func item<T: TensorScalar>(as type: T.Type) -> T {
        precondition(count == 1, "item: a Tensor with \(count) elements cannot be converted to Scalar")
        return scalars(as: T.self)[0]
    }

    /// Calls `body` with the raw bytes of this tensor's elements, contiguous and row-major,
    /// copying only if the tensor is not contiguous or not on the CPU. The pointer is valid only
    /// inside `body`.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let t = (device == .cpu ? self : cpu()).contiguousWithoutGrad()
        return try withExtendedLifetime(t) {
            try body(UnsafeRawBufferPointer(start: t.storage.pointer + t.offset * t.dtype.byteCount,
                                            count: t.count * t.dtype.byteCount))
        }
    }

    /// `torch.FloatTensor`-style type name used in error messages.
    var typeDescription: String {
        switch dtype {
        case .bool: return "torch.BoolTensor"
        case .uint8: return "torch.ByteTensor"
        case .int8: return "torch.CharTensor"
        case .int16: return "torch.ShortTensor"
        case .int32: return "torch.IntTensor"
        case .int64: return "torch.LongTensor"
        case .float16: return "torch.HalfTensor"
        case .bfloat16: return "torch.BFloat16Tensor"
        case .float32: return "torch.FloatTensor"
        case .float64: return "torch.DoubleTensor"
        }
    }
}

// MARK: - Backward nodes

/// Backward of `to(dtype)` and `to(device)`: converts the gradient back.
final class ToCopyBackward0: GradFn, @unchecked Sendable {
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0], let meta = edges[0].metadata else { return [nil] }
        var r = g.to(meta.dtype)
        if r.device != meta.device { r = try r.to(meta.device) }
        return [r]
    }
}

/// Backward of `clone()`: the identity.
final class CloneBackward0: GradFn, @unchecked Sendable {
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] { [gradOutputs[0]] }
}
