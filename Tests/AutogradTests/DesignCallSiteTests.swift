import Autograd  // deliberately not @testable: these are the public call sites of DESIGN.md
import XCTest

/// DESIGN.md's fixed call sites, compiled against the public API only.
final class DesignCallSiteTests: XCTestCase {
    func testTensorsFromSwiftValues() {
        let a = Tensor([[1, 2], [3, 4]])
        XCTAssertEqual(a.shape, [2, 2])
        XCTAssertEqual(a.dtype, .int64)
        XCTAssertEqual(a.count, 4)
        XCTAssertEqual(a.rank, 2)
        XCTAssertEqual(a.scalars(as: Int.self), [1, 2, 3, 4])
        XCTAssertEqual("\(a)", "tensor([[1, 2],\n        [3, 4]])")
        let t = Tensor.linspace(0, 1, count: 30, dtype: .float64)
        XCTAssertEqual(t.shape, [30])
        let z = Tensor.zeros([3, 4])
        let r = Tensor.randn([3, 4], seed: 0)
        XCTAssertEqual(z.shape, r.shape)
        let s = Tensor(shape: [2, 3], scalars: [Float](repeating: 1, count: 6))
        XCTAssertEqual(s.dtype, .float32)
        let w = Tensor(shape: [3], scalars: [0.1, 0.2, 0.3], dtype: .float64, requiresGrad: true)
        XCTAssertTrue(w.requiresGrad)
        XCTAssertTrue(a.device == .cpu)
    }

    func testDevices() throws {
        let a = Tensor([[1, 2], [3, 4]])
        if CUDA.isAvailable {
            let g = try a.to(.cuda(0))
            XCTAssertEqual("\(g.device)", "cuda:0")
            let back = try g.to(.cpu)
            XCTAssertEqual(back.scalars(as: Int.self), [1, 2, 3, 4])
            _ = try a.to(.cuda)
        } else {
            XCTAssertThrowsError(try a.to(.cuda(0)))
            XCTAssertThrowsError(try a.to(.cuda))
        }
    }

    func testSeedNotebook() throws {
        let study = Tensor(5.0, requiresGrad: true)
        let happy = Tensor(6.0, requiresGrad: true)
        let grade = study.pow(3) - happy.pow(2)
        XCTAssertEqual("\(grade)", "tensor(89., gradFn=<SubBackward0>)")
        XCTAssertEqual(grade.gradFn!.name, "SubBackward0")
        XCTAssertEqual(grade.gradFn!.nextFunctions.map { $0.function?.name }, ["PowBackward0", "PowBackward0"])
        XCTAssertEqual(grade.gradFn!.nextFunctions[0].function!.nextFunctions[0].function!.name, "AccumulateGrad")
        XCTAssertNil(study.grad)
        try grade.backward()
        XCTAssertEqual(study.grad!.item(), 75.0)
        XCTAssertEqual(happy.grad!.item(), -12.0)
    }

    func testOperatorsAndMethods() throws {
        let x = Tensor([[0.5, 1.0, 1.5], [2.0, 2.5, 3.0]], requiresGrad: true)
        let y = Tensor([[1.0, 0.0, 2.0], [0.5, 1.5, 1.0]])
        let terms: [Tensor] = [
            x + y, x - y, x * y, x / y, -x, x + 1, 1 + x, x - 1, 1 - x, x * 2, 2 * x, x / 2, 2 / x,
            x.pow(2), x.exp(), x.log(), x.sqrt(), x.sin(), x.cos(), x.tanh(), x.sigmoid(), x.relu(), x.abs(),
            maximum(x, y), minimum(x, y), x.softmax(dim: 1), x.logSoftmax(dim: 1),
        ]
        for t in terms { XCTAssertEqual(t.shape, [2, 3]) }
        XCTAssertEqual(x.sum().shape, [])
        XCTAssertEqual(x.sum(dim: 1, keepDim: true).shape, [2, 1])
        XCTAssertEqual(x.mean().shape, [])
        XCTAssertEqual(x.mean(dim: 0, keepDim: false).shape, [3])
        let m = x.max(dim: 1, keepDim: false)
        XCTAssertEqual(m.values.scalars(as: Float.self), [1.5, 3.0])
        XCTAssertEqual(m.indices.scalars(as: Int.self), [2, 2])
        XCTAssertEqual(x.argmax(dim: 0).scalars(as: Int.self), [1, 1, 1])
        XCTAssertEqual(x.matmul(y.transposed(0, 1)).shape, [2, 2])
        let loss = crossEntropy(logits: x, targets: Tensor([2, 0])) + mseLoss(predictions: x, targets: y)
        try loss.backward()
        XCTAssertEqual(x.grad!.shape, [2, 3])
        let cotangent = Tensor.ones([2, 3])
        let z = x * 3
        try z.backward(cotangent)
        XCTAssertEqual(x.reshaped([3, 2]).shape, [3, 2])
        XCTAssertEqual(x.transposed(0, 1).shape, [3, 2])
        XCTAssertEqual(x.permuted([1, 0]).shape, [3, 2])
        XCTAssertEqual(Tensor.ones([3, 1]).expanded(to: [3, 4]).shape, [3, 4])
        XCTAssertEqual(Tensor.ones([3, 1]).squeezed(dim: 1).shape, [3])
        XCTAssertEqual(Tensor.ones([3]).unsqueezed(dim: 0).shape, [1, 3])
        XCTAssertEqual(x.flattened().shape, [6])
        XCTAssertEqual(Tensor.cat([x, y], dim: 0).shape, [4, 3])
        XCTAssertEqual(Tensor.stack([x, y], dim: 0).shape, [2, 2, 3])
        XCTAssertEqual((x .== y).dtype, .bool)
        XCTAssertEqual((x .< y).scalars(as: Bool.self), [true, false, true, false, false, false])
        XCTAssertEqual((x .> y).scalars(as: Bool.self), [false, true, false, true, true, true])
    }
}
