/// Weight initializations with PyTorch's formulas (`torch.nn.init`), drawn from a seedable
/// `Generator` (the numbers differ from PyTorch's, whose generator is another algorithm).
public enum Initialization {
    /// Samples `U(−bound, bound)` (float32 unless `dtype` says otherwise).
    public static func uniform(_ shape: [Int], bound: Double, dtype: DType = .float32, generator: Generator? = nil) -> Tensor {
        let u = (generator ?? .default).uniform(Shape.count(shape)).map { ($0 * 2 - 1) * bound }
        return Tensor(shape: shape, scalars: u).convertedWithoutGrad(to: dtype)
    }

    /// Samples `N(mean, std²)`.
    public static func normal(_ shape: [Int], mean: Double = 0, std: Double = 1, dtype: DType = .float32,
                              generator: Generator? = nil) -> Tensor {
        let n = (generator ?? .default).normal(Shape.count(shape)).map { mean + std * $0 }
        return Tensor(shape: shape, scalars: n).convertedWithoutGrad(to: dtype)
    }

    /// The fan-in of a weight `[out, in, k…]`: `in · Πk` (PyTorch's `_calculate_fan_in_and_fan_out`).
    public static func fanIn(_ shape: [Int]) -> Int {
        shape.count < 2 ? (shape.first ?? 1) : shape[1] * shape.dropFirst(2).reduce(1, *)
    }

    /// Kaiming (He) uniform initialization for leaky-ReLU slope `a`: `U(−b, b)` with
    /// `b = sqrt(2 / (1 + a²)) · sqrt(3 / fanIn)` (PyTorch's `kaiming_uniform_`, fan-in mode).
    /// Linear and convolution layers use `a = √5`, which gives `b = 1 / sqrt(fanIn)`.
    public static func kaimingUniform(_ shape: [Int], a: Double = 0, dtype: DType = .float32, generator: Generator? = nil) -> Tensor {
        let gain = (2 / (1 + a * a)).squareRoot()
        let bound = gain * (3 / Double(Swift.max(fanIn(shape), 1))).squareRoot()
        return uniform(shape, bound: bound, dtype: dtype, generator: generator)
    }

    /// PyTorch's default initialization of a linear or convolution layer: the weight
    /// `kaiming_uniform(a: √5)`, the bias `U(±1/√fanIn)`.
    static func defaultLayer(weightShape: [Int], bias: Bool, dtype: DType, generator: Generator?) -> (Parameter, Parameter?) {
        let weight = Parameter(kaimingUniform(weightShape, a: 5.0.squareRoot(), dtype: dtype, generator: generator))
        let fan = fanIn(weightShape)
        let b = bias ? Parameter(uniform([weightShape[0]], bound: fan > 0 ? 1 / Double(fan).squareRoot() : 0,
                                         dtype: dtype, generator: generator)) : nil
        return (weight, b)
    }
}
