import Foundation
import XCTest
@testable import Autograd

/// Optimizers, schedules and gradient clipping against PyTorch, step for step.
final class OptimizerTests: XCTestCase {
    typealias Make = ([Parameter]) -> Optimizer
    let configs: [String: Make] = [
        "sgd": { SGD($0, learningRate: 0.1) },
        "sgd_momentum": { SGD($0, learningRate: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01) },
        "sgd_nesterov": { SGD($0, learningRate: 0.05, momentum: 0.8, weightDecay: 0.1, nesterov: true) },
        "adam": { Adam($0, learningRate: 0.01) },
        "adam_wd_amsgrad": { Adam($0, learningRate: 0.02, betas: (0.8, 0.9), eps: 1e-6, weightDecay: 0.1, amsgrad: true) },
        "adamw": { AdamW($0, learningRate: 0.01, weightDecay: 0.05) },
        "rmsprop": { RMSprop($0, learningRate: 0.01) },
        "rmsprop_centered": { RMSprop($0, learningRate: 0.01, alpha: 0.9, eps: 1e-6, weightDecay: 0.1, momentum: 0.5, centered: true) },
    ]

    var reference: [String: Any] { NNReference.section("optimizers") }

    func makeParameters() -> (Parameter, Parameter) {
        let initial = NNReference.tensors(reference["initial"])
        return (Parameter(initial["w"]!.clone()), Parameter(initial["b"]!.clone()))
    }

    var gradients: [[String: Tensor]] { (reference["gradients"] as? [Any] ?? []).map { NNReference.tensors($0) } }

    func testEveryOptimizerMatchesPyTorchStepForStep() {
        XCTAssertEqual(gradients.count, 5)
        for (name, make) in configs.sorted(by: { $0.key < $1.key }) {
            let (w, b) = makeParameters()
            let optimizer = make([w, b])
            let expected = (reference[name] as? [Any] ?? []).map { NNReference.tensors($0) }
            XCTAssertEqual(expected.count, 5, name)
            for (step, (g, e)) in zip(gradients, expected).enumerated() {
                w.grad = g["w"]!.clone()
                b.grad = g["b"]!.clone()
                optimizer.step()
                let tolerance = Tolerance.Pair(rtol: 2e-6, atol: 2e-6)
                assertClose(w.value, e["w"]!, tolerance, "\(name) step \(step + 1) weight")
                assertClose(b.value, e["b"]!, tolerance, "\(name) step \(step + 1) bias")
            }
        }
    }

    /// Saving the state after two steps and restoring it into a fresh optimizer continues
    /// exactly as the original does.
    func testStateDictRestoresTheTrajectory() throws {
        for name in ["sgd_momentum", "adam_wd_amsgrad", "rmsprop_centered"] {
            let (w1, b1) = makeParameters(), (w2, b2) = makeParameters()
            let first = configs[name]!([w1, b1]), second = configs[name]!([w2, b2])
            for g in gradients.prefix(2) {
                w1.grad = g["w"]!.clone()
                b1.grad = g["b"]!.clone()
                first.step()
            }
            withNoGrad {
                w2.value.copyFrom(w1.value)
                b2.value.copyFrom(b1.value)
            }
            try second.loadStateDict(first.stateDict())
            for g in gradients.dropFirst(2) {
                for (w, b, o) in [(w1, b1, first), (w2, b2, second)] {
                    w.grad = g["w"]!.clone()
                    b.grad = g["b"]!.clone()
                    o.step()
                }
            }
            assertClose(w2.value, w1.value, Tolerance.exact, name)
            assertClose(b2.value, b1.value, Tolerance.exact, name)
        }
        let (w, b) = makeParameters()
        XCTAssertThrowsError(try SGD([w, b], learningRate: 0.1).loadStateDict(["state.5.momentum_buffer": Tensor.zeros([3])]))
        // Through a file.
        let adam = Adam([w, b], learningRate: 0.05)
        w.grad = Tensor.ones([3, 4])
        adam.step()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nn-optim-\(getpid()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try adam.save(to: path)
        let restored = Adam([w, b], learningRate: 1)
        try restored.load(from: path)
        XCTAssertEqual(restored.learningRate, 0.05)
        XCTAssertEqual(restored.steps, [1, 0])
        assertClose(restored.state[0]["exp_avg"]!, adam.state[0]["exp_avg"]!, Tolerance.exact)
    }

    func testParametersWithoutGradientsAreSkipped() {
        let (w, b) = makeParameters()
        let before = b.value.scalars(as: Float.self)
        w.grad = Tensor.ones([3, 4])
        Adam([w, b], learningRate: 0.1).step()
        XCTAssertEqual(b.value.scalars(as: Float.self), before)
    }

    func testSchedulesMatchPyTorch() {
        let expected = NNReference.section("schedulers").mapValues { ($0 as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.doubleValue } }
        func run(_ name: String, _ make: (Optimizer) -> LRScheduler) {
            let optimizer = SGD([Parameter(Tensor.zeros([1]))], learningRate: 0.1)
            let scheduler = make(optimizer)
            var rates = [scheduler.lastLearningRate]
            for _ in 1..<(expected[name]?.count ?? 0) {
                optimizer.step()
                scheduler.step()
                rates.append(scheduler.lastLearningRate)
            }
            assertClose(rates, expected[name] ?? [], Tolerance.Pair(rtol: 1e-12, atol: 1e-15), name)
        }
        run("step") { StepLR(optimizer: $0, stepSize: 3, gamma: 0.5) }
        run("cosine") { CosineAnnealingLR(optimizer: $0, tMax: 5, etaMin: 0.01) }
        run("linear") { LinearLR(optimizer: $0, startFactor: 0.25, endFactor: 1, totalIters: 4) }
    }

    func testGradientClippingMatchesPyTorch() {
        let cases = NNReference.section("clipping")
        for (key, normType) in [("2", 2.0), ("1", 1.0), ("inf", Double.infinity)] {
            guard let c = cases[key] as? [String: Any] else { XCTFail("missing clipping case \(key)"); continue }
            let before = (c["before"] as? [Any] ?? []).map { NNReference.tensor($0).to(.float32) }
            let after = (c["after"] as? [Any] ?? []).map { NNReference.tensor($0) }
            let parameters = before.map { g -> Parameter in
                let p = Parameter(Tensor.zeros(g.shape))
                p.grad = g.clone()
                return p
            }
            let total = clipGradNorm(parameters, maxNorm: 1.5, normType: normType)
            XCTAssertEqual(total.item(), c["total"] as? Double ?? .nan, accuracy: 1e-5, "norm \(key)")
            for (p, e) in zip(parameters, after) { assertClose(p.grad!, e, Tolerance.float32, "clipped by norm \(key)") }
        }
        let v = cases["value"] as? [String: Any] ?? [:]
        let p = Parameter(Tensor.zeros([3, 4]))
        p.grad = NNReference.tensor((v["before"] as? [Any])?.first).to(.float32)
        clipGradValue([p], clipValue: 0.5)
        assertClose(p.grad!, NNReference.tensor((v["after"] as? [Any])?.first), Tolerance.float32)
    }
}
