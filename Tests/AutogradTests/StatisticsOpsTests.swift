import XCTest
@testable import Autograd

/// var, std, logsumexp, norm (Ops/StatisticsOps).
final class StatisticsOpsTests: XCTestCase {
    func testVarStdByHand() {
        // [1, 2, 3, 4]: mean 2.5, squared deviations sum to 5.
        let x = Tensor([1.0, 2.0, 3.0, 4.0], dtype: .float64)
        assertClose(x.var(), shape: [], [5.0 / 3])
        assertClose(x.var(correction: 0), shape: [], [1.25])
        assertClose(x.std(correction: 0), shape: [], [(1.25).squareRoot()])
        let m = Tensor([[1.0, 3.0], [2.0, 6.0]], dtype: .float64)
        assertClose(m.var(dim: 0), shape: [2], [0.5, 4.5])
        assertClose(m.std(dims: [1], keepDim: true), shape: [2, 1], [(2.0).squareRoot(), (8.0).squareRoot()])
        XCTAssertTrue(Tensor([1.0]).var().item().isNaN)            // N - correction = 0: 0/0
        XCTAssertTrue(Tensor.zeros([0]).var(correction: 0).item().isNaN)
        XCTAssertEqual(Tensor([1.0, 2.0], dtype: .float16).var().dtype, .float16)
    }

    func testVarStdGradients() {
        let x = randomLeaf([3, 4], seed: 4)
        assertGradcheck([x]) { $0[0].var() }
        assertGradcheck([x]) { $0[0].transposed(0, 1).var(dim: 1, correction: 0) }
        assertGradcheck([x]) { $0[0].std(dims: [0, 1], correction: 2) }
        assertGradcheck([x]) { $0[0].std(dim: 0, keepDim: true) * $0[0] }
        assertGradgradcheck([x]) { $0[0].var(dim: 1) }
        assertGradgradcheck([x]) { $0[0].std(dim: 0) }
        XCTAssertEqual(x.var().gradFn?.name, "VarBackward0")
        XCTAssertEqual(x.std(dim: 1).gradFn?.name, "StdBackward0")
        // Constant rows: std 0, gradient 0 (not NaN), as PyTorch masks it.
        let c = Tensor([[2.0, 2.0], [1.0, 3.0]], dtype: .float64, requiresGrad: true)
        let g = try! grad(of: [c.std(dim: 1).sum()], wrt: [c])[0]!
        assertClose(g, shape: [2, 2], [0, 0, -(0.5).squareRoot(), (0.5).squareRoot()])
    }

    func testLogsumexpIsStable() {
        let x = Tensor([[1000.0, 1000.0], [-1000.0, -1000.0]], dtype: .float64)
        assertClose(x.logsumexp(dim: 1), shape: [2], [1000 + 0.6931471805599453, -1000 + 0.6931471805599453])
        assertClose(Tensor([-Double.infinity, -.infinity]).logsumexp(dim: 0), shape: [], [-.infinity])
        assertClose(Tensor.zeros([2, 0]).logsumexp(dim: 1), shape: [2], [-.infinity, -.infinity])
        XCTAssertEqual(Tensor([1, 2]).logsumexp(dim: 0).dtype, .float32)
        let r = randomLeaf([2, 3, 2], seed: 6)
        assertGradcheck([r]) { $0[0].logsumexp(dims: [0, 2]) }
        assertGradcheck([r]) { $0[0].logsumexp(dim: 1, keepDim: true) * $0[0] }
        assertGradgradcheck([r]) { $0[0].logsumexp(dim: 2) }
        XCTAssertEqual(r.logsumexp(dim: 0).gradFn?.name, "LogsumexpBackward0")
    }

    func testNorms() {
        let x = Tensor([[3.0, -4.0], [0.0, 1.0]], dtype: .float64)
        assertClose(x.norm(), shape: [], [(26.0).squareRoot()])
        assertClose(x.norm(p: 1), shape: [], [8])
        assertClose(x.norm(p: .infinity), shape: [], [4])
        assertClose(x.norm(p: -.infinity, dim: 1), shape: [2], [3, 0])
        assertClose(x.norm(p: 0, dim: 0), shape: [2], [1, 2])
        assertClose(x.norm(dim: 1, keepDim: true), shape: [2, 1], [5, 1])
        assertClose(x.norm(p: 3, dim: 1), shape: [2], [4.497941445275415, 1])  // (27 + 64)^(1/3)
        assertClose(Tensor.zeros([0], dtype: .float64).norm(), shape: [], [0])
        let r = randomLeaf([3, 4], seed: 9)
        for p in [1.0, 2.0, 3.0, .infinity, -.infinity] {
            assertGradcheck([r]) { $0[0].transposed(0, 1).norm(p: p, dim: 1) }
            assertGradcheck([r]) { $0[0].norm(p: p) }
        }
        assertGradgradcheck([r]) { $0[0].norm(dim: 0) }
        XCTAssertEqual(r.norm().gradFn?.name, "LinalgVectorNormBackward0")
        // The 2-norm's gradient at the origin is 0.
        let z = Tensor.zeros([3], dtype: .float64, requiresGrad: true)
        assertClose(try! grad(of: [z.norm()], wrt: [z])[0]!, shape: [3], [0, 0, 0])
    }

    func testValidators() {
        assertValidationFails("var: only supports floating point dtypes (got int64)") { _ = try Tensor([1, 2]).validateMoment(nil, op: "var") }
        assertValidationFails("norm: expected a floating point tensor as input (got int32)") {
            _ = try Tensor([1], dtype: .int32).validateNorm(p: 2, dims: [])
        }
        assertValidationFails("norm: cannot compute the inf norm on an empty tensor") {
            _ = try Tensor.zeros([0, 2]).validateNorm(p: .infinity, dims: [0])
        }
        assertValidationFails("std: dimension out of range") { _ = try Tensor.zeros([2]).validateMoment([3], op: "std") }
    }
}
