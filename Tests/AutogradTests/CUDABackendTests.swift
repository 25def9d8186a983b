import XCTest
@testable import Autograd

/// The CUDA backend against the CPU backend, kernel family by kernel family, on dense,
/// broadcast, transposed and sliced operands. Every test skips where CUDA is unavailable.
final class CUDABackendTests: XCTestCase {
    /// Builds an operand on a device (so views are taken on the device itself).
    typealias Input = (Device) -> Tensor

    var gpu: CUDABackend!

    override func setUpWithError() throws {
        try XCTSkipUnless(CUDA.isAvailable, CUDA.unavailabilityReason ?? "")
        gpu = try CUDABackend.backend(device: 0)
    }

    /// Runs `body` with the CPU backend on CPU operands and with the CUDA backend on the same
    /// operands built on cuda:0, each writing fresh outputs, then compares the outputs.
    func assertParity(_ label: String, inputs: [Input], outputs: [(shape: [Int], dtype: DType)],
                              tolerance: Tolerance.Pair? = nil, file: StaticString = #filePath, line: UInt = #line,
                              _ body: (any DeviceBackend, [Tensor], [Tensor]) -> Void) {
        let cpuInputs = inputs.map { $0(.cpu) }
        let gpuInputs = inputs.map { $0(.cuda) }
        let cpuOutputs = outputs.map { Tensor(uninitializedShape: $0.shape, dtype: $0.dtype) }
        let gpuOutputs = outputs.map { Tensor(uninitializedShape: $0.shape, dtype: $0.dtype, device: .cuda) }
        body(Backends.cpu, cpuInputs, cpuOutputs)
        body(gpu, gpuInputs, gpuOutputs)
        for (expected, actual) in zip(cpuOutputs, gpuOutputs) {
            let tol = tolerance ?? (expected.dtype.isFloatingPoint ? Tolerance.cudaVersusCPU : Tolerance.exact)
            assertClose(actual.cpu(), expected, tol, label, file: file, line: line)
        }
    }

    /// A seeded float64 tensor converted to `dtype`, optionally mapped into a domain.
    func values(_ shape: [Int], _ dtype: DType, seed: UInt64, scale: Double = 3, shift: Double = 0) -> Tensor {
        let x = Tensor.randn(shape, dtype: .float64, seed: seed) * scale + shift
        return dtype.isFloatingPoint ? x.to(dtype) : x.convertedWithoutGrad(to: dtype)
    }

    func on(_ t: Tensor) -> Input { { t.to(device: $0) } }

    // MARK: - Copies, casts and fills

    func testCastsBetweenEveryPairOfDTypes() {
        var scalars: [Double] = [0, -0.0, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 127.9, -128.7, 255, 256, 300.25,
                                 65504, 70000, -40000.5, 3.0e9, -3.0e9, 1e20, .infinity, -.infinity, .nan, 1e-8]
        scalars += (0..<40).map { Double($0) * 7.31 - 130 }
        let base = Tensor(shape: [scalars.count], scalars: scalars)
        for source in DType.allCases {
            let x = base.convertedWithoutGrad(to: source)
            for destination in DType.allCases {
                assertParity("\(source) -> \(destination)", inputs: [on(x)], outputs: [([scalars.count], destination)],
                             tolerance: Tolerance.exact) { backend, i, o in backend.copy(i[0], into: o[0]) }
            }
        }
    }

    func testStridedCopiesAndCopiesIntoViews() {
        let base = values([6, 5, 4], .float32, seed: 1)
        let transposed: Input = { base.to(device: $0).transposed(0, 2) }
        assertParity("transposed", inputs: [transposed], outputs: [([4, 5, 6], .float32)]) { backend, i, o in
            backend.copy(i[0], into: o[0])
        }
        let narrowed: Input = { base.to(device: $0).narrow(dim: 1, start: 1, length: 3) }
        assertParity("narrow to float64", inputs: [narrowed], outputs: [([6, 3, 4], .float64)]) { backend, i, o in
            backend.copy(i[0], into: o[0])
        }
        // Into a transposed view of a fresh tensor (the output's strides are not dense).
        let cpu = Tensor.zeros([4, 6])
        let cuda = Tensor.zeros([4, 6], device: .cuda)
        Backends.cpu.copy(base.narrow(dim: 1, start: 0, length: 1).reshaped([6, 4]), into: cpu.transposed(0, 1))
        gpu.copy(base.to(device: .cuda).narrow(dim: 1, start: 0, length: 1).reshaped([6, 4]),
                 into: cuda.transposed(0, 1))
        assertClose(cuda.cpu(), cpu, Tolerance.exact)
    }

    func testCopyOfMoreDimsThanTheKernelLayoutHolds() {
        // 12 dims of 2 whose strides alternate so nothing coalesces: split on the host.
        let shape = [Int](repeating: 2, count: 12)
        let base = values(shape, .float32, seed: 2)
        let permutation = [1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10]
        assertParity("12 dims", inputs: [{ base.to(device: $0).permuted(permutation) }],
                     outputs: [(shape, .float32)]) { backend, i, o in backend.copy(i[0], into: o[0]) }
        assertParity("12-dim sum", inputs: [{ base.to(device: $0).permuted(permutation) }],
                     outputs: [([1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2], .float32)]) { backend, i, o in
            backend.reduce(.sum, i[0], dims: [0, 2, 4, 6, 8, 10], into: o[0])
        }
    }

    func testFillEveryDTypeDenseAndStrided() {
        for dtype in DType.allCases {
            for value in [Scalar.int(0), .int(-3), .double(2.75), .bool(true)] {
                let cpu = Tensor.zeros([5, 7], dtype: dtype)
                let cuda = Tensor.zeros([5, 7], dtype: dtype, device: .cuda)
                Backends.cpu.fill(cpu, with: value)
                gpu.fill(cuda, with: value)
                assertClose(cuda.cpu(), cpu, Tolerance.exact, "\(dtype) \(value)")
                Backends.cpu.fill(cpu.narrow(dim: 1, start: 2, length: 3).transposed(0, 1), with: .int(9))
                gpu.fill(cuda.narrow(dim: 1, start: 2, length: 3).transposed(0, 1), with: .int(9))
                assertClose(cuda.cpu(), cpu, Tolerance.exact, "\(dtype) strided")
            }
        }
    }

    func testSelect() {
        let condition = values([4, 1, 6], .float32, seed: 3) .> 0
        for dtype in DType.allCases {
            let a = values([4, 5, 6], dtype, seed: 4), b = values([5, 1], dtype, seed: 5)
            assertParity("where \(dtype)", inputs: [on(condition), on(a), on(b)], outputs: [([4, 5, 6], dtype)]) {
                backend, i, o in backend.select(i[0], i[1], i[2], into: o[0])
            }
            assertParity("where \(dtype) transposed",
                         inputs: [{ condition.to(device: $0).expanded(to: [4, 6, 6]).transposed(1, 2).narrow(dim: 1, start: 0, length: 5) },
                                  { a.to(device: $0).transposed(0, 1).contiguous().transposed(0, 1) }, on(b)],
                         outputs: [([4, 5, 6], dtype)]) { backend, i, o in backend.select(i[0], i[1], i[2], into: o[0]) }
        }
    }

    // MARK: - Elementwise

    /// Inputs inside each op's domain, with a NaN, infinities and signed zeros for floats.
    private func unaryInput(_ op: UnaryOp, _ dtype: DType) -> Tensor {
        let shape = [7, 33]
        switch op {
        case .log, .sqrt, .rsqrt, .log2:
            return values(shape, dtype, seed: 6, scale: 1).abs() + 0.01
        case .log1p:
            return values(shape, dtype, seed: 6, scale: 1).abs() - 0.5
        case .asin, .acos:
            return values(shape, dtype, seed: 6, scale: 0.3)
        case .isNaN, .isInf, .isFinite, .relu, .sign, .abs, .neg, .floor, .ceil, .round, .trunc, .logicalNot:
            guard dtype.isFloatingPoint else { return values(shape, dtype, seed: 6, scale: 40) }
            var scalars = values(shape, .float64, seed: 6).scalars(as: Double.self)
            scalars[0] = .nan
            scalars[1] = .infinity
            scalars[2] = -.infinity
            scalars[3] = 0
            scalars[4] = -0.0
            scalars[5] = 2.5
            scalars[6] = -2.5
            return Tensor(shape: shape, scalars: scalars).to(dtype)
        default:
            return values(shape, dtype, seed: 6, scale: dtype.isFloatingPoint ? 2 : 40)
        }
    }

    func testEveryUnaryOpOnEveryDType() {
        for dtype in CUDAKernelSources.computeDTypes {
            for op in UnaryOp.allCases where CUDAKernelSources.expression(op, dtype) != nil {
                let x = dtype == .bool ? values([7, 33], .float32, seed: 7) .> 0 : unaryInput(op, dtype)
                let out = CUDAKernelSources.producesBool(op) ? DType.bool : dtype
                assertParity("\(op) \(dtype)", inputs: [on(x)], outputs: [([7, 33], out)]) { backend, i, o in
                    backend.unary(op, i[0], into: o[0])
                }
                assertParity("\(op) \(dtype) transposed", inputs: [{ x.to(device: $0).transposed(0, 1) }],
                             outputs: [([33, 7], out)]) { backend, i, o in backend.unary(op, i[0], into: o[0]) }
            }
        }
    }

    func testEveryBinaryOpOnEveryDTypeWithBroadcasting() {
        for dtype in CUDAKernelSources.computeDTypes {
            let a: Tensor, b: Tensor
            if dtype == .bool {
                a = values([3, 4, 5], .float32, seed: 8) .> 0
                b = values([4, 1], .float32, seed: 9) .> 0
            } else {
                a = values([3, 4, 5], dtype, seed: 8, scale: dtype.isFloatingPoint ? 2 : 9)
                // Nonzero divisors, small exponents.
                let raw = values([4, 1], dtype, seed: 9, scale: dtype.isFloatingPoint ? 2 : 3)
                b = dtype.isFloatingPoint ? raw : Tensor.where(raw .== 0, Tensor(scalar: .int(2), dtype: dtype), raw)
            }
            for op in BinaryOp.allCases where CUDAKernelSources.expression(op, dtype) != nil {
                var (x, y) = (a, b)
                if op == .pow && !dtype.isFloatingPoint {
                    y = b.abs()
                } else if op == .pow {
                    x = a.abs() + 0.1
                }
                let out = op.isComparison ? DType.bool : dtype
                assertParity("\(op) \(dtype)", inputs: [on(x), on(y)], outputs: [([3, 4, 5], out)]) { backend, i, o in
                    backend.binary(op, i[0], i[1], into: o[0])
                }
                assertParity("\(op) \(dtype) transposed",
                             inputs: [{ x.to(device: $0).transposed(0, 2) }, { y.to(device: $0).transposed(0, 1) }],
                             outputs: [([5, 4, 3], out)]) { backend, i, o in backend.binary(op, i[0], i[1], into: o[0]) }
                let scalar = Tensor(scalar: .int(3), dtype: dtype == .bool ? .bool : dtype)
                assertParity("\(op) \(dtype) scalar", inputs: [on(x), on(scalar)], outputs: [([3, 4, 5], out)]) {
                    backend, i, o in backend.binary(op, i[0], i[1], into: o[0])
                }
            }
        }
    }

    func testVectorPathTailsAndMisalignedOffsets() {
        for count in [1, 3, 4, 5, 1023, 4097] {
            let a = values([count + 1], .float32, seed: 10), b = values([count], .float32, seed: 11)
            // Offset 1: not 16-byte aligned, so the linear path runs.
            assertParity("add \(count) misaligned", inputs: [{ a.to(device: $0).narrow(dim: 0, start: 1, length: count) }, on(b)],
                         outputs: [([count], .float32)]) { backend, i, o in backend.binary(.add, i[0], i[1], into: o[0]) }
            assertParity("add \(count) aligned", inputs: [{ a.to(device: $0).narrow(dim: 0, start: 0, length: count) }, on(b)],
                         outputs: [([count], .float32)]) { backend, i, o in backend.binary(.add, i[0], i[1], into: o[0]) }
        }
    }

    func testInPlaceAccumulation() {
        let x = values([1000], .float32, seed: 12), y = values([1000], .float32, seed: 13)
        let cuda = x.to(device: .cuda).clone()
        cuda.addInPlaceUnchecked(y.to(device: .cuda))
        assertClose(cuda.cpu(), x + y, Tolerance.cudaVersusCPU)
    }

    // MARK: - Reductions

    func testReductionsOverEveryDimSet() {
        let shape = [5, 6, 7]
        let dimSets: [[Int]] = [[], [0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]]
        for dtype in CUDAKernelSources.computeDTypes {
            let x = dtype == .bool ? values(shape, .float32, seed: 14) .> -1 : values(shape, dtype, seed: 14, scale: dtype.isFloatingPoint ? 1 : 3)
            let ops: [ReduceOp] = dtype == .bool ? [.all, .any] : [.sum, .prod, .max, .min]
            for op in ops {
                for dims in dimSets {
                    var kept = shape
                    for d in dims { kept[d] = 1 }
                    let n = dims.reduce(1) { $0 * shape[$1] }
                    let tolerance = dtype.isFloatingPoint ? Tolerance.Pair(rtol: 1e-4 * Double(n).squareRoot(), atol: 1e-5) : Tolerance.exact
                    assertParity("\(op) \(dtype) \(dims)", inputs: [on(x)], outputs: [(kept, dtype)], tolerance: tolerance) {
                        backend, i, o in backend.reduce(op, i[0], dims: dims, into: o[0])
                    }
                    assertParity("\(op) \(dtype) \(dims) strided",
                                 inputs: [{ x.to(device: $0).transposed(0, 2).contiguous().transposed(0, 2) }],
                                 outputs: [(kept, dtype)], tolerance: tolerance) { backend, i, o in
                        backend.reduce(op, i[0], dims: dims, into: o[0])
                    }
                }
            }
        }
    }

    func testLargeReductionsSplitAcrossBlocks() {
        let tolerance = Tolerance.Pair(rtol: 1e-5, atol: 1e-3)
        let long = values([1 << 22], .float32, seed: 15)
        assertParity("sum 4M", inputs: [on(long)], outputs: [([1], .float32)], tolerance: tolerance) { backend, i, o in
            backend.reduce(.sum, i[0], dims: [0], into: o[0])
        }
        assertParity("max 4M", inputs: [on(long)], outputs: [([1], .float32)]) { backend, i, o in
            backend.reduce(.max, i[0], dims: [0], into: o[0])
        }
        let tall = values([300_000, 3], .float64, seed: 16)
        assertParity("column sums", inputs: [on(tall)], outputs: [([1, 3], .float64)], tolerance: tolerance) { backend, i, o in
            backend.reduce(.sum, i[0], dims: [0], into: o[0])
        }
        assertParity("row sums", inputs: [{ tall.to(device: $0).transposed(0, 1).contiguous() }], outputs: [([3, 1], .float64)],
                     tolerance: tolerance) { backend, i, o in backend.reduce(.sum, i[0], dims: [1], into: o[0]) }
        let ints = values([1 << 20], .int64, seed: 17, scale: 1000)
        assertParity("int64 sum", inputs: [on(ints)], outputs: [([1], .int64)]) { backend, i, o in
            backend.reduce(.sum, i[0], dims: [0], into: o[0])
        }
        let empty = Tensor.zeros([3, 0])
        assertParity("empty", inputs: [on(empty)], outputs: [([3, 1], .float32)]) { backend, i, o in
            backend.reduce(.sum, i[0], dims: [1], into: o[0])
        }
    }

    func testMaxAndMinWithIndicesFirstOccurrenceAndNaN() {
        var scalars = values([4, 6, 5], .float64, seed: 18).scalars(as: Double.self).map { ($0 * 2).rounded() }
        scalars[7] = .nan
        scalars[40] = .nan
        scalars[41] = .nan
        let x = Tensor(shape: [4, 6, 5], scalars: scalars)
        for dtype in DType.allCases {
            let xt = x.convertedWithoutGrad(to: dtype)
            for op in IndexReduceOp.allCases {
                for dim in 0..<3 {
                    var kept = [4, 6, 5]
                    kept[dim] = 1
                    assertParity("\(op) \(dtype) dim \(dim)", inputs: [on(xt)], outputs: [(kept, dtype), (kept, .int64)],
                                 tolerance: Tolerance.exact) { backend, i, o in
                        backend.reduceWithIndex(op, i[0], dim: dim, values: o[0], indices: o[1])
                    }
                }
            }
        }
        let long = values([3, 100_000], .float32, seed: 19)
        assertParity("argmax long rows", inputs: [on(long)], outputs: [([3, 1], .float32), ([3, 1], .int64)],
                     tolerance: Tolerance.exact) { backend, i, o in
            backend.reduceWithIndex(.max, i[0], dim: 1, values: o[0], indices: o[1])
        }
    }

    // MARK: - Matmul

    func testMatmulThroughCUBLASAndTheTiledKernel() {
        for dtype in [DType.float32, .float64] {
            let a = values([3, 37, 53], dtype, seed: 20), b = values([3, 53, 29], dtype, seed: 21)
            let tolerance = Tolerance.Pair(rtol: 1e-4, atol: 1e-4 * 53.0.squareRoot())
            let cases: [(String, Input, Input)] = [
                ("dense", on(a), on(b)),
                ("transposed a", { a.to(device: $0).transposed(1, 2).contiguous().transposed(1, 2) }, on(b)),
                ("transposed b", on(a), { b.to(device: $0).transposed(1, 2).contiguous().transposed(1, 2) }),
                ("broadcast b", on(a), { b.to(device: $0).narrow(dim: 0, start: 0, length: 1).expanded(to: [3, 53, 29]) }),
                ("sliced", { a.to(device: $0).narrow(dim: 2, start: 0, length: 50) },
                 { b.to(device: $0).narrow(dim: 1, start: 3, length: 50) }),
            ]
            for (label, x, y) in cases {
                let shape = [3, 37, 29]
                assertParity("\(dtype) \(label)", inputs: [x, y], outputs: [(shape, dtype)], tolerance: tolerance) {
                    backend, i, o in backend.matmul(i[0], i[1], into: o[0])
                }
                assertParity("\(dtype) \(label) tiled", inputs: [x, y], outputs: [(shape, dtype)], tolerance: tolerance) {
                    backend, i, o in
                    if let cuda = backend as? CUDABackend { cuda.matmulTiled(i[0], i[1], into: o[0]) } else { backend.matmul(i[0], i[1], into: o[0]) }
                }
            }
        }
        for dtype in CUDAKernelSources.matmulDTypes where !dtype.isFloatingPoint {
            let a = values([2, 19, 23], dtype, seed: 22, scale: 5), b = values([2, 23, 17], dtype, seed: 23, scale: 5)
            assertParity("\(dtype)", inputs: [on(a), on(b)], outputs: [([2, 19, 17], dtype)]) { backend, i, o in
                backend.matmul(i[0], i[1], into: o[0])
            }
        }
        // A transposed output view (cuBLAS writes a temporary, then copies).
        let a = values([1, 8, 4], .float32, seed: 24), b = values([1, 4, 6], .float32, seed: 25)
        let cpu = Tensor.zeros([1, 6, 8]), cuda = Tensor.zeros([1, 6, 8], device: .cuda)
        Backends.cpu.matmul(a, b, into: cpu.transposed(1, 2))
        gpu.matmul(a.to(device: .cuda), b.to(device: .cuda), into: cuda.transposed(1, 2))
        assertClose(cuda.cpu(), cpu, Tolerance.cudaVersusCPU)
    }

    // MARK: - Public ops end to end

    func testPublicOpsMatchTheCPU() throws {
        let x = values([16, 10], .float32, seed: 26)
        let targets = Tensor((0..<16).map { $0 % 10 })
        let g = try x.to(.cuda)
        let cases: [(String, (Tensor) -> Tensor)] = [
            ("softmax", { $0.softmax(dim: 1) }),
            ("logSoftmax", { $0.logSoftmax(dim: 0) }),
            ("mean", { $0.mean(dim: 1, keepDim: true) }),
            ("max", { $0.max(dim: 1).values }),
            ("argmax", { $0.argmax(dim: 0).to(.float32) }),
            ("sigmoid tanh", { $0.sigmoid() * $0.tanh() }),
            ("matmul", { $0.matmul($0.transposed(0, 1)) }),
            ("cat", { Tensor.cat([$0, $0.exp()], dim: 1) }),
            ("where", { Tensor.where($0 .> 0, $0, $0 * 0.1) }),
            ("half", { ($0.to(.float16) * 2).to(.float32) }),
            ("bfloat16", { $0.to(.bfloat16).exp().to(.float32) }),
        ]
        for (label, f) in cases {
            assertClose(f(g).cpu(), f(x), Tolerance.cudaVersusCPU, label)
        }
        let loss = crossEntropy(logits: g, targets: try targets.to(.cuda))
        XCTAssertEqual(loss.device, .cuda)
        XCTAssertEqual(loss.item(), crossEntropy(logits: x, targets: targets).item(), accuracy: 1e-5)
    }
}
