import XCTest
@testable import Autograd

/// layerNorm's fused CPU forward (`ckernels_*layer_norm`) against the composed ops it replaces
/// (`normalized` then `* weight + bias`), bit for bit: row lengths around the sum's runs of 4 and
/// 64, rows enough for both cores, with and without weight and bias, constant rows (variance 0),
/// NaN and infinities, float32 and float64; and the gradients still check.
final class LayerNormFusedTests: XCTestCase {
    func composed(_ x: Tensor, _ w: Tensor?, _ b: Tensor?, eps: Double) -> Tensor {
        withNoGrad {
            var y = normalized(x, dims: [x.rank - 1], eps: eps).xhat
            if let w { y = y * w }
            if let b { y = y + b }
            return y
        }
    }

    func bits(_ t: Tensor) -> [UInt64] { t.to(.float64).scalars(as: Double.self).map(\.bitPattern) }

    func testMatchesComposedOpsBitForBit() {
        for dtype in [DType.float32, .float64] {
            for (k, (rows, n)) in [(3, 1), (5, 3), (4, 16), (4, 17), (6, 64), (6, 65), (7, 130), (9, 1000), (3, 1025), (300, 301)].enumerated() {
                var v = (Tensor.randn([rows, n], dtype: .float64, seed: UInt64(k)) * 3 + 1).scalars(as: Double.self)
                if rows >= 3 && n >= 3 {
                    for i in 0..<n { v[i] = 2.5 }          // a constant row: variance 0
                    v[n + 1] = .nan                       // a NaN row
                    v[2 * n + 2] = .infinity              // an infinite row
                }
                let x = Tensor(shape: [rows, n], scalars: v, dtype: dtype)
                let w = Tensor.randn([n], dtype: dtype, seed: UInt64(40 + k)), b = Tensor.randn([n], dtype: dtype, seed: UInt64(80 + k))
                for (wt, bt) in [(w, b), (nil, nil), (w, nil), (nil, b)] as [(Tensor?, Tensor?)] {
                    guard let fused = CKernelPaths.layerNorm(x, weight: wt, bias: bt, eps: 1e-5) else {
                        XCTFail("fused path not taken for \(dtype) [\(rows), \(n)]")
                        continue
                    }
                    XCTAssertEqual(bits(fused), bits(composed(x, wt, bt, eps: 1e-5)),
                                   "\(dtype) [\(rows), \(n)] weight \(wt != nil) bias \(bt != nil)")
                }
                // The public op takes it, rank 3 too.
                let x3 = x.reshaped([1, rows, n])
                XCTAssertEqual(bits(layerNorm(x3, normalizedShape: [n], weight: w, bias: b)), bits(composed(x3, w, b, eps: 1e-5)))
            }
        }
    }

    func testOtherLayoutsUseTheComposedOps() {
        let x = Tensor.randn([8, 6], seed: 1)
        XCTAssertNil(CKernelPaths.layerNorm(x.transposed(0, 1), weight: nil, bias: nil, eps: 1e-5))
        XCTAssertNil(CKernelPaths.layerNorm(x, weight: Tensor.ones([6], dtype: .float64), bias: nil, eps: 1e-5))
        assertClose(layerNorm(x.transposed(0, 1), normalizedShape: [8]), composed(x.transposed(0, 1), nil, nil, eps: 1e-5), Tolerance.exact)
    }

    func testGradientsStillCheck() {
        let x = Tensor.randn([3, 5], dtype: .float64, seed: 2), w = Tensor.randn([5], dtype: .float64, seed: 3)
        let b = Tensor.randn([5], dtype: .float64, seed: 4)
        assertGradcheck([x, w, b]) { layerNorm($0[0], normalizedShape: [5], weight: $0[1], bias: $0[2]) }
    }
}
