import XCTest
@testable import Autograd

/// gather, scatter, scatterAdd, indexSelect, indexAdd, indexPut, maskedFill, maskedSelect.
final class IndexingOpsTests: XCTestCase {
    func testValuesByHand() {
        let m = Tensor([[1, 2], [3, 4]])
        XCTAssertEqual(m.gather(dim: 1, index: Tensor([[0, 0], [1, 0]])).scalars(as: Int.self), [1, 1, 4, 3])
        XCTAssertEqual(m.gather(dim: 0, index: Tensor([[1, 0]])).scalars(as: Int.self), [3, 2])
        XCTAssertEqual(Tensor.zeros([2, 3], dtype: .int64).scatter(dim: 1, index: Tensor([[2], [0]]), source: Tensor([[7], [8]])).scalars(as: Int.self),
                       [0, 0, 7, 8, 0, 0])
        XCTAssertEqual(Tensor.zeros([3], dtype: .int64).scatterAdd(dim: 0, index: Tensor([0, 0, 2]), source: Tensor([1, 2, 3])).scalars(as: Int.self),
                       [3, 0, 3])
        XCTAssertEqual(Tensor.zeros([2, 2]).scatter(dim: 0, index: Tensor([[1, 0]]), value: 5).scalars(as: Float.self), [0, 5, 5, 0])
        XCTAssertEqual(Tensor.arange(6).reshaped([3, 2]).indexSelect(dim: 0, index: Tensor([2, 0])).scalars(as: Int.self), [4, 5, 0, 1])
        XCTAssertEqual(Tensor.arange(6).reshaped([3, 2]).indexSelect(dim: 1, index: Tensor([-1])).scalars(as: Int.self), [1, 3, 5])
        XCTAssertEqual(Tensor.zeros([3]).indexAdd(dim: 0, index: Tensor([0, 0, 2]), source: Tensor([1.0, 2.0, 3.0]), alpha: 2).scalars(as: Float.self),
                       [6, 0, 6])
        XCTAssertEqual(Tensor.zeros([3]).indexPut([Tensor([0, 0, 2])], values: Tensor([1.0, 2.0, 3.0]), accumulate: true).scalars(as: Float.self),
                       [3, 0, 3])
        XCTAssertEqual(Tensor([1.0, 2.0, 3.0]).maskedFill(Tensor([true, false, true]), value: -1).scalars(as: Float.self), [-1, 2, -1])
        XCTAssertEqual(Tensor([[1, 2], [3, 4]]).maskedFill(Tensor([false, true]), value: 9).scalars(as: Int.self), [1, 9, 3, 9])
        XCTAssertEqual(Tensor([[1, 2], [3, 4]]).maskedSelect(Tensor([false, true])).scalars(as: Int.self), [2, 4])
        XCTAssertEqual(Tensor([0, 3, 0, 5]).nonzero().scalars(as: Int.self), [1, 3])
        // Half types move through the kernels unchanged; scatterAdd accumulates in float32.
        let h = Tensor([1.5, 2.5, 3.5], dtype: .float16)
        XCTAssertEqual(h.gather(dim: 0, index: Tensor([2, 0])).scalars(as: Double.self), [3.5, 1.5])
        XCTAssertEqual(Tensor.zeros([1], dtype: .bfloat16).scatterAdd(dim: 0, index: Tensor([0, 0]), source: Tensor([1.0, 2.0], dtype: .bfloat16)).item(), 3)
        // Empty index tensors.
        XCTAssertEqual(m.gather(dim: 0, index: Tensor.zeros([0, 2], dtype: .int64)).shape, [0, 2])
        XCTAssertEqual(m.indexSelect(dim: 1, index: Tensor.zeros([0], dtype: .int64)).shape, [2, 0])
    }

    /// gather along the last dim with contiguous index and output takes a row-by-row path (on
    /// all threads when large): the same values as an element-by-element reading of the
    /// definition, for x larger than index outside dim, transposed and offset views of x,
    /// ranks 1 to 3, and a non-contiguous index (the general loop).
    func testGatherAlongTheLastDimMatchesTheDefinition() {
        func reference(_ x: Tensor, _ index: Tensor) -> [Double] {
            let values = x.contiguous().to(.float64).scalars(as: Double.self), idx = index.scalars(as: Int.self)
            var rowStride = [Int](repeating: 1, count: x.rank)   // x's row-major strides
            for d in stride(from: x.rank - 2, through: 0, by: -1) { rowStride[d] = rowStride[d + 1] * x.shape[d + 1] }
            var out: [Double] = []
            for k in 0..<index.count {
                var rest = k, offset = 0
                for d in stride(from: index.rank - 1, through: 0, by: -1) {
                    offset += (d == index.rank - 1 ? idx[k] : rest % index.shape[d]) * rowStride[d]
                    rest /= index.shape[d]
                }
                out.append(values[offset])
            }
            return out
        }
        func indices(_ shape: [Int], below bound: Int, seed: UInt64) -> Tensor { Tensor.randint(0, bound, shape, seed: seed) }
        let big = Tensor.randn([3000, 50], seed: 1)
        let cases: [(Tensor, Tensor)] = [
            (Tensor.randn([5, 7], seed: 2), indices([3, 4], below: 7, seed: 3)),            // x larger outside dim
            (Tensor.randn([7, 5], seed: 4).transposed(0, 1), indices([5, 6], below: 7, seed: 5)),
            (Tensor.randn([6, 9], seed: 6)[1..., 2...], indices([5, 7], below: 7, seed: 7)),
            (Tensor.randn([9], seed: 8), indices([4], below: 9, seed: 9)),
            (Tensor.randn([2, 3, 8], seed: 10), indices([2, 3, 5], below: 8, seed: 11)),
            (big, indices([3000, 80], below: 50, seed: 12)),                                    // parallel rows
            (big, indices([80, 3000], below: 50, seed: 13).transposed(0, 1)),                   // general loop
        ]
        for (k, (x, index)) in cases.enumerated() {
            XCTAssertEqual(x.gather(dim: x.rank - 1, index: index).to(.float64).scalars(as: Double.self), reference(x, index), "case \(k)")
        }
    }

    /// nonzero, x[mask] and maskedSelect against their definitions (row-major walk of the mask):
    /// ranks 1-4, bool and uint8 masks, transposed and offset masks, empty and all-true masks,
    /// a zero-size dim, and sizes above the threaded ones; the gradient of a large selection
    /// lands on the selected positions.
    func testMaskSelectionMatchesTheDefinition() throws {
        let shapes: [[Int]] = [[1], [7], [0], [5, 0], [3, 4], [1, 257], [2, 3, 5], [2, 1, 3, 4], [300, 300]]
        for (k, shape) in shapes.enumerated() {
            for density in [0.0, 0.3, 1.0] {
                let x = Tensor.randn(shape, seed: UInt64(k))
                let mask = Tensor.rand(shape, seed: UInt64(100 + k)) .< density
                let flags = mask.scalars(as: Bool.self), values = x.scalars(as: Float.self)
                let strides = Shape.contiguousStrides(shape)
                var coordinates: [Int] = [], selected: [Float] = []
                for (flat, flag) in flags.enumerated() where flag {
                    selected.append(values[flat])
                    coordinates += shape.indices.map { flat / strides[$0] % shape[$0] }
                }
                let count = selected.count
                XCTAssertEqual(mask.nonzero().shape, [count, shape.count], "\(shape) \(density)")
                XCTAssertEqual(mask.nonzero().scalars(as: Int.self), coordinates, "\(shape) \(density)")
                XCTAssertEqual(mask.to(.uint8).nonzero().scalars(as: Int.self), coordinates, "uint8 \(shape)")
                XCTAssertEqual(x[mask].scalars(as: Float.self), selected, "x[mask] \(shape) \(density)")
                XCTAssertEqual(x.maskedSelect(mask).scalars(as: Float.self), selected, "maskedSelect \(shape) \(density)")
                if shape.count >= 2 {   // a transposed (non-contiguous) mask and x
                    let xt = x.transposed(0, 1), mt = mask.transposed(0, 1)
                    let want = zip(xt.contiguous().scalars(as: Float.self), mt.contiguous().scalars(as: Bool.self)).filter { $0.1 }.map { $0.0 }
                    XCTAssertEqual(xt[mt].scalars(as: Float.self), want, "transposed \(shape)")
                    XCTAssertEqual(mt.nonzero().scalars(as: Int.self), mt.contiguous().nonzero().scalars(as: Int.self), "transposed nonzero \(shape)")
                }
            }
        }
        // a bool tensor whose bytes are not all 0 or 1 (raw bytes): any nonzero byte is true
        let raw: [UInt8] = [0, 2, 1, 255, 0, 7]
        let odd = raw.withUnsafeBytes { Tensor.fromBytes($0, shape: [6], dtype: .bool) }
        XCTAssertEqual(odd.nonzero().scalars(as: Int.self), [1, 2, 3, 5])
        XCTAssertEqual(Tensor([1.0, 2, 3, 4, 5, 6])[odd].scalars(as: Float.self), [2, 3, 4, 6])
        // an offset view of a mask, and the gradient of a large selection
        let big = Tensor.randn([400, 300], seed: 3).requiringGrad()
        let mask = Tensor.rand([401, 300], seed: 4) .< 0.5
        let view = mask.narrow(dim: 0, start: 1, length: 400)
        try big.maskedSelect(view).sum().backward()
        XCTAssertEqual(big.grad!.scalars(as: Float.self), view.contiguous().scalars(as: Bool.self).map { $0 ? 1 : 0 })
        XCTAssertEqual(big.maskedSelect(view).gradFn?.name, big[view].gradFn?.name)
    }

    /// Rows put into rows (indexAdd along dim 0, `indexPut` of whole rows, with and without
    /// accumulation), split over the threads by target or by columns: against the definition
    /// written out here, with repeated indices (accumulated in index order; without accumulation
    /// the last write stays), float32 and float64, narrow and wide rows, values broadcast along
    /// the index dim.
    func testRowPutsMatchTheDefinition() {
        for dtype in [DType.float32, .float64] {
            // many rows over many targets (split by target), few rows, and many rows all on one
            // target (split by columns)
            for (rows, cols, picks, bunched) in [(7, 16, 40, false), (50, 1000, 3000, false), (3, 4099, 9, false),
                                                 (40, 300, 500, true)] {
                let base = Tensor.randn([rows, cols], dtype: dtype, seed: 61)
                let index = bunched ? Tensor.randint(1, [picks], seed: 62) + 17 : Tensor.randint(rows, [picks], seed: 62)
                let source = Tensor.randn([picks, cols], dtype: dtype, seed: 63)
                let b = base.to(.float64).scalars(as: Double.self), src = source.to(.float64).scalars(as: Double.self)
                let ix = index.scalars(as: Int.self)
                var added = b, written = b
                for (k, r) in ix.enumerated() {
                    for j in 0..<cols {
                        // in the tensor's dtype: float32 sums round to float32 at each step
                        let sum = added[r * cols + j] + src[k * cols + j]
                        added[r * cols + j] = dtype == .float32 ? Double(Float(sum)) : sum
                        written[r * cols + j] = src[k * cols + j]
                    }
                }
                let label = "\(dtype) \(rows)x\(cols), \(picks) picks"
                XCTAssertEqual(base.indexAdd(dim: 0, index: index, source: source).to(.float64).scalars(as: Double.self), added, label)
                XCTAssertEqual(base.indexPut([index], values: source).to(.float64).scalars(as: Double.self), written, label)
                XCTAssertEqual(base.indexPut([index], values: source, accumulate: true).to(.float64).scalars(as: Double.self), added, label)
                // one row of values broadcast along the picks: every picked row gets it once per pick
                let row = Tensor.randn([cols], dtype: dtype, seed: 64), rv = row.to(.float64).scalars(as: Double.self)
                var broadcastAdded = b
                for r in ix { for j in 0..<cols {
                    let sum = broadcastAdded[r * cols + j] + rv[j]
                    broadcastAdded[r * cols + j] = dtype == .float32 ? Double(Float(sum)) : sum
                } }
                XCTAssertEqual(base.indexPut([index], values: row, accumulate: true).to(.float64).scalars(as: Double.self), broadcastAdded, label)
            }
        }
    }

    /// The split of row puts by target: balanced distinct rows split at the middle target; too
    /// few rows, rows all on one target, one thread, or blocks that would overlap across the
    /// split (101 elements at a stride of 100) do not.
    func testRowPutSplitByTarget() {
        let rows = (0..<64).map { (value: $0 * 100, target: ($0 * 37 % 64) * 100) }
        guard let parts = RowPutParts.make(rows, length: 100, threads: 2) else { return XCTFail("balanced rows not split") }
        for row in rows { XCTAssertEqual(parts.part(of: row.target), row.target < 3200 ? 0 : 1, "target \(row.target)") }
        XCTAssertNil(RowPutParts.make(Array(rows.prefix(15)), length: 100, threads: 2))
        XCTAssertNil(RowPutParts.make(rows.map { (value: $0.value, target: 500) }, length: 100, threads: 2))
        XCTAssertNil(RowPutParts.make(rows, length: 100, threads: 1))
        XCTAssertNil(RowPutParts.make(rows, length: 101, threads: 2))
    }

    /// scatter and scatterAdd large enough to run in slabs on all threads, along the first,
    /// a middle and the last dim, with repeated targets: against the definition written out here
    /// (contributions to one element added in index order, the last write staying).
    func testThreadedScatterMatchesTheDefinition() {
        let shape = [40, 30, 70], target = Tensor.randn([40, 50, 70], seed: 71)
        for dim in [0, 1, 2] {
            let size = target.shape[dim]
            let index = Tensor.randint(size, shape, seed: UInt64(72 + dim)), source = Tensor.randn(shape, seed: 75)
            let t = target.scalars(as: Float.self), ix = index.scalars(as: Int.self), sv = source.scalars(as: Float.self)
            var added = t, written = t
            for i in 0..<shape[0] { for j in 0..<shape[1] { for k in 0..<shape[2] {
                let p = (i * shape[1] + j) * shape[2] + k
                var c = [i, j, k]
                c[dim] = ix[p]
                let q = (c[0] * 50 + c[1]) * 70 + c[2]
                added[q] = added[q] + sv[p]
                written[q] = sv[p]
            } } }
            XCTAssertEqual(target.scatterAdd(dim: dim, index: index, source: source).scalars(as: Float.self), added, "dim \(dim)")
            XCTAssertEqual(target.scatter(dim: dim, index: index, source: source).scalars(as: Float.self), written, "dim \(dim)")
        }
    }

    func testGradients() {
        let x = randomLeaf([3, 4], seed: 61)
        let src = randomLeaf([2, 3], seed: 62)
        let idx = Tensor([[0, 2, 1], [1, 1, 0]])
        assertGradcheck([x]) { $0[0].gather(dim: 1, index: idx) }
        assertGradcheck([x]) { $0[0].transposed(0, 1).gather(dim: 0, index: Tensor([[1, 2, 0]])) }
        assertGradcheck([x, src]) { $0[0].scatterAdd(dim: 0, index: idx, source: $0[1]) }
        let distinct = Tensor([[3, 0, 1], [2, 1, 0]])
        assertGradcheck([x, src]) { $0[0].scatter(dim: 1, index: distinct, source: $0[1]) }
        assertGradcheck([x]) { $0[0].scatter(dim: 1, index: distinct, value: 2) }
        assertGradcheck([x]) { $0[0].indexSelect(dim: 1, index: Tensor([3, 0, 3])) }
        let s2 = randomLeaf([3, 2], seed: 63)
        assertGradcheck([x, s2]) { $0[0].indexAdd(dim: 1, index: Tensor([1, 1]), source: $0[1], alpha: -0.5) }
        let v = randomLeaf([2, 4], seed: 64)
        assertGradcheck([x, v]) { $0[0].indexPut([Tensor([2, 0])], values: $0[1]) }
        assertGradcheck([x, v]) { $0[0].indexPut([Tensor([2, 2])], values: $0[1], accumulate: true) }
        let mask = Tensor([true, false, false, true])
        assertGradcheck([x]) { $0[0].maskedFill(mask, value: 3) }
        let fill = randomLeaf([], seed: 65)
        assertGradcheck([x, fill]) { $0[0].maskedFill(mask, value: $0[1]) }
        assertGradcheck([x]) { $0[0].maskedSelect(mask) }
        assertGradgradcheck([x]) { $0[0].gather(dim: 1, index: idx).pow(2) }
        assertGradgradcheck([x, src]) { ($0[0].scatterAdd(dim: 0, index: idx, source: $0[1]) * $0[0]) }
        assertGradgradcheck([x]) { $0[0].indexSelect(dim: 0, index: Tensor([2, 2])).pow(2) }
        XCTAssertEqual(x.gather(dim: 1, index: idx).gradFn?.name, "GatherBackward0")
        XCTAssertEqual(x.scatter(dim: 1, index: distinct, source: src).gradFn?.name, "ScatterBackward0")
        XCTAssertEqual(x.scatterAdd(dim: 1, index: idx, source: src).gradFn?.name, "ScatterAddBackward0")
        XCTAssertEqual(x.indexSelect(dim: 0, index: Tensor([1])).gradFn?.name, "IndexSelectBackward0")
        XCTAssertEqual(x.indexAdd(dim: 1, index: Tensor([1, 1]), source: s2).gradFn?.name, "IndexAddBackward0")
        XCTAssertEqual(x.indexPut([Tensor([0])], values: v[0]).gradFn?.name, "IndexPutBackward0")
        XCTAssertEqual(x.maskedFill(mask, value: 0).gradFn?.name, "MaskedFillBackward0")
    }

    func testValidators() {
        let x = Tensor.zeros([3, 4])
        assertValidationFails("gather: Expected dtype int64 for index (got int32)") {
            _ = try x.validateGatherScatter(dim: 0, index: Tensor([[0]], dtype: .int32), source: nil, op: "gather")
        }
        assertValidationFails("gather: Index tensor must have the same number of dimensions as input tensor") {
            _ = try x.validateGatherScatter(dim: 0, index: Tensor([0]), source: nil, op: "gather")
        }
        assertValidationFails("gather: index 3 is out of bounds for dimension 0 with size 3") {
            _ = try x.validateGatherScatter(dim: 0, index: Tensor([[3]]), source: nil, op: "gather")
        }
        // Large indices are checked in place first (ckernels_i64_in_range); the message still
        // names the first offender in order.
        var big = [Int64](repeating: 2, count: 70_000)
        XCTAssertEqual(try x.validateGatherScatter(dim: 0, index: Tensor(shape: [70_000, 1], scalars: big), source: nil, op: "gather"), 0)
        big[69_999] = -1
        assertValidationFails("gather: index -1 is out of bounds for dimension 0 with size 3") {
            _ = try x.validateGatherScatter(dim: 0, index: Tensor(shape: [70_000, 1], scalars: big), source: nil, op: "gather")
        }
        big[40_000] = 3
        assertValidationFails("gather: index 3 is out of bounds for dimension 0 with size 3") {
            _ = try x.validateGatherScatter(dim: 0, index: Tensor(shape: [70_000, 1], scalars: big), source: nil, op: "gather")
        }
        assertValidationFails("gather: Size does not match at dimension 1 expected index [1, 5] to be smaller than self [3, 4]") {
            _ = try x.validateGatherScatter(dim: 0, index: Tensor.zeros([1, 5], dtype: .int64), source: nil, op: "gather")
        }
        assertValidationFails("scatter: Expected self.dtype to be equal to src.dtype (float32 vs float64)") {
            _ = try x.validateGatherScatter(dim: 0, index: Tensor([[0]]), source: Tensor([[1.0]], dtype: .float64), op: "scatter")
        }
        assertValidationFails("scatter: Expected index [2, 1] to be smaller than src [1, 1] at dimension 0") {
            _ = try x.validateGatherScatter(dim: 0, index: Tensor([[0], [1]]), source: Tensor.zeros([1, 1]), op: "scatter")
        }
        assertValidationFails("index_select: index should have 1 dimension, but got shape [1, 1]") {
            _ = try x.validateIndexAlongDim(Tensor([[0]]), dim: 0, op: "index_select")
        }
        assertValidationFails("index_select: expected index to be an int64 or int32 tensor (got float32)") {
            _ = try x.validateIndexAlongDim(Tensor([0.0]), dim: 0, op: "index_select")
        }
        assertValidationFails("masked_fill: expected a bool mask, but got dtype int64") {
            try x.validateMask(Tensor([1]), op: "masked_fill", broadcastBoth: false)
        }
        assertValidationFails("masked_fill: mask of shape [3] does not broadcast to the tensor's shape [3, 4]") {
            try x.validateMask(Tensor([true, false, true]), op: "masked_fill", broadcastBoth: false)
        }
    }
}
