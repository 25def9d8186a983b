import XCTest
@testable import Autograd

final class DTypeTests: XCTestCase {
    /// Large dense conversions run on several threads: the same values as the element-by-element
    /// loop a strided (transposed) source takes, between floats, halves, integers and bools.
    func testLargeConversionsMatchTheStridedLoop() {
        let base = Tensor.randn([520, 510], dtype: .float64, seed: 3) * 300   // above the threaded size
        for from in [DType.float32, .float64, .float16, .bfloat16, .int64, .bool] {
            let x = base.to(from)
            for to in [DType.float32, .float64, .float16, .int32, .uint8] {
                let dense = x.to(to)
                let strided = x.transposed(0, 1).contiguous().transposed(0, 1).to(to)   // not contiguous: the loop
                XCTAssertEqual(dense.to(.float64).scalars(as: Double.self).map(\.bitPattern),
                               strided.to(.float64).scalars(as: Double.self).map(\.bitPattern), "\(from) -> \(to)")
            }
        }
    }

    func testPromotionFollowsPyTorchTable() {
        XCTAssertEqual(DType.promoted(.uint8, .int8), .int16)
        XCTAssertEqual(DType.promoted(.int32, .int64), .int64)
        XCTAssertEqual(DType.promoted(.float16, .bfloat16), .float32)
        XCTAssertEqual(DType.promoted(.bool, .int32), .int32)
        XCTAssertEqual(DType.promoted(.int64, .float16), .float16)
        XCTAssertEqual(DType.promoted(.float32, .float64), .float64)
    }
}
