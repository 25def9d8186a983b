import Foundation
import XCTest
@testable import Autograd

/// Grad mode, inference mode and anomaly detection (GradMode.swift).
final class GradModeTests: XCTestCase {
    func testNoGradRecordsNothing() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let y = withNoGrad { x * 2 }
        XCTAssertNil(y.gradFn)
        XCTAssertFalse(y.requiresGrad)
        XCTAssertTrue(y.isLeaf)
        XCTAssertTrue(GradMode.isEnabled)
        withNoGrad { XCTAssertFalse(GradMode.isEnabled) }
    }

    func testGradInsideNoGradRecords() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let (inner, outer) = withNoGrad { () -> (Tensor, Tensor) in
            let inner = withGrad { x * 2 }
            return (inner, x * 3)
        }
        XCTAssertEqual(inner.gradFn?.name, "MulBackward0")
        XCTAssertNil(outer.gradFn)
        withNoGrad { withGrad { XCTAssertTrue(GradMode.isEnabled) } }
    }

    func testModesNestAndRestore() throws {
        struct Failure: Error {}
        XCTAssertThrowsError(try withNoGrad { throw Failure() })
        XCTAssertTrue(GradMode.isEnabled)
        withNoGrad { withNoGrad {}; XCTAssertFalse(GradMode.isEnabled) }
        withInferenceMode {
            XCTAssertTrue(GradMode.isInferenceMode)
            withInferenceMode(false) { XCTAssertFalse(GradMode.isInferenceMode) }
        }
        XCTAssertFalse(GradMode.isInferenceMode)
    }

    func testInferenceMode() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let y = withInferenceMode { withGrad { x * 2 } }
        XCTAssertNil(y.gradFn)
        XCTAssertFalse(y.requiresGrad)
        XCTAssertTrue(y.isInference)
        XCTAssertFalse(x.isInference)
        XCTAssertFalse((x * 2).isInference)
        // A view of a normal tensor stays normal.
        XCTAssertFalse(withInferenceMode { x.reshaped([2, 1]) }.isInference)
    }

    func testInferenceTensorsCannotBeSavedForBackward() {
        let w = Tensor([1.0, 2.0], requiresGrad: true)
        let frozen = withInferenceMode { Tensor([3.0, 4.0]) * 1 }
        // Used without being saved (addition): fine.
        XCTAssertNoThrow(try (w + frozen).sum().backward())
        let product = w * frozen
        assertAutogradError("Inference tensors cannot be saved for backward. To work around you can make a clone to get a normal tensor and use it in autograd.") {
            try product.sum().backward()
        }
        // The documented work-around.
        XCTAssertNoThrow(try (w * frozen.clone()).sum().backward())
    }

    func testInferenceTensorRestrictionsOutsideInferenceMode() {
        let frozen = withInferenceMode { Tensor.zeros([2]) }
        assertValidationFails("Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.") {
            try frozen.validateRequiresGrad(true)
        }
        assertValidationFails("Inplace update to inference tensor outside InferenceMode is not allowed.You can make a clone to get a normal tensor before doing inplace update.") {
            try frozen.validateInPlace(others: [])
        }
        withInferenceMode { frozen.addInPlace(1) }
        assertClose(frozen, shape: [2], [1, 1])
    }

    func testGradModeIsThreadLocal() {
        let otherThreadSaw = EventLog()
        withNoGrad {
            let done = DispatchSemaphore(value: 0)
            let thread = Thread {
                otherThreadSaw.append("\(GradMode.isEnabled)")
                let x = Tensor([1.0], requiresGrad: true)
                otherThreadSaw.append("\((x * 2).requiresGrad)")
                done.signal()
            }
            thread.start()
            done.wait()
            XCTAssertFalse(GradMode.isEnabled)
        }
        XCTAssertEqual(otherThreadSaw.events, ["true", "true"])
    }

    func testGradModeIsTaskScoped() async {
        let x = Tensor([1.0], requiresGrad: true)
        // Child tasks inherit the scope (task-local values); a detached task does not.
        let inherited = await withNoGrad { () async -> Bool in
            async let child = GradMode.isEnabled
            return await child
        }
        XCTAssertFalse(inherited)
        let detached = await withNoGrad { () async -> Bool in
            await Task.detached { GradMode.isEnabled }.value
        }
        XCTAssertTrue(detached)
        let recorded = await Task.detached { (x * 2).requiresGrad }.value
        XCTAssertTrue(recorded)
    }

    func testAnomalyModeNamesTheNodeAndWhereItWasCreated() throws {
        let x = Tensor([0.0, 1.0], dtype: .float64, requiresGrad: true)
        var creationLine: UInt = 0
        let y = withAnomalyDetection { () -> Tensor in
            creationLine = #line + 1
            let root = x.sqrt()
            return root.pow(2).sum()
        }
        let context = try XCTUnwrap(y.gradFn?.nextFunctions[0].function?.nextFunctions[0].function?.creationContext)
        XCTAssertTrue(context.contains("GradModeTests.swift:\(creationLine)"), context)
        do {
            try withAnomalyDetection { try y.backward() }
            XCTFail("expected an anomaly")
        } catch let error as AutogradError {
            guard case .anomaly(let node, let output, let value, let createdAt) = error else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(node, "SqrtBackward0")
            XCTAssertEqual(output, 0)
            XCTAssertEqual(value, "nan")
            XCTAssertTrue(createdAt?.contains("GradModeTests.swift:\(creationLine)") ?? false, createdAt ?? "nil")
            XCTAssertTrue(error.description.hasPrefix("Function 'SqrtBackward0' returned nan values in its 0th output."), error.description)
        }
    }

    func testAnomalyModeReportsInfinity() {
        let x = Tensor([0.0, 1.0], dtype: .float64, requiresGrad: true)
        let y = x.log().sum()
        assertAutogradError("Function 'LogBackward0' returned inf values in its 0th output.") {
            try withAnomalyDetection { try y.backward() }
        }
    }

    func testWithoutAnomalyModeNonFiniteGradientsPass() throws {
        let x = Tensor([0.0, 1.0], dtype: .float64, requiresGrad: true)
        let y = x.sqrt().pow(2).sum()
        XCTAssertNil(y.gradFn?.creationContext)
        XCTAssertFalse(AnomalyMode.isEnabled)
        try y.backward()
        XCTAssertTrue(values(x.grad!)[0].isNaN)
    }
}
