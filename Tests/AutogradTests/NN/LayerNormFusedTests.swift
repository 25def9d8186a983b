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
            for (k, (rows, n)) in [(3, 1), (5, 3), (4, 16), (4, 17), (6, 64), (6, 65), (7, 130), (9, 1000), (3, 1025), (300, 301), (5, 224), (4, 1024)].enumerated() {
                var v = (Tensor.randn([rows, n], dtype: .float64, seed: UInt64(k)) * 3 + 1).scalars(as: Double.self)
                if rows >= 3 && n >= 3 {
                    for i in 0..<n { v[i] = 2.5 }          // a constant row: variance 0
                    v[n + 1] = .nan                       // a NaN row
                    v[2 * n + 2] = .infinity              // an infinite row
                }
                let x = Tensor(shape: [rows, n], scalars: v, dtype: dtype)
                let w = Tensor.randn([n], dtype: dtype, seed: UInt64(40 + k)), b = Tensor.randn([n], dtype: dtype, seed: UInt64(80 + k))
                for (wt, bt) in [(w, b), (nil, nil), (w, nil), (nil, b)] as [(Tensor?, Tensor?)] {
                    guard let fused = CKernelPaths.layerNorm(x, weight: wt, bias: bt, eps: 1e-5, statistics: wt != nil) else {
                        XCTFail("fused path not taken for \(dtype) [\(rows), \(n)]")
                        continue
                    }
                    XCTAssertEqual(bits(fused.y), bits(composed(x, wt, bt, eps: 1e-5)),
                                   "\(dtype) [\(rows), \(n)] weight \(wt != nil) bias \(bt != nil)")
                    XCTAssertEqual(fused.mean == nil, wt == nil)
                    if let mean = fused.mean, let rstd = fused.rstd {
                        // the statistics the composed ops compute on the way
                        let (_, rstdComposed, meanComposed, _) = withNoGrad { normalized(x, dims: [1], eps: 1e-5) }
                        XCTAssertEqual(bits(mean), bits(meanComposed.reshaped([rows])), "\(dtype) [\(rows), \(n)] mean")
                        XCTAssertEqual(bits(rstd), bits(rstdComposed.reshaped([rows])), "\(dtype) [\(rows), \(n)] rstd")
                    }
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

    /// The backward's input, weight and bias gradients against the composed backward bit for
    /// bit (row counts spanning one and many runs of 64, runs of every length), and backward()
    /// taking it, rank 2 and 3.
    func testBackwardMatchesComposedOpsBitForBit() throws {
        for dtype in [DType.float32, .float64] {
            for (k, (rows, n)) in [(3, 1), (5, 3), (4, 17), (6, 65), (9, 1000), (3, 1025), (300, 301), (2, 5000), (131, 7), (1000, 33)].enumerated() {
                var v = (Tensor.randn([rows, n], dtype: .float64, seed: UInt64(k)) * 3 + 1).scalars(as: Double.self)
                if rows >= 3 && n >= 3 {
                    for i in 0..<n { v[i] = 2.5 }          // a constant row
                    v[n + 1] = .nan                       // a NaN row
                }
                let x = Tensor(shape: [rows, n], scalars: v, dtype: dtype)
                let g = Tensor.randn([rows, n], dtype: dtype, seed: UInt64(60 + k))
                let w = Tensor.randn([n], dtype: dtype, seed: UInt64(40 + k))
                let (xhat, rstd, _, _) = withNoGrad { normalized(x, dims: [1], eps: 1e-5) }
                let stats = try XCTUnwrap(CKernelPaths.layerNorm(x, weight: nil, bias: nil, eps: 1e-5, statistics: true))
                for (weight, given) in [(w, false), (nil, false), (w, true)] as [(Tensor?, Bool)] {
                    // with the forward's statistics or computing them again: the same bits
                    guard let fused = CKernelPaths.layerNormBackward(x, g, weight: weight, eps: 1e-5, mean: given ? stats.mean : nil,
                                                                     rstd: given ? stats.rstd : nil, withSums: true) else {
                        XCTFail("fused backward not taken for \(dtype) [\(rows), \(n)]")
                        continue
                    }
                    let expected = withNoGrad {
                        normalizationInputGradient(g * (weight ?? Tensor.ones([], dtype: dtype)), xhat: xhat, rstd: rstd, dims: [1])
                    }
                    XCTAssertEqual(bits(fused.dx), bits(expected), "\(dtype) [\(rows), \(n)] weight \(weight != nil)")
                    XCTAssertEqual(bits(try XCTUnwrap(fused.dw)), bits(withNoGrad { (g * xhat).sum(dims: [0]) }), "\(dtype) [\(rows), \(n)]")
                    XCTAssertEqual(bits(try XCTUnwrap(fused.db)), bits(g.sum(dims: [0])), "\(dtype) [\(rows), \(n)]")
                }
                // backward() takes it: the three gradients as the composed backward gives them
                let (xl, wl, bl) = (x.detach(), w.detach(), Tensor.randn([n], dtype: dtype, seed: 7).detach())
                for p in [xl, wl, bl] { p.requiresGrad = true }
                try layerNorm(xl, normalizedShape: [n], weight: wl, bias: bl).backward(g)
                let gHat = withNoGrad { g * w }
                XCTAssertEqual(bits(try XCTUnwrap(xl.grad)), bits(withNoGrad { normalizationInputGradient(gHat, xhat: xhat, rstd: rstd, dims: [1]) }))
                XCTAssertEqual(bits(try XCTUnwrap(wl.grad)), bits(withNoGrad { (g * xhat).sum(dims: [0]) }))
                XCTAssertEqual(bits(try XCTUnwrap(bl.grad)), bits(withNoGrad { g.sum(dims: [0]) }))
            }
        }
        // rank 3 with weight and bias: the sums over both leading dims
        let x3 = Tensor.randn([3, 50, 70], seed: 8).detach(), w3 = Tensor.randn([70], seed: 9).detach(), b3 = Tensor.randn([70], seed: 10).detach()
        for p in [x3, w3, b3] { p.requiresGrad = true }
        let g3 = Tensor.randn([3, 50, 70], seed: 11)
        try layerNorm(x3, normalizedShape: [70], weight: w3, bias: b3).backward(g3)
        let (xhat3, rstd3, _, _) = withNoGrad { normalized(x3.detach(), dims: [2], eps: 1e-5) }
        XCTAssertEqual(bits(try XCTUnwrap(x3.grad)),
                       bits(withNoGrad { normalizationInputGradient(g3 * w3.detach(), xhat: xhat3, rstd: rstd3, dims: [2]) }))
        XCTAssertEqual(bits(try XCTUnwrap(w3.grad)), bits(withNoGrad { (g3 * xhat3).sum(dims: [0, 1]) }))
        XCTAssertEqual(bits(try XCTUnwrap(b3.grad)), bits(g3.sum(dims: [0, 1])))
        // a broadcast output gradient is made contiguous first; rank 3
        let x = Tensor.randn([2, 3, 40], seed: 3).detach()
        x.requiresGrad = true
        try (layerNorm(x, normalizedShape: [40]) * 2).sum().backward()
        let (xhat, rstd, _, _) = withNoGrad { normalized(x.detach(), dims: [2], eps: 1e-5) }
        let g = Tensor.full([2, 3, 40], value: 2.0)
        XCTAssertEqual(bits(try XCTUnwrap(x.grad)), bits(withNoGrad { normalizationInputGradient(g * Tensor.ones([]), xhat: xhat, rstd: rstd, dims: [2]) }))
    }

    func testLayerNormGradientsCheckWhereTheFusedBackwardRuns() {
        let x = (Tensor.rand([3, 70], dtype: .float64, seed: 4) * 4 - 2).requiringGrad()
        let w = Tensor.randn([70], dtype: .float64, seed: 5).requiringGrad(), b = Tensor.randn([70], dtype: .float64, seed: 6).requiringGrad()
        assertGradcheck([x, w, b]) { layerNorm($0[0], normalizedShape: [70], weight: $0[1], bias: $0[2]) }
        assertGradcheck([x]) { layerNorm($0[0], normalizedShape: [70]) * $0[0] }      // reuse of the input
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

    /// The per-ISA loops (AVX-512, AVX2, portable C) and any thread count give the same bits.
    func testResultsDoNotDependOnISAOrThreads() {
        let x = Tensor.randn([300, 301], seed: 1) * 2 + 1, g = Tensor.randn([300, 301], seed: 2)
        let w = Tensor.randn([301], seed: 3), b = Tensor.randn([301], seed: 4)
        let images = Tensor.randn([8, 16, 9, 11], dtype: .float64, seed: 5), scale = Tensor.randn([16], dtype: .float64, seed: 6)
        func run() -> [Tensor] {
            let back = CKernelPaths.layerNormBackward(x, g, weight: w, eps: 1e-5, withSums: true)!
            let train = CKernelPaths.batchNormTrain(images, weight: scale, bias: nil, eps: 1e-5)!
            let forward = CKernelPaths.layerNorm(x, weight: w, bias: b, eps: 1e-5, statistics: true)!
            return [forward.y, forward.mean!, forward.rstd!, back.dx, back.dw!, back.db!, train.out, train.mean, train.squares]
        }
        let expected = onPortableBuildWithOneThread(run)
        forEachISAAndThreadCount { label in
            for (k, (a, e)) in zip(run(), expected).enumerated() { XCTAssertEqual(bits(a), bits(e), "result \(k) on \(label)") }
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
