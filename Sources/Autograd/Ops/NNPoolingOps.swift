// MARK: - Validation

/// Validates a 2-D pooling window over a `[N, C, H, W]` or `[C, H, W]` input and returns its
/// geometry (the batch folded into `batch`, channels kept).
func validatePool2d(_ input: Tensor, kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int),
                    dilation: (Int, Int), op: String) throws(ShapeError) -> WindowGeometry {
    guard input.rank == 3 || input.rank == 4 else {
        throw ShapeError("\(op): expected 3D or 4D (batched) input, but got input of shape \(Shape.describe(input.shape))")
    }
    guard input.dtype.isFloatingPoint else { throw ShapeError("\(op): expected a floating input, but got \(input.dtype)") }
    guard kernelSize.0 > 0 && kernelSize.1 > 0 else {
        throw ShapeError("\(op): kernel size should be greater than zero, but got kernel size \(kernelSize)")
    }
    guard stride.0 > 0 && stride.1 > 0 else { throw ShapeError("\(op): stride should be greater than zero, but got stride \(stride)") }
    guard dilation.0 > 0 && dilation.1 > 0 else {
        throw ShapeError("\(op): dilation should be greater than zero, but got dilation \(dilation)")
    }
    guard padding.0 >= 0 && padding.1 >= 0 && padding.0 <= kernelSize.0 / 2 && padding.1 <= kernelSize.1 / 2 else {
        throw ShapeError("\(op): pad should be at most half of effective kernel size, but got pad=\(padding), kernel size=\(kernelSize) and dilation=\(dilation)")
    }
    let batched = input.rank == 4
    let s = input.shape
    let g = WindowGeometry(batch: batched ? s[0] : 1, channels: s[batched ? 1 : 0], height: s[s.count - 2], width: s[s.count - 1],
                           kernelH: kernelSize.0, kernelW: kernelSize.1, strideH: stride.0, strideW: stride.1,
                           paddingH: padding.0, paddingW: padding.1, dilationH: dilation.0, dilationW: dilation.1)
    guard g.outH > 0 && g.outW > 0 else {
        throw ShapeError("\(op): output size is too small (input \(Shape.describe(input.shape)), kernel \(kernelSize), stride \(stride), padding \(padding), dilation \(dilation))")
    }
    return g
}

/// The pooled result's shape: the input's with the last two dims replaced by the output size.
private func pooledShape(_ input: Tensor, _ g: WindowGeometry) -> [Int] {
    Array(input.shape.dropLast(2)) + [g.outH, g.outW]
}

// MARK: - Max pooling

/// 2-D max pooling (PyTorch's `F.max_pool2d`): the maximum of each `kernelSize` window of a
/// `[N, C, H, W]` (or `[C, H, W]`) input; padding never wins. Same dtype; NaN propagates.
/// Differentiable (`MaxPool2DWithIndicesBackward0`: the gradient goes to the first maximum).
///
/// ```swift
/// maxPool2d(Tensor.randn([8, 16, 8, 8]), kernelSize: (2, 2)).shape   // [8, 16, 4, 4]
/// ```
/// - Parameters:
///   - stride: defaults to `kernelSize`.
/// - Precondition: 3-D or 4-D floating input; positive kernel, stride and dilation; padding at
///   most half the kernel; a non-empty output.
public func maxPool2d(_ input: Tensor, kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                      dilation: (Int, Int) = (1, 1)) -> Tensor {
    maxPool2dCore(input, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation).values
}

/// 2-D max pooling that also returns where each maximum came from: int64 indices into the
/// flattened `H × W` plane of the input (PyTorch's `return_indices=True`).
/// - Precondition: as `maxPool2d`.
public func maxPool2dWithIndices(_ input: Tensor, kernelSize: (Int, Int), stride: (Int, Int)? = nil,
                                 padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1)) -> (values: Tensor, indices: Tensor) {
    let (values, window, g) = maxPool2dCore(input, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation)
    return (values, planeIndices(window: window, geometry: g).reshaped(values.shape))
}

/// Max pooling's values and the offset of each maximum within its window `[N, C, L]`.
private func maxPool2dCore(_ input: Tensor, kernelSize: (Int, Int), stride: (Int, Int)?, padding: (Int, Int),
                           dilation: (Int, Int)) -> (values: Tensor, window: Tensor, geometry: WindowGeometry) {
    let g = check { () throws(ShapeError) in
        try validatePool2d(input, kernelSize: kernelSize, stride: stride ?? kernelSize, padding: padding, dilation: dilation, op: "maxPool2d")
    }
    let kk = g.kernelH * g.kernelW, l = g.outH * g.outW
    let (values, window) = withNoGrad { () -> (Tensor, Tensor) in
        let compute = input.windowComputeDType
        let x = input.detached().reshaped(g.imageShape)
        if let pooled = CKernelPaths.maxPool2d(x, geometry: g) { return pooled }
        let xc = x.dtype == compute ? x : x.convertedWithoutGrad(to: compute)
        let cols = Tensor(uninitializedShape: g.columnShape, dtype: compute, device: input.device)
        Backends.backend(for: input.device).im2col(xc, geometry: g, padValue: -.infinity, into: cols)
        let m = cols.reshaped([g.batch, g.channels, kk, l]).max(dim: 2)
        return (m.values.to(input.dtype), m.indices)
    }
    let shape = pooledShape(input, g)
    let out = values.detached().reshaped(shape)
    let result = Tensor.record(out, input: input) {
        let node = MaxPool2DWithIndicesBackward0(geometry: g, inputShape: input.shape)
        node.windowSlot = node.save(window)
        return node
    }
    return (result, window, g)
}

/// Converts window offsets `[N, C, L]` into flat `y·W + x` positions of the input plane.
private func planeIndices(window: Tensor, geometry g: WindowGeometry) -> Tensor {
    let w = window.cpu().scalars(as: Int64.self)
    let l = g.outH * g.outW
    var flat = [Int64](repeating: 0, count: w.count)
    for (k, offset) in w.enumerated() {
        let p = k % l, oy = p / g.outW, ox = p % g.outW
        let i = Int(offset) / g.kernelW, j = Int(offset) % g.kernelW
        let y = oy * g.strideH - g.paddingH + i * g.dilationH
        let x = ox * g.strideW - g.paddingW + j * g.dilationW
        flat[k] = Int64(y * g.width + x)
    }
    return Tensor(shape: window.shape, scalars: flat).to(device: window.device)
}

/// 1-D max pooling (PyTorch's `F.max_pool1d`) over the last dim of `[N, C, L]` or `[C, L]`:
/// computed as `maxPool2d` on an unsqueezed view (its `gradFn` is `SqueezeBackward1`, as in PyTorch).
/// - Parameters:
///   - stride: defaults to `kernelSize`.
/// - Precondition: 2-D or 3-D floating input; as `maxPool2d` otherwise.
public func maxPool1d(_ input: Tensor, kernelSize: Int, stride: Int? = nil, padding: Int = 0, dilation: Int = 1) -> Tensor {
    precondition(input.rank == 2 || input.rank == 3, "maxPool1d: expected 2D or 3D (batched) input, but got input of shape \(Shape.describe(input.shape))")
    return maxPool2d(input.unsqueezed(dim: -2), kernelSize: (1, kernelSize), stride: (1, stride ?? kernelSize),
                     padding: (0, padding), dilation: (1, dilation)).squeezed(dim: -2)
}

/// Backward of max pooling: the gradient placed at each window's maximum, folded back.
final class MaxPool2DWithIndicesBackward0: GradFn, @unchecked Sendable {
    let geometry: WindowGeometry, inputShape: [Int]
    var windowSlot = -1
    init(geometry: WindowGeometry, inputShape: [Int]) {
        self.geometry = geometry
        self.inputShape = inputShape
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let gOut = gradOutputs[0] else { return [nil] }
        let g = geometry, kk = g.kernelH * g.kernelW, l = g.outH * g.outW
        let window = try savedTensor(windowSlot).unsqueezed(dim: 2)
        let positions = Tensor.arange(kk, device: gOut.device).reshaped([1, 1, kk, 1])
        let zero = Tensor.zeros([], dtype: gOut.dtype, device: gOut.device)
        let cols = Tensor.where(positions .== window, gOut.reshaped([g.batch, g.channels, 1, l]), zero)
        return [cols.reshaped(g.columnShape).col2im(g).reshaped(inputShape)]
    }
}

// MARK: - Average pooling

/// 2-D average pooling (PyTorch's `F.avg_pool2d`): the mean of each window of a
/// `[N, C, H, W]` (or `[C, H, W]`) input. Differentiable (`AvgPool2DBackward0`).
/// - Parameters:
///   - stride: defaults to `kernelSize`.
///   - countIncludePad: whether zero padding counts in the divisor (PyTorch's default, true).
///   - divisorOverride: a fixed divisor instead of the window size.
/// - Precondition: 3-D or 4-D floating input; positive kernel and stride; padding at most half
///   the kernel; `divisorOverride` nonzero.
public func avgPool2d(_ input: Tensor, kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                      countIncludePad: Bool = true, divisorOverride: Int? = nil) -> Tensor {
    let g = check { () throws(ShapeError) in
        if divisorOverride == 0 { throw ShapeError("avgPool2d: divisor must be not zero") }
        return try validatePool2d(input, kernelSize: kernelSize, stride: stride ?? kernelSize, padding: padding, dilation: (1, 1), op: "avgPool2d")
    }
    let divisor = avgPoolDivisor(g, countIncludePad: countIncludePad, divisorOverride: divisorOverride, dtype: input.dtype, device: input.device)
    let kk = g.kernelH * g.kernelW, l = g.outH * g.outW
    let out = withNoGrad { () -> Tensor in
        let image = input.detached().reshaped(g.imageShape)
        // the window sums in one pass where the CPU kernel takes them (the same bits as the sum
        // of im2col's columns), else those columns summed
        let sums = CKernelPaths.windowSum2d(image, geometry: g) ?? image.im2col(g).reshaped([g.batch, g.channels, kk, l]).sum(dim: 2)
        return (sums / divisor).reshaped(pooledShape(input, g))
    }.detached()
    return Tensor.record(out, input: input) {
        let node = AvgPool2DBackward0(geometry: g, inputShape: input.shape)
        node.divisorSlot = node.save(divisor)
        return node
    }
}

/// The divisor of each output position, `[1, L]` (or a 0-d constant).
private func avgPoolDivisor(_ g: WindowGeometry, countIncludePad: Bool, divisorOverride: Int?, dtype: DType, device: Device) -> Tensor {
    if let d = divisorOverride { return Tensor.full([], value: Double(d), dtype: dtype, device: device) }
    if countIncludePad { return Tensor.full([], value: Double(g.kernelH * g.kernelW), dtype: dtype, device: device) }
    var one = g
    one.batch = 1
    one.channels = 1
    return withNoGrad { Tensor.ones(one.imageShape, dtype: dtype, device: device).im2col(one).sum(dim: 1) }.detached()
}

/// 1-D average pooling (PyTorch's `F.avg_pool1d`) over the last dim of `[N, C, L]` or `[C, L]`,
/// computed as `avgPool2d` on an unsqueezed view.
/// - Precondition: 2-D or 3-D floating input; as `avgPool2d` otherwise.
public func avgPool1d(_ input: Tensor, kernelSize: Int, stride: Int? = nil, padding: Int = 0, countIncludePad: Bool = true) -> Tensor {
    precondition(input.rank == 2 || input.rank == 3, "avgPool1d: expected 2D or 3D (batched) input, but got input of shape \(Shape.describe(input.shape))")
    return avgPool2d(input.unsqueezed(dim: -2), kernelSize: (1, kernelSize), stride: (1, stride ?? kernelSize),
                     padding: (0, padding), countIncludePad: countIncludePad).squeezed(dim: -2)
}

/// Backward of average pooling: the gradient divided by the divisor, spread over each window.
final class AvgPool2DBackward0: GradFn, @unchecked Sendable {
    let geometry: WindowGeometry, inputShape: [Int]
    var divisorSlot = -1
    init(geometry: WindowGeometry, inputShape: [Int]) {
        self.geometry = geometry
        self.inputShape = inputShape
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let gOut = gradOutputs[0] else { return [nil] }
        let g = geometry, kk = g.kernelH * g.kernelW, l = g.outH * g.outW
        let divisor = try savedTensor(divisorSlot).to(gOut.dtype)
        let spread = (gOut.reshaped([g.batch, g.channels, 1, l]) / divisor).expanded(to: [g.batch, g.channels, kk, l])
        return [spread.reshaped(g.columnShape).col2im(g).reshaped(inputShape)]
    }
}
