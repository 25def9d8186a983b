import CKernels
import XCTest
@testable import Autograd

/// The CKernels paths of the CPU backend (GEMM, contiguous element-wise, full sum/max, softmax
/// rows) against the generic Swift loops, which stay the reference: odd sizes, tails of the
/// SIMD widths, sizes around GEMM block boundaries, transposed and broadcast operands.
final class CKernelPathTests: XCTestCase {
    static let lengths = [16, 17, 31, 32, 33, 63, 64, 65, 255, 256, 257, 1000, 4099]

    func randn(_ shape: [Int], _ dtype: DType, _ seed: UInt64) -> Tensor { Tensor.randn(shape, dtype: dtype, seed: seed) }

    func empty(like x: Tensor) -> Tensor { Tensor(uninitializedShape: x.shape, dtype: x.dtype) }

    /// `addInPlace` (the rows of indexAdd): the IEEE sums of the plain loop for float32 and
    /// float64 at every tail of the SIMD widths, an array added to itself, and no answer (the
    /// caller's loop instead) for ranges that overlap without being the same.
    func testAddInPlaceMatchesTheLoop() {
        for n in CKernelPathTests.lengths {
            var f = (0..<n).map { Float($0) * 0.37 - 5 }, fd = (0..<n).map { Double($0) * 0.37 - 5 }
            let g = (0..<n).map { Float($0 % 7) * 1.1e-3 + 0.1 }, gd = (0..<n).map { Double($0 % 7) * 1.1e-3 + 0.1 }
            let expected = zip(f, g).map { $0 + $1 }, expectedD = zip(fd, gd).map { $0 + $1 }
            f.withUnsafeMutableBufferPointer { p in
                g.withUnsafeBufferPointer { XCTAssertTrue(CKernelPaths.addInPlace(p.baseAddress!, $0.baseAddress!, count: n)) }
            }
            fd.withUnsafeMutableBufferPointer { p in
                gd.withUnsafeBufferPointer { XCTAssertTrue(CKernelPaths.addInPlace(p.baseAddress!, $0.baseAddress!, count: n)) }
            }
            XCTAssertEqual(f, expected, "float32 n=\(n)")
            XCTAssertEqual(fd, expectedD, "float64 n=\(n)")
        }
        var c = (0..<64).map { Double($0) }
        c.withUnsafeMutableBufferPointer { p in
            let base = p.baseAddress!
            XCTAssertFalse(CKernelPaths.addInPlace(base + 1, UnsafePointer(base), count: 32))
            XCTAssertFalse(CKernelPaths.addInPlace(base, UnsafePointer(base + 31), count: 32))
            XCTAssertTrue(CKernelPaths.addInPlace(base, UnsafePointer(base), count: 32))
            XCTAssertTrue(CKernelPaths.addInPlace(base + 32, UnsafePointer(base), count: 32))
        }
        // c[i] doubled below 32; above, c[i] + the doubled c[i - 32]
        let doubled: [Double] = (0..<32).map { 2 * Double($0) }
        let shifted: [Double] = (32..<64).map { Double($0) + 2 * Double($0 - 32) }
        XCTAssertEqual(c, doubled + shifted)
    }

    func testBinaryMatchesSwiftLoopExactly() {
        for dtype in [DType.float32, .float64] {
            for (k, n) in CKernelPathTests.lengths.enumerated() {
                let a = randn([n], dtype, UInt64(k)), b = randn([n], dtype, UInt64(100 + k)) + 3
                let one = randn([1], dtype, 7)
                for op: BinaryOp in [.add, .sub, .mul, .div] {
                    for (x, y) in [(a, b), (a, one), (one, b)] {
                        let fast = Tensor(uninitializedShape: [n], dtype: dtype)
                        XCTAssertTrue(CKernelPaths.binary(op, x, y, fast), "\(op) n=\(n)")
                        let ref = Tensor(uninitializedShape: [n], dtype: dtype)
                        if dtype == .float32 { CPUKernels.binaryFloat(op, x, y, ref, Float.self) } else { CPUKernels.binaryFloat(op, x, y, ref, Double.self) }
                        assertClose(fast, ref, Tolerance.exact, "\(op) \(dtype) n=\(n)")
                    }
                }
            }
        }
    }

    /// `dense op other` and `other op dense` for the four arithmetic ops: the C path is taken
    /// and gives the Swift broadcasting loop's results exactly.
    func assertBroadcastPathMatchesLoop(_ dense: Tensor, _ other: Tensor, _ label: String,
                                        file: StaticString = #filePath, line: UInt = #line) {
        let shape = try! Shape.broadcast(dense.shape, other.shape, op: "test")
        for op: BinaryOp in [.add, .sub, .mul, .div] {
            for (x, y) in [(dense, other), (other, dense)] {
                let fast = Tensor(uninitializedShape: shape, dtype: dense.dtype)
                XCTAssertTrue(CKernelPaths.binary(op, x, y, fast), "\(op) \(label)", file: file, line: line)
                let ref = Tensor(uninitializedShape: shape, dtype: dense.dtype)
                if dense.dtype == .float32 { CPUKernels.binaryFloat(op, x, y, ref, Float.self) } else { CPUKernels.binaryFloat(op, x, y, ref, Double.self) }
                assertClose(fast, ref, Tolerance.exact, "\(op) \(label)", file: file, line: line)
            }
        }
    }

    /// One value per row (a `[B, 1]` statistic, or per-channel values repeated over a leading
    /// batch dim) against a dense operand, either side: the C column path, serial and parallel
    /// (300 x 301 > 64K), against the Swift broadcasting loop; a column whose values are not
    /// contiguous, or rows under 16, are not taken.
    func testRepeatedColumnMatchesSwiftLoopExactly() {
        let cases: [([Int], [Int])] = [([4, 16], [4, 1]), ([128, 512], [128, 1]), ([300, 301], [300, 1]),
                                       ([2, 3, 40], [2, 3, 1]), ([2, 3, 4, 5], [2, 3, 1, 1]), ([6, 1, 33], [6, 1, 1]),
                                       ([2, 300, 20], [300, 1]), ([16, 8, 6, 5], [8, 1, 1]), ([3, 4, 7, 30], [1, 4, 7, 1])]
        for dtype in [DType.float32, .float64] {
            for (k, (big, column)) in cases.enumerated() {
                assertBroadcastPathMatchesLoop(randn(big, dtype, UInt64(k)) + 3, randn(column, dtype, UInt64(60 + k)) + 3,
                                               "\(dtype) \(big) \(column)")
            }
        }
        let strided = randn([300, 2], .float32, 1)[0..., 0..<1]   // values 2 apart
        XCTAssertFalse(CKernelPaths.binary(.sub, randn([300, 20], .float32, 2), strided, Tensor(uninitializedShape: [300, 20], dtype: .float32)))
        XCTAssertFalse(CKernelPaths.binary(.sub, randn([8, 12], .float32, 3), randn([8, 1], .float32, 4),
                                           Tensor(uninitializedShape: [8, 12], dtype: .float32)))
        XCTAssertTrue(CKernelPaths.repeatedColumn(randn([300, 1], .float32, 5), over: [2, 300, 20])! == (20, 300))
        XCTAssertTrue(CKernelPaths.repeatedColumn(randn([8, 1, 1], .float32, 6), over: [16, 8, 6, 5])! == (30, 8))
        XCTAssertNil(CKernelPaths.repeatedColumn(strided, over: [300, 20]))
    }

    /// A row repeated along leading dims (bias rows) against a dense operand, either side: the
    /// C row path, serial and parallel (300 x 517 > 64K), against the Swift broadcasting loop.
    func testRepeatedRowMatchesSwiftLoopExactly() {
        let cases: [([Int], [Int])] = [([4, 16], [16]), ([128, 512], [512]), ([300, 517], [1, 517]),
                                       ([2, 3, 40], [3, 40]), ([2, 3, 40], [1, 3, 40]),
                                       ([5, 1, 33], [1, 33]), ([3, 6, 20], [1, 1, 20])]
        for dtype in [DType.float32, .float64] {
            for (k, (big, row)) in cases.enumerated() {
                assertBroadcastPathMatchesLoop(randn(big, dtype, UInt64(k)) + 3, randn(row, dtype, UInt64(50 + k)) + 3,
                                               "\(dtype) \(big) \(row)")
            }
        }
        // Not a repeated row: a strided row, rows shorter than 16 (a column has its own path).
        let dense = randn([8, 32], .float32, 1), out = Tensor(uninitializedShape: [8, 32], dtype: .float32)
        XCTAssertFalse(CKernelPaths.binary(.add, dense, randn([32, 2], .float32, 3).select(dim: 1, index: 0), out))
        let narrow = randn([8, 8], .float32, 4)
        XCTAssertFalse(CKernelPaths.binary(.add, narrow, randn([8], .float32, 5), Tensor(uninitializedShape: [8, 8], dtype: .float32)))
    }

    func testScalarOperandMatchesSwiftLoopExactly() {
        for dtype in [DType.float32, .float64] {
            for (k, n) in CKernelPathTests.lengths.enumerated() {
                let x = randn([n], dtype, UInt64(k)) + 4
                for op: BinaryOp in [.add, .sub, .mul, .div] {
                    for onLeft in [false, true] {
                        let fast = empty(like: x), ref = empty(like: x)
                        XCTAssertTrue(CKernelPaths.binaryScalar(op, x, .double(0.3), scalarOnLeft: onLeft, fast))
                        if dtype == .float32 {
                            CPUKernels.binaryFloatScalar(op, x, Float(0.3), scalarOnLeft: onLeft, ref)
                        } else {
                            CPUKernels.binaryFloatScalar(op, x, 0.3, scalarOnLeft: onLeft, ref)
                        }
                        assertClose(fast, ref, Tolerance.exact, "\(op) left=\(onLeft) n=\(n)")
                    }
                }
            }
        }
    }

    /// `x ** 2` runs as `x * x` in C and `x ** 3` as `x * x * x`: the same bits as the Swift
    /// loop's `power` (special values included).
    func testSquareAndCubeMatchSwiftLoopExactly() {
        for dtype in [DType.float32, .float64] {
            for (k, n) in CKernelPathTests.lengths.enumerated() where n >= CKernelPaths.unaryThreshold {
                for exponent in [2, 3] {
                    var v = randn([n], dtype, UInt64(k)).to(.float64).scalars(as: Double.self).map { $0 * 1e20 }
                    for (i, special) in [Double.nan, .infinity, -.infinity, -0.0, 1e-30, -3e200].enumerated() { v[i] = special }
                    let x = Tensor(shape: [n], scalars: v, dtype: dtype)
                    let fast = empty(like: x), ref = empty(like: x)
                    XCTAssertTrue(CKernelPaths.binaryScalar(.pow, x, .int(Int64(exponent)), scalarOnLeft: false, fast))
                    if dtype == .float32 {
                        CPUKernels.binaryFloatScalar(.pow, x, Float(exponent), scalarOnLeft: false, ref)
                    } else {
                        CPUKernels.binaryFloatScalar(.pow, x, Double(exponent), scalarOnLeft: false, ref)
                    }
                    XCTAssertEqual(fast.to(.float64).scalars(as: Double.self).map(\.bitPattern),
                                   ref.to(.float64).scalars(as: Double.self).map(\.bitPattern), "\(dtype) n=\(n) exponent \(exponent)")
                    assertClose(x.pow(Double(exponent)), ref, Tolerance.exact, "the op takes the path")
                }
            }
        }
    }

    /// float32 `x ** 3` (x * x * x, as PyTorch computes it) within 1.5 ulp of the exact cube
    /// (a float's cube is exact in double), on small and large tensors alike.
    func testCubeIsWithinOneAndAHalfUlp() {
        for n in [5, 4099, 70_000] {
            let x = randn([n], .float32, 9) * 40
            let got = x.pow(3).to(.float64).scalars(as: Double.self)
            for (v, g) in zip(x.to(.float64).scalars(as: Double.self), got) where v != 0 {
                let exact = v * v * v
                XCTAssertLessThanOrEqual(Swift.abs(g - exact), 1.5 * Double(Float.ulpOfOne) * Swift.abs(exact), "\(v) ** 3")
            }
        }
    }

    /// float32 <-> float16 of dense tensors (conversion instructions in C) give the `Half`
    /// type's bits: all 65536 float16 patterns to float32 (signaling NaNs included), and to
    /// float16 every point halfway between two adjacent float16 values and its float32
    /// neighbours (ties to even, subnormals, overflow), plus random float32 patterns (NaN payloads;
    /// blocks with and without a NaN), whole and as an offset view.
    func testHalfConversionsMatchTheHalfType() {
        let halves = (0...UInt16.max).map { Half(bitPattern: $0) }
        let h = Tensor(shape: [halves.count], scalars: halves)
        let widened = Tensor(uninitializedShape: h.shape, dtype: .float32)
        XCTAssertTrue(CKernelPaths.convertHalf(h, into: widened))
        XCTAssertEqual(widened.scalars(as: Float.self).map(\.bitPattern), halves.map { $0.floatValue.bitPattern })
        XCTAssertEqual(h.to(.float32).scalars(as: Float.self).map(\.bitPattern), halves.map { $0.floatValue.bitPattern })

        var floats: [Float] = []
        for sign: Float in [1, -1] {
            for b in UInt16(0)..<0x7c00 {   // up to the largest finite half and the overflow threshold
                let lo = Double(Half(bitPattern: b).floatValue), hi = Double(Half(bitPattern: b + 1).floatValue)
                let mid = Float((lo + hi) / 2)
                floats += [sign * mid, sign * mid.nextDown, sign * mid.nextUp]
            }
        }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<200_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            floats.append(Float(bitPattern: UInt32(truncatingIfNeeded: state >> 32)))
        }
        let x = Tensor(shape: [floats.count], scalars: floats)
        let want = floats.map { Half($0).bitPattern }
        let narrowed = Tensor(uninitializedShape: x.shape, dtype: .float16)
        XCTAssertTrue(CKernelPaths.convertHalf(x, into: narrowed))
        XCTAssertEqual(narrowed.scalars(as: Half.self).map(\.bitPattern), want)
        XCTAssertEqual(x.to(.float16).scalars(as: Half.self).map(\.bitPattern), want)
        let view = x.narrow(dim: 0, start: 37, length: 70_001)
        XCTAssertEqual(view.to(.float16).scalars(as: Half.self).map(\.bitPattern), Array(want[37..<70_038]))
        XCTAssertEqual(view.to(.float16).to(.float32).scalars(as: Float.self).map(\.bitPattern),
                       want[37..<70_038].map { Half(bitPattern: $0).floatValue.bitPattern })
    }

    func testNonContiguousOperandsTakeTheSwiftLoop() {
        let a = randn([17, 9], .float32, 1).transposed(0, 1)
        let out = Tensor(uninitializedShape: [9, 17], dtype: .float32)
        XCTAssertFalse(CKernelPaths.binary(.add, a, a, out))
        XCTAssertFalse(CKernelPaths.unary(.exp, a, out))
        assertClose(a + a, a.contiguous() * 2, Tolerance.exact)
    }

    func testUnaryWithinTwoUlpOfLibm() {
        for dtype in [DType.float32, .float64] {
            for (k, n) in CKernelPathTests.lengths.enumerated() where n >= CKernelPaths.unaryThreshold {
                let x = randn([n], dtype, UInt64(k)) * 4
                for op: UnaryOp in [.exp, .log, .tanh, .sigmoid, .erf, .neg, .abs, .sqrt, .relu, .floor, .ceil, .round, .trunc,
                                    .sign, .reciprocal, .rsqrt, .square, .sin, .cos, .log1p, .tan, .expm1, .log2, .sinh, .cosh] {
                    let input = (op == .log || op == .sqrt || op == .rsqrt || op == .log2) ? x.abs() + 1e-3 : op == .log1p ? x.abs() * 0.5 - 0.99 : x
                    let fast = empty(like: input), ref = empty(like: input)
                    XCTAssertTrue(CKernelPaths.unary(op, input, fast))
                    if dtype == .float32 { CPUKernels.unaryFloat(op, input, ref, Float.self) } else { CPUKernels.unaryFloat(op, input, ref, Double.self) }
                    let ulp = dtype == .float32 ? Double(Float.ulpOfOne) : Double.ulpOfOne
                    let exact = [UnaryOp.neg, .abs, .sqrt, .relu, .floor, .ceil, .round, .trunc, .sign, .reciprocal, .rsqrt, .square].contains(op)
                        || (dtype == .float64 && [UnaryOp.sin, .cos, .tan, .expm1, .log2, .sinh, .cosh].contains(op))
                    assertClose(fast, ref, exact ? Tolerance.exact : Tolerance.Pair(rtol: 2 * ulp, atol: 1e-300), "\(op) \(dtype) n=\(n)")
                }
            }
        }
    }

    /// float32 tanh and erf are tables of 32 polynomials picked by the bits of |x| + 1: every
    /// float within 48 ulps of each interval edge (where the rounding of |x| + 1 can pick the
    /// neighbouring interval), of the clamps and of where the result starts rounding to 1, both
    /// signs, on every ISA level, within 0.75 ulp of the double-precision function (the sweep of
    /// all 2^32 inputs in Benchmarks/ckernels_ulp.c finds at most 0.73).
    func testTableFunctionsNearIntervalEdges() {
        var edges: [Float] = [0x1p-126, 0x1p-20, 9.011, 9.5, 3.919206, 3.919488, 3.9375, 15]
        for octave in 0..<4 {
            for k in 0...8 { edges.append(Float(1 << octave) * (1 + Float(k) / 8) - 1) }
        }
        var xs: [Float] = [0, .leastNonzeroMagnitude]
        for e in edges {
            var v = e
            for _ in 0..<48 { v = v.nextDown }
            for _ in 0..<97 { if v > 0 { xs.append(v); xs.append(-v) }; v = v.nextUp }
        }
        let previous = ckernels_isa()
        defer { _ = ckernels_set_isa(previous) }
        for isa in [CKERNELS_ISA_SCALAR, CKERNELS_ISA_AVX2, CKERNELS_ISA_AVX512] {
            let used = ckernels_set_isa(isa)
            for (op, name, exact) in [(CKERNELS_TANH, "tanh", { (x: Double) in Foundation.tanh(x) }),
                                      (CKERNELS_ERF, "erf", { (x: Double) in Foundation.erf(x) })] {
                var out = [Float](repeating: .nan, count: xs.count)
                XCTAssertEqual(ckernels_sunary(op, xs.count, xs, &out), 0)
                var worst = 0.0, at: Float = 0
                for (x, y) in zip(xs, out) {
                    let want = exact(Double(x))
                    // the ulp of float32 results near `want` (denormal spacing below 2^-126)
                    let ulp = Double(sign: .plus, exponent: Swift.max(want.exponent, -126) - 23, significand: 1)
                    let err = Swift.abs(Double(y) - want) / ulp
                    if !(err <= worst) { worst = err; at = x }
                }
                XCTAssertLessThanOrEqual(worst, 0.75, "\(name) at ISA \(used): \(worst) ulp at x = \(at)")
            }
        }
    }

    /// Large dense unary ops without a C kernel run the Swift loop on slices on all threads:
    /// the same bits as the loop over a strided view of the same values, for each such op.
    func testThreadedSwiftUnaryOpsMatchTheLoop() {
        for dtype in [DType.float32, .float64] {
            let dense = randn([300, 240], dtype, 5) * 3   // above CPUBackend.threadedElements
            let strided = dense.transposed(0, 1).contiguous().transposed(0, 1)
            XCTAssertFalse(strided.isContiguous)
            // (the ops with a C kernel are tested against the loop above)
            for op in UnaryOp.allCases where !CKernelPaths.unary(op, dense, empty(like: dense)) {
                let outDType: DType = [.logicalNot, .isNaN, .isInf, .isFinite].contains(op) ? .bool : dtype
                let a = Tensor(uninitializedShape: [300, 240], dtype: outDType), b = Tensor(uninitializedShape: [300, 240], dtype: outDType)
                Backends.cpu.unary(op, dense, into: a)
                Backends.cpu.unary(op, strided, into: b)
                XCTAssertEqual(a.to(.float64).scalars(as: Double.self).map(\.bitPattern), b.to(.float64).scalars(as: Double.self).map(\.bitPattern),
                               "\(op) \(dtype)")
            }
        }
    }

    /// pow in C (tensor-scalar with the scalar on either side, tensor-tensor dense and with a
    /// broadcast row, small and threaded sizes) follows `CPUKernels.power`'s rule: float64 gives
    /// the Swift loop's bits (libm's pow); float32 gives the loop's bits where the base is not
    /// positive and finite or the exponent is 1, 2, 3 or not finite, and elsewhere lies within
    /// 0.5 + 2^-20 ulp of the exact power (double pow as the reference).
    func testPowFollowsTheRuleOfTheSwiftLoop() {
        let specials: [Double] = [0, -0.0, .infinity, -.infinity, .nan, 1, 2, 3, -2, 0.5, -1, 1e-40, 1e30, -3, 100, -100]
        for dtype in [DType.float32, .float64] {
            for (k, n) in [80, 1000, 300 * 240].enumerated() {
                var xs = (Tensor.rand([n], dtype: .float64, seed: UInt64(k)) * 6 - 1).scalars(as: Double.self)
                var ys = (Tensor.rand([n], dtype: .float64, seed: UInt64(k + 10)) * 12 - 6).scalars(as: Double.self)
                for i in stride(from: 0, to: n, by: 7) { ys[i] = ys[i].rounded() }
                for (i, s) in specials.enumerated() { xs[3 * i] = s; ys[3 * i + 1] = s; xs[3 * i + 2] = s; ys[3 * i + 2] = specials[(i + 5) % specials.count] }
                let x = Tensor(shape: [n], scalars: xs, dtype: dtype), y = Tensor(shape: [n], scalars: ys, dtype: dtype)
                let rowX = Tensor(shape: [n / 40, 40], scalars: xs, dtype: dtype), rowY = Tensor(shape: [40], scalars: Array(ys[..<40]), dtype: dtype)
                let cases: [(String, Tensor, Tensor)] = [
                    ("tensor ** tensor", x, y), ("tensor ** 1.7", x, Tensor(1.7, dtype: dtype)), ("tensor ** -0.5", x, Tensor(-0.5, dtype: dtype)),
                    ("2.5 ** tensor", Tensor(2.5, dtype: dtype), y), ("rows ** row", rowX, rowY),
                ]
                for (name, a, b) in cases {
                    let got = a.pow(b)
                    // the Swift loop on the same operands
                    let shape = got.shape
                    let loop = Tensor(uninitializedShape: shape, dtype: dtype)
                    if dtype == .float32 { CPUKernels.binaryFloat(.pow, a.expanded(to: shape), b.expanded(to: shape), loop, Float.self) } else {
                        CPUKernels.binaryFloat(.pow, a.expanded(to: shape), b.expanded(to: shape), loop, Double.self)
                    }
                    let g = got.to(.float64).scalars(as: Double.self), l = loop.to(.float64).scalars(as: Double.self)
                    let av = a.expanded(to: shape).contiguous().to(.float64).scalars(as: Double.self)
                    let bv = b.expanded(to: shape).contiguous().to(.float64).scalars(as: Double.self)
                    for i in 0..<g.count {
                        let regular = av[i] > 0 && av[i].isFinite && bv[i].isFinite && ![1, 2, 3].contains(bv[i])
                        if dtype == .float64 || !regular {
                            XCTAssertTrue(g[i].bitPattern == l[i].bitPattern || (g[i].isNaN && l[i].isNaN), "\(name) \(dtype): \(av[i]) ** \(bv[i]) = \(g[i]), loop \(l[i])")
                        } else {
                            let exact = Foundation.pow(av[i], bv[i])
                            if exact > Double(Float.greatestFiniteMagnitude) { XCTAssertEqual(g[i], .infinity); continue }
                            let ulp = Double(Float(exact).ulp.isFinite ? Swift.max(Float(exact).ulp, Float.leastNonzeroMagnitude) : 0)
                            XCTAssertLessThanOrEqual(Swift.abs(g[i] - exact), (0.5 + 0x1p-20) * ulp * 1.0000001, "\(name): \(av[i]) ** \(bv[i])")
                        }
                    }
                }
            }
        }
    }

    /// relu and the exact ops in C (floor, ceil, round, trunc, sign, reciprocal, rsqrt, square;
    /// float64 sin and cos, which are libm's) give the Swift loop's bits on signed zeros, NaN
    /// payloads, infinities, subnormals, halfway cases and values beyond 2^23 / 2^52.
    func testExactUnaryOpsKeepTheSwiftLoopsBits() {
        let specials: [Double] = [-0.0, 0.0, .nan, -.nan, .infinity, -.infinity, Double.leastNormalMagnitude / 4,
                                  -Double.leastNormalMagnitude / 4, 1e-40, -1e-40, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5,
                                  0.49999997, -0.49999997, 4194304.5, -4194304.5, 8388609, 2251799813685248.5,
                                  -2251799813685248.5, 1e20, -1e20, 3e38, 1e300, 7.25, -7.75, 0.1]
        for dtype in [DType.float32, .float64] {
            var v: [Double] = (0..<(3 * specials.count + 7)).map { (i: Int) -> Double in Double(i % 11) - 5 + Double(i) / 16 }
            for (k, s) in specials.enumerated() { v[3 * k + 1] = s }
            let x = Tensor(shape: [v.count], scalars: v, dtype: dtype)
            var ops: [UnaryOp] = [.relu, .floor, .ceil, .round, .trunc, .sign, .reciprocal, .rsqrt, .square]
            if dtype == .float64 { ops += [.sin, .cos, .tan, .expm1, .log2, .sinh, .cosh] }
            for op in ops {
                let fast = empty(like: x), ref = empty(like: x)
                XCTAssertTrue(CKernelPaths.unary(op, x, fast), "\(op)")
                if dtype == .float32 { CPUKernels.unaryFloat(op, x, ref, Float.self) } else { CPUKernels.unaryFloat(op, x, ref, Double.self) }
                if dtype == .float32 {
                    XCTAssertEqual(fast.scalars(as: Float.self).map { $0.bitPattern }, ref.scalars(as: Float.self).map { $0.bitPattern }, "\(op)")
                } else {
                    XCTAssertEqual(fast.scalars(as: Double.self).map { $0.bitPattern }, ref.scalars(as: Double.self).map { $0.bitPattern }, "\(op)")
                }
            }
        }
    }

    /// sin, cos, tan, log1p, expm1, log2, sinh and cosh in C at their special values and at
    /// large arguments (float32 sin, cos, tan beyond 2^19 take libm's double functions lane by
    /// lane): C99 Annex F's values and libm's within 2 ulp.
    func testTranscendentalSpecialValuesAndLargeArguments() {
        for dtype in [DType.float32, .float64] {
            var v = (0..<100).map { Double($0) * 0.37 - 11 }
            // floats within 2^-27 of multiples of pi / 2 (Benchmarks-style search with NumPy: the
            // reduction's hardest cases below 2^19, and beyond it for libm's lanes)
            let nearMultiples: [Double] = [252.89820861816406, -505.7964172363281, 4.71238899230957, 52516.43359375,
                                           105032.8671875, 534117.875, 2709675.5, -42781604]
            let special: [Double] = [-0.0, 0.0, .infinity, -.infinity, .nan, -1, -2, 1e-30, -1e-30, 524287.9,
                                     524288, -524288.5, 1e6, -3.5e7, 1e30, 3e38, 1e300, 1.5707963267948966, 3.141592653589793]
                + nearMultiples
            for (k, s) in special.enumerated() { v[3 * k] = s }
            let x = Tensor(shape: [v.count], scalars: v, dtype: dtype)
            let xs = x.to(.float64).scalars(as: Double.self)
            for op: UnaryOp in [.sin, .cos, .log1p, .tan, .expm1, .log2, .sinh, .cosh] {
                let fast = empty(like: x), ref = empty(like: x)
                XCTAssertTrue(CKernelPaths.unary(op, x, fast))
                if dtype == .float32 { CPUKernels.unaryFloat(op, x, ref, Float.self) } else { CPUKernels.unaryFloat(op, x, ref, Double.self) }
                let got = fast.to(.float64).scalars(as: Double.self), want = ref.to(.float64).scalars(as: Double.self)
                let ulp = dtype == .float32 ? Double(Float.ulpOfOne) : Double.ulpOfOne
                for i in 0..<v.count {
                    let message = "\(op)(\(xs[i])) \(dtype): \(got[i]) vs libm \(want[i])"
                    if want[i].isNaN || want[i].isInfinite || want[i] == 0 {
                        XCTAssertEqual(got[i].bitPattern == want[i].bitPattern || (got[i].isNaN && want[i].isNaN), true, message)
                    } else {
                        XCTAssertLessThanOrEqual(Swift.abs(got[i] - want[i]), 2 * ulp * Swift.abs(want[i]), message)
                    }
                }
            }
            // the Annex F values, spelled out
            let at = { (op: UnaryOp, value: Double) -> Double in
                var w = [Double](repeating: 0.25, count: CKernelPaths.unaryThreshold)
                w[5] = value
                let t = Tensor(shape: [w.count], scalars: w, dtype: dtype), out = self.empty(like: t)
                XCTAssertTrue(CKernelPaths.unary(op, t, out))
                return out.to(.float64).scalars(as: Double.self)[5]
            }
            XCTAssertEqual(at(.sin, -0.0).bitPattern, (-0.0).bitPattern)
            XCTAssertEqual(at(.log1p, -0.0).bitPattern, (-0.0).bitPattern)
            XCTAssertEqual(at(.cos, -0.0), 1)
            XCTAssertEqual(at(.log1p, -1), -.infinity)
            XCTAssertEqual(at(.log1p, .infinity), .infinity)
            XCTAssertTrue(at(.log1p, -1.5).isNaN && at(.sin, .infinity).isNaN && at(.cos, -.infinity).isNaN && at(.sin, .nan).isNaN)
            for op: UnaryOp in [.tan, .expm1, .sinh] { XCTAssertEqual(at(op, -0.0).bitPattern, (-0.0).bitPattern, "\(op)(-0)") }
            XCTAssertEqual(at(.expm1, -.infinity), -1)
            XCTAssertEqual(at(.expm1, .infinity), .infinity)
            XCTAssertEqual(at(.expm1, 1e-30), 1e-30, accuracy: 1e-30 * 2e-7)
            XCTAssertEqual(at(.log2, 0), -.infinity)
            XCTAssertEqual(at(.log2, 8), 3)
            XCTAssertEqual(at(.log2, 0x1p-140), -140)
            XCTAssertEqual(at(.sinh, -.infinity), -.infinity)
            XCTAssertEqual(at(.cosh, -.infinity), .infinity)
            XCTAssertEqual(at(.cosh, -0.0), 1)
            XCTAssertTrue(at(.log2, -1).isNaN && at(.tan, .infinity).isNaN && at(.cosh, .nan).isNaN && at(.expm1, .nan).isNaN)
            if dtype == .float32 { XCTAssertEqual(at(.sinh, 100), .infinity) }
        }
    }

    func testSumAndMaxOfAllElements() {
        for dtype in [DType.float32, .float64] {
            for (k, n) in (CKernelPathTests.lengths + [1023, 1024, 1025, 70_000]).enumerated() {
                let x = randn([n], dtype, UInt64(k))
                let sum = x.sum(), max = x.max()
                let values = x.to(.float64).scalars(as: Double.self)
                XCTAssertEqual(sum.item(), values.reduce(0, +), accuracy: Tolerance.reduction(dtype, terms: n).rtol * values.map(Swift.abs).reduce(0, +) + 1e-12)
                XCTAssertEqual(max.item(), values.max()!)
            }
            // NaN wins; a zero maximum keeps the Swift loop's sign rule.
            var v = [Double](repeating: -1, count: 40)
            v[20] = .nan
            XCTAssertTrue(Tensor(shape: [40], scalars: v).to(dtype).max().item().isNaN)
            v[20] = 0; v[30] = -0.0
            let zeros = Tensor(shape: [40], scalars: v).to(dtype)
            let ref = Tensor(uninitializedShape: [], dtype: dtype)
            if dtype == .float32 { CPUKernels.reduceFloat(.max, zeros, [0], ref, Float.self) } else { CPUKernels.reduceFloat(.max, zeros, [0], ref, Double.self) }
            XCTAssertEqual(zeros.max().item().sign, ref.item().sign)
        }
    }

    /// Paths found by timing everyday ops against PyTorch: arange written in place, sum and max
    /// of dense permuted views in memory order, `where` with an expanded single value (a sum's
    /// gradient through relu), amax/amin over one dim through max(dim:)'s kernel.
    func testArangeDenseViewsExpandedWhereAndAmax() throws {
        let n = 200_003
        XCTAssertEqual(Tensor.arange(n).scalars(as: Int.self), Array(0..<n))
        XCTAssertEqual(Tensor.arange(5, 5 + 3 * n, step: 3).scalars(as: Int.self), Array(stride(from: 5, to: 5 + 3 * n, by: 3)))
        XCTAssertEqual(Tensor.arange(0, Double(n) * 0.5, step: 0.5).scalars(as: Float.self), (0..<n).map { Float(Double($0) * 0.5) })
        XCTAssertEqual(Tensor.arange(0, 3000, step: 1.5, dtype: .float16).scalars(as: Half.self).map(\.bitPattern),
                       (0..<2000).map { Half(Float(Double($0) * 1.5)).bitPattern })
        XCTAssertEqual(Tensor.arange(2, 11, step: 3, dtype: .float64).scalars(as: Double.self), [2, 5, 8])

        let x = Tensor.randn([300, 400], seed: 21), p3 = Tensor.randn([20, 30, 40], seed: 22)
        for (name, view) in [("transposed", x.transposed(0, 1)), ("permuted", p3.permuted([2, 0, 1])), ("unsqueezed", x.transposed(0, 1).unsqueezed(dim: 1))] {
            XCTAssertTrue(view.isDenseInSomeOrder && !view.isContiguous, name)
            let values = view.contiguous().to(.float64).scalars(as: Double.self)
            XCTAssertEqual(view.sum().item(), values.reduce(0, +), accuracy: 1e-3, name)
            XCTAssertEqual(view.max().item(), values.max()!, name)
        }
        let stepped = x.slice(dim: 1, start: 0, end: 400, step: 2)
        XCTAssertFalse(stepped.isDenseInSomeOrder)
        XCTAssertEqual(stepped.sum().item(), stepped.contiguous().to(.float64).scalars(as: Double.self).reduce(0, +), accuracy: 1e-3)

        // where(c, g, 0) with g a sum's expanded gradient, and relu's backward through sum()
        let y = Tensor.randn([300, 400], seed: 23).requiringGrad()
        try y.relu().sum().backward()
        XCTAssertEqual(y.grad!.scalars(as: Float.self), y.detached().scalars(as: Float.self).map { $0 > 0 ? 1 : 0 })
        let g = Tensor(2.5).expanded(to: [300, 400])
        XCTAssertEqual(Tensor.where(x .> 0, g, Tensor(-1.0)).scalars(as: Float.self), x.scalars(as: Float.self).map { $0 > 0 ? 2.5 : -1 })

        // amax / amin over one dim: max(dim:)'s values, NaN rows included, keepDim
        var v = x.scalars(as: Float.self)
        v[5 * 400 + 7] = .nan
        let xn = Tensor(shape: [300, 400], scalars: v)
        for dim in [0, 1] {
            for keep in [false, true] {
                XCTAssertEqual(xn.amax(dim: dim, keepDim: keep).scalars(as: Float.self).map(\.bitPattern),
                               xn.max(dim: dim, keepDim: keep).values.scalars(as: Float.self).map(\.bitPattern), "amax \(dim)")
                XCTAssertEqual(xn.amin(dim: dim, keepDim: keep).scalars(as: Float.self).map(\.bitPattern),
                               xn.min(dim: dim, keepDim: keep).values.scalars(as: Float.self).map(\.bitPattern), "amin \(dim)")
            }
        }
        XCTAssertTrue(xn.amax(dim: 1).scalars(as: Float.self)[5].isNaN)
        let rows = (0..<300).map { r in (0..<400).map { v[r * 400 + $0] } }
        XCTAssertEqual(Array(xn.amax(dim: 1).scalars(as: Float.self)[6...]), rows[6...].map { $0.max()! })
    }

    /// Element-by-element loops over strided operands run on slabs of the leading dim on all
    /// threads: the same bits as the same op on contiguous copies (binary ops of every kind with
    /// transposed and broadcast operands), float and integer. A unary op of a transposed tensor
    /// into a contiguous output (gathered, then the C kernel where the op has one) gives the bits
    /// of the op on a contiguous copy, and into an output of the input's layout too.
    func testThreadedStridedLoopsMatchContiguousOperands() {
        let a = Tensor.randn([300, 257], seed: 31).transposed(0, 1), b = Tensor.randn([300, 257], seed: 32).transposed(0, 1)
        let row = Tensor.randn([300], seed: 33)
        let ac = a.contiguous(), bc = b.contiguous()
        for op in [BinaryOp.add, .sub, .mul, .div, .pow, .maximum, .minimum, .remainder, .atan2, .lt, .eq] {
            for (name, x, y, xc, yc) in [("both", a, b, ac, bc), ("one", ac, b, ac, bc), ("broadcast", a, row, ac, row)] {
                let outDType: DType = [.lt, .eq].contains(op) ? .bool : .float32
                let fast = Tensor(uninitializedShape: [257, 300], dtype: outDType), ref = Tensor(uninitializedShape: [257, 300], dtype: outDType)
                Backends.cpu.binary(op, x, y, into: fast)
                CPUKernels.binaryFloat(op, xc, yc.expanded(to: [257, 300]).contiguous(), ref, Float.self)
                XCTAssertEqual(fast.to(.float64).scalars(as: Double.self).map(\.bitPattern), ref.to(.float64).scalars(as: Double.self).map(\.bitPattern), "\(op) \(name)")
            }
        }
        let ia = (a * 100).to(.int32), ib = (b * 100).to(.int32)
        XCTAssertEqual((ia + ib).scalars(as: Int32.self), (ia.contiguous() + ib.contiguous()).scalars(as: Int32.self))
        for op in [UnaryOp.exp, .sin, .floor, .atan, .sign] {
            let fast = Tensor(uninitializedShape: [257, 300], dtype: .float32), ref = Tensor(uninitializedShape: [257, 300], dtype: .float32)
            Backends.cpu.unary(op, a, into: fast)
            Backends.cpu.unary(op, ac, into: ref)
            XCTAssertEqual(fast.scalars(as: Float.self).map(\.bitPattern), ref.scalars(as: Float.self).map(\.bitPattern), "\(op)")
            let kept = Tensor(uninitializedLike: a, dtype: .float32)
            XCTAssertEqual(kept.strides, a.strides)
            Backends.cpu.unary(op, a, into: kept)
            XCTAssertEqual(kept.scalars(as: Float.self).map(\.bitPattern), ref.scalars(as: Float.self).map(\.bitPattern), "\(op) kept layout")
        }
    }

    /// cumsum and cumprod over a dim other than the last of contiguous tensors (column blocks,
    /// threaded) give the bits of the general loop, which a transposed copy of the input takes.
    func testScanOverLeadingDimsMatchesTheGeneralLoop() {
        for dtype in [DType.float32, .float64] {
            for shape in [[7, 5], [300, 1100], [4, 50, 3], [3, 200, 700]] {
                let x = Tensor.randn(shape, dtype: dtype, seed: 41) * 0.5 + 1
                let strided = x.transposed(0, shape.count - 1).contiguous().transposed(0, shape.count - 1)
                XCTAssertFalse(strided.isContiguous)
                for dim in 0..<(shape.count - 1) {
                    for (name, f) in [("cumsum", { (t: Tensor) in t.cumsum(dim: dim) }), ("cumprod", { $0.cumprod(dim: dim) })] {
                        XCTAssertEqual(f(x).to(.float64).scalars(as: Double.self).map(\.bitPattern),
                                       f(strided).to(.float64).scalars(as: Double.self).map(\.bitPattern), "\(name) \(shape) dim \(dim) \(dtype)")
                    }
                }
            }
        }
    }

    /// silu's fused C forward gives the bits of `x * x.sigmoid()` (the C sigmoid, then the C
    /// product), at the threshold, odd sizes and threaded sizes, float32 and float64.
    func testFusedSiluMatchesTheTwoOps() {
        for dtype in [DType.float32, .float64] {
            for n in [CKernelPaths.unaryThreshold, 33, 4099, 70_001] {
                var v = (Tensor.randn([n], dtype: .float64, seed: UInt64(n)) * 8).scalars(as: Double.self)
                for (i, s) in [Double.nan, .infinity, -.infinity, -0.0, 100, -100].enumerated() { v[i * 5] = s }
                let x = Tensor(shape: [n], scalars: v, dtype: dtype)
                let fused = CKernelPaths.silu(x)
                XCTAssertNotNil(fused)
                let composed = x * x.sigmoid()
                XCTAssertEqual(fused?.to(.float64).scalars(as: Double.self).map(\.bitPattern), composed.to(.float64).scalars(as: Double.self).map(\.bitPattern), "\(dtype) \(n)")
                XCTAssertEqual(x.silu().to(.float64).scalars(as: Double.self).map(\.bitPattern), composed.to(.float64).scalars(as: Double.self).map(\.bitPattern))
            }
            XCTAssertNil(CKernelPaths.silu(Tensor.randn([31], dtype: dtype, seed: 1)))
        }
    }

    func checkMatmul(_ a: Tensor, _ b: Tensor, file: StaticString = #filePath, line: UInt = #line) {
        let fast = a.matmul(b)
        var a3 = a.rank == 2 ? a.unsqueezed(dim: 0) : a, b3 = b.rank == 2 ? b.unsqueezed(dim: 0) : b
        let batch = Swift.max(a3.shape[0], b3.shape[0])
        a3 = a3.expanded(to: [batch, a3.shape[1], a3.shape[2]])
        b3 = b3.expanded(to: [batch, b3.shape[1], b3.shape[2]])
        let ref = Tensor(uninitializedShape: [a3.shape[0], a3.shape[1], b3.shape[2]], dtype: a.dtype)
        if a.dtype == .float32 { CPUKernels.matmulFloat(a3, b3, ref, Float.self) } else { CPUKernels.matmulFloat(a3, b3, ref, Double.self) }
        let k = a.shape[a.rank - 1]
        assertClose(fast.reshaped(ref.shape), ref, Tolerance.reduction(a.dtype, terms: k), "\(a.shape) @ \(b.shape)", file: file, line: line)
    }

    /// The same bits on any number of threads: each thread's slice of C (rows or columns, chosen
    /// by the cost model) goes through the same K blocks in the same order. Shapes with B read in
    /// place and B packed (larger than L2), row-major and transposed A.
    func testMatmulIsTheSameOnEveryThreadCount() {
        for (m, k, n) in [(96, 1100, 1000), (1000, 300, 100), (257, 700, 900)] {
            let a = randn([m, k], .float32, 1), b = randn([k, n], .float32, 2)
            let at = randn([k, m], .float32, 3).transposed(0, 1)
            for lhs in [a, at] {
                let one = CPUConvolution.withThreads(1) { lhs.matmul(b) }
                for threads in [2, 3] {
                    let many = CPUConvolution.withThreads(threads) { lhs.matmul(b) }
                    XCTAssertEqual(many.scalars(as: Float.self).map(\.bitPattern), one.scalars(as: Float.self).map(\.bitPattern),
                                   "[\(m), \(k)] @ [\(k), \(n)] on \(threads) threads, A contiguous \(lhs.isContiguous)")
                }
            }
        }
    }

    func testMatmulAgainstSwiftLoop() {
        for dtype in [DType.float32, .float64] {
            for (m, k, n) in [(1, 1, 1), (1, 7, 1), (5, 3, 7), (6, 16, 8), (7, 17, 9), (13, 257, 19), (65, 65, 65), (100, 300, 33), (2, 385, 3)] {
                let a = randn([m, k], dtype, 1), b = randn([k, n], dtype, 2)
                checkMatmul(a, b)
                checkMatmul(randn([k, m], dtype, 3).transposed(0, 1), b)           // column-major A
                checkMatmul(a, randn([n, k], dtype, 4).transposed(0, 1))           // column-major B
            }
            checkMatmul(randn([4, 9, 11], dtype, 5), randn([4, 11, 6], dtype, 6))   // batched
            checkMatmul(randn([3, 5, 8], dtype, 7), randn([8, 4], dtype, 8))       // broadcast B
            checkMatmul(randn([10, 20], dtype, 9)[0..., 3..<17], randn([14, 5], dtype, 10))   // sliced rows
        }
    }

    /// Products that reach each AVX-512 GEMM path: A copied by rows for the row-reading
    /// micro-kernel (float32 and float64), B read in place (row-major and at most the L2's
    /// size) or packed (larger, as 1100 x 520 floats, or column-major), column-major A (packed slivers), edge tiles in both
    /// dimensions (M not a multiple of 12, N not of 32 / 16, 4- and 8-row edge kernels), several
    /// K blocks (K > 256), and products split over two threads. Each runs on every instruction
    /// set the CPU has, against one reference.
    func checkMatmulPathsOnEveryISA(_ dtype: DType, file: StaticString = #filePath, line: UInt = #line) {
        let shapes = [(12, 256, 32), (13, 257, 33), (20, 300, 64), (25, 513, 97), (37, 520, 530), (150, 300, 100), (70, 600, 450),
                      (130, 520, 70), (30, 1100, 520)]
        var cases: [(Tensor, Tensor, Tensor)] = []
        for (i, (m, k, n)) in shapes.enumerated() {
            let s = UInt64(20 + 6 * i)
            let a = randn([m, k], dtype, s), b = randn([k, n], dtype, s + 1)
            let at = randn([k, m], dtype, s + 2).transposed(0, 1), bt = randn([n, k], dtype, s + 3).transposed(0, 1)
            let aSliced = randn([m, k + 5], dtype, s + 4)[0..., 2..<(k + 2)]
            let bSliced = randn([k, n + 3], dtype, s + 5)[0..., 1..<(n + 1)]
            for (x, y) in [(a, b), (at, b), (a, bt), (aSliced, bSliced)] {
                let ref = Tensor(uninitializedShape: [1, m, n], dtype: dtype)
                if dtype == .float32 {
                    CPUKernels.matmulFloat(x.unsqueezed(dim: 0), y.unsqueezed(dim: 0), ref, Float.self)
                } else {
                    CPUKernels.matmulFloat(x.unsqueezed(dim: 0), y.unsqueezed(dim: 0), ref, Double.self)
                }
                cases.append((x, y, ref.reshaped([m, n])))
            }
        }
        let previous = ckernels_isa()
        defer { _ = ckernels_set_isa(previous) }
        for isa in [CKERNELS_ISA_SCALAR, CKERNELS_ISA_AVX2, CKERNELS_ISA_AVX512] {
            let used = ckernels_set_isa(isa)
            for (x, y, ref) in cases {
                assertClose(x.matmul(y), ref, Tolerance.randomProduct(dtype, k: x.shape[1]),
                            "isa \(used): \(x.shape) @ \(y.shape), strides \(x.strides) @ \(y.strides)",
                            file: file, line: line)
            }
        }
    }

    /// Element-wise outputs stored with non-temporal stores (forced by a zero threshold; by
    /// default only ops touching 3/8 of the L3 cache stream) carry the same bits as ordinary
    /// stores: fresh outputs, in-place updates of views at every offset within a cache line,
    /// lengths with head and tail pieces, serial and threaded.
    func testStreamingStoresGiveTheSameBits() {
        func run(_ dtype: DType, _ n: Int, _ offset: Int) -> [Tensor] {
            let x = randn([n + offset], dtype, 1)[offset...], y = randn([n], dtype, 2) + 4
            let base = randn([n + offset], dtype, 3)
            var view = base[offset...]
            view += y
            return [x + y, x * 2, 3 - x, x / y, maximum(x, y), x.pow(y.abs()), x.exp(), x.tanh(), x.sin(), x.pow(2),
                    x.sigmoid(), x.gelu(), x.gelu(approximate: .tanh), view, base]
        }
        defer { _ = ckernels_set_stream_threshold(-1) }
        for dtype in [DType.float32, .float64] {
            for n in [1, 17, 1000, 70_001] {
                for offset in [0, 1, 5, 15] {
                    _ = ckernels_set_stream_threshold(0)
                    let streamed = run(dtype, n, offset)
                    _ = ckernels_set_stream_threshold(Int.max)
                    let stored = run(dtype, n, offset)
                    for (k, (a, b)) in zip(streamed, stored).enumerated() {
                        assertClose(a, b, Tolerance.exact, "result \(k), \(dtype) n=\(n) offset \(offset)")
                    }
                }
            }
        }
    }

    func testMatmulPathsOnEveryISA() { checkMatmulPathsOnEveryISA(.float32) }

    func testMatmulPathsOnEveryISAFloat64() { checkMatmulPathsOnEveryISA(.float64) }

    func testMatmulGradientsStillCheck() {
        let a = Tensor.randn([3, 4], dtype: .float64, seed: 11), b = Tensor.randn([4, 2], dtype: .float64, seed: 12)
        assertGradcheck([a, b]) { $0[0].matmul($0[1]) }
    }

    func testSoftmaxRowsMatchOpByOpPath() {
        for dtype in [DType.float32, .float64] {
            for shape in [[1], [5], [3, 7], [4, 33], [2, 3, 100], [64, 1000], [37, 1001]] {  // last two: rows split across threads
                let x = randn(shape, dtype, 13) * 5
                let shifted = x - x.max(dim: -1, keepDim: true).values
                let e = shifted.exp()
                assertClose(x.softmax(dim: -1), e / e.sum(dim: -1, keepDim: true), nil, "softmax \(shape)")
                assertClose(x.logSoftmax(dim: -1), shifted - e.sum(dim: -1, keepDim: true).log(), nil, "logSoftmax \(shape)")
            }
        }
        // NaN in a row gives a NaN row, as the op-by-op path does.
        let x = Tensor(shape: [2, 3], scalars: [1, .nan, 2, 1, 2, 3] as [Float])
        let s = x.softmax(dim: 1).scalars(as: Float.self)
        XCTAssertTrue(s[0].isNaN && s[1].isNaN && s[2].isNaN)
        XCTAssertEqual(Double(s[3] + s[4] + s[5]), 1, accuracy: 1e-6)
    }

    func testSoftmaxGradientsStillCheck() {
        let x = Tensor.randn([3, 5], dtype: .float64, seed: 14)
        assertGradcheck([x]) { ($0[0].softmax(dim: 1) * Tensor.arange(5, dtype: .float64)).sum() }
        assertGradcheck([x]) { ($0[0].logSoftmax(dim: 1) * Tensor.arange(5, dtype: .float64)).sum() }
    }

    /// ckernels_i64_in_range: bounds are exclusive, negative values (Int64.min too) are out,
    /// offenders are found in any chunk, on every ISA level and thread count.
    func testInt64RangeCheck() {
        func inside(_ values: [Int64], _ bound: Int64) -> Bool? {
            var result: Int32 = -1
            let status = values.withUnsafeBufferPointer { ckernels_i64_in_range($0.count, $0.baseAddress, bound, &result) }
            return status == CKERNELS_OK ? result != 0 : nil
        }
        forEachISAAndThreadCount { label in
            XCTAssertEqual(inside([], 0), true, label)
            XCTAssertEqual(inside([0], 0), false, label)
            XCTAssertEqual(inside([0, 4, 1], 5), true, label)
            XCTAssertEqual(inside([0, 5, 1], 5), false, label)
            XCTAssertEqual(inside([-1], 5), false, label)
            XCTAssertEqual(inside([.min, 0], .max), false, label)
            XCTAssertEqual(inside([.max - 1], .max), true, label)
            for n in [31, 32, 33, 100_000] {   // vector tails and several chunks
                var v = (0..<n).map { Int64($0 % 7) }
                XCTAssertEqual(inside(v, 7), true, "\(label) n \(n)")
                v[n - 1] = 7
                XCTAssertEqual(inside(v, 7), false, "\(label) n \(n) last")
                v[n - 1] = 0
                v[n / 2] = -3
                XCTAssertEqual(inside(v, 7), false, "\(label) n \(n) middle")
            }
        }
        XCTAssertNil(inside([1], -1), "a negative bound is invalid")
    }

    /// norm(p: 2) along the last dim of a contiguous tensor sums the squares in C without their
    /// array: the same bits as the composed `(x * x).sum(...).sqrt()`, for row lengths around the
    /// run and block sizes (64, 4096), odd row counts (rows go in pairs), signed zeros, NaN and
    /// infinities, keepDim, rank 1 to 3, both dtypes; other layouts take the composed ops.
    func testNormAlongTheLastDimMatchesTheComposedOps() {
        func bits(_ t: Tensor) -> [UInt64] { t.to(.float64).scalars(as: Double.self).map(\.bitPattern) }
        for dtype in [DType.float32, .float64] {
            for (k, shape) in [[5], [3, 1], [7, 63], [4, 64], [5, 65], [3, 1000], [2, 4097], [129, 33], [2, 3, 70], [3, 0]].enumerated() {
                var v = Tensor.randn(shape, dtype: .float64, seed: UInt64(k)).scalars(as: Double.self)
                if v.count > 3 { v[0] = -0.0; v[1] = .infinity; v[v.count - 1] = .nan }
                let x = Tensor(shape: shape, scalars: v, dtype: dtype)
                for keepDim in [false, true] {
                    let composed = withNoGrad { (x * x).sum(dims: [x.rank - 1], keepDim: keepDim).sqrt() }
                    let fused = x.norm(p: 2, dim: -1, keepDim: keepDim)
                    XCTAssertEqual(fused.shape, composed.shape, "\(dtype) \(shape) keepDim \(keepDim)")
                    XCTAssertEqual(bits(fused), bits(composed), "\(dtype) \(shape) keepDim \(keepDim)")
                }
            }
        }
        let t = Tensor.randn([6, 5], seed: 9).transposed(0, 1)
        XCTAssertNil(CKernelPaths.sumOfSquaresAlongLastDim(t))
        XCTAssertEqual(bits(t.norm(p: 2, dim: 1)), bits(withNoGrad { (t * t).sum(dims: [1]).sqrt() }))
    }
}
