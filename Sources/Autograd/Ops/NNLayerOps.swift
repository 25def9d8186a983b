// MARK: - Linear

/// The affine map `input · weightᵀ + bias` (PyTorch's `F.linear`): input `[…, inFeatures]`,
/// weight `[outFeatures, inFeatures]`, bias `[outFeatures]`; result `[…, outFeatures]`.
/// Differentiable (`AddmmBackward0` for a 2-D input with bias, as in PyTorch; otherwise the
/// nodes of `matmul` and `+`).
/// - Precondition: the input's last dim equals `inFeatures`; same dtype and device.
public func linear(_ input: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
    check { () throws(ShapeError) in
        guard weight.rank == 2, input.rank >= 1, input.shape[input.rank - 1] == weight.shape[1] else {
            throw ShapeError("linear: mat1 and mat2 shapes cannot be multiplied (input \(Shape.describe(input.shape)), weight \(Shape.describe(weight.shape)))")
        }
        if let bias, bias.shape != [weight.shape[0]] {
            throw ShapeError("linear: expected bias of shape [\(weight.shape[0])], got \(Shape.describe(bias.shape))")
        }
    }
    if input.rank > 2 {
        // PyTorch folds the leading dims into one matrix product: with a bias the result is a
        // view of an addmm (`ViewBackward0`), without one an unsafe view of an mm.
        let rows = input.reshaped([-1, weight.shape[1]])
        let outShape = Array(input.shape.dropLast()) + [weight.shape[0]]
        if bias != nil { return linear(rows, weight: weight, bias: bias).reshaped(outShape) }
        let product = rows.mm(weight.transposed(0, 1)).contiguous()
        return product.viewWithGrad(shape: outShape, strides: Shape.contiguousStrides(outShape), offset: product.offset) {
            UnsafeViewBackward0(inputShape: $0.shape)
        }
    }
    guard input.rank == 2, let bias else {
        let product = input.matmul(weight.transposed(0, 1))
        return bias.map { product + $0 } ?? product
    }
    let out = withNoGrad { input.detached().mm(weight.detached().transposed(0, 1)) + bias.detached() }.detached()
    return Tensor.record(out, inputs: [bias, input, weight]) {
        let node = AddmmBackward0()
        node.inputSlot = node.save(input)
        node.weightSlot = node.save(weight)
        return node
    }
}

/// Backward of `linear` with a 2-D input and bias: `Σ g`, `g · W`, `gᵀ · x`.
final class AddmmBackward0: GradFn, @unchecked Sendable {
    var inputSlot = -1, weightSlot = -1
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil, nil, nil] }
        return [needsInputGrad(0) ? g.sum(dim: 0) : nil,
                needsInputGrad(1) ? g.mm(try savedTensor(weightSlot)) : nil,
                needsInputGrad(2) ? g.transposed(0, 1).mm(try savedTensor(inputSlot)) : nil]
    }
}

// MARK: - Dropout

/// Dropout (PyTorch's `F.dropout`): in training, zeroes each element with probability `p` and
/// scales the rest by `1 / (1 − p)`; otherwise returns the input. The mask comes from
/// `generator` (default `Generator.default`). Differentiable (`MulBackward0`, as in PyTorch).
/// - Precondition: `0 <= p <= 1`.
public func dropout(_ input: Tensor, p: Double = 0.5, training: Bool = true, generator: Generator? = nil) -> Tensor {
    check { () throws(ShapeError) in
        guard p >= 0 && p <= 1 else { throw ShapeError("dropout: dropout probability has to be between 0 and 1, but got \(p)") }
    }
    guard training && p > 0 else { return input }
    if p == 1 { return input * Tensor.zeros([], dtype: input.dtype, device: input.device) }
    let scale = 1 / (1 - p)
    if input.device.kind == .cuda {
        // The mask is drawn on the device (Philox; see `Generator`).
        let u = Tensor.cudaRandom(.uniform, shape: input.shape, dtype: .float64, generator: generator ?? .default,
                                  device: input.device)
        let dtype = input.dtype.isFloatingPoint ? input.dtype : .float32
        let noise = withNoGrad {
            Tensor.where(u .< (1 - p), Tensor.full([], value: scale, dtype: dtype, device: input.device),
                         Tensor.zeros([], dtype: dtype, device: input.device))
        }.detached()
        return input * noise
    }
    let uniform = (generator ?? .default).uniform(input.count)
    let noise = Tensor(shape: input.shape, scalars: uniform.map { $0 < 1 - p ? scale : 0 })
        .convertedWithoutGrad(to: input.dtype.isFloatingPoint ? input.dtype : .float32).to(device: input.device)
    return input * noise
}

// MARK: - Embedding

/// Looks up rows of `weight` `[numEmbeddings, dim]` at integer `indices` of any shape
/// (PyTorch's `F.embedding`); result `indices.shape + [dim]`. Differentiable in `weight`
/// (`EmbeddingBackward0`); rows at `paddingIndex` receive no gradient.
/// - Precondition: integer indices in `0..<numEmbeddings`; 2-D floating weight.
public func embedding(_ indices: Tensor, weight: Tensor, paddingIndex: Int? = nil) -> Tensor {
    let flat = check { () throws(ShapeError) -> Tensor in
        guard indices.dtype.isInteger else { throw ShapeError("embedding: expected integer indices, got \(indices.dtype)") }
        guard weight.rank == 2 else { throw ShapeError("embedding: expected a 2-D weight, got \(Shape.describe(weight.shape))") }
        let values = indices.scalars(as: Int64.self)
        if let bad = values.first(where: { $0 < 0 || $0 >= Int64(weight.shape[0]) }) {
            throw ShapeError("embedding: index \(bad) is out of range for \(weight.shape[0]) embeddings")
        }
        return Tensor(shape: [values.count], scalars: values).to(device: weight.device)
    }
    let out = weight.gatheredRows(flat).reshaped(indices.shape + [weight.shape[1]])
    return Tensor.record(out.detached(), input: weight) {
        let node = EmbeddingBackward0(rows: weight.shape[0], paddingIndex: paddingIndex)
        node.indicesSlot = node.save(flat)
        return node
    }
}

extension Tensor {
    /// Rows `indices` (int64 `[M]`, in range, on this device) of this `[V, D]` tensor, not recorded.
    func gatheredRows(_ indices: Tensor) -> Tensor {
        let source = contiguousWithoutGrad()
        let rowShape = Array(shape.dropFirst())
        let out = Tensor(uninitializedShape: [indices.count] + rowShape, dtype: dtype, device: device)
        Backends.backend(for: device).gatherRows(source, indices: indices.contiguousWithoutGrad(), into: out)
        return out
    }
}

/// Backward of `embedding`: the output gradient summed into the rows it came from.
final class EmbeddingBackward0: GradFn, @unchecked Sendable {
    let rows: Int, paddingIndex: Int?
    var indicesSlot = -1
    init(rows: Int, paddingIndex: Int?) {
        self.rows = rows
        self.paddingIndex = paddingIndex
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let indices = try savedTensor(indicesSlot)
        return [embeddingDenseBackward(g.reshaped([indices.count, -1]), indices: indices, rows: rows, paddingIndex: paddingIndex)]
    }
}

/// Sums rows of `g` `[M, D]` into a `[rows, D]` gradient at `indices`, skipping `paddingIndex`.
/// Differentiable (`EmbeddingDenseBackward0`, whose backward is the lookup).
func embeddingDenseBackward(_ g: Tensor, indices: Tensor, rows: Int, paddingIndex: Int?) -> Tensor {
    let compute = g.windowComputeDType
    let source = (g.dtype == compute ? g : g.convertedWithoutGrad(to: compute)).contiguousWithoutGrad()
    let masked = paddingIndex.map { p in
        Tensor.where((indices .!= Tensor.full([], value: Double(p), dtype: .int64, device: indices.device)).reshaped([-1, 1]),
                     source, Tensor.zeros([], dtype: compute, device: g.device)).contiguousWithoutGrad()
    } ?? source
    let out = Tensor.zeros([rows, g.shape[1]], dtype: compute, device: g.device)
    Backends.backend(for: g.device).scatterAddRows(masked.detached(), indices: indices, into: out)
    let result = compute == g.dtype ? out : out.convertedWithoutGrad(to: g.dtype)
    return Tensor.record(result, input: g) {
        let node = EmbeddingDenseBackward0(paddingIndex: paddingIndex)
        node.indicesSlot = node.save(indices)
        return node
    }
}

/// Backward of the embedding gradient: look the rows up again (zero at the padding index).
final class EmbeddingDenseBackward0: GradFn, @unchecked Sendable {
    let paddingIndex: Int?
    var indicesSlot = -1
    init(paddingIndex: Int?) {
        self.paddingIndex = paddingIndex
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let gg = gradOutputs[0] else { return [nil] }
        let indices = try savedTensor(indicesSlot)
        let rows = embedding(indices, weight: gg)
        guard let p = paddingIndex else { return [rows] }
        let keep = (indices .!= Tensor.full([], value: Double(p), dtype: .int64, device: indices.device)).reshaped([-1, 1])
        return [Tensor.where(keep, rows, Tensor.zeros([], dtype: gg.dtype, device: gg.device))]
    }
}
