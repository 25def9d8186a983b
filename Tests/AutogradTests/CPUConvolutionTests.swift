import CKernels
import XCTest
@testable import Autograd

/// The CPU's convolution fast paths against the plain ones they replace: CKernels im2col /
/// col2im against the reference Swift loops (exact), and the fused convolution
/// (`CPUConvolution`) against the op-by-op im2col + matmul formulas, on odd sizes, padding,
/// stride 2, dilation 2, groups, 1×1 kernels, 1-D windows, non-contiguous inputs and bands of
/// one output row (band edges).
final class CPUConvolutionTests: XCTestCase {
    /// One convolution case: input shape `[N, C, H, W]`, weight `[O, C/G, kH, kW]`.
    struct Case {
        var n: Int, c: Int, h: Int, w: Int, o: Int, kh: Int, kw: Int
        var stride = (1, 1), padding = (0, 0), dilation = (1, 1), groups = 1

        var geometry: WindowGeometry {
            WindowGeometry(batch: n, channels: c, height: h, width: w, kernelH: kh, kernelW: kw,
                           strideH: stride.0, strideW: stride.1, paddingH: padding.0, paddingW: padding.1,
                           dilationH: dilation.0, dilationW: dilation.1)
        }
    }

    static let cases: [Case] = [
        Case(n: 2, c: 3, h: 7, w: 9, o: 5, kh: 3, kw: 3, padding: (1, 1)),
        Case(n: 3, c: 4, h: 11, w: 10, o: 6, kh: 3, kw: 2, stride: (2, 2), padding: (1, 2)),
        Case(n: 2, c: 2, h: 9, w: 13, o: 4, kh: 3, kw: 3, padding: (2, 2), dilation: (2, 2)),
        Case(n: 2, c: 6, h: 8, w: 7, o: 9, kh: 3, kw: 3, stride: (2, 1), padding: (1, 1), dilation: (1, 2), groups: 3),
        Case(n: 1, c: 5, h: 6, w: 6, o: 7, kh: 1, kw: 1),                                   // pointwise
        Case(n: 2, c: 4, h: 5, w: 5, o: 4, kh: 1, kw: 1, groups: 2),                        // pointwise, groups
        Case(n: 2, c: 3, h: 1, w: 17, o: 4, kh: 1, kw: 5, stride: (1, 2), padding: (0, 3)), // 1-D
        Case(n: 2, c: 2, h: 3, w: 4, o: 3, kh: 5, kw: 5, padding: (2, 3)),                  // kernel > image
        Case(n: 4, c: 8, h: 5, w: 6, o: 8, kh: 3, kw: 3, padding: (1, 1), groups: 8),       // depthwise
        // Rows longer than one AVX-512 vector, with padded edges inside the second and third.
        Case(n: 1, c: 2, h: 4, w: 37, o: 3, kh: 3, kw: 5, padding: (1, 4), dilation: (1, 3)),
        Case(n: 2, c: 3, h: 3, w: 40, o: 2, kh: 2, kw: 3, dilation: (2, 2)),
        // A band of a whole image above the GEMM's 64-column and row tiles.
        Case(n: 2, c: 8, h: 12, w: 12, o: 52, kh: 3, kw: 3, padding: (1, 1)),
        // "Same" windows (out_w == width, unit strides: the shifted-copy im2col), with kernel rows
        // that lie wholly above or below the image, and a vertical dilation.
        Case(n: 1, c: 2, h: 2, w: 6, o: 3, kh: 5, kw: 3, padding: (2, 1)),
        Case(n: 2, c: 3, h: 6, w: 5, o: 2, kh: 3, kw: 5, padding: (2, 2), dilation: (2, 1)),
    ] + directCases

    /// Windows the direct kernel takes (float32 on AVX-512): output rows of one, two and three
    /// 32-column tiles with idle lanes, edge tiles of output channels, stride and dilation along
    /// the height, dilation along the row, groups, kernel rows wholly above or below the image.
    static let directCases: [Case] = [
        Case(n: 2, c: 3, h: 5, w: 30, o: 13, kh: 3, kw: 3, padding: (1, 1)),                  // out_w 30
        Case(n: 1, c: 4, h: 7, w: 60, o: 8, kh: 3, kw: 5, stride: (2, 1), padding: (1, 2),
             dilation: (2, 1), groups: 2),                                                      // out_w 60
        Case(n: 2, c: 2, h: 3, w: 33, o: 25, kh: 2, kw: 4, padding: (0, 1)),                  // out_w 32
        Case(n: 1, c: 5, h: 4, w: 96, o: 3, kh: 1, kw: 3),                                    // out_w 94
        Case(n: 1, c: 3, h: 6, w: 33, o: 5, kh: 3, kw: 3, padding: (2, 0), dilation: (1, 2)), // out_w 29
        Case(n: 1, c: 2, h: 2, w: 32, o: 3, kh: 5, kw: 3, padding: (2, 1)),
        Case(n: 2, c: 4, h: 5, w: 30, o: 6, kh: 3, kw: 3, padding: (1, 1), groups: 2),        // groups, adjoint too
    ]

    /// Input for a case: contiguous, or a non-contiguous view with the same values
    /// (channels and rows swapped in storage, and every other column of a wider tensor).
    func input(_ k: Case, dtype: DType, seed: UInt64, contiguous: Bool) -> Tensor {
        let base = Tensor.randn([k.n, k.c, k.h, k.w], dtype: dtype, seed: seed)
        if contiguous { return base }
        let wide = Tensor.randn([k.n, k.h, k.c, 2 * k.w], dtype: dtype, seed: seed + 1000).permuted([0, 2, 1, 3])
        let view = wide[.all, .all, .all, .range(0, 2 * k.w, step: 2)]
        XCTAssertFalse(view.isContiguous)
        return view
    }

    // MARK: - im2col / col2im

    /// Runs `body` on the best CKernels build of this CPU (AVX-512 here) and on portable C.
    func onEveryKernelBuild(_ body: () -> Void) {
        body()
        CPUConvolution.withPortableKernels(body)
    }

    func testIm2colMatchesReferenceExactly() {
        onEveryKernelBuild(checkIm2col)
    }

    func testCol2imMatchesReferenceExactly() {
        onEveryKernelBuild(checkCol2im)
    }

    func checkIm2col() {
        for dtype in [DType.float32, .float64] {
            for (index, k) in Self.cases.enumerated() {
                for contiguous in [true, false] {
                    let g = k.geometry, x = input(k, dtype: dtype, seed: UInt64(index), contiguous: contiguous)
                    // Both layouts the ops use: plain [N, R, L], and [R, N, L] viewed as [N, R, L].
                    let c = g.columnShape
                    let plain = Tensor(uninitializedShape: c, dtype: dtype)
                    let stacked = Tensor(uninitializedShape: [c[1], c[0], c[2]], dtype: dtype)
                        .viewing(shape: c, strides: [c[2], c[0] * c[2], 1], offset: 0)
                    for (cols, pad) in [(plain, 0.0), (stacked, -1.5)] {
                        Backends.cpu.im2col(x, geometry: g, padValue: pad, into: cols)
                        let ref = Tensor(uninitializedShape: c, dtype: dtype)
                        if dtype == .float32 {
                            CPUBackend.im2colReference(x, g, pad, ref, Float.self)
                        } else {
                            CPUBackend.im2colReference(x, g, pad, ref, Double.self)
                        }
                        assertClose(cols, ref, Tolerance.exact, "case \(index) \(dtype) contiguous=\(contiguous)")
                    }
                }
            }
        }
    }

    /// The shifted-copy im2col where the input's row stride equals out_w but exceeds its width
    /// (a view of the first columns of wider rows): the columns past the width are in memory
    /// but must read as padding.
    func testShiftedIm2colOfNarrowRows() {
        for dtype in [DType.float32, .float64] {
            let x = Tensor.randn([2, 3, 5, 8], dtype: dtype, seed: 31).narrow(dim: 3, start: 1, length: 4)
            let g = WindowGeometry(batch: 2, channels: 3, height: 5, width: 4, kernelH: 3, kernelW: 1,
                                   strideH: 1, strideW: 1, paddingH: 1, paddingW: 2, dilationH: 1, dilationW: 1)
            XCTAssertEqual(g.outW, x.strides[2])
            let cols = Tensor(uninitializedShape: g.columnShape, dtype: dtype), ref = Tensor(uninitializedShape: g.columnShape, dtype: dtype)
            Backends.cpu.im2col(x, geometry: g, padValue: -7, into: cols)
            if dtype == .float32 {
                CPUBackend.im2colReference(x, g, -7, ref, Float.self)
            } else {
                CPUBackend.im2colReference(x, g, -7, ref, Double.self)
            }
            assertClose(cols, ref, Tolerance.exact, "\(dtype)")
        }
    }

    func checkCol2im() {
        for dtype in [DType.float32, .float64] {
            for (index, k) in Self.cases.enumerated() {
                let g = k.geometry, c = g.columnShape
                let plain = Tensor.randn(c, dtype: dtype, seed: UInt64(50 + index))
                let stacked = Tensor.randn([c[1], c[0], c[2]], dtype: dtype, seed: UInt64(80 + index)).permuted([1, 0, 2])
                for cols in [plain, stacked] {
                    let image = Tensor.zeros(g.imageShape, dtype: dtype)
                    Backends.cpu.col2im(cols, geometry: g, into: image)
                    let ref = Tensor.zeros(g.imageShape, dtype: dtype)
                    if dtype == .float32 {
                        CPUBackend.col2imReference(cols, g, ref, Float.self)
                    } else {
                        CPUBackend.col2imReference(cols, g, ref, Double.self)
                    }
                    assertClose(image, ref, Tolerance.exact, "case \(index) \(dtype)")
                }
            }
        }
    }

    // MARK: - Fused convolution

    /// Band sizes to run each case with: one output row per band, a few rows (uneven splits),
    /// and the default.
    static let bandSizes = [1, 5000, CPUConvolution.bandBytes]

    func testFusedForwardMatchesOpByOp() {
        for dtype in [DType.float32, .float64] {
            for (index, k) in Self.cases.enumerated() {
                let g = k.geometry, kg = (k.c / k.groups) * k.kh * k.kw
                let w = Tensor.randn([k.o, k.c / k.groups, k.kh, k.kw], dtype: dtype, seed: UInt64(200 + index))
                let b = Tensor.randn([k.o], dtype: dtype, seed: UInt64(300 + index))
                for contiguous in [true, false] {
                    let x = input(k, dtype: dtype, seed: UInt64(100 + index), contiguous: contiguous)
                    for bias in [b, nil] {
                        let ref = withNoGrad { convolution4D(x, w, bias, geometry: g, groups: k.groups).contiguous() }
                        for bytes in Self.bandSizes {
                            guard let fused = CPUConvolution.forward(x, w, bias, geometry: g, groups: k.groups, bandBytes: bytes) else {
                                return XCTFail("fused forward declined case \(index)")
                            }
                            assertClose(fused, ref, Tolerance.reduction(dtype, terms: kg),
                                        "case \(index) \(dtype) contiguous=\(contiguous) bias=\(bias != nil) band=\(bytes)")
                        }
                    }
                }
            }
        }
    }

    /// The direct kernel against im2col and the GEMM on the windows it takes (the same sums in
    /// another order), with and without bias, on contiguous, strided and broadcast input, and
    /// every height of edge tile (1 to 13 output channels); the same for the input gradient
    /// where its adjoint window takes the kernel. On AVX-512 and, capped there, on AVX2 (tiles
    /// of 32 and of 16 columns). It does not apply to the portable build, to a stride along the
    /// row or to rows that leave more than 1/8 of a tile idle.
    func testDirectKernelMatchesColumns() {
        let best = ckernels_isa()
        let levels = [CKERNELS_ISA_AVX512, CKERNELS_ISA_AVX2].filter { best != CKERNELS_ISA_NEON && $0 <= best }
        for level in levels { CPUConvolution.withKernels(capped: level) { checkDirectKernel() } }
        if levels.isEmpty { checkDirectKernel() }
        var cases = Self.directCases
        cases.append(Case(n: 1, c: 2, h: 3, w: 29, o: 1, kh: 3, kw: 3, padding: (1, 2)))
        for k in cases {
            var window = ckernels_window(geometry: k.geometry, channels: k.c / k.groups)
            CPUConvolution.withPortableKernels { XCTAssertEqual(ckernels_sconv2d_direct_applies(&window), 0) }
        }
        // a stride along the row; out_w 18 and 38 (more than 1/8 of their tiles idle at 16 or 32)
        for k in [Case(n: 1, c: 2, h: 4, w: 64, o: 2, kh: 3, kw: 3, stride: (1, 2)),
                  Case(n: 1, c: 2, h: 4, w: 20, o: 2, kh: 3, kw: 3), Case(n: 1, c: 2, h: 4, w: 40, o: 2, kh: 3, kw: 3)] {
            var window = ckernels_window(geometry: k.geometry, channels: k.c)
            XCTAssertEqual(ckernels_sconv2d_direct_applies(&window), 0)
        }
    }

    /// `testDirectKernelMatchesColumns` at the kernel level in use (the direct kernel runs on
    /// AVX-512 and AVX2 only).
    func checkDirectKernel() {
        let level = ckernels_isa(), simd = level == CKERNELS_ISA_AVX512 || level == CKERNELS_ISA_AVX2
        var cases = Self.directCases, transposedCases = 0
        for o in 1...13 { cases.append(Case(n: 1, c: 2, h: 3, w: 29, o: o, kh: 3, kw: 3, padding: (1, 2))) }
        for (index, k) in cases.enumerated() {
            let g = k.geometry, kg = (k.c / k.groups) * k.kh * k.kw
            var window = ckernels_window(geometry: g, channels: k.c / k.groups)
            XCTAssertEqual(ckernels_sconv2d_direct_applies(&window), simd ? 1 : 0, "case \(index) level \(level)")
            let w = Tensor.randn([k.o, k.c / k.groups, k.kh, k.kw], seed: UInt64(800 + index))
            let b = Tensor.randn([k.o], seed: UInt64(900 + index))
            let inputs = [input(k, dtype: .float32, seed: UInt64(1000 + index), contiguous: true),
                          input(k, dtype: .float32, seed: UInt64(1100 + index), contiguous: false),
                          Tensor.randn([k.n, k.c, k.h, 1], seed: UInt64(1200 + index)).expanded(to: [k.n, k.c, k.h, k.w])]
            for (which, x) in inputs.enumerated() {
                for bias in [b, nil] {
                    guard let direct = CPUConvolution.forward(x, w, bias, geometry: g, groups: k.groups),
                          let columns = CPUConvolution.forward(x, w, bias, geometry: g, groups: k.groups, direct: false) else {
                        return XCTFail("fused forward declined case \(index)")
                    }
                    assertClose(direct, columns, Tolerance.reduction(.float32, terms: kg),
                                "case \(index) level \(level) input \(which) bias=\(bias != nil)")
                }
                // the input gradient, where the adjoint window takes the direct kernel too
                guard var adjoint = CPUConvolution.transposedWindow(g, channels: k.o / k.groups),
                      ckernels_sconv2d_direct_applies(&adjoint) == 1 else { continue }
                transposedCases += 1
                let gy = Tensor.randn([k.n, k.o, g.outH, g.outW], seed: UInt64(1300 + index))
                guard let direct = CPUConvolution.backward(gy, input: x, weight: w, geometry: g, groups: k.groups,
                                                           needs: (true, false, false))?.input,
                      let columns = CPUConvolution.backward(gy, input: x, weight: w, geometry: g, groups: k.groups,
                                                            needs: (true, false, false), direct: false)?.input else {
                    return XCTFail("fused backward declined case \(index)")
                }
                assertClose(direct, columns, Tolerance.reduction(.float32, terms: (k.o / k.groups) * k.kh * k.kw),
                            "input gradient, case \(index) level \(level) input \(which)")
            }
        }
        if simd { XCTAssertGreaterThanOrEqual(transposedCases, 15 * 3, "level \(level)") }
    }

    func testFusedBackwardMatchesOpByOp() throws {
        for dtype in [DType.float32, .float64] {
            for (index, k) in Self.cases.enumerated() {
                let g = k.geometry
                let w = Tensor.randn([k.o, k.c / k.groups, k.kh, k.kw], dtype: dtype, seed: UInt64(400 + index))
                let b = Tensor.randn([k.o], dtype: dtype, seed: UInt64(500 + index))
                let gy = Tensor.randn([k.n, k.o, g.outH, g.outW], dtype: dtype, seed: UInt64(600 + index))
                for contiguous in [true, false] {
                    let x = input(k, dtype: dtype, seed: UInt64(700 + index), contiguous: contiguous)
                    // The op-by-op formulas run when a graph is recorded (createGraph).
                    let (xr, wr, br) = (x.detached(), w.detached(), b.detached())
                    for p in [xr, wr, br] { p.requiresGrad = true }
                    let y = conv2d(xr, weight: wr, bias: br, stride: k.stride, padding: k.padding,
                                   dilation: k.dilation, groups: k.groups)
                    try y.backward(gy, createGraph: true)
                    let refs = [xr.grad!, wr.grad!, br.grad!].map { $0.detached() }
                    let terms = [(k.o / k.groups) * k.kh * k.kw, k.n * g.outH * g.outW, k.n * g.outH * g.outW]
                    for bytes in Self.bandSizes {
                        for needs in [(true, true, true), (true, false, false), (false, true, false), (false, false, true)] {
                            guard let fused = CPUConvolution.backward(gy, input: x, weight: w, geometry: g, groups: k.groups,
                                                                      needs: needs, bandBytes: bytes) else {
                                return XCTFail("fused backward declined case \(index)")
                            }
                            let got = [fused.input, fused.weight, fused.bias]
                            for (slot, wanted) in [needs.0, needs.1, needs.2].enumerated() {
                                let what = "case \(index) \(dtype) contiguous=\(contiguous) band=\(bytes) grad \(slot)"
                                guard wanted else {
                                    XCTAssertNil(got[slot], what)
                                    continue
                                }
                                guard let grad = got[slot] else { return XCTFail("missing: \(what)") }
                                assertClose(grad, refs[slot], Tolerance.reduction(dtype, terms: terms[slot]), what)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Results are the same bits on one thread and on several: bands and runs of images are
    /// fixed by the sizes, not by the pool.
    func testFusedResultsDoNotDependOnThreadCount() {
        let k = Case(n: 11, c: 6, h: 9, w: 8, o: 10, kh: 3, kw: 3, padding: (1, 1), groups: 2)
        let g = k.geometry
        let x = input(k, dtype: .float32, seed: 1, contiguous: false)
        let w = Tensor.randn([k.o, k.c / k.groups, 3, 3], seed: 2), b = Tensor.randn([k.o], seed: 3)
        let gy = Tensor.randn([k.n, k.o, g.outH, g.outW], seed: 4)
        func run(_ bytes: Int) -> [Tensor] {
            guard let y = CPUConvolution.forward(x, w, b, geometry: g, groups: k.groups, bandBytes: bytes),
                  let d = CPUConvolution.backward(gy, input: x, weight: w, geometry: g, groups: k.groups,
                                                  needs: (true, true, true), bandBytes: bytes),
                  let dx = d.input, let dw = d.weight, let db = d.bias else {
                XCTFail("fused path declined")
                return []
            }
            return [y, dx, dw, db]
        }
        for bytes in Self.bandSizes {
            let many = CPUConvolution.withThreads(4) { run(bytes) }, one = CPUConvolution.withThreads(1) { run(bytes) }
            XCTAssertEqual(many.count, 4)
            for (a, e) in zip(many, one) { assertClose(a, e, Tolerance.exact, "band \(bytes)") }
        }
    }

    /// Broadcast (stride-0) inputs: expanded along the batch and along the row.
    func testBroadcastInputs() throws {
        let k = Case(n: 3, c: 4, h: 6, w: 7, o: 5, kh: 3, kw: 3, stride: (1, 2), padding: (1, 1))
        let g = k.geometry
        let inputs = [Tensor.randn([1, k.c, k.h, k.w], seed: 1).expanded(to: [k.n, k.c, k.h, k.w]),
                      Tensor.randn([k.n, k.c, k.h, 1], seed: 2).expanded(to: [k.n, k.c, k.h, k.w])]
        let w = Tensor.randn([k.o, k.c, 3, 3], seed: 3), b = Tensor.randn([k.o], seed: 4)
        let gy = Tensor.randn([k.n, k.o, g.outH, g.outW], seed: 5)
        for x in inputs {
            let cols = Tensor(uninitializedShape: g.columnShape, dtype: .float32)
            let ref = Tensor(uninitializedShape: g.columnShape, dtype: .float32)
            Backends.cpu.im2col(x, geometry: g, padValue: 0, into: cols)
            CPUBackend.im2colReference(x, g, 0, ref, Float.self)
            assertClose(cols, ref, Tolerance.exact)

            let expected = withNoGrad { convolution4D(x, w, b, geometry: g, groups: 1).contiguous() }
            let fused = try XCTUnwrap(CPUConvolution.forward(x, w, b, geometry: g, groups: 1))
            assertClose(fused, expected, Tolerance.reduction(.float32, terms: k.c * 9))

            let (xr, wr) = (x.detached(), w.detached())
            for p in [xr, wr] { p.requiresGrad = true }
            try conv2d(xr, weight: wr, bias: b, stride: k.stride, padding: k.padding).backward(gy, createGraph: true)
            let d = try XCTUnwrap(CPUConvolution.backward(gy, input: x, weight: w, geometry: g, groups: 1, needs: (true, true, false)))
            assertClose(try XCTUnwrap(d.input), xr.grad!.detached(), Tolerance.reduction(.float32, terms: k.o * 9))
            assertClose(try XCTUnwrap(d.weight), wr.grad!.detached(), Tolerance.reduction(.float32, terms: k.n * g.outH * g.outW))
        }
    }

    func testSlotsDependOnSizesOnly() {
        XCTAssertEqual(CPUConvolution.slots(batch: 16, weightBytes: 64 * 288 * 4), 8)
        XCTAssertEqual(CPUConvolution.slots(batch: 3, weightBytes: 64 * 288 * 4), 3)
        XCTAssertEqual(CPUConvolution.slots(batch: 16, weightBytes: 20 << 20), 3)
        XCTAssertEqual(CPUConvolution.slots(batch: 16, weightBytes: 100 << 20), 1)
    }

    /// The public ops take the fused path without a recorded graph: forward and all three
    /// gradients agree with the op-by-op path, also for conv1d and unbatched input.
    func testConvOpsAgreeWithAndWithoutGraph() throws {
        let x = Tensor.randn([3, 4, 6, 5], seed: 1), w = Tensor.randn([6, 2, 3, 3], seed: 2), b = Tensor.randn([6], seed: 3)
        let gy = Tensor.randn([3, 6, 3, 5], seed: 4)
        var grads: [[Tensor]] = []
        for createGraph in [false, true] {
            let (xl, wl, bl) = (x.detached(), w.detached(), b.detached())
            for p in [xl, wl, bl] { p.requiresGrad = true }
            let y = conv2d(xl, weight: wl, bias: bl, stride: (2, 1), padding: (1, 1), groups: 2)
            try y.backward(gy, createGraph: createGraph)
            grads.append([y.detached(), xl.grad!.detached(), wl.grad!.detached(), bl.grad!.detached()])
        }
        for (fast, ref) in zip(grads[0], grads[1]) { assertClose(fast, ref, Tolerance.reduction(.float32, terms: 64)) }

        let x1 = Tensor.randn([5, 9], seed: 5), w1 = Tensor.randn([4, 5, 3], seed: 6)
        let y1 = conv1d(x1, weight: w1, padding: 1)
        let ref1 = conv1d(x1.unsqueezed(dim: 0).unsqueezed(dim: 2).squeezed(dim: 2), weight: w1, padding: 1).squeezed(dim: 0)
        let op = withNoGrad {
            convolution4D(x1.reshaped([1, 5, 1, 9]), w1.reshaped([4, 5, 1, 3]), nil,
                          geometry: WindowGeometry(batch: 1, channels: 5, height: 1, width: 9, kernelH: 1, kernelW: 3,
                                                   strideH: 1, strideW: 1, paddingH: 0, paddingW: 1, dilationH: 1, dilationW: 1),
                          groups: 1).reshaped([4, 9])
        }
        XCTAssertEqual(y1.shape, [4, 9])
        assertClose(y1, op, Tolerance.reduction(.float32, terms: 15))
        assertClose(ref1, y1, Tolerance.exact)
    }
}
