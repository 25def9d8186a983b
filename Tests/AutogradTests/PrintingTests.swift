import XCTest
@testable import Autograd

/// Expected strings are PyTorch 2.15's `repr` of the same tensors (printed by PyTorch on this
/// machine), with Swift spellings of the
/// trailers (`gradFn=`, `requiresGrad=true`, `dtype=float64`).
final class PrintingTests: XCTestCase {
    func testScalarsAndTrailers() {
        XCTAssertEqual(Tensor(5.0).description, "tensor(5.)")
        XCTAssertEqual(Tensor(5.0, requiresGrad: true).description, "tensor(5., requiresGrad=true)")
        XCTAssertEqual(Tensor(2.5, dtype: .float64).description, "tensor(2.5000, dtype=float64)")
        XCTAssertEqual(Tensor(7).description, "tensor(7)")
        XCTAssertEqual(Tensor(true).description, "tensor(True)")
        XCTAssertEqual((Tensor(1.0, requiresGrad: true) * 2).description, "tensor(2., gradFn=<MulBackward0>)")
    }

    func testFixedIntegerAndScientificModes() {
        // torch.tensor([1.5, -2.25, 10.0]) -> tensor([ 1.5000, -2.2500, 10.0000])
        XCTAssertEqual(Tensor([1.5, -2.25, 10.0]).description, "tensor([ 1.5000, -2.2500, 10.0000])")
        // torch.tensor([1., 2., 300.]) -> tensor([  1.,   2., 300.])
        XCTAssertEqual(Tensor([1.0, 2.0, 300.0]).description, "tensor([  1.,   2., 300.])")
        // torch.tensor([1e-5, 1.0]) -> tensor([1.0000e-05, 1.0000e+00])
        XCTAssertEqual(Tensor([1e-5, 1.0]).description, "tensor([1.0000e-05, 1.0000e+00])")
        // torch.tensor([1e9, 1.0]) -> tensor([1.0000e+09, 1.0000e+00])
        XCTAssertEqual(Tensor([1e9, 1.0]).description, "tensor([1.0000e+09, 1.0000e+00])")
        // torch.tensor([float('nan'), 1., float('inf')]) -> tensor([nan, 1., inf])
        XCTAssertEqual(Tensor([Double.nan, 1.0, Double.infinity]).description, "tensor([nan, 1., inf])")
        // Non-finite values do not widen the columns.
        XCTAssertEqual(Tensor([Double.nan, 1.5]).description, "tensor([   nan, 1.5000])")
        XCTAssertEqual(Tensor([-Double.infinity, 100, 1]).description, "tensor([-inf, 100.,   1.])")
        // torch.tensor([0., 0.]) -> tensor([0., 0.])
        XCTAssertEqual(Tensor([0.0, 0.0]).description, "tensor([0., 0.])")
        // torch.tensor([True, False]) -> tensor([ True, False])
        XCTAssertEqual(Tensor([true, false]).description, "tensor([ True, False])")
    }

    func testMatricesAndHigherRanks() {
        XCTAssertEqual(Tensor([[1, 2], [3, 4]]).description, "tensor([[1, 2],\n        [3, 4]])")
        // torch.arange(8).reshape(2, 2, 2)
        XCTAssertEqual(Tensor.arange(8).reshaped([2, 2, 2]).description,
                       "tensor([[[0, 1],\n         [2, 3]],\n\n        [[4, 5],\n         [6, 7]]])")
        // A transposed view prints its logical order.
        XCTAssertEqual(Tensor([[1, 2], [3, 4]]).transposed(0, 1).description, "tensor([[1, 3],\n        [2, 4]])")
    }

    func testSummarizationBeyondAThousandElements() {
        // torch.arange(2000)
        XCTAssertEqual(Tensor.arange(2000).description, "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])")
        // torch.arange(2000).reshape(40, 50)
        XCTAssertEqual(Tensor.arange(2000).reshaped([40, 50]).description, """
        tensor([[   0,    1,    2,  ...,   47,   48,   49],
                [  50,   51,   52,  ...,   97,   98,   99],
                [ 100,  101,  102,  ...,  147,  148,  149],
                ...,
                [1850, 1851, 1852,  ..., 1897, 1898, 1899],
                [1900, 1901, 1902,  ..., 1947, 1948, 1949],
                [1950, 1951, 1952,  ..., 1997, 1998, 1999]])
        """)
    }

    func testEmptyTensors() {
        XCTAssertEqual(Tensor(shape: [0], scalars: [Float]()).description, "tensor([])")
        XCTAssertEqual(Tensor.zeros([0, 3]).description, "tensor([], size=[0, 3])")
        XCTAssertEqual(Tensor.zeros([0], dtype: .int64).description, "tensor([], dtype=int64)")
    }

    func testLongRowsWrapAtEightyColumns() {
        // torch.arange(30.) / 7 wraps 9 per line like the notebook's linspace.
        let t = Tensor.arange(0, 12, step: 1, dtype: .float32) / 7.0
        XCTAssertEqual(t.description, """
        tensor([0.0000, 0.1429, 0.2857, 0.4286, 0.5714, 0.7143, 0.8571, 1.0000, 1.1429,
                1.2857, 1.4286, 1.5714])
        """)
    }
}
