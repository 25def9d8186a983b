import XCTest
@testable import Autograd

/// Every differentiable op of the foundation, checked against central differences in float64,
/// on plain, broadcast, non-contiguous (transposed) and reused inputs.
final class FoundationGradcheckTests: XCTestCase {
    let a = randomLeaf([3, 4], seed: 1)
    let b = randomLeaf([3, 4], seed: 2)
    let positive = randomLeaf([3, 4], seed: 3, shift: 3)   // away from 0 for log/sqrt/div/pow
    let row = randomLeaf([4], seed: 4)
    let column = randomLeaf([3, 1], seed: 5)

    /// A transposed (non-contiguous) view of a [4, 3] leaf.
    func transposedLeaf(seed: UInt64, shift: Double = 0) -> (leaf: Tensor, view: Tensor) {
        let leaf = randomLeaf([4, 3], seed: seed, shift: shift)
        return (leaf, leaf.transposed(0, 1))
    }

    func testArithmetic() {
        assertGradcheck([a, b]) { $0[0] + $0[1] }
        assertGradcheck([a, b]) { $0[0] - $0[1] }
        assertGradcheck([a, b]) { $0[0] * $0[1] }
        assertGradcheck([a, positive]) { $0[0] / $0[1] }
        assertGradcheck([a]) { -$0[0] }
    }

    func testScalarForms() {
        assertGradcheck([a]) { $0[0] + 2.5 }
        assertGradcheck([a]) { 2.5 - $0[0] }
        assertGradcheck([a]) { $0[0] * -3.0 }
        assertGradcheck([a]) { $0[0] / 4.0 }
        assertGradcheck([positive]) { 4.0 / $0[0] }
        assertGradcheck([a]) { 2 * $0[0] - 1 }
    }

    func testBroadcasting() {
        assertGradcheck([a, row]) { $0[0] + $0[1] }
        assertGradcheck([a, column]) { $0[0] * $0[1] }
        assertGradcheck([row, column]) { $0[0] - $0[1] }
        assertGradcheck([a, Tensor(2.0, dtype: .float64, requiresGrad: true)]) { $0[0] / $0[1] }
    }

    func testNonContiguousInputs() {
        let (leaf, view) = transposedLeaf(seed: 6)
        XCTAssertFalse(view.isContiguous)
        assertGradcheck([leaf, b]) { $0[0].transposed(0, 1) * $0[1] }
        assertGradcheck([leaf]) { $0[0].transposed(0, 1).exp().sum(dim: 0) }
        assertGradcheck([leaf]) { $0[0].transposed(0, 1).matmul($0[0]) }
    }

    func testReuse() {
        assertGradcheck([a]) { $0[0] * $0[0] }
        assertGradcheck([a]) { ($0[0] * $0[0] + $0[0].exp() * $0[0]).sum() }
    }

    func testPower() {
        assertGradcheck([a]) { $0[0].pow(3) }
        assertGradcheck([a]) { $0[0].pow(2) }
        assertGradcheck([positive]) { $0[0].pow(0.5) }
        assertGradcheck([positive]) { $0[0].pow(-1.5) }
        assertGradcheck([positive, b]) { $0[0].pow($0[1]) }
        assertGradcheck([positive, row]) { $0[0].pow($0[1]) }
    }

    func testUnary() {
        assertGradcheck([a]) { $0[0].exp() }
        assertGradcheck([positive]) { $0[0].log() }
        assertGradcheck([positive]) { $0[0].sqrt() }
        assertGradcheck([a]) { $0[0].sin() }
        assertGradcheck([a]) { $0[0].cos() }
        assertGradcheck([a]) { $0[0].tanh() }
        assertGradcheck([a]) { $0[0].sigmoid() }
        // Kinks at 0 are avoided: randn values are 0 with probability 0, and eps is 1e-6.
        assertGradcheck([a]) { $0[0].relu() }
        assertGradcheck([a]) { $0[0].abs() }
    }

    func testReductions() {
        assertGradcheck([a]) { $0[0].sum() }
        assertGradcheck([a]) { $0[0].sum(dim: 1) }
        assertGradcheck([a]) { $0[0].sum(dim: 0, keepDim: true) }
        assertGradcheck([a]) { $0[0].mean() }
        assertGradcheck([a]) { $0[0].mean(dim: -1) }
        assertGradcheck([a]) { $0[0].max(dim: 1).values }
        assertGradcheck([a]) { $0[0].min(dim: 0, keepDim: true).values }
        assertGradcheck([a]) { $0[0].max() }
    }

    func testMatmulForms() {
        let m = randomLeaf([4, 5], seed: 7)
        let v3 = randomLeaf([3], seed: 8)
        let v4 = randomLeaf([4], seed: 9)
        let batch = randomLeaf([2, 3, 4], seed: 10)
        assertGradcheck([a, m]) { $0[0].matmul($0[1]) }
        assertGradcheck([v4, v4.detach().clone().requiringGrad()]) { $0[0].matmul($0[1]) }
        assertGradcheck([v3, a]) { $0[0].matmul($0[1]) }
        assertGradcheck([a, v4]) { $0[0].matmul($0[1]) }
        assertGradcheck([batch, m]) { $0[0].matmul($0[1]) }
        assertGradcheck([v3, batch]) { $0[0].matmul($0[1]) }
    }

    func testViews() {
        assertGradcheck([a]) { $0[0].reshaped([2, 6]) }
        assertGradcheck([a]) { $0[0].transposed(0, 1).reshaped([-1]) }   // copy path
        assertGradcheck([a]) { $0[0].permuted([1, 0]) }
        assertGradcheck([column]) { $0[0].expanded(to: [2, 3, 5]) }
        assertGradcheck([column]) { $0[0].squeezed(dim: 1) }
        assertGradcheck([row]) { $0[0].unsqueezed(dim: 0) }
        assertGradcheck([a]) { $0[0].flattened() }
        assertGradcheck([a]) { $0[0].narrow(dim: 1, start: 1, length: 2) }
    }

    func testJoinsAndSoftmaxAndLosses() {
        assertGradcheck([a, b]) { Tensor.cat([$0[0], $0[1]], dim: 1) }
        assertGradcheck([a, b]) { Tensor.stack([$0[0], $0[1]], dim: 2) }
        assertGradcheck([a]) { $0[0].softmax(dim: 1) }
        assertGradcheck([a]) { $0[0].logSoftmax(dim: 0) }
        assertGradcheck([a, b]) { maximum($0[0], $0[1]) }
        assertGradcheck([a, b]) { minimum($0[0], $0[1]) }
        let targets = Tensor([1, 0, 3])
        assertGradcheck([a]) { crossEntropy(logits: $0[0], targets: targets) }
        assertGradcheck([a, b]) { mseLoss(predictions: $0[0], targets: $0[1]) }
    }

    func testDtypeConversionGradientReturnsToInputDtype() throws {
        // Finite differences through float32 are too coarse for eps = 1e-6, so check the
        // exact result: d/dx sum(2 · float32(x)) = 2, delivered as float64.
        let x = randomLeaf([3], seed: 11)
        let y = x.to(.float32)
        XCTAssertEqual(y.gradFn?.name, "ToCopyBackward0")
        try (y * 2).sum().backward()
        XCTAssertEqual(x.grad!.dtype, .float64)
        XCTAssertEqual(x.grad!.scalars(as: Double.self), [2, 2, 2])
    }

    func testSecondOrderThroughFoundationOps() {
        assertGradgradcheck([a]) { $0[0].pow(3).sum() }
        assertGradgradcheck([a, b]) { ($0[0] * $0[1]).exp().sum() }
        assertGradgradcheck([positive]) { $0[0].log() * $0[0] }
        assertGradgradcheck([a]) { $0[0].tanh() }
        assertGradgradcheck([a]) { $0[0].sigmoid() }
        assertGradgradcheck([a]) { $0[0].softmax(dim: 1) }
        assertGradgradcheck([a, b]) { $0[0].matmul($0[1].transposed(0, 1)) }
    }
}

/// A node with a deliberately wrong formula (twice the true gradient of exp).
final class WrongExpBackward: GradFn, @unchecked Sendable {
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        [gradOutputs[0].map { $0 * 2.0 }]
    }
}

final class GradcheckDetectsErrorsTests: XCTestCase {
    func testGradcheckRejectsAWrongBackwardFormula() {
        let x = randomLeaf([3], seed: 12)
        let wrongExp: ([Tensor]) -> Tensor = { args in
            let out = withNoGrad { args[0].exp() }.detach()
            return Tensor.record(out, inputs: [args[0]]) { WrongExpBackward() }
        }
        XCTAssertThrowsError(try gradcheck(wrongExp, inputs: [x])) { error in
            XCTAssertTrue("\(error)".contains("Jacobian mismatch"))
        }
    }
}
