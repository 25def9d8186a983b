import XCTest
@testable import Autograd

final class DTypeTests: XCTestCase {
    func testPromotionFollowsPyTorchTable() {
        XCTAssertEqual(DType.promoted(.uint8, .int8), .int16)
        XCTAssertEqual(DType.promoted(.int32, .int64), .int64)
        XCTAssertEqual(DType.promoted(.float16, .bfloat16), .float32)
        XCTAssertEqual(DType.promoted(.bool, .int32), .int32)
        XCTAssertEqual(DType.promoted(.int64, .float16), .float16)
        XCTAssertEqual(DType.promoted(.float32, .float64), .float64)
    }
}
