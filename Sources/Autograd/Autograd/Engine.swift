/// Walks the tape backwards, as PyTorch's engine does: count each node's dependencies, then run
/// nodes from a ready queue ordered by sequence number (latest first; `AccumulateGrad` first of
/// all, so leaves accumulate as soon as their gradient is complete). No recursion anywhere.
enum Engine {
    /// A gradient flowing into `function`'s input slot `index`.
    struct Root {
        let function: GradFn
        let index: Int
        let gradient: Tensor
    }

    /// Where `grad(of:wrt:)` collects a gradient instead of accumulating it.
    struct Capture: Hashable {
        let function: ObjectIdentifier
        let index: Int
    }

    /// Runs backward from `roots`. With `captures`, gradients reaching those (node, slot) pairs
    /// are returned instead of flowing on, and only nodes that lead to them run; with
    /// `accumulateOnly`, only the listed `AccumulateGrad` nodes accumulate.
    static func run(roots: [Root], retainGraph: Bool, createGraph: Bool,
                    captures: [Capture]? = nil, accumulateOnly: Set<ObjectIdentifier>? = nil) throws -> [Capture: Tensor] {
        // Collect the graph and dependency counts without recursion. Every node gets a dense
        // index into `table`, which holds all per-node bookkeeping of this run.
        var table = NodeTable()
        for r in roots.indices { _ = table.findOrInsert(roots[r].function) }
        // Breadth-first, with the table as the work list: each node is appended once, when
        // first found, and its edges are counted when the walk reaches it (no stack array).
        var walked = 0
        while walked < table.states.count {
            let edges = table.states[walked].node.edges
            walked += 1
            for edge in edges {
                guard let next = edge.function else { continue }
                let (j, _) = table.findOrInsert(next)
                table.states[j].dependencies += 1
            }
        }
        // Which nodes must run: with captures or a restricted accumulation set, only those on a
        // path to a target.
        var needed: [Bool]? = nil
        var captureSet = Set<Capture>()
        var isCaptureNode: [Bool]? = nil
        if captures != nil || accumulateOnly != nil {
            let nodes = table.states.map(\.node)
            var byID: [ObjectIdentifier: GradFn] = [:]
            for node in nodes { byID[ObjectIdentifier(node)] = node }
            let neededIDs = neededNodes(nodes: byID, runTargets: accumulateOnly ?? [],
                                        captureTargets: Set(captures?.map(\.function) ?? []))
            needed = nodes.map { neededIDs.contains(ObjectIdentifier($0)) }
            captureSet = Set(captures ?? [])
            let captureFunctions = Set(captureSet.map(\.function))
            isCaptureNode = nodes.map { captureFunctions.contains(ObjectIdentifier($0)) }
        }
        var captured: [Capture: Tensor] = [:]

        var ready = ReadyQueue()
        for r in roots.indices {
            guard let i = table.find(roots[r].function) else { continue }
            table.states[i].receive(roots[r].gradient, slot: roots[r].index)
        }
        for r in roots.indices {
            guard let i = table.find(roots[r].function), table.states[i].dependencies == 0 else { continue }
            ready.pushIfAbsent(i, table: &table)
        }

        // Whether every node runs and nothing is captured: then a node of one output and one
        // input without hooks takes the single-gradient path below (no arrays).
        let plainRun = captures == nil && accumulateOnly == nil
        try GradMode.$enabled.withValue(createGraph) {
            // Read once: a scope entered inside a hook ends inside it.
            let anomaly = AnomalyMode.isEnabled
            let recording = GradMode.isEnabled
            while let i = ready.pop() {
                let node = table.states[i].node
                // One output, no node hooks, a plain run: the array-free paths below apply.
                let simple = plainRun && !anomaly && table.states[i].outputCount == 1 && !node.hasHooks
                if simple && node.edges.count == 1 {
                    // What the general path below does for such a node, without the
                    // gradient arrays: apply (unless no gradient arrived), release, route.
                    var g: Tensor? = nil
                    if let input = table.states[i].single.take() { g = try node.applySingle(input) }
                    if !retainGraph { node.releaseSaved() }
                    try route(g, from: node, edge: 0, table: &table, ready: &ready)
                    continue
                }
                if simple && node.edges.count == 2 {
                    // The same for a node of two inputs (`a - b`, `a * b`).
                    var g0: Tensor? = nil, g1: Tensor? = nil
                    if let input = table.states[i].single.take() { (g0, g1) = try node.applyPair(input) }
                    if !retainGraph { node.releaseSaved() }
                    try route(g0, from: node, edge: 0, table: &table, ready: &ready)
                    try route(g1, from: node, edge: 1, table: &table, ready: &ready)
                    continue
                }
                if simple, let accumulator = node as? AccumulateGrad {
                    // The general path for a leaf's accumulator without node hooks, without
                    // the gradient arrays: the leaf's tensor hooks, then the accumulation.
                    if let g = table.states[i].single.take() {
                        accumulator.accumulateTaking(Engine.callLeafHooks(accumulator, consume g), recording: recording)
                    }
                    // No `releaseSaved()`: an accumulator saves no tensors (its lock was the cost).
                    continue
                }
                var inputs = table.states[i].takeGradients()

                var shouldRun = needed?[i] ?? true
                if let only = accumulateOnly, node is AccumulateGrad, !only.contains(ObjectIdentifier(node)) { shouldRun = false }
                let isCaptured = isCaptureNode?[i] ?? false
                // Tensor hooks and retained gradients run for every node that executes or is
                // captured, before the capture (PyTorch's call_tensor_pre_hooks).
                // Only nodes with hooks or retained gradients, and leaves' accumulators (whose
                // leaf may carry tensor hooks), have any to run.
                if (shouldRun || isCaptured) && (node.hasHooks || node is AccumulateGrad) {
                    inputs = callTensorPreHooks(node, inputs)
                }
                if isCaptured {
                    let id = ObjectIdentifier(node)
                    for (slot, g) in inputs.enumerated() {
                        let key = Capture(function: id, index: slot)
                        if captureSet.contains(key), let g { captured[key] = g }
                    }
                }
                var outputs: [Tensor?] = []
                if shouldRun {
                    let hooks = node.hasHooks
                    if hooks { inputs = callPreHooks(node, inputs) }
                    if inputs.allSatisfy({ $0 == nil }) {
                        outputs = [Tensor?](repeating: nil, count: node.edges.count)
                    } else if !hooks, let accumulator = node as? AccumulateGrad {
                        // Hands over `inputs` (no post hooks will read them).
                        if let g = inputs[0].take() { accumulator.accumulateTaking(g, recording: recording) }
                    } else {
                        outputs = try node.apply(inputs)
                    }
                    if hooks { outputs = callPostHooks(node, inputs, outputs) }
                    if AnomalyMode.isEnabled { try checkAnomaly(node, outputs) }
                    if !retainGraph { node.releaseSaved() }
                }

                for k in node.edges.indices {
                    try route(k < outputs.count ? outputs[k].take() : nil, from: node, edge: k, table: &table, ready: &ready)
                }
            }
        }
        return captured
    }

    /// Hands `node`'s gradient for input `k` (if any) to the node at the other end of edge
    /// `k`, conformed to the input's shape, dtype and device, and queues that node once all
    /// its dependencies ran.
    @inline(__always)
    private static func route(_ gradient: consuming Tensor?, from node: GradFn, edge k: Int,
                              table: inout NodeTable, ready: inout ReadyQueue) throws {
        guard let next = node.edges[k].function, let j = table.find(next) else { return }
        if var g = gradient {
            if let meta = node.edges[k].metadata, g.dtype != meta.dtype || g.device != meta.device || g.shape != meta.shape {
                g = try conform(g, to: meta, node: node, input: k)
            }
            table.states[j].receive(g, slot: node.edges[k].inputIndex)
        }
        table.states[j].dependencies -= 1
        if table.states[j].dependencies == 0 { ready.pushIfAbsent(j, table: &table) }
    }

    /// Nodes that must run: run targets, and nodes with an edge to a capture target or to a
    /// node that must run (iterative post-order over the collected graph).
    private static func neededNodes(nodes: [ObjectIdentifier: GradFn], runTargets: Set<ObjectIdentifier>,
                                    captureTargets: Set<ObjectIdentifier>) -> Set<ObjectIdentifier> {
        var needed = Set<ObjectIdentifier>()
        var visited = Set<ObjectIdentifier>()
        for (startID, start) in nodes where !visited.contains(startID) {
            var stack: [(node: GradFn, edge: Int)] = [(start, 0)]
            visited.insert(startID)
            while !stack.isEmpty {
                let top = stack[stack.count - 1]
                if top.edge < top.node.edges.count {
                    stack[stack.count - 1].edge += 1
                    if let next = top.node.edges[top.edge].function {
                        let nid = ObjectIdentifier(next)
                        if !visited.contains(nid) {
                            visited.insert(nid)
                            stack.append((next, 0))
                        }
                    }
                } else {
                    stack.removeLast()
                    let id = ObjectIdentifier(top.node)
                    let leadsToTarget = top.node.edges.contains { edge in
                        guard let f = edge.function else { return false }
                        let fid = ObjectIdentifier(f)
                        return needed.contains(fid) || captureTargets.contains(fid)
                    }
                    if runTargets.contains(id) || leadsToTarget { needed.insert(id) }
                }
            }
        }
        return needed
    }

    static func accumulate(_ existing: consuming Tensor?, _ new: consuming Tensor) -> Tensor {
        guard let existing else { return new }
        return existing + new
    }

    /// Casts and reduces a gradient to the shape/dtype/device its input had (PyTorch's
    /// `validate_outputs`): broadcasting in the forward pass becomes a sum here.
    private static func conform(_ g: Tensor, to meta: InputMetadata, node: GradFn, input: Int) throws -> Tensor {
        var g = g
        if g.shape != meta.shape {
            guard Shape.isExpandable(meta.shape, to: g.shape) else {
                throw AutogradError.invalidGradient(node: node.name, message: "at index \(input) - got \(Shape.describe(g.shape)) but expected shape compatible with \(Shape.describe(meta.shape))")
            }
            g = g.sumToSize(meta.shape)
        }
        if g.dtype != meta.dtype { g = g.to(meta.dtype) }
        if g.device != meta.device { g = try g.to(meta.device) }
        return g
    }

    /// Hooks registered on the tensors whose gradient `node` receives (for `AccumulateGrad`, on
    /// its leaf), then the gradients of non-leaves that called `retainGrad()`.
    private static func callTensorPreHooks(_ node: GradFn, _ inputs: [Tensor?]) -> [Tensor?] {
        var inputs = inputs
        let (tensorHooks, retained) = node.hasHooks ? node.lock.withLock { _ in (node.tensorPreHooks, node.retainedGrads) } : ([], [])
        for hook in tensorHooks where hook.outputNr < inputs.count {
            if let g = inputs[hook.outputNr], let r = hook.hook(g) { inputs[hook.outputNr] = r }
        }
        if let accumulator = node as? AccumulateGrad, !inputs.isEmpty, let g = inputs[0].take() {
            inputs[0] = callLeafHooks(accumulator, g)
        }
        for (outputNr, weakMeta) in retained where outputNr < inputs.count {
            if let meta = weakMeta.meta, let g = inputs[outputNr] {
                meta.lock.withLock { _ in
                    if let existing = meta.grad { meta.grad = existing + g } else { meta.grad = g.clone() }
                }
            }
        }
        return inputs
    }

    /// The tensor hooks of `accumulator`'s leaf, applied in order to its gradient `g`.
    static func callLeafHooks(_ accumulator: AccumulateGrad, _ g: consuming Tensor) -> Tensor {
        let leafHooks = accumulator.variable.lock.withLock { _ in accumulator.variable.tensorHooks }
        for hook in leafHooks {
            if let r = hook.hook(g) { g = r }
        }
        return g
    }

    /// Hooks registered on the node with `registerPrehook`.
    private static func callPreHooks(_ node: GradFn, _ inputs: [Tensor?]) -> [Tensor?] {
        let hooks = node.lock.withLock { _ in node.preHooks }
        var inputs = inputs
        for hook in hooks {
            if let r = hook.hook(inputs) { inputs = r }
        }
        return inputs
    }

    /// Hooks registered on the node with `registerHook`: `(gradInputs, gradOutputs)`.
    private static func callPostHooks(_ node: GradFn, _ inputs: [Tensor?], _ outputs: [Tensor?]) -> [Tensor?] {
        let hooks = node.lock.withLock { _ in node.postHooks }
        var outputs = outputs
        for hook in hooks {
            if let r = hook.hook(outputs, inputs) { outputs = r }
        }
        return outputs
    }

    private static func checkAnomaly(_ node: GradFn, _ outputs: [Tensor?]) throws {
        for (i, g) in outputs.enumerated() {
            guard let g, g.dtype.isFloatingPoint else { continue }
            let values = withNoGrad { g.to(.float64).scalars(as: Double.self) }
            if let bad = values.first(where: { !$0.isFinite }) {
                throw AutogradError.anomaly(node: node.name, output: i, value: bad.isNaN ? "nan" : "inf",
                                            createdAt: node.creationContext)
            }
        }
    }
}

/// A max-heap of node indices by sequence number; `AccumulateGrad` nodes come out first.
struct ReadyQueue {
    private var heap: [(priority: Int, index: Int)]

    init() {
        heap = []
        heap.reserveCapacity(NodeTable.linearLimit)   // one allocation instead of several grows
    }

    private static func priority(_ node: GradFn) -> Int {
        node is AccumulateGrad ? Int.max : node.sequenceNr
    }

    /// Queues node `index` of `table` unless it was queued before in this run.
    mutating func pushIfAbsent(_ index: Int, table: inout NodeTable) {
        if table.states[index].queued { return }
        table.states[index].queued = true
        heap.append((ReadyQueue.priority(table.states[index].node), index))
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if heap[parent].priority >= heap[i].priority { break }
            heap.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> Int? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var largest = i
            if l < heap.count && heap[l].priority > heap[largest].priority { largest = l }
            if r < heap.count && heap[r].priority > heap[largest].priority { largest = r }
            if largest == i { break }
            heap.swapAt(i, largest)
            i = largest
        }
        return top.index
    }
}

/// What one engine run keeps per node.
struct NodeState {
    let node: GradFn
    /// How many outputs (gradient slots) the node has.
    let outputCount: Int
    /// Edges from nodes that have not run yet.
    var dependencies = 0
    /// The gradient received so far for a node of one output (most nodes): no array.
    var single: Tensor? = nil
    /// The gradients received so far for a node of several outputs, one slot per output.
    var buffer: [Tensor?]? = nil
    /// Whether the node entered the ready queue.
    var queued = false

    init(node: GradFn) {
        self.node = node
        self.outputCount = node.outputCount
    }

    /// Adds `g` to the gradient received for output `slot`.
    mutating func receive(_ g: consuming Tensor, slot: Int) {
        if outputCount == 1 && slot == 0 {
            // Moved out before summing so the sum's operands are not copied.
            single = Engine.accumulate(single.take(), g)
            return
        }
        var slots = buffer ?? [Tensor?](repeating: nil, count: outputCount)
        buffer = nil
        slots[slot] = Engine.accumulate(slots[slot], g)
        buffer = slots
    }

    /// The gradients received, one per output (`nil` where none arrived), moved out.
    mutating func takeGradients() -> [Tensor?] {
        if outputCount == 1 { return [single.take()] }
        let slots = buffer ?? [Tensor?](repeating: nil, count: outputCount)
        buffer = nil
        return slots
    }
}

/// The nodes of one engine run with their state, found by identity: a linear scan while the
/// graph is small (most graphs), a hash index past `linearLimit` nodes.
struct NodeTable {
    static let linearLimit = 16
    var states: [NodeState] = []
    private var index: NodeIndex? = nil

    /// Nodes room is made for up front: 8 states (88 bytes each) stay under glibc's 1 KiB
    /// per-thread cache limit, where 16 went to the slower general allocator.
    static let initialCapacity = 8

    init() { states.reserveCapacity(NodeTable.initialCapacity) }

    func find(_ node: GradFn) -> Int? {
        if let index { return index.find(node) }
        for i in states.indices where states[i].node === node { return i }
        return nil
    }

    mutating func findOrInsert(_ node: GradFn) -> (index: Int, inserted: Bool) {
        if index == nil {
            if let i = find(node) { return (i, false) }
            states.append(NodeState(node: node))
            if states.count > NodeTable.linearLimit {
                var built = NodeIndex(capacity: states.count * 2)
                for i in states.indices { _ = built.findOrInsert(states[i].node, next: i) }
                index = built
            }
            return (states.count - 1, true)
        }
        let (i, inserted) = index!.findOrInsert(node, next: states.count)  // non-nil: checked above
        if inserted { states.append(NodeState(node: node)) }
        return (i, inserted)
    }
}

/// Dense indices for the nodes of one engine run: open addressing on the node's address with
/// Fibonacci hashing, which costs a few instructions where `Dictionary` runs SipHash.
struct NodeIndex {
    private var keys: [UInt]
    private var values: [Int]
    private var shift: Int
    private var count = 0

    init(capacity: Int) {
        var bits = 4
        while (1 << bits) < capacity * 2 { bits += 1 }
        keys = [UInt](repeating: 0, count: 1 << bits)
        values = [Int](repeating: 0, count: 1 << bits)
        shift = 64 - bits
    }

    @inline(__always)
    private func slot(_ key: UInt) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> UInt(shift))
    }

    /// The index stored for `node`, if any.
    func find(_ node: GradFn) -> Int? {
        let key = UInt(bitPattern: ObjectIdentifier(node))
        let mask = keys.count - 1
        var s = slot(key)
        while true {
            let k = keys[s]
            if k == key { return values[s] }
            if k == 0 { return nil }
            s = (s + 1) & mask
        }
    }

    /// The index of `node`, storing `next` for it first if it has none.
    mutating func findOrInsert(_ node: GradFn, next: Int) -> (index: Int, inserted: Bool) {
        if (count + 1) * 2 > keys.count { grow() }
        let key = UInt(bitPattern: ObjectIdentifier(node))
        let mask = keys.count - 1
        var s = slot(key)
        while true {
            let k = keys[s]
            if k == key { return (values[s], false) }
            if k == 0 {
                keys[s] = key
                values[s] = next
                count += 1
                return (next, true)
            }
            s = (s + 1) & mask
        }
    }

    private mutating func grow() {
        // Four times larger: a long chain rehashed its nodes at every doubling (~100
        // instructions per node over a 1000-node backward); this halves that work.
        let oldKeys = keys, oldValues = values
        keys = [UInt](repeating: 0, count: oldKeys.count * 4)
        values = [Int](repeating: 0, count: oldKeys.count * 4)
        shift -= 2
        let mask = keys.count - 1
        for (k, v) in zip(oldKeys, oldValues) where k != 0 {
            var s = slot(k)
            while keys[s] != 0 { s = (s + 1) & mask }
            keys[s] = k
            values[s] = v
        }
    }
}
