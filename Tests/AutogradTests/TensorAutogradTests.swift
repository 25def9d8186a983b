import XCTest
@testable import Autograd

/// `backward`, leaves, `requiresGrad`, `detach`, `.grad` and `retainGrad` (Tensor+Autograd.swift).
final class TensorAutogradTests: XCTestCase {
    func testSeedNotebook() throws {
        let study = Tensor(5.0, requiresGrad: true)
        let happy = Tensor(6.0, requiresGrad: true)
        let grade = study.pow(3) - happy.pow(2)
        XCTAssertEqual(grade.item(), 89)
        XCTAssertEqual(grade.gradFn?.name, "SubBackward0")
        XCTAssertEqual(grade.gradFn?.nextFunctions.map { $0.function?.name }, ["PowBackward0", "PowBackward0"])
        XCTAssertEqual(grade.gradFn?.nextFunctions[0].function?.nextFunctions[0].function?.name, "AccumulateGrad")
        XCTAssertNil(study.grad)
        try grade.backward()
        XCTAssertEqual(study.grad?.item(), 75)
        XCTAssertEqual(happy.grad?.item(), -12)
    }

    func testBackwardWithGradientOnNonScalar() throws {
        let x = Tensor([1.0, 2.0, 3.0], dtype: .float64, requiresGrad: true)
        let y = x * x
        try y.backward(Tensor([1.0, 0.5, 2.0], dtype: .float64))
        assertClose(x.grad!, shape: [3], [2, 2, 12])
    }

    func testBackwardAccumulatesAcrossCalls() throws {
        let x = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        try (x * 3).sum().backward()
        try (x * x).sum().backward()
        assertClose(x.grad!, shape: [2], [5, 7])
    }

    func testBackwardTwiceWithoutRetainGraphThrows() throws {
        let x = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        let y = (x * x).sum()
        try y.backward()
        XCTAssertThrowsError(try y.backward()) { error in
            XCTAssertEqual(error as? AutogradError, .graphFreed)
        }
        assertAutogradError("Trying to backward through the graph a second time") { try y.backward() }
    }

    func testRetainGraphAllowsASecondBackward() throws {
        let x = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        let y = (x * x).sum()
        try y.backward(retainGraph: true)
        try y.backward()
        assertClose(x.grad!, shape: [2], [4, 8])
        XCTAssertThrowsError(try y.backward())
    }

    func testNodesWithoutSavedTensorsCanBeWalkedTwice() throws {
        // As in PyTorch, only saved tensors are freed: a graph of additions walks again.
        let x = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        let y = (x + 1).sum()
        try y.backward()
        try y.backward()
        assertClose(x.grad!, shape: [2], [2, 2])
    }

    func testBackwardOnLeafSetsItsGrad() throws {
        let x = Tensor(2.0, requiresGrad: true)
        try x.backward()
        XCTAssertEqual(x.grad?.item(), 1)
    }

    func testBackwardErrors() {
        let plain = Tensor([1.0, 2.0])
        assertAutogradError("element 0 of tensors does not require grad and does not have a gradFn") { try plain.backward() }
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let y = x * 2
        assertAutogradError("grad can be implicitly created only for scalar outputs") { try y.backward() }
        assertAutogradError("Mismatch in shape: gradient 0 has a shape of [3] and output 0 has a shape of [2].") {
            try y.backward(Tensor([1.0, 1.0, 1.0]))
        }
        assertAutogradError("the gradient must be floating") { try y.backward(Tensor([1, 1])) }
        assertAutogradError("One of the differentiated Tensors does not require grad") {
            try y.sum().backward(inputs: [plain])
        }
    }

    func testBackwardGradientIsConvertedToOutputDType() throws {
        let x = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        try (x * 2).backward(Tensor([1.0, 1.0], dtype: .float32))
        XCTAssertEqual(x.grad?.dtype, .float64)
        assertClose(x.grad!, shape: [2], [2, 2])
    }

    func testBackwardInputsAccumulatesOnlyIntoThem() throws {
        let a = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        let b = Tensor([3.0, 4.0], dtype: .float64, requiresGrad: true)
        let mid = a * b
        let y = (mid * mid).sum()
        try y.backward(retainGraph: true, inputs: [a])
        assertClose(a.grad!, shape: [2], [2 * 3 * 3, 2 * 8 * 4])
        XCTAssertNil(b.grad)
        try y.backward(inputs: [mid])
        assertClose(mid.grad!, shape: [2], [6, 16])
        XCTAssertNil(b.grad)
    }

    func testCreateGraphSecondDerivativeOfCube() throws {
        // d²/dx² x³ = 6x, through backward(createGraph:).
        let x = Tensor([1.0, 2.0, -3.0], dtype: .float64, requiresGrad: true)
        try x.pow(3).sum().backward(createGraph: true)
        let first = try XCTUnwrap(x.grad)
        assertClose(first, shape: [3], [3, 12, 27])
        XCTAssertTrue(first.requiresGrad)
        x.grad = nil
        try first.sum().backward()
        assertClose(x.grad!, shape: [3], [6, 12, -18])
    }

    func testCreateGraphThirdDerivative() throws {
        let x = Tensor([0.5, 2.0], dtype: .float64, requiresGrad: true)
        let y = x.pow(4).sum()
        let d1 = try grad(of: [y], wrt: [x], createGraph: true)[0]!
        let d2 = try grad(of: [d1.sum()], wrt: [x], createGraph: true)[0]!
        let d3 = try grad(of: [d2.sum()], wrt: [x])[0]!
        assertClose(d1, shape: [2], [4 * 0.125, 32])
        assertClose(d2, shape: [2], [12 * 0.25, 48])
        assertClose(d3, shape: [2], [12, 48])
    }

    func testGradOfLeafWithCreateGraphDoesNotAliasTheCotangent() throws {
        let x = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        let v = Tensor([1.0, 1.0], dtype: .float64)
        try (x + 1).backward(v, createGraph: true)
        v.fill(5)
        assertClose(x.grad!, shape: [2], [1, 1])
    }

    func testLeavesAndRequiresGrad() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let c = Tensor([1.0, 2.0])
        let y = x * 2
        XCTAssertTrue(x.isLeaf)
        XCTAssertTrue(c.isLeaf)
        XCTAssertFalse(y.isLeaf)
        XCTAssertTrue(y.requiresGrad)
        XCTAssertFalse((c * 2).requiresGrad)
        XCTAssertTrue((c * 2).isLeaf)
        c.requiresGrad = true
        XCTAssertTrue(c.requiresGrad)
        c.requiresGrad = false
        XCTAssertFalse(c.requiresGrad)
        assertValidationFails("you can only change requiresGrad flags of leaf variables.") { try y.validateRequiresGrad(false) }
        assertValidationFails("you can only change requiresGrad flags of leaf variables.") { try y.validateRequiresGrad(true) }
        assertValidationFails("only Tensors of floating point and complex dtype can require gradients") {
            try Tensor([1, 2]).validateRequiresGrad(true)
        }
    }

    func testCopiesShareAutogradIdentity() throws {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let alias = x
        try (x * x).sum().backward()
        assertClose(alias.grad!, shape: [2], [2, 4])
        alias.grad = nil
        XCTAssertNil(x.grad)
    }

    func testLeafGradNeverAliasesAGradientStillHeld() throws {
        // AddBackward0 passes the caller's `g` through unchanged: `.grad` must be a copy.
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let g = Tensor([3.0, 4.0])
        try (x + 0).backward(g)
        withNoGrad { g.addInPlace(1) }
        assertClose(x.grad!, shape: [2], [3, 4])
        // A freshly computed gradient is adopted; later backward passes still add into it.
        let y = Tensor([1.0, 2.0], requiresGrad: true)
        try (y * 2).sum().backward()
        let first = y.grad!
        try (y * 2).sum().backward()
        assertClose(y.grad!, shape: [2], [4, 4])
        assertClose(first, shape: [2], [4, 4])
        // An expanded (stride-0) gradient is copied, so accumulation never writes one element twice.
        let z = Tensor([1.0, 2.0, 3.0], requiresGrad: true)
        try z.sum().backward()
        try z.sum().backward()
        assertClose(z.grad!, shape: [3], [2, 2, 2])
    }

    func testDetach() throws {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let y = x * 2
        let d = y.detach()
        XCTAssertNil(d.gradFn)
        XCTAssertFalse(d.requiresGrad)
        XCTAssertTrue(d.isLeaf)
        // Shares elements and the version counter with the original.
        withNoGrad { d.addInPlace(1) }
        assertClose(y, shape: [2], [3, 5])
        XCTAssertEqual(y.storage.version, 1)
        // Graphs built on the detached tensor stop there.
        let z = (d * x).sum()
        try z.backward()
        assertClose(x.grad!, shape: [2], [3, 5])
    }

    func testClearingGrad() throws {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        try (x * 3).sum().backward()
        x.grad = nil
        XCTAssertNil(x.grad)
        try (x * 2).sum().backward()
        assertClose(x.grad!, shape: [2], [2, 2])
        x.grad = Tensor.zeros([2])
        try (x * 2).sum().backward()
        assertClose(x.grad!, shape: [2], [2, 2])
    }

    func testGradIsUpdatedInPlaceAcrossBackwards() throws {
        // As in PyTorch, a later backward accumulates into the same `.grad` tensor.
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        try (x * 3).sum().backward()
        let held = try XCTUnwrap(x.grad)
        try (x * 3).sum().backward()
        assertClose(held, shape: [2], [6, 6])
    }

    func testRetainGrad() throws {
        let x = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        let y = x * x
        let z = y * 3
        y.retainGrad()
        y.retainGrad()  // a second call changes nothing
        XCTAssertTrue(y.retainsGrad)
        XCTAssertFalse(z.retainsGrad)
        x.retainGrad()  // no-op on a leaf
        XCTAssertFalse(x.retainsGrad)
        try z.sum().backward()
        assertClose(y.grad!, shape: [2], [3, 3])
        XCTAssertNil(z.grad)
        assertClose(x.grad!, shape: [2], [6, 12])
        assertValidationFails("can't retain_grad on Tensor that has requires_grad=False") {
            try Tensor([1.0]).validateRetainGrad()
        }
    }

    func testRetainGradAccumulatesAndIsDifferentiableWithCreateGraph() throws {
        let x = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        let y = x * x
        y.retainGrad()
        let out = (y * x).sum()   // d out / dy = x
        try out.backward(createGraph: true)
        let gy = try XCTUnwrap(y.grad)
        XCTAssertTrue(gy.requiresGrad)
        assertClose(gy, shape: [2], [1, 2])
        try out.backward(retainGraph: true)
        assertClose(y.grad!, shape: [2], [2, 4])
    }
}

extension TensorAutogradTests {
    func testAssignedGradIsValidated() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        assertValidationFails("assigned grad has data of a different size") { try x.validateAssignedGrad(Tensor([1.0])) }
        assertValidationFails("assigned grad has data of a different type") {
            try x.validateAssignedGrad(Tensor([1.0, 2.0], dtype: .float64))
        }
        XCTAssertNoThrow(try x.validateAssignedGrad(Tensor([0.5, 0.5])))
    }
}
