import XCTest
@testable import Autograd

/// Autograd on a GPU: the same engine and formulas, gradients on the leaves' devices, memory
/// from the caching allocator. Every GPU test skips where CUDA is unavailable.
final class CUDAAutogradTests: XCTestCase {
    private func requireCUDA() throws {
        try XCTSkipUnless(CUDA.isAvailable, CUDA.unavailabilityReason ?? "")
    }

    /// A leaf created on cuda:0.
    private func cudaLeaf(_ value: Double) throws -> Tensor {
        let t = try Tensor(value).to(.cuda).detach()
        t.requiresGrad = true
        return t
    }

    func testSeedNotebookOnCUDA() throws {
        try requireCUDA()
        let study = try cudaLeaf(5.0)
        let happy = try cudaLeaf(6.0)
        let grade = study.pow(3) - happy.pow(2)
        XCTAssertEqual(grade.device, .cuda(0))
        XCTAssertEqual(grade.item(), 89)
        XCTAssertEqual(grade.gradFn?.name, "SubBackward0")
        XCTAssertEqual(grade.gradFn?.nextFunctions.map { $0.function?.name }, ["PowBackward0", "PowBackward0"])
        XCTAssertNil(study.grad)
        try grade.backward()
        let studyGrad = try XCTUnwrap(study.grad), happyGrad = try XCTUnwrap(happy.grad)
        XCTAssertEqual(studyGrad.device, .cuda(0), "gradients stay on the leaf's device")
        XCTAssertEqual(happyGrad.device, .cuda(0))
        XCTAssertEqual(studyGrad.item(), 75)
        XCTAssertEqual(happyGrad.item(), -12)
    }

    func testCPULeafMovedToCUDAGetsItsGradientOnTheCPU() throws {
        try requireCUDA()
        let w = Tensor(shape: [3], scalars: [0.1, 0.2, 0.3], dtype: .float32, requiresGrad: true)
        let g = try w.to(.cuda)
        XCTAssertEqual(g.gradFn?.name, "ToCopyBackward0")
        let loss = (g * g).sum()
        try loss.backward()
        let grad = try XCTUnwrap(w.grad)
        XCTAssertEqual(grad.device, .cpu)
        assertClose(grad, shape: [3], [0.2, 0.4, 0.6], Tolerance.cudaVersusCPU)
    }

    func testGradientsAccumulateOnTheDevice() throws {
        try requireCUDA()
        let x = try cudaLeaf(2.0)
        try (x * x).backward()
        try (x * 3).backward()
        XCTAssertEqual(x.grad?.device, .cuda(0))
        XCTAssertEqual(x.grad?.item(), 7)
    }

    func testMLPStepMatchesTheCPU() throws {
        try requireCUDA()
        func step(on device: Device) throws -> [Tensor] {
            // Drawn on the CPU and moved: CUDA's own draws (Philox) differ from the CPU's.
            let x = Tensor.randn([32, 20], seed: 1).to(device: device)
            let targets = Tensor((0..<32).map { $0 % 5 }).to(device: device)
            let w1 = (Tensor.randn([20, 16], seed: 2).to(device: device) * 0.2).detach()
            let b1 = Tensor.zeros([16], device: device)
            let w2 = (Tensor.randn([16, 5], seed: 3).to(device: device) * 0.2).detach()
            let b2 = Tensor.zeros([5], device: device)
            for p in [w1, b1, w2, b2] { p.requiresGrad = true }
            let hidden = (x.matmul(w1) + b1).relu()
            let loss = crossEntropy(logits: hidden.matmul(w2) + b2, targets: targets)
            try loss.backward()
            return [loss] + [w1, b1, w2, b2].map { $0.grad! }
        }
        let cpu = try step(on: .cpu), cuda = try step(on: .cuda)
        for (c, g) in zip(cpu, cuda) {
            XCTAssertEqual(g.device, .cuda(0))
            assertClose(g.cpu(), c, Tolerance.cudaVersusCPU)
        }
    }

    func testGradcheckOfCUDAOpsAgainstCPUGradients() throws {
        try requireCUDA()
        // The same float64 graph on both devices: gradients agree.
        func grads(on device: Device) throws -> [Tensor] {
            let a = randomLeaf([4, 5], seed: 4, shift: 2).to(device: device).detach()
            let b = randomLeaf([5], seed: 5).to(device: device).detach()
            a.requiresGrad = true
            b.requiresGrad = true
            let y = ((a * b).exp().sum(dim: 1) / a.pow(2).sum(dim: 1)).log().softmax(dim: 0)
            try (y * Tensor.arange(4, dtype: .float64, device: device)).sum().backward()
            return [a.grad!, b.grad!]
        }
        for (c, g) in zip(try grads(on: .cpu), try grads(on: .cuda)) {
            assertClose(g.cpu(), c, Tolerance.cudaVersusCPU)
        }
    }

    // MARK: - Memory

    func testTensorsReuseCachedBlocks() throws {
        try requireCUDA()
        let warm = Tensor.zeros([1 << 20], device: .cuda)
        _ = warm
        let misses = CUDAAllocator.shared.backendAllocationCount(device: 0)
        for _ in 0..<10 {
            let t = Tensor.ones([1 << 20], device: .cuda) * 2
            XCTAssertEqual(t.sum().item(), Double(2 << 20))
        }
        XCTAssertLessThanOrEqual(CUDAAllocator.shared.backendAllocationCount(device: 0), misses + 2,
                                 "a training loop's tensors come from the cache")
    }

    func testOutOfMemoryIsATypedError() throws {
        try requireCUDA()
        let backend = try CUDABackend.backend(device: 0)
        let request = try CUDA.properties(of: 0).totalMemory * 4
        XCTAssertThrowsError(try TensorStorage(backend: backend, byteCount: request)) { error in
            guard case let .outOfMemory(device, requestedBytes, _)? = error as? CUDAError else {
                return XCTFail("expected outOfMemory, got \(error)")
            }
            XCTAssertEqual(device, 0)
            XCTAssertEqual(requestedBytes, request)
            XCTAssertTrue("\(error)".hasPrefix("CUDA out of memory on cuda:0"), "\(error)")
        }
        XCTAssertEqual((Tensor.ones([4], device: .cuda) + 1).sum().item(), 8, "the device still works")
    }
}
