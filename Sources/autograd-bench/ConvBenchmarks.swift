import Autograd

/// conv2d on one small CNN layer, the same work `Benchmarks/compare.py` runs in PyTorch.
enum ConvBenchmarks {
    /// Input [16, 32, 32, 32], weight [64, 32, 3, 3], bias, stride 1, padding 1.
    static let label = "conv2d 16x32x32x32, 64 3x3, pad 1"

    static func run() throws -> [Result] {
        let x = Tensor.randn([16, 32, 32, 32], seed: 11)
        let w = (Tensor.randn([64, 32, 3, 3], seed: 12) * 0.06).detach(), b = Tensor.zeros([64])
        let forward = Timing.median(repeats: 7, warmup: 2) {
            _ = conv2d(x, weight: w, bias: b, padding: (1, 1))
        }
        let xg = x.detach(), wg = w.detach(), bg = b.detach()
        for p in [xg, wg, bg] { p.requiresGrad = true }
        let both = try Timing.median(repeats: 7, warmup: 2) {
            try conv2d(xg, weight: wg, bias: bg, padding: (1, 1)).sum().backward()
            for p in [xg, wg, bg] { p.grad = nil }
        }
        return [
            Result(group: "conv", name: "\(label) fwd", value: forward * 1e3, unit: "ms", higherIsBetter: false),
            Result(group: "conv", name: "\(label) fwd+bwd", value: both * 1e3, unit: "ms", higherIsBetter: false),
        ]
    }
}
