import CKernels

/// The CPU's fused optimizer updates (`ckernels_*adam`, `ckernels_*sgd`, `ckernels_*rmsprop`):
/// one pass over a parameter, its gradient and its state instead of a dozen element-wise ops,
/// each allocating a result. They compute the same IEEE operations in the same order as the
/// op-by-op updates in `Adam.update`, `SGD.update` and `RMSprop.update` (which stay the
/// reference, and the path for other devices and dtypes), so both give the same bits;
/// `OptimizerFusedTests` checks that.
///
/// They apply to float32/float64 CPU parameters that are contiguous, with a gradient of the
/// same shape, dtype and layout in other memory. State tensors are updated in place, as
/// PyTorch's are; one that is shared (a tensor handed to `loadStateDict` and still held by the
/// caller) or not contiguous is copied first, so no other tensor sees the write.
enum FusedUpdates {
    /// Set by tests to run the op-by-op updates instead.
    @TaskLocal static var disabled = false

    /// Whether `p` and `g` qualify (see the type's documentation).
    static func applies(_ p: Tensor, _ g: Tensor) -> Bool {
        !disabled && p.device == .cpu && g.device == .cpu && (p.dtype == .float32 || p.dtype == .float64)
            && g.dtype == p.dtype && g.shape == p.shape && p.isContiguous && g.isContiguous
            && g.storage !== p.storage
    }

    /// The state tensor `name` of parameter `i`, taken out of `state` and made safe to write in
    /// place: a fresh zero tensor like `p` when absent; a private contiguous copy when shared,
    /// strided or of another dtype. The caller puts it back.
    static func takeState(_ state: inout [String: Tensor], _ name: String, like p: Tensor) -> Tensor {
        guard var t = state.removeValue(forKey: name) else { return Tensor.zeros(like: p) }
        if t.dtype == p.dtype && t.device == .cpu && t.shape == p.shape && t.isUniquelyOwnedPlainTensor() { return t }
        precondition(t.shape == p.shape, "optimizer state \(name) has shape \(Shape.describe(t.shape)), the parameter \(Shape.describe(p.shape))")
        let source = t.device == .cpu ? t : t.to(device: .cpu)
        let copy = Tensor(uninitializedShape: p.shape, dtype: p.dtype)
        Backends.cpu.copy(source.dtype == p.dtype ? source : source.convertedWithoutGrad(to: p.dtype), into: copy)
        return copy
    }

    /// A mutable pointer to element 0 of a contiguous CPU tensor.
    private static func base<T>(_ t: Tensor, _: T.Type) -> UnsafeMutablePointer<T> { t.pointer(T.self) + t.offset }

    /// After a kernel wrote `p` in place: a new version for autograd's checks. Only invalid
    /// arguments fail, and `applies` and `takeState` rule those out.
    private static func finish(_ p: Tensor, _ status: Int32) {
        precondition(status == CKERNELS_OK, "fused optimizer update failed (\(status))")
        p.storage.bumpVersion()
    }

    /// `ckernels_*adam` over p, g and the moments (and the running maximum for amsgrad).
    static func adam(_ p: Tensor, _ g: Tensor, m: Tensor, v: Tensor, vmax: Tensor?, _ h: ckernels_adam_params) {
        var h = h
        let status: Int32 = withExtendedLifetime((p, g, m, v, vmax)) {
            if p.dtype == .float32 {
                return ckernels_sadam(p.count, base(p, Float.self), base(g, Float.self), base(m, Float.self),
                                      base(v, Float.self), vmax.map { base($0, Float.self) }, &h)
            }
            return ckernels_dadam(p.count, base(p, Double.self), base(g, Double.self), base(m, Double.self),
                                  base(v, Double.self), vmax.map { base($0, Double.self) }, &h)
        }
        finish(p, status)
    }

    /// `ckernels_*sgd` over p, g and the momentum buffer (nil without momentum).
    static func sgd(_ p: Tensor, _ g: Tensor, buffer: Tensor?, _ h: ckernels_sgd_params) {
        var h = h
        let status: Int32 = withExtendedLifetime((p, g, buffer)) {
            if p.dtype == .float32 {
                return ckernels_ssgd(p.count, base(p, Float.self), base(g, Float.self), buffer.map { base($0, Float.self) }, &h)
            }
            return ckernels_dsgd(p.count, base(p, Double.self), base(g, Double.self), buffer.map { base($0, Double.self) }, &h)
        }
        finish(p, status)
    }

    /// `ckernels_*rmsprop` over p, g and the running averages (and momentum buffer).
    static func rmsprop(_ p: Tensor, _ g: Tensor, squareAverage: Tensor, gradAverage: Tensor?, buffer: Tensor?,
                        _ h: ckernels_rmsprop_params) {
        var h = h
        let status: Int32 = withExtendedLifetime((p, g, squareAverage, gradAverage, buffer)) {
            if p.dtype == .float32 {
                return ckernels_srmsprop(p.count, base(p, Float.self), base(g, Float.self), base(squareAverage, Float.self),
                                         gradAverage.map { base($0, Float.self) }, buffer.map { base($0, Float.self) }, &h)
            }
            return ckernels_drmsprop(p.count, base(p, Double.self), base(g, Double.self), base(squareAverage, Double.self),
                                     gradAverage.map { base($0, Double.self) }, buffer.map { base($0, Double.self) }, &h)
        }
        finish(p, status)
    }
}
