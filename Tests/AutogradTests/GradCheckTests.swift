import XCTest
@testable import Autograd

/// `gradcheck` and `gradgradcheck` themselves (GradCheck.swift).
final class GradCheckTests: XCTestCase {
    func testPassesForCorrectGradients() throws {
        let a = randomLeaf([2, 3], seed: 21)
        let b = randomLeaf([3], seed: 22, shift: 2)
        // Broadcasting, a non-contiguous view, and a tensor used twice.
        XCTAssertTrue(try gradcheck({ x in (x[0] * x[1] / (x[1] * x[1] + 1)).transposed(0, 1) * x[0].transposed(0, 1) },
                                    inputs: [a, b]))
        XCTAssertTrue(try gradgradcheck({ x in (x[0].tanh() * x[1]).sum(dim: 1) }, inputs: [a, b]))
    }

    func testOnlyInputsRequiringGradAreChecked() throws {
        let a = randomLeaf([3], seed: 23)
        let constant = Tensor([1.0, 2.0, 3.0], dtype: .float64)
        XCTAssertTrue(try gradcheck({ x in x[0] * x[1] }, inputs: [a, constant]))
        // The caller's tensors are left untouched.
        XCTAssertNil(a.grad)
        XCTAssertTrue(a.isLeaf)
    }

    func testDetectsAWrongGradient() {
        let a = randomLeaf([2], seed: 24, shift: 1)
        // Detaching part of the function hides a term from the analytic gradient.
        XCTAssertThrowsError(try gradcheck({ x in x[0] * x[0].detach() }, inputs: [a])) { error in
            guard let error = error as? GradcheckError else { return XCTFail("unexpected \(error)") }
            XCTAssertTrue(error.message.hasPrefix("Jacobian mismatch for output 0 with respect to input 0,\nnumerical:"), error.message)
            XCTAssertEqual(error.description, error.message)
        }
    }

    func testDetectsAWrongSecondDerivative() {
        let a = randomLeaf([2], seed: 25, shift: 1)
        // The analytic vector-Jacobian product v·x.detach() has no derivative in x, while
        // finite differences of it see v.
        XCTAssertThrowsError(try gradgradcheck({ x in x[0] * x[0].detach() }, inputs: [a])) { error in
            XCTAssertTrue(error is GradcheckError, "\(error)")
        }
    }
}
