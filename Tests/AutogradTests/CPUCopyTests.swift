import CKernels
import XCTest
@testable import Autograd

/// Copies of strided CPU views (`contiguous()`, `copyFrom` into a view) through
/// `ckernels_copy_strided`, against the elements read by index arithmetic from the storage:
/// transposes (tile edges, large enough to run on both cores), permutes, stepped and reversed
/// slices, broadcast sources, a strided destination, every element size, and the fallback when
/// too many dims remain after merging.
final class CPUCopyTests: XCTestCase {
    /// A contiguous tensor of `count` elements whose element i is i % 97 (exact in every dtype;
    /// i % 2 for bool).
    func storageTensor(_ count: Int, _ dtype: DType) -> Tensor {
        let values = (0..<count).map { Double(dtype == .bool ? $0 % 2 : $0 % 97) }
        return Tensor(shape: [count], scalars: values, dtype: dtype)
    }

    /// The elements of the view (shape, strides, offset) of `base`'s storage in row-major
    /// order, read one index at a time.
    func expectedElements(_ base: [Double], shape: [Int], strides: [Int], offset: Int) -> [Double] {
        let count = shape.reduce(1, *)
        var out: [Double] = []
        out.reserveCapacity(count)
        for linear in 0..<count {
            var rest = linear, position = offset
            for d in stride(from: shape.count - 1, through: 0, by: -1) {
                position += rest % shape[d] * strides[d]
                rest /= shape[d]
            }
            out.append(base[position])
        }
        return out
    }

    /// `contiguous()` of the view of a fresh storage of `storageCount` elements, for each dtype
    /// size; `viaKernel` says whether the C kernel must take it.
    func checkView(storageCount: Int, shape: [Int], strides: [Int], offset: Int, viaKernel: Bool = true,
                   _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        // Every element size; large views (run on both cores) in two dtypes only.
        let dtypes: [DType] = storageCount > 100_000 ? [.float32, .int16] : [.float32, .float64, .int8, .int16, .float16, .int64, .bool]
        for dtype in dtypes {
            let base = storageTensor(storageCount, dtype)
            let view = base.viewing(shape: shape, strides: strides, offset: offset)
            let expected = expectedElements(base.scalars(as: Double.self), shape: shape, strides: strides, offset: offset)
            let out = Tensor(uninitializedShape: shape, dtype: dtype)
            XCTAssertEqual(CKernelPaths.copy(view, into: out), viaKernel, "\(label) \(dtype): kernel taken", file: file, line: line)
            let result = view.contiguous()
            XCTAssertTrue(result.isContiguous, file: file, line: line)
            let got = result.scalars(as: Double.self)
            XCTAssertEqual(got.count, expected.count, "\(label) \(dtype)", file: file, line: line)
            if let i = got.indices.first(where: { got[$0] != expected[$0] }) {
                XCTFail("\(label) \(dtype): element \(i) is \(got[i]), expected \(expected[i])", file: file, line: line)
            }
        }
    }

    func testTransposes() {
        checkView(storageCount: 45 * 37, shape: [37, 45], strides: [1, 37], offset: 0, "transpose [45, 37]")
        checkView(storageCount: 33 * 31, shape: [31, 33], strides: [1, 31], offset: 0, "transpose [33, 31] (tile edges)")
        checkView(storageCount: 400 * 300, shape: [300, 400], strides: [1, 300], offset: 0, "transpose [400, 300] (parallel)")
        // A batch of transposed planes with an offset.
        checkView(storageCount: 3 * 20 * 50 + 7, shape: [3, 50, 20], strides: [1000, 1, 50], offset: 7, "batched transpose")
    }

    func testPermutes() {
        // NCHW [3, 5, 7, 11] -> NHWC: (0, 2, 3, 1).
        checkView(storageCount: 3 * 5 * 7 * 11, shape: [3, 7, 11, 5], strides: [385, 11, 1, 77], offset: 0, "permute (0, 2, 3, 1)")
        checkView(storageCount: 16 * 64 * 32 * 32, shape: [16, 32, 32, 64], strides: [65536, 32, 1, 1024], offset: 0,
                  "permute (0, 2, 3, 1) [16, 64, 32, 32] (parallel)")
        // Reversed dims: (2, 1, 0) of [4, 6, 9].
        checkView(storageCount: 4 * 6 * 9, shape: [9, 6, 4], strides: [1, 9, 54], offset: 0, "permute (2, 1, 0)")
    }

    func testSlicesStepsAndReversals() {
        // x[1::3, ::2] of [20, 30].
        checkView(storageCount: 600, shape: [7, 15], strides: [90, 2], offset: 30, "stepped slice")
        // A narrowed block: rows of a wider matrix (memcpy rows).
        checkView(storageCount: 4096 * 100, shape: [4096, 60], strides: [100, 1], offset: 20, "narrowed columns (parallel)")
        // A contiguous block (memcpy segments on both cores), and cat of two such blocks.
        checkView(storageCount: 300_010, shape: [300_001], strides: [1], offset: 7, "contiguous block (segments)")
        let a = Tensor.randn([700, 300], seed: 4), b = Tensor.randn([500, 300], seed: 5)
        XCTAssertEqual(Tensor.cat([a, b], dim: 0).scalars(as: Float.self), a.scalars(as: Float.self) + b.scalars(as: Float.self))
        // One long stepped row, cut into segments for the two cores (an odd length).
        checkView(storageCount: 600_002, shape: [300_001], strides: [2], offset: 1, "stepped long row (segments)")
        // Both dims reversed (negative strides).
        checkView(storageCount: 48, shape: [6, 8], strides: [-8, -1], offset: 47, "reversed")
        // The last dim reversed with the one before unit-stride is no transpose.
        checkView(storageCount: 48, shape: [8, 6], strides: [1, -8], offset: 40, "transpose with a reversed dim")
    }

    func testBroadcastSources() {
        checkView(storageCount: 3, shape: [5, 7, 9], strides: [0, 0, 0], offset: 2, "scalar expanded")
        checkView(storageCount: 7, shape: [5, 7, 9], strides: [0, 1, 0], offset: 0, "[1, 7, 1] expanded")
        checkView(storageCount: 5, shape: [5, 1000], strides: [1, 0], offset: 0, "[5, 1] expanded")
        checkView(storageCount: 1000, shape: [300, 1000], strides: [0, 1], offset: 0, "[1, 1000] expanded (parallel)")
        checkView(storageCount: 1, shape: [16, 64, 32, 32], strides: [0, 0, 0, 0], offset: 0, "ones-gradient-like (parallel)")
    }

    func testEmptyAndSingleElementViews() {
        checkView(storageCount: 10, shape: [0, 5], strides: [1, 0], offset: 0, "empty")
        checkView(storageCount: 10, shape: [1, 1, 1], strides: [7, 3, 1], offset: 4, "one element")
    }

    func testTooManyDimsFallBackToTheElementLoop() {
        // 17 dims of 2 in reversed order: no two merge, more than CKERNELS_COPY_MAX_RANK remain.
        let shape = [Int](repeating: 2, count: 17)
        let strides = (0..<17).map { 1 << $0 }
        checkView(storageCount: 1 << 17, shape: shape, strides: strides, offset: 0, viaKernel: false, "17 dims")
        // 16 such dims still go to the kernel.
        checkView(storageCount: 1 << 16, shape: Array(shape.prefix(16)), strides: Array(strides.prefix(16)), offset: 0, "16 dims")
    }

    func testCopyIntoAStridedDestination() {
        let source = Tensor.randn([37, 45], seed: 3)
        let storage = Tensor.zeros([45, 37])
        let destination = storage.transposed(0, 1)
        destination.copyFrom(source)
        XCTAssertEqual(destination.contiguous().scalars(as: Float.self), source.scalars(as: Float.self))
        // The storage holds the transpose.
        let s = source.scalars(as: Float.self), st = storage.scalars(as: Float.self)
        for i in [0, 1, 36] {
            for j in [0, 2, 44] { XCTAssertEqual(st[j * 37 + i], s[i * 45 + j], "(\(i), \(j))") }
        }
        // A broadcast row copied into every row of a stepped view.
        let wide = Tensor.zeros([10, 8], dtype: .int32)
        wide[.range(0, nil, step: 2), .all].copyFrom(Tensor(shape: [8], scalars: (0..<8).map { Double($0) }, dtype: .int32))
        let w = wide.scalars(as: Int32.self)
        for r in 0..<10 {
            XCTAssertEqual(Array(w[(r * 8)..<(r * 8 + 8)]), r % 2 == 0 ? (0..<8).map { Int32($0) } : [Int32](repeating: 0, count: 8), "row \(r)")
        }
    }

    /// indexSelect along dim 0 and embedding lookups copy whole contiguous slices (in parallel
    /// for many indices): against rows read by index arithmetic, repeated and negative indices
    /// included, and a 3-D source whose slices are matrices.
    func testIndexSelectAndEmbeddingCopyWholeSlices() {
        let rows = 5000, cols = 37
        let source = storageTensor(rows * cols, .float32).reshaped([rows, cols])
        let picks = (0..<3000).map { ($0 * 7919) % rows }
        let index = Tensor(shape: [picks.count], scalars: picks.map { Double($0 == 17 ? $0 - rows : $0) }, dtype: .int64)
        let all = source.scalars(as: Float.self)
        let expected = picks.flatMap { all[($0 * cols)..<(($0 + 1) * cols)] }
        XCTAssertEqual(source.indexSelect(dim: 0, index: index).scalars(as: Float.self), expected)
        let tokens = Tensor(shape: [30, 100], scalars: picks.map { Double($0) }, dtype: .int64)
        let looked = embedding(tokens, weight: source)
        XCTAssertEqual(looked.shape, [30, 100, cols])
        XCTAssertEqual(looked.scalars(as: Float.self), expected)
        let cube = storageTensor(6 * 4 * 5, .int16).reshaped([6, 4, 5])
        let c = cube.scalars(as: Int16.self)
        XCTAssertEqual(cube.indexSelect(dim: 0, index: Tensor([5, 0, 5], dtype: .int64)).scalars(as: Int16.self),
                       Array(c[100..<120]) + Array(c[0..<20]) + Array(c[100..<120]))
    }

    func testInvalidArgumentsAreRejected() {
        var shape = [3], strides = [1]
        var buffer = [Float](repeating: 0, count: 3), out = [Float](repeating: 0, count: 3)
        XCTAssertEqual(ckernels_copy_strided(3, 1, &shape, &buffer, &strides, &out, &strides), CKERNELS_EINVAL)
        XCTAssertEqual(ckernels_copy_strided(4, -1, &shape, &buffer, &strides, &out, &strides), CKERNELS_EINVAL)
        XCTAssertEqual(ckernels_copy_strided(4, Int(CKERNELS_COPY_MAX_RANK) + 1, &shape, &buffer, &strides, &out, &strides), CKERNELS_EINVAL)
        var negative = [-1]
        XCTAssertEqual(ckernels_copy_strided(4, 1, &negative, &buffer, &strides, &out, &strides), CKERNELS_EINVAL)
        XCTAssertEqual(ckernels_copy_strided(4, 1, &shape, nil, &strides, &out, &strides), CKERNELS_EINVAL)
        var zero = [0]
        XCTAssertEqual(ckernels_copy_strided(4, 1, &zero, nil, &strides, nil, &strides), CKERNELS_OK, "nothing to copy")
    }
}
