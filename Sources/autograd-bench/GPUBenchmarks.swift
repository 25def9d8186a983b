// GPU benchmarks of `autograd-bench --device cuda`: sgemm 4096², elementwise add on 256M
// floats against a device-to-device copy, and an MLP training step.
import Autograd

/// Timed GPU workloads; each reports the median of several timed runs after a warm-up.
struct GPUBenchmarks {
    /// Smaller sizes and fewer repetitions (a smoke test of the benchmark code itself).
    var quick = false

    func run() throws {
        print("\n== GPU benchmarks (median of timed runs, after warm-up)")
        try sgemm()
        try elementwise()
        try mlpStep()
    }

    /// Seconds per call of `body`, the median of `runs` timings of `repeats` calls each, with
    /// the device synchronised around every timing.
    func time(runs: Int = 5, repeats: Int, _ body: () throws -> Void) throws -> Double {
        try body()
        try CUDA.synchronize()
        var samples: [Double] = []
        for _ in 0..<runs {
            let start = monotonicSeconds()
            for _ in 0..<repeats { try body() }
            try CUDA.synchronize()
            samples.append((monotonicSeconds() - start) / Double(repeats))
        }
        return samples.sorted()[samples.count / 2]
    }

    func sgemm() throws {
        let n = quick ? 512 : 4096
        let a = try Tensor.rand([n, n], seed: 1).to(.cuda)
        let b = try Tensor.rand([n, n], seed: 2).to(.cuda)
        let seconds = try time(repeats: quick ? 2 : 10) { _ = a.matmul(b) }
        let gflops = 2 * Double(n) * Double(n) * Double(n) / seconds / 1e9
        print("sgemm \(n)x\(n): \(fixed(seconds * 1e3, 3)) ms, \(fixed(gflops, 1)) GFLOP/s")
    }

    func elementwise() throws {
        let count = quick ? 1 << 22 : 1 << 28
        let a = Tensor.full([count], value: 1.5, device: .cuda)
        let b = Tensor.full([count], value: 2.25, device: .cuda)
        let bytes = Double(count * 4)
        let add = try time(repeats: quick ? 2 : 10) { _ = a + b }
        let copy = try time(repeats: quick ? 2 : 10) { _ = a.clone() }
        let addBandwidth = 3 * bytes / add / 1e9, copyBandwidth = 2 * bytes / copy / 1e9
        print("add \(count / (1 << 20))M float32: \(fixed(add * 1e3, 3)) ms, \(fixed(addBandwidth, 1)) GB/s")
        print("device-to-device copy \(count / (1 << 20))M float32: \(fixed(copy * 1e3, 3)) ms, \(fixed(copyBandwidth, 1)) GB/s")
        print("add / copy bandwidth: \(fixed(100 * addBandwidth / copyBandwidth, 1)) %")
    }

    func mlpStep() throws {
        let batch = 128, inputs = 784, hidden = 512, classes = 10
        let learningRate = 0.01
        let x = try Tensor.randn([batch, inputs], seed: 3).to(.cuda)
        let targets = try Tensor((0..<batch).map { $0 % classes }).to(.cuda)
        var parameters = try [
            Tensor.randn([inputs, hidden], seed: 4) * 0.03, Tensor.zeros([hidden]),
            Tensor.randn([hidden, classes], seed: 5) * 0.04, Tensor.zeros([classes]),
        ].map { try $0.to(.cuda).detach() }
        var lastLoss = 0.0
        func step() throws {
            for p in parameters { p.requiresGrad = true }
            let h = (x.matmul(parameters[0]) + parameters[1]).relu()
            let loss = crossEntropy(logits: h.matmul(parameters[2]) + parameters[3], targets: targets)
            try loss.backward()
            // SGD by hand: new leaves, as `p.data -= lr * p.grad` would update in place.
            parameters = withNoGrad { parameters.map { ($0 - learningRate * $0.grad!).detach() } }
            lastLoss = loss.detach().item()
        }
        let seconds = try time(repeats: quick ? 2 : 20) { try step() }
        print("MLP step \(inputs)-\(hidden)-\(classes), batch \(batch) (forward, backward, SGD, loss.item()): "
              + "\(fixed(seconds * 1e3, 3)) ms (loss \(fixed(lastLoss, 4)))")
    }

    /// `value` with `digits` digits after the point.
    func fixed(_ value: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        var text = "\(rounded)"
        if let dot = text.firstIndex(of: ".") {
            let decimals = text.distance(from: dot, to: text.endIndex) - 1
            if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
        }
        return text
    }
}
