import Foundation
import XCTest
@testable import Autograd

extension XCTestCase {
    /// Skips the test when `library` cannot be loaded, unless `AUTOGRAD_REQUIRE_CUDA_LIBRARIES=1`
    /// (set by CI after `Scripts/install-cuda-wheels.sh`), in which case it fails: a CI whose
    /// loader misses the wheels must not pass by skipping.
    func requireCUDALibrary(_ library: CUDALibrary, file: StaticString = #filePath, line: UInt = #line) throws {
        guard !library.isLoaded else { return }
        let message = "\(library.name) not found (searched: \(library.searched.joined(separator: ", ")))"
        if ProcessInfo.processInfo.environment["AUTOGRAD_REQUIRE_CUDA_LIBRARIES"] == "1" {
            XCTFail("AUTOGRAD_REQUIRE_CUDA_LIBRARIES=1 but " + message, file: file, line: line)
            throw XCTSkip("failed above")
        }
        throw XCTSkip(message, file: file, line: line)
    }
}
