import XCTest
@testable import Autograd

/// The native CUDA indexing and scan kernels against the CPU backend: odd shapes,
/// transposed and sliced operands, negative dims, repeated indices, int32 and int64 indices,
/// and the device-side index errors. Skips where CUDA is unavailable (runs on
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
    func smallIntegers(_ shape: [Int], _ dtype: DType, seed: UInt64) -> Tensor {
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
    func permutedView(_ x: Tensor, _ device: Device) -> Tensor {
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

    func testGatherAndScatterAddOverMoreDimsThanTheKernelLayoutHolds() throws {
        // 12 dims of 2 that do not coalesce (x read through pairwise-swapped dims): the host
        // splits the layout into slices of at most maxDims dims.
        let shape = [Int](repeating: 2, count: 12)
        let order = [1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10]
        let x = smallIntegers(shape, .float32, seed: 45)
        let index = Tensor.randint(0, 2, shape, seed: 46)
        let xg = x.to(device: .cuda).permuted(order), indexG = index.to(device: .cuda)
        assertClose(xg.gather(dim: 3, index: indexG).cpu(), x.permuted(order).gather(dim: 3, index: index), Tolerance.exact,
                    "gather over 12 dims")
        assertClose(xg.scatterAdd(dim: -1, index: indexG, source: xg).cpu(),
                    x.permuted(order).scatterAdd(dim: -1, index: index, source: x.permuted(order)), Tolerance.exact,
                    "scatterAdd over 12 dims")
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
}
