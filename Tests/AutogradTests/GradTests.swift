import XCTest
@testable import Autograd

/// `grad(of:wrt:gradOutputs:retainGraph:createGraph:allowUnused:)` (Grad.swift).
final class GradTests: XCTestCase {
    func testGradDoesNotTouchDotGrad() throws {
        let x = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        let g = try grad(of: [(x * x).sum()], wrt: [x])
        assertClose(g[0]!, shape: [2], [2, 4])
        XCTAssertNil(x.grad)
        XCTAssertFalse(g[0]!.requiresGrad)
    }

    func testGradWithRespectToANonLeaf() throws {
        let x = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        let h = x * 3
        let y = (h * h).sum()
        let g = try grad(of: [y], wrt: [h, x])
        assertClose(g[0]!, shape: [2], [6, 12])
        assertClose(g[1]!, shape: [2], [18, 36])
    }

    func testGradOfSeveralOutputsSums() throws {
        let x = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        let a = x * 2, b = x * x
        let g = try grad(of: [a, b], wrt: [x], gradOutputs: [Tensor.ones([2], dtype: .float64), Tensor([1.0, 0.5], dtype: .float64)])
        assertClose(g[0]!, shape: [2], [2 + 2, 2 + 2])
    }

    func testAllowUnused() throws {
        let x = Tensor([1.0], dtype: .float64, requiresGrad: true)
        let unused = Tensor([1.0], dtype: .float64, requiresGrad: true)
        let y = (x * 2).sum()
        assertAutogradError("One of the differentiated Tensors (input 1) appears to not have been used in the graph. Set allowUnused: true if this is the desired behavior.") {
            _ = try grad(of: [y], wrt: [x, unused], retainGraph: true)
        }
        let g = try grad(of: [y], wrt: [x, unused], allowUnused: true)
        assertClose(g[0]!, shape: [1], [2])
        XCTAssertNil(g[1])
    }

    func testErrors() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let plain = Tensor([1.0, 2.0])
        assertAutogradError("element 0 of tensors does not require grad and does not have a gradFn") {
            _ = try grad(of: [plain.sum()], wrt: [x])
        }
        assertAutogradError("One of the differentiated Tensors does not require grad") {
            _ = try grad(of: [(x * 2).sum()], wrt: [plain])
        }
        assertAutogradError("grad can be implicitly created only for scalar outputs") {
            _ = try grad(of: [x * 2], wrt: [x])
        }
    }

    func testRetainGraphDefaultsToCreateGraph() throws {
        let x = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        let y = (x * x).sum()
        _ = try grad(of: [y], wrt: [x])
        XCTAssertThrowsError(try grad(of: [y], wrt: [x]))

        let z = (x * x).sum()
        _ = try grad(of: [z], wrt: [x], createGraph: true)
        _ = try grad(of: [z], wrt: [x])      // the graph was retained
        let w = (x * x).sum()
        _ = try grad(of: [w], wrt: [x], retainGraph: true)
        _ = try grad(of: [w], wrt: [x])
    }

    func testSecondDerivativeOfCubeIsSixX() throws {
        let x = Tensor([-1.5, 0.5, 2.0], dtype: .float64, requiresGrad: true)
        let dy = try grad(of: [x.pow(3).sum()], wrt: [x], createGraph: true)[0]!
        XCTAssertTrue(dy.requiresGrad)
        assertClose(dy, shape: [3], [6.75, 0.75, 12])
        let d2y = try grad(of: [dy.sum()], wrt: [x])[0]!
        assertClose(d2y, shape: [3], [-9, 3, 12])
    }

    func testHessianVectorProductOfQuadraticForm() throws {
        // f(x) = ½ xᵀ A x + bᵀ x with A not symmetric: ∇f = ½ (A + Aᵀ) x + b, H = ½ (A + Aᵀ).
        let aValues: [Double] = [2, 1, 0, 3, 4, -1, 0.5, -2, 5]
        let a = Tensor(shape: [3, 3], scalars: aValues)
        let b = Tensor([1.0, -1.0, 2.0], dtype: .float64)
        let x = Tensor([0.3, -0.7, 1.1], dtype: .float64, requiresGrad: true)
        let v = Tensor([1.0, 2.0, -1.0], dtype: .float64)
        let f = (x * a.matmul(x.unsqueezed(dim: 1)).squeezed(dim: 1)).sum() * 0.5 + (b * x).sum()
        let g = try grad(of: [f], wrt: [x], createGraph: true)[0]!
        let hv = try grad(of: [(g * v).sum()], wrt: [x])[0]!

        func h(_ i: Int, _ j: Int) -> Double { 0.5 * (aValues[i * 3 + j] + aValues[j * 3 + i]) }
        let xs = [0.3, -0.7, 1.1], vs = [1.0, 2.0, -1.0], bs = [1.0, -1.0, 2.0]
        let expectedGrad = (0..<3).map { i in (0..<3).reduce(bs[i]) { $0 + h(i, $1) * xs[$1] } }
        let expectedHv = (0..<3).map { i in (0..<3).reduce(0.0) { $0 + h(i, $1) * vs[$1] } }
        assertClose(g, shape: [3], expectedGrad)
        assertClose(hv, shape: [3], expectedHv)
    }

    func testGradientPenalty() throws {
        // D(x) = sum(w * x): ∇ₓD = w, penalty = (‖w‖ - 1)², d penalty / dw = 2 (‖w‖ - 1) w / ‖w‖.
        let w = Tensor([0.6, 1.2, -0.4], dtype: .float64, requiresGrad: true)
        let x = Tensor([1.0, 2.0, 3.0], dtype: .float64, requiresGrad: true)
        let critic = (w * x).sum()
        let gx = try grad(of: [critic], wrt: [x], createGraph: true)[0]!
        let penalty = (gx.pow(2).sum().sqrt() - 1).pow(2)
        try penalty.backward()
        let norm = (0.36 + 1.44 + 0.16).squareRoot()
        assertClose(w.grad!, shape: [3], [0.6, 1.2, -0.4].map { 2 * (norm - 1) * $0 / norm })
        XCTAssertNil(x.grad)
    }

    func testGradientPenaltyOfNonlinearCriticMatchesFiniteDifferences() throws {
        // The penalty as a function of the weights, differentiated through a createGraph pass.
        let x = Tensor([0.5, -1.0, 2.0], dtype: .float64)
        assertGradcheck([randomLeaf([3], seed: 1)]) { inputs in
            let w = inputs[0]
            let xi = x.detach()
            xi.requiresGrad = true
            let critic = (w * xi).tanh().sum() + (w * xi * xi).sum()
            let gx = try grad(of: [critic], wrt: [xi], createGraph: true)[0]!
            return (gx.pow(2).sum().sqrt() - 1).pow(2)
        }
    }
}
