import XCTest
@testable import Autograd

/// Every speed path against the plain reference path it replaces (CPUBackend+scalar kernels,
/// the fused pow backward, the literal shortcut, the engine's node table, the caching CPU
/// allocator): results must match exactly, since each fast path computes the same expression.
final class FastPathTests: XCTestCase {
    /// Sizes around the SIMD widths and loop tails, plus a zero-size and a 0-d case.
    static let sizes: [[Int]] = [[], [0], [1], [3], [7], [8], [9], [15], [16], [17], [31], [33], [1000], [5, 7], [4, 3, 5]]

    /// Random values away from zero (so division and fractional powers are defined).
    func values(_ shape: [Int], dtype: DType, seed: UInt64) -> Tensor {
        let r = Tensor.rand(shape, dtype: dtype, seed: seed)
        return r + 0.5
    }

    /// The reference: the same op with the scalar materialized as a 0-d tensor.
    func reference(_ op: BinaryOp, _ x: Tensor, _ s: Double, scalarOnLeft: Bool) -> Tensor {
        let t = Tensor(scalar: .double(s), dtype: x.dtype)
        let lhs: Operand = scalarOnLeft ? .tensor(t) : .tensor(x)
        let rhs: Operand = scalarOnLeft ? .tensor(x) : .tensor(t)
        return Tensor.computeBinary(op, lhs, rhs, name: "reference")
    }

    func checkScalarKernels(_ dtype: DType) {
        let ops: [BinaryOp] = [.add, .sub, .mul, .div, .pow]
        let scalars = [2.0, 1.0, 0.1, -3.25, 0.5]
        for (k, shape) in FastPathTests.sizes.enumerated() {
            let x = values(shape, dtype: dtype, seed: UInt64(k))
            for op in ops {
                for s in scalars {
                    for onLeft in [false, true] {
                        let lhs: Operand = onLeft ? .scalar(.double(s)) : .tensor(x)
                        let rhs: Operand = onLeft ? .tensor(x) : .scalar(.double(s))
                        let fast = Tensor.computeBinary(op, lhs, rhs, name: "fast")
                        let ref = reference(op, x, s, scalarOnLeft: onLeft)
                        XCTAssertEqual(fast.dtype, dtype)
                        assertClose(fast, ref, Tolerance.exact, "\(op) \(s) left=\(onLeft) shape \(shape)")
                    }
                }
            }
        }
    }

    func testScalarKernelsMatchMaterializedScalarFloat32() { checkScalarKernels(.float32) }
    func testScalarKernelsMatchMaterializedScalarFloat64() { checkScalarKernels(.float64) }

    func testScalarKernelsOnNonContiguousViews() {
        for dtype in [DType.float32, .float64] {
            let base = values([9, 17], dtype: dtype, seed: 3)
            let views = [base.transposed(0, 1), base[1..., 2...].transposed(0, 1), base.expanded(to: [2, 9, 17])]
            for (i, x) in views.enumerated() {
                for op: BinaryOp in [.add, .sub, .mul, .div, .pow] {
                    for onLeft in [false, true] {
                        let lhs: Operand = onLeft ? .scalar(.double(1.5)) : .tensor(x)
                        let rhs: Operand = onLeft ? .tensor(x) : .scalar(.double(1.5))
                        let fast = Tensor.computeBinary(op, lhs, rhs, name: "fast")
                        // PyTorch's layout rule: a transposed dense input's layout is kept
                        XCTAssertEqual(fast.strides, i == 0 ? x.strides : Shape.contiguousStrides(x.shape), "view \(i)")
                        assertClose(fast, reference(op, x, 1.5, scalarOnLeft: onLeft), Tolerance.exact, "view \(i) \(op)")
                    }
                }
            }
        }
    }

    /// `computeFloatScalar` (the operators' tensor-scalar shortcut, with its own 0-d branch)
    /// against the materialized-scalar reference, for contiguous tensors of every size, strided
    /// views and 0-d views at a non-zero storage offset, with floating and integer scalars.
    func checkFloatScalarShortcut(_ dtype: DType) {
        let ops: [BinaryOp] = [.add, .sub, .mul, .div, .pow]
        let base = values([9, 17], dtype: dtype, seed: 11)
        var inputs = FastPathTests.sizes.enumerated().map { values($1, dtype: dtype, seed: UInt64(200 + $0)) }
        inputs += [base.transposed(0, 1), base[1..., 2...], base[4][5], base[8][16], base.transposed(0, 1)[3][2]]
        for x in inputs {
            for op in ops {
                for s in [2.0, 1.0, 0.1, -3.25, 0.5, 3.0] {
                    for onLeft in [false, true] {
                        guard let fast = Tensor.computeFloatScalar(op, x, .double(s), scalarOnLeft: onLeft) else {
                            XCTFail("no shortcut for \(dtype) \(op)"); continue
                        }
                        XCTAssertEqual(fast.dtype, dtype)
                        // a transposed dense input's layout is kept (PyTorch's rule), else contiguous
                        XCTAssertTrue(x.isDenseInSomeOrder ? fast.strides == x.strides || x.rank == 0 : fast.isContiguous)
                        let ref = reference(op, x, s, scalarOnLeft: onLeft)
                        assertClose(fast, ref, Tolerance.exact, "\(op) \(s) left=\(onLeft) shape \(x.shape) offset \(x.offset)")
                        if x.rank == 0 {
                            // Bit for bit (assertClose treats NaNs and signed zeros as equal).
                            XCTAssertEqual(fast.item().bitPattern, ref.item().bitPattern, "\(op) \(s) left=\(onLeft)")
                        }
                    }
                }
                let fastInt = Tensor.computeFloatScalar(op, x, .int(3), scalarOnLeft: false)
                XCTAssertNotNil(fastInt)
                if let fastInt { assertClose(fastInt, reference(op, x, 3, scalarOnLeft: false), Tolerance.exact, "\(op) int 3") }
            }
        }
    }

    func testFloatScalarShortcutMatchesMaterializedScalarFloat32() { checkFloatScalarShortcut(.float32) }
    func testFloatScalarShortcutMatchesMaterializedScalarFloat64() { checkFloatScalarShortcut(.float64) }

    /// `computeFloatScalars` (0-d tensor with 0-d tensor) against the general binary path,
    /// bit for bit, including 0-d views at storage offsets, signed zeros, infinities and NaN.
    func testZeroDimPairShortcutMatchesGeneralPath() {
        for dtype in [DType.float32, .float64] {
            let v = Tensor(shape: [8], scalars: [1.5, -0.0, 0.0, 3.25e-3, -7, Double.infinity, Double.nan, 1e30]).to(dtype)
            for op: BinaryOp in [.add, .sub, .mul, .div] {
                for i in 0..<8 {
                    for j in 0..<8 {
                        let a = v[i], b = v[j]
                        XCTAssertEqual(a.offset, i)
                        guard let fast = Tensor.computeFloatScalars(op, a, b) else { XCTFail("declined"); continue }
                        let general = Tensor.computeBinary(op, .tensor(a), .tensor(b), name: "general")
                        XCTAssertEqual(fast.shape, [])
                        XCTAssertEqual(fast.dtype, general.dtype)
                        XCTAssertEqual(fast.to(.float64).item().bitPattern, general.to(.float64).item().bitPattern,
                                       "\(dtype) \(op) \(i) \(j)")
                    }
                }
            }
        }
        XCTAssertNil(Tensor.computeFloatScalars(.add, Tensor(1.0), Tensor(1.0, dtype: .float64)))
        XCTAssertNil(Tensor.computeFloatScalars(.add, Tensor(1.0), Tensor([1.0])))
        XCTAssertNil(Tensor.computeFloatScalars(.add, Tensor(1), Tensor(2)))
        XCTAssertNil(Tensor.computeFloatScalars(.pow, Tensor(1.0), Tensor(2.0)))
    }

    func testFloatScalarShortcutDeclinesOtherOperands() {
        XCTAssertNil(Tensor.computeFloatScalar(.mul, Tensor(shape: [2], scalars: [1, 2] as [Int32]), .double(2), scalarOnLeft: false))
        XCTAssertNil(Tensor.computeFloatScalar(.mul, Tensor(2.0, dtype: .float16), .double(2), scalarOnLeft: false))
        XCTAssertNil(Tensor.computeFloatScalar(.maximum, Tensor(2.0), .double(2), scalarOnLeft: false))
    }

    /// The operators on 0-d leaves (the seed notebook's shape) record the same graph and
    /// gradients through the shortcut.
    func testScalarOperatorsOnZeroDimTensorsKeepTheirGradients() throws {
        let x = Tensor(1.5, dtype: .float64, requiresGrad: true)
        let y = ((x * 2.0 + 1.0) / 4.0 - 0.25).pow(3) * (2.0 - x) + 3.0 / x
        XCTAssertEqual(y.gradFn?.name, "AddBackward0")
        try y.backward()
        let u = (1.5 * 2 + 1) / 4 - 0.25
        let expected = 3 * u * u * 0.5 * (2 - 1.5) - u * u * u - 3 / (1.5 * 1.5)
        XCTAssertEqual(x.grad!.item(), expected, accuracy: 1e-12)
    }

    /// The 0-d fill shortcut writes the one element at the view's offset and nothing else.
    func testFillOfZeroDimViewsWritesOnlyItsElement() {
        for dtype in [DType.float32, .float64, .int64, .bool] {
            let x = Tensor.zeros([2, 3], dtype: dtype)
            _ = x[1][2].fill(1)
            _ = x[0][1].fill(1)
            XCTAssertEqual(x.to(.float64).scalars(as: Double.self), [0, 1, 0, 0, 0, 1], "\(dtype)")
            XCTAssertEqual(Tensor.full([], value: 2.5, dtype: dtype).to(.float64).item(),
                           Tensor.full([1], value: 2.5, dtype: dtype).to(.float64).item(), "\(dtype)")
        }
    }

    /// Large contiguous fills go to CKernels (from 512 KiB): every dtype's value lands in every
    /// element of the view, at its offset, and nothing outside it changes.
    func testLargeFillsReachEveryElementOfTheViewOnly() {
        let rows = 1 + (1 << 20) / 1000   // the view below holds more than 512 KiB of bytes
        for dtype in DType.allCases {
            let x = Tensor.zeros([rows + 2, 1000], dtype: dtype)
            let view = x[1..<(rows + 1)]
            XCTAssertTrue(view.isContiguous && view.offset == 1000, "\(dtype)")
            _ = view.fill(3)
            let values = x.to(.float64).scalars(as: Double.self)
            XCTAssertTrue(values[..<1000].allSatisfy { $0 == 0 }, "\(dtype): the row before the view")
            XCTAssertTrue(values[1000..<((rows + 1) * 1000)].allSatisfy { $0 == (dtype == .bool ? 1 : 3) }, "\(dtype): the view")
            XCTAssertTrue(values[((rows + 1) * 1000)...].allSatisfy { $0 == 0 }, "\(dtype): the row after the view")
            let full = Tensor.full([rows, 1000], value: -2.5, dtype: dtype).to(.float64).scalars(as: Double.self)
            let expected = Tensor.full([1], value: -2.5, dtype: dtype).to(.float64).item()
            XCTAssertTrue(full.allSatisfy { $0 == expected }, "\(dtype): full")
        }
    }

    /// `nextFunctions` (public, built from the node's edges) lists one entry per input in
    /// order, with the same functions the engine walks.
    func testNextFunctionsMirrorTheNodeEdges() {
        let a = Tensor(2.0, requiresGrad: true), b = Tensor(3.0)
        let c = (a * b).exp()
        let mul = c.gradFn!.nextFunctions[0].function!
        XCTAssertEqual(mul.name, "MulBackward0")
        XCTAssertEqual(mul.nextFunctions.count, 2)
        XCTAssertEqual(mul.nextFunctions[0].function?.name, "AccumulateGrad")
        XCTAssertNil(mul.nextFunctions[1].function)
        XCTAssertEqual(mul.edges.count, 2)
        XCTAssertTrue(mul.edges[0].function === mul.nextFunctions[0].function)
        XCTAssertEqual(mul.edges[0].metadata?.shape, [])
        XCTAssertEqual(mul.edges[1].metadata?.dtype, .float32)
    }

    /// The engine's single-gradient path (nodes of one input and one output, no hooks, no
    /// captures) against its general path, which `backward(inputs:)` takes: the same
    /// gradients, bit for bit, for every node that overrides `applySingle`, on 0-d and
    /// strided inputs, with and without createGraph.
    func testSingleGradientEnginePathMatchesGeneralPath() throws {
        let chains: [(String, (Tensor) -> Tensor)] = [
            ("add", { $0 + 1.5 }), ("radd", { 1.5 + $0 }), ("sub", { $0 - 0.25 }), ("rsub", { 2.0 - $0 }),
            ("neg", { -$0 }), ("mul", { $0 * 1.0001 }), ("rmul", { 3.0 * $0 }), ("div", { $0 / 3.0 }),
            ("rdiv", { 3.0 / $0 }), ("pow3", { $0.pow(3) }), ("pow2.5", { $0.pow(2.5) }), ("pow0", { $0.pow(0) }),
            ("exp", { $0.exp() }), ("log", { $0.log() }), ("sqrt", { $0.sqrt() }), ("sin", { $0.sin() }),
            ("cos", { $0.cos() }), ("tanh", { $0.tanh() }), ("sigmoid", { $0.sigmoid() }), ("relu", { $0.relu() }),
            ("abs", { $0.abs() }), ("sign", { $0.sign() }),
            ("mixed", { (($0 * 2.0 + 1.0).exp() / 4.0).pow(2).tanh() * 0.5 }),
        ]
        for dtype in [DType.float32, .float64] {
            for createGraph in [false, true] {
                for (name, f) in chains {
                    for shape in [[Int](), [7], [3, 5]] {
                        func run(general: Bool) throws -> Tensor {
                            let base = values(shape == [3, 5] ? [5, 3] : shape, dtype: dtype, seed: 5)
                            let x = (shape == [3, 5] ? base.transposed(0, 1) : base).detach()
                            x.requiresGrad = true
                            let y = f(f(x) * 1.5).sum()
                            if general {
                                try y.backward(createGraph: createGraph, inputs: [x])
                            } else {
                                try y.backward(createGraph: createGraph)
                            }
                            return x.grad!.detach()
                        }
                        let fast = try run(general: false), general = try run(general: true)
                        XCTAssertEqual(fast.shape, general.shape)
                        XCTAssertEqual(fast.to(.float64).scalars(as: Double.self).map(\.bitPattern),
                                       general.to(.float64).scalars(as: Double.self).map(\.bitPattern),
                                       "\(name) \(dtype) createGraph \(createGraph) shape \(shape)")
                    }
                }
            }
        }
    }

    /// Nodes with hooks take the general path; a hook on a node in the middle of a unary
    /// chain still sees and replaces its gradient.
    func testSingleGradientPathLeavesHookedNodesToTheGeneralPath() throws {
        let x = Tensor(2.0, dtype: .float64, requiresGrad: true)
        let mid = x * 3.0
        _ = mid.registerHook { $0 * 10.0 }
        let y = (mid + 1.0).exp()
        let exp7 = y.item()   // exp(2 * 3 + 1)
        try y.backward()
        XCTAssertEqual(x.grad!.item(), exp7 * 10 * 3, accuracy: 1e-6)
    }

    /// The engine's two-input path (nodes of one output and two inputs, no hooks, no
    /// captures) against the general path that `backward(inputs:)` takes: the same gradients,
    /// bit for bit, for nodes that override `applyPair` (add, sub, mul) and ones that use the
    /// default (div, pow), with both or one input requiring grad, a tensor used twice,
    /// broadcasting, strided inputs, and with and without createGraph.
    func testPairGradientEnginePathMatchesGeneralPath() throws {
        let ops: [(String, (Tensor, Tensor) -> Tensor)] = [
            ("add", { $0 + $1 }), ("sub", { $0 - $1 }), ("mul", { $0 * $1 }), ("div", { $0 / $1 }),
            ("pow", { $0.pow($1) }), ("mixed", { ($0.pow(3) - $1.pow(2)) * ($0 - $1) }),
        ]
        for dtype in [DType.float32, .float64] {
            for createGraph in [false, true] {
                for (name, f) in ops {
                    for (xShape, wShape) in [([Int](), [Int]()), ([3, 5], [3, 5]), ([3, 5], [5]), ([7], [])] {
                        for mode in ["both", "xOnly", "wOnly", "twice"] {
                            func run(general: Bool) throws -> [Tensor?] {
                                let xBase = values(xShape == [3, 5] ? [5, 3] : xShape, dtype: dtype, seed: 7)
                                let x = (xShape == [3, 5] ? xBase.transposed(0, 1) : xBase).detach()
                                let w = values(wShape, dtype: dtype, seed: 8).detach()
                                x.requiresGrad = mode != "wOnly"
                                w.requiresGrad = mode != "xOnly"
                                let y = (mode == "twice" ? f(x, x) : f(x, w)).sum()
                                let leaves = mode == "twice" ? [x] : [x, w].filter(\.requiresGrad)
                                if general {
                                    try y.backward(createGraph: createGraph, inputs: leaves)
                                } else {
                                    try y.backward(createGraph: createGraph)
                                }
                                return [x.grad?.detach(), w.grad?.detach()]
                            }
                            let fast = try run(general: false), general = try run(general: true)
                            for k in 0..<2 {
                                let label = "\(name) \(dtype) createGraph \(createGraph) \(xShape) \(wShape) \(mode) input \(k)"
                                XCTAssertEqual(fast[k] == nil, general[k] == nil, label)
                                guard let a = fast[k], let b = general[k] else { continue }
                                XCTAssertEqual(a.shape, b.shape, label)
                                XCTAssertEqual(a.to(.float64).scalars(as: Double.self).map(\.bitPattern),
                                               b.to(.float64).scalars(as: Double.self).map(\.bitPattern), label)
                            }
                        }
                    }
                }
            }
        }
    }

    /// A two-input node with a hook takes the general path, and the hook still replaces its
    /// gradient; a retained graph runs the two-input path twice with the same result.
    func testPairGradientPathLeavesHookedNodesToTheGeneralPathAndRetainsGraph() throws {
        let study = Tensor(5.0, dtype: .float64, requiresGrad: true)
        let happy = Tensor(6.0, dtype: .float64, requiresGrad: true)
        let grade = study.pow(3) - happy.pow(2)
        let handle = grade.gradFn!.registerPrehook { grads in grads.map { $0.map { $0 * 10.0 } } }
        try grade.backward(retainGraph: true)
        XCTAssertEqual(study.grad!.item(), 750, accuracy: 1e-9)
        XCTAssertEqual(happy.grad!.item(), -120, accuracy: 1e-9)
        handle.remove()
        try grade.backward(retainGraph: true)
        XCTAssertEqual(study.grad!.item(), 825, accuracy: 1e-9)
        XCTAssertEqual(happy.grad!.item(), -132, accuracy: 1e-9)
        try grade.backward()
        XCTAssertEqual(study.grad!.item(), 900, accuracy: 1e-9)
        XCTAssertEqual(happy.grad!.item(), -144, accuracy: 1e-9)
        XCTAssertThrowsError(try grade.backward())
    }

    func testIntegerScalarOnFloatTensorUsesTheTensorDType() {
        let x = Tensor(shape: [5], scalars: [1, 2, 3, 4, 5] as [Float])
        let y = x * 3
        XCTAssertEqual(y.dtype, .float32)
        XCTAssertEqual(y.scalars(as: Float.self), [3, 6, 9, 12, 15])
        let z = Tensor(shape: [3], scalars: [1, 2, 3] as [Int32]) * 2.5   // int tensor: promotion path
        XCTAssertEqual(z.dtype, .float32)
        XCTAssertEqual(z.scalars(as: Float.self), [2.5, 5, 7.5])
    }

    func checkFusedPowBackward(_ dtype: DType) {
        for (k, shape) in FastPathTests.sizes.enumerated() {
            let x = values(shape, dtype: dtype, seed: UInt64(40 + k))
            let g = values(shape, dtype: dtype, seed: UInt64(80 + k))
            for e in [3.0, 2.0, 1.0, 0.5, -1.5, 2.7] {
                let fused = Tensor.powBackwardFused(g, x, exponent: e)
                XCTAssertNotNil(fused)
                let power = e - 1 == (e - 1).rounded() ? x.pow(Int(e - 1)) : x.pow(e - 1)
                let unfused = g * (power * e)
                if let fused { assertClose(fused, unfused, Tolerance.exact, "e=\(e) shape \(shape)") }
            }
        }
    }

    func testFusedPowBackwardMatchesThreeOpsFloat32() { checkFusedPowBackward(.float32) }
    func testFusedPowBackwardMatchesThreeOpsFloat64() { checkFusedPowBackward(.float64) }

    func testFusedPowBackwardDeclinesOtherOperands() {
        let x = Tensor(shape: [3], scalars: [1, 2, 3] as [Double])
        XCTAssertNil(Tensor.powBackwardFused(Tensor(shape: [3], scalars: [1, 1, 1] as [Float]), x, exponent: 2))
        XCTAssertNil(Tensor.powBackwardFused(Tensor(1.0, dtype: .float64), x, exponent: 2))
    }

    func testPowGradientWithAndWithoutCreateGraphAgree() throws {
        for e in [3.0, 2.5, -2.0] {
            let x1 = Tensor(shape: [4], scalars: [0.5, 1.5, 2.0, 3.0] as [Double], requiresGrad: true)
            try x1.pow(e).sum().backward()
            let x2 = Tensor(shape: [4], scalars: [0.5, 1.5, 2.0, 3.0] as [Double], requiresGrad: true)
            try x2.pow(e).sum().backward(createGraph: true)
            assertClose(x1.grad!, x2.grad!.detach(), Tolerance.exact, "e=\(e)")
        }
    }

    func testScalarLiteralShortcutMatchesGeneralPath() {
        for v in [5.0, 0.1, -1e-40, 3.4e38, 1e39, .infinity, -0.0] {
            let fast = Tensor(v)
            let general = Tensor(shape: [], scalars: [v]).to(.float32)
            XCTAssertEqual(fast.dtype, .float32)
            XCTAssertEqual(fast.shape, [])
            XCTAssertEqual(fast.item(as: Float.self).bitPattern, general.item(as: Float.self).bitPattern, "\(v)")
            XCTAssertEqual(Tensor(v, dtype: .float64).item(as: Double.self).bitPattern, v.bitPattern)
        }
        XCTAssertEqual(Tensor(2.0, dtype: .int32).dtype, .int32)
        XCTAssertEqual(Tensor(2.9, dtype: .int64).item(as: Int64.self), 2)
        let leaf = Tensor(5.0, requiresGrad: true)
        XCTAssertTrue(leaf.requiresGrad && leaf.isLeaf)
    }

    /// Graphs past the engine's linear-scan limit use its hash index: shared nodes and
    /// diamonds must still count dependencies exactly once per edge.
    func testEngineWithManySharedNodes() throws {
        for count in [3, 16, 17, 40, 300] {
            let x = Tensor(2.0, dtype: .float64, requiresGrad: true)
            let shared = x * 3
            var total = shared * 0
            for i in 1...count { total = total + shared * Double(i) + x.pow(2) }
            try total.backward()
            let n = Double(count)
            XCTAssertEqual(x.grad!.item(), 3 * n * (n + 1) / 2 + n * 4, accuracy: 1e-9, "count \(count)")
        }
    }

    // MARK: - Caching allocator

    func testSizeClassesRoundUpByAtMostAQuarter() {
        for n in [4096, 4097, 5000, 5120, 6143, 8191, 8192, 100_000, 1 << 26, (1 << 26) + 1] {
            let c = CPUAllocator.sizeClass(n)
            XCTAssertGreaterThanOrEqual(c, n)
            XCTAssertLessThanOrEqual(Double(c), Double(n) * 1.25, "\(n) -> \(c)")
            XCTAssertEqual(CPUAllocator.sizeClass(c), c, "a class is its own class")
        }
    }

    func testAllocatorReusesFreedBlocksAndHonorsItsLimit() {
        let allocator = CPUAllocator(limit: 64 << 10)
        let p = allocator.allocate(byteCount: 10_000)
        XCTAssertEqual(Int(bitPattern: p) % 64, 0)
        allocator.deallocate(p, byteCount: 10_000)
        XCTAssertEqual(allocator.cachedBytes, CPUAllocator.sizeClass(10_000))
        let q = allocator.allocate(byteCount: 9_999)   // same class
        XCTAssertEqual(p, q)
        XCTAssertEqual(allocator.cachedBytes, 0)
        allocator.deallocate(q, byteCount: 9_999)
        // A block that would exceed the limit goes back to the system.
        let big = allocator.allocate(byteCount: 100_000)
        allocator.deallocate(big, byteCount: 100_000)
        XCTAssertEqual(allocator.cachedBytes, CPUAllocator.sizeClass(10_000))
        allocator.emptyCache()
        XCTAssertEqual(allocator.cachedBytes, 0)
        // Small requests bypass the cache.
        let s = allocator.allocate(byteCount: 16)
        allocator.deallocate(s, byteCount: 16)
        XCTAssertEqual(allocator.cachedBytes, 0)
    }

    func testAllocatorFromEightThreads() {
        let allocator = CPUAllocator(limit: 1 << 20)
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            for i in 0..<500 {
                let n = 4096 + (t * 997 + i * 131) % 20_000
                let p = allocator.allocate(byteCount: n).assumingMemoryBound(to: UInt8.self)
                p[0] = UInt8(t); p[n - 1] = UInt8(t)
                XCTAssertEqual(p[0], UInt8(t))
                XCTAssertEqual(p[n - 1], UInt8(t))
                allocator.deallocate(UnsafeMutableRawPointer(p), byteCount: n)
            }
        }
        XCTAssertLessThanOrEqual(allocator.cachedBytes, 1 << 20)
        allocator.emptyCache()
    }

    /// Tiny blocks: usable over their whole size, reused last-freed-first by a thread, at
    /// most 512 kept per thread, and freeable on another thread than the one that allocated.
    func testTinyBlocksAreReusedAndBounded() {
        let p = TinyBlockCache.allocate()
        p.initializeMemory(as: UInt8.self, repeating: 0xAB, count: TinyBlockCache.blockSize)
        TinyBlockCache.deallocate(p)
        XCTAssertEqual(TinyBlockCache.allocate(), p, "the last block freed comes back first")
        TinyBlockCache.deallocate(p)
        let blocks = (0..<1000).map { _ in CPUAllocator.shared.allocate(byteCount: 8) }
        XCTAssertEqual(Set(blocks).count, 1000)
        for b in blocks { CPUAllocator.shared.deallocate(b, byteCount: 8) }
        XCTAssertEqual(TinyBlockCache.cachedOnThisThread, 512)
        // Allocated here, freed on eight other threads (each keeps what it frees), while those
        // threads also allocate and free their own.
        let handed = (0..<800).map { _ in UInt(bitPattern: TinyBlockCache.allocate()) }
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            for i in stride(from: t, to: handed.count, by: 8) {
                let own = TinyBlockCache.allocate()
                own.storeBytes(of: UInt64(i), as: UInt64.self)
                XCTAssertEqual(own.load(as: UInt64.self), UInt64(i))
                TinyBlockCache.deallocate(own)
                if let b = UnsafeMutableRawPointer(bitPattern: handed[i]) { TinyBlockCache.deallocate(b) }
            }
            XCTAssertLessThanOrEqual(TinyBlockCache.cachedOnThisThread, 512)
        }
    }

    func testLargeTensorsRoundTripThroughTheCache() {
        for _ in 0..<3 {
            let a = Tensor.ones([3000], dtype: .float64)   // 24 000 bytes: cached class
            XCTAssertEqual(a.sum().item(), 3000)
        }
    }
}
