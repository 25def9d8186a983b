extension Tensor {
    /// `self += other` elementwise, unrecorded and unchecked by autograd (gradient
    /// accumulation). Bumps the version counter.
    /// - Precondition: `other` broadcasts to `self`'s shape.
    func addInPlaceUnchecked(_ other: Tensor) {
        precondition(Shape.isExpandable(other.shape, to: shape), "add_: shape \(Shape.describe(other.shape)) does not broadcast to \(Shape.describe(shape))")
        let compute: DType = dtype == .float16 || dtype == .bfloat16 ? .float32 : dtype
        let o = other.dtype == compute ? other.to(device: device) : other.convertedWithoutGrad(to: compute).to(device: device)
        if compute == dtype {
            Backends.backend(for: device).binary(.add, self, o, into: self)
        } else {
            let widened = convertedWithoutGrad(to: compute)
            Backends.backend(for: device).binary(.add, widened, o, into: widened)
            Backends.backend(for: device).copy(widened, into: self)
        }
        storage.bumpVersion()
    }
}
