import XCTest
@testable import Autograd

/// prod, amax/amin, argmax/argmin, all/any (Ops/ExtremaOps).
final class ExtremaOpsTests: XCTestCase {
    func testProdValuesDtypesAndEmpty() {
        let x = Tensor([[1, 2, 3], [4, 5, 6]], dtype: .int32)
        XCTAssertEqual(x.prod().dtype, .int64)
        XCTAssertEqual(x.prod().item(as: Int.self), 720)
        XCTAssertEqual(x.prod(dim: 1).scalars(as: Int.self), [6, 120])
        XCTAssertEqual(x.prod(dim: 0, keepDim: true).shape, [1, 3])
        XCTAssertEqual(Tensor.zeros([0, 2]).prod().item(), 1)
        XCTAssertEqual(Tensor.zeros([0, 2]).prod(dim: 0).scalars(as: Float.self), [1, 1])
        XCTAssertEqual(Tensor(3.0).prod(dim: 0).item(), 3)
        XCTAssertEqual(Tensor([2.0, 3.0], dtype: .float16).prod().dtype, .float16)
    }

    func testProdGradientsIncludingZeros() {
        let x = randomLeaf([3, 4], seed: 2, shift: 0.3)
        assertGradcheck([x]) { $0[0].prod() }
        assertGradcheck([x]) { $0[0].transposed(0, 1).prod(dim: 1) }
        assertGradcheck([x]) { $0[0].prod(dim: 0, keepDim: true) * $0[0] }
        let zeros = Tensor([[1.5, 0.0, 2.0], [0.0, 0.0, 3.0]], dtype: .float64, requiresGrad: true)
        assertGradcheck([zeros]) { $0[0].prod(dim: 1) }
        assertGradcheck([zeros]) { $0[0].prod() }
        assertGradgradcheck([zeros]) { $0[0].prod(dim: 1) }
        assertGradgradcheck([x]) { $0[0].prod(dim: 1) }
        XCTAssertEqual(x.prod().gradFn?.name, "ProdBackward0")
        XCTAssertEqual(x.prod(dim: 1).gradFn?.name, "ProdBackward1")
    }

    func testAmaxAminOverDimsWithTies() throws {
        let x = Tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], dtype: .float64, requiresGrad: true)
        assertClose(x.amax(dim: 1), shape: [2], [3, 2])
        assertClose(x.amin(dims: [0, 1]), shape: [], [1])
        assertClose(x.amax(), shape: [], [3])
        XCTAssertEqual(x.amax(dims: [1], keepDim: true).shape, [2, 1])
        try x.amax(dim: 1).sum().backward()
        assertClose(x.grad!, shape: [2, 3], [0, 0.5, 0.5, 1.0 / 3, 1.0 / 3, 1.0 / 3])
        XCTAssertEqual(x.amax(dim: 1).gradFn?.name, "AmaxBackward0")
        XCTAssertEqual(x.amin(dim: 1).gradFn?.name, "AminBackward0")
        let r = randomLeaf([2, 3, 4], seed: 8)
        assertGradcheck([r]) { $0[0].amax(dims: [0, 2]) }
        assertGradcheck([r]) { $0[0].permuted([2, 0, 1]).amin(dim: -1, keepDim: true) }
        XCTAssertEqual(Tensor([[1, 9], [4, 2]], dtype: .int16).amax(dim: 0).scalars(as: Int.self), [4, 9])
        XCTAssertEqual(Tensor([.nan, 1.0]).amax().item().isNaN, true)
    }

    func testArgmaxArgminKeepDim() {
        let x = Tensor([[1.0, 5.0, 5.0], [7.0, 0.0, 7.0]])
        XCTAssertEqual(x.argmax(dim: 1).scalars(as: Int.self), [1, 0])   // first occurrence
        XCTAssertEqual(x.argmin(dim: 0, keepDim: true).shape, [1, 3])
        XCTAssertEqual(x.argmax(dim: nil, keepDim: true).shape, [1, 1])
        XCTAssertEqual(x.argmax(dim: nil, keepDim: false).item(as: Int.self), 3)
        XCTAssertEqual(x.argmin(dim: nil, keepDim: false).item(as: Int.self), 4)
    }

    func testAllAny() {
        let x = Tensor([[1.0, 0.0], [2.0, .nan]])
        XCTAssertEqual(x.all().item(as: Bool.self), false)
        XCTAssertEqual(x.any().item(as: Bool.self), true)
        XCTAssertEqual(x.all(dim: 0).scalars(as: Bool.self), [true, false])
        XCTAssertEqual(x.any(dims: [1], keepDim: true).shape, [2, 1])
        XCTAssertEqual(x.all(dim: 1).scalars(as: Bool.self), [false, true])   // NaN is truthy
        XCTAssertEqual(Tensor.zeros([0]).all().item(as: Bool.self), true)
        XCTAssertEqual(Tensor.zeros([0]).any().item(as: Bool.self), false)
        XCTAssertEqual(Tensor([1, 0], dtype: .uint8).all().dtype, .uint8)
        XCTAssertEqual(Tensor(true).any(dim: 0).item(as: Bool.self), true)
    }

    func testValidators() {
        assertValidationFails("amax: Expected reduction dim 1 to have non-zero size") {
            _ = try Tensor.zeros([2, 0]).validateAextremum([1], op: "amax")
        }
        assertValidationFails("amin: Expected reduction dim to be specified for input.numel() == 0") {
            _ = try Tensor.zeros([2, 0]).validateAextremum([], op: "amin")
        }
        assertValidationFails("amax: dimension out of range (expected to be in range of [-2, 1], but got 2)") {
            _ = try Tensor.zeros([2, 3]).validateAextremum([2], op: "amax")
        }
        assertValidationFails("prod: dim 1 appears multiple times") {
            _ = try Tensor.zeros([2, 3]).reductionDims([1, -1], op: "prod")
        }
        XCTAssertEqual(try Tensor.zeros([2, 0]).validateAextremum([0], op: "amax"), [0])
    }
}
