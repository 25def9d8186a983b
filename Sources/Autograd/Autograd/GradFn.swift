import Synchronization

/// A node of the autograd tape: computes the gradients of an op's inputs from the gradient of
/// its output (PyTorch's `torch.autograd.graph.Node`, shown as `grad_fn`).
///
/// Each recorded op makes one node, named as PyTorch names it (`SubBackward0`, `PowBackward0`,
/// `AccumulateGrad`, …). `nextFunctions` links it to the nodes of its inputs: the input's own
/// `gradFn`, the `AccumulateGrad` of a leaf, or `nil` for an input that needs no gradient.
public class GradFn: @unchecked Sendable, CustomStringConvertible {
    // @unchecked Sendable: the edges and saved tensors are written when the op records the
    // node and read by the engine afterwards; hooks and release are guarded by `lock`.

    // Exclusivity: the tape fields below are accessed on every op, backward step and node
    // teardown, where run-time exclusivity checks cost more than the work itself. No access
    // to them overlaps another on one thread: each is a plain read or a single mutation that
    // calls out to no code touching the same node (checked with the checks on: the test
    // suite passes with them enabled), so they are `@exclusivity(unchecked)`. Cross-thread
    // discipline is unchanged (see the Sendable note above).

    /// The edges to the nodes of this op's inputs, in input order: `(function, inputIndex)`,
    /// where `inputIndex` says which output of `function` the input was.
    /// - Complexity: O(n) in the number of inputs; builds a new array on each access.
    public var nextFunctions: [(function: GradFn?, inputIndex: Int)] {
        edges.map { ($0.function, $0.inputIndex) }
    }

    /// One edge per input, with the input's shape, dtype and device (so the engine can check
    /// and reduce gradients): one array per node rather than two.
    @exclusivity(unchecked) var edges: [Edge] = []

    /// Tensors the backward formula needs; freed after backward unless the graph is retained.
    @exclusivity(unchecked) var saved: [SavedTensor] = []
    @exclusivity(unchecked) var savedWereReleased = false

    /// Order of creation; the engine runs ready nodes with the highest number first.
    let sequenceNr: Int

    /// How many outputs the forward op had (gradients this node receives).
    var outputCount: Int { 1 }

    /// What few nodes carry (hooks, retained gradients, the anomaly-mode creation trace),
    /// allocated on first use: each empty field here cost every node a release at teardown.
    private var extras: NodeExtras?

    /// The node's extras, allocated on first use.
    private var extrasForWriting: NodeExtras {
        if let extras { return extras }
        let made = NodeExtras()
        extras = made
        return made
    }

    /// Where the node was created, captured in anomaly mode (set in `init`, read under `lock`
    /// because hooks registered from another thread may allocate `extras`).
    var creationTrace: CreationTrace? { lock.withLock { _ in extras?.creationTrace } }

    /// Where the node was created (`file:line in function` of the call outside this library),
    /// when it was recorded in anomaly mode.
    public var creationContext: String? { creationTrace?.description }

    let lock = Mutex<Void>(())
    // The hook lists are read and written under `lock` (see Hooks.swift and the engine).
    var preHooks: [(id: Int, hook: @Sendable ([Tensor?]) -> [Tensor?]?)] {
        get { extras?.preHooks ?? [] }
        set { extrasForWriting.preHooks = newValue }
    }
    var postHooks: [(id: Int, hook: @Sendable ([Tensor?], [Tensor?]) -> [Tensor?]?)] {
        get { extras?.postHooks ?? [] }
        set { extrasForWriting.postHooks = newValue }
    }
    /// Hooks registered on tensors whose gradient this node receives, by output number.
    var tensorPreHooks: [(outputNr: Int, id: Int, hook: @Sendable (Tensor) -> Tensor?)] {
        get { extras?.tensorPreHooks ?? [] }
        set { extrasForWriting.tensorPreHooks = newValue }
    }
    /// Non-leaf tensors that called `retainGrad()`, by output number.
    var retainedGrads: [(outputNr: Int, meta: WeakMeta)] {
        get { extras?.retainedGrads ?? [] }
        set { extrasForWriting.retainedGrads = newValue }
    }
    /// Set (never cleared) once any hook or retained gradient is registered on the node, so
    /// the engine skips the locked hook lookups for the common node that has none.
    private let hookFlag = Atomic<Bool>(false)

    /// Whether hooks or retained gradients may be registered on this node.
    var hasHooks: Bool { hookFlag.load(ordering: .acquiring) }

    /// Records that a hook or retained gradient was registered (after it was stored).
    func noteHooks() { hookFlag.store(true, ordering: .releasing) }

    private static let counter = Atomic<Int>(0)

    init() {
        sequenceNr = GradFn.counter.add(1, ordering: .relaxed).newValue
        if AnomalyMode.isEnabled { extrasForWriting.creationTrace = CreationTrace.capture() }
    }

    /// PyTorch's name for this node, such as `"MulBackward0"`.
    public var name: String { String(describing: type(of: self)) }

    /// `<Name>`, as PyTorch prints a node.
    public var description: String { "<\(name)>" }

    /// Computes the gradients of the inputs (one per next edge, `nil` where none flows) from
    /// the gradients of the outputs. Subclasses override it; formulas use differentiable ops.
    func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        preconditionFailure("\(name) does not implement apply")
    }

    /// `apply` for a node of one output and one input, given the gradient of its output: the
    /// gradient of its input, or nil. The engine calls it for such nodes; the common ones
    /// override it to skip the two arrays `apply` takes and returns.
    func applySingle(_ gradOutput: Tensor) throws -> Tensor? {
        let grads = try apply([gradOutput])
        return grads.isEmpty ? nil : grads[0]
    }

    /// `apply` for a node of one output and two inputs, given the gradient of its output:
    /// the gradients of its two inputs (nil where none flows). The engine calls it for such
    /// nodes; the common ones override it to skip the two arrays `apply` takes and returns.
    func applyPair(_ gradOutput: Tensor) throws -> (Tensor?, Tensor?) {
        var grads = try apply([gradOutput])
        return (grads.count > 0 ? grads[0].take() : nil, grads.count > 1 ? grads[1].take() : nil)
    }

    /// Drops saved tensors after a backward that does not retain the graph.
    func releaseSaved() {
        // Locked: two threads may walk one retained graph at once.
        var released = lock.withLock { _ -> [SavedTensor] in
            if saved.isEmpty { return [] }
            let slots = saved
            saved = []
            savedWereReleased = true
            return slots
        }
        if released.isEmpty { return }
        // Hand what the slots kept alive to the iterative teardown (no intermediate array).
        // Read in place (a `for slot in` loop copied each slot: five retains and releases).
        let teardown = GraphTeardown.state
        for i in released.indices {
            if let o = released[i].retainedObject { teardown.pending.append(o) }
        }
        released = []
        GraphTeardown.drain(teardown)
    }

    /// Saves a tensor for backward, returning its slot. `isOutput` marks this node's own
    /// output, which is stored without its `gradFn` to avoid a reference cycle.
    @discardableResult
    func save(_ tensor: Tensor, isOutput: Bool = false, outputNr: Int = 0) -> Int {
        saved.append(SavedTensor(tensor, isOutput: isOutput, outputNr: outputNr))
        return saved.count - 1
    }

    /// Unpacks saved slot `index`, checking it was not released or modified in place.
    func savedTensor(_ index: Int) throws -> Tensor {
        // Unpacked in place under the lock (unpacking takes no lock), not copied out first;
        // the lock's body throws its error out directly.
        try lock.withLock { _ throws(any Error) -> Tensor in
            if savedWereReleased || index < 0 || index >= saved.count { throw AutogradError.graphFreed }
            return try saved[index].unpack(for: self)
        }
    }

    /// Whether input `index` needs a gradient (PyTorch's `needs_input_grad`).
    func needsInputGrad(_ index: Int) -> Bool {
        index < edges.count && edges[index].function != nil
    }

    /// Connects the node to its inputs.
    func connect(_ inputs: [Tensor]) {
        edges = inputs.map { Edge(to: $0) }
    }

    /// Connects the node to its one input (no intermediate inputs array).
    func connect(_ input: Tensor) {
        edges = [Edge(to: input)]
    }

    /// Connects the node to its two inputs (no intermediate inputs array).
    func connect(_ lhs: Tensor, _ rhs: Tensor) {
        edges = [Edge(to: lhs), Edge(to: rhs)]
    }

    deinit {
        // Nodes and metadata only this node keeps alive would deinit recursively when it goes;
        // move those to the iterative teardown. Shared ones are simply released.
        // The thread's teardown list is looked up only when something is handed over.
        var teardown: GraphTeardown.State? = nil
        for i in edges.indices where edges[i].function != nil {
            if isKnownUniquelyReferenced(&edges[i].function) {
                if teardown == nil { teardown = GraphTeardown.state }
                teardown?.pending.append(edges[i].function!)  // non-nil: checked in the loop
            }
        }
        edges = []
        for i in saved.indices {
            if let o = saved[i].retainedObject {
                if teardown == nil { teardown = GraphTeardown.state }
                teardown?.pending.append(o)
            }
        }
        saved = []
        if let teardown { GraphTeardown.drain(teardown) }
    }
}

/// A node of one input and one output whose formula is a function of the output gradient
/// (`ExpBackward0`, `PowBackward0`, …): subclasses implement `gradient(_:)`, which serves both
/// `apply` and the engine's single-gradient path.
class UnaryGradFn: GradFn, @unchecked Sendable {
    /// The input's gradient from the output's gradient `g`.
    func gradient(_ g: Tensor) throws -> Tensor {
        preconditionFailure("\(name) does not implement gradient(_:)")
    }

    override final func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        return [try gradient(g)]
    }

    override final func applySingle(_ gradOutput: Tensor) throws -> Tensor? {
        try gradient(gradOutput)
    }
}

/// The rarely used parts of a node, kept out of line (see `GradFn.extras`).
final class NodeExtras {
    var creationTrace: CreationTrace?
    var preHooks: [(id: Int, hook: @Sendable ([Tensor?]) -> [Tensor?]?)] = []
    var postHooks: [(id: Int, hook: @Sendable ([Tensor?], [Tensor?]) -> [Tensor?]?)] = []
    var tensorPreHooks: [(outputNr: Int, id: Int, hook: @Sendable (Tensor) -> Tensor?)] = []
    var retainedGrads: [(outputNr: Int, meta: WeakMeta)] = []
}

/// An edge from a node to the node of one of its inputs (`function`, nil when the input needs
/// no gradient; `inputIndex`, which output of `function` the input was), with what the engine
/// needs to know about the input to route its gradient.
struct Edge {
    var function: GradFn?
    var inputIndex: Int
    var metadata: InputMetadata?

    init(function: GradFn?, inputIndex: Int, metadata: InputMetadata?) {
        self.function = function
        self.inputIndex = inputIndex
        self.metadata = metadata
    }

    /// The edge a node records for `input`.
    init(to input: Tensor) {
        let (function, inputIndex) = input.gradientEdge()
        self.init(function: function, inputIndex: inputIndex, metadata: InputMetadata(input))
    }
}

/// What the engine needs to know about an op's input to route its gradient.
struct InputMetadata {
    let shape: [Int]
    let dtype: DType
    let device: Device

    init(_ tensor: Tensor) {
        shape = tensor.shape
        dtype = tensor.dtype
        device = tensor.device
    }
}

/// A weak reference to autograd metadata.
struct WeakMeta {
    weak var meta: AutogradMeta?
}

/// The node that stores a gradient into a leaf's `.grad` (PyTorch's `AccumulateGrad`).
public final class AccumulateGrad: GradFn, @unchecked Sendable {
    let variable: AutogradMeta
    let variableShape: [Int]
    let variableDType: DType
    let variableDevice: Device
    let variableStorage: TensorStorage
    let variableStrides: [Int]
    let variableOffset: Int

    init(_ leaf: Tensor) {
        variable = leaf.meta
        variableShape = leaf.shape
        variableDType = leaf.dtype
        variableDevice = leaf.device
        variableStorage = leaf.storage
        variableStrides = leaf.strides
        variableOffset = leaf.offset
        super.init()
    }

    /// The leaf tensor this node accumulates into.
    var leaf: Tensor {
        Tensor(storage: variableStorage, shape: variableShape, strides: variableStrides,
               offset: variableOffset, dtype: variableDType, meta: variable)
    }

    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard var g = gradOutputs[0] else { return [] }
        accumulate(&g, mayAdopt: false)
        return []
    }

    /// `apply` for the engine, which hands over the gradient: when nothing else references
    /// it (a gradient a formula has just computed), the leaf's first `.grad` adopts it instead
    /// of a copy, as PyTorch's AccumulateGrad steals a gradient whose use count shows it is
    /// the only holder. `recording` is `GradMode.isEnabled` in the engine's run (read once).
    func accumulateTaking(_ g: consuming Tensor, recording: Bool) {
        accumulate(&g, mayAdopt: true, createGraph: recording)
    }

    private func accumulate(_ g: inout Tensor, mayAdopt: Bool, createGraph: Bool = GradMode.isEnabled) {
        // The leaf's tensor hooks already ran in the engine (before any node pre-hooks).
        let hooks = variable.lock.withLock { _ in
            if let existing = variable.grad {
                if createGraph || existing.requiresGrad {
                    variable.grad = existing + g
                } else {
                    existing.addInPlaceUnchecked(g)
                }
            } else if mayAdopt, !createGraph, g.dtype == variableDType, g.device == variableDevice,
                      g.isUniquelyOwnedPlainTensor() {
                variable.grad = g
            } else {
                // A copy, so `.grad` never aliases a tensor the caller holds; recorded when
                // the graph is being created.
                variable.grad = g.clone()
            }
            return variable.postAccumulateHooks
        }
        if !hooks.isEmpty {
            let leaf = self.leaf
            for entry in hooks { entry.hook(leaf) }
        }
    }
}
