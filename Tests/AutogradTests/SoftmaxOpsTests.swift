import XCTest
@testable import Autograd

/// The fused CKernels softmax paths (`CKernelPaths.softmax` / `softmaxBackward`) against the
/// op-by-op formulas, which stay the reference: odd slice lengths and SIMD tails, several
/// 1024-element sum blocks, non-last dims (column groups and their tails), -inf/NaN/+inf in a
/// slice, large magnitudes, float64, strided inputs (which fall back), reproducibility across
/// instruction sets and thread counts, and gradient checks.
final class SoftmaxOpsTests: XCTestCase {
    static let lengths = [1, 7, 15, 16, 17, 31, 33, 100, 1000, 1023, 1024, 1025, 2049]

    func reference(_ x: Tensor, dim: Int, log: Bool) -> Tensor {
        withNoGrad {
            let shifted = x - x.max(dim: dim, keepDim: true).values
            let e = shifted.exp()
            return log ? shifted - e.sum(dim: dim, keepDim: true).log() : e / e.sum(dim: dim, keepDim: true)
        }
    }

    func referenceBackward(_ y: Tensor, _ g: Tensor, dim: Int, log: Bool) -> Tensor {
        withNoGrad {
            log ? g - y.exp() * g.sum(dim: dim, keepDim: true) : y * (g - (g * y).sum(dim: dim, keepDim: true))
        }
    }

    /// The fast path for `x` along `dim`, both directions, against the reference formulas.
    func checkFused(_ x: Tensor, dim: Int, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        for log in [false, true] {
            guard let fast = CKernelPaths.softmax(x, dim: dim, log: log) else {
                XCTFail("fused softmax not taken for \(label)", file: file, line: line)
                return
            }
            let expected = reference(x, dim: dim, log: log)
            let terms = x.rank == 0 ? 1 : x.shape[dim]
            let tolerance = x.dtype == .float64 ? Tolerance.float64 : Tolerance.float32
            assertClose(fast, expected, tolerance, "\(log ? "logSoftmax" : "softmax") \(label)", file: file, line: line)
            // The public op takes the same path.
            assertClose(log ? x.logSoftmax(dim: dim) : x.softmax(dim: dim), fast, Tolerance.exact, label, file: file, line: line)

            let g = Tensor.randn(x.shape, dtype: x.dtype, seed: 99)
            guard let gradient = CKernelPaths.softmaxBackward(fast, g, dim: dim, log: log) else {
                XCTFail("fused backward not taken for \(label)", file: file, line: line)
                return
            }
            assertClose(gradient, referenceBackward(fast, g, dim: dim, log: log), Tolerance.reduction(x.dtype, terms: terms),
                        "\(log ? "logSoftmax" : "softmax") backward \(label)", file: file, line: line)
        }
    }

    func testLastDimMatchesOpByOpPath() {
        for dtype in [DType.float32, .float64] {
            for (k, n) in Self.lengths.enumerated() {
                checkFused(Tensor.randn([3, n], dtype: dtype, seed: UInt64(k)) * 4, dim: 1, "\(dtype) [3, \(n)]")
            }
            checkFused(Tensor.randn([64, 1000], dtype: dtype, seed: 1), dim: 1, "\(dtype) [64, 1000] (rows split over threads)")
            checkFused(Tensor.randn([2, 3, 37], dtype: dtype, seed: 2), dim: -1 + 3, "\(dtype) rank 3")
            checkFused(Tensor.randn([19], dtype: dtype, seed: 3), dim: 0, "\(dtype) rank 1")
        }
    }

    func testOtherDimsMatchOpByOpPath() {
        for dtype in [DType.float32, .float64] {
            // Column groups of 4 vectors and their tails; several sum runs of 64 for n = 1025.
            for (n, inner) in [1, 7, 100].flatMap({ n in [2, 5, 16, 17, 64, 70, 130].map { (n, $0) } }) + [(1025, 17), (1025, 70)] {
                checkFused(Tensor.randn([n, inner], dtype: dtype, seed: UInt64(n * 1000 + inner)) * 4, dim: 0, "\(dtype) [\(n), \(inner)] dim 0")
            }
            checkFused(Tensor.randn([3, 33, 17], dtype: dtype, seed: 4), dim: 1, "\(dtype) [3, 33, 17] dim 1")
            checkFused(Tensor.randn([2, 5, 3, 7], dtype: dtype, seed: 5), dim: 1, "\(dtype) [2, 5, 3, 7] dim 1")
            checkFused(Tensor.randn([1000, 70], dtype: dtype, seed: 6), dim: 0, "\(dtype) [1000, 70] dim 0 (split over threads)")
        }
    }

    func testSpecialValuesMatchOpByOpPath() {
        let inf = Double.infinity
        for dtype in [DType.float32, .float64] {
            for n in [7, 40, 1030] {
                var rows: [[Double]] = []
                let base = (0..<n).map { Double($0 % 13) - 6 }
                var withMinusInf = base; withMinusInf[1] = -inf; withMinusInf[n - 1] = -inf
                let allMinusInf = [Double](repeating: -inf, count: n)
                var withPlusInf = base; withPlusInf[n / 2] = inf
                var withNaN = base; withNaN[n - 1] = .nan
                var large = base.map { $0 * 1e4 }; large[0] = 3e4
                let huge = base.map { $0 * (dtype == .float64 ? 1e300 : 1e37) }
                rows = [base, withMinusInf, allMinusInf, withPlusInf, withNaN, large, huge]
                let x = Tensor(shape: [rows.count, n], scalars: rows.flatMap { $0 }, dtype: dtype)
                checkFused(x, dim: 1, "\(dtype) special rows n=\(n)")
                checkFused(x.transposed(0, 1).contiguous(), dim: 0, "\(dtype) special columns n=\(n)")
                // Every slice with NaN, +inf or only -inf is NaN; the others sum to 1.
                let s = x.softmax(dim: 1).to(.float64).scalars(as: Double.self)
                for r in 0..<rows.count {
                    let row = s[(r * n)..<((r + 1) * n)]
                    if [2, 3, 4].contains(r) {
                        XCTAssertTrue(row.allSatisfy(\.isNaN), "row \(r) n=\(n)")
                    } else {
                        XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-5, "row \(r) n=\(n)")
                    }
                }
            }
        }
    }

    /// Row r of a [n, n] tensor holds 1000 at position r and 0 elsewhere, so every position of
    /// a slice, SIMD tails included, is once the maximum. Found, it gives exactly one-hot
    /// (exp(0) = 1, exp(-1000) = 0 in both dtypes) and logSoftmax exactly 0 and -1000; a
    /// maximum the kernel missed gives exp(1000) = inf and NaN. Softmax does not change when the
    /// shift is another element, so the comparisons with the op-by-op path cannot see this.
    func testEveryPositionIsFoundAsTheMaximum() {
        for dtype in [DType.float32, .float64] {
            for n in [1, 5, 15, 16, 17, 40, 63, 64, 65, 100, 130, 1030] {
                let eye = Tensor.eye(n, dtype: dtype)
                let x = eye * 1000
                assertSameScalars(x.softmax(dim: 1), eye, "\(dtype) softmax n=\(n)")
                assertSameScalars(x.logSoftmax(dim: 1), x - 1000, "\(dtype) logSoftmax n=\(n)")
                // The column kernel: softmax along dim 0 of the (symmetric) matrix.
                assertSameScalars(x.softmax(dim: 0), eye, "\(dtype) softmax dim 0 n=\(n)")
            }
        }
    }

    /// Exact equality, reporting the first differing element instead of both arrays.
    func assertSameScalars(_ a: Tensor, _ b: Tensor, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        let u = a.scalars(as: Double.self), v = b.scalars(as: Double.self)
        XCTAssertEqual(u.count, v.count, label, file: file, line: line)
        guard let i = u.indices.first(where: { u[$0] != v[$0] }) else { return }
        XCTFail("\(label): element \(i) is \(u[i]), expected \(v[i])", file: file, line: line)
    }

    func testStridedAndBroadcastInputs() {
        // A transposed input is not contiguous: the op falls back to the op-by-op path.
        let x = Tensor.randn([17, 9], seed: 7).transposed(0, 1)
        XCTAssertNil(CKernelPaths.softmax(x, dim: 1, log: false))
        assertClose(x.softmax(dim: 1), reference(x, dim: 1, log: false), Tolerance.float32)
        assertClose(x.logSoftmax(dim: 0), reference(x, dim: 0, log: true), Tolerance.float32)
        // An expanded output gradient is copied, then fused.
        let y = Tensor.randn([6, 33], seed: 8).softmax(dim: 1)
        let g = Tensor.randn([1, 33], seed: 9).expanded(to: [6, 33])
        for log in [false, true] {
            let fast = CKernelPaths.softmaxBackward(y, g, dim: 1, log: log)
            XCTAssertNotNil(fast)
            if let fast { assertClose(fast, referenceBackward(y, g, dim: 1, log: log), Tolerance.reduction(.float32, terms: 33)) }
        }
        // Mismatched dtypes are not covered.
        XCTAssertNil(CKernelPaths.softmaxBackward(y, g.to(.float64), dim: 1, log: false))
    }

    func testResultsDoNotDependOnISAOrThreads() {
        // Both above the parallel threshold (32K elements), rows and column groups.
        let rows = Tensor.randn([40, 1000], seed: 10) * 3, columns = Tensor.randn([500, 70], seed: 11) * 3
        let g1 = Tensor.randn([40, 1000], seed: 12), g0 = Tensor.randn([500, 70], seed: 13)
        func run() -> [Tensor] {
            var out: [Tensor] = []
            for log in [false, true] {
                for (x, g, dim) in [(rows, g1, 1), (columns, g0, 0), (rows.to(.float64), g1.to(.float64), 1)] {
                    let y = CKernelPaths.softmax(x, dim: dim, log: log)!
                    out += [y, CKernelPaths.softmaxBackward(y, g, dim: dim, log: log)!]
                }
            }
            return out
        }
        let expected = onPortableBuildWithOneThread(run)
        forEachISAAndThreadCount { label in
            for (a, e) in zip(run(), expected) { assertClose(a, e, Tolerance.exact, label) }
        }
    }

    func testGradientsCheckInFloat64() {
        let x = randomLeaf([3, 17], seed: 14)
        let w = Tensor.randn([3, 17], dtype: .float64, seed: 15)
        for dim in [0, 1] {
            assertGradcheck([x]) { ($0[0].softmax(dim: dim) * w).sum() }
            assertGradcheck([x]) { ($0[0].logSoftmax(dim: dim) * w).sum() }
            // createGraph: the backward formula runs as differentiable ops.
            assertGradgradcheck([x]) { ($0[0].softmax(dim: dim) * w).sum() }
            assertGradgradcheck([x]) { ($0[0].logSoftmax(dim: dim) * w).sum() }
        }
        // A tensor used twice, and a non-contiguous input.
        let t = randomLeaf([5, 4], seed: 16)
        assertGradcheck([t]) { ($0[0].softmax(dim: 1) * $0[0]).sum() }
        let v = Tensor.randn([4, 5], dtype: .float64, seed: 19)
        assertGradcheck([t]) { ($0[0].transposed(0, 1).logSoftmax(dim: 1) * v).sum() }
    }

    func testBackwardTakesFusedPathOnlyWithoutCreateGraph() throws {
        let x = Tensor.randn([4, 9], seed: 17)
        x.requiresGrad = true
        let y = x.softmax(dim: 1)
        XCTAssertTrue(withNoGrad { SoftmaxBackward0.fusedBackwardApplies(y, y) })
        XCTAssertFalse(SoftmaxBackward0.fusedBackwardApplies(y, y))   // grad mode on, y recorded
        let w = Tensor.randn([4, 9], seed: 18)
        try (y * w).sum().backward()
        let expected = referenceBackward(y.detached(), w, dim: 1, log: false)
        assertClose(x.grad!, expected, Tolerance.reduction(.float32, terms: 9))
    }
}
