import XCTest
@testable import Autograd

/// The seed notebook's autograd cells, as DESIGN.md's call sites write them.
final class SeedNotebookTests: XCTestCase {
    func testGradeGraphNamesAndGradients() throws {
        let study = Tensor(5.0, requiresGrad: true)
        let happy = Tensor(6.0, requiresGrad: true)
        XCTAssertEqual(study.dtype, .float32)
        let grade = study.pow(3) - happy.pow(2)
        XCTAssertEqual(grade.item(), 89)
        XCTAssertEqual(grade.description, "tensor(89., gradFn=<SubBackward0>)")
        let fn = try XCTUnwrap(grade.gradFn)
        XCTAssertEqual(fn.name, "SubBackward0")
        XCTAssertEqual(fn.nextFunctions.map { $0.function?.name }, ["PowBackward0", "PowBackward0"])
        XCTAssertEqual(fn.nextFunctions.map(\.inputIndex), [0, 0])
        XCTAssertEqual(fn.nextFunctions[0].function!.nextFunctions[0].function!.name, "AccumulateGrad")
        XCTAssertEqual(fn.nextFunctions[1].function!.nextFunctions[0].function!.name, "AccumulateGrad")
        XCTAssertNil(study.grad)
        XCTAssertNil(happy.grad)
        try grade.backward()
        // d(s³ − h²)/ds = 3s² = 75, d/dh = −2h = −12.
        XCTAssertEqual(study.grad!.item(), 75)
        XCTAssertEqual(happy.grad!.item(), -12)
        XCTAssertEqual(study.grad!.description, "tensor(75.)")
        XCTAssertEqual(happy.grad!.description, "tensor(-12.)")
    }

    func testGradientsAccumulateAcrossTwoBackwardCalls() throws {
        let study = Tensor(5.0, requiresGrad: true)
        let happy = Tensor(6.0, requiresGrad: true)
        try (study.pow(3) - happy.pow(2)).backward()
        try (study.pow(3) - happy.pow(2)).backward()
        XCTAssertEqual(study.grad!.item(), 150)
        XCTAssertEqual(happy.grad!.item(), -24)
    }

    func testCopyOfLeafSeesSameGrad() throws {
        let x = Tensor(2.0, requiresGrad: true)
        let copy = x
        try (x * x).backward()
        XCTAssertEqual(copy.grad!.item(), 4)
    }

    func testNumpyStyleArrayRoundTrip() {
        let a = Tensor([[1, 2], [3, 4]])
        XCTAssertEqual(a.shape, [2, 2])
        XCTAssertEqual(a.dtype, .int64)
        XCTAssertEqual(a.count, 4)
        XCTAssertEqual(a.rank, 2)
        XCTAssertEqual(a.device, .cpu)
        XCTAssertEqual(a.scalars(as: Int.self), [1, 2, 3, 4])
        XCTAssertEqual(a.description, "tensor([[1, 2],\n        [3, 4]])")
        let b = Tensor([[1, 2], [3, 4]], dtype: .int32)
        XCTAssertEqual(b.description, "tensor([[1, 2],\n        [3, 4]], dtype=int32)")
    }

    func testLinspaceMatchesNotebookPrint() {
        // The notebook's torch.tensor(np.linspace(0., 1., 30)) printout (float64).
        let t = Tensor.linspace(0, 1, count: 30, dtype: .float64)
        XCTAssertEqual(t.description, """
        tensor([0.0000, 0.0345, 0.0690, 0.1034, 0.1379, 0.1724, 0.2069, 0.2414, 0.2759,
                0.3103, 0.3448, 0.3793, 0.4138, 0.4483, 0.4828, 0.5172, 0.5517, 0.5862,
                0.6207, 0.6552, 0.6897, 0.7241, 0.7586, 0.7931, 0.8276, 0.8621, 0.8966,
                0.9310, 0.9655, 1.0000], dtype=float64)
        """)
    }
}
