import XCTest
@testable import Autograd

/// In-place operators and named mutating forms (InPlaceOps.swift).
final class InPlaceOpsTests: XCTestCase {
    func testOperatorsWithTensors() {
        var x = Tensor([1.0, 2.0, 3.0], dtype: .float64)
        x += Tensor([1.0, 1.0, 1.0], dtype: .float64)
        assertClose(x, shape: [3], [2, 3, 4])
        x -= Tensor([0.5], dtype: .float64)    // broadcast
        assertClose(x, shape: [3], [1.5, 2.5, 3.5])
        x *= Tensor([2.0, 2.0, 2.0], dtype: .float64)
        assertClose(x, shape: [3], [3, 5, 7])
        x /= Tensor([3.0, 5.0, 7.0], dtype: .float64)
        assertClose(x, shape: [3], [1, 1, 1])
        XCTAssertEqual(x.storage.version, 4)
        XCTAssertEqual(x.dtype, .float64)
    }

    func testOperatorsWithScalars() {
        var x = Tensor([1.0, 2.0], dtype: .float32)
        x += 1.5
        x -= 1
        x *= Float(4)
        x /= 2
        assertClose(x, shape: [2], [3, 5])
        XCTAssertEqual(x.dtype, .float32)
        var i = Tensor([1, 2, 3])
        i += 2
        i *= 3
        i -= 1
        XCTAssertEqual(i.scalars(as: Int.self), [8, 11, 14])
        XCTAssertEqual(i.dtype, .int64)
    }

    func testNamedFormsReturnSelfAndWriteThroughCopies() {
        let x = Tensor([1.0, 2.0], dtype: .float64)
        let alias = x
        let result = x.addInPlace(1).mulInPlace(2).subInPlace(Tensor([1.0, 1.0], dtype: .float64)).divInPlace(3)
        assertClose(alias, shape: [2], [1, 5.0 / 3])
        XCTAssertTrue(result.storage === x.storage)
        x.addInPlace(2).subInPlace(2).mulInPlace(3).divInPlace(3)
        assertClose(alias, shape: [2], [1, 5.0 / 3])
    }

    func testMixedDTypeWritesCastToTheTarget() {
        let x = Tensor([1.0, 2.0], dtype: .float32)
        x.addInPlace(Tensor([0.25, 0.5], dtype: .float64))
        XCTAssertEqual(x.dtype, .float32)
        assertClose(x, shape: [2], [1.25, 2.5])
        let f = Tensor([1.0, 2.0], dtype: .float64)
        f.mulInPlace(Tensor([2, 3]))
        assertClose(f, shape: [2], [2, 6])
        let h = Tensor([1.0, 2.0], dtype: .float16)
        h.addInPlace(Tensor([1.0, 1.0], dtype: .float16))
        assertClose(h, shape: [2], [2, 3])
    }

    func testSelfAliasingOperand() {
        let x = Tensor([1.0, 2.0, 3.0], dtype: .float64)
        x.addInPlace(x)
        assertClose(x, shape: [3], [2, 4, 6])
        let m = Tensor(shape: [2, 2], scalars: [1.0, 2.0, 3.0, 4.0])
        m.copyFrom(m.transposed(0, 1))
        assertClose(m, shape: [2, 2], [1, 3, 2, 4])
    }

    func testValidationMessages() {
        let i = Tensor([1, 2])
        assertValidationFails("add_: result type Float can't be cast to the desired output type Long") {
            try i.validateBinaryInPlace(.add, .scalar(.double(1.5)), name: "add_")
        }
        assertValidationFails("div_: result type Float can't be cast to the desired output type Long") {
            try i.validateBinaryInPlace(.div, .scalar(.int(2)), name: "div_")
        }
        assertValidationFails("add_: output with shape [3] doesn't match the broadcast shape [2, 3]") {
            try Tensor.zeros([3]).validateBinaryInPlace(.add, .tensor(Tensor.zeros([2, 3])), name: "add_")
        }
        assertValidationFails("copy_: output with shape [3] doesn't match the broadcast shape [2, 3]") {
            try Tensor.zeros([3]).validateCopy(from: Tensor.zeros([2, 3]))
        }
        assertValidationFails("the size of tensor a (3) must match the size of tensor b (2)") {
            try Tensor.zeros([3]).validateCopy(from: Tensor.zeros([2]))
        }
        assertValidationFails("clamp_: At least one of 'min' or 'max' must not be None") {
            try Tensor.zeros([2]).validateClamp(min: nil, max: nil)
        }
        assertValidationFails("clamp_: result type Float can't be cast to the desired output type Long") {
            try i.validateClamp(min: 0.5, max: nil)
        }
        XCTAssertNoThrow(try i.validateClamp(min: -1, max: 1))
        assertValidationFails("unsupported operation: more than one element of the written-to tensor refers to a single memory location. Please clone() the tensor before performing the operation.") {
            try Tensor.zeros([1]).expanded(to: [3]).validateInPlace(others: [])
        }
    }

    func testLeafRequiringGradIsRefusedWithGradModeOn() {
        let w = Tensor([1.0, 2.0], requiresGrad: true)
        assertValidationFails("a leaf Variable that requires grad is being used in an in-place operation.") {
            try w.validateInPlace(others: [])
        }
        // A plain leaf written with an operand that requires grad is fine: it gains history.
        XCTAssertNoThrow(try Tensor.zeros([2]).validateInPlace(others: [w]))
    }

    func testOptimizerStepUnderNoGrad() throws {
        let w = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        try (w * w).sum().backward()
        withNoGrad { w.subInPlace(w.grad! * 0.1) }
        assertClose(w, shape: [2], [0.8, 1.6])
        XCTAssertTrue(w.isLeaf)
        XCTAssertTrue(w.requiresGrad)
        XCTAssertEqual(w.storage.version, 1)
        w.grad = nil
        try (w * w).sum().backward()
        assertClose(w.grad!, shape: [2], [1.6, 3.2])
    }

    func testInPlaceRebasesHistoryOnSharedMetadata() throws {
        let x = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        var y = x * 2
        let copy = y
        y += 1
        XCTAssertEqual(y.gradFn?.name, "AddBackward0")
        XCTAssertEqual(copy.gradFn?.name, "AddBackward0")
        XCTAssertEqual(y.gradFn?.nextFunctions.first?.function?.name, "MulBackward0")
        y *= 3
        XCTAssertEqual(copy.gradFn?.name, "MulBackward0")
        y -= x
        XCTAssertEqual(copy.gradFn?.name, "SubBackward0")
        y /= 2
        XCTAssertEqual(copy.gradFn?.name, "DivBackward0")
        assertClose(copy, shape: [2], [(3.0 * 3 - 1) / 2, (5.0 * 3 - 2) / 2])
        try copy.sum().backward()
        // d/dx ((2x + 1) * 3 - x) / 2 = (6 - 1) / 2
        assertClose(x.grad!, shape: [2], [2.5, 2.5])
    }

    func testInPlaceGradientsForBothOperands() throws {
        let a = Tensor([1.0, -2.0], dtype: .float64, requiresGrad: true)
        let b = Tensor([3.0, 0.5], dtype: .float64, requiresGrad: true)
        let t = a * 1
        t.mulInPlace(b)          // t = a b: needs the previous values for b's gradient
        t.divInPlace(b + 1)      // t = a b / (b + 1)
        try t.sum().backward()
        // d/da = b / (b + 1); d/db = a / (b + 1) - a b / (b + 1)² = a / (b + 1)²
        assertClose(a.grad!, shape: [2], [0.75, 0.5 / 1.5])
        assertClose(b.grad!, shape: [2], [1.0 / 16, -2.0 / 2.25])
    }

    func testPlainLeafGainsHistoryFromOperand() throws {
        let w = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        let acc = Tensor.zeros([2], dtype: .float64)
        acc.addInPlace(w * 3)
        XCTAssertFalse(acc.isLeaf)
        XCTAssertTrue(acc.requiresGrad)
        XCTAssertEqual(acc.gradFn?.name, "AddBackward0")
        XCTAssertNil(acc.gradFn?.nextFunctions[0].function)
        try acc.sum().backward()
        assertClose(w.grad!, shape: [2], [3, 3])
    }

    func testNoRecordingUnderNoGrad() {
        let x = Tensor([1.0], requiresGrad: true)
        let y = x * 2
        let before = y.gradFn
        withNoGrad { y.addInPlace(1) }
        XCTAssertTrue(y.gradFn === before)
        XCTAssertEqual(y.storage.version, 1)
    }

    func testModifiedSavedTensorMakesBackwardThrow() {
        let a = Tensor([1.0, 2.0], requiresGrad: true)
        let b = a.exp()            // ExpBackward0 saves its output
        b.addInPlace(1)
        assertAutogradError("one of the variables needed for gradient computation has been modified by an inplace operation: [torch.FloatTensor [2]], which is output 0 of ExpBackward0, is at version 1; expected version 0 instead.") {
            try b.sum().backward()
        }
        let c = Tensor([1.0, 2.0], requiresGrad: true)
        let d = c * 1
        let e = d * d              // saves d at version 0
        withNoGrad { d.mulInPlace(2) }
        assertAutogradError("which is output 0 of MulBackward0, is at version 1; expected version 0 instead.") {
            try e.sum().backward()
        }
        let leaf = Tensor([1.0, 2.0], requiresGrad: true)
        let f = leaf * leaf
        withNoGrad { leaf.zero() }
        assertAutogradError("which is a leaf, is at version 1; expected version 0 instead.") { try f.sum().backward() }
    }

    func testMultiplyingByItselfInPlaceIsDetected() {
        // As in PyTorch, `t.mul_(t)` saves `t` and then overwrites it.
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let t = x * 1
        t.mulInPlace(t)
        assertAutogradError("is at version 1; expected version 0 instead.") { try t.sum().backward() }
    }

    func testFillAndZero() throws {
        let x = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        let y = x * 2
        y.fill(7)
        XCTAssertEqual(y.gradFn?.name, "FillBackward0")
        assertClose(y, shape: [2], [7, 7])
        try (y * x).sum().backward()
        assertClose(x.grad!, shape: [2], [7, 7])   // nothing flows through the overwritten values
        let z = x * 2
        z.zero()
        XCTAssertEqual(z.gradFn?.name, "ZeroBackward0")
        assertClose(z, shape: [2], [0, 0])
        let i = Tensor([1, 2, 3])
        i.fill(9_007_199_254_740_993)
        XCTAssertEqual(i.scalars(as: Int.self), [Int](repeating: 9_007_199_254_740_993, count: 3))
        let flags = Tensor([true, false])
        flags.fill(true)
        XCTAssertEqual(flags.scalars(as: Bool.self), [true, true])
    }

    func testClampInPlace() throws {
        let x = Tensor([-2.0, -0.5, 0.0, 0.5, 1.0, 3.0, .nan], dtype: .float64, requiresGrad: true)
        let y = x * 1
        y.clampInPlace(min: -1, max: 1)
        XCTAssertEqual(y.gradFn?.name, "ClampBackward1")
        assertClose(y, shape: [7], [-1, -0.5, 0, 0.5, 1, 1, .nan])
        try y.sum().backward()
        assertClose(x.grad!, shape: [7], [0, 1, 1, 1, 1, 0, 0])
        let lower = Tensor([-2.0, 2.0]).clampInPlace(min: 0)
        assertClose(lower, shape: [2], [0, 2])
        let upper = Tensor([-2.0, 2.0]).clampInPlace(max: 0)
        assertClose(upper, shape: [2], [-2, 0])
        let crossed = Tensor([-2.0, 0.5, 2.0]).clampInPlace(min: 1, max: 0)
        assertClose(crossed, shape: [3], [0, 0, 0])
        let ints = Tensor([-5, 5]).clampInPlace(min: -1, max: 1)
        XCTAssertEqual(ints.scalars(as: Int.self), [-1, 1])
    }

    func testCopyFrom() throws {
        let src = Tensor([1.0, 2.0, 3.0], dtype: .float64, requiresGrad: true)
        let buffer = Tensor.zeros([2, 3], dtype: .float32)
        buffer.copyFrom(src)
        XCTAssertEqual(buffer.dtype, .float32)
        XCTAssertEqual(buffer.gradFn?.name, "CopyBackwards")
        assertClose(buffer, shape: [2, 3], [1, 2, 3, 1, 2, 3])
        try (buffer * Tensor(shape: [2, 3], scalars: [Float(1), 2, 3, 4, 5, 6])).sum().backward()
        XCTAssertEqual(src.grad?.dtype, .float64)
        assertClose(src.grad!, shape: [3], [5, 7, 9])
        let ints = Tensor.zeros([2], dtype: .int32)
        ints.copyFrom(Tensor([1.7, -2.2]))
        XCTAssertEqual(ints.scalars(as: Int.self), [1, -2])
    }

    func testGradcheckThroughInPlaceOps() {
        assertGradcheck([randomLeaf([3], seed: 2), randomLeaf([3], seed: 3, shift: 3)]) { inputs in
            let t = inputs[0] * 1
            t.mulInPlace(inputs[1])
            t.addInPlace(inputs[0].pow(2))
            t.divInPlace(inputs[1])
            t.subInPlace(0.5)
            t.mulInPlace(2.0)
            return t
        }
        assertGradgradcheck([randomLeaf([3], seed: 4), randomLeaf([3], seed: 5, shift: 3)]) { inputs in
            let t = inputs[0] * inputs[0]
            t.mulInPlace(inputs[1])
            t.divInPlace(inputs[1] * inputs[0])
            return t
        }
    }

    func testRetainGradFollowsTheRebasedHistory() throws {
        let x = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        let t = x * 1
        t.retainGrad()
        t.mulInPlace(5.0)
        try (t * 2).sum().backward()
        // PyTorch: the retained gradient is that of the tensor's current value.
        assertClose(t.grad!, shape: [2], [2, 2])
        assertClose(x.grad!, shape: [2], [10, 10])
    }
}
