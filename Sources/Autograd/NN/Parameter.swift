/// A trainable tensor owned by a module (PyTorch's `nn.Parameter`).
///
/// `Parameter` is a class on purpose. `Tensor` is a value whose copies share storage, so an
/// in-place update through any copy is seen by all; but a *new* tensor assigned to a copy is
/// not. Holding parameters in reference-typed boxes makes every holder (the module, an
/// optimizer, a gradient-clipping call) see the same current tensor: `Module.to(_:)` or
/// `loadStateDict` replace or overwrite `value` once and every optimizer follows, and no code
/// path can "update a copy" of a parameter by accident.
///
/// ```swift
/// let w = Parameter(Tensor.randn([3, 2]))
/// w.value.requiresGrad       // true
/// w.grad                     // nil until a backward pass reaches it
/// ```
public final class Parameter: CustomStringConvertible {
    /// The current tensor: a leaf that requires grad (unless created with `requiresGrad: false`).
    /// Replaced only by `Module.to(_:)`; optimizers write into its storage in place.
    public internal(set) var value: Tensor

    /// Wraps `tensor` as a parameter: a leaf sharing `tensor`'s storage, with `requiresGrad`.
    /// - Precondition: a floating dtype when `requiresGrad` is true.
    public init(_ tensor: Tensor, requiresGrad: Bool = true) {
        value = tensor.detach()
        value.requiresGrad = requiresGrad
    }

    /// The accumulated gradient of `value`, or `nil`. Settable (to `nil` to clear it).
    public var grad: Tensor? {
        get { value.grad }
        set { value.grad = newValue }
    }

    /// Whether gradients are computed for this parameter (freeze it with `false`).
    public var requiresGrad: Bool {
        get { value.requiresGrad }
        set { value.requiresGrad = newValue }
    }

    /// The shape of `value`.
    public var shape: [Int] { value.shape }
    /// The dtype of `value`.
    public var dtype: DType { value.dtype }
    /// The device of `value`.
    public var device: Device { value.device }

    /// `Parameter containing:` and the tensor, as PyTorch prints it.
    public var description: String { "Parameter containing:\n\(value)" }

    /// Replaces `value` with `tensor` (a fresh leaf with this parameter's `requiresGrad`),
    /// carrying the gradient over converted the same way.
    func replace(with tensor: Tensor, grad newGrad: Tensor?) {
        let requires = value.requiresGrad
        let leaf = tensor.detach()
        leaf.requiresGrad = requires
        leaf.grad = newGrad
        value = leaf
    }
}

/// A tensor owned by a module that is part of its state but not trained, such as batch
/// normalization's running statistics (PyTorch's registered buffers).
///
/// A class for the same reason as `Parameter`: every holder sees the current tensor.
public final class Buffer: CustomStringConvertible {
    /// The current tensor (never requires grad).
    public internal(set) var value: Tensor
    /// Whether the buffer is saved in `stateDict()` (PyTorch's `persistent`).
    public let isPersistent: Bool

    /// Wraps `tensor` as a buffer.
    public init(_ tensor: Tensor, persistent: Bool = true) {
        value = tensor.detach()
        isPersistent = persistent
    }

    /// The tensor, as PyTorch prints a buffer.
    public var description: String { "\(value)" }
}
