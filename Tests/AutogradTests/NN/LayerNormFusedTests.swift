import XCTest
@testable import Autograd

/// layerNorm's fused CPU forward (`ckernels_*layer_norm`) and batchNorm's evaluation-mode one
/// (`ckernels_*batch_norm_eval`) against the composed ops they replace, bit for bit: row lengths
/// around the sum's runs of 4 and 64, rows enough for both cores, with and without weight and
/// bias, constant rows (variance 0), NaN and infinities, float32 and float64; and the gradients
/// still check.
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

    func testBatchNormEvalMatchesComposedOpsBitForBit() {
        for dtype in [DType.float32, .float64] {
            for (k, shape) in [[2, 3], [4, 5, 7], [2, 3, 4, 5], [16, 8, 32, 33], [1, 2, 1, 1, 3]].enumerated() {
                let c = shape[1]
                var v = (Tensor.randn(shape, dtype: .float64, seed: UInt64(k)) * 2).scalars(as: Double.self)
                v[0] = .nan
                v[v.count - 1] = .infinity
                let x = Tensor(shape: shape, scalars: v, dtype: dtype)
                let mean = Tensor.randn([c], dtype: dtype, seed: UInt64(20 + k))
                var variance = Tensor.rand([c], dtype: dtype, seed: UInt64(30 + k)) + 0.5
                if c > 1 { variance = variance * Tensor(shape: [c], scalars: (0..<c).map { $0 == 1 ? 0.0 : 1.0 }, dtype: dtype) }  // a zero variance
                let w = Tensor.randn([c], dtype: dtype, seed: UInt64(40 + k)), b = Tensor.randn([c], dtype: dtype, seed: UInt64(50 + k))
                var broadcast = [Int](repeating: 1, count: shape.count)
                broadcast[1] = c
                for (wt, bt) in [(w, b), (nil, nil), (w, nil), (nil, b)] as [(Tensor?, Tensor?)] {
                    guard let fused = CKernelPaths.batchNormEval(x, mean: mean, variance: variance, weight: wt, bias: bt, eps: 1e-5) else {
                        XCTFail("fused path not taken for \(dtype) \(shape)")
                        continue
                    }
                    var expected = (x - mean.reshaped(broadcast)) / (variance.reshaped(broadcast) + 1e-5).sqrt()
                    if let wt { expected = expected * wt.reshaped(broadcast) }
                    if let bt { expected = expected + bt.reshaped(broadcast) }
                    XCTAssertEqual(bits(fused), bits(expected), "\(dtype) \(shape) weight \(wt != nil) bias \(bt != nil)")
                }
                let viaOp = batchNorm(x, runningMean: mean, runningVar: variance, weight: w, bias: b, training: false)
                XCTAssertEqual(bits(viaOp), bits(CKernelPaths.batchNormEval(x, mean: mean, variance: variance, weight: w, bias: b, eps: 1e-5)!))
            }
        }
        let x = Tensor.randn([2, 3, 4], seed: 5)
        XCTAssertNil(CKernelPaths.batchNormEval(x.transposed(1, 2), mean: Tensor.zeros([4]), variance: Tensor.ones([4]), weight: nil, bias: nil, eps: 1e-5))
    }

    /// Training mode: the output, and the running statistics it updates, against the composed
    /// ops bit for bit; one element per channel and image takes the composed ops.
    func testBatchNormTrainMatchesComposedOpsBitForBit() {
        for dtype in [DType.float32, .float64] {
            for (k, shape) in [[2, 3, 4, 5], [4, 5, 7], [16, 8, 32, 33], [1, 2, 3, 4, 5], [3, 4, 65], [2, 16, 130]].enumerated() {
                let c = shape[1]
                var v = (Tensor.randn(shape, dtype: .float64, seed: UInt64(k)) * 2 + 1).scalars(as: Double.self)
                if k == 0 { v[0] = .nan; v[v.count - 1] = .infinity }
                let x = Tensor(shape: shape, scalars: v, dtype: dtype)
                let w = Tensor.randn([c], dtype: dtype, seed: UInt64(40 + k)), b = Tensor.randn([c], dtype: dtype, seed: UInt64(50 + k))
                var broadcast = [Int](repeating: 1, count: shape.count)
                broadcast[1] = c
                let dims = [0] + Array(2..<shape.count)
                for (wt, bt) in [(w, b), (nil, nil), (w, nil), (nil, b)] as [(Tensor?, Tensor?)] {
                    guard let fused = CKernelPaths.batchNormTrain(x, weight: wt, bias: bt, eps: 1e-5) else {
                        XCTFail("fused path not taken for \(dtype) \(shape)")
                        continue
                    }
                    let (xhat, _, mean, centered) = withNoGrad { normalized(x, dims: dims, eps: 1e-5) }
                    var expected = xhat
                    if let wt { expected = expected * wt.reshaped(broadcast) }
                    if let bt { expected = expected + bt.reshaped(broadcast) }
                    let label = "\(dtype) \(shape) weight \(wt != nil) bias \(bt != nil)"
                    XCTAssertEqual(bits(fused.out), bits(expected), label)
                    XCTAssertEqual(bits(fused.mean), bits(mean.reshaped([c])), label)
                    XCTAssertEqual(bits(fused.squares), bits((centered * centered).sum(dims: dims)), label)
                }
                // the op takes it, and updates the running statistics as the composed ops do
                let runningMean = Tensor.zeros([c], dtype: dtype), runningVar = Tensor.ones([c], dtype: dtype)
                let y = batchNorm(x, runningMean: runningMean, runningVar: runningVar, weight: w, bias: b, training: true)
                XCTAssertEqual(bits(y), bits(CKernelPaths.batchNormTrain(x, weight: w, bias: b, eps: 1e-5)!.out))
                let (_, _, mean, centered) = withNoGrad { normalized(x, dims: dims, eps: 1e-5) }
                let count = Double(x.count / c)
                let expectedMean = Tensor.zeros([c], dtype: dtype) * 0.9 + mean.reshaped([c]) * 0.1
                let expectedVar = Tensor.ones([c], dtype: dtype) * 0.9 + (centered * centered).sum(dims: dims) / (count - 1) * 0.1
                XCTAssertEqual(bits(runningMean), bits(expectedMean), "\(dtype) \(shape) running mean")
                XCTAssertEqual(bits(runningVar), bits(expectedVar), "\(dtype) \(shape) running variance")
            }
        }
        XCTAssertNil(CKernelPaths.batchNormTrain(Tensor.randn([8, 3], seed: 1), weight: nil, bias: nil, eps: 1e-5))
        XCTAssertNil(CKernelPaths.batchNormTrain(Tensor.randn([8, 3, 1, 1], seed: 1), weight: nil, bias: nil, eps: 1e-5))
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
