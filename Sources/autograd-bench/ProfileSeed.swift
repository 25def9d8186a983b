import Autograd

/// Loops for profilers (perf, callgrind), one mode per figure worth dissecting.
enum ProfileSeed {
    /// `--profile-seed N`: runs the seed graph N times.
    static func run(_ n: Int) throws {
        for _ in 0..<n {
            let study = Tensor(5.0, requiresGrad: true)
            let happy = Tensor(6.0, requiresGrad: true)
            let grade = study.pow(3) - happy.pow(2)
            try grade.backward()
        }
    }

    /// `--profile-chain N`: runs the 1000-op scalar chain N times (for profilers).
    static func chain(_ n: Int) throws {
        for _ in 0..<n {
            let x = Tensor(1.0, requiresGrad: true)
            var y = x
            for _ in 0..<1000 { y = y * 1.0001 }
            try y.backward()
        }
    }

    /// `--profile-layernorm N`: layerNorm forward and backward on [4096, 1024] N times, as the
    /// layer ops benchmark runs it.
    static func layerNorm(_ n: Int) throws {
        let h = Tensor.randn([4096, 1024], seed: 23).detach(), gamma = Tensor.ones([1024]), beta = Tensor.zeros([1024])
        for p in [h, gamma, beta] { p.requiresGrad = true }
        let upstream = Tensor.randn([4096, 1024], seed: 25)
        for _ in 0..<n {
            for p in [h, gamma, beta] { p.grad = nil }
            try Autograd.layerNorm(h, normalizedShape: [1024], weight: gamma, bias: beta).backward(upstream)
        }
    }

    /// `--profile-mlp N`: runs the MLP training step of the benchmark N times.
    static func mlp(_ n: Int) throws {
        let step = CPUBenchmarks.MLPStep()
        for _ in 0..<n { try step.run() }
    }

    /// `--phases-mlp`: the MLP step's wall time by phase (mean of 2000 steps), then the first
    /// layer's two products alone, for comparison with the C-level GEMM figures.
    static func mlpPhases() throws {
        let m = CPUBenchmarks.MLPStep()
        let names = ["x @ w1", "+ b1, relu", "@ w2 + b2", "crossEntropy", "backward", "SGD update",
                     "x @ w1 alone", "xᵀ @ g alone"]
        var total = [Double](repeating: 0, count: names.count)
        var start = Timing.now()
        func lap(_ k: Int) {
            let now = Timing.now()
            total[k] += Double(now - start)
            start = now
        }
        let steps = 2000
        for _ in 0..<steps {
            start = Timing.now()
            let h0 = m.x.matmul(m.w1); lap(0)
            let h1 = (h0 + m.b1).relu(); lap(1)
            let logits = h1.matmul(m.w2) + m.b2; lap(2)
            let loss = crossEntropy(logits: logits, targets: m.targets); lap(3)
            try loss.backward(); lap(4)
            withNoGrad {
                for p in [m.w1, m.b1, m.w2, m.b2] {
                    if let g = p.grad { CPUBenchmarks.sgdUpdate(p, g, learningRate: 0.01) }
                    p.grad = nil
                }
            }
            lap(5)
        }
        start = Timing.now()
        for _ in 0..<steps { _ = m.x.matmul(m.w1) }
        lap(6)
        let g = Tensor.randn([128, 512], seed: 3), xt = m.x.transposed(0, 1)
        start = Timing.now()
        for _ in 0..<steps { _ = xt.matmul(g) }
        lap(7)
        for (name, ns) in zip(names, total) {
            print(name.padding(toLength: 16, withPad: " ", startingAt: 0), String(format: "%8.1f µs", ns / Double(steps) / 1e3))
        }
    }

    /// `--profile-softmax N`: softmax over the rows of [4096, 1000] N times; prints ms per call.
    static func softmax(_ n: Int) {
        let x = Tensor.randn([4096, 1000], seed: 7)
        let start = Timing.now()
        for _ in 0..<n { _ = x.softmax(dim: 1) }
        print("softmax [4096, 1000]: \(Double(Timing.now() - start) / 1e6 / Double(max(n, 1))) ms per call")
    }

    /// `--profile-adam N`: N Adam steps on a [1024, 1024] float32 parameter; prints ms per step.
    static func adam(_ n: Int) {
        let w = Parameter(Tensor.randn([1024, 1024], seed: 1))
        let adam = Adam([w], learningRate: 1e-3, weightDecay: 1e-2)
        let g = Tensor.randn([1024, 1024], seed: 2)
        w.grad = g
        adam.step()
        let start = Timing.now()
        for _ in 0..<n { adam.step() }
        print("Adam step [1024, 1024]: \(Double(Timing.now() - start) / 1e6 / Double(max(n, 1))) ms")
    }

    /// `--profile-conv N`: N forward + backward passes of the conv2d benchmark layer.
    static func conv(_ n: Int) throws {
        let layer = ConvBenchmarks.Layer(requiringGrad: true)
        for _ in 0..<n { try layer.step() }
    }

    /// `--profile-conv-fwd N`: the benchmark's conv layer forward only (no grad), N times.
    static func convForward(_ n: Int) {
        let layer = ConvBenchmarks.Layer(requiringGrad: false)
        for _ in 0..<n { _ = layer.forward() }
    }
}
