import XCTest
@testable import Autograd

/// sort, argsort and topk (Ops/SortOps).
final class SortOpsTests: XCTestCase {
    /// Against a stable sort of each row written out here: every dim of a rank-3 tensor, both
    /// directions, ties, NaNs, integers, half types, and rows on all threads.
    func testSortMatchesAStableSortOfEachRow() {
        var v = Tensor.randn([6, 7, 300], seed: 3).scalars(as: Float.self).map { ($0 * 4).rounded() / 4 }   // many ties
        v[10] = .nan
        v[400] = .nan
        let x = Tensor(shape: [6, 7, 300], scalars: v)
        for dim in 0..<3 {
            for descending in [false, true] {
                let (values, indices) = x.sort(dim: dim, descending: descending)
                XCTAssertEqual(indices.dtype, .int64)
                let xt = x.transposed(dim, 2).contiguous(), it = indices.transposed(dim, 2).contiguous(), vt = values.transposed(dim, 2).contiguous()
                let n = x.shape[dim], data = xt.scalars(as: Float.self), got = it.scalars(as: Int.self), gotValues = vt.scalars(as: Float.self)
                for row in 0..<(x.count / n) {
                    let keys = Array(data[(row * n)..<((row + 1) * n)])
                    let want = keys.indices.sorted { a, b in
                        let p = keys[a], q = keys[b]
                        if p.isNaN || q.isNaN { return p.isNaN != q.isNaN ? (descending ? p.isNaN : q.isNaN) : a < b }
                        return p == q ? a < b : (descending ? p > q : p < q)
                    }
                    XCTAssertEqual(Array(got[(row * n)..<((row + 1) * n)]), want, "dim \(dim) descending \(descending) row \(row)")
                    XCTAssertEqual(Array(gotValues[(row * n)..<((row + 1) * n)]).map(\.bitPattern), want.map { keys[$0].bitPattern })
                }
                XCTAssertEqual(x.argsort(dim: dim, descending: descending).scalars(as: Int.self), indices.scalars(as: Int.self))
            }
        }
        let ints = Tensor([[3, -1, 3, 9_007_199_254_740_993, 9_007_199_254_740_992]])   // beyond 2^53: exact order
        XCTAssertEqual(ints.sort().indices.scalars(as: Int.self), [1, 0, 2, 4, 3])
        XCTAssertEqual(ints.sort().values.dtype, .int64)
        let h = Tensor([0.5, -2, 0.25]).to(.float16)
        XCTAssertEqual(h.sort(descending: true).values.to(.float32).scalars(as: Float.self), [0.5, 0.25, -2])
        XCTAssertEqual(Tensor(3.0).sort().values.shape, [])
        XCTAssertEqual(Tensor(3.0).sort().indices.item(as: Int.self), 0)
        XCTAssertEqual(Tensor.zeros([4, 0]).sort(dim: 1).values.shape, [4, 0])
    }

    /// topk (an insertion buffer for k <= 32, the full sort above) is the prefix of the sort:
    /// ties (rounded values), a NaN, signed zeros.
    func testTopkIsThePrefixOfTheSortAndValidatesK() {
        var v = (Tensor.randn([50, 40], seed: 4) * 2).round().scalars(as: Float.self)
        v[3] = .nan
        v[5] = -0.0
        let x = Tensor(shape: [50, 40], scalars: v)
        for largest in [true, false] {
            for k in [0, 1, 7, 40] {
                let (v, i) = x.topk(k, dim: 1, largest: largest)
                let (sv, si) = x.sort(dim: 1, descending: largest)
                XCTAssertEqual(v.scalars(as: Float.self).map(\.bitPattern), sv.narrow(dim: 1, start: 0, length: k).contiguous().scalars(as: Float.self).map(\.bitPattern))
                XCTAssertEqual(i.scalars(as: Int.self), si.narrow(dim: 1, start: 0, length: k).contiguous().scalars(as: Int.self))
            }
        }
        XCTAssertEqual(x.topk(3, dim: 0).values.shape, [3, 40])
        XCTAssertEqual(Tensor(2.0).topk(1).values.item(), 2)
        assertValidationFails("topk: selected index k (41) out of range for dimension 1 with size 40") { _ = try x.validateTopk(41, dim: 1) }
        assertValidationFails("topk: selected index k (-1) out of range") { _ = try x.validateTopk(-1, dim: 0) }
    }

    func testGradientsFlowToTheSortedPositions() throws {
        let x = randomLeaf([3, 5], seed: 7)
        assertGradcheck([x]) { $0[0].sort(dim: 1).values }
        assertGradcheck([x]) { $0[0].sort(dim: 0, descending: true).values * $0[0] }
        assertGradcheck([x]) { $0[0].topk(2, dim: 1).values }
        assertGradgradcheck([x]) { $0[0].topk(3, dim: 0, largest: false).values.pow(2) }
        let y = Tensor([3.0, 1.0, 2.0], requiresGrad: true)
        try (y.topk(2).values * Tensor([10.0, 1.0])).sum().backward()
        XCTAssertEqual(y.grad!.scalars(as: Float.self), [10, 0, 1])
        XCTAssertEqual(y.sort().values.gradFn?.name, "SortBackward0")
        XCTAssertEqual(y.topk(1).values.gradFn?.name, "TopkBackward0")
    }
}
