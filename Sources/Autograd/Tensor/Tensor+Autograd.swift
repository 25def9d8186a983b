// MARK: - Autograd properties

extension Tensor {
    /// Whether gradients are computed for this tensor: set on leaves you want gradients for;
    /// results of recorded ops require grad when any input did.
    ///
    /// - Precondition: setting is allowed only on leaves, and `true` only for floating dtypes
    ///   (PyTorch: "only Tensors of floating point and complex dtype can require gradients").
    public var requiresGrad: Bool {
        get { meta.gradFn != nil || meta.requiresGrad }
        nonmutating set {
            check { () throws(ShapeError) in try validateRequiresGrad(newValue) }
            meta.requiresGrad = newValue
        }
    }

    /// Throws the message `requiresGrad = value` would trap with, if any.
    func validateRequiresGrad(_ value: Bool) throws(ShapeError) {
        if meta.gradFn != nil {
            throw ShapeError("you can only change requiresGrad flags of leaf variables." + (value ? "" : " If you want to use a computed variable in a subgraph that doesn't require differentiation use valueNoGrad = value.detach()."))
        }
        if value && !dtype.isFloatingPoint {
            throw ShapeError("only Tensors of floating point and complex dtype can require gradients (got \(dtype))")
        }
        if value && storage.isInference && !GradMode.isInferenceMode {
            throw ShapeError("Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.")
        }
    }

    /// The accumulated gradient of a leaf (or of a non-leaf that called `retainGrad()`);
    /// `nil` until a backward pass reaches it. Set to `nil` to clear it (PyTorch's
    /// `x.grad = None`); a later backward then starts from a fresh gradient.
    ///
    /// A backward pass without `createGraph` adds into the existing gradient tensor in place,
    /// so a reference to `.grad` taken earlier sees later accumulations, as in PyTorch.
    /// - Precondition: an assigned gradient has this tensor's shape, dtype and device
    ///   ("assigned grad has data of a different size").
    public var grad: Tensor? {
        get { meta.lock.withLock { _ in meta.grad } }
        nonmutating set {
            if let newValue { check { () throws(ShapeError) in try validateAssignedGrad(newValue) } }
            meta.lock.withLock { _ in meta.grad = newValue }
        }
    }

    /// Throws the message assigning `grad` to `.grad` traps with, if any.
    func validateAssignedGrad(_ grad: Tensor) throws(ShapeError) {
        if grad.dtype != dtype { throw ShapeError("assigned grad has data of a different type") }
        if grad.device != device { throw ShapeError("assigned grad has data located on a different device") }
        if grad.shape != shape { throw ShapeError("assigned grad has data of a different size") }
    }

    /// The node that produced this tensor, or `nil` for leaves and tensors outside the graph.
    public var gradFn: GradFn? { meta.gradFn }

    /// Whether the tensor is a leaf of the graph: created by the user rather than by a
    /// recorded op (PyTorch's `is_leaf`).
    public var isLeaf: Bool { meta.gradFn == nil }

    /// A tensor sharing this one's elements but outside the graph: no `gradFn`, does not
    /// require grad (PyTorch's `detach()`). In-place writes through either are seen by both.
    public func detach() -> Tensor { withFreshMeta() }

    /// Internal spelling of `detach()`.
    func detached() -> Tensor { withFreshMeta() }

    /// Whether the tensor was created in inference mode (PyTorch's `is_inference()`): such a
    /// tensor cannot be saved for backward, nor written in place outside inference mode.
    public var isInference: Bool { storage.isInference }

    /// Which output of its `gradFn` this tensor is.
    var outputNr: Int { meta.outputNr }

    /// The leaf's `AccumulateGrad` node, created on first use and shared while alive.
    func gradAccumulator() -> AccumulateGrad {
        meta.lock.withLock { _ in
            if let existing = meta.gradAccumulator { return existing }
            let node = AccumulateGrad(self)
            meta.gradAccumulator = node
            return node
        }
    }

    /// The edge a node records for this input.
    func gradientEdge() -> (function: GradFn?, inputIndex: Int) {
        if let fn = meta.gradFn { return (fn, meta.outputNr) }
        if meta.requiresGrad { return (gradAccumulator(), 0) }
        return (nil, 0)
    }
}

// MARK: - Recording

extension Tensor {
    /// Attaches a backward node to `output` when grad mode is on and an input requires grad.
    /// `makeNode` is only called in that case, so forward-only code pays nothing for it.
    ///
    /// An output that shares its single input's storage is a view of it: it is marked as one
    /// (whether or not grad mode is on, as PyTorch marks views), so in-place writes through it
    /// rebase the input's history (see ViewHistory.swift).
    ///
    /// Inputs that surely do not require grad (`mayRequireGrad` false) skip the grad-mode
    /// lookup, a task-local read that cost as much as a small op, so the untracked ops of a
    /// backward pass pay nothing here.
    @inline(__always)
    static func record(_ output: consuming Tensor, inputs: [Tensor], _ makeNode: () -> GradFn) -> Tensor {
        if inputs.count == 1, output.storage === inputs[0].storage { output.markAsView(of: inputs[0]) }
        guard inputs.contains(where: { $0.mayRequireGrad }), GradMode.isEnabled,
              inputs.contains(where: { $0.requiresGrad }) else { return output }
        let node = makeNode()
        node.connect(inputs)
        return attach(node, to: output)
    }

    /// `record` for a unary op, without an inputs array unless a node is recorded.
    @inline(__always)
    static func record(_ output: consuming Tensor, input: Tensor, _ makeNode: () -> GradFn) -> Tensor {
        if output.storage === input.storage { output.markAsView(of: input) }
        guard input.mayRequireGrad, GradMode.isEnabled, input.requiresGrad else { return output }
        let node = makeNode()
        node.connect(input)
        return attach(node, to: output)
    }

    /// `record` for a binary op, without an inputs array unless a node is recorded.
    @inline(__always)
    static func record(_ output: consuming Tensor, inputs lhs: Tensor, _ rhs: Tensor, _ makeNode: () -> GradFn) -> Tensor {
        guard lhs.mayRequireGrad || rhs.mayRequireGrad, GradMode.isEnabled,
              lhs.requiresGrad || rhs.requiresGrad else { return output }
        let node = makeNode()
        node.connect(lhs, rhs)
        return attach(node, to: output)
    }

    /// Makes `node` the history of `output` (the node is already connected to its inputs).
    /// (`output` is consumed: returned without a copy of its four references.)
    private static func attach(_ node: GradFn, to output: consuming Tensor) -> Tensor {
        output.meta.gradFn = node
        output.meta.outputNr = 0
        return output
    }

    /// False only when the tensor surely does not require grad: no history, not a leaf that
    /// requires grad, and not a view (whose history may be regenerated on access). Reads no
    /// task-local and has no side effect.
    var mayRequireGrad: Bool { meta.storedGradFn != nil || meta.requiresGrad || meta.view != nil }

    /// Like `record` for ops with several differentiable outputs.
    static func recordOutputs(_ outputs: [Tensor], inputs: [Tensor], _ makeNode: () -> GradFn) {
        if inputs.count == 1 {
            for out in outputs where out.storage === inputs[0].storage {
                out.markAsView(of: inputs[0], multipleOutputs: true)
            }
        }
        guard inputs.contains(where: { $0.mayRequireGrad }), GradMode.isEnabled,
              inputs.contains(where: { $0.requiresGrad }) else { return }
        let node = makeNode()
        node.connect(inputs)
        for (i, out) in outputs.enumerated() {
            out.meta.gradFn = node
            out.meta.outputNr = i
        }
    }
}

extension Tensor {
    /// Records that this new tensor views `input`'s storage (PyTorch's differentiable views):
    /// the base is `input`'s own base when `input` is itself a view.
    func markAsView(of input: Tensor, multipleOutputs: Bool = false) {
        guard meta.view == nil, meta !== input.meta else { return }
        meta.view = ViewInfo(base: input.meta.view?.base ?? input, shape: shape, strides: strides, offset: offset,
                             createdWithGrad: GradMode.isEnabled, multipleOutputs: multipleOutputs)
    }
}

// MARK: - Backward

extension Tensor {
    /// Computes the gradient of this tensor with respect to the graph's leaves and adds it to
    /// their `.grad` (PyTorch's `Tensor.backward`).
    ///
    /// ```swift
    /// let x = Tensor([1.0, 2.0], requiresGrad: true)
    /// try (x * x).sum().backward()     // x.grad == [2, 4]
    /// ```
    /// - Parameters:
    ///   - gradient: the gradient of some loss with respect to this tensor; may be omitted
    ///     only for a tensor of one element (it is then 1).
    ///   - retainGraph: keep the saved tensors so the graph can be walked again
    ///     (implied by `createGraph`).
    ///   - createGraph: record the backward pass itself, for higher-order gradients.
    ///   - inputs: if given, accumulate only into these tensors' `.grad`.
    /// - Throws: `AutogradError.doesNotRequireGrad` when the tensor is outside the graph,
    ///   `.nonScalarOutput` when `gradient` is missing for a tensor of several elements,
    ///   `.gradientMismatch` when `gradient`'s shape differs, `.graphFreed` when walking a
    ///   graph a second time without `retainGraph`, `.modifiedInPlace` when a saved tensor
    ///   was changed in place.
    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false, createGraph: Bool = false,
                         inputs: [Tensor]? = nil) throws {
        guard requiresGrad else { throw AutogradError.doesNotRequireGrad(index: 0) }
        let root = try Tensor.rootGradient(for: self, gradient, index: 0)
        var accumulateOnly: Set<ObjectIdentifier>? = nil
        var captures: [Engine.Capture]? = nil
        var nonLeafInputs: [(Tensor, Engine.Capture)] = []
        if let inputs {
            var only = Set<ObjectIdentifier>()
            var caps: [Engine.Capture] = []
            for (i, input) in inputs.enumerated() {
                guard input.requiresGrad else { throw AutogradError.inputDoesNotRequireGrad(index: i) }
                if let fn = input.gradFn {
                    let c = Engine.Capture(function: ObjectIdentifier(fn), index: input.outputNr)
                    caps.append(c)
                    nonLeafInputs.append((input, c))
                } else {
                    only.insert(ObjectIdentifier(input.gradAccumulator()))
                }
            }
            accumulateOnly = only
            captures = caps
        }
        // Keep the leaves' AccumulateGrad nodes alive while the engine runs, so their
        // identities stay unique.
        let accumulators = (inputs ?? []).filter(\.isLeaf).map { $0.gradAccumulator() }
        let captured = try withExtendedLifetime(accumulators) {
            try Engine.run(roots: [root], retainGraph: retainGraph || createGraph, createGraph: createGraph,
                           captures: captures, accumulateOnly: accumulateOnly)
        }
        for (input, c) in nonLeafInputs {
            guard let g = captured[c] else { continue }
            GradMode.$enabled.withValue(createGraph) {
                input.meta.lock.withLock { _ in
                    if let existing = input.meta.grad { input.meta.grad = existing + g } else { input.meta.grad = g.clone() }
                }
            }
        }
    }

    /// The engine root for `output`, with its gradient checked or made implicitly.
    static func rootGradient(for output: Tensor, _ gradient: Tensor?, index: Int) throws -> Engine.Root {
        let g: Tensor
        if let gradient {
            guard gradient.shape == output.shape else {
                throw AutogradError.gradientMismatch("Mismatch in shape: gradient \(index) has a shape of \(Shape.describe(gradient.shape)) and output \(index) has a shape of \(Shape.describe(output.shape)).")
            }
            guard gradient.dtype.isFloatingPoint else {
                throw AutogradError.gradientMismatch("For complex or floating outputs the gradient must be floating too: gradient \(index) has dtype \(gradient.dtype), output \(index) has dtype \(output.dtype).")
            }
            g = gradient.dtype == output.dtype ? gradient : withNoGrad { gradient.to(output.dtype) }
        } else {
            guard output.count == 1 else { throw AutogradError.nonScalarOutput(shape: output.shape) }
            g = Tensor.ones(like: output)
        }
        if let fn = output.gradFn {
            return Engine.Root(function: fn, index: output.outputNr, gradient: g)
        }
        return Engine.Root(function: output.gradAccumulator(), index: 0, gradient: g)
    }
}
