import XCTest
@testable import Autograd

/// select, narrow, split, chunk, unbind, diagonal (Shape/Tensor+Slicing, ViewGeometry).
final class TensorSlicingTests: XCTestCase {
    let x = Tensor.arange(24).reshaped([2, 3, 4])

    func testSelectAndNarrowAreViews() {
        XCTAssertEqual(x.select(dim: 1, index: -1).scalars(as: Int.self), [8, 9, 10, 11, 20, 21, 22, 23])
        let n = x.narrow(dim: 2, start: 1, length: 2)
        XCTAssertEqual(n.shape, [2, 3, 2])
        XCTAssertEqual(n.scalars(as: Int.self), [1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22])
        XCTAssertTrue(n.storage === x.storage)
        XCTAssertEqual(x.narrow(dim: 0, start: -1, length: 1).shape, [1, 3, 4])
        XCTAssertEqual(x.narrow(dim: 1, start: 3, length: 0).shape, [2, 0, 4])
    }

    func testSplitChunkUnbind() {
        XCTAssertEqual(Tensor.arange(5).split(size: 2).map(\.shape), [[2], [2], [1]])
        XCTAssertEqual(x.split(sizes: [1, 3], dim: -1).map(\.shape), [[2, 3, 1], [2, 3, 3]])
        XCTAssertEqual(Tensor.arange(5).chunk(3).map { $0.scalars(as: Int.self) }, [[0, 1], [2, 3], [4]])
        XCTAssertEqual(Tensor.arange(6).chunk(4).count, 3)   // ceil(6/4) = 2 per chunk: 3 chunks, as PyTorch
        XCTAssertEqual(x.unbind(dim: 1).map { $0.shape }, [[2, 4], [2, 4], [2, 4]])
        XCTAssertEqual(x.unbind(dim: 1)[2].scalars(as: Int.self), x.select(dim: 1, index: 2).scalars(as: Int.self))
        XCTAssertEqual(Tensor.zeros([0]).split(size: 2).map(\.shape), [[0]])
    }

    func testDiagonal() {
        let m = Tensor.arange(12).reshaped([3, 4])
        XCTAssertEqual(m.diagonal().scalars(as: Int.self), [0, 5, 10])
        XCTAssertEqual(m.diagonal(offset: 1).scalars(as: Int.self), [1, 6, 11])
        XCTAssertEqual(m.diagonal(offset: -1).scalars(as: Int.self), [4, 9])
        XCTAssertEqual(m.diagonal(offset: 5).shape, [0])
        XCTAssertEqual(x.diagonal(offset: 0, dim1: 1, dim2: 2).shape, [2, 3])
    }

    func testGradients() {
        let r = randomLeaf([3, 4, 2], seed: 21)
        assertGradcheck([r]) { $0[0].select(dim: 1, index: 2) }
        assertGradcheck([r]) { $0[0].transposed(0, 2).narrow(dim: 1, start: 1, length: 2) }
        assertGradcheck([r]) { xs in
            let parts = xs[0].split(size: 3, dim: 1)
            return parts[0].sum(dim: 1) * parts[1].sum(dim: 1) + xs[0].select(dim: 0, index: 0).sum()
        }
        assertGradcheck([r]) { xs in xs[0].chunk(2, dim: 0)[1] }          // only one piece used
        assertGradcheck([r]) { xs in xs[0].unbind(dim: 2)[1] * xs[0].unbind(dim: 2)[0] }
        assertGradcheck([r]) { $0[0].diagonal(offset: 1, dim1: 0, dim2: 1) }
        assertGradgradcheck([r]) { ($0[0].narrow(dim: 0, start: 1, length: 2) * $0[0].select(dim: 0, index: 0)).sum() * $0[0].select(dim: 2, index: 1).sum() }
        assertGradgradcheck([r]) { $0[0].split(size: 2, dim: 1)[1].pow(2) }
        XCTAssertEqual(r.select(dim: 0, index: 1).gradFn?.name, "SelectBackward0")
        XCTAssertEqual(r.narrow(dim: 0, start: 1, length: 1).gradFn?.name, "SliceBackward0")
        XCTAssertEqual(r.split(size: 2).first?.gradFn?.name, "SplitBackward0")
        XCTAssertEqual(r.chunk(2).first?.gradFn?.name, "SplitBackward0")
        XCTAssertEqual(r.unbind().first?.gradFn?.name, "UnbindBackward0")
        XCTAssertEqual(r.diagonal().gradFn?.name, "DiagonalBackward0")
    }

    func testValidators() {
        assertValidationFails("select: index 3 out of range for tensor of size [2, 3, 4] at dimension 1") {
            _ = try self.x.validateSelect(dim: 1, index: 3)
        }
        assertValidationFails("select: cannot be applied to a 0-dim tensor") { _ = try Tensor(1).validateSelect(dim: 0, index: 0) }
        assertValidationFails("narrow: start (2) + length (3) exceeds dimension size (4) of dim 2") {
            _ = try self.x.validateNarrow(dim: 2, start: 2, length: 3)
        }
        assertValidationFails("slice: step must be greater than zero (got -1)") {
            _ = try self.x.validateSlice(dim: 0, start: nil, end: nil, step: -1)
        }
    }
}
