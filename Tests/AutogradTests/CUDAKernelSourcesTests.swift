import Dispatch
import Foundation
import XCTest
@testable import Autograd

/// Every kernel source compiles with NVRTC for sm_80 and sm_90 (wherever libnvrtc loads, GPU
/// or not), and every kernel the backend launches is defined.
final class CUDAKernelSourcesTests: XCTestCase {
    func testEveryKernelSourceCompilesForSM80AndSM90() throws {
        try requireCUDALibrary(.nvrtc)
        let jobs = CUDAKernelSources.all.keys.sorted().flatMap { module in [80, 90].map { (module, $0) } }
        let results = CompileResults()
        DispatchQueue.concurrentPerform(iterations: jobs.count) { index in
            let (module, arch) = jobs[index]
            do {
                let binary = try CUDAKernelCompiler.compileOnly(source: CUDAKernelSources.source(module: module),
                                                                name: module, arch: arch)
                // A CUBIN's symbol table names every kernel it defines.
                let image = String(decoding: binary.bytes.map { $0 == 0 ? 10 : $0 }, as: UTF8.self)
                let symbols = Set(image.split(separator: "\n").map(String.init))
                let names = CUDAKernelSources.kernelNames(module: module)
                let missing = names.filter { !symbols.contains($0) }
                results.lock.withLock {
                    results.compiled[arch, default: 0] += 1
                    results.kernels[arch, default: 0] += names.count
                    if !missing.isEmpty { results.failures.append("\(module) sm_\(arch) lacks \(missing)") }
                }
            } catch {
                results.lock.withLock { results.failures.append("\(module) sm_\(arch): \(error)") }
            }
        }
        let (failures, compiled, kernels) = results.lock.withLock { (results.failures, results.compiled, results.kernels) }
        XCTAssertEqual(failures, [], failures.joined(separator: "\n\n"))
        XCTAssertEqual(compiled[80], CUDAKernelSources.all.count)
        XCTAssertEqual(compiled[90], CUDAKernelSources.all.count)
        print("NVRTC compiled \(compiled[80] ?? 0) modules (\(kernels[80] ?? 0) kernels) for sm_80 and "
              + "\(compiled[90] ?? 0) modules (\(kernels[90] ?? 0) kernels) for sm_90")
    }

    /// `AUTOGRAD_DUMP_KERNELS=<folder>` writes every module's source there (for reading them,
    /// or compiling them with other tools).
    func testDumpSourcesWhenAsked() throws {
        guard let folder = ProcessInfo.processInfo.environment["AUTOGRAD_DUMP_KERNELS"] else {
            throw XCTSkip("AUTOGRAD_DUMP_KERNELS is not set")
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, source) in CUDAKernelSources.all {
            try source.write(toFile: folder + "/" + name + ".cu", atomically: true, encoding: .utf8)
        }
    }

    func testEveryKernelTheBackendLaunchesIsDefined() {
        func assertDefined(_ name: String, in module: String, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertTrue(CUDAKernelSources.kernelNames(module: module).contains(name), "\(name) in \(module)",
                          file: file, line: line)
        }
        for size in [1, 2, 4, 8] {
            for family in ["copy", "fill", "select"] { assertDefined("ag_memory_\(family)_\(size)", in: "memory") }
        }
        for source in DType.allCases {
            for destination in DType.allCases where destination != source {
                assertDefined("ag_cast_\(source)_to_\(destination)", in: "cast_\(source)")
            }
            assertDefined("ag_index_reduce_\(source)_max", in: "index_reduce")
            assertDefined("ag_index_reduce_\(source)_min", in: "index_reduce")
        }
        for dtype in CUDAKernelSources.computeDTypes {
            for op in UnaryOp.allCases where CUDAKernelSources.expression(op, dtype) != nil {
                assertDefined("ag_unary_\(dtype)_\(CUDAKernelSources.name(op))", in: "unary_\(dtype)")
            }
            for op in BinaryOp.allCases where CUDAKernelSources.expression(op, dtype) != nil {
                assertDefined("ag_binary_\(dtype)_\(CUDAKernelSources.name(op))", in: "binary_\(dtype)")
            }
            for op in ReduceOp.allCases {
                if let name = CUDAKernelSources.reduceKernelName(op, dtype) { assertDefined(name, in: "reduce_\(dtype)") }
            }
        }
        for dtype in CUDAKernelSources.matmulDTypes { assertDefined("ag_matmul_\(dtype)", in: "matmul") }
        for (_, suffix) in CUDAKernelSources.indexDTypes {
            for size in [1, 2, 4, 8] {
                for family in ["gather", "scatter", "take", "put", "gather_rows"] {
                    assertDefined("ag_index_\(family)_\(size)_\(suffix)", in: "index")
                }
            }
            for dtype in DType.allCases {
                assertDefined("ag_index_add_scatter_\(dtype)_\(suffix)", in: "index_add")
                assertDefined("ag_index_add_put_\(dtype)_\(suffix)", in: "index_add")
            }
            for dtype in [DType.float32, .float64] { assertDefined("ag_index_add_rows_\(dtype)_\(suffix)", in: "index_add") }
        }
        for dtype in CUDAKernelSources.computeDTypes {
            assertDefined("ag_scan_\(dtype)_sum", in: "scan")
            assertDefined("ag_scan_\(dtype)_prod", in: "scan")
            assertDefined("ag_scan_block_\(dtype)_sum", in: "scan")
            assertDefined("ag_scan_block_\(dtype)_prod", in: "scan")
        }
        for dtype in [DType.float32, .float64] {
            assertDefined("ag_window_im2col_\(dtype)", in: "window")
            assertDefined("ag_window_col2im_\(dtype)", in: "window")
            for distribution in ["uniform", "normal"] { assertDefined("ag_random_\(distribution)_\(dtype)", in: "random") }
        }
        assertDefined("ag_random_integers_int64", in: "random")
    }

    func testOpsDefinedOnCUDAAreThoseDefinedOnTheCPU() {
        // Floats define every op; integers and bool the ones the CPU kernels accept.
        for op in UnaryOp.allCases {
            XCTAssertNotNil(CUDAKernelSources.expression(op, .float32), "\(op)")
            XCTAssertNotNil(CUDAKernelSources.expression(op, .float64), "\(op)")
        }
        for op in BinaryOp.allCases { XCTAssertNotNil(CUDAKernelSources.expression(op, .float32), "\(op)") }
        XCTAssertNil(CUDAKernelSources.expression(UnaryOp.exp, .int32))
        XCTAssertNil(CUDAKernelSources.expression(BinaryOp.div, .int64))
        XCTAssertNil(CUDAKernelSources.expression(BinaryOp.sub, .bool))
        XCTAssertNotNil(CUDAKernelSources.expression(UnaryOp.abs, .uint8))
    }

    // MARK: - Layouts

    func testLayoutCoalescesDenseAndBroadcastOperands() {
        // [2, 3, 4] dense output, input broadcast along dim 1.
        let layout = CUDAStridedLayout(shape: [2, 3, 4], operands: [([12, 4, 1], 0), ([4, 0, 1], 5)])
        XCTAssertEqual(layout.sizes, [2, 3, 4])
        let dense = CUDAStridedLayout(shape: [2, 1, 3, 4], operands: [([12, 12, 4, 1], 0), ([12, 7, 4, 1], 3)])
        XCTAssertEqual(dense.sizes, [24])
        XCTAssertEqual(dense.strides, [[1], [1]])
        XCTAssertEqual(dense.offsets, [0, 3])
        let scalar = CUDAStridedLayout(shape: [], operands: [([], 2)])
        XCTAssertEqual(scalar.count, 1)
        XCTAssertEqual(scalar.rank, 0)
        let transposed = CUDAStridedLayout(shape: [3, 4], operands: [([4, 1], 0), ([1, 3], 0)])
        XCTAssertEqual(transposed.sizes, [3, 4])
        XCTAssertEqual(transposed.strides, [[4, 1], [1, 3]])
    }

    func testLayoutPacksInnermostFirst() {
        let layout = CUDAStridedLayout(shape: [3, 4], operands: [([4, 1], 1), ([1, 3], 2)])
        let bytes = layout.packed(mode: .general)
        let maxDims = CUDAKernelSources.maxDims
        XCTAssertEqual(bytes.count, 8 * (4 + maxDims + 2 + 2 * maxDims))
        let words = stride(from: 0, to: bytes.count, by: 8).map { i in
            bytes[i..<i + 8].enumerated().reduce(Int64(0)) { $0 | Int64($1.element) << (8 * Int64($1.offset)) }
        }
        XCTAssertEqual(Array(words[0..<4]), [12, 2, 0, 1])
        XCTAssertEqual(Array(words[4..<6]), [4, 3])                        // sizes, innermost first
        XCTAssertEqual(Array(words[4 + maxDims..<6 + maxDims]), [1, 2])    // offsets
        XCTAssertEqual(Array(words[6 + maxDims..<8 + maxDims]), [1, 4])    // operand 0 strides
        XCTAssertEqual(Array(words[6 + 2 * maxDims..<8 + 2 * maxDims]), [3, 1])
    }

    func testLayoutModes() {
        let aligned = UnsafeRawPointer(bitPattern: 0x1000)!
        let dense = CUDAStridedLayout(shape: [64], operands: [([1], 0), ([1], 4), ([0], 0)])
        XCTAssertEqual(dense.mode(elementSizes: [4, 4, 4], bases: [aligned, aligned, aligned]), .vector)
        XCTAssertEqual(dense.mode(elementSizes: [4, 4, 4], bases: [aligned, aligned + 4, aligned]), .linear,
                       "misaligned for 16-byte loads")
        XCTAssertEqual(dense.mode(elementSizes: [4, 4, 4], bases: [aligned, aligned, aligned], broadcastInputs: false),
                       .linear)
        let strided = CUDAStridedLayout(shape: [64], operands: [([1], 0), ([2], 0)])
        XCTAssertEqual(strided.mode(elementSizes: [4, 4], bases: [aligned, aligned]), .linear)
        let matrix = CUDAStridedLayout(shape: [3, 4], operands: [([4, 1], 0), ([1, 3], 0)])
        XCTAssertEqual(matrix.mode(elementSizes: [4, 4], bases: [aligned, aligned]), .general)
        XCTAssertTrue(matrix.fitsInt32)
        let huge = CUDAStridedLayout(shape: [2, 3], operands: [([3, 1], 0), ([1 << 40, 1], 0)])
        XCTAssertFalse(huge.fitsInt32)
    }

    func testLayoutSlicesOuterDims() {
        // 12 dims that do not coalesce (alternating transposition), split into 10-dim slices.
        let shape = [Int](repeating: 2, count: 12)
        var strides = Shape.contiguousStrides(shape)
        strides.swapAt(0, 1)
        strides.swapAt(2, 3)
        strides.swapAt(4, 5)
        strides.swapAt(6, 7)
        strides.swapAt(8, 9)
        strides.swapAt(10, 11)
        let layout = CUDAStridedLayout(shape: shape, operands: [(Shape.contiguousStrides(shape), 0), (strides, 7)])
        XCTAssertEqual(layout.rank, 12)
        let slices = layout.slices(maxRank: 10)
        XCTAssertEqual(slices.count, 4)
        XCTAssertEqual(slices.map(\.count), [1024, 1024, 1024, 1024])
        XCTAssertEqual(slices.map { $0.offsets[0] }, [0, 1024, 2048, 3072])
        XCTAssertEqual(slices.map { $0.offsets[1] }, [7, 7 + 2048, 7 + 1024, 7 + 3072])
    }

    // MARK: - Launch plans

    func testReductionPlans() {
        // A full sum of 256M elements: one output, split across blocks.
        let full = CUDAReductionPlan(outputs: 1, length: 1 << 28, rowMode: true, targetBlocks: 528, allowSplit: true)
        XCTAssertTrue(full.rowMode)
        XCTAssertEqual(full.block.x, 256)
        XCTAssertEqual(full.block.y, 1)
        XCTAssertEqual(full.grid.y, 528)
        XCTAssertEqual(full.chunk % 256, 0)
        XCTAssertGreaterThanOrEqual(full.chunk * full.grid.y, 1 << 28)
        // Rows of 10 (softmax over classes): a warp per row, eight rows per block.
        let rows = CUDAReductionPlan(outputs: 128, length: 10, rowMode: true, targetBlocks: 528, allowSplit: true)
        XCTAssertEqual(rows.block.x, 32)
        XCTAssertEqual(rows.block.y, 8)
        XCTAssertEqual(rows.grid.x, 16)
        XCTAssertEqual(rows.grid.y, 1)
        // A column sum of [128, 512] (a bias gradient): threads along x read neighbouring outputs.
        let columns = CUDAReductionPlan(outputs: 512, length: 128, rowMode: false, targetBlocks: 528, allowSplit: true)
        XCTAssertEqual(columns.block.x, 32)
        XCTAssertEqual(columns.block.y, 8)
        XCTAssertEqual(columns.grid.x, 16)
        XCTAssertEqual(columns.grid.y, 1)
        XCTAssertEqual(columns.chunk, 128)
        // Few long columns split along grid.y; without splitting they do not.
        let tall = CUDAReductionPlan(outputs: 4, length: 1 << 20, rowMode: false, targetBlocks: 528, allowSplit: true)
        XCTAssertEqual(tall.block.x, 4)
        XCTAssertEqual(tall.block.y, 64)
        XCTAssertGreaterThan(tall.grid.y, 1)
        let second = CUDAReductionPlan(outputs: 4, length: 1 << 20, rowMode: false, targetBlocks: 528, allowSplit: false)
        XCTAssertEqual(second.grid.y, 1)
        XCTAssertEqual(second.chunk, 1 << 20)
        // An empty reduction still launches (and writes the identity).
        let empty = CUDAReductionPlan(outputs: 3, length: 0, rowMode: true, targetBlocks: 528, allowSplit: true)
        XCTAssertEqual(empty.grid.y, 1)
        XCTAssertEqual(empty.chunk, 1)
    }

    func testScanPlans() {
        // Short lines: a thread each, however few.
        XCTAssertFalse(CUDAScanPlan.usesBlocks(lines: 3, length: 63, lineStride: 1, otherStrides: [63], multiprocessors: 132))
        // One long line, or a few: a block each.
        XCTAssertTrue(CUDAScanPlan.usesBlocks(lines: 1, length: 1 << 20, lineStride: 1, otherStrides: [], multiprocessors: 132))
        XCTAssertTrue(CUDAScanPlan.usesBlocks(lines: 100, length: 4096, lineStride: 100, otherStrides: [1], multiprocessors: 132))
        // Many lines: a block each when the line is contiguous, else a thread each (neighbouring
        // threads then read neighbouring elements).
        XCTAssertTrue(CUDAScanPlan.usesBlocks(lines: 100_000, length: 512, lineStride: 1, otherStrides: [512], multiprocessors: 132))
        XCTAssertFalse(CUDAScanPlan.usesBlocks(lines: 100_000, length: 512, lineStride: 100_000, otherStrides: [1],
                                               multiprocessors: 132))
    }

    func testGEMMOperandForms() {
        // Dense rows: cuBLAS reads the transpose in place.
        XCTAssertEqual(CUDAGEMMOperand(rows: 3, cols: 4, rowStride: 4, columnStride: 1),
                       CUDAGEMMOperand(transposedForTests: false, leadingDimension: 4))
        // A transposed view: cuBLAS transposes.
        XCTAssertEqual(CUDAGEMMOperand(rows: 3, cols: 4, rowStride: 1, columnStride: 3),
                       CUDAGEMMOperand(transposedForTests: true, leadingDimension: 3))
        // A padded row stride is a larger leading dimension.
        XCTAssertEqual(CUDAGEMMOperand(rows: 3, cols: 4, rowStride: 10, columnStride: 1)?.leadingDimension, 10)
        // A single row or column: the other stride does not matter.
        XCTAssertEqual(CUDAGEMMOperand(rows: 1, cols: 4, rowStride: 0, columnStride: 1)?.leadingDimension, 4)
        XCTAssertEqual(CUDAGEMMOperand(rows: 5, cols: 1, rowStride: 1, columnStride: 0)?.transposed, false)
        // Expanded or doubly strided: made dense first.
        XCTAssertNil(CUDAGEMMOperand(rows: 3, cols: 4, rowStride: 0, columnStride: 1))
        XCTAssertNil(CUDAGEMMOperand(rows: 3, cols: 4, rowStride: 8, columnStride: 2))
    }
}

/// What the concurrent compilations found.
private final class CompileResults: @unchecked Sendable {
    // @unchecked Sendable: every stored property is only touched while holding `lock`.
    let lock = NSLock()
    var failures: [String] = []
    var compiled: [Int: Int] = [:]
    var kernels: [Int: Int] = [:]
}

extension CUDAGEMMOperand {
    init(transposedForTests transposed: Bool, leadingDimension: Int) {
        self.init(rows: 1, cols: 1, rowStride: 1, columnStride: 1)!
        self.transposed = transposed
        self.leadingDimension = leadingDimension
    }
}
