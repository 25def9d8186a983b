import Synchronization

/// A handle to a registered hook; `remove()` unregisters it (PyTorch's
/// `torch.utils.hooks.RemovableHandle`).
///
/// Dropping the handle does not remove the hook: call `remove()`.
public final class RemovableHandle: Sendable {
    private let removal: Mutex<(@Sendable () -> Void)?>

    init(_ removal: @escaping @Sendable () -> Void) {
        self.removal = Mutex(removal)
    }

    /// Unregisters the hook. Calling it again does nothing.
    public func remove() {
        let action = removal.withLock { value -> (@Sendable () -> Void)? in
            defer { value = nil }
            return value
        }
        action?()
    }
}

/// Identifiers for registered hooks, unique across the process.
enum HookID {
    private static let counter = Atomic<Int>(0)
    static func next() -> Int { counter.add(1, ordering: .relaxed).newValue }
}

// MARK: - Tensor hooks

extension Tensor {
    /// Registers a hook called with this tensor's gradient each time one is computed; returning
    /// a tensor replaces the gradient, returning `nil` keeps it (PyTorch's `register_hook`).
    ///
    /// ```swift
    /// let h = x.registerHook { g in g * 2 }   // doubles every gradient flowing into x
    /// h.remove()
    /// ```
    /// On a leaf the hook runs before the gradient is accumulated into `.grad`; on a non-leaf it
    /// runs before its `gradFn` (as a tensor pre-hook at this tensor's output number). Hooks run
    /// in registration order, each seeing the previous one's result. A hook registered on a
    /// non-leaf that is later modified in place sees the gradient of the value before the
    /// in-place op, as in PyTorch.
    /// - Returns: a handle whose `remove()` unregisters the hook.
    /// - Precondition: the tensor requires grad ("cannot register a hook on a tensor that
    ///   doesn't require gradient").
    @discardableResult
    public func registerHook(_ hook: @escaping @Sendable (Tensor) -> Tensor?) -> RemovableHandle {
        check { () throws(ShapeError) in try validateHookRegistration() }
        let id = HookID.next()
        if let fn = gradFn {
            let nr = outputNr
            fn.lock.withLock { _ in fn.tensorPreHooks.append((outputNr: nr, id: id, hook: hook)) }
            fn.noteHooks()
            return RemovableHandle { [weak fn] in
                guard let fn else { return }
                fn.lock.withLock { _ in fn.tensorPreHooks.removeAll { $0.id == id } }
            }
        }
        let meta = self.meta
        meta.lock.withLock { _ in meta.tensorHooks.append((id: id, hook: hook)) }
        return RemovableHandle { [weak meta] in
            guard let meta else { return }
            meta.lock.withLock { _ in meta.tensorHooks.removeAll { $0.id == id } }
        }
    }

    /// Throws the message `registerHook` traps with, if any.
    func validateHookRegistration() throws(ShapeError) {
        guard requiresGrad else {
            throw ShapeError("cannot register a hook on a tensor that doesn't require gradient")
        }
    }

    /// Registers a hook called with this leaf after a gradient has been accumulated into its
    /// `.grad` (PyTorch's `register_post_accumulate_grad_hook`); optimizers use it to step
    /// parameters as soon as their gradient is ready.
    /// - Returns: a handle whose `remove()` unregisters the hook.
    /// - Precondition: the tensor is a leaf that requires grad.
    @discardableResult
    public func registerPostAccumulateGradHook(_ hook: @escaping @Sendable (Tensor) -> Void) -> RemovableHandle {
        check { () throws(ShapeError) in try validatePostAccumulateHookRegistration() }
        let id = HookID.next()
        let meta = self.meta
        meta.lock.withLock { _ in meta.postAccumulateHooks.append((id: id, hook: hook)) }
        return RemovableHandle { [weak meta] in
            guard let meta else { return }
            meta.lock.withLock { _ in meta.postAccumulateHooks.removeAll { $0.id == id } }
        }
    }

    /// Throws the message `registerPostAccumulateGradHook` traps with, if any.
    func validatePostAccumulateHookRegistration() throws(ShapeError) {
        guard requiresGrad else {
            throw ShapeError("cannot register a hook on a tensor that doesn't require gradient")
        }
        guard isLeaf else {
            throw ShapeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        }
    }

    /// Makes backward store this non-leaf tensor's gradient in `.grad`, as it does for leaves
    /// (PyTorch's `retain_grad()`). Does nothing on a leaf or when already retaining.
    ///
    /// The gradient is the one flowing into the tensor's `gradFn`, after the tensor's hooks.
    /// - Precondition: the tensor requires grad ("can't retain_grad on Tensor that has
    ///   requires_grad=False").
    public func retainGrad() {
        check { () throws(ShapeError) in try validateRetainGrad() }
        guard let fn = gradFn else { return }
        let alreadyRetaining = meta.lock.withLock { _ in
            defer { meta.retainsGrad = true }
            return meta.retainsGrad
        }
        if alreadyRetaining { return }
        let nr = outputNr
        fn.lock.withLock { _ in fn.retainedGrads.append((outputNr: nr, meta: WeakMeta(meta: meta))) }
        fn.noteHooks()
    }

    /// Throws the message `retainGrad()` traps with, if any.
    func validateRetainGrad() throws(ShapeError) {
        guard requiresGrad else { throw ShapeError("can't retain_grad on Tensor that has requires_grad=False") }
    }

    /// Whether backward stores this non-leaf tensor's gradient in `.grad` (`retainGrad()` was
    /// called); `false` for leaves (PyTorch's `retains_grad`).
    public var retainsGrad: Bool { !isLeaf && meta.retainsGrad }

    /// Moves a retained gradient from the tensor's previous `gradFn` to `node`, after an
    /// in-place op rebased its history (PyTorch moves the retains-grad hook the same way).
    func moveRetainedGrad(from old: GradFn?, to node: GradFn) {
        guard meta.retainsGrad else { return }
        let meta = self.meta
        if let old {
            old.lock.withLock { _ in old.retainedGrads.removeAll { $0.meta.meta === meta } }
        }
        node.lock.withLock { _ in node.retainedGrads.append((outputNr: 0, meta: WeakMeta(meta: meta))) }
        node.noteHooks()
    }
}

// MARK: - Node hooks

extension GradFn {
    /// Registers a hook called with the gradients of this node's outputs before it runs;
    /// returning an array replaces them (PyTorch's `Node.register_prehook`).
    ///
    /// Node pre-hooks run after the tensor hooks of the tensors this node produced.
    /// - Returns: a handle whose `remove()` unregisters the hook.
    @discardableResult
    public func registerPrehook(_ hook: @escaping @Sendable (_ gradOutputs: [Tensor?]) -> [Tensor?]?) -> RemovableHandle {
        let id = HookID.next()
        lock.withLock { _ in preHooks.append((id: id, hook: hook)) }
        noteHooks()
        return RemovableHandle { [weak self] in
            guard let self else { return }
            self.lock.withLock { _ in self.preHooks.removeAll { $0.id == id } }
        }
    }

    /// Registers a hook called after this node ran, with the gradients it computed for its
    /// inputs and the gradients of its outputs; returning an array replaces the input
    /// gradients (PyTorch's `Node.register_hook`, `hook(grad_inputs, grad_outputs)`).
    /// - Returns: a handle whose `remove()` unregisters the hook.
    @discardableResult
    public func registerHook(_ hook: @escaping @Sendable (_ gradInputs: [Tensor?], _ gradOutputs: [Tensor?]) -> [Tensor?]?) -> RemovableHandle {
        let id = HookID.next()
        lock.withLock { _ in postHooks.append((id: id, hook: hook)) }
        noteHooks()
        return RemovableHandle { [weak self] in
            guard let self else { return }
            self.lock.withLock { _ in self.postHooks.removeAll { $0.id == id } }
        }
    }
}
