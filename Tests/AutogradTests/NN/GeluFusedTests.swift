import XCTest
@testable import Autograd

/// gelu's fused CPU forward and backward (`ckernels_*gelu`, `ckernels_*gelu_backward`) against
/// the composed ops they replace, bit for bit, both forms, float32 and float64: lengths around
/// the vector widths and the parallel threshold, zeros, NaN, infinities and the ranges of
/// both erf branches; the public op and backward take them, other layouts do not, and the
/// gradient still checks against finite differences where the fused backward runs.
final class GeluFusedTests: XCTestCase {
    func bits(_ t: Tensor) -> [UInt64] { t.to(.float64).scalars(as: Double.self).map(\.bitPattern) }

    /// The composed forms `gelu` and `GeluBackward0` take without the fused kernels.
    func composed(_ x: Tensor, _ approximate: GeluApproximation) -> Tensor {
        withNoGrad { Tensor.geluComposed(x, approximate: approximate) }
    }

    func composedBackward(_ x: Tensor, _ g: Tensor, _ approximate: GeluApproximation) -> Tensor {
        withNoGrad { Tensor.geluBackwardComposed(x, g, approximate: approximate) }
    }

    /// n values over [-12, 12] (every interval of the erf table, the region where erf rounds to
    /// ±1, and the tail where gelu underflows), with special values at the front when n allows.
    func inputs(_ n: Int, _ dtype: DType, seed: UInt64) -> Tensor {
        var v = (Tensor.rand([n], dtype: .float64, seed: seed) * 24 - 12).scalars(as: Double.self)
        let specials: [Double] = [0, -0.0, .nan, .infinity, -.infinity, 1e-30, -1e-30, 0.125 * 2.0.squareRoot(),
                                  3.9375 * 2.0.squareRoot(), -5.6, 0.5, -0.5]
        for (i, s) in specials.enumerated() where i < n { v[i] = s }
        return Tensor(shape: [n], scalars: v, dtype: dtype)
    }

    func testForwardMatchesComposedOpsBitForBit() {
        for dtype in [DType.float32, .float64] {
            for (k, n) in [32, 33, 47, 64, 100, 1000, 4099, 70_001].enumerated() {
                let x = inputs(n, dtype, seed: UInt64(k))
                for approximate in [GeluApproximation.none, .tanh] {
                    guard let fused = CKernelPaths.gelu(x, approximate: approximate) else {
                        XCTFail("fused path not taken: \(dtype) n=\(n)")
                        continue
                    }
                    XCTAssertEqual(bits(fused), bits(composed(x, approximate)), "\(dtype) n=\(n) \(approximate)")
                    XCTAssertEqual(bits(x.gelu(approximate: approximate)), bits(fused), "the op takes the path")
                }
            }
        }
    }

    func testBackwardMatchesComposedOpsBitForBit() throws {
        for dtype in [DType.float32, .float64] {
            for (k, n) in [32, 33, 47, 100, 1000, 70_001].enumerated() {
                let x = inputs(n, dtype, seed: UInt64(10 + k))
                var gv = Tensor.randn([n], dtype: .float64, seed: UInt64(20 + k)).scalars(as: Double.self)
                gv[n - 1] = .nan
                gv[n - 2] = 0
                let g = Tensor(shape: [n], scalars: gv, dtype: dtype)
                for approximate in [GeluApproximation.none, .tanh] {
                    guard let fused = CKernelPaths.geluBackward(x, g, approximate: approximate) else {
                        XCTFail("fused backward not taken: \(dtype) n=\(n)")
                        continue
                    }
                    XCTAssertEqual(bits(fused), bits(composedBackward(x, g, approximate)), "\(dtype) n=\(n) \(approximate)")
                    // backward() takes it
                    let leaf = x.detached().requiringGrad()
                    try leaf.gelu(approximate: approximate).backward(g)
                    XCTAssertEqual(bits(try XCTUnwrap(leaf.grad)), bits(fused), "\(dtype) n=\(n) \(approximate) backward")
                }
            }
        }
    }

    func testOtherLayoutsAndSizesUseTheComposedOps() throws {
        let x = inputs(96, .float32, seed: 3).reshaped([8, 12])
        let t = x.transposed(0, 1)
        XCTAssertNil(CKernelPaths.gelu(t, approximate: .none))
        XCTAssertNil(CKernelPaths.gelu(inputs(31, .float32, seed: 4), approximate: .none))
        XCTAssertNil(CKernelPaths.gelu(x.to(.float16), approximate: .none))
        XCTAssertNil(CKernelPaths.geluBackward(x, Tensor.ones([1, 12]), approximate: .none))      // broadcast g
        XCTAssertNil(CKernelPaths.geluBackward(t, t.contiguous(), approximate: .none))
        for approximate in [GeluApproximation.none, .tanh] {
            // a transposed view gives the values of its contiguous copy
            XCTAssertEqual(bits(t.gelu(approximate: approximate)), bits(t.contiguous().gelu(approximate: approximate)))
            // a broadcast gradient gives the composed backward's values
            let leaf = x.detached().requiringGrad()
            let row = Tensor.randn([12], seed: 9)
            try (leaf.gelu(approximate: approximate) * row).sum().backward()
            XCTAssertEqual(bits(try XCTUnwrap(leaf.grad)), bits(composedBackward(x, row.expanded(to: [8, 12]).contiguous(), approximate)))
        }
    }

    /// The same bits on every ISA level and thread count (erf's polynomials and the fused
    /// loops are the same operations everywhere).
    func testResultsDoNotDependOnISAOrThreads() {
        let x32 = inputs(70_001, .float32, seed: 5), x64 = inputs(4099, .float64, seed: 6)
        let g32 = Tensor.randn([70_001], seed: 7), g64 = Tensor.randn([4099], dtype: .float64, seed: 8)
        func run() -> [Tensor] {
            var out: [Tensor] = []
            for approximate in [GeluApproximation.none, .tanh] {
                for (x, g) in [(x32, g32), (x64, g64)] {
                    out += [CKernelPaths.gelu(x, approximate: approximate)!, CKernelPaths.geluBackward(x, g, approximate: approximate)!]
                }
            }
            return out + [x32.erf()]
        }
        let expected = onPortableBuildWithOneThread(run)
        forEachISAAndThreadCount([1, 2]) { label in
            for (a, e) in zip(run(), expected) { XCTAssertEqual(bits(a), bits(e), label) }
        }
    }

    func testGradientsCheckWhereTheFusedBackwardRuns() {
        // 40 elements: above the fused threshold, so the first-order gradients come from the C
        // kernels; the second-order ones from the composed backward (it records).
        for approximate in [GeluApproximation.none, .tanh] {
            let x = (Tensor.rand([40], dtype: .float64, seed: 12) * 8 - 4).requiringGrad()
            assertGradcheck([x]) { $0[0].gelu(approximate: approximate) }
            assertGradcheck([x]) { $0[0].gelu(approximate: approximate) * $0[0] }      // reuse of the input
            assertGradgradcheck([x]) { $0[0].gelu(approximate: approximate) }
        }
    }
}
