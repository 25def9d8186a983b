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
        // Collect the graph and dependency counts without recursion.
        var dependencies: [ObjectIdentifier: Int] = [:]
        var nodes: [ObjectIdentifier: GradFn] = [:]
        var stack: [GradFn] = []
        for root in roots where nodes[ObjectIdentifier(root.function)] == nil {
            nodes[ObjectIdentifier(root.function)] = root.function
            stack.append(root.function)
        }
        while let node = stack.popLast() {
            for edge in node.nextFunctions {
                guard let next = edge.function else { continue }
                let id = ObjectIdentifier(next)
                dependencies[id, default: 0] += 1
                if nodes[id] == nil {
                    nodes[id] = next
                    stack.append(next)
                }
            }
        }

        // Which nodes must run: with captures or a restricted accumulation set, only those on a
        // path to a target.
        var needed: Set<ObjectIdentifier>? = nil
        if captures != nil || accumulateOnly != nil {
            needed = neededNodes(nodes: nodes, runTargets: accumulateOnly ?? [],
                                 captureTargets: Set(captures?.map(\.function) ?? []))
        }
        let captureSet = Set(captures ?? [])
        let captureFunctions = Set(captureSet.map(\.function))
        var captured: [Capture: Tensor] = [:]

        var buffers: [ObjectIdentifier: [Tensor?]] = [:]
        var ready = ReadyQueue()
        for root in roots {
            let id = ObjectIdentifier(root.function)
            var buffer = buffers[id] ?? [Tensor?](repeating: nil, count: root.function.outputCount)
            buffer[root.index] = accumulate(buffer[root.index], root.gradient)
            buffers[id] = buffer
        }
        for root in roots where (dependencies[ObjectIdentifier(root.function)] ?? 0) == 0 {
            ready.pushIfAbsent(root.function)
        }

        try GradMode.$enabled.withValue(createGraph) {
            while let node = ready.pop() {
                let id = ObjectIdentifier(node)
                var inputs = buffers.removeValue(forKey: id) ?? [Tensor?](repeating: nil, count: node.outputCount)

                var shouldRun = needed.map { $0.contains(id) } ?? true
                if node is AccumulateGrad, let only = accumulateOnly, !only.contains(id) { shouldRun = false }
                let isCaptured = captureFunctions.contains(id)
                // Tensor hooks and retained gradients run for every node that executes or is
                // captured, before the capture (PyTorch's call_tensor_pre_hooks).
                if shouldRun || isCaptured { inputs = callTensorPreHooks(node, inputs) }
                if isCaptured {
                    for (slot, g) in inputs.enumerated() {
                        let key = Capture(function: id, index: slot)
                        if captureSet.contains(key), let g { captured[key] = g }
                    }
                }
                var outputs: [Tensor?] = []
                if shouldRun {
                    inputs = callPreHooks(node, inputs)
                    if inputs.allSatisfy({ $0 == nil }) {
                        outputs = [Tensor?](repeating: nil, count: node.nextFunctions.count)
                    } else {
                        outputs = try node.apply(inputs)
                    }
                    outputs = callPostHooks(node, inputs, outputs)
                    if AnomalyMode.isEnabled { try checkAnomaly(node, outputs) }
                    if !retainGraph { node.releaseSaved() }
                }

                for (i, edge) in node.nextFunctions.enumerated() {
                    guard let next = edge.function else { continue }
                    let nextID = ObjectIdentifier(next)
                    if i < outputs.count, var g = outputs[i] {
                        if let meta = node.inputMetadata[i] { g = try conform(g, to: meta, node: node, input: i) }
                        var buffer = buffers[nextID] ?? [Tensor?](repeating: nil, count: next.outputCount)
                        buffer[edge.inputIndex] = accumulate(buffer[edge.inputIndex], g)
                        buffers[nextID] = buffer
                    }
                    let remaining = (dependencies[nextID] ?? 1) - 1
                    dependencies[nextID] = remaining
                    if remaining == 0 { ready.pushIfAbsent(next) }
                }
            }
        }
        return captured
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
                if top.edge < top.node.nextFunctions.count {
                    stack[stack.count - 1].edge += 1
                    if let next = top.node.nextFunctions[top.edge].function {
                        let nid = ObjectIdentifier(next)
                        if !visited.contains(nid) {
                            visited.insert(nid)
                            stack.append((next, 0))
                        }
                    }
                } else {
                    stack.removeLast()
                    let id = ObjectIdentifier(top.node)
                    let leadsToTarget = top.node.nextFunctions.contains { edge in
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

    private static func accumulate(_ existing: Tensor?, _ new: Tensor) -> Tensor {
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
        let (tensorHooks, retained) = node.lock.withLock { _ in (node.tensorPreHooks, node.retainedGrads) }
        for hook in tensorHooks where hook.outputNr < inputs.count {
            if let g = inputs[hook.outputNr], let r = hook.hook(g) { inputs[hook.outputNr] = r }
        }
        if let accumulator = node as? AccumulateGrad, !inputs.isEmpty {
            let leafHooks = accumulator.variable.lock.withLock { _ in accumulator.variable.tensorHooks }
            for hook in leafHooks {
                if let g = inputs[0], let r = hook.hook(g) { inputs[0] = r }
            }
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

/// A max-heap of nodes by sequence number; `AccumulateGrad` nodes come out first.
struct ReadyQueue {
    private var heap: [GradFn] = []
    private var queued = Set<ObjectIdentifier>()

    private static func priority(_ node: GradFn) -> Int {
        node is AccumulateGrad ? Int.max : node.sequenceNr
    }

    mutating func pushIfAbsent(_ node: GradFn) {
        guard queued.insert(ObjectIdentifier(node)).inserted else { return }
        heap.append(node)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            if ReadyQueue.priority(heap[parent]) >= ReadyQueue.priority(heap[i]) { break }
            heap.swapAt(parent, i)
            i = parent
        }
    }

    mutating func pop() -> GradFn? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var largest = i
            if l < heap.count && ReadyQueue.priority(heap[l]) > ReadyQueue.priority(heap[largest]) { largest = l }
            if r < heap.count && ReadyQueue.priority(heap[r]) > ReadyQueue.priority(heap[largest]) { largest = r }
            if largest == i { break }
            heap.swapAt(i, largest)
            i = largest
        }
        return top
    }
}
