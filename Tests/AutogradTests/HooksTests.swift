import XCTest
@testable import Autograd

/// Tensor hooks, post-accumulate hooks, node pre/post hooks and their order (Hooks.swift).
final class HooksTests: XCTestCase {
    func testLeafHookCanReplaceTheGradient() throws {
        let x = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        let seen = EventLog()
        x.registerHook { g in
            seen.append("\(values(g))")
            return nil
        }
        x.registerHook { g in g * 10 }
        try (x * 3).sum().backward()
        XCTAssertEqual(seen.events, ["[3.0, 3.0]"])
        assertClose(x.grad!, shape: [2], [30, 30])
    }

    func testNonLeafHookChangesWhatFlowsUpstream() throws {
        let x = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        let y = x * x
        y.registerHook { g in g * 0.5 }
        y.registerHook { g in g + 1 }     // sees the previous hook's result
        try (y * 4).sum().backward()
        // dy = (4 * 0.5 + 1) = 3; dx = 3 * 2x
        assertClose(x.grad!, shape: [2], [6, 12])
    }

    func testRemovingAHook() throws {
        let x = Tensor([1.0], dtype: .float64, requiresGrad: true)
        let y = x * 1
        let leafHandle = x.registerHook { g in g * 100 }
        let handle = y.registerHook { g in g * 2 }
        try (y * 1).sum().backward(retainGraph: true)
        assertClose(x.grad!, shape: [1], [200])
        handle.remove()
        leafHandle.remove()
        handle.remove()  // twice is harmless
        x.grad = nil
        try (y * 1).sum().backward()
        assertClose(x.grad!, shape: [1], [1])
    }

    func testHookRegistrationErrors() {
        assertValidationFails("cannot register a hook on a tensor that doesn't require gradient") {
            try Tensor([1.0]).validateHookRegistration()
        }
        let x = Tensor([1.0], requiresGrad: true)
        assertValidationFails("post accumulate grad hooks cannot be registered on non-leaf tensors") {
            try (x * 2).validatePostAccumulateHookRegistration()
        }
        assertValidationFails("cannot register a hook on a tensor that doesn't require gradient") {
            try Tensor([1.0]).validatePostAccumulateHookRegistration()
        }
        XCTAssertNoThrow(try x.validatePostAccumulateHookRegistration())
    }

    func testPostAccumulateGradHookSeesTheAccumulatedGrad() throws {
        let w = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        let seen = EventLog()
        w.registerPostAccumulateGradHook { leaf in
            seen.append("\(values(leaf.grad!))")
            // The optimizer-in-backward pattern: step right away.
            withNoGrad { leaf.subInPlace(leaf.grad! * 0.5) }
        }
        try (w * w).sum().backward()
        XCTAssertEqual(seen.events, ["[2.0, 4.0]"])
        assertClose(w, shape: [2], [0, 0])
    }

    func testNodeHooks() throws {
        let x = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        let y = x * 3
        let node = try XCTUnwrap(y.gradFn)
        let seen = EventLog()
        node.registerPrehook { gradOutputs in
            seen.append("pre \(values(gradOutputs[0]!))")
            return [gradOutputs[0]! * 2]
        }
        node.registerHook { gradInputs, gradOutputs in
            seen.append("post in=\(values(gradInputs[0]!)) out=\(values(gradOutputs[0]!))")
            return [gradInputs[0]! + 1]
        }
        try y.sum().backward()
        XCTAssertEqual(seen.events, ["pre [1.0, 1.0]", "post in=[6.0, 6.0] out=[2.0, 2.0]"])
        assertClose(x.grad!, shape: [2], [7, 7])
    }

    func testFiringOrderMatchesPyTorch() throws {
        // PyTorch: tensor hooks, then retain_grad, then the node's pre-hooks, the node, its
        // post-hooks; for a leaf: its tensor hooks, AccumulateGrad's pre-hooks, accumulation,
        // post-accumulate hooks.
        let log = EventLog()
        let x = Tensor([1.0], dtype: .float64, requiresGrad: true)
        let y = x * 2
        let node = try XCTUnwrap(y.gradFn)
        node.registerPrehook { _ in log.append("y.gradFn pre-hook"); return nil }
        y.registerHook { g in log.append("y tensor hook"); return g * 3 }
        y.retainGrad()
        node.registerHook { _, _ in log.append("y.gradFn post-hook"); return nil }
        let accumulate = try XCTUnwrap(node.nextFunctions[0].function)
        XCTAssertEqual(accumulate.name, "AccumulateGrad")
        accumulate.registerPrehook { _ in log.append("AccumulateGrad pre-hook"); return nil }
        x.registerPostAccumulateGradHook { _ in log.append("x post-accumulate hook") }
        x.registerHook { g in log.append("x tensor hook"); return nil }
        accumulate.registerHook { _, _ in log.append("AccumulateGrad post-hook"); return nil }
        try y.sum().backward()
        XCTAssertEqual(log.events, ["y tensor hook", "y.gradFn pre-hook", "y.gradFn post-hook",
                                    "x tensor hook", "AccumulateGrad pre-hook", "x post-accumulate hook",
                                    "AccumulateGrad post-hook"])
        // retain_grad ran after the tensor hook: it saw the hooked gradient.
        assertClose(y.grad!, shape: [1], [3])
        assertClose(x.grad!, shape: [1], [6])
    }

    func testNodesRunInDecreasingSequenceOrder() throws {
        let log = EventLog()
        let x = Tensor([1.0], dtype: .float64, requiresGrad: true)
        let a = x * 2      // created first
        let b = x * 3      // created second: runs first
        let y = a + b
        a.gradFn!.registerPrehook { _ in log.append("a"); return nil }
        b.gradFn!.registerPrehook { _ in log.append("b"); return nil }
        y.gradFn!.registerPrehook { _ in log.append("y"); return nil }
        try y.sum().backward()
        XCTAssertEqual(log.events, ["y", "b", "a"])
    }

    func testHooksApplyToGradOfWithRespectToLeaves() throws {
        // torch.autograd.grad runs the tensor hooks of captured tensors.
        let x = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        x.registerHook { g in g * 2 }
        let y = x * 1
        y.registerHook { g in g + 1 }
        let g = try grad(of: [(y * 3).sum()], wrt: [x, y])
        assertClose(g[0]!, shape: [2], [8, 8])
        assertClose(g[1]!, shape: [2], [4, 4])
        XCTAssertNil(x.grad)
    }

    func testHookOnTensorModifiedInPlaceSeesTheEarlierValuesGradient() throws {
        let x = Tensor([1.0], dtype: .float64, requiresGrad: true)
        let t = x * 1
        let seen = EventLog()
        t.registerHook { g in seen.append("before \(values(g))"); return nil }
        t.mulInPlace(5.0)
        t.registerHook { g in seen.append("after \(values(g))"); return nil }
        try (t * 2).sum().backward()
        XCTAssertEqual(seen.events, ["after [2.0]", "before [10.0]"])
    }
}
