import Autograd

/// conv2d on one small CNN layer, the same work `Benchmarks/compare.py` runs in PyTorch.
enum ConvBenchmarks {
    /// Input [16, 32, 32, 32], weight [64, 32, 3, 3], bias, stride 1, padding 1.
    static let label = "conv2d 16x32x32x32, 64 3x3, pad 1"

    /// The layer's input, weight and bias; `requiresGrad` leaves for `step()`.
    struct Layer {
        let x: Tensor, w: Tensor, b: Tensor

        init(requiringGrad: Bool) {
            x = Tensor.randn([16, 32, 32, 32], seed: 11)
            w = (Tensor.randn([64, 32, 3, 3], seed: 12) * 0.06).detach()
            b = Tensor.zeros([64])
            if requiringGrad { for p in [x, w, b] { p.requiresGrad = true } }
        }

        func forward() -> Tensor { conv2d(x, weight: w, bias: b, padding: (1, 1)) }

        /// Forward, `sum().backward()`, and the gradients cleared again.
        func step() throws {
            try forward().sum().backward()
            for p in [x, w, b] { p.grad = nil }
        }
    }

    static func run() throws -> [Result] {
        let plain = Layer(requiringGrad: false)
        let forward = Timing.median(repeats: 7, warmup: 2) { _ = plain.forward() }
        let leaves = Layer(requiringGrad: true)
        let both = try Timing.median(repeats: 7, warmup: 2) { try leaves.step() }
        return [
            Result(group: "conv", name: "\(label) fwd", value: forward * 1e3, unit: "ms", higherIsBetter: false),
            Result(group: "conv", name: "\(label) fwd+bwd", value: both * 1e3, unit: "ms", higherIsBetter: false),
        ]
    }
}
