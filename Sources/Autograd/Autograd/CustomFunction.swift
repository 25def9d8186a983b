/// A differentiable operation whose forward and backward the user writes (PyTorch's
/// `torch.autograd.Function`). Apply it with `Tensor.apply(_:_:)`; its node is named after the
/// type with `Backward` appended, as PyTorch names it.
///
/// ```swift
/// enum Cube: CustomFunction {
///     static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) throws -> Tensor {
///         ctx.saveForBackward(inputs[0])
///         return inputs[0] * inputs[0] * inputs[0]
///     }
///     static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) throws -> [Tensor?] {
///         let x = try ctx.savedTensors[0]
///         return [gradOutput * 3 * x * x]
///     }
/// }
/// let y = try Tensor.apply(Cube.self, [x])     // y.gradFn!.name == "CubeBackward"
/// ```
///
/// `forward` runs with grad mode off, so its ops are not recorded; `backward` runs in the
/// engine's grad mode, so writing it with differentiable tensor ops makes gradients of
/// gradients work (`createGraph: true`).
public protocol CustomFunction {
    /// Computes the result from `inputs`, saving what `backward` needs in `ctx`.
    static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) throws -> Tensor

    /// Computes the gradient of each input (one entry per input, in order; `nil` where no
    /// gradient flows or `ctx.needsInputGrad[i]` is false) from the gradient of the result.
    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) throws -> [Tensor?]
}

/// What a custom function's forward hands to its backward (PyTorch's `ctx`).
public final class FunctionContext: @unchecked Sendable {
    // @unchecked Sendable: written by `forward` on the applying thread, then only read by the
    // engine, which runs `backward` after forward returned.

    /// Whether each input needs a gradient: it requires grad and grad mode was on.
    public let needsInputGrad: [Bool]

    /// Non-tensor values for backward (PyTorch's `ctx.attribute = value`); pre-filled with the
    /// `values` given to `Tensor.apply`.
    public var values: [String: any Sendable]

    var saved: [SavedTensor] = []
    weak var node: GradFn?
    var released = false

    init(needsInputGrad: [Bool], values: [String: any Sendable]) {
        self.needsInputGrad = needsInputGrad
        self.values = values
    }

    /// Saves tensors for backward (PyTorch's `ctx.save_for_backward`), replacing any saved
    /// before. Each one's version is remembered, so modifying it in place afterwards makes
    /// `savedTensors` throw.
    public func saveForBackward(_ tensors: Tensor...) { saveForBackward(tensors) }

    /// Saves tensors for backward, replacing any saved before.
    public func saveForBackward(_ tensors: [Tensor]) {
        saved = tensors.map { SavedTensor($0, isOutput: false) }
    }

    /// The tensors given to `saveForBackward`, in order (PyTorch's `ctx.saved_tensors`).
    ///
    /// - Throws: `AutogradError.graphFreed` after a backward that did not retain the graph;
    ///   `.modifiedInPlace` when one was modified in place after being saved;
    ///   `.inferenceTensorSaved` for a tensor made in inference mode.
    public var savedTensors: [Tensor] {
        get throws {
            if released { throw AutogradError.graphFreed }
            guard let node else { return saved.map(\.tensor) }
            return try saved.map { try $0.unpack(for: node) }
        }
    }
}

extension Tensor {
    /// Applies a custom differentiable function to `inputs` (PyTorch's `Function.apply`).
    ///
    /// The result records a node named `"<Type>Backward"` when grad mode is on and an input
    /// requires grad; it never shares autograd identity with an input, even when `forward`
    /// returns one unchanged.
    /// - Parameters:
    ///   - function: the `CustomFunction` type.
    ///   - inputs: the tensor arguments.
    ///   - values: non-tensor arguments, readable in `forward` and `backward` as `ctx.values`.
    /// - Returns: `forward`'s result.
    /// - Throws: whatever `forward` throws.
    public static func apply<F: CustomFunction>(_ function: F.Type, _ inputs: [Tensor],
                                                values: [String: any Sendable] = [:]) throws -> Tensor {
        let recording = GradMode.isEnabled
        let ctx = FunctionContext(needsInputGrad: inputs.map { recording && $0.requiresGrad }, values: values)
        let result = try withNoGrad { try F.forward(ctx, inputs) }
        let output = result.withFreshMeta()
        return Tensor.record(output, inputs: inputs) {
            let node = CustomFunctionBackward<F>(context: ctx)
            ctx.node = node
            return node
        }
    }
}

/// The node of a custom function: runs the user's `backward`.
final class CustomFunctionBackward<F: CustomFunction>: GradFn, @unchecked Sendable {
    let context: FunctionContext

    init(context: FunctionContext) {
        self.context = context
        super.init()
    }

    override var name: String { "\(F.self)Backward" }

    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return edges.map { _ in nil } }
        let grads = try F.backward(context, g)
        guard grads.count == edges.count else {
            throw AutogradError.wrongGradientCount(node: name, expected: edges.count, got: grads.count)
        }
        return grads.enumerated().map { needsInputGrad($0.offset) ? $0.element : nil }
    }

    override func releaseSaved() {
        if context.saved.isEmpty { return }
        var objects = context.saved.compactMap { $0.retainedObject }
        context.saved = []
        context.released = true
        GraphTeardown.release(&objects)
    }
}
