import XCTest
@testable import Autograd

/// Gradient checks in float64 of every NN op against central differences, on plain,
/// non-contiguous and reused inputs, with second derivatives for the window and
/// normalization ops whose backward formulas are themselves differentiable.
final class NNGradcheckTests: XCTestCase {
    func testConvolution() {
        let x = randomLeaf([2, 4, 5, 4], seed: 1), w = randomLeaf([6, 2, 3, 2], seed: 2), b = randomLeaf([6], seed: 3)
        assertGradcheck([x, w, b]) { conv2d($0[0], weight: $0[1], bias: $0[2], stride: (2, 1), padding: (1, 1), dilation: (1, 2), groups: 2) }
        let x1 = randomLeaf([2, 3, 7], seed: 4), w1 = randomLeaf([2, 3, 3], seed: 5)
        assertGradcheck([x1, w1]) { conv1d($0[0], weight: $0[1], stride: 2, padding: 2) }
        // Unbatched input, and the weight of a transposed (non-contiguous) view.
        let wt = randomLeaf([3, 3, 2, 2], seed: 6)
        assertGradcheck([randomLeaf([3, 4, 4], seed: 7), wt]) { conv2d($0[0], weight: $0[1].transposed(0, 1)) }
        assertGradgradcheck([randomLeaf([1, 2, 4, 4], seed: 8), randomLeaf([2, 2, 2, 2], seed: 9)]) {
            conv2d($0[0], weight: $0[1], padding: (1, 0))
        }
    }

    func testPooling() {
        // Distinct values (a permutation) keep the maxima away from ties.
        let values: [Double] = (0..<180).map { (i: Int) -> Double in Double((i * 37) % 180) / 10 }
        let x = Tensor(shape: [2, 3, 6, 5], scalars: values, dtype: .float64, requiresGrad: true)
        assertGradcheck([x]) { maxPool2d($0[0], kernelSize: (3, 2), stride: (2, 1), padding: (1, 1)) }
        assertGradcheck([x]) { maxPool2d($0[0], kernelSize: (2, 2), stride: (1, 1), dilation: (2, 2)) }
        assertGradcheck([x]) { avgPool2d($0[0], kernelSize: (3, 3), stride: (2, 2), padding: (1, 1), countIncludePad: false) }
        assertGradcheck([x]) { maxPool1d($0[0].reshaped([6, 5, 6]), kernelSize: 2) }
        assertGradcheck([x]) { avgPool1d($0[0].reshaped([6, 5, 6]), kernelSize: 3, stride: 1, padding: 1) }
        assertGradgradcheck([randomLeaf([1, 2, 4, 4], seed: 10)]) { avgPool2d($0[0] * $0[0], kernelSize: (2, 2)) }
    }

    func testNormalization() {
        let x = randomLeaf([3, 4, 5], seed: 11), w = randomLeaf([4, 5], seed: 12), b = randomLeaf([4, 5], seed: 13)
        assertGradcheck([x, w, b]) { layerNorm($0[0], normalizedShape: [4, 5], weight: $0[1], bias: $0[2]) }
        assertGradgradcheck([randomLeaf([2, 5], seed: 14), randomLeaf([5], seed: 15)]) {
            layerNorm($0[0], normalizedShape: [5], weight: $0[1])
        }
        let bx = randomLeaf([4, 3, 2], seed: 16), bw = randomLeaf([3], seed: 17), bb = randomLeaf([3], seed: 18)
        assertGradcheck([bx, bw, bb]) { batchNorm($0[0], runningMean: nil, runningVar: nil, weight: $0[1], bias: $0[2], training: true) }
        let mean = Tensor.zeros([3], dtype: .float64), variance = Tensor.ones([3], dtype: .float64) * 2
        assertGradcheck([bx, bw, bb]) { batchNorm($0[0], runningMean: mean, runningVar: variance, weight: $0[1], bias: $0[2], training: false) }
        assertGradgradcheck([randomLeaf([3, 2, 2], seed: 19)]) {
            batchNorm($0[0], runningMean: nil, runningVar: nil, training: true)
        }
    }

    func testLinearEmbeddingDropout() {
        let x = randomLeaf([4, 5], seed: 20), w = randomLeaf([3, 5], seed: 21), b = randomLeaf([3], seed: 22)
        assertGradcheck([x, w, b]) { linear($0[0], weight: $0[1], bias: $0[2]) }
        assertGradcheck([x, w]) { linear($0[0].reshaped([2, 2, 5]), weight: $0[1]) }
        let table = randomLeaf([5, 3], seed: 23)
        let indices = Tensor([[0, 1, 4], [4, 4, 2]])
        assertGradcheck([table]) { embedding(indices, weight: $0[0]) }
        // The padding row is read but, by definition, receives no gradient.
        XCTAssertNoThrow(try embedding(indices, weight: table, paddingIndex: 2).sum().backward())
        XCTAssertEqual(table.grad?.scalars(as: Double.self), [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 3, 3, 3])
        assertGradgradcheck([table]) { embedding(indices, weight: $0[0] * $0[0]) }
        assertGradcheck([x]) { dropout($0[0], p: 0.3, generator: Generator(seed: 1)) }
    }

    func testClassificationLosses() {
        let x = randomLeaf([5, 3], seed: 24)
        let t = Tensor([0, 2, 1, 2, 1])
        let w = Tensor([0.5, 1.5, 1.0], dtype: .float64)
        assertGradcheck([x]) { crossEntropy(logits: $0[0], targets: t, weight: w, ignoreIndex: 1) }
        assertGradcheck([x]) { crossEntropy(logits: $0[0], targets: t, reduction: .none, labelSmoothing: 0.3) }
        assertGradcheck([x]) { crossEntropy(logits: $0[0], targets: t, weight: w, reduction: .sum, labelSmoothing: 0.3) }
        let probabilities = Tensor.randn([5, 3], dtype: .float64, seed: 25).softmax(dim: 1)
        assertGradcheck([x]) { crossEntropy(logits: $0[0], targets: probabilities, weight: w, labelSmoothing: 0.1) }
        let k = randomLeaf([2, 3, 2, 2], seed: 26)
        let kt = Tensor([[[0, 1], [2, 1]], [[2, 0], [1, 1]]])
        assertGradcheck([k]) { nllLoss(logProbabilities: $0[0], targets: kt, weight: w, reduction: .none) }
        assertGradgradcheck([x]) { crossEntropy(logits: $0[0], targets: t) }
        let p = (Tensor.rand([3, 4], dtype: .float64, seed: 27) * 0.8 + 0.1).detach()
        p.requiresGrad = true
        let y = (Tensor.rand([3, 4], dtype: .float64, seed: 28)).detach()
        y.requiresGrad = true
        assertGradcheck([p, y]) { binaryCrossEntropy(predictions: $0[0], targets: $0[1], weight: Tensor([1.0, 2.0, 0.5, 1.0], dtype: .float64)) }
        let logits = randomLeaf([3, 4], seed: 29)
        assertGradcheck([logits, y]) { binaryCrossEntropyWithLogits(logits: $0[0], targets: $0[1]) }
        assertGradcheck([logits, y]) {
            binaryCrossEntropyWithLogits(logits: $0[0], targets: $0[1], posWeight: Tensor([1.0, 2.0, 0.5, 3.0], dtype: .float64), reduction: .none)
        }
    }

    func testRegressionLosses() {
        let p = randomLeaf([3, 4], seed: 30), t = randomLeaf([3, 4], seed: 31), row = randomLeaf([4], seed: 32)
        for reduction in [LossReduction.mean, .sum, .none] {
            assertGradcheck([p, t]) { mseLoss(predictions: $0[0], targets: $0[1], reduction: reduction) }
            assertGradcheck([p, t]) { l1Loss(predictions: $0[0], targets: $0[1], reduction: reduction) }
            assertGradcheck([p, t]) { smoothL1Loss(predictions: $0[0], targets: $0[1], reduction: reduction, beta: 0.5) }
            assertGradcheck([p, t]) { huberLoss(predictions: $0[0], targets: $0[1], reduction: reduction, delta: 0.8) }
        }
        assertGradcheck([p, row]) { mseLoss(predictions: $0[0], targets: $0[1]) }   // broadcasting
        assertGradcheck([p]) { mseLoss(predictions: $0[0], targets: $0[0] * 0.5) }  // used twice
        assertGradgradcheck([p, t]) { huberLoss(predictions: $0[0], targets: $0[1]) }
    }
}
