/// Shape, strides and offset of a view, as element positions in some storage.
///
/// View ops compute their geometry twice with the same function: once over the input's real
/// strides (the forward view) and once over a contiguous layout of the input's shape (what
/// the backward needs to place a gradient back, independent of the input's memory layout).
struct ViewGeometry: Equatable {
    var shape: [Int]
    var strides: [Int]
    var offset: Int

    /// The geometry of a tensor's own view of its storage.
    init(of tensor: Tensor) {
        shape = tensor.shape
        strides = tensor.strides
        offset = tensor.offset
    }

    /// The geometry of a dense row-major tensor of `shape` starting at 0.
    init(contiguous shape: [Int]) {
        self.shape = shape
        strides = Shape.contiguousStrides(shape)
        offset = 0
    }

    init(shape: [Int], strides: [Int], offset: Int) {
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// Removes `dim`, reading position `index` of it.
    func selecting(dim: Int, index: Int) -> ViewGeometry {
        var g = self
        g.offset += index * strides[dim]
        g.shape.remove(at: dim)
        g.strides.remove(at: dim)
        return g
    }

    /// Keeps positions `start, start + step, …` below `end` of `dim` (bounds already clamped).
    func slicing(dim: Int, start: Int, end: Int, step: Int) -> ViewGeometry {
        var g = self
        let length = end > start ? (end - start + step - 1) / step : 0
        if length > 0 { g.offset += start * strides[dim] }
        g.shape[dim] = length
        g.strides[dim] = strides[dim] * step
        return g
    }

    /// Replaces `dim1` and `dim2` by a trailing dimension along their diagonal `offset`.
    func diagonal(offset diagonalOffset: Int, dim1: Int, dim2: Int) -> ViewGeometry {
        var g = self
        let s1 = shape[dim1], s2 = shape[dim2]
        let length = diagonalOffset >= 0 ? Swift.max(0, Swift.min(s1, s2 - diagonalOffset))
            : Swift.max(0, Swift.min(s1 + diagonalOffset, s2))
        if length > 0 {
            g.offset += diagonalOffset >= 0 ? diagonalOffset * strides[dim2] : -diagonalOffset * strides[dim1]
        }
        let diagonalStride = strides[dim1] + strides[dim2]
        for d in [dim1, dim2].sorted(by: >) {
            g.shape.remove(at: d)
            g.strides.remove(at: d)
        }
        g.shape.append(length)
        g.strides.append(diagonalStride)
        return g
    }
}

extension Tensor {
    /// A view of this tensor's storage with `geometry`, recorded with `makeNode`.
    func viewWithGrad(_ geometry: ViewGeometry, _ makeNode: () -> GradFn) -> Tensor {
        let out = viewing(shape: geometry.shape, strides: geometry.strides, offset: geometry.offset)
        return Tensor.record(out, input: self, makeNode)
    }

    /// A view by `geometry` measured over this tensor's contiguous layout (made contiguous
    /// first when needed). Differentiable (`AsStridedBackward0`); the double-backward
    /// partner of `scatteringViews`.
    func viewing(contiguousGeometry geometry: ViewGeometry) -> Tensor {
        let base = contiguous()
        let shifted = ViewGeometry(shape: geometry.shape, strides: geometry.strides, offset: geometry.offset + base.offset)
        return base.viewWithGrad(shifted) { AsStridedBackward0(inputShape: shape, geometry: geometry) }
    }

    /// Zeros of `baseShape` with each part copied into its view (geometries over the
    /// contiguous layout of `baseShape`, not overlapping). Differentiable in the parts
    /// (`AsStridedScatterBackward0`); the backward of every slicing view.
    static func scatteringViews(_ parts: [(tensor: Tensor, geometry: ViewGeometry)], baseShape: [Int],
                                dtype: DType, device: Device) -> Tensor {
        let out = Tensor.zeros(baseShape, dtype: dtype, device: device)
        let backend = Backends.backend(for: device)
        for part in parts where Shape.count(part.geometry.shape) > 0 {
            let view = out.viewing(shape: part.geometry.shape, strides: part.geometry.strides, offset: part.geometry.offset)
            backend.copy(part.tensor.expandedWithoutGrad(to: part.geometry.shape), into: view)
        }
        return record(out, inputs: parts.map(\.tensor)) {
            AsStridedScatterBackward0(geometries: parts.map(\.geometry))
        }
    }

    /// Broadcasts to `target` with zero strides, not recorded.
    func expandedWithoutGrad(to target: [Int]) -> Tensor {
        if shape == target { return self }
        return viewing(shape: target, strides: Shape.broadcastStrides(shape: shape, strides: strides, to: target), offset: offset)
    }
}

// MARK: - Backward nodes

/// Backward of a view taken by geometry: scatter the gradient back into zeros.
final class AsStridedBackward0: GradFn, @unchecked Sendable {
    let inputShape: [Int], geometry: ViewGeometry
    init(inputShape: [Int], geometry: ViewGeometry) {
        self.inputShape = inputShape
        self.geometry = geometry
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        return [Tensor.scatteringViews([(g, geometry)], baseShape: inputShape, dtype: g.dtype, device: g.device)]
    }
}

/// Backward of `scatteringViews`: each part's gradient is its view of the gradient.
final class AsStridedScatterBackward0: GradFn, @unchecked Sendable {
    let geometries: [ViewGeometry]
    init(geometries: [ViewGeometry]) {
        self.geometries = geometries
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return geometries.map { _ in nil } }
        return geometries.indices.map { needsInputGrad($0) ? g.viewing(contiguousGeometry: geometries[$0]) : nil }
    }
}

/// Shared backward of the single-output slicing views (select, slice, narrow, diagonal):
/// the gradient placed into zeros of the input's shape at the view's positions.
class SlicingViewBackward: GradFn, @unchecked Sendable {
    let inputShape: [Int], geometry: ViewGeometry
    init(inputShape: [Int], geometry: ViewGeometry) {
        self.inputShape = inputShape
        self.geometry = geometry
        super.init()
    }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let g = gradOutputs[0] else { return [nil] }
        return [Tensor.scatteringViews([(g, geometry)], baseShape: inputShape, dtype: g.dtype, device: g.device)]
    }
}

/// Backward of `select(dim:index:)` and integer subscripts.
final class SelectBackward0: SlicingViewBackward, @unchecked Sendable {}
/// Backward of slicing (`narrow`, range subscripts).
final class SliceBackward0: SlicingViewBackward, @unchecked Sendable {}
/// Backward of `diagonal`.
final class DiagonalBackward0: SlicingViewBackward, @unchecked Sendable {}

/// Shared backward of the multi-output views (split, chunk, unbind): each output's gradient
/// (zeros where none arrived) placed at its positions.
class MultiViewBackward: GradFn, @unchecked Sendable {
    let inputShape: [Int], geometries: [ViewGeometry]
    init(inputShape: [Int], geometries: [ViewGeometry]) {
        self.inputShape = inputShape
        self.geometries = geometries
        super.init()
    }
    override var outputCount: Int { geometries.count }
    override func apply(_ gradOutputs: [Tensor?]) throws -> [Tensor?] {
        guard let any = gradOutputs.compactMap({ $0 }).first else { return [nil] }
        var parts: [(tensor: Tensor, geometry: ViewGeometry)] = []
        for (i, g) in gradOutputs.enumerated() {
            if let g { parts.append((g, geometries[i])) }
        }
        return [Tensor.scatteringViews(parts, baseShape: inputShape, dtype: any.dtype, device: any.device)]
    }
}

/// Backward of `split` and `chunk`.
final class SplitBackward0: MultiViewBackward, @unchecked Sendable {}
/// Backward of `unbind`.
final class UnbindBackward0: MultiViewBackward, @unchecked Sendable {}
