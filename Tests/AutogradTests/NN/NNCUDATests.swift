import XCTest
@testable import Autograd

/// Modules, losses and optimizers on a GPU give the CPU's results (CUDA vs CPU tolerance).
/// The window and row kernels run through `ConvKernels`' host-staging default until the CUDA
/// backend has its own. Every test skips where CUDA is unavailable.
final class NNCUDATests: XCTestCase {
    private func requireCUDA() throws {
        try XCTSkipUnless(CUDA.isAvailable, CUDA.unavailabilityReason ?? "")
    }

    private func makeModel() -> Sequential {
        let g = Generator(seed: 11)
        return Sequential(Conv2d(1, 4, kernelSize: 3, padding: 1, generator: g), BatchNorm2d(4), ReLU(), MaxPool2d(2),
                          Conv2d(4, 6, kernelSize: (2, 2), bias: false, generator: g), AvgPool2d(2, stride: 1), Flatten(),
                          LayerNorm([6]), Linear(6, 3, generator: g))
    }

    func testModelForwardBackwardAndStepMatchTheCPU() throws {
        try requireCUDA()
        let cpu = makeModel(), gpu = makeModel()
        try gpu.to(.cuda)
        XCTAssertTrue(gpu.parameters().allSatisfy { $0.device == .cuda(0) })
        XCTAssertEqual(gpu.namedBuffers().map { $0.buffer.value.device }, [Device](repeating: .cuda(0), count: 3))
        // SGD, not Adam: the first convolution's bias feeds batch normalization, so its gradient
        // is rounding noise, which Adam would scale up to full steps of arbitrary sign.
        let cpuOptimizer = SGD(cpu.parameters(), learningRate: 0.1, momentum: 0.9)
        let gpuOptimizer = SGD(gpu.parameters(), learningRate: 0.1, momentum: 0.9)
        let x = Tensor.randn([5, 1, 6, 6], seed: 4), y = Tensor([0, 2, 1, 1, 0])
        let (gx, gy) = (try x.to(.cuda), try y.to(.cuda))
        for _ in 0..<2 {
            cpuOptimizer.zeroGrad()
            gpuOptimizer.zeroGrad()
            let cpuLoss = crossEntropy(logits: cpu(x), targets: y, labelSmoothing: 0.1)
            let gpuLoss = crossEntropy(logits: gpu(gx), targets: gy, labelSmoothing: 0.1)
            XCTAssertEqual(gpuLoss.device, .cuda(0))
            XCTAssertEqual(gpuLoss.item(), cpuLoss.item(), accuracy: 1e-4)
            try cpuLoss.backward()
            try gpuLoss.backward()
            for ((name, p), q) in zip(cpu.namedParameters(), gpu.parameters()) {
                let g = try XCTUnwrap(q.grad)
                XCTAssertEqual(g.device, .cuda(0))
                assertClose(g.cpu(), try XCTUnwrap(p.grad), Tolerance.cudaVersusCPU, "gradient of \(name)")
            }
            cpuOptimizer.step()
            gpuOptimizer.step()
        }
        for (key, value) in cpu.stateDict() {
            assertClose(try XCTUnwrap(gpu.stateDict()[key]).cpu(), value, Tolerance.cudaVersusCPU, "\(key) after two steps")
        }
    }

    func testLossesEmbeddingAndLoaderOnCUDA() throws {
        try requireCUDA()
        let table = randomLeaf([5, 3], seed: 1, dtype: .float32)
        let gpuTable = try table.detach().to(.cuda)
        gpuTable.requiresGrad = true
        let indices = Tensor([[0, 1, 4], [4, 2, 1]])
        let cpuOut = embedding(indices, weight: table, paddingIndex: 1)
        let gpuOut = embedding(try indices.to(.cuda), weight: gpuTable, paddingIndex: 1)
        assertClose(gpuOut.cpu(), cpuOut, Tolerance.cudaVersusCPU)
        try (cpuOut * cpuOut).sum().backward()
        try (gpuOut * gpuOut).sum().backward()
        assertClose(try XCTUnwrap(gpuTable.grad).cpu(), try XCTUnwrap(table.grad), Tolerance.cudaVersusCPU)

        let p = Tensor.rand([4, 3], seed: 2) * 0.8 + 0.1, t = Tensor.rand([4, 3], seed: 3)
        let (gp, gt) = (try p.to(.cuda), try t.to(.cuda))
        XCTAssertEqual(binaryCrossEntropy(predictions: gp, targets: gt).item(), binaryCrossEntropy(predictions: p, targets: t).item(), accuracy: 1e-5)
        XCTAssertEqual(binaryCrossEntropyWithLogits(logits: gp, targets: gt).item(), binaryCrossEntropyWithLogits(logits: p, targets: t).item(), accuracy: 1e-5)
        XCTAssertEqual(huberLoss(predictions: gp, targets: gt).item(), huberLoss(predictions: p, targets: t).item(), accuracy: 1e-6)

        let loader = DataLoader([try Tensor.arange(10).to(.cuda)], batchSize: 4, shuffle: true, generator: Generator(seed: 2))
        let rows = Array(loader).flatMap { batch -> [Int] in
            XCTAssertEqual(batch[0].device, .cuda(0))
            return batch[0].scalars(as: Int.self)
        }
        XCTAssertEqual(rows.sorted(), Array(0..<10))
    }
}
