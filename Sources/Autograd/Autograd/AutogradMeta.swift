import Synchronization

/// The autograd identity of a tensor, shared by every copy of the `Tensor` value.
///
/// Leaves hold `requiresGrad` and `grad`; results of recorded ops hold their `gradFn`.
final class AutogradMeta: @unchecked Sendable {
    // @unchecked Sendable: `state` is protected by `lock` wherever backward may run on another
    // thread (grad accumulation, hooks); the remaining fields are set once when an op records.
    let lock = Mutex<Void>(())
    var requiresGrad: Bool
    var grad: Tensor?
    /// The node that produced the tensor; read through `gradFn`, which refreshes views.
    var storedGradFn: GradFn?
    var outputNr: Int
    /// Set on differentiable views: the base they view and their own geometry.
    var view: ViewInfo?
    weak var gradAccumulator: AccumulateGrad?
    var retainsGrad = false
    /// Hooks, allocated on first registration (read and written under `lock`): empty arrays
    /// here cost every tensor two releases when it went away.
    private var hooks: TensorHooks?
    var tensorHooks: [(id: Int, hook: @Sendable (Tensor) -> Tensor?)] {
        get { hooks?.tensorHooks ?? [] }
        set { hooksForWriting.tensorHooks = newValue }
    }
    var postAccumulateHooks: [(id: Int, hook: @Sendable (Tensor) -> Void)] {
        get { hooks?.postAccumulateHooks ?? [] }
        set { hooksForWriting.postAccumulateHooks = newValue }
    }

    private var hooksForWriting: TensorHooks {
        if let hooks { return hooks }
        let made = TensorHooks()
        hooks = made
        return made
    }

    init(requiresGrad: Bool = false, gradFn: GradFn? = nil, outputNr: Int = 0) {
        self.requiresGrad = requiresGrad
        self.storedGradFn = gradFn
        self.outputNr = outputNr
    }

    /// The node that produced the tensor. For a view whose storage was written in place since
    /// its history was last set (through the base or another view), the history is rebuilt
    /// as a strided view of the base's current history (PyTorch regenerates it the same way,
    /// as `AsStridedBackward0`).
    var gradFn: GradFn? {
        get {
            if let view, view.version != view.base.storage.version {
                return lock.withLock { _ in refreshViewHistory(view) }
            }
            return storedGradFn
        }
        set {
            storedGradFn = newValue
            if let view { view.version = view.base.storage.version }
        }
    }

    private func refreshViewHistory(_ view: ViewInfo) -> GradFn? {
        let base = view.base
        let version = base.storage.version
        if view.version == version { return storedGradFn }
        // Views made in no-grad mode, and views the user made leaves that require grad, keep
        // their own (absent) history.
        if view.createdWithGrad && !requiresGrad && base.requiresGrad {
            let node = RegeneratedViewBackward(input: base, shape: view.shape, strides: view.strides, offset: view.offset)
            node.edges = [Edge(to: base)]
            storedGradFn = node
            outputNr = 0
        }
        view.version = version
        return storedGradFn
    }

    deinit {
        // Only objects this metadata owns alone can start a cascade of deinits; hand those to
        // the iterative teardown, drop the rest directly.
        if storedGradFn == nil && view == nil { return }
        let teardown = GraphTeardown.state
        var handedOver = false
        if storedGradFn != nil && isKnownUniquelyReferenced(&storedGradFn) {
            teardown.pending.append(storedGradFn!)  // non-nil: checked in the condition
            handedOver = true
        }
        if view != nil && isKnownUniquelyReferenced(&view) {
            teardown.pending.append(view!)  // non-nil: checked in the condition
            handedOver = true
        }
        storedGradFn = nil
        view = nil
        if handedOver { GraphTeardown.drain(teardown) }
    }
}

/// A tensor's hook lists, kept out of line (see `AutogradMeta.hooks`).
final class TensorHooks {
    var tensorHooks: [(id: Int, hook: @Sendable (Tensor) -> Tensor?)] = []
    var postAccumulateHooks: [(id: Int, hook: @Sendable (Tensor) -> Void)] = []
}

/// What a differentiable view remembers of its base (PyTorch's `DifferentiableViewMeta`):
/// the base (always the root, never itself a view) and the view's own geometry, so that an
/// in-place write through the view can rebase the base's history (`CopySlices`).
final class ViewInfo: @unchecked Sendable {
    // @unchecked Sendable: `version` is written under the owning meta's lock or by the thread
    // performing an in-place write, which already owns the tensor (as in PyTorch).
    let base: Tensor
    let shape: [Int]
    let strides: [Int]
    let offset: Int
    /// The storage version at which the view's history was last set.
    var version: Int
    /// Whether grad mode was on when the view was made (PyTorch's creation meta).
    let createdWithGrad: Bool
    /// Whether the view is one of several outputs of one op (split, chunk, unbind), which
    /// PyTorch does not allow to be modified in place.
    let multipleOutputs: Bool

    init(base: Tensor, shape: [Int], strides: [Int], offset: Int, createdWithGrad: Bool, multipleOutputs: Bool = false) {
        self.base = base
        self.shape = shape
        self.strides = strides
        self.offset = offset
        self.version = base.storage.version
        self.createdWithGrad = createdWithGrad
        self.multipleOutputs = multipleOutputs
    }
}

/// Releases long chains of graph nodes without recursion: a node's deinit hands its strong
/// references to a per-thread list, and the outermost release drains it iteratively, so a
/// 1 000 000-op chain deallocates in constant stack depth.
enum GraphTeardown {
    final class State {
        // Exclusivity: thread-local, and every access is a single append, pop or flag store
        // that ends before the popped object is released (the deinits it runs append only
        // after the pop returned), so no two accesses overlap; the run-time checks were a
        // tenth of a node's teardown.
        @exclusivity(unchecked) var pending: [AnyObject] = []
        @exclusivity(unchecked) var draining = false
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { raw in
            guard let raw else { return }
            Unmanaged<State>.fromOpaque(UnsafeRawPointer(raw)).release()
        }
        precondition(status == 0, "pthread_key_create failed (\(status))")
        return key
    }()

    /// This thread's teardown list.
    static var state: State {
        if let raw = pthread_getspecific(key) {
            return Unmanaged<State>.fromOpaque(raw).takeUnretainedValue()
        }
        let s = State()
        pthread_setspecific(key, Unmanaged.passRetained(s).toOpaque())
        return s
    }

    /// Takes over `objects` (leaving the array empty, so the caller holds no reference that
    /// would be dropped recursively when it returns) and releases them, draining iteratively
    /// unless an outer call on this thread is already draining.
    static func release(_ objects: inout [AnyObject]) {
        let s = state
        s.pending.append(contentsOf: objects)
        objects.removeAll()
        drain(s)
    }

    /// Releases what `s.pending` holds (objects a deinit appended to this thread's `state`
    /// after dropping its own references to them), iteratively, unless an outer call on this
    /// thread is already draining.
    static func drain(_ s: State) {
        if s.draining { return }
        s.draining = true
        while !s.pending.isEmpty {
            // Dropping the popped reference may run a deinit that appends more objects.
            _ = s.pending.removeLast()
        }
        s.draining = false
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif
