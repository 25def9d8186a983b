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

    /// The radix passes over 64-bit keys (float64, int64) and float32's four bytes: rows whose
    /// keys differ in every byte (wide ranges, both signs, ±0, ±inf, NaN, duplicates) against
    /// a stable sort written out here, both directions; topk beyond the insertion buffer (k > 32)
    /// as the sort's prefix.
    func testSortOfWideRangeKeysInEveryDtype() {
        var g = TestRNG(seed: 9)
        let n = 700
        var doubles = (0..<(3 * n)).map { _ in Double.random(in: -1...1, using: &g) * Double(sign: .plus, exponent: Int.random(in: -1000...1000, using: &g), significand: 1) }
        for (k, special) in [0.0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude * 3, -.leastNormalMagnitude / 5, 0.0, -0.0, .nan].enumerated() { doubles[k * 97] = special }
        for k in 0..<20 { doubles[1500 + k] = doubles[k * 13] }   // duplicates
        let ints = doubles.map { $0.isFinite ? Int64(clamping: Int64(exactly: $0.rounded()) ?? Int64(Double.random(in: -1...1, using: &g) * 9e18)) : 7 }
        let xd = Tensor(shape: [3, n], scalars: doubles), xi = Tensor(shape: [3, n], scalars: ints), xf = xd.to(.float32)
        func reference<T>(_ keys: [T], descending: Bool, isNaN: (T) -> Bool, less: (T, T) -> Bool) -> [Int] {
            keys.indices.sorted { a, b in
                let p = keys[a], q = keys[b]
                if isNaN(p) || isNaN(q) { return isNaN(p) != isNaN(q) ? (descending ? isNaN(p) : isNaN(q)) : a < b }
                if !less(p, q) && !less(q, p) { return a < b }
                return descending ? less(q, p) : less(p, q)
            }
        }
        for descending in [false, true] {
            let di = xd.argsort(dim: 1, descending: descending).scalars(as: Int.self)
            let ii = xi.argsort(dim: 1, descending: descending).scalars(as: Int.self)
            let fi = xf.argsort(dim: 1, descending: descending).scalars(as: Int.self)
            let fv = xf.scalars(as: Float.self)
            for row in 0..<3 {
                let r = (row * n)..<((row + 1) * n)
                XCTAssertEqual(Array(di[r]), reference(Array(doubles[r]), descending: descending, isNaN: { $0.isNaN }, less: <), "float64 row \(row)")
                XCTAssertEqual(Array(ii[r]), reference(Array(ints[r]), descending: descending, isNaN: { _ in false }, less: <), "int64 row \(row)")
                XCTAssertEqual(Array(fi[r]), reference(Array(fv[r]), descending: descending, isNaN: { $0.isNaN }, less: <), "float32 row \(row)")
            }
            for x in [xd, xi, xf] {
                for k in [50, 300] {   // the selection, then an insertion sort (<= 128) or a radix sort
                    let (v, i) = x.topk(k, dim: 1, largest: descending)
                    let (sv, si) = x.sort(dim: 1, descending: descending)
                    XCTAssertEqual(i.scalars(as: Int.self), si.narrow(dim: 1, start: 0, length: k).contiguous().scalars(as: Int.self))
                    XCTAssertEqual(v.to(.float64).scalars(as: Double.self).map(\.bitPattern),
                                   sv.narrow(dim: 1, start: 0, length: k).to(.float64).contiguous().scalars(as: Double.self).map(\.bitPattern))
                }
            }
        }
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
        // beyond the insertion buffer: selection of the k-th key, then a sort of the k (many ties)
        let wide = (Tensor.randn([20, 200], seed: 5) * 2).round()
        for largest in [true, false] {
            for k in [33, 90, 99, 150, 200] {
                let (v, i) = wide.topk(k, dim: 1, largest: largest)
                let (sv, si) = wide.sort(dim: 1, descending: largest)
                XCTAssertEqual(i.scalars(as: Int.self), si.narrow(dim: 1, start: 0, length: k).contiguous().scalars(as: Int.self), "k \(k)")
                XCTAssertEqual(v.scalars(as: Float.self), sv.narrow(dim: 1, start: 0, length: k).contiguous().scalars(as: Float.self))
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
