/// The base class of optimizers (PyTorch's `torch.optim.Optimizer`): holds the parameters, a
/// learning rate and per-parameter state, and updates the parameters in place.
///
/// ```swift
/// let optimizer = Adam(model.parameters(), learningRate: 1e-3)
/// for (x, y) in batches {
///     optimizer.zeroGrad()
///     let loss = crossEntropy(logits: model(x), targets: y)
///     try loss.backward()
///     optimizer.step()
/// }
/// ```
///
/// Updates are written into each parameter's storage under `withNoGrad` (bumping its version
/// counter), so the module, every `Parameter` holder and every copy of the tensor see them.
/// Parameters without a gradient are skipped, as in PyTorch.
open class Optimizer {
    /// The parameters updated by `step()`.
    public let parameters: [Parameter]
    /// The learning rate used by the next `step()`; schedulers change it.
    public var learningRate: Double
    /// The learning rate the optimizer was created with (PyTorch's `initial_lr`).
    public let initialLearningRate: Double
    /// Per-parameter state tensors by name (`momentum_buffer`, `exp_avg`, …), in parameter order.
    var state: [[String: Tensor]]
    /// Per-parameter step counts.
    var steps: [Int]

    /// Creates an optimizer over `parameters`.
    /// - Precondition: `learningRate >= 0`; no parameter appears twice.
    public init(_ parameters: [Parameter], learningRate: Double) {
        precondition(learningRate >= 0, "Invalid learning rate: \(learningRate)")
        precondition(Set(parameters.map(ObjectIdentifier.init)).count == parameters.count,
                     "optimizer: some parameters appear more than once")
        self.parameters = parameters
        self.learningRate = learningRate
        initialLearningRate = learningRate
        state = Array(repeating: [:], count: parameters.count)
        steps = Array(repeating: 0, count: parameters.count)
    }

    /// Performs one update of every parameter that has a gradient.
    public func step() {
        withNoGrad {
            for (i, p) in parameters.enumerated() {
                guard let g = p.grad else { continue }
                steps[i] += 1
                update(p.value, gradient: g.detached(), index: i)
            }
        }
    }

    /// Updates one parameter in place (it runs under `withNoGrad`), reading and writing `state[index]`.
    /// Subclasses override it; `steps[index]` already counts this step.
    open func update(_ parameter: Tensor, gradient: Tensor, index: Int) {
        preconditionFailure("\(type(of: self)) does not implement update")
    }

    /// Clears every parameter's gradient (`nil` by default, as PyTorch 2 does).
    public func zeroGrad(setToNone: Bool = true) {
        for p in parameters { clearGradient(of: p, setToNone: setToNone) }
    }

    // MARK: - State

    /// The optimizer's state as named tensors: `state.<i>.<name>` for each parameter's buffers,
    /// `state.<i>.step`, and `lr`/`initial_lr` (0-d float64), so it can be saved with the
    /// model's state dict.
    public func stateDict() -> [String: Tensor] {
        var result: [String: Tensor] = [
            "lr": Tensor.full([], value: learningRate, dtype: .float64),
            "initial_lr": Tensor.full([], value: initialLearningRate, dtype: .float64),
        ]
        for (i, entries) in state.enumerated() {
            for (name, t) in entries { result["state.\(i).\(name)"] = t.detach().clonedWithoutGrad() }
            if steps[i] > 0 { result["state.\(i).step"] = Tensor.full([], value: Double(steps[i]), dtype: .float64) }
        }
        return result
    }

    /// Restores state saved by `stateDict()`, moving buffers to each parameter's device.
    /// - Throws: `ModuleError.stateDictMismatch` when a key names a parameter index out of
    ///   range or a buffer's shape differs from its parameter's.
    public func loadStateDict(_ dict: [String: Tensor]) throws {
        var newState = Array(repeating: [String: Tensor](), count: parameters.count)
        var newSteps = Array(repeating: 0, count: parameters.count)
        for (key, t) in dict {
            let parts = key.split(separator: ".", maxSplits: 2).map(String.init)
            guard parts.count == 3, parts[0] == "state" else { continue }
            guard let i = Int(parts[1]), i >= 0, i < parameters.count else {
                throw ModuleError.stateDictMismatch("loaded state dict has a state for parameter \(parts[1]), but the optimizer has \(parameters.count) parameters")
            }
            if parts[2] == "step" {
                newSteps[i] = Int(t.item())
            } else {
                guard t.shape == parameters[i].shape else {
                    throw ModuleError.stateDictMismatch("state \(key) has shape \(Shape.describe(t.shape)), but parameter \(i) has shape \(Shape.describe(parameters[i].shape))")
                }
                newState[i][parts[2]] = t.detached().convertedWithoutGrad(to: parameters[i].dtype).to(device: parameters[i].device)
            }
        }
        state = newState
        steps = newSteps
        if let lr = dict["lr"] { learningRate = lr.item() }
    }

    /// Writes `stateDict()` to a safetensors file.
    /// - Throws: `TensorIOError` when the file cannot be written.
    public func save(to path: String) throws {
        try SafeTensors.write(stateDict(), to: path)
    }

    /// Reads a file written by `save(to:)` and restores it with `loadStateDict`.
    /// - Throws: `TensorIOError` for an unreadable or malformed file, else as `loadStateDict`.
    public func load(from path: String) throws {
        try loadStateDict(try SafeTensors.read(path))
    }
}
