import XCTest
@testable import Autograd

/// Every functional NN op against PyTorch in float64: the output, the gradient of each
/// differentiable input for a random upstream gradient, and the name of the result's `gradFn`.
final class NNOpsReferenceTests: XCTestCase {
    typealias Op = @Sendable (_ x: [String: Tensor], _ c: [String: Tensor]) -> Tensor

    static let ops: [String: Op] = [
        "conv2d": { x, _ in conv2d(x["x"]!, weight: x["w"]!, bias: x["b"], stride: (2, 1), padding: (1, 1), dilation: (1, 2), groups: 2) },
        "conv2d_plain": { x, _ in conv2d(x["x"]!, weight: x["w"]!) },
        "conv1d": { x, _ in conv1d(x["x"]!, weight: x["w"]!, bias: x["b"], stride: 2, padding: 1, dilation: 2) },
        "max_pool2d": { x, _ in maxPool2d(x["x"]!, kernelSize: (3, 2), stride: (2, 2), padding: (1, 1)) },
        "max_pool2d_dilated": { x, _ in maxPool2d(x["x"]!, kernelSize: (2, 2), stride: (1, 1), dilation: (2, 2)) },
        "max_pool1d": { x, _ in maxPool1d(x["x"]!, kernelSize: 3, stride: 2, padding: 1) },
        "avg_pool2d": { x, _ in avgPool2d(x["x"]!, kernelSize: (3, 3), stride: (2, 1), padding: (1, 1)) },
        "avg_pool2d_exclude_pad": { x, _ in avgPool2d(x["x"]!, kernelSize: (3, 3), stride: (2, 2), padding: (1, 1), countIncludePad: false) },
        "avg_pool1d": { x, _ in avgPool1d(x["x"]!, kernelSize: 2) },
        "layer_norm": { x, _ in layerNorm(x["x"]!, normalizedShape: [4, 5], weight: x["w"], bias: x["b"]) },
        "layer_norm_plain": { x, _ in layerNorm(x["x"]!, normalizedShape: [6]) },
        "batch_norm_train": { x, c in
            batchNorm(x["x"]!, runningMean: c["rm"], runningVar: c["rv"], weight: x["w"], bias: x["b"], training: true, momentum: 0.2)
        },
        "batch_norm_eval": { x, c in
            batchNorm(x["x"]!, runningMean: c["rm"], runningVar: c["rv"], weight: x["w"], bias: x["b"], training: false)
        },
        "embedding": { x, c in embedding(c["i"]!, weight: x["w"]!, paddingIndex: 1) },
        "linear": { x, _ in linear(x["x"]!, weight: x["w"]!, bias: x["b"]) },
        "linear_3d": { x, _ in linear(x["x"]!, weight: x["w"]!) },
        "cross_entropy": { x, c in crossEntropy(logits: x["x"]!, targets: c["t"]!) },
        "cross_entropy_weight_ignore": { x, c in crossEntropy(logits: x["x"]!, targets: c["t"]!, weight: c["w"], ignoreIndex: 1) },
        "cross_entropy_sum": { x, c in crossEntropy(logits: x["x"]!, targets: c["t"]!, reduction: .sum) },
        "cross_entropy_none": { x, c in crossEntropy(logits: x["x"]!, targets: c["t"]!, reduction: .none) },
        "cross_entropy_smoothing": { x, c in
            crossEntropy(logits: x["x"]!, targets: c["t"]!, weight: c["w"], ignoreIndex: 2, labelSmoothing: 0.2)
        },
        "cross_entropy_smoothing_none": { x, c in crossEntropy(logits: x["x"]!, targets: c["t"]!, reduction: .none, labelSmoothing: 0.1) },
        "cross_entropy_probs": { x, c in crossEntropy(logits: x["x"]!, targets: c["p"]!, labelSmoothing: 0.1) },
        "cross_entropy_probs_weight_none": { x, c in crossEntropy(logits: x["x"]!, targets: c["p"]!, weight: c["w"], reduction: .none) },
        "cross_entropy_kdim": { x, c in crossEntropy(logits: x["x"]!, targets: c["t"]!) },
        "cross_entropy_1d": { x, c in crossEntropy(logits: x["x"]!, targets: c["t"]!) },
        "nll_loss_weight_none": { x, c in nllLoss(logProbabilities: x["x"]!, targets: c["t"]!, weight: c["w"], reduction: .none) },
        "nll_loss_4d": { x, c in nllLoss(logProbabilities: x["x"]!, targets: c["t"]!, ignoreIndex: 0) },
        "binary_cross_entropy": { x, c in binaryCrossEntropy(predictions: x["p"]!, targets: x["y"]!, weight: c["w"]) },
        "binary_cross_entropy_none": { x, c in binaryCrossEntropy(predictions: x["p"]!, targets: c["y"]!, reduction: .none) },
        "bce_with_logits": { x, _ in binaryCrossEntropyWithLogits(logits: x["x"]!, targets: x["y"]!) },
        "bce_with_logits_weights": { x, c in
            binaryCrossEntropyWithLogits(logits: x["x"]!, targets: x["y"]!, weight: c["w"], posWeight: c["pw"], reduction: .sum)
        },
        "mse_loss": { x, _ in mseLoss(predictions: x["p"]!, targets: x["y"]!) },
        "mse_loss_none": { x, _ in mseLoss(predictions: x["p"]!, targets: x["y"]!, reduction: .none) },
        "l1_loss": { x, _ in l1Loss(predictions: x["p"]!, targets: x["y"]!) },
        "l1_loss_sum": { x, _ in l1Loss(predictions: x["p"]!, targets: x["y"]!, reduction: .sum) },
        "smooth_l1_loss": { x, _ in smoothL1Loss(predictions: x["p"]!, targets: x["y"]!, beta: 0.5) },
        "smooth_l1_loss_none": { x, _ in smoothL1Loss(predictions: x["p"]!, targets: x["y"]!, reduction: .none) },
        "huber_loss": { x, _ in huberLoss(predictions: x["p"]!, targets: x["y"]!, delta: 0.7) },
        "huber_loss_sum": { x, _ in huberLoss(predictions: x["p"]!, targets: x["y"]!, reduction: .sum, delta: 1.5) },
    ]

    /// PyTorch node names that differ here only because the composite is built from other ops.
    static let nodeAliases: [String: String] = [
        "DivBackward1": "DivBackward0",  // division by a Python scalar
    ]

    func testEveryReferenceCaseIsCovered() {
        let cases = NNReference.section("ops")
        XCTAssertFalse(cases.isEmpty, "nn-reference.json did not load")
        XCTAssertEqual(Set(cases.keys), Set(Self.ops.keys))
    }

    func testOpsMatchPyTorch() throws {
        for (name, entry) in NNReference.section("ops").sorted(by: { $0.key < $1.key }) {
            guard let op = Self.ops[name], let c = entry as? [String: Any] else { continue }
            let inputs = NNReference.tensors(c["inputs"]).mapValues { t -> Tensor in
                let leaf = t.detach()
                leaf.requiresGrad = true
                return leaf
            }
            var consts = NNReference.tensors(c["consts"])
            if let i = consts["i"] { consts["i"] = i.to(.int64) }
            if let t = consts["t"] { consts["t"] = t.to(.int64) }
            let output = op(inputs, consts)
            let expected = NNReference.tensor(c["output"])
            assertClose(output, expected, Tolerance.Pair(rtol: 1e-9, atol: 1e-10), "\(name) forward")
            let torchNode = c["gradFn"] as? String ?? ""
            XCTAssertEqual(output.gradFn?.name, Self.nodeAliases[torchNode] ?? torchNode, "\(name) gradFn")
            let names = inputs.keys.sorted()
            let grads = try grad(of: [output], wrt: names.map { inputs[$0]! }, gradOutputs: [NNReference.tensor(c["cotangent"])],
                                 allowUnused: true)
            let expectedGrads = NNReference.tensors(c["grads"])
            for (k, g) in zip(names, grads) {
                guard let e = expectedGrads[k] else { continue }
                guard let g else {
                    XCTFail("\(name): no gradient for \(k)")
                    continue
                }
                assertClose(g, e, Tolerance.Pair(rtol: 1e-8, atol: 1e-10), "\(name) gradient of \(k)")
            }
            if name == "batch_norm_train" {
                assertClose(consts["rm"]!, NNReference.tensor(c["runningMean"]), Tolerance.float64, "running mean update")
                assertClose(consts["rv"]!, NNReference.tensor(c["runningVar"]), Tolerance.float64, "running var update")
            }
        }
    }

    /// A class whose logit is -inf (a masked class) takes no part in the loss unless it is the
    /// target, as in PyTorch (whose nll_loss gathers the target's log-probability).
    /// By hand: log-probabilities [[-inf, 0], [-1, -0.5]], targets [1, 0]: rows -0 and 1, mean 0.5;
    /// a third row [-inf, -2] with the ignored target 0 counts neither in the sum nor the mean.
    /// Logits [[-inf, 1], [2, 3]], targets [1, 0]: row 0 has softmax [0, 1], loss 0; row 1 loss
    /// log(e^2 + e^3) - 2 = log(1 + e) = 1.3132616875182228, mean 0.6566308437591114;
    /// gradient (softmax - onehot) / 2: row 0 [0, 0], row 1 [σ(-1) - 1, σ(1)] / 2 = [-0.36552928931500245, 0.36552928931500245].
    func testMaskedClassesDoNotTurnTheLossIntoNaN() throws {
        let inf = Double.infinity
        let logp = Tensor(shape: [3, 2], scalars: [-inf, 0, -1, -0.5, -inf, -2])
        let targets = Tensor(shape: [3], scalars: [Int64(1), 0, 0])
        let mean = nllLoss(logProbabilities: logp, targets: targets, ignoreIndex: 0)
        XCTAssertEqual(mean.scalars(as: Double.self), [0.0])   // only row 0 counts: -0
        let kept = nllLoss(logProbabilities: logp.narrow(dim: 0, start: 0, length: 2), targets: targets.narrow(dim: 0, start: 0, length: 2))
        XCTAssertEqual(kept.scalars(as: Double.self), [0.5])
        let rows = nllLoss(logProbabilities: logp, targets: targets, ignoreIndex: 0, reduction: .none).scalars(as: Double.self)
        XCTAssertEqual(rows, [0, 0, 0])   // row 0: -0 (the target's log-probability is 0); rows 1, 2 ignored

        let logits = Tensor(shape: [2, 2], scalars: [-inf, 1, 2, 3])
        logits.requiresGrad = true
        let loss = crossEntropy(logits: logits, targets: Tensor(shape: [2], scalars: [Int64(1), 0]))
        assertClose(loss, Tensor(shape: [], scalars: [0.6566308437591114]), Tolerance.float64, "loss")
        try loss.backward()
        assertClose(logits.grad!, Tensor(shape: [2, 2], scalars: [0, 0, -0.36552928931500245, 0.36552928931500245]),
                    Tolerance.float64, "gradient")
    }

    /// The CPU's one-loop nllLoss rows against the tensor-op formulation (which other devices
    /// run): the same coefficients bit for bit and the same row values, over ranks 1, 2 and 4,
    /// class weights, ignored targets and -inf log-probabilities.
    func testCPULossRowsMatchTheTensorOpRows() {
        for dtype in [DType.float32, .float64] {
            for (k, shape) in [[7], [9, 5], [3, 4, 2, 3]].enumerated() {
                let classes = shape.count == 1 ? shape[0] : shape[1]
                var input = Tensor.randn(shape, dtype: dtype, seed: UInt64(k)).logSoftmax(dim: shape.count == 1 ? 0 : 1)
                input = Tensor.where(Tensor.randn(shape, seed: UInt64(20 + k)) .> 1.2, Tensor(-Double.infinity).to(dtype), input)
                let targetShape = shape.count == 1 ? [] : [shape[0]] + Array(shape.dropFirst(2))
                let count = targetShape.reduce(1, *)
                let targets = Tensor(shape: targetShape, scalars: (0..<count).map { Int64(($0 * 3 + k) % classes) })
                let weight = Tensor.rand([classes], dtype: dtype, seed: UInt64(40 + k)) + 0.5
                for (w, ignore) in [(nil, -100), (weight, 1), (Optional(weight), 2)] {
                    guard let (fastCoefficients, fastRows) = nllLossRowsCPU(input, targets, weight: w, ignoreIndex: ignore) else {
                        XCTFail("no CPU path for \(dtype)")
                        continue
                    }
                    let (coefficients, rows) = nllLossRows(input, targets, weight: w, ignoreIndex: ignore)
                    XCTAssertEqual(fastCoefficients.to(.float64).scalars(as: Double.self).map(\.bitPattern),
                                   coefficients.to(.float64).scalars(as: Double.self).map(\.bitPattern), "\(dtype) \(shape) coefficients")
                    XCTAssertEqual(fastRows.to(.float64).scalars(as: Double.self), rows.to(.float64).scalars(as: Double.self),
                                   "\(dtype) \(shape) rows")
                }
            }
        }
    }

    /// Average pooling's window sums in one C pass give the bits of summing im2col's columns
    /// over the window (the composed form, written out here): kernels and strides with and
    /// without padding, both padding rules, a divisor override, a transposed input, float64,
    /// and a 9 x 9 window (81 positions: the composed form itself).
    func testAvgPoolWindowSumsMatchTheSumOfColumns() {
        let base = Tensor.randn([3, 5, 13, 11], seed: 91) * 10
        let cases: [(Tensor, (Int, Int), (Int, Int), (Int, Int), Bool, Int?)] = [
            (base, (2, 2), (2, 2), (0, 0), true, nil), (base, (3, 3), (1, 1), (1, 1), true, nil),
            (base, (3, 3), (2, 2), (1, 1), false, nil), (base, (3, 2), (2, 1), (1, 1), true, 5),
            (base.transposed(2, 3), (2, 3), (1, 2), (1, 0), false, nil), (base.to(.float64), (3, 3), (2, 2), (1, 1), false, nil),
            (Tensor.randn([2, 3, 20, 20], seed: 92), (9, 9), (3, 3), (4, 4), true, nil),
        ]
        for (x, k, st, pad, include, divisor) in cases {
            let got = avgPool2d(x, kernelSize: k, stride: st, padding: pad, countIncludePad: include, divisorOverride: divisor)
            let g = WindowGeometry(batch: x.shape[0], channels: x.shape[1], height: x.shape[2], width: x.shape[3],
                                   kernelH: k.0, kernelW: k.1, strideH: st.0, strideW: st.1, paddingH: pad.0, paddingW: pad.1,
                                   dilationH: 1, dilationW: 1)
            let kk = k.0 * k.1, l = g.outH * g.outW
            let sums = x.contiguous().im2col(g).reshaped([g.batch, g.channels, kk, l]).sum(dim: 2)
            let counts: Tensor
            if let divisor {
                counts = Tensor.full([], value: Double(divisor), dtype: x.dtype)
            } else if include {
                counts = Tensor.full([], value: Double(kk), dtype: x.dtype)
            } else {
                var one = g
                one.batch = 1
                one.channels = 1
                counts = Tensor.ones(one.imageShape, dtype: x.dtype).im2col(one).sum(dim: 1)
            }
            let want = (sums / counts).reshaped(got.shape)
            XCTAssertEqual(got.to(.float64).scalars(as: Double.self).map(\.bitPattern), want.to(.float64).scalars(as: Double.self).map(\.bitPattern),
                           "\(x.dtype) kernel \(k) stride \(st) padding \(pad) include \(include)")
        }
        // all-negative-zero windows sum to +0, as the columns' sum does
        let zeros = Tensor.full([1, 1, 4, 4], value: -0.0)
        XCTAssertEqual(avgPool2d(zeros, kernelSize: (2, 2)).scalars(as: Float.self).map(\.bitPattern), [UInt32](repeating: 0, count: 4))
    }

    func testMaxPoolIndicesAreFlatPlanePositions() {
        let x = Tensor(shape: [1, 1, 4, 4], scalars: (0..<16).map { Double($0 % 5) }, dtype: .float64)
        let (values, indices) = maxPool2dWithIndices(x, kernelSize: (2, 2))
        XCTAssertEqual(values.scalars(as: Double.self), [4, 3, 4, 4])
        XCTAssertEqual(indices.scalars(as: Int.self), [4, 3, 9, 14])
    }

    func testDropoutScalesKeptElementsAndIsSeeded() {
        let x = Tensor.ones([1000], dtype: .float64, requiresGrad: true)
        let y = dropout(x, p: 0.25, generator: Generator(seed: 7))
        let values = y.scalars(as: Double.self)
        XCTAssertTrue(values.allSatisfy { $0 == 0 || Swift.abs($0 - 4.0 / 3) < 1e-12 })
        let kept = values.filter { $0 != 0 }.count
        XCTAssertTrue((680...820).contains(kept), "kept \(kept) of 1000 at p = 0.25")
        XCTAssertEqual(y.gradFn?.name, "MulBackward0")
        XCTAssertEqual(dropout(x, p: 0.25, generator: Generator(seed: 7)).scalars(as: Double.self), values)
        XCTAssertTrue(dropout(x, p: 0.25, training: false).isSameTensor(as: x))
        XCTAssertEqual(dropout(x, p: 1).scalars(as: Double.self), [Double](repeating: 0, count: 1000))
    }
}
