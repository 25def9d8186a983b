import XCTest
@testable import Autograd

/// The native CUDA im2col/col2im and row kernels against the CPU backend, directly and
/// through convolution, pooling and embedding forward and backward. Skips where CUDA is
/// unavailable (runs on the CUDA emulator in CI).
extension CUDABackendTests {
    // MARK: - Windows

    func testIm2colAndCol2imMatchTheCPUOnViews() throws {
        let g = WindowGeometry(batch: 2, channels: 3, height: 7, width: 6, kernelH: 3, kernelW: 2, strideH: 2, strideW: 1,
                               paddingH: 1, paddingW: 1, dilationH: 2, dilationW: 1)
        let l = g.outH * g.outW, rows = g.channels * g.kernelH * g.kernelW
        // Columns as a view: rows padded by 3 elements, starting at element 1.
        func columns(_ t: Tensor) -> Tensor {
            t.viewing(shape: g.columnShape, strides: [rows * (l + 3), l + 3, 1], offset: 1)
        }
        for dtype in [DType.float32, .float64] {
            let x = values([2, 3, 7, 6], dtype, seed: 90)
            for pad in [0, -Double.infinity] {
                let cpuCols = Tensor.zeros([2 * rows * (l + 3) + 1], dtype: dtype)
                Backends.cpu.im2col(x, geometry: g, padValue: pad, into: columns(cpuCols))
                let gpuCols = Tensor.zeros([2 * rows * (l + 3) + 1], dtype: dtype, device: .cuda)
                gpu.im2col(permutedView(x, .cuda), geometry: g, padValue: pad, into: columns(gpuCols))
                assertClose(gpuCols.cpu(), cpuCols, Tolerance.exact, "im2col \(dtype) pad \(pad)")
            }
            let cols = values([2 * rows * (l + 3) + 1], dtype, seed: 91)
            let cpuImage = Tensor.zeros(g.imageShape, dtype: dtype)
            Backends.cpu.col2im(columns(cols), geometry: g, into: cpuImage)
            let gpuImage = Tensor.zeros(g.imageShape, dtype: dtype, device: .cuda)
            gpu.col2im(columns(cols.to(device: .cuda)), geometry: g, into: gpuImage)
            assertClose(gpuImage.cpu(), cpuImage, Tolerance.exact, "col2im \(dtype)")
        }
    }

    func testConvolutionForwardAndBackwardMatchTheCPU() throws {
        struct Case { let stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int), groups: Int }
        let cases = [Case(stride: (1, 1), padding: (0, 0), dilation: (1, 1), groups: 1),
                     Case(stride: (2, 1), padding: (1, 2), dilation: (1, 2), groups: 1),
                     Case(stride: (1, 2), padding: (1, 1), dilation: (2, 1), groups: 3)]
        for dtype in [DType.float32, .float64] {
            for c in cases {
                let x = values([2, 6, 7, 9], dtype, seed: 92).requiringGrad()
                let w = values([9, 6 / c.groups, 3, 2], dtype, seed: 93, scale: 0.5).requiringGrad()
                let b = values([9], dtype, seed: 94).requiringGrad()
                let xg = permutedView(x.detached(), .cuda).requiringGrad()
                let wg = w.detached().to(device: .cuda).requiringGrad()
                let bg = b.detached().to(device: .cuda).requiringGrad()
                let y = conv2d(x, weight: w, bias: b, stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups)
                let yg = conv2d(xg, weight: wg, bias: bg, stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups)
                let label = "conv2d \(dtype) stride \(c.stride) padding \(c.padding) dilation \(c.dilation) groups \(c.groups)"
                assertClose(yg.cpu(), y, Tolerance.reduction(dtype, terms: 36), label)
                let cotangent = values(y.shape, dtype, seed: 95)
                try (y * cotangent).sum().backward()
                try (yg * cotangent.to(device: .cuda)).sum().backward()
                for (name, cpu, cuda) in [("x", x, xg), ("w", w, wg), ("b", b, bg)] {
                    assertClose(try XCTUnwrap(cuda.grad).cpu(), try XCTUnwrap(cpu.grad), Tolerance.reduction(dtype, terms: 200),
                                "\(label) grad \(name)")
                }
            }
        }
        // conv1d.
        let x = values([3, 4, 11], .float32, seed: 96), w = values([6, 2, 3], .float32, seed: 97)
        assertClose(conv1d(x.to(device: .cuda), weight: w.to(device: .cuda), stride: 2, padding: 1, dilation: 2, groups: 2).cpu(),
                    conv1d(x, weight: w, stride: 2, padding: 1, dilation: 2, groups: 2), Tolerance.reduction(.float32, terms: 6))
    }

    func testPoolingForwardAndBackwardMatchTheCPU() throws {
        for dtype in [DType.float32, .float64] {
            let x = values([2, 3, 9, 8], dtype, seed: 98).requiringGrad()
            let xg = permutedView(x.detached(), .cuda).requiringGrad()
            let pools: [(String, (Tensor) -> Tensor)] = [
                ("maxPool2d", { maxPool2d($0, kernelSize: (3, 2), stride: (2, 2), padding: (1, 1), dilation: (2, 1)) }),
                ("avgPool2d", { avgPool2d($0, kernelSize: (3, 3), stride: (2, 1), padding: (1, 1), countIncludePad: false) }),
                ("maxPool1d", { maxPool1d($0.reshaped([6, 9, 8]), kernelSize: 3, stride: 2, padding: 1) }),
                ("avgPool1d", { avgPool1d($0.reshaped([6, 9, 8]), kernelSize: 2) }),
            ]
            for (label, f) in pools {
                x.grad = nil
                xg.grad = nil
                let y = f(x), yg = f(xg)
                assertClose(yg.cpu(), y, Tolerance.cudaVersusCPU, "\(label) \(dtype)")
                let cotangent = values(y.shape, dtype, seed: 99)
                try (y * cotangent).sum().backward()
                try (yg * cotangent.to(device: .cuda)).sum().backward()
                assertClose(try XCTUnwrap(xg.grad).cpu(), try XCTUnwrap(x.grad), Tolerance.cudaVersusCPU, "\(label) \(dtype) grad")
            }
            let (v, i) = maxPool2dWithIndices(x.detached(), kernelSize: (2, 3), stride: (2, 2))
            let (vg, ig) = maxPool2dWithIndices(xg.detached(), kernelSize: (2, 3), stride: (2, 2))
            assertClose(vg.cpu(), v, Tolerance.exact, "maxPool2dWithIndices values \(dtype)")
            assertClose(ig.cpu(), i, Tolerance.exact, "maxPool2dWithIndices indices \(dtype)")
        }
    }

    // MARK: - Rows (embedding)

    func testEmbeddingForwardAndBackwardMatchTheCPU() throws {
        for dtype in [DType.float32, .float64] {
            let weight = values([7, 5], dtype, seed: 100).requiringGrad()
            let weightG = weight.detached().to(device: .cuda).requiringGrad()
            let indices = Tensor([[1, 6, 1], [0, 3, 1], [6, 6, 2]])   // repeats
            for padding in [nil, 6] as [Int?] {
                weight.grad = nil
                weightG.grad = nil
                let y = embedding(indices, weight: weight, paddingIndex: padding)
                let yg = embedding(indices.to(device: .cuda), weight: weightG, paddingIndex: padding)
                assertClose(yg.cpu(), y, Tolerance.exact, "embedding \(dtype) padding \(String(describing: padding))")
                let cotangent = values(y.shape, dtype, seed: 101)
                try (y * cotangent).sum().backward()
                try (yg * cotangent.to(device: .cuda)).sum().backward()
                assertClose(try XCTUnwrap(weightG.grad).cpu(), try XCTUnwrap(weight.grad), Tolerance.cudaVersusCPU,
                            "embedding backward \(dtype) padding \(String(describing: padding))")
            }
        }
        // Every element size, int32 indices, straight to the backend.
        for dtype in [DType.int8, .float16, .int32, .int64] {
            let source = smallIntegers([6, 3], dtype, seed: 102)
            let indices = Tensor([5, 0, 5, 2])
            let cpuOut = Tensor.zeros([4, 3], dtype: dtype), gpuOut = Tensor.zeros([4, 3], dtype: dtype, device: .cuda)
            Backends.cpu.gatherRows(source, indices: indices, into: cpuOut)
            gpu.gatherRows(source.to(device: .cuda), indices: indices.convertedWithoutGrad(to: .int32).to(device: .cuda), into: gpuOut)
            assertClose(gpuOut.cpu(), cpuOut, Tolerance.exact, "gatherRows \(dtype)")
        }
    }
}
