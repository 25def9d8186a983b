import XCTest
@testable import Autograd

/// Asserts `actual` has `expected`'s shape and values within `|a − e| ≤ atol + rtol·|e|`,
/// reporting the first failing index and the worst error. NaNs must match NaNs.
func assertClose(_ actual: Tensor, _ expected: Tensor, _ tolerance: Tolerance.Pair? = nil,
                 _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, expected.shape, "shape differs. \(message())", file: file, line: line)
    guard actual.shape == expected.shape else { return }
    let tol = tolerance ?? Tolerance.elementwise(expected.dtype)
    let a = actual.to(.float64).scalars(as: Double.self)
    let e = expected.to(.float64).scalars(as: Double.self)
    assertClose(a, e, tol, message(), file: file, line: line)
}

/// Asserts a tensor's values (row-major) equal `expected` within tolerance, and its shape.
func assertClose(_ actual: Tensor, shape: [Int], _ expected: [Double], _ tolerance: Tolerance.Pair? = nil,
                 _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, shape, "shape differs. \(message())", file: file, line: line)
    let tol = tolerance ?? Tolerance.elementwise(actual.dtype)
    assertClose(actual.to(.float64).scalars(as: Double.self), expected, tol, message(), file: file, line: line)
}

/// Compares two arrays elementwise within tolerance.
func assertClose(_ a: [Double], _ e: [Double], _ tol: Tolerance.Pair, _ message: @autoclosure () -> String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, e.count, "element count differs. \(message())", file: file, line: line)
    guard a.count == e.count else { return }
    var firstBad: Int? = nil
    var worst = 0.0
    for i in 0..<a.count {
        if a[i].isNaN && e[i].isNaN { continue }
        if a[i] == e[i] { continue }
        let err = Swift.abs(a[i] - e[i])
        if !(err <= tol.atol + tol.rtol * Swift.abs(e[i])) {
            if firstBad == nil { firstBad = i }
            worst = Swift.max(worst, err.isNaN ? .infinity : err)
        }
    }
    if let i = firstBad {
        XCTFail("values differ at index \(i): got \(a[i]), expected \(e[i]); worst error \(worst) (rtol \(tol.rtol), atol \(tol.atol)). \(message())",
                file: file, line: line)
    }
}

/// Runs `gradcheck` in float64 and fails the test with its message.
func assertGradcheck(_ inputs: [Tensor], file: StaticString = #filePath, line: UInt = #line,
                     _ function: @escaping ([Tensor]) throws -> Tensor) {
    do {
        try gradcheck(function, inputs: inputs, atol: Tolerance.gradcheck.atol, rtol: Tolerance.gradcheck.rtol)
    } catch {
        XCTFail("gradcheck failed: \(error)", file: file, line: line)
    }
}

/// Runs `gradgradcheck` in float64 and fails the test with its message.
func assertGradgradcheck(_ inputs: [Tensor], file: StaticString = #filePath, line: UInt = #line,
                         _ function: @escaping ([Tensor]) throws -> Tensor) {
    do {
        try gradgradcheck(function, inputs: inputs, atol: Tolerance.gradcheck.atol, rtol: Tolerance.gradcheck.rtol)
    } catch {
        XCTFail("gradgradcheck failed: \(error)", file: file, line: line)
    }
}

/// Asserts that a throwing validator fails with a message containing `fragment`.
func assertValidationFails(_ fragment: String, file: StaticString = #filePath, line: UInt = #line,
                           _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("expected a validation error containing '\(fragment)'", file: file, line: line)
    } catch let error as ShapeError {
        XCTAssertTrue(error.message.contains(fragment), "message '\(error.message)' lacks '\(fragment)'", file: file, line: line)
    } catch {
        XCTFail("expected a ShapeError, got \(error)", file: file, line: line)
    }
}

/// A float64 leaf requiring grad with seeded normal values, optionally shifted.
func randomLeaf(_ shape: [Int], seed: UInt64, shift: Double = 0, dtype: DType = .float64) -> Tensor {
    let t = (Tensor.randn(shape, dtype: .float64, seed: seed) + shift).to(dtype).detach()
    t.requiresGrad = true
    return t
}

/// The path of a file under `Tests/AutogradTests/Fixtures`.
func fixturePath(_ name: String) -> String {
    let here = URL(fileURLWithPath: "\(#filePath)")
    return here.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures").appendingPathComponent(name).path
}
