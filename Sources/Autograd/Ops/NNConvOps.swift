// MARK: - Unfold and fold (im2col / col2im)

extension Tensor {
    /// Floating compute dtype of a window op: half types widen to float32.
    var windowComputeDType: DType { dtype == .float16 || dtype == .bfloat16 ? .float32 : dtype }

    /// The sliding windows of a `[N, C, H, W]` tensor as columns `[N, C·kH·kW, L]` (PyTorch's
    /// `F.unfold`, padding with zeros). Differentiable (`Im2ColBackward0`, whose backward is
    /// `col2im`).
    func im2col(_ geometry: WindowGeometry) -> Tensor {
        let compute = windowComputeDType
        let x = dtype == compute ? self : convertedWithoutGrad(to: compute)
        // Stored as [C·kH·kW, N, L] and viewed as [N, C·kH·kW, L], so a convolution can treat
        // the batch as part of one matrix product without copying.
        let c = geometry.columnShape
        let buffer = Tensor(uninitializedShape: [c[1], c[0], c[2]], dtype: compute, device: device)
        let cols = buffer.viewing(shape: c, strides: [c[2], c[0] * c[2], 1], offset: 0)
        Backends.backend(for: device).im2col(x, geometry: geometry, padValue: 0, into: cols)
        let out = compute == dtype ? cols : cols.convertedWithoutGrad(to: dtype)
        return Tensor.record(out, input: self) { Im2ColBackward0(geometry: geometry) }
    }

    /// Sums columns `[N, C·kH·kW, L]` back into a `[N, C, H, W]` image (PyTorch's `F.fold`).
    /// Differentiable (`Col2ImBackward0`, whose backward is `im2col`).
    func col2im(_ geometry: WindowGeometry) -> Tensor {
        let compute = windowComputeDType
        var cols = dtype == compute ? self : convertedWithoutGrad(to: compute)
        if cols.strides[2] != 1 { cols = cols.contiguousWithoutGrad() }
        let image = Tensor.zeros(geometry.imageShape, dtype: compute, device: device)
        Backends.backend(for: device).col2im(cols, geometry: geometry, into: image)
        let out = compute == dtype ? image : image.convertedWithoutGrad(to: dtype)
        return Tensor.record(out, input: self) { Col2ImBackward0(geometry: geometry) }
    }
}

/// Backward of `im2col`: fold the column gradient back into the image.
final class Im2ColBackward0: GradFn, @unchecked Sendable {
    let geometry: WindowGeometry
    init(geometry: WindowGeometry) {
        self.geometry = geometry
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        [gradOutputs[0]?.col2im(geometry)]
    }
}

/// Backward of `col2im`: unfold the image gradient into columns.
final class Col2ImBackward0: GradFn, @unchecked Sendable {
    let geometry: WindowGeometry
    init(geometry: WindowGeometry) {
        self.geometry = geometry
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        [gradOutputs[0]?.im2col(geometry)]
    }
}

// MARK: - Convolution

/// Validates a convolution's operands and returns its window geometry over the 4-D view.
/// `spatialRank` is 1 (`conv1d`) or 2 (`conv2d`); sizes are given as (height, width), with
/// height 1 for `conv1d`.
func validateConvolution(_ input: Tensor, _ weight: Tensor, _ bias: Tensor?, spatialRank: Int,
                         stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int), groups: Int,
                         op: String) throws(ShapeError) -> WindowGeometry {
    let rank = spatialRank + 2
    guard input.rank == rank || input.rank == rank - 1 else {
        throw ShapeError("\(op): expected \(rank - 1)D (unbatched) or \(rank)D (batched) input, but got input of shape \(Shape.describe(input.shape))")
    }
    guard weight.rank == rank else {
        throw ShapeError("\(op): expected a \(rank)D weight [outChannels, inChannels / groups, kernel...], but got weight of shape \(Shape.describe(weight.shape))")
    }
    guard input.dtype.isFloatingPoint, input.dtype == weight.dtype else {
        throw ShapeError("\(op): expected floating input and weight of the same dtype, but got \(input.dtype) and \(weight.dtype)")
    }
    guard input.device == weight.device else {
        throw ShapeError("\(op): expected input and weight on the same device, but found \(input.device) and \(weight.device)")
    }
    let values = [stride.0, stride.1, dilation.0, dilation.1, groups]
    guard values.allSatisfy({ $0 > 0 }) else {
        throw ShapeError("\(op): stride, dilation and groups must be positive (stride \(stride), dilation \(dilation), groups \(groups))")
    }
    guard padding.0 >= 0 && padding.1 >= 0 else { throw ShapeError("\(op): negative padding is not supported (got \(padding))") }
    let batched = input.rank == rank
    let channels = input.shape[batched ? 1 : 0]
    let outChannels = weight.shape[0]
    guard outChannels % groups == 0 else {
        throw ShapeError("\(op): out channels (\(outChannels)) must be divisible by groups (\(groups))")
    }
    guard channels == weight.shape[1] * groups else {
        throw ShapeError("\(op): expected input \(Shape.describe(input.shape)) to have \(weight.shape[1] * groups) channels (weight \(Shape.describe(weight.shape)), groups \(groups)), but got \(channels) channels instead")
    }
    if let bias {
        guard bias.rank == 1 && bias.shape[0] == outChannels else {
            throw ShapeError("\(op): expected bias of shape [\(outChannels)], but got \(Shape.describe(bias.shape))")
        }
        guard bias.dtype == weight.dtype && bias.device == weight.device else {
            throw ShapeError("\(op): expected bias with the weight's dtype and device, but got \(bias.dtype) on \(bias.device)")
        }
    }
    let spatial = Array(input.shape.suffix(spatialRank))
    let kernel = Array(weight.shape.suffix(spatialRank))
    let g = WindowGeometry(batch: batched ? input.shape[0] : 1, channels: channels,
                           height: spatialRank == 2 ? spatial[0] : 1, width: spatial[spatialRank - 1],
                           kernelH: spatialRank == 2 ? kernel[0] : 1, kernelW: kernel[spatialRank - 1],
                           strideH: stride.0, strideW: stride.1, paddingH: padding.0, paddingW: padding.1,
                           dilationH: dilation.0, dilationW: dilation.1)
    guard g.outH > 0 && g.outW > 0 else {
        throw ShapeError("\(op): calculated output size is too small (input \(Shape.describe(input.shape)), kernel \(Shape.describe(kernel)), padding \(padding), dilation \(dilation))")
    }
    return g
}

/// The shared forward of `conv1d`/`conv2d` on 4-D views: `x [N, C, H, W]`,
/// `w [O, C/G, kH, kW]` → `[N, O, outH, outW]`, with differentiable ops. The batch is folded
/// into the matrix product: `[G, O/G, kg] · [G, kg, N·L]`.
func convolution4D(_ x: Tensor, _ w: Tensor, _ b: Tensor?, geometry g: WindowGeometry, groups: Int) -> Tensor {
    let n = g.batch, o = w.shape[0], l = g.outH * g.outW
    let kg = (g.channels / groups) * g.kernelH * g.kernelW
    let cols = x.im2col(g).permuted([1, 0, 2]).reshaped([groups, kg, n * l])
    let product = w.reshaped([groups, o / groups, kg]).matmul(cols)          // [G, O/G, N·L]
    var out = product.reshaped([o, n, l]).permuted([1, 0, 2]).reshaped([n, o, g.outH, g.outW])
    if let b { out = out + b.reshaped([1, o, 1, 1]) }
    return out
}

/// A 2-D convolution (PyTorch's `F.conv2d`): input `[N, C, H, W]` (or `[C, H, W]`), weight
/// `[O, C / groups, kH, kW]`, optional bias `[O]`; result `[N, O, outH, outW]` with
/// `out = floor((in + 2·padding − dilation·(k − 1) − 1) / stride) + 1`. Computed as unfold
/// (im2col) and a matrix product; on the CPU in float32/float64 both run fused, one band of
/// output rows at a time in cache, in parallel (results equal the unfused formula up to
/// summation order). Differentiable in all three (`ConvolutionBackward0`).
///
/// ```swift
/// conv2d(Tensor.randn([8, 1, 8, 8]), weight: Tensor.randn([16, 1, 3, 3]), padding: (1, 1)).shape  // [8, 16, 8, 8]
/// ```
/// - Precondition: ranks, channel counts and groups agree; same floating dtype and device;
///   stride, dilation and groups positive; padding non-negative; output not empty.
public func conv2d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                   padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1) -> Tensor {
    convolution(input, weight: weight, bias: bias, spatialRank: 2, stride: stride, padding: padding,
                dilation: dilation, groups: groups, op: "conv2d")
}

/// A 1-D convolution (PyTorch's `F.conv1d`): input `[N, C, L]` (or `[C, L]`), weight
/// `[O, C / groups, k]`, optional bias `[O]`; result `[N, O, outL]`. Differentiable
/// (`ConvolutionBackward0`).
/// - Precondition: as `conv2d`.
public func conv1d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                   dilation: Int = 1, groups: Int = 1) -> Tensor {
    convolution(input, weight: weight, bias: bias, spatialRank: 1, stride: (1, stride), padding: (0, padding),
                dilation: (1, dilation), groups: groups, op: "conv1d")
}

/// Records one `ConvolutionBackward0` node over the 4-D computation.
func convolution(_ input: Tensor, weight: Tensor, bias: Tensor?, spatialRank: Int, stride: (Int, Int),
                 padding: (Int, Int), dilation: (Int, Int), groups: Int, op: String) -> Tensor {
    let g = check { () throws(ShapeError) in
        try validateConvolution(input, weight, bias, spatialRank: spatialRank, stride: stride, padding: padding,
                                dilation: dilation, groups: groups, op: op)
    }
    let batched = input.rank == spatialRank + 2
    let outShape = (batched ? [g.batch] : []) + [weight.shape[0]] + (spatialRank == 2 ? [g.outH, g.outW] : [g.outW])
    let out = withNoGrad { () -> Tensor in
        let x4 = input.detached().reshaped(g.imageShape)
        let w4 = weight.detached().reshaped([weight.shape[0], weight.shape[1], g.kernelH, g.kernelW])
        if let fused = CPUConvolution.forward(x4, w4, bias?.detached(), geometry: g, groups: groups) {
            return fused.reshaped(outShape)
        }
        return convolution4D(x4, w4, bias?.detached(), geometry: g, groups: groups).contiguousWithoutGrad().reshaped(outShape)
    }.detached()
    let inputs = [input, weight] + (bias.map { [$0] } ?? [])
    return Tensor.record(out, inputs: inputs) {
        let node = ConvolutionBackward0(geometry: g, groups: groups, inputShape: input.shape, weightShape: weight.shape)
        node.inputSlot = node.save(input)
        node.weightSlot = node.save(weight)
        return node
    }
}

/// Backward of `conv1d`/`conv2d`: `gradInput = col2im(wᵀ · g)`, `gradWeight = Σₙ g · colsᵀ`,
/// `gradBias = Σ g` over batch and spatial dims, all with differentiable ops.
final class ConvolutionBackward0: GradFn, @unchecked Sendable {
    let geometry: WindowGeometry, groups: Int, inputShape: [Int], weightShape: [Int]
    var inputSlot = -1, weightSlot = -1

    init(geometry: WindowGeometry, groups: Int, inputShape: [Int], weightShape: [Int]) {
        self.geometry = geometry
        self.groups = groups
        self.inputShape = inputShape
        self.weightShape = weightShape
        super.init()
    }

    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        let hasBias = edges.count == 3
        guard let gOut = gradOutputs[0] else { return hasBias ? [nil, nil, nil] : [nil, nil] }
        let g = geometry
        let n = g.batch, o = weightShape[0], l = g.outH * g.outW
        let kg = (g.channels / groups) * g.kernelH * g.kernelW
        // Without a graph to record, the CPU computes all three in one fused pass.
        if !GradMode.isEnabled && gOut.device == .cpu {
            let x4 = try savedTensor(inputSlot).reshaped(g.imageShape)
            let w4 = try savedTensor(weightSlot).reshaped([o, g.channels / groups, g.kernelH, g.kernelW])
            if let fused = CPUConvolution.backward(gOut.reshaped([n, o, g.outH, g.outW]), input: x4, weight: w4, geometry: g,
                                                   groups: groups, needs: (needsInputGrad(0), needsInputGrad(1), hasBias && needsInputGrad(2))) {
                // Fresh contiguous results given their shapes directly, not as reshape views of
                // another tensor: AccumulateGrad then adopts them instead of copying (a view
                // keeps its base, so it is not the sole owner of its storage).
                func shaped(_ t: Tensor?, _ shape: [Int]) -> Tensor? {
                    t.map { $0.viewing(shape: shape, strides: Shape.contiguousStrides(shape), offset: 0) }
                }
                return [shaped(fused.input, inputShape), shaped(fused.weight, weightShape)] + (hasBias ? [fused.bias] : [])
            }
        }
        // The output gradient as [G, O/G, N·L], the layout of the forward product.
        let g3 = gOut.reshaped([n, o, l]).permuted([1, 0, 2]).reshaped([groups, o / groups, n * l])
        var result: [Tensor?] = [nil, nil]
        if needsInputGrad(0) {
            let w3 = try savedTensor(weightSlot).reshaped([groups, o / groups, kg])
            let gradCols = w3.transposed(1, 2).matmul(g3)                       // [G, kg, N·L]
            result[0] = gradCols.reshaped([groups * kg, n, l]).permuted([1, 0, 2]).col2im(g).reshaped(inputShape)
        }
        if needsInputGrad(1) {
            let x4 = try savedTensor(inputSlot).reshaped(g.imageShape)
            let cols = x4.im2col(g).permuted([1, 0, 2]).reshaped([groups, kg, n * l])
            // The transposed columns go to the GEMM as a view: CKernels packs any strides and
            // cuBLAS reads a transpose in place, so no copy of the columns is made.
            result[1] = g3.matmul(cols.transposed(1, 2)).reshaped(weightShape)
        }
        if hasBias {
            result.append(needsInputGrad(2) ? gOut.reshaped([n, o, l]).sum(dims: [0, 2]) : nil)
        }
        return result
    }
}
