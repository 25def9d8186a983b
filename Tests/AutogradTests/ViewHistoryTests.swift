import XCTest
@testable import Autograd

/// In-place writes through views: shared storage, CopySlices, regenerated view history
/// (ViewHistory.swift).
final class ViewHistoryTests: XCTestCase {
    /// Column `j` of a contiguous `[rows, cols]` tensor, as a strided view.
    private func column(_ t: Tensor, _ j: Int, rows: Int, cols: Int) -> Tensor {
        t.asStridedView(shape: [rows], strides: [cols], offset: t.offset + j)
    }

    func testViewAndBaseSeeEachOthersWrites() {
        let base = Tensor.zeros([2, 3], dtype: .float64)
        let view = base.transposed(0, 1)
        view.addInPlace(Tensor([1.0, 2.0], dtype: .float64))   // broadcast over the view's rows
        assertClose(base, shape: [2, 3], [1, 1, 1, 2, 2, 2])
        base.mulInPlace(10.0)
        assertClose(view, shape: [3, 2], [10, 20, 10, 20, 10, 20])
        let flat = base.reshaped([6])
        flat.fill(3)
        assertClose(view, shape: [3, 2], [3, 3, 3, 3, 3, 3])
        XCTAssertEqual(base.storage.version, 3)
    }

    func testWriteThroughViewRebasesTheBase() throws {
        let a = Tensor(shape: [2, 3], scalars: [1.0, 2, 3, 4, 5, 6], requiresGrad: true)
        let w = Tensor([10.0, 20.0], dtype: .float64, requiresGrad: true)
        let b = a * 1
        let col = column(b, 1, rows: 2, cols: 3)
        col.mulInPlace(w)
        XCTAssertEqual(b.gradFn?.name, "CopySlices")
        XCTAssertEqual(col.gradFn?.name, "AsStridedBackward0")
        XCTAssertEqual(b.gradFn?.nextFunctions.map { $0.function?.name }, ["MulBackward0", "AccumulateGrad"])
        assertClose(b, shape: [2, 3], [1, 20, 3, 4, 100, 6])
        let c = Tensor(shape: [2, 3], scalars: [1.0, 2, 3, 4, 5, 6])
        try (b * c).sum().backward()
        // Outside the column the gradient is c; inside it, c * w.
        assertClose(a.grad!, shape: [2, 3], [1, 20, 3, 4, 100, 6])
        // w gets c * a over the column.
        assertClose(w.grad!, shape: [2], [2 * 2, 5 * 5])
    }

    func testGradcheckAndGradgradcheckThroughCopySlices() {
        let function: ([Tensor]) throws -> Tensor = { inputs in
            let b = inputs[0] * inputs[0]
            let col = b.asStridedView(shape: [2], strides: [3], offset: 2)
            col.mulInPlace(inputs[1])
            col.addInPlace(inputs[1].pow(2))
            return (b * inputs[0]).sum(dim: 0)
        }
        assertGradcheck([randomLeaf([2, 3], seed: 6), randomLeaf([2], seed: 7)], function)
        assertGradgradcheck([randomLeaf([2, 3], seed: 8), randomLeaf([2], seed: 9)], function)
    }

    func testBaseWithoutGradGainsHistoryThroughItsView() throws {
        let w = Tensor(shape: [2, 2], scalars: [1.0, 2, 3, 4], requiresGrad: true)
        let x = Tensor.zeros([4], dtype: .float64)
        let v = x.reshaped([2, 2])
        v.addInPlace(w * 2)
        XCTAssertTrue(x.requiresGrad)
        XCTAssertEqual(x.gradFn?.name, "CopySlices")
        XCTAssertNil(x.gradFn?.nextFunctions[0].function)
        try (x * Tensor([1.0, 2, 3, 4])).sum().backward()
        assertClose(w.grad!, shape: [2, 2], [2, 4, 6, 8])
    }

    func testStaleViewRegeneratesItsHistory() throws {
        let a = Tensor(shape: [2, 2], scalars: [1.0, 2, 3, 4], requiresGrad: true)
        let b = a * 1
        let v = b.transposed(0, 1)
        XCTAssertEqual(v.gradFn?.name, "TransposeBackward0")
        b.mulInPlace(3.0)               // through the base: v's history is now stale
        XCTAssertEqual(v.gradFn?.name, "AsStridedBackward0")
        assertClose(v, shape: [2, 2], [3, 9, 6, 12])
        try (v * Tensor(shape: [2, 2], scalars: [1.0, 2, 3, 4])).sum().backward()
        // v[i][j] = 3 a[j][i]: a.grad[j][i] = 3 c[i][j].
        assertClose(a.grad!, shape: [2, 2], [3, 9, 6, 12])
    }

    func testWriteThroughOneViewUpdatesAnotherViewsHistory() throws {
        let a = Tensor(shape: [2, 3], scalars: [1.0, 2, 3, 4, 5, 6], requiresGrad: true)
        let w = Tensor([1.0, 1.0], dtype: .float64, requiresGrad: true)
        let b = a * 2
        let other = b.transposed(0, 1)
        let col = column(b, 0, rows: 2, cols: 3)
        col.addInPlace(w)
        assertClose(other, shape: [3, 2], [3, 9, 4, 10, 6, 12])
        try other.sum().backward()
        assertClose(a.grad!, shape: [2, 3], [2, 2, 2, 2, 2, 2])
        assertClose(w.grad!, shape: [2], [1, 1])
    }

    func testExpandedViewOfRebasedBaseAccumulates() throws {
        let a = Tensor([1.0, 2.0], dtype: .float64, requiresGrad: true)
        let b = a * 1
        let e = b.unsqueezed(dim: 0).expanded(to: [3, 2])
        b.addInPlace(1.0)
        XCTAssertEqual(e.gradFn?.name, "AsStridedBackward0")
        try e.sum().backward()
        assertClose(a.grad!, shape: [2], [3, 3])
    }

    func testViewErrors() {
        let leaf = Tensor([1.0, 2.0, 3.0, 4.0], requiresGrad: true)
        let v = leaf.reshaped([2, 2])
        assertValidationFails("a view of a leaf Variable that requires grad is being used in an in-place operation.") {
            try v.validateInPlace(others: [])
        }
        let b = leaf * 1
        let quiet = withNoGrad { b.reshaped([2, 2]) }
        assertValidationFails("A view was created in no_grad mode and is being modified inplace with grad mode enabled.") {
            try quiet.validateInPlace(others: [Tensor([1.0], requiresGrad: true)])
        }
        // Both inside no-grad: allowed, not tracked.
        withNoGrad { quiet.addInPlace(1) }
        assertClose(b, shape: [4], [2, 3, 4, 5])
        // Under no-grad a view of a leaf may be written (optimizers do this).
        withNoGrad { v.mulInPlace(2.0) }
        assertClose(leaf, shape: [4], [2, 4, 6, 8])
    }

    func testViewOfViewRebasesTheRoot() throws {
        let a = Tensor(shape: [2, 3], scalars: [1.0, 2, 3, 4, 5, 6], requiresGrad: true)
        let b = a * 1
        let vv = b.transposed(0, 1).unsqueezed(dim: 0)
        XCTAssertTrue(vv.meta.view?.base.meta === b.meta)
        vv.mulInPlace(2.0)
        XCTAssertEqual(b.gradFn?.name, "CopySlices")
        try b.sum().backward()
        assertClose(a.grad!, shape: [2, 3], [2, 2, 2, 2, 2, 2])
    }
}

extension ViewHistoryTests {
    func testOutputsOfMultiViewOpsCannotBeWrittenInPlace() {
        let x = Tensor([1.0, 2.0, 3.0, 4.0], requiresGrad: true)
        let b = x * 1
        let halves = [b.viewing(shape: [2], strides: [1], offset: 0), b.viewing(shape: [2], strides: [1], offset: 2)]
        Tensor.recordOutputs(halves, inputs: [b]) { MeanBackward0(inputShape: [4]) }
        assertValidationFails("Output 1 of MeanBackward0 is a view and is being modified inplace. This view is the output of a function that returns multiple views.") {
            try halves[1].validateInPlace(others: [])
        }
    }

    func testViewsAreMarkedInNoGradMode() {
        let x = Tensor([1.0, 2.0])
        let v = withNoGrad { x.reshaped([2, 1]) }
        XCTAssertTrue(v.meta.view?.base.meta === x.meta)
        XCTAssertEqual(v.meta.view?.createdWithGrad, false)
        XCTAssertNil(Tensor([1.0]).exp().meta.view)
    }
}

extension ViewHistoryTests {
    func testLeafMadeFromAViewStaysALeaf() throws {
        let w = Tensor([1.0, 2.0, 3.0, 4.0], requiresGrad: true)
        let p = withNoGrad { w.reshaped([2, 2]) }
        p.requiresGrad = true
        withNoGrad { w.mulInPlace(2.0) }
        XCTAssertTrue(p.isLeaf)
        try (p * 3).sum().backward()
        assertClose(p.grad!, shape: [2, 2], [3, 3, 3, 3])
        XCTAssertNil(w.grad)
    }
}

extension ViewHistoryTests {
    func testSubscriptAssignmentThroughAViewRebasesTheBase() throws {
        let a = Tensor(shape: [2, 2], scalars: [1.0, 2, 3, 4], requiresGrad: true)
        let w = Tensor([10.0, 20.0], dtype: .float64, requiresGrad: true)
        let b = a * 1
        let t = b.transposed(0, 1)
        t[0] = w
        assertClose(b, shape: [2, 2], [10, 2, 20, 4])
        XCTAssertEqual(b.gradFn?.name, "CopySlices")
        try (b * Tensor(shape: [2, 2], scalars: [1.0, 2, 3, 4])).sum().backward()
        assertClose(a.grad!, shape: [2, 2], [0, 2, 0, 4])
        assertClose(w.grad!, shape: [2], [1, 3])
    }

    func testInPlaceOnSlicesMatchesFiniteDifferences() {
        assertGradcheck([randomLeaf([3, 4], seed: 31), randomLeaf([4], seed: 32)]) { x in
            let b = x[0] * x[0]
            b[1..<3].addInPlace(x[1])
            b[0, 1..<3].mulInPlace(x[1][0..<2])
            b[2, 0] = x[1][3] * 2
            return b * x[0]
        }
    }

    func testSubscriptAssignmentIntoAViewOfALeafIsRefused() {
        let leaf = Tensor([1.0, 2.0], requiresGrad: true)
        assertValidationFails("a view of a leaf Variable that requires grad is being used in an in-place operation.") {
            try leaf[0..<1].validateInPlace(others: [])
        }
    }
}
