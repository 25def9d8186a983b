import Autograd
import Foundation

/// One measured figure.
struct Result {
    let group: String
    let name: String
    let value: Double
    let unit: String
    /// Whether a larger value is better (throughput) or smaller (latency).
    let higherIsBetter: Bool
}

/// The CPU benchmark suite: the same work `Benchmarks/compare.py` runs in PyTorch and NumPy.
enum CPUBenchmarks {
    static func gemm(quick: Bool) -> [Result] {
        var results: [Result] = []
        let sizes = quick ? [64, 256, 512] : [64, 128, 256, 512, 1024, 2048]
        for dtype in [DType.float32, .float64] {
            for n in sizes {
                let a = Tensor.randn([n, n], dtype: dtype, seed: 1), b = Tensor.randn([n, n], dtype: dtype, seed: 2)
                let inner = Timing.calibratedInner { _ = a.matmul(b) }
                let t = Timing.median(repeats: n >= 1024 ? 3 : 5, inner: inner) { _ = a.matmul(b) }
                let name = (dtype == .float32 ? "sgemm" : "dgemm") + " \(n)"
                results.append(Result(group: "gemm", name: name, value: 2 * Double(n * n * n) / t / 1e9, unit: "GFLOP/s", higherIsBetter: true))
            }
        }
        // Tall-skinny shapes: [M, K] @ [K, N].
        let shapes = quick ? [(4096, 256, 64)] : [(8192, 256, 64), (64, 4096, 64), (4096, 64, 4096), (128, 784, 512)]
        for (m, k, n) in shapes {
            let a = Tensor.randn([m, k], seed: 3), b = Tensor.randn([k, n], seed: 4)
            let inner = Timing.calibratedInner { _ = a.matmul(b) }
            let t = Timing.median(repeats: 5, inner: inner) { _ = a.matmul(b) }
            results.append(Result(group: "gemm", name: "sgemm \(m)x\(k)x\(n)", value: 2 * Double(m * k * n) / t / 1e9, unit: "GFLOP/s", higherIsBetter: true))
        }
        return results
    }

    static func elementwise(quick: Bool) throws -> [Result] {
        let n = quick ? 1 << 20 : 16 << 20
        let a = Tensor.randn([n], seed: 5), b = Tensor.randn([n], seed: 6)
        let label = quick ? "1M" : "16M"
        var results: [Result] = []
        let cases: [(String, () -> Tensor)] = [
            ("add", { a + b }), ("mul", { a * b }), ("exp", { a.exp() }), ("tanh", { a.tanh() }), ("sigmoid", { a.sigmoid() }),
            ("sum", { a.sum() }), ("max", { a.max() }),
        ]
        for (name, body) in cases {
            let t = Timing.median(repeats: 7) { _ = body() }
            results.append(Result(group: "elementwise", name: "\(name) \(label) f32", value: t * 1e3, unit: "ms", higherIsBetter: false))
        }
        results += try softmax()
        results += copies()
        return results
    }

    /// `contiguous()` of views: a transposed [2048, 2048], NCHW [16, 64, 32, 32] permuted to
    /// NHWC, and a scalar expanded to [16, 64, 32, 32] (what `sum()`'s gradient is before a
    /// conv backward makes it contiguous).
    static func copies() -> [Result] {
        let square = Tensor.randn([2048, 2048], seed: 12)
        let images = Tensor.randn([16, 64, 32, 32], seed: 13)
        let one = Tensor(1.0, dtype: .float32)
        let cases: [(String, () -> Tensor)] = [
            ("contiguous of transposed [2048, 2048]", { square.transposed(0, 1).contiguous() }),
            ("contiguous of permuted NCHW->NHWC [16, 64, 32, 32]", { images.permuted([0, 2, 3, 1]).contiguous() }),
            ("contiguous of expanded scalar [16, 64, 32, 32]", { one.expanded(to: [16, 64, 32, 32]).contiguous() }),
        ]
        return cases.map { name, body in
            let t = Timing.median(repeats: 7) { _ = body() }
            return Result(group: "elementwise", name: name, value: t * 1e3, unit: "ms", higherIsBetter: false)
        }
    }

    /// Softmax over the rows and over the columns of [4096, 1000], logSoftmax, and a softmax
    /// forward + backward.
    static func softmax() throws -> [Result] {
        let x = Tensor.randn([4096, 1000], seed: 7)
        let gy = Tensor.randn([4096, 1000], seed: 11)
        let leaf = x.detach()
        leaf.requiresGrad = true
        let cases: [(String, () throws -> Void)] = [
            ("softmax [4096, 1000]", { _ = x.softmax(dim: 1) }),
            ("logSoftmax [4096, 1000]", { _ = x.logSoftmax(dim: 1) }),
            ("softmax [4096, 1000] dim 0", { _ = x.softmax(dim: 0) }),
            ("softmax fwd+bwd [4096, 1000]", {
                try leaf.softmax(dim: 1).backward(gy)
                leaf.grad = nil
            }),
        ]
        return try cases.map { name, body in
            let t = try Timing.median(repeats: 5) { try body() }
            return Result(group: "elementwise", name: name, value: t * 1e3, unit: "ms", higherIsBetter: false)
        }
    }

    static func tape() throws -> [Result] {
        var results: [Result] = []
        let seed = try Timing.median(repeats: 9, inner: 2000) {
            let study = Tensor(5.0, requiresGrad: true)
            let happy = Tensor(6.0, requiresGrad: true)
            let grade = study.pow(3) - happy.pow(2)
            try grade.backward()
        }
        results.append(Result(group: "tape", name: "seed graph fwd+bwd", value: seed * 1e6, unit: "µs", higherIsBetter: false))
        let chain = try Timing.median(repeats: 5, inner: 5) {
            let x = Tensor(1.0, requiresGrad: true)
            var y = x
            for _ in 0..<1000 { y = y * 1.0001 }
            try y.backward()
        }
        results.append(Result(group: "tape", name: "scalar chain, per op (1000 ops fwd+bwd)", value: chain / 1000 * 1e6, unit: "µs", higherIsBetter: false))
        return results
    }

    /// The MLP training step of `mlp()`: 784-512-10, batch 128, cross-entropy, SGD by hand.
    struct MLPStep {
        let x: Tensor, targets: Tensor, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor

        init() {
            let batch = 128
            x = Tensor.randn([batch, 784], seed: 8)
            targets = Tensor(shape: [batch], scalars: (0..<batch).map { Int64($0 % 10) })
            w1 = (Tensor.randn([784, 512], seed: 9) * 0.03).detach()
            b1 = Tensor.zeros([512])
            w2 = (Tensor.randn([512, 10], seed: 10) * 0.04).detach()
            b2 = Tensor.zeros([10])
            for p in [w1, b1, w2, b2] { p.requiresGrad = true }
        }

        func run() throws {
            let logits = (x.matmul(w1) + b1).relu().matmul(w2) + b2
            let loss = crossEntropy(logits: logits, targets: targets)
            try loss.backward()
            // SGD by hand: p -= lr * grad, under no-grad, then clear the gradients.
            withNoGrad {
                for p in [w1, b1, w2, b2] {
                    if let g = p.grad { sgdUpdate(p, g, learningRate: 0.01) }
                    p.grad = nil
                }
            }
        }
    }

    static func mlp() throws -> [Result] {
        let step = MLPStep()
        let t = try Timing.median(repeats: 9, warmup: 3) { try step.run() }
        return [Result(group: "training", name: "MLP step 784-512-10, batch 128", value: t * 1e3, unit: "ms", higherIsBetter: false)]
    }

    /// `p -= lr * g` in place (PyTorch's `p -= lr * p.grad` under `no_grad`).
    static func sgdUpdate(_ p: Tensor, _ g: Tensor, learningRate: Double) {
        var p = p  // the same tensor: copies share storage and autograd record
        p -= g * learningRate
    }
}
