/// Batch normalization with running statistics (PyTorch's `nn.BatchNorm1d`/`nn.BatchNorm2d`):
/// training mode normalizes with the batch's statistics and updates the running ones;
/// evaluation mode uses the running ones. Weight starts at 1, bias at 0, running mean 0,
/// running variance 1.
public class BatchNorm: Module {
    /// The scale `[numFeatures]`, or nil without `affine`.
    public let weight: Parameter?
    /// The shift `[numFeatures]`, or nil without `affine`.
    public let bias: Parameter?
    /// The running mean `[numFeatures]` (PyTorch's `running_mean`).
    public let runningMean: Buffer
    /// The running (unbiased) variance `[numFeatures]` (PyTorch's `running_var`).
    public let runningVar: Buffer
    /// The number of training batches seen, an int64 0-d tensor (PyTorch's `num_batches_tracked`).
    public let numBatchesTracked: Buffer
    /// The momentum of the running statistics, or nil for a cumulative average.
    public let momentum: Double?
    /// Added to the variance for stability.
    public let eps: Double
    /// The input ranks this layer accepts.
    let ranks: Set<Int>

    init(_ numFeatures: Int, eps: Double, momentum: Double?, affine: Bool, dtype: DType, ranks: Set<Int>) {
        weight = affine ? Parameter(Tensor.ones([numFeatures], dtype: dtype)) : nil
        bias = affine ? Parameter(Tensor.zeros([numFeatures], dtype: dtype)) : nil
        runningMean = Buffer(Tensor.zeros([numFeatures], dtype: dtype))
        runningVar = Buffer(Tensor.ones([numFeatures], dtype: dtype))
        numBatchesTracked = Buffer(Tensor.zeros([], dtype: .int64))
        self.momentum = momentum
        self.eps = eps
        self.ranks = ranks
        super.init()
    }

    /// PyTorch's names, so state dicts interchange with PyTorch checkpoints.
    override func namedMembers() -> [(name: String, member: Member)] {
        var result: [(String, Member)] = []
        if let weight { result.append(("weight", .parameter(weight))) }
        if let bias { result.append(("bias", .parameter(bias))) }
        result.append(("running_mean", .buffer(runningMean)))
        result.append(("running_var", .buffer(runningVar)))
        result.append(("num_batches_tracked", .buffer(numBatchesTracked)))
        return result
    }

    /// `batchNorm` with this layer's parameters, statistics and mode.
    /// - Precondition: an input rank this layer accepts.
    public override func forward(_ input: Tensor) -> Tensor {
        precondition(ranks.contains(input.rank), "\(typeName): expected \(ranks.sorted().map { "\($0)D" }.joined(separator: " or ")) input (got \(input.rank)D input)")
        var factor = momentum ?? 0
        if isTraining {
            let n = numBatchesTracked.value
            withNoGrad { _ = n.addInPlace(1) }
            if momentum == nil { factor = 1 / n.item() }
        }
        return batchNorm(input, runningMean: runningMean.value, runningVar: runningVar.value, weight: weight?.value,
                         bias: bias?.value, training: isTraining, momentum: factor, eps: eps)
    }
}

/// Batch normalization over `[N, C]` or `[N, C, L]` input (PyTorch's `nn.BatchNorm1d`).
public final class BatchNorm1d: BatchNorm {
    /// Creates the layer for `numFeatures` channels.
    public init(_ numFeatures: Int, eps: Double = 1e-5, momentum: Double? = 0.1, affine: Bool = true, dtype: DType = .float32) {
        super.init(numFeatures, eps: eps, momentum: momentum, affine: affine, dtype: dtype, ranks: [2, 3])
    }
}

/// Batch normalization over `[N, C, H, W]` input (PyTorch's `nn.BatchNorm2d`).
public final class BatchNorm2d: BatchNorm {
    /// Creates the layer for `numFeatures` channels.
    public init(_ numFeatures: Int, eps: Double = 1e-5, momentum: Double? = 0.1, affine: Bool = true, dtype: DType = .float32) {
        super.init(numFeatures, eps: eps, momentum: momentum, affine: affine, dtype: dtype, ranks: [4])
    }
}

/// Layer normalization over the trailing `normalizedShape` dims (PyTorch's `nn.LayerNorm`);
/// weight starts at 1, bias at 0.
public final class LayerNorm: Module {
    /// The trailing shape normalized over.
    public let normalizedShape: [Int]
    /// The scale, or nil without `elementwiseAffine`.
    public let weight: Parameter?
    /// The shift, or nil without `elementwiseAffine` or `bias`.
    public let bias: Parameter?
    /// Added to the variance for stability.
    public let eps: Double

    /// Creates the layer.
    public init(_ normalizedShape: [Int], eps: Double = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true, dtype: DType = .float32) {
        self.normalizedShape = normalizedShape
        self.eps = eps
        weight = elementwiseAffine ? Parameter(Tensor.ones(normalizedShape, dtype: dtype)) : nil
        self.bias = elementwiseAffine && bias ? Parameter(Tensor.zeros(normalizedShape, dtype: dtype)) : nil
        super.init()
    }

    /// `layerNorm` with this layer's parameters.
    public override func forward(_ input: Tensor) -> Tensor {
        layerNorm(input, normalizedShape: normalizedShape, weight: weight?.value, bias: bias?.value, eps: eps)
    }
}

/// Dropout as a module (PyTorch's `nn.Dropout`): active in training mode only.
public final class Dropout: Module {
    /// The probability of zeroing an element.
    public let p: Double
    /// Where the masks come from (default `Generator.default`).
    public let generator: Generator?

    /// Creates the layer.
    /// - Precondition: `0 <= p <= 1`.
    public init(p: Double = 0.5, generator: Generator? = nil) {
        precondition(p >= 0 && p <= 1, "Dropout: dropout probability has to be between 0 and 1, but got \(p)")
        self.p = p
        self.generator = generator
        super.init()
    }

    /// `dropout(input, p:, training: isTraining)`.
    public override func forward(_ input: Tensor) -> Tensor {
        dropout(input, p: p, training: isTraining, generator: generator)
    }
}

/// A lookup table of `numEmbeddings` vectors of size `embeddingDim` (PyTorch's
/// `nn.Embedding`), initialized from `N(0, 1)` (the padding row zeroed).
public final class Embedding: Module {
    /// The table `[numEmbeddings, embeddingDim]`.
    public let weight: Parameter
    /// A row that receives no gradient (and starts at zero), or nil.
    public let paddingIndex: Int?

    /// Creates the table.
    public init(_ numEmbeddings: Int, _ embeddingDim: Int, paddingIndex: Int? = nil, dtype: DType = .float32, generator: Generator? = nil) {
        var table = Initialization.normal([numEmbeddings, embeddingDim], dtype: dtype, generator: generator)
        if let p = paddingIndex {
            let keep = Tensor.arange(numEmbeddings).reshaped([-1, 1]) .!= Tensor.full([], value: Double(p), dtype: .int64)
            table = Tensor.where(keep, table, Tensor.zeros([], dtype: dtype))
        }
        weight = Parameter(table)
        self.paddingIndex = paddingIndex
        super.init()
    }

    /// The rows at integer `indices`: `indices.shape + [embeddingDim]`.
    public override func forward(_ indices: Tensor) -> Tensor {
        embedding(indices, weight: weight.value, paddingIndex: paddingIndex)
    }
}
