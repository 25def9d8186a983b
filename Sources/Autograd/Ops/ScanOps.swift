extension Tensor {
    /// Validates a scan: the dim, and the result dtype (integers and bool accumulate in int64
    /// unless `dtype` says otherwise).
    func planScan(dim: Int, dtype requested: DType?, op: String) throws(ShapeError) -> (dim: Int, result: DType) {
        let d = try Shape.normalize(dim: dim, rank: rank, op: op)
        return (d, requested ?? dtype.sumResult)
    }

    /// Running sums along `dim` (PyTorch's `cumsum`); same shape. Integers and bool give int64
    /// unless `dtype` is given; floats accumulate in double on the CPU. Differentiable
    /// (`CumsumBackward0`).
    ///
    /// ```swift
    /// Tensor([1, 2, 3]).cumsum(dim: 0)   // [1, 3, 6]
    /// ```
    /// - Precondition: `dim` in range.
    /// - Complexity: O(n).
    public func cumsum(dim: Int, dtype: DType? = nil) -> Tensor { scan(.sum, dim: dim, dtype: dtype) }

    /// Running products along `dim` (PyTorch's `cumprod`); same shape, dtype as `cumsum`.
    /// Differentiable (`CumprodBackward0`, exact with zeros in the input).
    /// - Precondition: `dim` in range.
    /// - Complexity: O(n).
    public func cumprod(dim: Int, dtype: DType? = nil) -> Tensor { scan(.prod, dim: dim, dtype: dtype) }

    private func scan(_ op: ScanOp, dim: Int, dtype requested: DType?) -> Tensor {
        let name = op == .sum ? "cumsum" : "cumprod"
        let plan = check { () throws(ShapeError) in try planScan(dim: dim, dtype: requested, op: name) }
        var x = requested.map { convertedWithoutGrad(to: $0) } ?? detached()
        if x.dtype == .float16 || x.dtype == .bfloat16 { x = x.convertedWithoutGrad(to: .float32) }
        let kernelOut: DType = x.dtype.isFloatingPoint ? x.dtype : .int64
        let out = Tensor(uninitializedShape: shape, dtype: kernelOut, device: device)
        if rank == 0 {
            Backends.backend(for: device).copy(x, into: out)
        } else if count > 0 {
            Backends.backend(for: device).scan(op, x, dim: plan.dim, into: out)
        }
        let result = kernelOut == plan.result ? out : out.convertedWithoutGrad(to: plan.result)
        return Tensor.record(result, input: self) {
            if op == .sum { return CumsumBackward0(dim: plan.dim) }
            let node = CumprodBackward0(dim: plan.dim)
            node.selfSlot = node.save(self)
            node.resultSlot = node.save(result, isOutput: true)
            return node
        }
    }
}

/// `Σ_{j ≥ i} g_j` along `dim`, the adjoint of a running sum. Differentiable.
func reversedCumsum(_ g: Tensor, dim: Int) -> Tensor {
    if g.rank == 0 { return g }
    return g.flipped(dims: [dim]).cumsum(dim: dim).flipped(dims: [dim])
}

/// Backward of `cumsum`: the reversed running sum of the gradient.
final class CumsumBackward0: GradFn, @unchecked Sendable {
    let dim: Int
    init(dim: Int) {
        self.dim = dim
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0], let meta = edges[0].metadata else { return [nil] }
        return [reversedCumsum(g, dim: dim).to(meta.dtype)]
    }
}

/// Backward of `cumprod`: `reversedCumsum(g · result) / x` without zeros; with zeros, the
/// exact `Σ_{j ≥ i} g_j ∏_{k ≤ j, k ≠ i} x_k` written with differentiable ops (O(n²) per row).
final class CumprodBackward0: GradFn, @unchecked Sendable {
    let dim: Int
    var selfSlot = -1, resultSlot = -1
    init(dim: Int) {
        self.dim = dim
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        let x = try savedTensor(selfSlot), y = try savedTensor(resultSlot)
        if x.rank == 0 || x.count == 0 { return [g] }
        if !(x .== 0.0).any().item(as: Bool.self) {
            return [reversedCumsum(g * y, dim: dim) / x]
        }
        let n = x.shape[dim]
        let xt = x.movingDim(dim, to: -1)                          // [..., n]
        let gt = g.movingDim(dim, to: -1).unsqueezed(dim: -2)      // [..., 1, n(j)]
        let eye = Tensor.eye(n, dtype: .bool, device: x.device)
        let one = Tensor.ones([], dtype: x.dtype, device: x.device)
        // m[..., i, j] = ∏_{k ≤ j, k ≠ i} x_k
        let m = Tensor.where(eye, one, xt.unsqueezed(dim: -2)).cumprod(dim: -1)
        let upper = Tensor.arange(n, device: x.device).unsqueezed(dim: 0) .>= Tensor.arange(n, device: x.device).unsqueezed(dim: 1)
        let terms = Tensor.where(upper, gt * m, Tensor.zeros([], dtype: x.dtype, device: x.device))
        return [terms.sum(dim: -1).movingDim(-1, to: dim)]
    }
}
