import Synchronization

/// A flat block of device memory shared by a tensor and all views of it.
///
/// Storage is a reference: every `Tensor` value that views the same elements (copies of a
/// tensor, `reshaped`, `transposed`, slices) holds the same `TensorStorage`, so an in-place
/// write through one is seen by all, as in PyTorch. The version counter lives here because
/// PyTorch shares it between a tensor and its views.
final class TensorStorage: @unchecked Sendable {
    // @unchecked Sendable: `pointer`, `byteCount`, `device` and `backend` are immutable; the
    // version counter is atomic (as PyTorch's is); the element bytes are mutated only by
    // in-place ops, whose ordering across threads is the caller's responsibility (as in PyTorch).
    let device: Device
    /// The backend of a non-CPU device (CPU storage keeps none: one existential less to
    /// retain and release per small tensor).
    private let deviceBackend: (any DeviceBackend)?
    let pointer: UnsafeMutableRawPointer
    let byteCount: Int
    private let versionCounter = Atomic<Int>(0)

    /// Bumped by every in-place write (`bumpVersion()`); saved tensors compare it at backward
    /// time.
    var version: Int {
        get { versionCounter.load(ordering: .acquiring) }
        set { versionCounter.store(newValue, ordering: .releasing) }
    }

    /// Records an in-place write.
    func bumpVersion() { versionCounter.add(1, ordering: .acquiringAndReleasing) }
    /// Whether the storage was allocated in inference mode (PyTorch's inference tensors:
    /// they cannot be saved for backward nor written in place outside inference mode).
    let isInference: Bool

    init(backend: any DeviceBackend, byteCount: Int) throws {
        self.deviceBackend = backend is CPUBackend ? nil : backend  // every CPUBackend uses CPUAllocator.shared
        self.device = backend.device
        self.byteCount = byteCount
        self.isInference = GradMode.isInferenceMode
        self.pointer = try backend.allocate(byteCount: byteCount)
    }

    /// Host memory from the CPU allocator, without the backend lookup and dynamic dispatch of
    /// `init(backend:byteCount:)` (the common case; every small op allocates one).
    init(cpuByteCount byteCount: Int) {
        self.deviceBackend = nil
        self.device = .cpu
        self.byteCount = byteCount
        self.isInference = GradMode.isInferenceMode
        self.pointer = CPUAllocator.shared.allocate(byteCount: byteCount)
    }

    /// The backend that owns the memory.
    var backend: any DeviceBackend { deviceBackend ?? Backends.cpu }

    deinit {
        if let deviceBackend {
            deviceBackend.deallocate(pointer, byteCount: byteCount)
        } else {
            CPUAllocator.shared.deallocate(pointer, byteCount: byteCount)
        }
    }
}
