/// The gradients of `outputs` with respect to `inputs`, returned instead of accumulated into
/// `.grad` (PyTorch's `torch.autograd.grad`).
///
/// ```swift
/// let x = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
/// let y = (x * x * x).sum()
/// let dy = try grad(of: [y], wrt: [x], createGraph: true)[0]!   // 3x², differentiable again
/// ```
/// - Parameters:
///   - outputs: tensors to differentiate.
///   - inputs: tensors to differentiate with respect to (leaves or not).
///   - gradOutputs: the gradient of each output; `nil` entries (or omitting it) mean 1 for
///     one-element outputs.
///   - retainGraph: keep saved tensors for another backward (defaults to `createGraph`).
///   - createGraph: record this backward, so the results can be differentiated again.
///   - allowUnused: return `nil` for inputs the outputs do not depend on instead of throwing.
/// - Returns: one gradient per input (`nil` only for unused inputs when `allowUnused`).
/// - Throws: `AutogradError` as `backward()` does, and `.unusedInput` when an input is not
///   reached and `allowUnused` is false.
public func grad(of outputs: [Tensor], wrt inputs: [Tensor], gradOutputs: [Tensor?]? = nil,
                 retainGraph: Bool? = nil, createGraph: Bool = false, allowUnused: Bool = false) throws -> [Tensor?] {
    var roots: [Engine.Root] = []
    for (i, output) in outputs.enumerated() {
        guard output.requiresGrad else { throw AutogradError.doesNotRequireGrad(index: i) }
        let g = gradOutputs.flatMap { i < $0.count ? $0[i] : nil }
        roots.append(try Tensor.rootGradient(for: output, g, index: i))
    }
    var captures: [Engine.Capture] = []
    for (i, input) in inputs.enumerated() {
        guard input.requiresGrad else { throw AutogradError.inputDoesNotRequireGrad(index: i) }
        if let fn = input.gradFn {
            captures.append(Engine.Capture(function: ObjectIdentifier(fn), index: input.outputNr))
        } else {
            captures.append(Engine.Capture(function: ObjectIdentifier(input.gradAccumulator()), index: 0))
        }
    }
    // Keep the AccumulateGrad nodes alive while the engine runs.
    let accumulators = inputs.filter(\.isLeaf).map { $0.gradAccumulator() }
    let captured = try withExtendedLifetime(accumulators) {
        try Engine.run(roots: roots, retainGraph: retainGraph ?? createGraph, createGraph: createGraph,
                       captures: captures, accumulateOnly: [])
    }
    var result: [Tensor?] = []
    for (i, capture) in captures.enumerated() {
        if let g = captured[capture] {
            result.append(g)
        } else if allowUnused {
            result.append(nil)
        } else {
            throw AutogradError.unusedInput(index: i)
        }
    }
    return result
}
