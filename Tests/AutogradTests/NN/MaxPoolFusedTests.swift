import XCTest
@testable import Autograd

/// maxPool2d's CPU kernel (`ckernels_*max_pool2d`) against the generic path it replaces on the
/// CPU (im2col with -inf padding, then `max(dim:)` over each window): the same values, bit for
/// bit, and the same window offsets, over strides, padding, dilation, odd sizes, strided
/// inputs, NaN, infinities and ties; and where the generic path would pick a padding position
/// (a window whose values are all -inf), the kernel picks the first position in the image.
final class MaxPoolFusedTests: XCTestCase {
    func bits(_ t: Tensor) -> [UInt64] { t.to(.float64).scalars(as: Double.self).map(\.bitPattern) }

    /// The generic path: window columns, then the maximum over each window.
    func reference(_ x: Tensor, _ g: WindowGeometry) -> (values: Tensor, window: Tensor) {
        let cols = Tensor(uninitializedShape: g.columnShape, dtype: x.dtype)
        Backends.backend(for: .cpu).im2col(x, geometry: g, padValue: -.infinity, into: cols)
        let m = cols.reshaped([g.batch, g.channels, g.kernelH * g.kernelW, g.outH * g.outW]).max(dim: 2)
        return (m.values, m.indices)
    }

    func geometry(_ x: Tensor, _ k: (Int, Int), _ s: (Int, Int), _ p: (Int, Int), _ d: (Int, Int)) throws -> WindowGeometry {
        try validatePool2d(x, kernelSize: k, stride: s, padding: p, dilation: d, op: "test")
    }

    func testMatchesTheGenericPathBitForBit() throws {
        let windows: [((Int, Int), (Int, Int), (Int, Int), (Int, Int))] = [
            ((2, 2), (2, 2), (0, 0), (1, 1)), ((3, 3), (1, 1), (1, 1), (1, 1)), ((3, 2), (2, 1), (1, 0), (2, 1)),
            ((1, 1), (1, 1), (0, 0), (1, 1)), ((4, 3), (3, 2), (2, 1), (1, 2)), ((2, 3), (1, 3), (1, 1), (1, 1)),
        ]
        for dtype in [DType.float32, .float64] {
            for (k, (shape, strided)) in [([2, 3, 9, 11], false), ([1, 2, 16, 16], false), ([3, 5, 7, 6], true), ([2, 64, 20, 20], false)].enumerated() {
                // small integers: many ties; two NaNs, +inf and a -inf in each plane
                var v = (Tensor.rand(shape, dtype: .float64, seed: UInt64(k)) * 5).floor().scalars(as: Double.self)
                let plane = shape[2] * shape[3]
                for p in 0..<(shape[0] * shape[1]) {
                    v[p * plane + (p * 7) % plane] = .nan
                    v[p * plane + (p * 7 + 1) % plane] = .nan          // two NaNs in some windows
                    v[p * plane + (p * 11 + 3) % plane] = .infinity
                    v[p * plane + (p * 5 + 1) % plane] = -.infinity
                }
                var x = Tensor(shape: shape, scalars: v, dtype: dtype)
                if strided { x = x.transposed(2, 3).contiguous().transposed(2, 3) }
                XCTAssertEqual(strided, !x.isContiguous)
                for (kernel, stride, padding, dilation) in windows {
                    let g = try geometry(x, kernel, stride, padding, dilation)
                    guard let fast = CKernelPaths.maxPool2d(x, geometry: g) else {
                        XCTFail("kernel not taken")
                        continue
                    }
                    let ref = reference(x, g)
                    let label = "\(dtype) \(shape) kernel \(kernel) stride \(stride) padding \(padding) dilation \(dilation)"
                    XCTAssertEqual(bits(fast.values), bits(ref.values), label)
                    // offsets agree wherever the generic path did not pick padding (a -inf tie)
                    let fi = fast.window.scalars(as: Int64.self), ri = ref.window.scalars(as: Int64.self)
                    let rv = ref.values.to(.float64).scalars(as: Double.self)
                    for i in fi.indices where rv[i] != -.infinity {
                        XCTAssertEqual(fi[i], ri[i], "\(label) output \(i)")
                    }
                    // and the public op takes the kernel
                    let viaOp = maxPool2dWithIndices(x, kernelSize: kernel, stride: stride, padding: padding, dilation: dilation)
                    XCTAssertEqual(bits(viaOp.values.reshaped([-1])), bits(fast.values.reshaped([-1])), label)
                }
            }
        }
    }

    func testPaddingNeverWins() throws {
        // every value -inf: each window's offset is its first position inside the image
        let x = Tensor.full([1, 1, 4, 4], value: -Double.infinity)
        let g = try geometry(x, (3, 3), (1, 1), (1, 1), (1, 1))
        let pooled = try XCTUnwrap(CKernelPaths.maxPool2d(x, geometry: g))
        let window = pooled.window.scalars(as: Int64.self)
        // corner (0, 0): window rows -1...1, columns -1...1: first inside is (0, 0) = offset 4
        XCTAssertEqual(window[0], 4)
        // (0, 1): rows -1...1, columns 0...2: first inside is (0, 0) = offset 3
        XCTAssertEqual(window[1], 3)
        // interior (1, 1): offset 0
        XCTAssertEqual(window[5], 0)
        XCTAssertTrue(pooled.values.scalars(as: Float.self).allSatisfy { $0 == -.infinity })
        // the gradient reaches the input (PyTorch gives it to the first position in the image)
        let leaf = x.detach()
        leaf.requiresGrad = true
        try maxPool2d(leaf, kernelSize: (3, 3), stride: (1, 1), padding: (1, 1)).sum().backward()
        XCTAssertEqual(try XCTUnwrap(leaf.grad).sum().item(), 16)
    }
}
