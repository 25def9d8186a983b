import XCTest
@testable import Autograd

/// The CKernels reduction paths against the Swift reference loops: `sum(dim:)` over a non-last
/// dim must equal `CPUKernels.reduceFloat` bit for bit (same pairwise order).
final class ReductionOpsTests: XCTestCase {
    func referenceSum(_ x: Tensor, dim: Int) -> Tensor {
        var kept = x.shape
        kept[dim] = 1
        let out = Tensor(uninitializedShape: kept, dtype: x.dtype)
        if x.dtype == .float32 {
            CPUKernels.reduceFloat(.sum, x, [dim], out, Float.self)
        } else {
            CPUKernels.reduceFloat(.sum, x, [dim], out, Double.self)
        }
        return out
    }

    func bits(_ t: Tensor) -> [UInt64] { t.to(.float64).scalars(as: Double.self).map(\.bitPattern) }

    func testSumOverColumnsAndRowsMatchesSwiftLoopBitForBit() {
        let cases: [([Int], Int)] = [
            ([128, 512], 0), ([128, 10], 0), ([1, 7], 0), ([0, 5], 0), ([65, 3], 0), ([64, 65], 0),
            ([200, 130], 0), ([1000, 70], 0), ([3, 129, 70], 1), ([3, 129, 70], 0), ([2, 3, 4, 5], 1),
            // the last dim: rows of every run length around 4 and 64, split runs, many rows (both cores)
            ([128, 512], 1), ([65, 3], 1), ([7, 1], 1), ([5, 0], 1), ([0, 5], 1), ([3, 129, 70], 2),
            ([9, 63], 1), ([9, 64], 1), ([9, 65], 1), ([4, 130], 1), ([5, 1000], 1), ([300, 301], 1),
            // runs of lengths not a multiple of 4, eight at a time and left over; rows past 4096
            ([6, 333], 1), ([3, 517], 1), ([3, 2047], 1), ([2, 4096], 1), ([2, 4097], 1), ([2, 9001], 1),
            // eight equal runs of 56 and of 64 (AVX-512: four runs to a vector, a last block of 8)
            ([6, 224], 1), ([5, 256], 1),
        ]
        for dtype in [DType.float32, .float64] {
            for (k, (shape, dim)) in cases.enumerated() {
                var x = Tensor.randn(shape, dtype: dtype, seed: UInt64(k)) * 1e3
                if x.count > 20 {   // special values in some columns
                    var v = x.to(.float64).scalars(as: Double.self)
                    v[1] = .nan; v[5] = .infinity; v[9] = -.infinity; v[13] = -0.0
                    x = Tensor(shape: shape, scalars: v, dtype: dtype)
                }
                var kept = shape
                kept[dim] = 1
                let fast = Tensor(uninitializedShape: kept, dtype: dtype)
                XCTAssertTrue(CKernelPaths.sumDim(x, dim: dim, fast), "\(shape) dim \(dim)")
                XCTAssertEqual(bits(fast), bits(referenceSum(x, dim: dim)), "\(dtype) \(shape) dim \(dim)")
                XCTAssertEqual(bits(x.sum(dim: dim, keepDim: true)), bits(fast), "the op takes the path")
            }
        }
    }

    /// Sums over every dim but one (a batch norm's statistics) through the C kernel, against
    /// the Swift loop bit for bit; one dim left after the kept one, or a strided input, is not taken.
    func testSumOverAllButOneDimMatchesSwiftLoopBitForBit() {
        let cases: [([Int], [Int])] = [([16, 8, 6, 5], [0, 2, 3]), ([3, 4, 70], [0, 2]), ([4, 3, 2, 65], [0, 1, 3]),
                                       ([5, 7, 9], [1, 2]), ([64, 32, 33], [0, 2]), ([2, 3, 4, 5, 6], [0, 1, 3, 4])]
        for dtype in [DType.float32, .float64] {
            for (k, (shape, dims)) in cases.enumerated() {
                var v = (Tensor.randn(shape, dtype: .float64, seed: UInt64(k)) * 1e3).scalars(as: Double.self)
                v[1] = .nan; v[7] = .infinity; v[11] = -0.0
                let x = Tensor(shape: shape, scalars: v, dtype: dtype)
                var kept = shape
                for d in dims { kept[d] = 1 }
                let fast = Tensor(uninitializedShape: kept, dtype: dtype), ref = Tensor(uninitializedShape: kept, dtype: dtype)
                XCTAssertTrue(CKernelPaths.sumAllButOne(x, dims: dims, fast), "\(shape) \(dims)")
                if dtype == .float32 { CPUKernels.reduceFloat(.sum, x, dims, ref, Float.self) } else { CPUKernels.reduceFloat(.sum, x, dims, ref, Double.self) }
                XCTAssertEqual(bits(fast), bits(ref), "\(dtype) \(shape) \(dims)")
                XCTAssertEqual(bits(x.sum(dims: dims, keepDim: true)), bits(ref), "the op takes the path")
            }
        }
        let x = Tensor.randn([4, 5, 6], seed: 1)
        XCTAssertFalse(CKernelPaths.sumAllButOne(x, dims: [0, 1], Tensor(uninitializedShape: [1, 1, 6], dtype: .float32)))
        XCTAssertFalse(CKernelPaths.sumAllButOne(x.transposed(0, 2), dims: [0, 2], Tensor(uninitializedShape: [1, 5, 1], dtype: .float32)))
    }

    func testSumOverStridedInputKeepsSwiftLoop() {
        let x = Tensor.randn([6, 9], seed: 1)
        let t = x.transposed(0, 1)
        XCTAssertFalse(CKernelPaths.sumDim(t, dim: 0, Tensor(uninitializedShape: [1, 6], dtype: .float32)))
        assertClose(t.sum(dim: 0), x.sum(dim: 1), Tolerance.exact)
    }

    func testBiasGradientThroughSumToSize() throws {
        let b = Tensor.zeros([512])
        b.requiresGrad = true
        let g = Tensor.randn([128, 512], seed: 2)
        try (Tensor.zeros([128, 512]) + b).backward(g)
        XCTAssertEqual(bits(b.grad!), bits(referenceSum(g, dim: 0).reshaped([512])))
    }
}
