import XCTest
@testable import Autograd

/// The native CUDA indexing, scan, window, row and random kernels against the CPU backend:
/// odd shapes, transposed and sliced operands, negative dims, repeated indices, int32 and
/// int64 indices, and the device-side index errors. Skips where CUDA is unavailable (runs on
/// the CUDA emulator in CI).
extension CUDABackendTests {
    /// A tensor of `shape` with int64 values in `0..<bound`, made as the transpose of a
    /// contiguous `[reversed shape]` tensor, so that it is not contiguous.
    private func strideIndex(_ shape: [Int], below bound: Int, seed: UInt64) -> Tensor {
        let rank = shape.count
        let order = Array((0..<rank).reversed())
        return Tensor.randint(0, bound, order.map { shape[$0] }, seed: seed).permuted(order)
    }

    /// Integer-valued samples in `-5...5` (`0...5` for unsigned, 0/1 for bool) as `dtype`, so
    /// that sums are exact in any order.
    private func smallIntegers(_ shape: [Int], _ dtype: DType, seed: UInt64) -> Tensor {
        let low = dtype == .uint8 ? 0 : -5
        let high = dtype == .bool ? 2 : 6
        return Tensor.randint(dtype == .bool ? 0 : low, high, shape, seed: seed).convertedWithoutGrad(to: dtype)
    }

    /// An int64 index of `shape` whose values along `dim` are distinct within each line:
    /// `(i + shift) mod size` with a shift that varies from line to line.
    private func distinctIndex(_ shape: [Int], dim: Int, size: Int) -> Tensor {
        let strides = Shape.contiguousStrides(shape)
        let scalars = (0..<Shape.count(shape)).map { flat -> Int64 in
            let position = (0..<shape.count).map { (flat / strides[$0]) % shape[$0] }
            let shift = position.enumerated().reduce(0) { $0 + ($1.offset == dim ? 0 : (3 * $1.offset + 1) * $1.element) }
            return Int64((position[dim] + shift) % size)
        }
        return Tensor.fromScalars(shape: shape, scalars: scalars, dtype: .int64)
    }

    /// `x` of `shape` on `device`, as a permuted view of a contiguous tensor there.
    private func permutedView(_ x: Tensor, _ device: Device) -> Tensor {
        let rank = x.rank
        let order = Array((0..<rank).reversed())
        return x.permuted(order).contiguous().to(device: device).permuted(order)
    }

    // MARK: - gather / scatter

    func testGatherMatchesTheCPU() throws {
        for dtype in [DType.float32, .float64, .int64, .int16, .uint8, .bool, .float16] {
            let x = smallIntegers([8, 7, 6], dtype, seed: 40)
            for dim in [0, 1, -1] {
                let d = (dim + 3) % 3
                let index = strideIndex([5, 6, 4], below: x.shape[d], seed: 41 + UInt64(d))
                let expected = x.gather(dim: dim, index: index)
                let xg = permutedView(x, .cuda)
                XCTAssertFalse(xg.isContiguous)
                let actual = xg.gather(dim: dim, index: index.to(device: .cuda).permuted([0, 1, 2]))
                assertClose(actual.cpu(), expected, Tolerance.exact, "gather \(dtype) dim \(dim)")
                // int32 indices and a transposed output, straight to the backend.
                let out = Tensor.zeros([4, 6, 5], dtype: dtype, device: .cuda).permuted([2, 1, 0])
                gpu.gather(xg, dim: d, index: index.convertedWithoutGrad(to: .int32).to(device: .cuda), into: out)
                assertClose(out.cpu(), expected, Tolerance.exact, "gather int32 \(dtype) dim \(dim)")
            }
        }
    }

    func testScatterWithDistinctIndicesMatchesTheCPU() throws {
        let shape = [6, 5, 7], indexShape = [4, 5, 6]
        for dtype in [DType.float32, .float64, .int32, .int8, .bool, .bfloat16] {
            let target = smallIntegers(shape, dtype, seed: 50)
            let source = smallIntegers([7, 6, 5], dtype, seed: 51).permuted([2, 1, 0])
            for dim in [0, 1, -1] {
                let d = (dim + 3) % 3
                let index = distinctIndex(indexShape, dim: d, size: shape[d])
                let expected = target.scatter(dim: dim, index: index, source: source)
                let actual = permutedView(target, .cuda).scatter(dim: dim, index: index.to(device: .cuda),
                                                                 source: permutedView(source, .cuda))
                assertClose(actual.cpu(), expected, Tolerance.exact, "scatter \(dtype) dim \(dim)")
            }
        }
    }

    func testScatterAddWithRepeatedIndicesMatchesTheCPU() throws {
        let shape = [6, 5, 7]
        for dtype in [DType.float32, .float64, .float16, .bfloat16, .int64, .int32, .int16, .int8, .uint8, .bool] {
            let target = smallIntegers(shape, dtype, seed: 60)
            let source = smallIntegers([7, 6, 5], dtype, seed: 61).permuted([2, 1, 0])
            for dim in [0, 2, -2] {
                let d = (dim + 3) % 3
                // Three choices for up to seven slots: every line repeats indices.
                let index = strideIndex([5, 5, 7], below: min(3, shape[d]), seed: 62)
                let expected = target.scatterAdd(dim: dim, index: index, source: source)
                let actual = permutedView(target, .cuda).scatterAdd(dim: dim, index: index.to(device: .cuda),
                                                                    source: permutedView(source, .cuda))
                assertClose(actual.cpu(), expected, Tolerance.exact, "scatterAdd \(dtype) dim \(dim)")
                // In place into a transposed target, int32 indices.
                let cpuTarget = target.clone()
                Backends.cpu.scatter(source, dim: d, index: index, into: cpuTarget, accumulate: true)
                let gpuTarget = permutedView(target, .cuda)
                gpu.scatter(permutedView(source, .cuda), dim: d, index: index.convertedWithoutGrad(to: .int32).to(device: .cuda),
                            into: gpuTarget, accumulate: true)
                assertClose(gpuTarget.cpu(), cpuTarget, Tolerance.exact, "scatterAdd in place \(dtype) dim \(dim)")
            }
        }
    }

    func testGatherBackwardIsScatterAdd() throws {
        let x = values([5, 7], .float64, seed: 63).requiringGrad()
        let index = Tensor.randint(0, 7, [5, 9], seed: 64)
        let xg = x.detached().to(device: .cuda).requiringGrad()
        try (x.gather(dim: 1, index: index) * 2).sum().backward()
        try (xg.gather(dim: 1, index: index.to(device: .cuda)) * 2).sum().backward()
        assertClose(try XCTUnwrap(xg.grad).cpu(), try XCTUnwrap(x.grad), Tolerance.cudaVersusCPU)
    }

    // MARK: - Advanced indexing (take / put)

    func testAdvancedIndexingMatchesTheCPU() throws {
        for dtype in [DType.float32, .float64, .int64, .float16, .int8] {
            let x = smallIntegers([6, 5, 7], dtype, seed: 70)
            let xg = permutedView(x, .cuda)
            let rows = Tensor([4, 0, 4, -1, 2]), cols = Tensor([[1, -2, 3, 0, 1]])
            let cases: [(String, (Tensor, Device) -> Tensor)] = [
                ("indexSelect", { t, device in t.indexSelect(dim: 1, index: Tensor([4, 0, 4, 2]).to(device: device)) }),
                ("subscript", { t, device in t[rows.to(device: device)] }),
                ("two dims", { t, device in t[rows.to(device: device), cols.to(device: device)] }),
                ("non-adjacent", { t, device in t.indexPut([rows.to(device: device)], values: Tensor.ones([], dtype: dtype, device: device)) }),
                ("put accumulate", { t, device in
                    t.indexPut([rows.to(device: device), Tensor([0, 1, 0, 1, 0]).to(device: device)],
                               values: Tensor.ones([7], dtype: dtype, device: device), accumulate: true)
                }),
                ("indexAdd", { t, device in
                    t.indexAdd(dim: 2, index: Tensor([6, 0, 6, 6]).to(device: device),
                               source: Tensor.ones([6, 5, 4], dtype: dtype, device: device))
                }),
            ]
            for (label, f) in cases {
                assertClose(f(xg, .cuda).cpu(), f(x, .cpu), Tolerance.exact, "\(label) \(dtype)")
            }
        }
    }

    func testTakeAndPutWithInt32OffsetsIntoViews() throws {
        let base = values([9, 8], .float32, seed: 71)
        let offsets = Tensor(shape: [2, 3], scalars: [Int64](arrayLiteral: 0, 9, 18, 19, 9, 3))
        // base viewed as columns 1..<5 of every other row: shape [4, 4], strides [16, 1], offset 1.
        func view(_ t: Tensor) -> Tensor { t.viewing(shape: [4, 4], strides: [16, 1], offset: 1) }
        let cpuOut = Tensor.zeros([2, 3, 4, 4])
        Backends.cpu.take(view(base), offsets: offsets, into: cpuOut)
        let gpuOut = Tensor.zeros([4, 4, 3, 2], device: .cuda).permuted([3, 2, 1, 0])
        gpu.take(view(base.to(device: .cuda)), offsets: offsets.convertedWithoutGrad(to: .int32).to(device: .cuda), into: gpuOut)
        assertClose(gpuOut.cpu(), cpuOut, Tolerance.exact, "take")
        // put with overlapping windows (offsets 8 twice, 19 − 3 = 16 a row apart), accumulating;
        // and without overlaps, not accumulating.
        let overlapping = Tensor(shape: [2, 2], scalars: [Int64](arrayLiteral: 8, 19, 8, 3))
        let distinct = Tensor(shape: [2, 2], scalars: [Int64](arrayLiteral: 0, 4, 8, 12))
        for (accumulate, offsets) in [(true, overlapping), (false, distinct)] {
            let values = self.values([2, 2, 4, 4], .float32, seed: 72)
            let cpuBase = base.clone(), gpuBase = base.to(device: .cuda)
            Backends.cpu.put(values, offsets: offsets, into: view(cpuBase), accumulate: accumulate)
            gpu.put(permutedView(values, .cuda), offsets: offsets.to(device: .cuda), into: view(gpuBase), accumulate: accumulate)
            assertClose(gpuBase.cpu(), cpuBase, Tolerance.cudaVersusCPU, "put accumulate \(accumulate)")
        }
    }

    // MARK: - Index errors

    func testOutOfRangeIndicesReportTheCPUsMessage() throws {
        let x = Tensor.zeros([3, 4], device: .cuda)
        for indexType in [DType.int64, .int32] {
            for bad in [5, -1] {
                let index = Tensor([[0, bad, 1]]).convertedWithoutGrad(to: indexType).to(device: .cuda)
                let out = Tensor.zeros([1, 3], device: .cuda)
                let cpuMessage: String
                do {
                    _ = try x.cpu().validateGatherScatter(dim: 1, index: Tensor([[0, bad, 1]]), source: nil, op: "gather")
                    return XCTFail("the CPU validator accepted index \(bad)")
                } catch {
                    cpuMessage = error.message
                }
                XCTAssertThrowsError(try gpu.gatherChecked(x, dim: 1, index: index, into: out)) { error in
                    XCTAssertEqual((error as? ShapeError)?.message, cpuMessage)
                }
                XCTAssertThrowsError(try gpu.scatterChecked(out, dim: 1, index: index, into: x, accumulate: true)) { error in
                    XCTAssertEqual((error as? ShapeError)?.message,
                                   "scatter_add: index \(bad) is out of bounds for dimension 1 with size 4")
                }
            }
            let rows = Tensor([1, 7]).convertedWithoutGrad(to: indexType).to(device: .cuda)
            XCTAssertThrowsError(try gpu.gatherRowsChecked(Tensor.zeros([5, 2], device: .cuda), indices: rows,
                                                           into: Tensor.zeros([2, 2], device: .cuda))) { error in
                XCTAssertEqual((error as? ShapeError)?.message, "embedding: index 7 is out of range for 5 embeddings")
            }
            XCTAssertThrowsError(try gpu.scatterAddRowsChecked(Tensor.zeros([2, 2], device: .cuda), indices: rows,
                                                               into: Tensor.zeros([5, 2], device: .cuda))) { error in
                XCTAssertEqual((error as? ShapeError)?.message, "embedding: index 7 is out of range for 5 embeddings")
            }
            let offsets = Tensor([0, 12]).convertedWithoutGrad(to: indexType).to(device: .cuda)
            let base = x.viewing(shape: [], strides: [], offset: 0)
            XCTAssertThrowsError(try gpu.takeChecked(base, offsets: offsets, into: Tensor.zeros([2], device: .cuda))) { error in
                XCTAssertEqual((error as? ShapeError)?.message, "index: element offset 12 is out of bounds for a storage of 12 elements")
            }
            XCTAssertThrowsError(try gpu.putChecked(Tensor.ones([2], device: .cuda), offsets: offsets, into: base,
                                                    accumulate: false)) { error in
                XCTAssertEqual((error as? ShapeError)?.message,
                               "index_put: element offset 12 is out of bounds for a storage of 12 elements")
            }
        }
        // The faulty launches skipped only the bad accesses (put wrote its valid element 0),
        // and the device still works.
        XCTAssertEqual(x.cpu().scalars(as: Float.self), [1] + [Float](repeating: 0, count: 11))
        let good = Tensor([[3, 0]]).to(device: .cuda)
        XCTAssertEqual(Tensor.arange(12, device: .cuda).reshaped([3, 4]).gather(dim: 1, index: good).cpu().scalars(as: Int.self), [3, 0])
    }

    // MARK: - Scans

    func testCumsumAndCumprodMatchTheCPU() throws {
        for dtype in [DType.float32, .float64, .float16, .int64, .int32, .uint8, .bool] {
            let x = dtype.isFloatingPoint ? values([5, 7, 3], .float64, seed: 80, scale: 0.4, shift: 1).convertedWithoutGrad(to: dtype)
                                          : smallIntegers([5, 7, 3], dtype, seed: 81)
            let xg = permutedView(x, .cuda)
            for dim in [0, 1, 2, -1] {
                for (label, f) in [("cumsum", { (t: Tensor) in t.cumsum(dim: dim) }), ("cumprod", { (t: Tensor) in t.cumprod(dim: dim) })] {
                    let expected = f(x), actual = f(xg)
                    XCTAssertEqual(actual.dtype, expected.dtype)
                    let tol = dtype.isFloatingPoint ? Tolerance.cudaVersusCPU : Tolerance.exact
                    assertClose(actual.cpu(), expected, tol, "\(label) \(dtype) dim \(dim)")
                }
            }
        }
        // A long line, and an output view.
        let long = values([3001], .float32, seed: 82)
        assertClose(long.to(device: .cuda).cumsum(dim: 0).cpu(), long.cumsum(dim: 0), Tolerance.cudaVersusCPU, "long line")
        let x = values([4, 6], .float64, seed: 83)
        let cpuOut = Tensor.zeros([4, 6], dtype: .float64)
        Backends.cpu.scan(.prod, x, dim: 0, into: cpuOut)
        let gpuOut = Tensor.zeros([6, 4], dtype: .float64, device: .cuda).transposed(0, 1)
        gpu.scan(.prod, x.to(device: .cuda), dim: 0, into: gpuOut)
        assertClose(gpuOut.cpu(), cpuOut, Tolerance.float64, "cumprod into a transposed view")
    }

    func testLongScansRunABlockPerLine() throws {
        // Lines of 700 and 4500 elements (one and three tiles of 2048), contiguous or few.
        for dtype in [DType.float32, .float64, .int64, .int32, .uint8, .bool] {
            for (shape, dim) in [([3, 700], 1), ([700, 3], 0), ([2, 4500], -1)] {
                let x = dtype.isFloatingPoint
                    ? values(shape, .float64, seed: 85, scale: 0.02, shift: 1).convertedWithoutGrad(to: dtype)
                    : smallIntegers(shape, dtype, seed: 86)
                let others = shape.indices.filter { $0 != (dim + shape.count) % shape.count }.map { x.strides[$0] }
                XCTAssertTrue(CUDAScanPlan.usesBlocks(lines: x.count / shape[(dim + 2) % 2], length: shape[(dim + 2) % 2],
                                                      lineStride: x.strides[(dim + 2) % 2], otherStrides: others,
                                                      multiprocessors: gpu.multiprocessorCount))
                let xg = x.to(device: .cuda)
                let tol = dtype.isFloatingPoint ? Tolerance.cudaVersusCPU : Tolerance.exact
                assertClose(xg.cumsum(dim: dim).cpu(), x.cumsum(dim: dim), tol, "block cumsum \(dtype) \(shape)")
                assertClose(xg.cumprod(dim: dim).cpu(), x.cumprod(dim: dim), tol, "block cumprod \(dtype) \(shape)")
            }
        }
    }

    func testCumsumAndCumprodGradientsMatchTheCPU() throws {
        let x = values([4, 5], .float64, seed: 84, scale: 0.5, shift: 1).requiringGrad()
        let xg = x.detached().to(device: .cuda).requiringGrad()
        try (x.cumsum(dim: 1) * x.cumprod(dim: 0)).sum().backward()
        try (xg.cumsum(dim: 1) * xg.cumprod(dim: 0)).sum().backward()
        assertClose(try XCTUnwrap(xg.grad).cpu(), try XCTUnwrap(x.grad), Tolerance.cudaVersusCPU)
    }

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

    // MARK: - Random numbers

    func testPhiloxMatchesTheRandom123KnownAnswer() throws {
        // Random123's kat_vectors: philox4x32-10 of counter (0, 0, 0, 0) under key (0, 0) is
        // 6627e8d5 e169c58d bc57ac4c 9b00dbd8. A fresh generator of seed 0 makes its first
        // device draw at offset 0, so elements 0..<4 use exactly that block.
        let words: [UInt32] = [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]
        let u = Tensor.rand([4], generator: Generator(seed: 0), device: .cuda).cpu().scalars(as: Float.self)
        XCTAssertEqual(u, words.map { Float($0 >> 8) * 0x1p-24 })
        let d = Tensor.rand([2], dtype: .float64, generator: Generator(seed: 0), device: .cuda).cpu().scalars(as: Double.self)
        XCTAssertEqual(d, [Double((UInt64(words[0]) << 32 | UInt64(words[1])) >> 11) * 0x1p-53,
                           Double((UInt64(words[2]) << 32 | UInt64(words[3])) >> 11) * 0x1p-53])
    }

    func testRandomNumbersAreDeterministicPerSeed() throws {
        for dtype in [DType.float32, .float64, .float16] {
            let a = Tensor.randn([3, 333], dtype: dtype, seed: 7, device: .cuda).cpu()
            let b = Tensor.randn([3, 333], dtype: dtype, seed: 7, device: .cuda).cpu()
            let c = Tensor.randn([3, 333], dtype: dtype, seed: 8, device: .cuda).cpu()
            XCTAssertEqual(a.dtype, dtype)
            assertClose(b, a, Tolerance.exact, "same seed \(dtype)")
            XCTAssertNotEqual(a.scalars(as: Double.self), c.scalars(as: Double.self), "different seeds \(dtype)")
            // Successive draws of one generator differ; reseeding replays them.
            let g = Generator(seed: 9)
            let first = Tensor.rand([101], dtype: dtype, generator: g, device: .cuda).cpu()
            let second = Tensor.rand([101], dtype: dtype, generator: g, device: .cuda).cpu()
            XCTAssertNotEqual(first.scalars(as: Double.self), second.scalars(as: Double.self))
            g.manualSeed(9)
            assertClose(Tensor.rand([101], dtype: dtype, generator: g, device: .cuda).cpu(), first, Tolerance.exact)
            // A prefix of a longer draw is the shorter draw (results depend on the element, not the launch).
            let long = Tensor.randn([5000], dtype: dtype, seed: 7, device: .cuda).cpu()
            XCTAssertEqual(Array(long.scalars(as: Double.self).prefix(999)), a.scalars(as: Double.self))
        }
    }

    func testRandomMomentsAndMasks() throws {
        let n = 100_000
        for dtype in [DType.float32, .float64] {
            let u = Tensor.rand([n], dtype: dtype, seed: 11, device: .cuda).to(.float64)
            let z = Tensor.randn([n], dtype: dtype, seed: 12, device: .cuda).to(.float64)
            XCTAssertEqual(u.mean().item(), 0.5, accuracy: 0.01, "uniform mean \(dtype)")
            XCTAssertEqual(((u - 0.5) * (u - 0.5)).mean().item(), 1.0 / 12, accuracy: 0.005, "uniform variance \(dtype)")
            XCTAssertGreaterThanOrEqual(u.min().item(), 0)
            XCTAssertLessThan(u.max().item(), 1)
            XCTAssertEqual(z.mean().item(), 0, accuracy: 0.02, "normal mean \(dtype)")
            XCTAssertEqual((z * z).mean().item(), 1, accuracy: 0.03, "normal variance \(dtype)")
            XCTAssertTrue(z.isFinite().all().item() != 0)
        }
        let ints = Tensor.randint(-3, 4, [20_000], seed: 16, device: .cuda)
        XCTAssertEqual(ints.device, .cuda)
        XCTAssertEqual(Set(ints.cpu().scalars(as: Int.self)), Set(-3..<4))
        XCTAssertEqual(ints.to(.float64).mean().item(), 0, accuracy: 0.06)
        assertClose(Tensor.randint(-3, 4, [20_000], seed: 16, device: .cuda).cpu(), ints.cpu(), Tolerance.exact, "randint per seed")
        XCTAssertEqual(Tensor.randint(5, [7], dtype: .int8, seed: 17, device: .cuda).dtype, .int8)
        // The full int64 range (the range wraps to 2^64 - 1 as on the CPU).
        XCTAssertEqual(Tensor.randint(Int.min, Int.max, [64], seed: 18, device: .cuda).cpu().count, 64)
        let mask = Tensor.bernoulli([n], p: 0.3, seed: 13, device: .cuda)
        XCTAssertEqual(mask.device, .cuda)
        XCTAssertEqual(mask.mean().item(), 0.3, accuracy: 0.01)
        XCTAssertEqual(Set(mask.cpu().scalars(as: Double.self)), [0, 1])
        let probabilities = Tensor(shape: [2, 3], scalars: [0.0, 1, 0, 1, 1, 0], dtype: .float64).to(device: .cuda)
        XCTAssertEqual(Tensor.bernoulli(probabilities, seed: 14).cpu().scalars(as: Double.self), [0, 1, 0, 1, 1, 0])
        let ones = Tensor.ones([n], device: .cuda)
        let dropped = dropout(ones, p: 0.25, generator: Generator(seed: 15))
        XCTAssertEqual(dropped.device, .cuda)
        let kept = dropped.cpu().scalars(as: Float.self)
        XCTAssertEqual(Set(kept), [0, Float(1 / 0.75)])
        XCTAssertEqual(Double(kept.filter { $0 == 0 }.count) / Double(n), 0.25, accuracy: 0.01)
    }
}
