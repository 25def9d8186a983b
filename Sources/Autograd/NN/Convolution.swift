/// A 2-D convolution layer (PyTorch's `nn.Conv2d`) over `[N, C, H, W]` input; weight
/// `[out, in / groups, kH, kW]`, initialized as PyTorch does (kaiming-uniform with a = √5,
/// bias `U(±1/√fanIn)`).
///
/// ```swift
/// let conv = Conv2d(1, 16, kernelSize: (3, 3), padding: (1, 1))
/// conv(Tensor.randn([8, 1, 8, 8])).shape   // [8, 16, 8, 8]
/// ```
public final class Conv2d: Module {
    /// The weight `[outChannels, inChannels / groups, kH, kW]`.
    public let weight: Parameter
    /// The bias `[outChannels]`, or nil.
    public let bias: Parameter?
    /// Window settings, as in `conv2d`.
    public let stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int), groups: Int

    /// Creates the layer.
    /// - Precondition: both channel counts divisible by `groups`.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1, bias: Bool = true,
                dtype: DType = .float32, generator: Generator? = nil) {
        precondition(groups > 0 && inChannels % groups == 0 && outChannels % groups == 0,
                     "Conv2d: in_channels (\(inChannels)) and out_channels (\(outChannels)) must be divisible by groups (\(groups))")
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        (weight, self.bias) = Initialization.defaultLayer(weightShape: [outChannels, inChannels / groups, kernelSize.0, kernelSize.1],
                                                          bias: bias, dtype: dtype, generator: generator)
        super.init()
    }

    /// Creates the layer with a square kernel, stride and padding.
    public convenience init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                            bias: Bool = true, generator: Generator? = nil) {
        self.init(inChannels, outChannels, kernelSize: (kernelSize, kernelSize), stride: (stride, stride),
                  padding: (padding, padding), bias: bias, generator: generator)
    }

    /// `conv2d` with this layer's weight and settings.
    public override func forward(_ input: Tensor) -> Tensor {
        conv2d(input, weight: weight.value, bias: bias?.value, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}

/// A 1-D convolution layer (PyTorch's `nn.Conv1d`) over `[N, C, L]` input; weight
/// `[out, in / groups, k]`, initialized as PyTorch does.
public final class Conv1d: Module {
    /// The weight `[outChannels, inChannels / groups, kernelSize]`.
    public let weight: Parameter
    /// The bias `[outChannels]`, or nil.
    public let bias: Parameter?
    /// Window settings, as in `conv1d`.
    public let stride: Int, padding: Int, dilation: Int, groups: Int

    /// Creates the layer.
    /// - Precondition: both channel counts divisible by `groups`.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true, dtype: DType = .float32, generator: Generator? = nil) {
        precondition(groups > 0 && inChannels % groups == 0 && outChannels % groups == 0,
                     "Conv1d: in_channels (\(inChannels)) and out_channels (\(outChannels)) must be divisible by groups (\(groups))")
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        (weight, self.bias) = Initialization.defaultLayer(weightShape: [outChannels, inChannels / groups, kernelSize],
                                                          bias: bias, dtype: dtype, generator: generator)
        super.init()
    }

    /// `conv1d` with this layer's weight and settings.
    public override func forward(_ input: Tensor) -> Tensor {
        conv1d(input, weight: weight.value, bias: bias?.value, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}

/// 2-D max pooling as a module (PyTorch's `nn.MaxPool2d`); `stride` defaults to the kernel size.
public final class MaxPool2d: Module {
    /// Window settings, as in `maxPool2d`.
    public let kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int)

    /// Creates the layer.
    public init(kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1)) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.dilation = dilation
        super.init()
    }

    /// Creates the layer with a square window.
    public convenience init(_ kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.init(kernelSize: (kernelSize, kernelSize), stride: stride.map { ($0, $0) }, padding: (padding, padding))
    }

    /// `maxPool2d` with this layer's settings.
    public override func forward(_ input: Tensor) -> Tensor {
        maxPool2d(input, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation)
    }
}

/// 2-D average pooling as a module (PyTorch's `nn.AvgPool2d`); `stride` defaults to the kernel size.
public final class AvgPool2d: Module {
    /// Window settings, as in `avgPool2d`.
    public let kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int)
    /// Whether zero padding counts in the divisor.
    public let countIncludePad: Bool

    /// Creates the layer.
    public init(kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0), countIncludePad: Bool = true) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.countIncludePad = countIncludePad
        super.init()
    }

    /// Creates the layer with a square window.
    public convenience init(_ kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.init(kernelSize: (kernelSize, kernelSize), stride: stride.map { ($0, $0) }, padding: (padding, padding))
    }

    /// `avgPool2d` with this layer's settings.
    public override func forward(_ input: Tensor) -> Tensor {
        avgPool2d(input, kernelSize: kernelSize, stride: stride, padding: padding, countIncludePad: countIncludePad)
    }
}

/// 1-D max pooling as a module (PyTorch's `nn.MaxPool1d`); `stride` defaults to the kernel size.
public final class MaxPool1d: Module {
    /// Window settings, as in `maxPool1d`.
    public let kernelSize: Int, stride: Int, padding: Int, dilation: Int

    /// Creates the layer.
    public init(_ kernelSize: Int, stride: Int? = nil, padding: Int = 0, dilation: Int = 1) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.dilation = dilation
        super.init()
    }

    /// `maxPool1d` with this layer's settings.
    public override func forward(_ input: Tensor) -> Tensor {
        maxPool1d(input, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation)
    }
}

/// 1-D average pooling as a module (PyTorch's `nn.AvgPool1d`); `stride` defaults to the kernel size.
public final class AvgPool1d: Module {
    /// Window settings, as in `avgPool1d`.
    public let kernelSize: Int, stride: Int, padding: Int
    /// Whether zero padding counts in the divisor.
    public let countIncludePad: Bool

    /// Creates the layer.
    public init(_ kernelSize: Int, stride: Int? = nil, padding: Int = 0, countIncludePad: Bool = true) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.countIncludePad = countIncludePad
        super.init()
    }

    /// `avgPool1d` with this layer's settings.
    public override func forward(_ input: Tensor) -> Tensor {
        avgPool1d(input, kernelSize: kernelSize, stride: stride, padding: padding, countIncludePad: countIncludePad)
    }
}
