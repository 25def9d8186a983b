import Dispatch
import Foundation
import XCTest
@testable import Autograd

/// The engine's walk: errors, gradient routing, depth, memory and threads (Engine.swift,
/// AutogradMeta.swift).
final class EngineTests: XCTestCase {
    func testBackwardTwiceWithoutRetainGraphThrows() throws {
        let x = Tensor(3.0, requiresGrad: true)
        let y = x.pow(2)
        try y.backward()
        XCTAssertThrowsError(try y.backward()) { error in
            XCTAssertEqual(error as? AutogradError, .graphFreed)
            XCTAssertTrue("\(error)".hasPrefix("Trying to backward through the graph a second time"))
        }
    }

    func testRetainGraphAllowsSecondBackward() throws {
        let x = Tensor(3.0, requiresGrad: true)
        let y = x.pow(2)
        try y.backward(retainGraph: true)
        try y.backward()
        XCTAssertEqual(x.grad!.item(), 12)
    }

    func testNonScalarBackwardNeedsGradient() throws {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let y = x * 2
        XCTAssertThrowsError(try y.backward()) { error in
            XCTAssertEqual(error as? AutogradError, .nonScalarOutput(shape: [2]))
            XCTAssertTrue("\(error)".contains("grad can be implicitly created only for scalar outputs"))
        }
        try y.backward(Tensor([1.0, 10.0]))
        XCTAssertEqual(x.grad!.scalars(as: Float.self), [2, 20])
    }

    func testBackwardOfTensorWithoutGradThrows() {
        let x = Tensor(1.0)
        XCTAssertThrowsError(try (x * 2).backward()) { error in
            XCTAssertEqual("\(error)", "element 0 of tensors does not require grad and does not have a gradFn")
        }
    }

    func testGradientShapeMismatchThrows() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        XCTAssertThrowsError(try (x * 2).backward(Tensor([1.0, 2.0, 3.0]))) { error in
            XCTAssertTrue("\(error)".contains("Mismatch in shape"))
        }
    }

    func testIntegerRequiresGradIsRejected() {
        let x = Tensor([1, 2])
        assertValidationFails("only Tensors of floating point and complex dtype can require gradients") {
            try x.validateRequiresGrad(true)
        }
        let y = Tensor([1.0], requiresGrad: true) * 2
        assertValidationFails("you can only change requiresGrad flags of leaf variables") {
            try y.validateRequiresGrad(false)
        }
    }

    func testReuseSumsGradients() throws {
        let x = Tensor([1.0, -2.0, 3.0], dtype: .float64, requiresGrad: true)
        try (x * x).sum().backward()
        XCTAssertEqual(x.grad!.scalars(as: Double.self), [2, -4, 6])
    }

    func testBroadcastGradientIsReducedToInputShape() throws {
        let a = Tensor(shape: [2, 3], scalars: [1.0, 2, 3, 4, 5, 6], requiresGrad: true)
        let b = Tensor(shape: [3], scalars: [1.0, 1, 1], requiresGrad: true)
        let c = Tensor(shape: [2, 1], scalars: [2.0, 3.0], requiresGrad: true)
        try (a * b * c).sum().backward()
        XCTAssertEqual(b.grad!.shape, [3])
        XCTAssertEqual(c.grad!.shape, [2, 1])
        // d/db_j = Σ_i a_ij c_i: [1·2 + 4·3, 2·2 + 5·3, 3·2 + 6·3].
        XCTAssertEqual(b.grad!.scalars(as: Double.self), [14, 19, 24])
        // d/dc_i = Σ_j a_ij b_j: [6, 15].
        XCTAssertEqual(c.grad!.scalars(as: Double.self), [6, 15])
    }

    func testMixedDtypeGradientIsCastBack() throws {
        let a = Tensor([1.0, 2.0], requiresGrad: true)              // float32
        let b = Tensor([3.0, 4.0], dtype: .float64, requiresGrad: true)
        let y = a * b
        XCTAssertEqual(y.dtype, .float64)
        try y.sum().backward()
        XCTAssertEqual(a.grad!.dtype, .float32)
        XCTAssertEqual(a.grad!.scalars(as: Float.self), [3, 4])
    }

    func testReadyQueueRunsLatestNodeFirst() throws {
        // Two branches from one leaf: the engine must wait for both before accumulating once.
        let x = Tensor(2.0, dtype: .float64, requiresGrad: true)
        let y = x.exp() + x.pow(3) + x * 5
        try y.backward()
        XCTAssertEqual(x.grad!.item(), Foundation.exp(2) + 12 + 5, accuracy: 1e-12)
    }

    /// Nodes reached along many paths of different lengths (more nodes than the table's
    /// linear-search limit) each run once, after all their dependencies: the gradient of
    /// t_k = t_{k-1}·x + t_{k/2} matches its derivative computed alongside in plain Doubles,
    /// and a hook on the leaf sees one summed gradient.
    func testSharedNodesReachedAtDifferentDepthsRunOnce() throws {
        let x0 = 1.25
        let x = Tensor(x0, dtype: .float64, requiresGrad: true)
        let calls = EventLog()
        x.registerHook { g in calls.append("\(g.item())"); return nil }
        var terms = [x]
        var values = [x0], derivatives = [1.0]
        for k in 1..<40 {
            terms.append(terms[k - 1] * x + terms[k / 2])
            values.append(values[k - 1] * x0 + values[k / 2])
            derivatives.append(derivatives[k - 1] * x0 + values[k - 1] + derivatives[k / 2])
        }
        try terms[39].backward()
        XCTAssertEqual(x.grad!.item(), derivatives[39], accuracy: 1e-9 * abs(derivatives[39]))
        XCTAssertEqual(calls.events.count, 1)
    }

    /// The engine skips `releaseSaved()` for leaves' accumulators, which must therefore
    /// never hold saved tensors; a leaf still accumulates across fresh graphs afterwards.
    func testAccumulatorsSaveNothing() throws {
        let x = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        let y = (x.pow(3) - x * x).sum()
        let accumulator = x.gradAccumulator()
        XCTAssertTrue(accumulator.saved.isEmpty)
        try y.backward()
        XCTAssertTrue(accumulator.saved.isEmpty)
        XCTAssertEqual(x.grad!.scalars(as: Double.self), [1, 8])
        try (x * 2.0).sum().backward()
        XCTAssertEqual(x.grad!.scalars(as: Double.self), [3, 10])
    }

    func testNoGradDoesNotRecord() {
        let x = Tensor(2.0, requiresGrad: true)
        let y = withNoGrad { x * 3 }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertNil(y.gradFn)
        let z = withNoGrad { withGrad { x * 3 } }
        XCTAssertEqual(z.gradFn?.name, "MulBackward0")
    }

    func testDetachSharesStorageButNotGraph() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let d = (x * 2).detach()
        XCTAssertFalse(d.requiresGrad)
        XCTAssertTrue(d.isLeaf)
    }

    /// The chain length: 100 000 in the suite (fast in debug builds), 1 000 000 with
    /// `AUTOGRAD_LONG_CHAIN=1`.
    private var chainLength: Int {
        ProcessInfo.processInfo.environment["AUTOGRAD_LONG_CHAIN"] == "1" ? 1_000_000 : 100_000
    }

    func testLongChainWalksWithoutStackOverflowAndIsFreed() throws {
        let n = chainLength
        let x = Tensor(1.0, dtype: .float64, requiresGrad: true)
        weak var firstNode: GradFn?
        weak var middleMeta: AutogradMeta?
        weak var lastNode: GradFn?
        try scoped {
            var y = x
            for i in 0..<n {
                y = y * 1.0
                if i == 0 { firstNode = y.gradFn }
                if i == n / 2 { middleMeta = y.meta }
            }
            lastNode = y.gradFn
            XCTAssertNotNil(firstNode)
            try y.backward()
        }
        XCTAssertEqual(x.grad?.item(), 1)
        // Dropping the last tensor frees the whole chain (iteratively: no stack overflow).
        XCTAssertNil(lastNode)
        XCTAssertNil(middleMeta)
        XCTAssertNil(firstNode)
    }

    func testLongChainIsFreedWithoutBackward() {
        let n = chainLength
        weak var firstNode: GradFn?
        scoped {
            let x = Tensor(1.0, requiresGrad: true)
            var y = x.exp()
            firstNode = y.gradFn
            for _ in 0..<n { y = y + 1.0 }
        }
        XCTAssertNil(firstNode)
    }

    func testNoCyclesBetweenTensorsAndNodes() throws {
        let counter = DeinitCounter()
        weak var expNode: GradFn?
        weak var copySlices: GradFn?
        weak var customNode: GradFn?
        weak var baseMeta: AutogradMeta?
        try scoped {
            let x = Tensor([1.0, 2.0, 3.0, 4.0], dtype: .float64, requiresGrad: true)
            let e = x.exp()                  // saves its own output
            expNode = e.gradFn
            let b = e * 1
            baseMeta = b.meta
            let v = b.reshaped([2, 2])
            v.mulInPlace(x.reshaped([2, 2]))  // CopySlices; the view keeps its base
            copySlices = b.gradFn
            let c = try Tensor.apply(Probe.self, [b], values: ["probe": DeinitProbe(counter)])
            customNode = c.gradFn
            XCTAssertEqual(counter.count, 0)
            try c.sum().backward(retainGraph: true)
            XCTAssertNotNil(expNode)
        }
        XCTAssertNil(expNode)
        XCTAssertNil(copySlices)
        XCTAssertNil(customNode)
        XCTAssertNil(baseMeta)
        XCTAssertEqual(counter.count, 1)
    }

    func testIndependentGraphsOnEightThreads() {
        let failures = EventLog()
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            let scale = Double(t + 1)
            for _ in 0..<20 {
                let x = Tensor([1.0, 2.0, 3.0], dtype: .float64, requiresGrad: true)
                let y = ((x * scale).pow(2) + x.sin()).sum()
                do {
                    let g = try grad(of: [y], wrt: [x], createGraph: true)[0]!
                    try g.sum().backward()
                } catch {
                    failures.append("thread \(t): \(error)")
                    return
                }
                // d²/dx² (s²x² + sin x) = 2s² - sin x
                let expected = [1.0, 2.0, 3.0].map { 2 * scale * scale - Foundation.sin($0) }
                let got = values(x.grad!)
                for (a, e) in zip(got, expected) where Swift.abs(a - e) > 1e-9 {
                    failures.append("thread \(t): got \(got), expected \(expected)")
                    return
                }
            }
        }
        XCTAssertEqual(failures.events, [])
    }

    func testConcurrentAccumulationIntoASharedLeaf() throws {
        let w = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        let failures = EventLog()
        let rounds = 25
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            for _ in 0..<rounds {
                do {
                    try (w * Double(t + 1)).sum().backward()
                } catch {
                    failures.append("\(error)")
                }
            }
        }
        XCTAssertEqual(failures.events, [])
        let total = Double(rounds * (1...8).reduce(0, +))
        assertClose(w.grad!, shape: [2], [total, total])
    }

    func testConcurrentHooksOnASharedLeaf() throws {
        let w = Tensor([1.0], dtype: .float64, requiresGrad: true)
        let log = EventLog()
        w.registerHook { g in log.append("hook"); return nil }
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            try? (w * 2).sum().backward()
        }
        XCTAssertEqual(log.events.count, 8)
        assertClose(w.grad!, shape: [1], [16])
    }
}

/// Passes its input through, holding a probe in its context.
private enum Probe: CustomFunction {
    static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) throws -> Tensor {
        ctx.saveForBackward(inputs[0])
        return inputs[0] * 1
    }

    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) throws -> [Tensor?] { [gradOutput] }
}

/// Runs `body`; its locals are released when it returns.
private func scoped(_ body: () throws -> Void) rethrows { try body() }
