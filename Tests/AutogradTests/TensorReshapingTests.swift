import XCTest
@testable import Autograd

/// mT, movedim, flattened ranges, unflattened, squeezed/unsqueezed(dims:) (Shape/Tensor+Reshaping).
final class TensorReshapingTests: XCTestCase {
    func testShapesAndViews() {
        let x = Tensor.arange(24).reshaped([2, 3, 4])
        XCTAssertEqual(x.mT.shape, [2, 4, 3])
        XCTAssertEqual(x.mT.scalars(as: Int.self)[0..<4], [0, 4, 8, 1])
        XCTAssertEqual(x.movedim(0, -1).shape, [3, 4, 2])
        XCTAssertEqual(x.flattened(startDim: 1).shape, [2, 12])
        XCTAssertEqual(x.flattened(startDim: 0, endDim: 1).shape, [6, 4])
        XCTAssertTrue(x.flattened(startDim: 1).storage === x.storage)
        XCTAssertEqual(x.transposed(0, 2).flattened(startDim: 0, endDim: 1).shape, [12, 2])  // a copy
        XCTAssertEqual(x.unflattened(dim: 2, sizes: [2, -1]).shape, [2, 3, 2, 2])
        XCTAssertEqual(Tensor(1).flattened(startDim: 0).shape, [1])
        XCTAssertEqual(Tensor.zeros([1, 3, 1]).squeezed(dims: [0, 1]).shape, [3, 1])
        XCTAssertEqual(Tensor.zeros([3]).unsqueezed(dims: [0, -1]).shape, [1, 3, 1])
        XCTAssertEqual(Tensor.zeros([0, 3]).unflattened(dim: 1, sizes: [3, 1]).shape, [0, 3, 1])
        XCTAssertEqual(Tensor.zeros([2, 3]).contiguous().isContiguous, true)
        XCTAssertEqual(Tensor.zeros([2, 3]).T.contiguous().isContiguous, true)
    }

    func testGradients() {
        let r = randomLeaf([2, 3, 4], seed: 41)
        assertGradcheck([r]) { $0[0].mT }
        assertGradcheck([r]) { $0[0].movedim(2, 0) * 2 }
        assertGradcheck([r]) { $0[0].transposed(0, 1).flattened(startDim: 1) }
        assertGradcheck([r]) { $0[0].unflattened(dim: -1, sizes: [2, 2]).sum(dim: 2) }
        XCTAssertEqual(r.mT.gradFn?.name, "TransposeBackward0")
        XCTAssertEqual(r.unflattened(dim: 1, sizes: [3, 1]).gradFn?.name, "ViewBackward0")
        XCTAssertEqual(r.T.contiguous().gradFn?.name, "CloneBackward0")
    }

    func testValidators() {
        assertValidationFails("flatten: start_dim (2) cannot come after end_dim (1)") {
            _ = try Tensor.zeros([2, 3, 4]).validateFlatten(startDim: 2, endDim: 1)
        }
        assertValidationFails("unflatten: provided sizes [2, 2] don't multiply up to the size of dim 1 (3)") {
            _ = try Tensor.zeros([2, 3]).validateUnflatten(dim: 1, sizes: [2, 2])
        }
        assertValidationFails("mT: tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.") {
            try Tensor.zeros([3]).validateMatrixTranspose()
        }
    }
}
