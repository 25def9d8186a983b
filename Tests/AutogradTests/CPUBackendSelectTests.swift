import XCTest
@testable import Autograd

/// `Tensor.where` on the CPU: the C select for contiguous operands (every element size, the
/// parallel split above 64K elements) against the strided loop, which stays the reference (the
/// same operands as non-contiguous views take it).
final class CPUBackendSelectTests: XCTestCase {
    /// A non-contiguous view with the same values (a transposed copy, transposed back).
    func strided(_ t: Tensor) -> Tensor {
        t.rank < 2 ? t : t.transposed(0, 1).contiguous().transposed(0, 1)
    }

    func testContiguousOperandsMatchStridedLoop() {
        for dtype in [DType.float32, .float64, .int64, .bool, .int8, .int16, .float16] {
            for shape in [[0, 3], [1, 1], [3, 5], [7, 33], [64, 130], [300, 257]] {
                let c = Tensor.randn(shape, seed: 1) .> 0.0
                var a = Tensor.randn(shape, dtype: .float64, seed: 2) * 10
                var b = Tensor.randn(shape, dtype: .float64, seed: 3) * 10
                if dtype == .float64 && shape.reduce(1, *) > 3 {
                    a = Tensor.where(Tensor.randn(shape, seed: 4) .> 1.0, Tensor(Double.nan), a)   // NaN passes through
                    b = Tensor.where(Tensor.randn(shape, seed: 5) .> 1.0, Tensor(-0.0, dtype: .float64), b)
                }
                a = a.to(dtype)
                b = b.to(dtype)
                let zero = Tensor.zeros([], dtype: dtype), one = Tensor.ones([1, 1], dtype: dtype)
                for (x, y) in [(a, b), (a, zero), (zero, b), (one, zero)] {
                    let fast = Tensor.where(c, x, y)
                    XCTAssertTrue(c.isContiguous && fast.isContiguous)
                    let reference = Tensor.where(strided(c), strided(x), strided(y))
                    XCTAssertEqual(fast.shape, reference.shape)
                    XCTAssertEqual(fast.to(.float64).scalars(as: Double.self).map(\.bitPattern),
                                   reference.to(.float64).scalars(as: Double.self).map(\.bitPattern),
                                   "\(dtype) \(shape)")
                }
            }
        }
    }

    func testReluGradientUsesTheSelect() throws {
        let x = Tensor.randn([9, 17], seed: 6)
        x.requiresGrad = true
        let g = Tensor.randn([9, 17], seed: 7)
        try x.relu().backward(g)
        let expected = zip(x.scalars(as: Float.self), g.scalars(as: Float.self)).map { $0 > 0 ? $1 : 0 }
        XCTAssertEqual(x.grad!.scalars(as: Float.self), expected)
    }

    /// ReLU's fused backward (`ckernels_*relu_backward`) against the compare-and-select it
    /// replaces, bit for bit: NaN, ±0 and negative outputs, NaN gradients, serial and parallel.
    func testFusedReluBackwardMatchesWhere() {
        for dtype in [DType.float32, .float64] {
            for n in [1, 17, 100, 70_001] {
                var y = Tensor.randn([n], dtype: .float64, seed: 8)
                if n > 3 {
                    y = Tensor.where(Tensor.randn([n], seed: 9) .> 1.5, Tensor(Double.nan, dtype: .float64), y)
                    y = Tensor.where(Tensor.randn([n], seed: 10) .> 1.5, Tensor(-0.0, dtype: .float64), y)
                }
                y = y.to(dtype)
                var g = Tensor.randn([n], dtype: .float64, seed: 11)
                if n > 3 { g = Tensor.where(Tensor.randn([n], seed: 12) .> 1.5, Tensor(Double.nan, dtype: .float64), g) }
                g = g.to(dtype)
                guard let fused = CKernelPaths.reluBackward(y, g) else {
                    XCTFail("no fused path for \(dtype)")
                    continue
                }
                let reference = Tensor.where(y .> 0.0, g, Tensor.zeros([], dtype: dtype))
                XCTAssertEqual(fused.to(.float64).scalars(as: Double.self).map(\.bitPattern),
                               reference.to(.float64).scalars(as: Double.self).map(\.bitPattern), "\(dtype) n=\(n)")
            }
        }
        XCTAssertNil(CKernelPaths.reluBackward(Tensor.randn([4, 3], seed: 1).transposed(0, 1), Tensor.randn([3, 4], seed: 2)))
    }
}
