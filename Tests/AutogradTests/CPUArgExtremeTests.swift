import CKernels
import XCTest
@testable import Autograd

/// max/min with indices along the last dim through `ckernels_*argext_rows`, against the Swift
/// loop (`CPUKernels.reduceWithIndex`) element for element and index for index: every row length
/// around the vector widths, NaN anywhere (the first one wins), equal extremes (the first wins),
/// signed zeros, infinities, each instruction set, and enough rows to run on both cores.
final class CPUArgExtremeTests: XCTestCase {
    /// Rows of `n` values that exercise the rules: random, then NaN / ties / zeros / infinities
    /// placed at row-dependent positions.
    func rows(_ count: Int, _ n: Int, seed: UInt64) -> [Double] {
        var v = Tensor.randn([count, n], dtype: .float64, seed: seed).scalars(as: Double.self)
        for r in 0..<count {
            let at = { (k: Int) in r * n + k % n }
            switch r % 8 {
            case 1: v[at(r / 8)] = .nan
            case 2: v[at(r / 8)] = .nan; v[at(r / 8 + 3)] = .nan
            case 3: v[at(r / 8)] = 9; v[at(r / 8 + 5)] = 9; v[at(n - 1)] = 9           // tied maxima
            case 4: v[at(r / 8)] = -9; v[at(n - 1)] = -9                               // tied minima
            case 5: for k in 0..<n { v[at(k)] = k % 3 == 0 ? -0.0 : (k % 3 == 1 ? 0.0 : -1) }   // zeros lead
            case 6: v[at(r / 8)] = .infinity; v[at(r / 8 + 2)] = -.infinity
            case 7: for k in 0..<n { v[at(k)] = 2 }                                    // all equal
            default: break
            }
        }
        return v
    }

    func check(_ x: Tensor, _ op: IndexReduceOp, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        let outer = x.count / x.shape[x.rank - 1]
        let values = Tensor(uninitializedShape: [outer], dtype: x.dtype), indices = Tensor(uninitializedShape: [outer], dtype: .int64)
        XCTAssertTrue(CKernelPaths.reduceWithIndex(op, x, dim: x.rank - 1, values: values, indices: indices), label, file: file, line: line)
        let refValues = Tensor(uninitializedShape: [outer], dtype: x.dtype), refIndices = Tensor(uninitializedShape: [outer], dtype: .int64)
        if x.dtype == .float32 {
            CPUKernels.reduceWithIndex(op, x, x.rank - 1, refValues, refIndices, Float.self)
        } else {
            CPUKernels.reduceWithIndex(op, x, x.rank - 1, refValues, refIndices, Double.self)
        }
        XCTAssertEqual(indices.scalars(as: Int64.self), refIndices.scalars(as: Int64.self), "\(label) indices", file: file, line: line)
        XCTAssertEqual(values.to(.float64).scalars(as: Double.self).map(\.bitPattern),
                       refValues.to(.float64).scalars(as: Double.self).map(\.bitPattern), "\(label) values", file: file, line: line)
    }

    func testMatchesSwiftLoopOnEveryISA() {
        let previous = ckernels_isa()
        defer { _ = ckernels_set_isa(previous) }
        let lengths = [1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 63, 64, 65, 100, 1000, 1025]
        for isa in [CKERNELS_ISA_SCALAR, CKERNELS_ISA_AVX2, CKERNELS_ISA_AVX512] {
            let used = ckernels_set_isa(isa)
            for dtype in [DType.float32, .float64] {
                for (k, n) in lengths.enumerated() {
                    let x = Tensor(shape: [24, n], scalars: rows(24, n, seed: UInt64(k)), dtype: dtype)
                    for op in IndexReduceOp.allCases { check(x, op, "isa \(used) \(dtype) n=\(n) \(op)") }
                }
            }
        }
    }

    func testManyRowsAndTheOps() {
        for dtype in [DType.float32, .float64] {
            let x = Tensor(shape: [400, 301], scalars: rows(400, 301, seed: 9), dtype: dtype)   // both cores
            for op in IndexReduceOp.allCases { check(x, op, "\(dtype) [400, 301] \(op)") }
            // The public ops take the path: rank 3, keepDim, argmax.
            let y = Tensor(shape: [4, 6, 33], scalars: rows(24, 33, seed: 10), dtype: dtype)
            let (values, indices) = y.max(dim: 2, keepDim: true)
            XCTAssertEqual(values.shape, [4, 6, 1])
            let reference = Tensor(uninitializedShape: [4, 6], dtype: .int64), refValues = Tensor(uninitializedShape: [4, 6], dtype: dtype)
            if dtype == .float32 {
                CPUKernels.reduceWithIndex(.max, y, 2, refValues, reference, Float.self)
            } else {
                CPUKernels.reduceWithIndex(.max, y, 2, refValues, reference, Double.self)
            }
            XCTAssertEqual(indices.reshaped([24]).scalars(as: Int64.self), reference.scalars(as: Int64.self))
            XCTAssertEqual(values.reshaped([24]).scalars(as: Double.self).map(\.bitPattern), refValues.scalars(as: Double.self).map(\.bitPattern))
            XCTAssertEqual(y.argmax(dim: 2).reshaped([24]).scalars(as: Int64.self), reference.scalars(as: Int64.self))
        }
    }

    /// A middle (or first) dim: each column of [outer, n, inner] holds one of the test rows.
    func testMiddleDimMatchesSwiftLoop() {
        for dtype in [DType.float32, .float64] {
            for (k, (outer, n, inner)) in [(1, 1, 3), (3, 2, 5), (2, 7, 64), (2, 17, 70), (3, 65, 130), (1, 9, 2), (4, 40, 300)].enumerated() {
                let columns = Tensor(shape: [outer * inner, n], scalars: rows(outer * inner, n, seed: UInt64(100 + k)), dtype: dtype)
                let x = columns.reshaped([outer, inner, n]).permuted([0, 2, 1]).contiguous()
                for op in IndexReduceOp.allCases {
                    let values = Tensor(uninitializedShape: [outer, 1, inner], dtype: dtype)
                    let indices = Tensor(uninitializedShape: [outer, 1, inner], dtype: .int64)
                    XCTAssertTrue(CKernelPaths.reduceWithIndex(op, x, dim: 1, values: values, indices: indices))
                    let refValues = Tensor(uninitializedShape: [outer, 1, inner], dtype: dtype)
                    let refIndices = Tensor(uninitializedShape: [outer, 1, inner], dtype: .int64)
                    if dtype == .float32 {
                        CPUKernels.reduceWithIndex(op, x, 1, refValues, refIndices, Float.self)
                    } else {
                        CPUKernels.reduceWithIndex(op, x, 1, refValues, refIndices, Double.self)
                    }
                    let label = "\(dtype) [\(outer), \(n), \(inner)] \(op)"
                    XCTAssertEqual(indices.scalars(as: Int64.self), refIndices.scalars(as: Int64.self), label)
                    XCTAssertEqual(values.to(.float64).scalars(as: Double.self).map(\.bitPattern),
                                   refValues.to(.float64).scalars(as: Double.self).map(\.bitPattern), label)
                }
            }
        }
    }

    func testOtherLayoutsKeepTheLoop() {
        let x = Tensor.randn([6, 9], seed: 1)
        let values = Tensor(uninitializedShape: [6], dtype: .float32), indices = Tensor(uninitializedShape: [6], dtype: .int64)
        XCTAssertFalse(CKernelPaths.reduceWithIndex(.max, x.transposed(0, 1), dim: 0, values: values, indices: indices))
        XCTAssertEqual(ckernels_sargext_rows(1, 0, nil, 1, nil, nil), CKERNELS_EINVAL)
        XCTAssertEqual(ckernels_sargext_dim(1, 3, 0, nil, 1, nil, nil), CKERNELS_EINVAL)
    }
}
