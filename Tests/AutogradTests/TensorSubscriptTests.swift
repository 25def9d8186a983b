import XCTest
@testable import Autograd

/// Subscripts: TensorIndex, basic and advanced indexing, assignment (Indexing/).
final class TensorSubscriptTests: XCTestCase {
    let x = Tensor.arange(12).reshaped([3, 4])

    func testBasicIndexingReadsNaturally() {
        XCTAssertEqual(x[1].scalars(as: Int.self), [4, 5, 6, 7])
        XCTAssertEqual(x[-1].scalars(as: Int.self), [8, 9, 10, 11])
        XCTAssertEqual(x[1..<3].shape, [2, 4])
        XCTAssertEqual(x[1...2].shape, [2, 4])
        XCTAssertEqual(x[1...].shape, [2, 4])
        XCTAssertEqual(x[..<1].shape, [1, 4])
        XCTAssertEqual(x[...(-1)].shape, [3, 4])
        XCTAssertEqual(x[.all, 2].scalars(as: Int.self), [2, 6, 10])
        XCTAssertEqual(x[..., 2].scalars(as: Int.self), [2, 6, 10])
        XCTAssertEqual(x[.ellipsis, 2].scalars(as: Int.self), [2, 6, 10])
        XCTAssertEqual(x[0, ...].scalars(as: Int.self), [0, 1, 2, 3])
        XCTAssertEqual(x[1, 2].item(as: Int.self), 6)
        XCTAssertEqual(x[.range(1, -1)].shape, [1, 4])                    // Python's x[1:-1]
        XCTAssertEqual(x[.all, .range(0, nil, step: 2)].scalars(as: Int.self), [0, 2, 4, 6, 8, 10])
        XCTAssertEqual(x[.all, stride(from: 1, to: 4, by: 2)].scalars(as: Int.self), [1, 3, 5, 7, 9, 11])
        XCTAssertEqual(x[-3..<(-1), -1].scalars(as: Int.self), [3, 7])
        XCTAssertEqual(x[.newAxis, .all, 1].shape, [1, 3])
        XCTAssertEqual(x[1, .newAxis].shape, [1, 4])
        XCTAssertEqual(x[5..<9].shape, [0, 4])                           // out of range clamps
        XCTAssertEqual(x[indices: [.at(0), .range(1, 3)]].scalars(as: Int.self), [1, 2])
        XCTAssertTrue(x[1..<3].storage === x.storage)                    // basic indexing is a view
        XCTAssertEqual(Tensor(7)[...].item(as: Int.self), 7)
        XCTAssertEqual(Tensor(7)[.newAxis].shape, [1])
    }

    func testAdvancedIndexing() {
        XCTAssertEqual(x[[2, 0]].scalars(as: Int.self), [8, 9, 10, 11, 0, 1, 2, 3])
        XCTAssertEqual(x[Tensor([[0, 1], [2, 2]])].shape, [2, 2, 4])
        XCTAssertEqual(x[Tensor([0, 2]), Tensor([1, 3])].scalars(as: Int.self), [1, 11])
        XCTAssertEqual(x[.all, Tensor([-1, 0])].scalars(as: Int.self), [3, 0, 7, 4, 11, 8])
        XCTAssertEqual(x[x .> 8].scalars(as: Int.self), [9, 10, 11])
        XCTAssertEqual(x[Tensor([true, false, true])].shape, [2, 4])
        XCTAssertEqual(x[Tensor([0, 1], dtype: .int32), 1..<3].scalars(as: Int.self), [1, 2, 5, 6])
        let c = Tensor.arange(60).reshaped([3, 4, 5])
        // PyTorch's rules: adjacent index tensors stay in place, separated ones go first;
        // integers are applied as select first.
        XCTAssertEqual(c[.all, [0, 1], [1, 2]].shape, [3, 2])
        XCTAssertEqual(c[[0, 1], .all, [1, 2]].shape, [2, 4])
        XCTAssertEqual(c[0, .all, [1, 2]].shape, [4, 2])
        XCTAssertEqual(c[.newAxis, [0, 1]].shape, [1, 2, 4, 5])
        XCTAssertEqual(c[Tensor(true)].shape, [1, 3, 4, 5])
        XCTAssertEqual(c[Tensor(false)].shape, [0, 3, 4, 5])
        XCTAssertEqual(c[1..., [0, 2]].shape, [2, 2, 5])
        XCTAssertEqual(x[Tensor.zeros([0], dtype: .int64)].shape, [0, 4])
        XCTAssertEqual(x.to(.float16)[[1]].dtype, .float16)
        XCTAssertEqual(x.nonzero().shape, [11, 2])
    }

    func testGradientsThroughSubscripts() {
        let r = randomLeaf([3, 4, 2], seed: 51)
        assertGradcheck([r]) { $0[0][1] }
        assertGradcheck([r]) { $0[0][.all, .range(1, nil, step: 2), 1] }
        assertGradcheck([r]) { $0[0].transposed(0, 1)[..., 0] }
        assertGradcheck([r]) { $0[0][[0, 2, 0]] }                         // repeated rows accumulate
        assertGradcheck([r]) { $0[0][Tensor([0, 2]), .all, Tensor([1, 0])] }
        assertGradcheck([r]) { xs in xs[0][xs[0].detach() .> 0.0] }
        assertGradgradcheck([r]) { $0[0][[1, 1]] * $0[0][2] }
        XCTAssertEqual(r[1].gradFn?.name, "SelectBackward0")
        XCTAssertEqual(r[1..<2].gradFn?.name, "SliceBackward0")
        XCTAssertEqual(r[[0]].gradFn?.name, "IndexBackward0")
        XCTAssertEqual(r[.newAxis].gradFn?.name, "UnsqueezeBackward0")
        XCTAssertEqual(r[...].gradFn?.name, "AliasBackward0")
    }

    func testAssignmentWritesInPlaceThroughViews() {
        let t = Tensor.zeros([3, 4], dtype: .int64)
        let before = t.storage.version
        t[0] = Tensor(5)
        XCTAssertEqual(t.storage.version, before + 1)
        t[.all, 1..<3] = Tensor([[1, 2]])                                 // broadcast over rows
        t[[2, 2], [3, 0]] = Tensor([9, 8])
        t[t .== 8] = Tensor(7)
        XCTAssertEqual(t.scalars(as: Int.self), [5, 1, 2, 5, 0, 1, 2, 0, 7, 1, 2, 9])
        let row = t[1]                                                    // a view: writes reach t
        row[..., 0] = Tensor(4.7)                                         // converted to int64: 4
        XCTAssertEqual(t[1, 0].item(as: Int.self), 4)
        let h = Tensor.zeros([2], dtype: .float16)
        h[1] = Tensor(1.5)
        XCTAssertEqual(h.scalars(as: Double.self), [0, 1.5])
    }

    func testAssignmentIsRecorded() throws {
        let v = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        let w = Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype: .float64, requiresGrad: true)
        let y = w * 2
        y[.all, 1] = v * 3
        XCTAssertEqual(y.gradFn?.name, "CopySlices")
        try (y * y).sum().backward()
        // d/dw: 2·(2w)·2 where not overwritten; d/dv: 2·(3v)·3.
        assertClose(w.grad!, shape: [2, 3], [8, 0, 24, 32, 0, 48])
        assertClose(v.grad!, shape: [2], [18, 36])
        assertGradcheck([w, v]) { xs in
            let y = xs[0] * 1.5
            y[[1, 0], 2] = xs[1].pow(2)
            return y
        }
    }

    func testValidators() {
        assertValidationFails("index: too many indices for tensor of dimension 2") { _ = try self.x.planIndexing([.at(0), .at(0), .at(0)]) }
        assertValidationFails("index: an index can only have a single ellipsis") { _ = try self.x.planIndexing([.ellipsis, .ellipsis]) }
        assertValidationFails("index: index 3 is out of bounds for dimension 0 with size 3") { _ = try self.x.planIndexing([.at(3)]) }
        assertValidationFails("index: step must be greater than zero (got 0)") { _ = try self.x.planIndexing([.range(nil, nil, step: 0)]) }
        assertValidationFails("index: the shape of the mask [2] at index 0 does not match") { _ = try self.x.planIndexing([.tensor(Tensor([true, false]))]) }
        assertValidationFails("index: tensors used as indices must be long, int, byte or bool tensors (got float32)") {
            _ = try self.x.planIndexing([.tensor(Tensor([0.0]))])
        }
        assertValidationFails("index: index 4 is out of bounds for dimension 1 with size 4") {
            _ = try AdvancedIndex.make(dims: [1], tensors: [Tensor([4])], shape: [3, 4], op: "index")
        }
        assertValidationFails("shape mismatch: indexing tensors could not be broadcast together") {
            _ = try AdvancedIndex.make(dims: [0, 1], tensors: [Tensor([0, 1]), Tensor([0, 1, 2])], shape: [3, 4], op: "index")
        }
    }
}
