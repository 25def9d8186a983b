import XCTest
@testable import Autograd

private enum Cube: CustomFunction {
    static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) throws -> Tensor {
        XCTAssertFalse(GradMode.isEnabled)
        ctx.saveForBackward(inputs[0])
        return inputs[0] * inputs[0] * inputs[0]
    }

    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) throws -> [Tensor?] {
        let x = try ctx.savedTensors[0]
        return [gradOutput * 3 * x * x]
    }
}

/// `a * b * scale`, with the scale passed as a value and a gradient only where needed.
private enum ScaledProduct: CustomFunction {
    static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) throws -> Tensor {
        ctx.saveForBackward(inputs)
        let scale = ctx.values["scale"] as? Double ?? 1
        return inputs[0] * inputs[1] * scale
    }

    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) throws -> [Tensor?] {
        let saved = try ctx.savedTensors
        let scale = ctx.values["scale"] as? Double ?? 1
        return [ctx.needsInputGrad[0] ? gradOutput * saved[1] * scale : nil,
                ctx.needsInputGrad[1] ? gradOutput * saved[0] * scale : nil]
    }
}

/// A cube whose backward is wrong (2x² instead of 3x²).
private enum WrongCube: CustomFunction {
    static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) throws -> Tensor {
        ctx.saveForBackward(inputs[0])
        return inputs[0].pow(3)
    }

    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) throws -> [Tensor?] {
        let x = try ctx.savedTensors[0]
        return [gradOutput * 2 * x * x]
    }
}

/// A cube whose backward is right but not differentiable (it detaches x): second
/// derivatives through it are wrong.
private enum OpaqueCube: CustomFunction {
    static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) throws -> Tensor {
        ctx.saveForBackward(inputs[0])
        return inputs[0].pow(3)
    }

    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) throws -> [Tensor?] {
        let x = try ctx.savedTensors[0].detach()
        return [gradOutput * 3 * x * x]
    }
}

private enum TooManyGradients: CustomFunction {
    static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) throws -> Tensor { inputs[0] * 2 }
    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) throws -> [Tensor?] { [gradOutput, gradOutput] }
}

private enum WrongShape: CustomFunction {
    static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) throws -> Tensor { inputs[0].sum() }
    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) throws -> [Tensor?] {
        [Tensor.ones([3], dtype: gradOutput.dtype)]
    }
}

private enum Identity: CustomFunction {
    static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) throws -> Tensor { inputs[0] }
    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) throws -> [Tensor?] { [gradOutput] }
}

private struct ForwardFailure: Error {}

private enum Failing: CustomFunction {
    static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) throws -> Tensor { throw ForwardFailure() }
    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) throws -> [Tensor?] { [gradOutput] }
}

/// User-defined differentiable functions (CustomFunction.swift).
final class CustomFunctionTests: XCTestCase {
    func testForwardBackwardAndNodeName() throws {
        let x = Tensor([1.0, -2.0], dtype: .float64, requiresGrad: true)
        let y = try Tensor.apply(Cube.self, [x])
        assertClose(y, shape: [2], [1, -8])
        XCTAssertEqual(y.gradFn?.name, "CubeBackward")
        XCTAssertEqual(y.gradFn?.description, "<CubeBackward>")
        XCTAssertEqual(y.gradFn?.nextFunctions.map { $0.function?.name }, ["AccumulateGrad"])
        try y.sum().backward()
        assertClose(x.grad!, shape: [2], [3, 12])
    }

    func testSecondDerivativeThroughCustomBackward() throws {
        let x = Tensor([1.0, -2.0], dtype: .float64, requiresGrad: true)
        let d1 = try grad(of: [try Tensor.apply(Cube.self, [x]).sum()], wrt: [x], createGraph: true)[0]!
        let d2 = try grad(of: [d1.sum()], wrt: [x])[0]!
        assertClose(d2, shape: [2], [6, -12])
    }

    func testNeedsInputGradAndValues() throws {
        let a = Tensor([2.0], dtype: .float64, requiresGrad: true)
        let b = Tensor([5.0], dtype: .float64)
        let y = try Tensor.apply(ScaledProduct.self, [a, b], values: ["scale": 0.5])
        assertClose(y, shape: [1], [5])
        XCTAssertEqual(y.gradFn?.nextFunctions.count, 2)
        XCTAssertNil(y.gradFn?.nextFunctions[1].function)
        try y.sum().backward()
        assertClose(a.grad!, shape: [1], [2.5])
        XCTAssertNil(b.grad)
    }

    func testNothingIsRecordedWithoutGrad() throws {
        let x = Tensor([1.0])
        XCTAssertNil(try Tensor.apply(Cube.self, [x]).gradFn)
        let w = Tensor([1.0], requiresGrad: true)
        XCTAssertNil(try withNoGrad { try Tensor.apply(Cube.self, [w]) }.gradFn)
    }

    func testReturningAnInputGivesANewIdentity() throws {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let y = try Tensor.apply(Identity.self, [x])
        XCTAssertTrue(x.isLeaf)
        XCTAssertEqual(y.gradFn?.name, "IdentityBackward")
        try (y * 2).sum().backward()
        assertClose(x.grad!, shape: [2], [2, 2])
    }

    func testForwardErrorsPropagate() {
        XCTAssertThrowsError(try Tensor.apply(Failing.self, [Tensor([1.0], requiresGrad: true)])) { error in
            XCTAssertTrue(error is ForwardFailure)
        }
    }

    func testWrongGradientCount() throws {
        let x = Tensor([1.0], requiresGrad: true)
        let y = try Tensor.apply(TooManyGradients.self, [x])
        assertAutogradError("function TooManyGradientsBackward returned an incorrect number of gradients (expected 1, got 2)") {
            try y.sum().backward()
        }
    }

    func testWrongGradientShape() throws {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let y = try Tensor.apply(WrongShape.self, [x])
        assertAutogradError("Function WrongShapeBackward returned an invalid gradient at index 0 - got [3] but expected shape compatible with [2]") {
            try y.backward()
        }
    }

    func testSavedTensorsAreVersionChecked() throws {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let h = x * 1
        let y = try Tensor.apply(Cube.self, [h])
        withNoGrad { h.addInPlace(1) }
        assertAutogradError("which is output 0 of MulBackward0, is at version 1; expected version 0 instead.") {
            try y.sum().backward()
        }
    }

    func testSavedTensorsAreFreedAfterBackward() throws {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let y = try Tensor.apply(Cube.self, [x]).sum()
        try y.backward()
        assertAutogradError("Trying to backward through the graph a second time") { try y.backward() }
        let z = try Tensor.apply(Cube.self, [x]).sum()
        try z.backward(retainGraph: true)
        try z.backward()
        assertClose(x.grad!, shape: [2], [9, 36])
    }

    func testGradcheckAcceptsCorrectAndRejectsWrongFunctions() throws {
        let x = randomLeaf([3], seed: 11)
        XCTAssertTrue(try gradcheck({ try Tensor.apply(Cube.self, $0) }, inputs: [x]))
        XCTAssertThrowsError(try gradcheck({ try Tensor.apply(WrongCube.self, $0) }, inputs: [x])) { error in
            let message = (error as? GradcheckError)?.message ?? ""
            XCTAssertTrue(message.hasPrefix("Jacobian mismatch for output 0 with respect to input 0,\nnumerical:"), message)
            XCTAssertTrue(message.contains("analytical:"), message)
        }
    }

    func testGradgradcheckRejectsANonDifferentiableBackward() throws {
        let x = randomLeaf([3], seed: 12)
        XCTAssertTrue(try gradgradcheck({ try Tensor.apply(Cube.self, $0) }, inputs: [x]))
        // First derivatives are right...
        XCTAssertTrue(try gradcheck({ try Tensor.apply(OpaqueCube.self, $0) }, inputs: [x]))
        // ...second derivatives are not.
        XCTAssertThrowsError(try gradgradcheck({ try Tensor.apply(OpaqueCube.self, $0) }, inputs: [x])) { error in
            XCTAssertTrue(error is GradcheckError, "\(error)")
        }
    }
}
