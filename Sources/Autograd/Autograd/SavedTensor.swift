/// A tensor saved by a node for its backward formula, with the version it had when saved.
///
/// Like PyTorch's `SavedVariable`, a saved non-leaf keeps its elements and the edge to its
/// producer (`gradFn`, `outputNr`) but not its autograd metadata, so saving a view never keeps
/// the view's base alive through the node (which could close a reference cycle); a leaf is
/// saved as itself, so gradients of gradients still reach its `AccumulateGrad`.
struct SavedTensor {
    /// The elements (with the leaf's own metadata for a leaf; fresh metadata otherwise).
    let tensor: Tensor
    let isOutput: Bool
    let outputNr: Int
    let outputRequiresGrad: Bool
    let version: Int
    /// The producer of a saved non-leaf input, re-attached on unpacking.
    let producer: GradFn?
    /// Whether the tensor was made in inference mode (it cannot take part in backward).
    let isInference: Bool

    init(_ tensor: Tensor, isOutput: Bool, outputNr: Int = 0) {
        self.isOutput = isOutput
        self.version = tensor.storage.version
        self.isInference = tensor.storage.isInference
        // A node's output is saved before the node is attached to it; it will require grad.
        self.outputNr = isOutput ? outputNr : tensor.meta.outputNr
        self.outputRequiresGrad = isOutput || tensor.requiresGrad
        if isOutput {
            self.producer = nil
            self.tensor = tensor.withFreshMeta()
        } else if let fn = tensor.gradFn {
            self.producer = fn
            self.tensor = tensor.withFreshMeta()
        } else {
            self.producer = nil
            self.tensor = tensor
        }
    }

    /// The object whose release may cascade through the graph (for iterative teardown).
    var retainedObject: AnyObject? {
        if isOutput { return nil }
        if let producer { return producer }
        return tensor.meta
    }

    /// The saved tensor, re-attached to the graph: an output gets `node` back as its `gradFn`,
    /// a non-leaf input its producer.
    func unpack(for node: GradFn) throws -> Tensor {
        if isInference { throw AutogradError.inferenceTensorSaved }
        if tensor.storage.version != version {
            let what = isOutput ? "output \(outputNr) of \(node.name)" : (producer.map { "output \(outputNr) of \($0.name)" } ?? "a leaf")
            throw AutogradError.modifiedInPlace(
                description: "[\(tensor.typeDescription) \(Shape.describe(tensor.shape))]",
                producer: what, version: tensor.storage.version, expected: version)
        }
        if isOutput && outputRequiresGrad {
            return Tensor(storage: tensor.storage, shape: tensor.shape, strides: tensor.strides,
                          offset: tensor.offset, dtype: tensor.dtype,
                          meta: AutogradMeta(gradFn: node, outputNr: outputNr))
        }
        if let producer {
            return Tensor(storage: tensor.storage, shape: tensor.shape, strides: tensor.strides,
                          offset: tensor.offset, dtype: tensor.dtype,
                          meta: AutogradMeta(gradFn: producer, outputNr: outputNr))
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
    /// An input of `grad(of:wrt:)` or `backward(inputs:)` does not require grad.
    case inputDoesNotRequireGrad(index: Int)
    /// A tensor made in inference mode was saved for backward.
    case inferenceTensorSaved
    /// A custom function's backward returned the wrong number of gradients.
    case wrongGradientCount(node: String, expected: Int, got: Int)

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
            return "one of the variables needed for gradient computation has been modified by an inplace operation: \(description), which is \(producer), is at version \(version); expected version \(expected) instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, with withAnomalyDetection { }."
        case .gradientMismatch(let message):
            return message
        case .unusedInput(let index):
            return "One of the differentiated Tensors (input \(index)) appears to not have been used in the graph. Set allowUnused: true if this is the desired behavior."
        case .anomaly(let node, let output, let value, let createdAt):
            var s = "Function '\(node)' returned \(value) values in its \(output)th output."
            if let createdAt { s += " The node was created at: \(createdAt)" }
            return s
        case .invalidGradient(let node, let message):
            return "Function \(node) returned an invalid gradient \(message)"
        case .inputDoesNotRequireGrad:
            return "One of the differentiated Tensors does not require grad"
        case .inferenceTensorSaved:
            return "Inference tensors cannot be saved for backward. To work around you can make a clone to get a normal tensor and use it in autograd."
        case .wrongGradientCount(let node, let expected, let got):
            return "function \(node) returned an incorrect number of gradients (expected \(expected), got \(got))"
        }
    }
}
