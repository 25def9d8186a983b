// Parity of the public ops on cuda:0 against the CPU backend, one PASS/FAIL line per op.
import Autograd

/// One op computed on both devices and compared.
struct ParityCase {
    /// What is computed.
    var name: String
    /// The relative tolerance (the CUDA-vs-CPU rtol of the test suite, scaled for sums).
    var rtol: Double = 1e-4
    /// The absolute tolerance.
    var atol: Double = 1e-5
    /// Computes the op with operands on the given device.
    var compute: (Device) throws -> Tensor
}

/// Runs every `ParityCase` and prints the worst error of each.
struct ParityCheck {
    /// Operands, made once on the CPU and moved as each case needs.
    let x = Tensor.randn([64, 48], seed: 1)
    let y = Tensor.randn([48], seed: 2)
    let positive = Tensor.rand([64, 48], seed: 3) + 0.05
    let cube = Tensor.randn([16, 12, 10], seed: 4)
    let ints = (Tensor.randn([64, 48], seed: 5) * 20).to(.int64)
    let smallInts = (Tensor.randn([48], seed: 6) * 5).to(.int32)
    let a = Tensor.randn([96, 80], seed: 7)
    let b = Tensor.randn([80, 72], seed: 8)
    let batchA = Tensor.randn([4, 33, 17], seed: 9)
    let batchB = Tensor.randn([4, 17, 29], seed: 10)
    let long = Tensor.randn([1 << 22], seed: 11)
    let tall = Tensor.randn([200_000, 3], seed: 12)
    let targets = Tensor((0..<64).map { $0 % 48 })

    var cases: [ParityCase] {
        var cases: [ParityCase] = []
        func add(_ name: String, rtol: Double = 1e-4, atol: Double = 1e-5, _ compute: @escaping (Device) throws -> Tensor) {
            cases.append(ParityCase(name: name, rtol: rtol, atol: atol, compute: compute))
        }
        let (x, y, positive, cube, ints, smallInts) = (self.x, self.y, self.positive, self.cube, self.ints, self.smallInts)
        let (a, b, batchA, batchB, long, tall, targets) = (self.a, self.b, self.batchA, self.batchB, self.long, self.tall, self.targets)

        // Elementwise, one operand.
        add("exp") { try x.to($0).exp() }
        add("log") { try positive.to($0).log() }
        add("sqrt") { try positive.to($0).sqrt() }
        add("sin") { try x.to($0).sin() }
        add("cos") { try x.to($0).cos() }
        add("tanh") { try x.to($0).tanh() }
        add("sigmoid") { try (x * 10).to($0).sigmoid() }
        add("relu") { try x.to($0).relu() }
        add("abs") { try x.to($0).abs() }
        add("sign") { try x.to($0).sign() }
        add("neg") { try -x.to($0) }
        add("pow 2") { try x.to($0).pow(2) }
        add("pow 3") { try x.to($0).pow(3) }
        add("pow 0.5") { try positive.to($0).pow(0.5) }
        add("exp of a transposed view") { try x.to($0).transposed(0, 1).exp() }
        add("logicalNot") { try (x .> 0).to($0).logicalNot() }

        // Elementwise, two operands, broadcasting and views.
        add("add broadcast") { try x.to($0) + y.to($0) }
        add("sub broadcast") { try y.to($0) - x.to($0) }
        add("mul broadcast") { try x.to($0) * y.to($0) }
        add("div broadcast") { try x.to($0) / positive.to($0) }
        add("add transposed") { d in try x.to(d).transposed(0, 1) + x.to(d).transposed(0, 1).contiguous() }
        add("add [16,1,10] + [12,1]") { d in
            let c = try cube.to(d)
            return c.narrow(dim: 1, start: 0, length: 1)
                + c.narrow(dim: 0, start: 0, length: 1).narrow(dim: 2, start: 0, length: 1).reshaped([12, 1])
        }
        add("scalar ops") { d in try (x.to(d) * 0.5 - 2) / 3 + (1 - x.to(d)) }
        add("maximum") { try maximum(x.to($0), y.to($0)) }
        add("minimum") { try minimum(x.to($0), y.to($0)) }
        add("pow tensor") { try positive.to($0).pow(y.to($0)) }
        add("lt") { try (x.to($0) .< y.to($0)).to(.float32) }
        add("eq") { try (x.to($0).sign() .== y.to($0).sign()).to(.float32) }
        add("logicalAnd") { try (x.to($0) .> 0).logicalAnd(y.to($0) .< 0) }
        add("int64 add mul") { try ints.to($0) * 3 + ints.to($0) }
        add("int32 broadcast add") { try smallInts.to($0) + ints.to($0).to(.int32) }
        add("int64 true division") { try ints.to($0) / 7 }
        add("where") { d in try Tensor.where(x.to(d) .> 0, x.to(d), y.to(d) * 0.1) }

        // Copies, casts and joins.
        for dtype in DType.allCases {
            add("cast float32 -> \(dtype)") { try (x * 100).to($0).to(dtype).to(.float64) }
            add("cast \(dtype) -> float64") { try (x * 100).to(dtype).to($0).to(.float64) }
        }
        add("float16 arithmetic") { try (x.to(.float16).to($0) * y.to(.float16).to($0) + 1).to(.float32) }
        add("bfloat16 arithmetic") { try (x.to(.bfloat16).to($0).exp() - 1).to(.float32) }
        add("contiguous of a permuted view") { try cube.to($0).permuted([2, 0, 1]).contiguous() }
        add("contiguous of an expanded view") { try y.to($0).reshaped([1, 48]).expanded(to: [5, 48]).contiguous() }
        add("cat") { d in try Tensor.cat([x.to(d), x.to(d).exp()], dim: 1) }
        add("stack") { d in try Tensor.stack([y.to(d), y.to(d) * 2], dim: 0) }
        add("narrow") { try x.to($0).narrow(dim: 1, start: 5, length: 7).contiguous() }

        // Reductions.
        add("sum", rtol: 1e-4, atol: 1e-4) { try x.to($0).sum() }
        add("sum dim 0") { try x.to($0).sum(dim: 0) }
        add("sum dim 1 keepDim") { try x.to($0).sum(dim: 1, keepDim: true) }
        add("sum dims [0, 2]") { try cube.to($0).sum(dims: [0, 2]) }
        add("sum of a transposed view") { try x.to($0).transposed(0, 1).sum(dim: 1) }
        add("sum 4M", rtol: 1e-4, atol: 2e-2) { try long.to($0).sum() }
        add("column sums 200000x3", rtol: 1e-4, atol: 1e-2) { try tall.to($0).sum(dim: 0) }
        add("mean") { try x.to($0).mean() }
        add("mean dim 1") { try cube.to($0).mean(dim: 1) }
        add("max") { try x.to($0).max() }
        add("min") { try cube.to($0).min() }
        add("max dim 1 values") { try x.to($0).max(dim: 1).values }
        add("max dim 1 indices") { try x.to($0).max(dim: 1).indices }
        add("min dim 0 indices") { try cube.to($0).min(dim: 0).indices }
        add("argmax 4M") { try long.to($0).argmax() }
        add("int64 sum") { try ints.to($0).sum(dim: 1) }
        add("bool sum") { try (x.to($0) .> 0).sum() }

        // Composite ops.
        add("softmax") { try x.to($0).softmax(dim: 1) }
        add("logSoftmax") { try x.to($0).logSoftmax(dim: 0) }
        add("crossEntropy") { d in try crossEntropy(logits: x.to(d), targets: targets.to(d)) }
        add("mseLoss") { d in try mseLoss(predictions: x.to(d), targets: x.to(d).sin()) }

        // Matrix products (cuBLAS for floats, the tiled kernel for integers).
        add("matmul 96x80 @ 80x72", rtol: 1e-4, atol: 1e-4) { d in try a.to(d).matmul(b.to(d)) }
        add("matmul transposed operands", rtol: 1e-4, atol: 1e-4) { d in
            try b.to(d).transposed(0, 1).matmul(a.to(d).transposed(0, 1))
        }
        add("bmm", rtol: 1e-4, atol: 1e-4) { d in try batchA.to(d).bmm(batchB.to(d)) }
        add("matmul broadcast batch", rtol: 1e-4, atol: 1e-4) { d in try batchA.to(d).matmul(batchB.to(d).narrow(dim: 0, start: 0, length: 1).reshaped([17, 29])) }
        add("matmul float64", rtol: 1e-10, atol: 1e-10) { d in try a.to(.float64).to(d).matmul(b.to(.float64).to(d)) }
        add("matrix-vector") { d in try x.to(d).matmul(y.to(d)) }
        add("dot") { d in try y.to(d).dot(y.to(d).cos()) }
        add("int64 matmul") { d in try ints.to(d).matmul(ints.to(d).transposed(0, 1)) }

        // Indexing, scans, convolution, pooling, embedding: the native kernels of issue 6.
        let index = Tensor.randint(0, 48, [64, 20], seed: 13)
        let distinct = Tensor.arange(20).reshaped([1, 20]).expanded(to: [64, 20])
        let rows = Tensor([63, 0, 5, 5, 17, -1])
        let lookups = Tensor([[3, 0, 3], [47, 12, 3]])
        let image = Tensor.randn([4, 6, 15, 13], seed: 14), kernel = Tensor.randn([8, 3, 3, 3], seed: 15)
        add("gather dim 1") { d in try x.to(d).gather(dim: 1, index: index.to(d)) }
        add("gather of a transposed view") { d in try x.to(d).transposed(0, 1).gather(dim: 0, index: index.to(d).transposed(0, 1)) }
        add("scatter distinct") { d in try x.to(d).scatter(dim: 1, index: distinct.to(d), source: y.to(d).reshaped([1, 48]).expanded(to: [64, 48])) }
        add("scatterAdd repeated indices") { d in
            try Tensor.zeros([64, 48], device: d).scatterAdd(dim: 1, index: index.to(d), source: x.to(d).narrow(dim: 1, start: 0, length: 20))
        }
        add("advanced index (negative, repeated)") { d in try x.to(d)[rows.to(d)] }
        add("indexPut accumulate") { d in try x.to(d).indexPut([rows.to(d)], values: y.to(d), accumulate: true) }
        add("indexSelect dim 1") { d in try cube.to(d).indexSelect(dim: 1, index: Tensor([11, 0, 11, 4]).to(d)) }
        add("cumsum dim 1") { try x.to($0).cumsum(dim: 1) }
        add("cumsum of a transposed view") { try cube.to($0).transposed(0, 2).cumsum(dim: -1) }
        add("cumprod dim 0") { try (positive + 0.5).to($0).cumprod(dim: 0) }
        add("int64 cumsum") { try ints.to($0).cumsum(dim: 0) }
        add("conv2d stride, padding, dilation, groups", rtol: 1e-4, atol: 1e-4) { d in
            try conv2d(image.to(d), weight: kernel.to(d), stride: (2, 1), padding: (1, 2), dilation: (1, 2), groups: 2)
        }
        add("conv2d backward (input and weight)", rtol: 1e-4, atol: 1e-3) { d in
            let input = try image.to(d).detach(), weight = try kernel.to(d).detach()
            input.requiresGrad = true
            weight.requiresGrad = true
            try conv2d(input, weight: weight, padding: (1, 1), groups: 2).tanh().sum().backward()
            return Tensor.cat([input.grad!.flattened(), weight.grad!.flattened()], dim: 0)
        }
        add("maxPool2d") { d in try maxPool2d(image.to(d), kernelSize: (3, 2), stride: (2, 2), padding: (1, 1)) }
        add("avgPool2d backward") { d in
            let input = try image.to(d).detach()
            input.requiresGrad = true
            try avgPool2d(input, kernelSize: (3, 3), stride: (2, 1), padding: (1, 1)).pow(2).sum().backward()
            return input.grad!
        }
        add("embedding") { d in try embedding(lookups.to(d), weight: x.to(d)) }
        add("embedding backward (repeated rows)") { d in
            let weight = try x.to(d).detach()
            weight.requiresGrad = true
            try (embedding(lookups.to(d), weight: weight) * 2).sum().backward()
            return weight.grad!
        }
        // Random numbers: CUDA draws Philox streams, the CPU xoshiro ones, so only statistics compare.
        add("randn 1M mean and mean square (statistics)", rtol: 0, atol: 1e-2) { d in
            let z = Tensor.randn([1 << 20], seed: 16, device: d)
            return Tensor.stack([z.mean(), (z * z).mean()], dim: 0)
        }
        add("rand 1M mean and mean square (statistics)", rtol: 0, atol: 1e-2) { d in
            let u = Tensor.rand([1 << 20], dtype: .float64, seed: 17, device: d)
            return Tensor.stack([u.mean(), (u * u).mean()], dim: 0)
        }
        add("dropout 1M kept fraction (statistics)", rtol: 0, atol: 1e-2) { d in
            (dropout(Tensor.ones([1 << 20], device: d), p: 0.3, generator: Generator(seed: 18)) .!= 0).to(.float32).mean()
        }

        // Gradients.
        add("gradient of a small network", rtol: 1e-4, atol: 1e-4) { d in
            let w = try a.to(d).detach()
            w.requiresGrad = true
            let loss = crossEntropy(logits: try x.to(d).narrow(dim: 1, start: 0, length: 48)
                .matmul(w.narrow(dim: 0, start: 0, length: 48)).tanh(), targets: try targets.to(d))
            try loss.backward()
            return w.grad!
        }
        return cases
    }

    /// Runs every case; returns the number of failures.
    func run() -> Int {
        print("\n== parity with the CPU backend (|cuda - cpu| <= atol + rtol * |cpu|)")
        var failures = 0
        for item in cases {
            do {
                let expected = try item.compute(.cpu)
                let actual = try item.compute(.cuda(0))
                let (ok, worstAbsolute, worstRelative, reason) = compare(actual, expected, item)
                if !ok { failures += 1 }
                let errors = "max abs err \(format(worstAbsolute)), max rel err \(format(worstRelative))"
                print("\(ok ? "PASS" : "FAIL")  \(item.name.padding(34))  \(errors)\(reason.isEmpty ? "" : "  (\(reason))")")
            } catch {
                failures += 1
                print("FAIL  \(item.name.padding(34))  threw \(error)")
            }
        }
        print("parity: \(cases.count - failures) of \(cases.count) passed")
        return failures
    }

    private func compare(_ actual: Tensor, _ expected: Tensor, _ item: ParityCase)
        -> (ok: Bool, absolute: Double, relative: Double, reason: String)
    {
        guard actual.device == .cuda(0) else { return (false, 0, 0, "result on \(actual.device), not cuda:0") }
        guard actual.shape == expected.shape else { return (false, 0, 0, "shape \(actual.shape) vs \(expected.shape)") }
        guard actual.dtype == expected.dtype else { return (false, 0, 0, "dtype \(actual.dtype) vs \(expected.dtype)") }
        let got = actual.scalars(as: Double.self), want = expected.scalars(as: Double.self)
        var ok = true, worstAbsolute = 0.0, worstRelative = 0.0
        for (g, w) in zip(got, want) {
            if g.isNaN && w.isNaN || g == w { continue }
            let error = Swift.abs(g - w)
            worstAbsolute = Swift.max(worstAbsolute, error.isNaN ? .infinity : error)
            if w != 0 { worstRelative = Swift.max(worstRelative, error / Swift.abs(w)) }
            if !(error <= item.atol + item.rtol * Swift.abs(w)) { ok = false }
        }
        return (ok, worstAbsolute, worstRelative, "")
    }

    private func format(_ value: Double) -> String {
        if value == 0 { return "0" }
        var exponent = 0
        var mantissa = value
        while mantissa >= 10 { mantissa /= 10; exponent += 1 }
        while mantissa < 1 { mantissa *= 10; exponent -= 1 }
        let rounded = (mantissa * 10).rounded() / 10
        return "\(rounded)e\(exponent)"
    }
}

extension String {
    /// The string padded with spaces to `width` characters.
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
