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
    var gradFn: GradFn?
    var outputNr: Int
    weak var gradAccumulator: AccumulateGrad?
    var retainsGrad = false
    var tensorHooks: [(id: Int, hook: @Sendable (Tensor) -> Tensor?)] = []
    var postAccumulateHooks: [(id: Int, hook: @Sendable (Tensor) -> Void)] = []
    var name: String?

    init(requiresGrad: Bool = false, gradFn: GradFn? = nil, outputNr: Int = 0) {
        self.requiresGrad = requiresGrad
        self.gradFn = gradFn
        self.outputNr = outputNr
    }

    deinit {
        if gradFn != nil {
            var objects: [AnyObject] = [gradFn!]  // non-nil: checked on the line above
            gradFn = nil
            GraphTeardown.release(&objects)
        }
    }
}

/// Releases long chains of graph nodes without recursion: a node's deinit hands its strong
/// references to a per-thread list, and the outermost release drains it iteratively, so a
/// 1 000 000-op chain deallocates in constant stack depth.
enum GraphTeardown {
    final class State {
        var pending: [AnyObject] = []
        var draining = false
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

    private static var state: State {
        if let raw = pthread_getspecific(key) {
            return Unmanaged<State>.fromOpaque(raw).takeUnretainedValue()
        }
        let s = State()
        pthread_setspecific(key, Unmanaged.passRetained(s).toOpaque())
        return s
    }

    /// Takes the references out of `objects` (leaving it empty, so the caller holds none) and
    /// drops them, iteratively.
    static func release(_ objects: inout [AnyObject]) {
        let s = state
        s.pending.append(contentsOf: objects)
        objects.removeAll()
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
