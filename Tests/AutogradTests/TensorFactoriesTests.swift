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

    /// The raw stream is xoshiro256** seeded by splitmix64 (known answers from
    /// Scripts/xoshiro_reference.py, written from the two reference programs).
    func testGeneratorStreamIsXoshiro256StarStar() {
        XCTAssertEqual(Generator(seed: 0).next(4), [0x99ec_5f36_cb75_f2b4, 0xbf6e_1f78_4956_452a, 0x1a5f_849d_4933_e6e0, 0x6aa5_94f1_262d_2d2c])
        XCTAssertEqual(Generator(seed: 11).next(4), [0x3928_7fc2_6939_a7df, 0x1654_fe5f_5c55_a081, 0x3ec9_6828_4636_14ad, 0x719b_3cae_ce49_4e38])
        let g = Generator(seed: 11)
        XCTAssertEqual(g.next(1) + g.next(3), Generator(seed: 11).next(4), "draws continue the stream")
    }

    /// uniform and normal are the plain formulas on the raw stream, whatever the count (normal
    /// transforms its pairs on several threads from 4096 values): 53-bit uniforms, and
    /// Box–Muller on consecutive pairs, the last sine dropped for an odd count.
    func testUniformAndNormalAreTheirFormulasOnTheStream() {
        for count in [0, 1, 2, 7, 4095, 4096, 4097, 10_001] {
            let u = Generator(seed: 5).next(count + count % 2).map { Double($0 >> 11) * 0x1.0p-53 }
            XCTAssertEqual(Generator(seed: 5).uniform(count).map(\.bitPattern), u.prefix(count).map(\.bitPattern), "uniform(\(count))")
            var expected: [Double] = []
            for i in stride(from: 0, to: count, by: 2) {
                let r = (-2 * log(1 - u[i])).squareRoot()
                expected.append(r * cos(2 * .pi * u[i + 1]))
                if i + 1 < count { expected.append(r * sin(2 * .pi * u[i + 1])) }
            }
            XCTAssertEqual(Generator(seed: 5).normal(count).map(\.bitPattern), expected.map(\.bitPattern), "normal(\(count))")
        }
    }

    /// rand and randn hold the generator's uniform and normal samples, rounded to the dtype, for
    /// any shape (0-d, empty, odd counts with normal's spare sample, the parallel sizes).
    func testRandAndRandnHoldTheGeneratorsSamples() {
        for shape in [[], [0, 3], [7], [3, 5], [4096], [2049, 3]] as [[Int]] {
            let n = shape.reduce(1, *)
            for dtype in [DType.float32, .float64] {
                func rounded(_ v: [Double]) -> [UInt64] { v.map { dtype == .float64 ? $0.bitPattern : Double(Float($0)).bitPattern } }
                let normal = Tensor.randn(shape, dtype: dtype, seed: 21)
                XCTAssertEqual(normal.shape, shape)
                XCTAssertEqual(normal.to(.float64).scalars(as: Double.self).map(\.bitPattern), rounded(Generator(seed: 21).normal(n)), "randn \(shape) \(dtype)")
                let uniform = Tensor.rand(shape, dtype: dtype, seed: 22)
                XCTAssertEqual(uniform.shape, shape)
                XCTAssertEqual(uniform.to(.float64).scalars(as: Double.self).map(\.bitPattern), rounded(Generator(seed: 22).uniform(n)), "rand \(shape) \(dtype)")
            }
        }
    }
}
