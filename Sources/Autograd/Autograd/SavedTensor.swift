/// A tensor saved by a node for its backward formula, with the version it had when saved.
struct SavedTensor {
    /// For inputs: the tensor itself (its metadata keeps the upstream graph alive).
    /// For the node's own output: the same elements with fresh metadata, so no cycle forms.
    let tensor: Tensor
    let isOutput: Bool
    let outputNr: Int
    let outputRequiresGrad: Bool
    let version: Int

    init(_ tensor: Tensor, isOutput: Bool, outputNr: Int = 0) {
        self.isOutput = isOutput
        self.version = tensor.storage.version
        // A node's output is saved before the node is attached to it; it will require grad.
        self.outputNr = isOutput ? outputNr : tensor.meta.outputNr
        self.outputRequiresGrad = isOutput || tensor.requiresGrad
        self.tensor = isOutput ? tensor.withFreshMeta() : tensor
    }

    /// The object whose release may cascade through the graph (for iterative teardown).
    var retainedObject: AnyObject? { isOutput ? nil : tensor.meta }

    /// The saved tensor, re-attached to the graph: an output gets `node` back as its `gradFn`.
    func unpack(for node: GradFn) throws -> Tensor {
        if tensor.storage.version != version {
            throw AutogradError.modifiedInPlace(
                description: "[\(tensor.typeDescription) \(Shape.describe(tensor.shape))]",
                producer: isOutput ? "output \(outputNr) of \(node.name)" : (tensor.gradFn.map { "output \(tensor.meta.outputNr) of \($0.name)" } ?? "a leaf"),
                version: tensor.storage.version, expected: version)
        }
        if isOutput && outputRequiresGrad {
            return Tensor(storage: tensor.storage, shape: tensor.shape, strides: tensor.strides,
                          offset: tensor.offset, dtype: tensor.dtype,
                          meta: AutogradMeta(gradFn: node, outputNr: outputNr))
        }
        return tensor
    }
}

/// Errors thrown by `backward()` and `grad(of:wrt:)` when the graph cannot be differentiated
/// as asked. Messages follow PyTorch's, with Swift spellings of the argument names.
public enum AutogradError: Error, CustomStringConvertible, Equatable {
    /// The graph's saved tensors were freed by an earlier backward without `retainGraph`.
    case graphFreed
    /// `backward()` without a gradient on a tensor with more than one element.
    case nonScalarOutput(shape: [Int])
    /// The tensor neither requires grad nor has a `gradFn`.
    case doesNotRequireGrad(index: Int)
    /// A tensor saved for backward was modified in place afterwards.
    case modifiedInPlace(description: String, producer: String, version: Int, expected: Int)
    /// The gradient given to backward does not match its tensor.
    case gradientMismatch(String)
    /// An input of `grad(of:wrt:)` was not reached from the outputs and `allowUnused` is false.
    case unusedInput(index: Int)
    /// Anomaly mode found a NaN or infinity in a node's result.
    case anomaly(node: String, output: Int, value: String, createdAt: String?)
    /// A backward node received a gradient of the wrong shape.
    case invalidGradient(node: String, message: String)

    /// The message, as PyTorch words it.
    public var description: String {
        switch self {
        case .graphFreed:
            return "Trying to backward through the graph a second time (or directly access saved tensors after they have already been freed). Saved intermediate values of the graph are freed when you call backward() or grad(of:wrt:). Specify retainGraph: true if you need to backward through the graph a second time or if you need to access saved tensors after calling backward."
        case .nonScalarOutput(let shape):
            return "grad can be implicitly created only for scalar outputs (got a tensor of shape \(Shape.describe(shape)); pass a gradient to backward(_:))"
        case .doesNotRequireGrad(let index):
            return "element \(index) of tensors does not require grad and does not have a gradFn"
        case .modifiedInPlace(let description, let producer, let version, let expected):
            return "one of the variables needed for gradient computation has been modified by an inplace operation: \(description), which is \(producer), is at version \(version); expected version \(expected) instead."
        case .gradientMismatch(let message):
            return message
        case .unusedInput(let index):
            return "One of the differentiated Tensors (input \(index)) appears to not have been used in the graph. Set allowUnused: true if this is the desired behavior."
        case .anomaly(let node, let output, let value, let createdAt):
            var s = "Function '\(node)' returned \(value) values in its \(output)th output."
            if let createdAt { s += " The node was created at: \(createdAt)" }
            return s
        case .invalidGradient(let node, let message):
            return "Function \(node) returned an invalid gradient: \(message)"
        }
    }
}
