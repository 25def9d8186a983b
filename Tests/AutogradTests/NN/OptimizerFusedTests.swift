import XCTest
@testable import Autograd

/// The CPU's fused optimizer updates against the op-by-op updates they replace: the same bits
/// for parameters and state, step after step, in float32 and float64, serial and parallel
/// (36K elements), with weight decay, momentum, Nesterov, AdamW, amsgrad and centered
/// RMSprop; and state that another tensor shares is not written through.
final class OptimizerFusedTests: XCTestCase {
    typealias Make = ([Parameter]) -> Optimizer
    let configs: [(String, Make)] = [
        ("sgd", { SGD($0, learningRate: 0.1) }),
        ("sgd_wd", { SGD($0, learningRate: 0.1, weightDecay: 0.03) }),
        ("sgd_momentum", { SGD($0, learningRate: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01) }),
        ("sgd_nesterov", { SGD($0, learningRate: 0.05, momentum: 0.8, weightDecay: 0.1, nesterov: true) }),
        ("adam", { Adam($0, learningRate: 0.01) }),
        ("adam_wd_amsgrad", { Adam($0, learningRate: 0.02, betas: (0.8, 0.9), eps: 1e-6, weightDecay: 0.1, amsgrad: true) }),
        ("adamw", { AdamW($0, learningRate: 0.01, weightDecay: 0.05) }),
        ("adamw_amsgrad", { AdamW($0, learningRate: 0.003, amsgrad: true) }),
        ("rmsprop", { RMSprop($0, learningRate: 0.01) }),
        ("rmsprop_wd_momentum", { RMSprop($0, learningRate: 0.01, alpha: 0.9, weightDecay: 0.1, momentum: 0.5) }),
        ("rmsprop_centered", { RMSprop($0, learningRate: 0.01, alpha: 0.9, eps: 1e-6, weightDecay: 0.1, momentum: 0.5, centered: true) }),
        ("rmsprop_centered_plain", { RMSprop($0, learningRate: 0.02, centered: true) }),
    ]

    func bits(_ t: Tensor) -> [UInt64] { t.to(.float64).scalars(as: Double.self).map(\.bitPattern) }

    /// Fails with the first differing element (not two 60K-element arrays).
    func assertSameBits(_ a: Tensor, _ b: Tensor, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        let x = bits(a), y = bits(b)
        XCTAssertEqual(x.count, y.count, message, file: file, line: line)
        if let k = x.indices.first(where: { k in k < y.count && x[k] != y[k] }) {
            XCTFail("\(message): element \(k) is \(Double(bitPattern: x[k])), expected \(Double(bitPattern: y[k]))", file: file, line: line)
        }
    }

    /// Runs `steps` steps of one configuration on fresh parameters and returns them and the state.
    func run(_ make: Make, dtype: DType, shapes: [[Int]], fused: Bool, steps: Int = 4) -> ([Tensor], [String: Tensor]) {
        let params = shapes.enumerated().map { k, s in Parameter(Tensor.randn(s, dtype: dtype, seed: UInt64(10 + k))) }
        let optimizer = make(params)
        for step in 0..<steps {
            for (k, p) in params.enumerated() {
                var g = Tensor.randn(p.shape, dtype: dtype, seed: UInt64(100 * step + k))
                if step == 2 { g = g * 1e-3 }   // smaller gradients: amsgrad's maximum keeps the old value
                p.grad = g
            }
            if fused {
                optimizer.step()
            } else {
                FusedUpdates.$disabled.withValue(true) { optimizer.step() }
            }
        }
        return (params.map(\.value), optimizer.stateDict())
    }

    func testFusedUpdatesMatchOpByOpBitForBit() {
        for dtype in [DType.float32, .float64] {
            for (name, make) in configs {
                let shapes = [[37, 19], [19], [200, 180]]
                let (fused, fusedState) = run(make, dtype: dtype, shapes: shapes, fused: true)
                let (plain, plainState) = run(make, dtype: dtype, shapes: shapes, fused: false)
                for (k, (a, b)) in zip(fused, plain).enumerated() {
                    assertSameBits(a, b, "\(name) \(dtype) parameter \(k)")
                }
                XCTAssertEqual(Set(fusedState.keys), Set(plainState.keys), "\(name) \(dtype) state keys")
                for (key, value) in plainState where key.hasPrefix("state.") {
                    assertSameBits(fusedState[key]!, value, "\(name) \(dtype) \(key)")
                }
            }
        }
    }

    func testOnlyPlainCPUFloatParametersTakeTheFusedPath() {
        let p = Tensor.randn([4, 6], seed: 1)
        XCTAssertTrue(FusedUpdates.applies(p, Tensor.randn([4, 6], seed: 2)))
        XCTAssertFalse(FusedUpdates.applies(p, Tensor.randn([6, 4], seed: 2).transposed(0, 1)))   // strided gradient
        XCTAssertFalse(FusedUpdates.applies(p.transposed(0, 1), Tensor.randn([6, 4], seed: 2)))   // strided parameter
        XCTAssertFalse(FusedUpdates.applies(p, p))                                                // same memory
        XCTAssertFalse(FusedUpdates.applies(p.to(.float16), Tensor.randn([4, 6], seed: 2).to(.float16)))
        XCTAssertFalse(FusedUpdates.applies(p, Tensor.randn([4, 6], dtype: .float64, seed: 2)))
    }

    /// State loaded from a dictionary the caller keeps is copied before the first in-place
    /// update, so the caller's tensors keep their values.
    func testLoadedStateIsNotWrittenThrough() throws {
        let w = Parameter(Tensor.randn([5, 3], seed: 3))
        let adam = Adam([w], learningRate: 0.01)
        w.grad = Tensor.randn([5, 3], seed: 4)
        adam.step()
        let saved = adam.stateDict()
        let before = bits(saved["state.0.exp_avg"]!)
        let restored = Adam([w], learningRate: 0.01)
        try restored.loadStateDict(saved)
        w.grad = Tensor.randn([5, 3], seed: 5)
        restored.step()
        XCTAssertEqual(bits(saved["state.0.exp_avg"]!), before)
        XCTAssertNotEqual(bits(restored.stateDict()["state.0.exp_avg"]!), before)
    }
}
