import XCTest
@testable import Autograd

/// The run-time binding to CUDA: availability never traps and says why it is false; the
/// loader records where each library came from. GPU-only checks skip without a device.
final class CUDALoaderTests: XCTestCase {
    func testAvailabilityAgreesWithReasonAndDeviceCount() {
        if CUDA.isAvailable {
            XCTAssertNil(CUDA.unavailabilityReason)
            XCTAssertGreaterThan(CUDA.deviceCount, 0)
        } else {
            XCTAssertNotNil(CUDA.unavailabilityReason)
            XCTAssertEqual(CUDA.deviceCount, 0)
        }
    }

    func testCheckAvailableThrowsTheReasonWhenUnavailable() throws {
        try XCTSkipIf(CUDA.isAvailable, "CUDA is available on this machine")
        XCTAssertThrowsError(try CUDA.checkAvailable(device: 0)) { error in
            guard let error = error as? CUDAError else {
                return XCTFail("expected a CUDAError, got \(error)")
            }
            XCTAssertEqual(error.description, CUDA.unavailabilityReason)
            switch error {
            case let .libraryNotFound(library, searched):
                XCTAssertEqual(library, "libcudart")
                XCTAssertTrue(error.description.hasPrefix("libcudart not found (searched: "))
                #if os(Linux)
                XCTAssertTrue(searched.contains("libcudart.so.13"), "\(searched)")
                XCTAssertTrue(searched.contains("libcudart.so.12"), "\(searched)")
                XCTAssertTrue(searched.contains("/usr/local/cuda/lib64"), "\(searched)")
                #endif
            case let .driverInsufficient(message):
                XCTAssertTrue(message.contains("driver"), message)
                XCTAssertTrue(message.hasSuffix("(cudaErrorInsufficientDriver, 35)")
                              || message.hasSuffix("(cudaErrorStubLibrary, 34)"), message)
            case .noDevice:
                XCTAssertEqual(error.description, "no CUDA device")
            case let .apiCall(function, _, _, _):
                XCTAssertEqual(function, "cudaGetDeviceCount")
            default:
                XCTFail("unexpected availability error \(error)")
            }
        }
        // Every entry point reports the same reason.
        XCTAssertThrowsError(try CUDA.properties(of: 0)) { error in
            XCTAssertEqual((error as? CUDAError)?.description, CUDA.unavailabilityReason)
        }
        XCTAssertThrowsError(try CUDA.synchronize()) { error in
            XCTAssertEqual((error as? CUDAError)?.description, CUDA.unavailabilityReason)
        }
    }

    /// The CI setup: NVIDIA's runtime wheel present, no driver. CUDA must say "driver".
    func testRuntimeWithoutDriverReportsDriverInsufficient() throws {
        try requireCUDALibrary(.cudart)
        try XCTSkipIf(CUDA.isAvailable, "CUDA is available on this machine")
        let driverVersion = try CUDARuntime.driverVersion()
        try XCTSkipUnless(driverVersion == 0, "a driver is installed (CUDA \(driverVersion))")
        XCTAssertEqual(
            CUDA.availability.error,
            .driverInsufficient(message: "CUDA driver version is insufficient for CUDA runtime "
                                + "version (cudaErrorInsufficientDriver, 35)"))
        XCTAssertEqual(
            CUDA.unavailabilityReason,
            "CUDA driver version is insufficient for CUDA runtime version (cudaErrorInsufficientDriver, 35)")
    }

    func testAvailabilityErrorClassifiesDeviceCountResults() {
        XCTAssertNil(CUDA.availabilityError(status: 0, count: 2))
        XCTAssertEqual(CUDA.availabilityError(status: 0, count: 0), .noDevice)
        XCTAssertEqual(CUDA.availabilityError(status: 100, count: 0), .noDevice)
        guard case .driverInsufficient? = CUDA.availabilityError(status: 35, count: 0) else {
            return XCTFail("error 35 is the driver error")
        }
        guard case .driverInsufficient? = CUDA.availabilityError(status: 34, count: 0) else {
            return XCTFail("error 34 (stub libcuda) is a driver error")
        }
        guard case .apiCall(function: "cudaGetDeviceCount", code: 3, _, _)? =
            CUDA.availabilityError(status: 3, count: 0) else {
            return XCTFail("other statuses name the call")
        }
    }

    func testLoaderRecordsWhereEachLibraryCameFrom() {
        for library in CUDALibrary.allCases {
            if library.isLoaded {
                let path = library.path
                XCTAssertNotNil(path, library.name)
                XCTAssertTrue(path?.contains(library.name) ?? false, "\(library.name): \(path ?? "nil")")
            } else {
                XCTAssertNil(library.path)
                XCTAssertFalse(library.searched.isEmpty, library.name)
                #if os(Linux)
                XCTAssertTrue(library.searched.contains("\(library.name).so.13"), "\(library.searched)")
                #endif
            }
        }
    }

    func testShimStatusesBecomeTypedErrors() {
        XCTAssertEqual(CUDALibrary.cudart.shimError(0, function: "cudaMalloc"), nil)
        guard case .libraryNotFound(library: "libnvrtc", _)? =
            CUDALibrary.nvrtc.shimError(-1, function: "nvrtcVersion") else {
            return XCTFail("-1 is library not found")
        }
        guard case .missingFunction(library: "libcudart", function: "cudaLibraryLoadData", _)? =
            CUDALibrary.cudart.shimError(-2, function: "cudaLibraryLoadData") else {
            return XCTFail("-2 is a missing function")
        }
    }

    func testErrorDescriptionsSayWhatToActOn() {
        XCTAssertEqual(
            CUDAError.libraryNotFound(library: "libcudart", searched: ["libcudart.so.13", "/opt/cuda"])
                .description,
            "libcudart not found (searched: libcudart.so.13, /opt/cuda)")
        XCTAssertEqual(CUDAError.noDevice.description, "no CUDA device")
        XCTAssertEqual(CUDAError.invalidDevice(index: 2, count: 1).description,
                       "invalid CUDA device cuda:2: this machine has 1 CUDA device (cuda:0)")
        XCTAssertEqual(
            CUDAError.apiCall(function: "cudaMalloc", code: 2, name: "cudaErrorMemoryAllocation",
                              message: "out of memory").description,
            "cudaMalloc failed: cudaErrorMemoryAllocation (2): out of memory")
        let oom = CUDAError.outOfMemory(device: 1, requestedBytes: 3 << 30, reservedBytes: 512 << 20)
            .description
        XCTAssertTrue(oom.hasPrefix("CUDA out of memory on cuda:1: tried to allocate 3.00 GiB (3221225472 bytes); 512.00 MiB reserved"), oom)
        XCTAssertEqual(CUDAError.compilationFailed(kernel: "add", log: "add.cu(1): error: x\n\0").description,
                       "NVRTC failed to compile kernel 'add':\nadd.cu(1): error: x")
        XCTAssertEqual(CUDAError.formatBytes(1000), "1000 bytes")
        XCTAssertEqual(CUDAError.formatBytes(1536), "1.50 KiB")
    }

    // MARK: - GPU only

    func testInvalidDeviceIndexThrows() throws {
        try XCTSkipUnless(CUDA.isAvailable, CUDA.unavailabilityReason ?? "")
        for index in [-1, CUDA.deviceCount] {
            XCTAssertThrowsError(try CUDA.checkAvailable(device: index)) { error in
                XCTAssertEqual(error as? CUDAError,
                               .invalidDevice(index: index, count: CUDA.deviceCount))
            }
        }
    }

    func testPropertiesDescribeEachDevice() throws {
        try XCTSkipUnless(CUDA.isAvailable, CUDA.unavailabilityReason ?? "")
        for index in 0..<CUDA.deviceCount {
            let properties = try CUDA.properties(of: index)
            XCTAssertEqual(properties.index, index)
            XCTAssertFalse(properties.name.isEmpty)
            XCTAssertGreaterThan(properties.totalMemory, 1 << 28)
            XCTAssertGreaterThanOrEqual(properties.computeCapability.major, 5)
            XCTAssertGreaterThan(properties.multiprocessorCount, 0)
            XCTAssertEqual(properties.warpSize, 32)
            XCTAssertTrue(properties.description.contains("cuda:\(index)"), properties.description)
            try CUDA.synchronize(index)
        }
    }
}
