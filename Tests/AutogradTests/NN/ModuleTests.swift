import Foundation
import XCTest
@testable import Autograd

/// A model with nested modules, an array of modules, an optional and a buffer, to exercise
/// discovery by reflection.
private final class Tower: Module {
    let stem = Linear(4, 8, generator: Generator(seed: 1))
    let blocks: [Module] = [Sequential(Linear(8, 8, generator: Generator(seed: 2)), ReLU()), LayerNorm([8])]
    let head: Linear? = Linear(8, 3, bias: false, generator: Generator(seed: 3))
    let missing: Linear? = nil
    let scale = Parameter(Tensor.ones([3]))
    let counter = Buffer(Tensor.zeros([]))
    let notAParameter = Tensor.ones([2])

    override func forward(_ x: Tensor) -> Tensor {
        var h = stem(x).relu()
        for b in blocks { h = b(h) }
        return head!(h) * scale.value
    }
}

final class ModuleTests: XCTestCase {
    func testParametersAreDiscoveredWithDottedNames() {
        let model = Tower()
        // PyTorch's order: the module's own parameters, then each child's, depth first.
        XCTAssertEqual(model.namedParameters().map(\.name), [
            "scale", "stem.weight", "stem.bias", "blocks.0.0.weight", "blocks.0.0.bias", "blocks.1.weight", "blocks.1.bias",
            "head.weight",
        ])
        XCTAssertEqual(model.namedBuffers().map(\.name), ["counter"])
        XCTAssertEqual(model.namedChildren().map(\.name), ["stem", "blocks.0", "blocks.1", "head"])
        XCTAssertEqual(model.namedModules().map(\.name), ["", "stem", "blocks.0", "blocks.0.0", "blocks.0.1", "blocks.1", "head"])
        XCTAssertEqual(model.parameters().count, 8)
        XCTAssertTrue(model.parameters().allSatisfy { $0.value.requiresGrad && $0.value.isLeaf })
        XCTAssertEqual(Set(model.stateDict().keys), Set(model.namedParameters().map(\.name) + ["counter"]))
    }

    func testSharedParametersAppearOnce() {
        let shared = Linear(3, 3)
        let model = Sequential(shared, ReLU(), shared)
        XCTAssertEqual(model.namedParameters().map(\.name), ["0.weight", "0.bias"])
    }

    func testDefaultInitializationBounds() {
        let fc = Linear(64, 10, generator: Generator(seed: 0))
        let bound = 1 / 8.0
        XCTAssertTrue(fc.weight.value.scalars(as: Double.self).allSatisfy { Swift.abs($0) <= bound })
        XCTAssertTrue(fc.bias!.value.scalars(as: Double.self).allSatisfy { Swift.abs($0) <= bound })
        let std = fc.weight.value.to(.float64)
        let variance = ((std - std.mean()) * (std - std.mean())).mean().item()
        XCTAssertEqual(variance, bound * bound / 3, accuracy: 0.2 * bound * bound / 3)   // U(-b, b) has variance b²/3
        let conv = Conv2d(3, 8, kernelSize: (3, 3), generator: Generator(seed: 0))
        XCTAssertTrue(conv.weight.value.scalars(as: Double.self).allSatisfy { Swift.abs($0) <= 1 / 27.0.squareRoot() })
        // Seeded: the same generator seed gives the same weights.
        XCTAssertEqual(Linear(5, 2, generator: Generator(seed: 9)).weight.value.scalars(as: Float.self),
                       Linear(5, 2, generator: Generator(seed: 9)).weight.value.scalars(as: Float.self))
    }

    func testTrainEvalAndZeroGrad() throws {
        let model = Tower()
        XCTAssertTrue(model.namedModules().allSatisfy { $0.module.isTraining })
        model.eval()
        XCTAssertTrue(model.namedModules().allSatisfy { !$0.module.isTraining })
        model.train()
        try crossEntropy(logits: model(Tensor.randn([2, 4], seed: 1)), targets: Tensor([0, 2])).backward()
        XCTAssertTrue(model.parameters().allSatisfy { $0.grad != nil })
        model.zeroGrad(setToNone: false)
        XCTAssertTrue(model.parameters().allSatisfy { $0.grad!.abs().sum().item() == 0 })
        model.zeroGrad()
        XCTAssertTrue(model.parameters().allSatisfy { $0.grad == nil })
    }

    /// An optimizer step is visible through the module, through copies of the tensor taken
    /// earlier, and after `to(dtype)` the optimizer follows the replaced tensors.
    func testUpdatesAreSeenByEveryHolder() throws {
        let fc = Linear(2, 1, generator: Generator(seed: 4))
        let before = fc.weight.value.scalars(as: Float.self)
        let alias = fc.weight.value            // a copy of the Tensor value
        let optimizer = SGD(fc.parameters(), learningRate: 0.5)
        try mseLoss(predictions: fc(Tensor([[1.0, 2.0]])), targets: Tensor([[0.0]])).backward()
        let g = fc.weight.grad!.scalars(as: Float.self)
        optimizer.step()
        let after = fc.weight.value.scalars(as: Float.self)
        XCTAssertEqual(after[0], before[0] - 0.5 * g[0], accuracy: 1e-6)
        XCTAssertEqual(alias.scalars(as: Float.self), after)
        fc.to(.float64)
        XCTAssertEqual(fc.weight.dtype, .float64)
        XCTAssertTrue(optimizer.parameters[0] === fc.weight)
        optimizer.zeroGrad()
        try mseLoss(predictions: fc(Tensor([[1.0, 2.0]], dtype: .float64)), targets: Tensor([[0.0]], dtype: .float64)).backward()
        optimizer.step()
        XCTAssertNotEqual(fc.weight.value.scalars(as: Float.self), after)
    }

    func testStateDictRoundTripThroughAFile() throws {
        let source = Tower(), target = Tower()
        withNoGrad { _ = target.stem.weight.value.zero() }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nn-state-\(getpid()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try source.save(to: path)
        let weightBefore = target.stem.weight.value
        try target.load(from: path)
        for (name, value) in source.stateDict() {
            assertClose(target.stateDict()[name]!, value, Tolerance.exact, name)
        }
        // Loaded in place: the tensor held before sees the new values.
        assertClose(weightBefore, source.stem.weight.value, Tolerance.exact)
    }

    /// A state dict saved by PyTorch's `safetensors.torch.save_file` loads into the same layers.
    func testLoadsASafetensorsFileWrittenByPyTorch() throws {
        let model = Sequential(Conv2d(1, 4, kernelSize: 3, padding: 1), BatchNorm2d(4), ReLU(), MaxPool2d(2),
                               Conv2d(4, 6, kernelSize: (2, 2), bias: false), AvgPool2d(2, stride: 1), Tanh(), Flatten(),
                               Linear(6, 5), Sigmoid(), Dropout(p: 0), Linear(5, 3))
        try model.load(from: fixturePath("nn-cnn-state.safetensors"))
        let expected = NNReference.tensors((NNReference.section("models")["cnn"] as? [String: Any])?["state"])
        XCTAssertEqual(Set(model.stateDict().keys), Set(expected.keys))
        for (key, value) in expected { assertClose(model.stateDict()[key]!, value, Tolerance.exact, key) }
        XCTAssertEqual(model.stateDict()["1.num_batches_tracked"]?.dtype, .int64)
    }

    func testLoadStateDictReportsEveryProblem() {
        let fc = Linear(3, 2)
        var state = fc.stateDict()
        state["bias"] = nil
        state["weight"] = Tensor.zeros([3, 3])
        state["extra"] = Tensor.zeros([1])
        XCTAssertThrowsError(try fc.loadStateDict(state)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("Error(s) in loading state_dict for Linear"), message)
            XCTAssertTrue(message.contains("Missing key(s) in state_dict: \"bias\"."), message)
            XCTAssertTrue(message.contains("Unexpected key(s) in state_dict: \"extra\"."), message)
            XCTAssertTrue(message.contains("size mismatch for weight: copying a param with shape [3, 3] from checkpoint, the shape in current model is [2, 3]."), message)
        }
        XCTAssertThrowsError(try fc.load(from: "/nonexistent/model.safetensors")) { error in
            XCTAssertTrue(error is TensorIOError, "\(error)")
            XCTAssertTrue("\(error)".contains("/nonexistent/model.safetensors"), "\(error)")
        }
    }

    func testBatchNormModuleTracksRunningStatistics() {
        let bn = BatchNorm1d(2)
        let x = Tensor([[1.0, 2.0], [3.0, 6.0]])
        _ = bn(x)
        assertClose(bn.runningMean.value, shape: [2], [0.2, 0.4])
        assertClose(bn.runningVar.value, shape: [2], [0.9 + 0.1 * 2, 0.9 + 0.1 * 8])
        XCTAssertEqual(bn.numBatchesTracked.value.item(as: Int.self), 1)
        bn.eval()
        let y = bn(x)
        assertClose(y, shape: [2, 2], [(1 - 0.2) / (1.1 + 1e-5).squareRoot(), (2 - 0.4) / (1.7 + 1e-5).squareRoot(),
                                       (3 - 0.2) / (1.1 + 1e-5).squareRoot(), (6 - 0.4) / (1.7 + 1e-5).squareRoot()])
        XCTAssertEqual(bn.numBatchesTracked.value.item(as: Int.self), 1)
    }

    func testLayersMatchPyTorchModels() throws {
        for (name, entry) in NNReference.section("models").sorted(by: { $0.key < $1.key }) {
            guard let c = entry as? [String: Any] else { continue }
            let model: Sequential
            var train = true
            switch name {
            case "cnn":
                model = Sequential(Conv2d(1, 4, kernelSize: 3, padding: 1), BatchNorm2d(4), ReLU(), MaxPool2d(2),
                                   Conv2d(4, 6, kernelSize: (2, 2), bias: false), AvgPool2d(2, stride: 1), Tanh(), Flatten(),
                                   Linear(6, 5), Sigmoid(), Dropout(p: 0), Linear(5, 3))
            case "seq1d_eval":
                model = Sequential(Conv1d(2, 4, kernelSize: 3, stride: 2, padding: 1), BatchNorm1d(4), GELU(), Flatten(), LayerNorm([12]),
                                   Linear(12, 8), GELU(approximate: .tanh), Linear(8, 4))
                train = false
            default:
                XCTFail("no Swift model for \(name)")
                continue
            }
            try model.loadStateDict(NNReference.tensors(c["state"]))
            model.train(train)
            let x = NNReference.tensor(c["input"])
            let out = model(x)
            let tolerance = Tolerance.Pair(rtol: 1e-4, atol: 1e-5)
            assertClose(out, NNReference.tensor(c["output"]), tolerance, "\(name) output")
            let loss = crossEntropy(logits: out.reshaped([out.shape[0], -1]), targets: NNReference.tensor(c["target"]))
            XCTAssertEqual(loss.item(), c["loss"] as? Double ?? .nan, accuracy: 1e-5)
            try loss.backward()
            let expected = NNReference.tensors(c["grads"])
            XCTAssertEqual(Set(expected.keys), Set(model.namedParameters().map(\.name)))
            for (pname, p) in model.namedParameters() {
                guard let e = expected[pname], let g = p.grad else { XCTFail("\(name): no gradient for \(pname)"); continue }
                assertClose(g, e, tolerance, "\(name) gradient of \(pname)")
            }
            for (key, value) in NNReference.tensors(c["stateAfter"]) {
                assertClose(model.stateDict()[key]!, value, tolerance, "\(name) state \(key) after forward")
            }
        }
    }
}

/// Activation modules call the tensor ops they wrap.
final class ActivationModuleTests: XCTestCase {
    func testActivationsMatchTheirOps() {
        let x = Tensor([-2.0, -0.5, 0.5, 3.0], dtype: .float64)
        let pairs: [(Module, Tensor)] = [
            (ReLU(), x.relu()), (Tanh(), x.tanh()), (Sigmoid(), x.sigmoid()), (GELU(), x.gelu()),
            (GELU(approximate: .tanh), x.gelu(approximate: .tanh)), (SiLU(), x.silu()),
            (LeakyReLU(negativeSlope: 0.2), x.leakyRelu(negativeSlope: 0.2)), (ELU(alpha: 0.5), x.elu(alpha: 0.5)),
            (Softplus(beta: 2), x.softplus(beta: 2)), (Softmax(dim: 0), x.softmax(dim: 0)), (LogSoftmax(dim: 0), x.logSoftmax(dim: 0)),
            (Identity(), x), (Flatten(startDim: 0), x),
        ]
        for (module, expected) in pairs { assertClose(module(x), expected, Tolerance.exact, "\(type(of: module))") }
        let sequence = Tensor.randn([2, 3, 7], dtype: .float64, seed: 3)
        assertClose(MaxPool1d(3, stride: 2, padding: 1)(sequence), maxPool1d(sequence, kernelSize: 3, stride: 2, padding: 1), Tolerance.exact)
        assertClose(AvgPool1d(2)(sequence), avgPool1d(sequence, kernelSize: 2), Tolerance.exact)
        XCTAssertEqual(MaxPool1d(2)(sequence).shape, [2, 3, 3])
        XCTAssertEqual(Flatten()(Tensor.zeros([2, 3, 4, 5])).shape, [2, 60])
        XCTAssertEqual(Flatten(startDim: 1, endDim: 2)(Tensor.zeros([2, 3, 4, 5])).shape, [2, 12, 5])
    }
}
