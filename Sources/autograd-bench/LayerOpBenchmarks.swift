import Autograd

/// Everyday layer ops beyond the list (reductions along a dim, normalization, pooling,
/// scans, gathers, activations), the same work `Benchmarks/compare.py` runs in PyTorch: where a
/// training or inference step spends time outside GEMMs and plain element-wise ops.
enum LayerOpBenchmarks {
    static func run() -> [Result] {
        let a = Tensor.randn([4096, 1000], seed: 21), b = Tensor.randn([4096, 1000], seed: 22)
        let h = Tensor.randn([4096, 1024], seed: 23)
        let gamma = Tensor.ones([1024]), beta = Tensor.zeros([1024])
        let images = Tensor.randn([16, 64, 32, 32], seed: 24)
        let mean = Tensor.zeros([64]), variance = Tensor.ones([64]), scale = Tensor.ones([64]), shift = Tensor.zeros([64])
        let rows = Tensor(shape: [4096], scalars: (0..<4096).map { Int64(($0 * 7919) % 4096) })
        let leaf = a.detach()
        leaf.requiresGrad = true
        let upstream = Tensor.ones([4096, 1000])
        let hLeaf = h.detach(), gammaLeaf = gamma.detach(), betaLeaf = beta.detach()
        for p in [hLeaf, gammaLeaf, betaLeaf] { p.requiresGrad = true }
        let hUpstream = Tensor.randn([4096, 1024], seed: 25)
        let square = Tensor.randn([2048, 2048], seed: 26), square2 = Tensor.randn([2048, 2048], seed: 27)
        let table = Tensor.randn([50000, 512], seed: 28), tokens = Tensor.randint(50000, [64, 128], seed: 29)
        let targets = Tensor.zeros([1000, 1000]), picks = Tensor.randint(1000, [4096], seed: 30)
        let cases: [(String, () -> Void)] = [
            ("sum(dim: 1) [4096, 1000]", { _ = a.sum(dim: 1) }),
            ("max(dim: 1) [4096, 1000]", { _ = a.max(dim: 1) }),
            ("layerNorm [4096, 1024]", { _ = layerNorm(h, normalizedShape: [1024], weight: gamma, bias: beta) }),
            ("layerNorm fwd+bwd [4096, 1024]", {
                for p in [hLeaf, gammaLeaf, betaLeaf] { p.grad = nil }
                try? layerNorm(hLeaf, normalizedShape: [1024], weight: gammaLeaf, bias: betaLeaf).backward(hUpstream)
            }),
            ("batchNorm eval [16, 64, 32, 32]", {
                _ = batchNorm(images, runningMean: mean, runningVar: variance, weight: scale, bias: shift, training: false)
            }),
            ("batchNorm train [16, 64, 32, 32]", {
                _ = batchNorm(images, runningMean: nil, runningVar: nil, weight: scale, bias: shift, training: true)
            }),
            ("maxPool2d 2x2 [16, 64, 32, 32]", { _ = maxPool2d(images, kernelSize: (2, 2)) }),
            ("avgPool2d 2x2 [16, 64, 32, 32]", { _ = avgPool2d(images, kernelSize: (2, 2)) }),
            ("cumsum(dim: 1) [4096, 1000]", { _ = a.cumsum(dim: 1) }),
            ("indexSelect 4096 rows of [4096, 1000]", { _ = a.indexSelect(dim: 0, index: rows) }),
            ("cat dim 0, 2 x [4096, 1000]", { _ = Tensor.cat([a, b], dim: 0) }),
            ("pow(2) [4096, 1000]", { _ = a.pow(2) }),
            ("clamp(-0.5, 0.5) [4096, 1000]", { _ = a.clamp(min: -0.5, max: 0.5) }),
            ("a.T + b.T [2048, 2048]", { _ = square.transposed(0, 1) + square2.transposed(0, 1) }),
            ("a.T.exp() [2048, 2048]", { _ = square.transposed(0, 1).exp() }),
            ("sort(dim: 1) [4096, 1000]", { _ = a.sort(dim: 1) }),
            ("topk(10) [4096, 1000]", { _ = a.topk(10) }),
            ("embedding [64, 128] of [50000, 512]", { _ = embedding(tokens, weight: table) }),
            ("indexAdd 4096 rows into [1000, 1000]", { _ = targets.indexAdd(dim: 0, index: picks, source: a) }),
            ("gelu [4096, 1000]", { _ = a.gelu() }),
            ("gelu fwd+bwd [4096, 1000]", {
                leaf.grad = nil
                try? leaf.gelu().backward(upstream)
            }),
        ]
        return cases.map { name, body in
            let t = Timing.median(repeats: 7) { body() }
            return Result(group: "layer ops", name: name, value: t * 1e3, unit: "ms", higherIsBetter: false)
        }
    }
}
