import XCTest
@testable import Autograd

final class EngineTests: XCTestCase {
    func testBackwardTwiceWithoutRetainGraphThrows() throws {
        let x = Tensor(3.0, requiresGrad: true)
        let y = x.pow(2)
        try y.backward()
        XCTAssertThrowsError(try y.backward()) { error in
            XCTAssertEqual(error as? AutogradError, .graphFreed)
            XCTAssertTrue("\(error)".hasPrefix("Trying to backward through the graph a second time"))
        }
    }

    func testRetainGraphAllowsSecondBackward() throws {
        let x = Tensor(3.0, requiresGrad: true)
        let y = x.pow(2)
        try y.backward(retainGraph: true)
        try y.backward()
        XCTAssertEqual(x.grad!.item(), 12)
    }

    func testNonScalarBackwardNeedsGradient() throws {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let y = x * 2
        XCTAssertThrowsError(try y.backward()) { error in
            XCTAssertEqual(error as? AutogradError, .nonScalarOutput(shape: [2]))
            XCTAssertTrue("\(error)".contains("grad can be implicitly created only for scalar outputs"))
        }
        try y.backward(Tensor([1.0, 10.0]))
        XCTAssertEqual(x.grad!.scalars(as: Float.self), [2, 20])
    }

    func testBackwardOfTensorWithoutGradThrows() {
        let x = Tensor(1.0)
        XCTAssertThrowsError(try (x * 2).backward()) { error in
            XCTAssertEqual("\(error)", "element 0 of tensors does not require grad and does not have a gradFn")
        }
    }

    func testGradientShapeMismatchThrows() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        XCTAssertThrowsError(try (x * 2).backward(Tensor([1.0, 2.0, 3.0]))) { error in
            XCTAssertTrue("\(error)".contains("Mismatch in shape"))
        }
    }

    func testIntegerRequiresGradIsRejected() {
        let x = Tensor([1, 2])
        assertValidationFails("only Tensors of floating point and complex dtype can require gradients") {
            try x.validateRequiresGrad(true)
        }
        let y = Tensor([1.0], requiresGrad: true) * 2
        assertValidationFails("you can only change requiresGrad flags of leaf variables") {
            try y.validateRequiresGrad(false)
        }
    }

    func testReuseSumsGradients() throws {
        let x = Tensor([1.0, -2.0, 3.0], dtype: .float64, requiresGrad: true)
        try (x * x).sum().backward()
        XCTAssertEqual(x.grad!.scalars(as: Double.self), [2, -4, 6])
    }

    func testBroadcastGradientIsReducedToInputShape() throws {
        let a = Tensor(shape: [2, 3], scalars: [1.0, 2, 3, 4, 5, 6], requiresGrad: true)
        let b = Tensor(shape: [3], scalars: [1.0, 1, 1], requiresGrad: true)
        let c = Tensor(shape: [2, 1], scalars: [2.0, 3.0], requiresGrad: true)
        try (a * b * c).sum().backward()
        XCTAssertEqual(b.grad!.shape, [3])
        XCTAssertEqual(c.grad!.shape, [2, 1])
        // d/db_j = Σ_i a_ij c_i: [1·2 + 4·3, 2·2 + 5·3, 3·2 + 6·3].
        XCTAssertEqual(b.grad!.scalars(as: Double.self), [14, 19, 24])
        // d/dc_i = Σ_j a_ij b_j: [6, 15].
        XCTAssertEqual(c.grad!.scalars(as: Double.self), [6, 15])
    }

    func testMixedDtypeGradientIsCastBack() throws {
        let a = Tensor([1.0, 2.0], requiresGrad: true)              // float32
        let b = Tensor([3.0, 4.0], dtype: .float64, requiresGrad: true)
        let y = a * b
        XCTAssertEqual(y.dtype, .float64)
        try y.sum().backward()
        XCTAssertEqual(a.grad!.dtype, .float32)
        XCTAssertEqual(a.grad!.scalars(as: Float.self), [3, 4])
    }

    func testReadyQueueRunsLatestNodeFirst() throws {
        // Two branches from one leaf: the engine must wait for both before accumulating once.
        let x = Tensor(2.0, dtype: .float64, requiresGrad: true)
        let y = x.exp() + x.pow(3) + x * 5
        try y.backward()
        XCTAssertEqual(x.grad!.item(), Foundation.exp(2) + 12 + 5, accuracy: 1e-12)
    }

    func testDeepChainBackwardAndTeardownDoNotOverflowTheStack() throws {
        let x = Tensor(1.0, dtype: .float64, requiresGrad: true)
        var y = x
        for _ in 0..<100_000 { y = y * 1.0 }
        try y.backward()
        XCTAssertEqual(x.grad!.item(), 1)
        weak var firstNode: GradFn?
        do {
            var z = x
            for i in 0..<100_000 {
                z = z + 1.0
                if i == 0 { firstNode = z.gradFn }
            }
            XCTAssertNotNil(firstNode)
        }
        // Dropping the last tensor releases the whole chain iteratively.
        XCTAssertNil(firstNode)
    }

    func testNoGradDoesNotRecord() {
        let x = Tensor(2.0, requiresGrad: true)
        let y = withNoGrad { x * 3 }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertNil(y.gradFn)
        let z = withNoGrad { withGrad { x * 3 } }
        XCTAssertEqual(z.gradFn?.name, "MulBackward0")
    }

    func testDetachSharesStorageButNotGraph() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let d = (x * 2).detach()
        XCTAssertFalse(d.requiresGrad)
        XCTAssertTrue(d.isLeaf)
    }
}

import Foundation
