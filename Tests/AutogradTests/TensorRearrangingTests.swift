import XCTest
@testable import Autograd

/// flipped, rolled, repeated, tiled (Shape/Tensor+Rearranging).
final class TensorRearrangingTests: XCTestCase {
    /// Flipping the last dim of wide rows (the copy kernel's reversed-row loop, every element
    /// size, odd lengths) and both dims, against reversed rows written out here.
    func testFlippedWideRowsMatchReversedRows() {
        let rows = 37, cols = 1001
        let x = Tensor.randn([rows, cols], dtype: .float64, seed: 81) * 100
        let v = x.scalars(as: Double.self)
        let reversed = (0..<rows).flatMap { r in v[(r * cols)..<((r + 1) * cols)].reversed() }
        for dtype in [DType.float64, .float32, .int32, .int16, .uint8] {
            let t = x.to(dtype), want = Tensor(shape: [rows, cols], scalars: reversed).to(dtype)
            XCTAssertEqual(t.flipped(dims: [1]).to(.float64).scalars(as: Double.self), want.to(.float64).scalars(as: Double.self), "\(dtype)")
            // both dims: the whole row-major sequence reversed
            XCTAssertEqual(t.flipped(dims: [0, 1]).to(.float64).scalars(as: Double.self),
                           Array(t.to(.float64).scalars(as: Double.self).reversed()), "\(dtype) both")
        }
    }

    func testValuesByHand() {
        XCTAssertEqual(Tensor([[1, 2], [3, 4]]).flipped(dims: [1]).scalars(as: Int.self), [2, 1, 4, 3])
        XCTAssertEqual(Tensor([[1, 2], [3, 4]]).flipped(dims: [0, 1]).scalars(as: Int.self), [4, 3, 2, 1])
        XCTAssertEqual(Tensor([[1, 2], [3, 4]]).transposed(0, 1).flipped(dims: [0]).scalars(as: Int.self), [2, 4, 1, 3])
        XCTAssertEqual(Tensor([1, 2, 3, 4]).rolled(shifts: [1]).scalars(as: Int.self), [4, 1, 2, 3])
        XCTAssertEqual(Tensor([1, 2, 3, 4]).rolled(shifts: [-5]).scalars(as: Int.self), [2, 3, 4, 1])
        XCTAssertEqual(Tensor([[1, 2], [3, 4]]).rolled(shifts: [1]).scalars(as: Int.self), [4, 1, 2, 3])
        XCTAssertEqual(Tensor([[1, 2, 3], [4, 5, 6]]).rolled(shifts: [1, 1], dims: [0, 1]).scalars(as: Int.self), [6, 4, 5, 3, 1, 2])
        XCTAssertEqual(Tensor([1, 2]).repeated([2, 2]).scalars(as: Int.self), [1, 2, 1, 2, 1, 2, 1, 2])
        XCTAssertEqual(Tensor([1, 2]).repeated([2, 2]).shape, [2, 4])
        XCTAssertEqual(Tensor([[1], [2]]).tiled([3]).shape, [2, 3])
        XCTAssertEqual(Tensor([[1], [2]]).tiled([3]).scalars(as: Int.self), [1, 1, 1, 2, 2, 2])
        XCTAssertEqual(Tensor([1, 2]).repeated([0]).shape, [0])
        XCTAssertEqual(Tensor.zeros([0, 2]).flipped(dims: [0]).shape, [0, 2])
        XCTAssertEqual(Tensor.zeros([0, 2]).rolled(shifts: [1], dims: [1]).shape, [0, 2])
        XCTAssertEqual(Tensor(5).flipped(dims: []).item(as: Int.self), 5)
        XCTAssertEqual(Tensor(5).repeated([3]).scalars(as: Int.self), [5, 5, 5])
        XCTAssertEqual(Tensor([1.5, 2.5], dtype: .bfloat16).flipped(dims: [0]).scalars(as: Double.self), [2.5, 1.5])
    }

    func testGradients() {
        let r = randomLeaf([2, 3, 2], seed: 31)
        assertGradcheck([r]) { $0[0].flipped(dims: [0, 2]) }
        assertGradcheck([r]) { $0[0].transposed(0, 1).rolled(shifts: [1, -1], dims: [0, 2]) }
        assertGradcheck([r]) { $0[0].rolled(shifts: [4]) * $0[0] }
        assertGradcheck([r]) { $0[0].repeated([2, 1, 1, 3]) }
        assertGradcheck([r]) { $0[0].tiled([2]) }
        assertGradgradcheck([r]) { $0[0].flipped(dims: [1]) * $0[0] }
        assertGradgradcheck([r]) { $0[0].repeated([1, 2, 1]).pow(2) }
        XCTAssertEqual(r.flipped(dims: [0]).gradFn?.name, "FlipBackward0")
        XCTAssertEqual(r.rolled(shifts: [1]).gradFn?.name, "RollBackward0")
        XCTAssertEqual(r.repeated([1, 1, 2]).gradFn?.name, "RepeatBackward0")
        XCTAssertEqual(r.tiled([2]).gradFn?.name, "RepeatBackward0")
    }

    func testValidators() {
        let t = Tensor.zeros([2, 3])
        assertValidationFails("flip: dim 1 appears multiple times") { _ = try t.normalizedDistinctDims([1, -1], op: "flip") }
        assertValidationFails("flip: dimension out of range") { _ = try t.normalizedDistinctDims([2], op: "flip") }
    }
}
