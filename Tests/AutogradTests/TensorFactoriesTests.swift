import XCTest
@testable import Autograd

/// empty, like-forms, integer arange, logspace, eye, randint, bernoulli, manualSeed
/// (Tensor/Tensor+Factories).
final class TensorFactoriesTests: XCTestCase {
    func testEmptyAndLikeForms() {
        let base = Tensor.zeros([2, 3], dtype: .int32)
        XCTAssertEqual(Tensor.empty([2, 0]).shape, [2, 0])
        XCTAssertEqual(Tensor.empty(like: base).dtype, .int32)
        XCTAssertEqual(Tensor.empty(like: base, dtype: .float64).dtype, .float64)
        XCTAssertEqual(Tensor.full(like: base, value: 7).scalars(as: Int.self), [7, 7, 7, 7, 7, 7])
        XCTAssertEqual(Tensor.ones(like: base, dtype: .bool).scalars(as: Bool.self), [Bool](repeating: true, count: 6))
        XCTAssertEqual(Tensor.zeros(like: base, dtype: .float32, requiresGrad: true).requiresGrad, true)
        XCTAssertEqual(Tensor.rand(like: Tensor.zeros([4], dtype: .float64), seed: 1).dtype, .float64)
        XCTAssertEqual(Tensor.randn(like: Tensor.zeros([4]), seed: 1).shape, [4])
    }

    func testArangeEdgeCases() {
        XCTAssertEqual(Tensor.arange(2, 10, step: 3).scalars(as: Int.self), [2, 5, 8])
        XCTAssertEqual(Tensor.arange(5, 0, step: -2).scalars(as: Int.self), [5, 3, 1])
        XCTAssertEqual(Tensor.arange(3, 3).shape, [0])
        XCTAssertEqual(Tensor.arange(0, 5).dtype, .int64)
        XCTAssertEqual(Tensor.arange(0, 5, dtype: .float16).dtype, .float16)
        let big = Int(1 << 60)
        XCTAssertEqual(Tensor.arange(big, big + 3).scalars(as: Int.self), [big, big + 1, big + 2])  // exact
        XCTAssertEqual(Tensor.arange(0, 1, step: 0.25).scalars(as: Float.self), [0, 0.25, 0.5, 0.75])
        XCTAssertEqual(Tensor.arange(0, 1, step: 0.3).count, 4)
        assertValidationFails("arange: step must be nonzero") { try Tensor.validateArange(0, 1, 0) }
        assertValidationFails("arange: upper bound and larger bound inconsistent with step sign") { try Tensor.validateArange(0, 5, -1) }
    }

    func testLogspaceAndEye() {
        assertClose(Tensor.logspace(0, 2, count: 3, dtype: .float64), shape: [3], [1, 10, 100])
        assertClose(Tensor.logspace(0, 3, count: 4, base: 2, dtype: .float64), shape: [4], [1, 2, 4, 8])
        XCTAssertEqual(Tensor.logspace(0, 1, count: 0).shape, [0])
        XCTAssertEqual(Tensor.eye(2).scalars(as: Float.self), [1, 0, 0, 1])
        XCTAssertEqual(Tensor.eye(2, 3, dtype: .int64).scalars(as: Int.self), [1, 0, 0, 0, 1, 0])
        XCTAssertEqual(Tensor.eye(0).shape, [0, 0])
    }

    func testRandintAndBernoulliAreSeededAndInRange() {
        let r = Tensor.randint(-3, 4, [1000], seed: 7)
        let values = r.scalars(as: Int.self)
        XCTAssertEqual(r.dtype, .int64)
        XCTAssertTrue(values.allSatisfy { (-3..<4).contains($0) })
        XCTAssertEqual(Set(values).count, 7)
        XCTAssertEqual(values, Tensor.randint(-3, 4, [1000], seed: 7).scalars(as: Int.self))
        XCTAssertEqual(Tensor.randint(5, [2, 2], dtype: .int16, seed: 1).dtype, .int16)
        let p = Tensor([0.0, 1.0, 0.5, 0.5])
        let b = Tensor.bernoulli(p, seed: 3)
        XCTAssertEqual(b.dtype, .float32)
        XCTAssertEqual(Array(b.scalars(as: Float.self)[0..<2]), [0, 1])
        let many = Tensor.bernoulli([10_000], p: 0.3, seed: 4)
        XCTAssertEqual(many.mean().item(), 0.3, accuracy: 0.02)
        let g = Generator(seed: 9)
        let first = Tensor.randint(0, 100, [5], generator: g)
        g.manualSeed(9)
        XCTAssertEqual(first.scalars(as: Int.self), Tensor.randint(0, 100, [5], generator: g).scalars(as: Int.self))
        manualSeed(42)
        let a = Tensor.rand([3])
        manualSeed(42)
        XCTAssertEqual(a.scalars(as: Float.self), Tensor.rand([3]).scalars(as: Float.self))
        assertValidationFails("bernoulli: expected all probabilities to be in [0, 1] (got 1.5)") {
            try Tensor.validateBernoulli(Tensor([1.5]), [1.5])
        }
        assertValidationFails("bernoulli: expected a floating tensor of probabilities (got int64)") {
            try Tensor.validateBernoulli(Tensor([1]), [1])
        }
    }
}
