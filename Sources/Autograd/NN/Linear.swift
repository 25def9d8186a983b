/// A fully connected layer `y = x · Wᵀ + b` (PyTorch's `nn.Linear`), initialized as PyTorch
/// does: `W ~ kaiming_uniform(a: √5)` = `U(±1/√inFeatures)`, `b ~ U(±1/√inFeatures)`.
///
/// ```swift
/// let fc = Linear(64, 10)
/// fc(Tensor.randn([32, 64])).shape   // [32, 10]
/// ```
public final class Linear: Module {
    /// The weight `[outFeatures, inFeatures]`.
    public let weight: Parameter
    /// The bias `[outFeatures]`, or nil.
    public let bias: Parameter?
    /// Input and output sizes.
    public let inFeatures: Int, outFeatures: Int

    /// Creates a layer with PyTorch's default initialization from `generator`.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, dtype: DType = .float32, generator: Generator? = nil) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        (weight, self.bias) = Initialization.defaultLayer(weightShape: [outFeatures, inFeatures], bias: bias, dtype: dtype, generator: generator)
        super.init()
    }

    /// `linear(input, weight, bias)`: `[…, inFeatures]` → `[…, outFeatures]`.
    public override func forward(_ input: Tensor) -> Tensor {
        linear(input, weight: weight.value, bias: bias?.value)
    }
}

/// A module that returns its input unchanged (PyTorch's `nn.Identity`).
public final class Identity: Module {
    /// Returns `input`.
    public override func forward(_ input: Tensor) -> Tensor { input }
}

/// Flattens the dims `startDim…endDim` into one (PyTorch's `nn.Flatten`, default from dim 1).
public final class Flatten: Module {
    /// The first and last dims flattened.
    public let startDim: Int, endDim: Int

    /// Creates the layer; the defaults keep the batch dim.
    public init(startDim: Int = 1, endDim: Int = -1) {
        self.startDim = startDim
        self.endDim = endDim
        super.init()
    }

    /// The input reshaped with dims `startDim…endDim` merged (a view when possible).
    /// - Precondition: the dims are in range and `startDim <= endDim`.
    public override func forward(_ input: Tensor) -> Tensor {
        let r = Swift.max(input.rank, 1)
        let s = startDim < 0 ? startDim + r : startDim, e = endDim < 0 ? endDim + r : endDim
        precondition(s >= 0 && e < r && s <= e, "Flatten: dims \(startDim)...\(endDim) are out of range for shape \(Shape.describe(input.shape))")
        if input.rank == 0 { return input.reshaped([1]) }
        let merged = input.shape[s...e].reduce(1, *)
        return input.reshaped(Array(input.shape[..<s]) + [merged] + Array(input.shape[(e + 1)...]))
    }
}

/// Modules applied in order, each to the previous one's output (PyTorch's `nn.Sequential`);
/// children are named `0`, `1`, … as in PyTorch (`model.0.weight`).
///
/// ```swift
/// let model = Sequential(Linear(64, 128), ReLU(), Linear(128, 10))
/// ```
public final class Sequential: Module {
    /// The modules, in order.
    public let layers: [Module]

    /// Creates the container from an array.
    public init(_ layers: [Module]) {
        self.layers = layers
        super.init()
    }

    /// Creates the container from a list.
    public convenience init(_ layers: Module...) { self.init(layers) }

    /// Each layer applied in turn.
    public override func forward(_ input: Tensor) -> Tensor {
        layers.reduce(input) { $1($0) }
    }

    /// The layer at `index`.
    public subscript(index: Int) -> Module { layers[index] }

    /// The number of layers.
    public var count: Int { layers.count }

    override func namedMembers() -> [(name: String, member: Member)] {
        layers.enumerated().map { ("\($0.offset)", .module($0.element)) }
    }
}
