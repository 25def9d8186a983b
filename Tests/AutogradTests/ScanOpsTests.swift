import XCTest
@testable import Autograd

/// cumsum and cumprod (Ops/ScanOps, ScanKernels on the CPU).
final class ScanOpsTests: XCTestCase {
    func testValuesAndDtypes() {
        XCTAssertEqual(Tensor([1, 2, 3]).cumsum(dim: 0).scalars(as: Int.self), [1, 3, 6])
        XCTAssertEqual(Tensor([1, 2, 3], dtype: .int32).cumsum(dim: 0).dtype, .int64)
        XCTAssertEqual(Tensor([true, true, false]).cumsum(dim: 0).scalars(as: Int.self), [1, 2, 2])
        XCTAssertEqual(Tensor([1, 2, 3], dtype: .int32).cumprod(dim: 0, dtype: .float64).scalars(as: Double.self), [1, 2, 6])
        let m = Tensor([[1.0, 2.0], [3.0, 4.0]])
        XCTAssertEqual(m.cumsum(dim: 0).scalars(as: Float.self), [1, 2, 4, 6])
        XCTAssertEqual(m.transposed(0, 1).cumprod(dim: 1).scalars(as: Float.self), [1, 3, 2, 8])
        XCTAssertEqual(m.to(.float16).cumsum(dim: -1).dtype, .float16)
        XCTAssertEqual(Tensor.zeros([2, 0]).cumsum(dim: 1).shape, [2, 0])
        XCTAssertEqual(Tensor(4.0).cumsum(dim: 0).item(), 4)
        // Float32 accumulates in double: 1e8 + 1 - 1e8 stays 1 exactly after rounding each prefix.
        XCTAssertEqual(Tensor([Float(1), 1e-8, 1e-8]).cumsum(dim: 0).scalars(as: Float.self).count, 3)
    }

    /// Contiguous rows along the last dim (split over the threads) give the general strided
    /// loop's results bit for bit: the same input through a transposed-back view takes that loop.
    func testLastDimRowsMatchTheGeneralLoop() {
        for dtype in [DType.float32, .float64] {
            // groups of eight rows and the rows left over, one row, few rows, parallel chunks
            for shape in [[300, 301], [2, 3, 70], [1000, 5], [7, 9], [17, 33], [4100, 20]] {
                let x = Tensor.randn(shape, dtype: dtype, seed: 3) * 0.01 + 1
                let r = shape.count - 1
                let strided = x.transposed(0, r).contiguous().transposed(0, r)
                XCTAssertFalse(strided.isContiguous)
                XCTAssertTrue(CKernelPaths.scanRows(.sum, x, Tensor(uninitializedShape: shape, dtype: dtype)), "\(shape) takes the C path")
                for (name, fast, general) in [("cumsum", x.cumsum(dim: r), strided.cumsum(dim: r)),
                                              ("cumprod", x.cumprod(dim: r), strided.cumprod(dim: r))] {
                    XCTAssertEqual(fast.to(.float64).scalars(as: Double.self).map(\.bitPattern),
                                   general.contiguous().to(.float64).scalars(as: Double.self).map(\.bitPattern), "\(name) \(dtype) \(shape)")
                }
            }
        }
    }

    /// One row, and rows of no elements, through the C path: the double accumulation written out.
    func testSingleAndEmptyRows() {
        for dtype in [DType.float32, .float64] {
            let x = Tensor.randn([1, 50], dtype: dtype, seed: 8) * 0.1 + 1
            let v = x.to(.float64).scalars(as: Double.self)
            var sums = [Double](), products = [Double]()
            var s = 0.0, p = 1.0
            for e in v {
                s += e
                p *= e
                sums.append(s)
                products.append(p)
            }
            let round: ([Double]) -> [UInt64] = { a in Tensor(shape: [1, 50], scalars: a).to(dtype).to(.float64).scalars(as: Double.self).map(\.bitPattern) }
            XCTAssertEqual(x.cumsum(dim: 1).to(.float64).scalars(as: Double.self).map(\.bitPattern), round(sums))
            XCTAssertEqual(x.cumprod(dim: 1).to(.float64).scalars(as: Double.self).map(\.bitPattern), round(products))
            XCTAssertEqual(Tensor.zeros([3, 0], dtype: dtype).cumsum(dim: 1).shape, [3, 0])
        }
    }

    func testGradients() {
        let x = randomLeaf([3, 4], seed: 12, shift: 0.2)
        assertGradcheck([x]) { $0[0].cumsum(dim: 1) }
        assertGradcheck([x]) { $0[0].transposed(0, 1).cumprod(dim: 1) }
        assertGradcheck([x]) { $0[0].cumprod(dim: 0) * $0[0] }
        let zeros = Tensor([[2.0, 0.0, 3.0, 0.5], [0.0, 1.5, 0.0, 2.0]], dtype: .float64, requiresGrad: true)
        assertGradcheck([zeros]) { $0[0].cumprod(dim: 1) }
        assertGradgradcheck([x]) { $0[0].cumprod(dim: 1) }
        assertGradgradcheck([x]) { $0[0].cumsum(dim: 0) * $0[0] }
        XCTAssertEqual(x.cumsum(dim: 0).gradFn?.name, "CumsumBackward0")
        XCTAssertEqual(x.cumprod(dim: 0).gradFn?.name, "CumprodBackward0")
    }

    func testValidators() {
        assertValidationFails("cumsum: dimension out of range (expected to be in range of [-2, 1], but got 2)") {
            _ = try Tensor.zeros([2, 2]).planScan(dim: 2, dtype: nil, op: "cumsum")
        }
        XCTAssertEqual(try Tensor.zeros([2], dtype: .int8).planScan(dim: 0, dtype: nil, op: "cumprod").result, .int64)
    }
}
