import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// The CPU backend: Swift kernels over strided memory, with contiguous fast paths.
final class CPUBackend: DeviceBackend {
    // Sendable: the class has no stored state besides the constant device.
    let device = Device.cpu

    func allocate(byteCount: Int) throws -> UnsafeMutableRawPointer {
        CPUAllocator.shared.allocate(byteCount: byteCount)
    }

    func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
        CPUAllocator.shared.deallocate(pointer, byteCount: byteCount)
    }

    func copyToHost(_ source: Tensor, _ destination: UnsafeMutableRawPointer) {
        let bytes = source.count * source.dtype.byteCount
        destination.copyMemory(from: source.storage.pointer + source.offset * source.dtype.byteCount, byteCount: bytes)
    }

    func copyFromHost(_ source: UnsafeRawPointer, into destination: Tensor) {
        let bytes = destination.count * destination.dtype.byteCount
        (destination.storage.pointer + destination.offset * destination.dtype.byteCount).copyMemory(from: source, byteCount: bytes)
    }

    // MARK: - Copy and fill

    func copy(_ source: Tensor, into destination: Tensor) {
        if source.dtype == destination.dtype, source.isContiguous, destination.isContiguous {
            // Large blocks go to the C copy, which splits one long row over the threads.
            if source.count * source.dtype.byteCount >= 1 << 19, CKernelPaths.copy(source, into: destination) { return }
            let size = source.dtype.byteCount
            (destination.storage.pointer + destination.offset * size)
                .copyMemory(from: source.storage.pointer + source.offset * size, byteCount: source.count * size)
            return
        }
        if CKernelPaths.copy(source, into: destination) { return }
        if source.count >= 16, CKernelPaths.convertHalf(source, into: destination) { return }
        source.dtype.visit(CopyOuter(source: source, destination: destination))
    }

    private struct CopyOuter: ElementVisitor {
        let source: Tensor, destination: Tensor
        func visit<S: Element>(_: S.Type) {
            destination.dtype.visit(CopyInner<S>(source: source, destination: destination))
        }
    }

    private struct CopyInner<S: Element>: ElementVisitor {
        let source: Tensor, destination: Tensor
        func visit<D: Element>(_: D.Type) {
            if source.shape == destination.shape && source.isContiguous && destination.isContiguous
                && destination.count >= CPUBackend.threadedElements {
                // large dense conversions on all threads (`to(.float64)` of [4096, 1000] floats:
                // 1.8-2.3 -> 1.0-1.4 ms, PyTorch 1.4)
                CPUBackend.onSlices([source, destination]) { CPUKernels.map($0[0], into: $0[1]) { (x: S) -> D in D(converting: x) } }
                return
            }
            CPUKernels.map(source, into: destination) { (x: S) -> D in D(converting: x) }
        }
    }

    func fill(_ destination: Tensor, with value: Scalar) {
        destination.dtype.visit(Fill(destination: destination, value: value))
    }

    /// Contiguous fills of at least this many bytes go to CKernels (both cores, whole-vector
    /// stores); smaller ones stay in the Swift loop, which has no thread hand-off.
    static let cFillBytes = 1 << 19

    private struct Fill: ElementVisitor {
        let destination: Tensor, value: Scalar
        func visit<T: Element>(_: T.Type) {
            var v = value.value(as: T.self)
            let p = destination.pointer(T.self)
            if destination.shape.isEmpty {
                // A 0-d tensor (scalars, implicit root gradients): one element, no loop setup.
                p[destination.offset] = v
                return
            }
            if destination.isContiguous && destination.count * MemoryLayout<T>.stride >= CPUBackend.cFillBytes {
                // A broadcast copy of the one value: `ckernels_copy_strided` fills in parallel
                // (`Tensor.ones([4096, 1000])` on two threads: 0.63 -> 0.30-0.32 ms; PyTorch 0.32-0.43).
                let shape = [destination.count], sourceStrides = [0], destinationStrides = [1]
                let status = withUnsafePointer(to: &v) { value in
                    ckernels_copy_strided(MemoryLayout<T>.stride, 1, shape, value, sourceStrides, p + destination.offset, destinationStrides)
                }
                if status == CKERNELS_OK { return }
            }
            let loop = StridedLoop(shape: destination.shape, operands: [(destination.strides, destination.offset)])
            loop.forEachRow { off, n, st in
                var i = off[0]
                for _ in 0..<n {
                    p[i] = v
                    i &+= st[0]
                }
            }
        }
    }

    // MARK: - Elementwise

    func unary(_ op: UnaryOp, _ x: Tensor, into out: Tensor) {
        if CKernelPaths.unary(op, x, out) { return }
        if (x.dtype == .float32 || x.dtype == .float64) && x.shape == out.shape && out.isContiguous && !x.isContiguous
            && x.count >= CKernelPaths.unaryThreshold && CKernelPaths.hasKernel(op) {
            // a strided view (a chunk of columns, a strided slice): gathered by the copy kernel,
            // then the C kernel, so the values do not depend on the layout ([4096, 500] columns
            // of a [4096, 1000] tensor: exp 2.87 -> 0.65 ms, sigmoid 8.55 -> 0.84)
            if CKernelPaths.unary(op, withNoGrad { x.contiguous() }, out) { return }
        }
        if (x.dtype == .float32 || x.dtype == .float64) && x.shape == out.shape && x.isContiguous && out.isContiguous
            && x.count >= CPUBackend.threadedElements {
            // Large dense float ops without a C kernel (sin, floor, log1p, ...): the Swift loop on
            // slices, on all threads (the same values; [4096, 1000] sin 31.6 -> 17-21 ms, floor
            // 9.4 -> 5.6, log1p 56 -> 30: still far behind PyTorch's vectorized 0.95 / 0.58 / 2.2).
            CPUBackend.onSlices([x, out]) { self.unaryLoop(op, $0[0], into: $0[1]) }
            return
        }
        if x.shape == out.shape && out.count >= CPUBackend.threadedElements && out.rank >= 1 && out.shape[0] >= 2 {
            // strided operands: the loop on slabs of the leading dim, on all threads
            CPUBackend.onSlabs([x, out]) { self.unaryLoop(op, $0[0], into: $0[1]) }
            return
        }
        unaryLoop(op, x, into: out)
    }

    /// Large dense element-by-element Swift loops (conversions, float ops without a C kernel)
    /// run on all threads from this many elements.
    static let threadedElements = 1 << 16

    /// Calls `body` with matching slices of the flat views of `tensors` (contiguous, of one
    /// count), the slices on all threads: for the Swift loops of large dense elementwise ops
    /// (conversions, unary ops and scalar pow without a C kernel), which then give the same
    /// values as one loop over the whole. About four slices per thread, of at least half
    /// `threadedElements`.
    static func onSlices(_ tensors: [Tensor], _ body: ([Tensor]) -> Void) {
        let n = tensors[0].count, parts = 4 * Swift.max(1, Int(ckernels_num_threads()))
        let chunk = Swift.max(CPUBackend.threadedElements / 2, (n + parts - 1) / parts)
        let slices = withNoGrad { () -> [[Tensor]] in
            let flat = tensors.map { $0.detached().reshaped([n]) }
            return stride(from: 0, to: n, by: chunk).map { start in flat.map { $0[start..<Swift.min(n, start + chunk)] } }
        }
        CKernelPaths.parallelFor(slices.count, grain: 1) { begin, end in
            for k in begin..<end { body(slices[k]) }
        }
    }

    /// Calls `body` with matching slabs of `tensors` along `dim` (the first tensor's length there
    /// sets the slabs; the others are at least as long), the slabs on all threads: for
    /// element-by-element loops over strided operands (and scatters split along a dim they do not
    /// scatter over), which then give the same values as one loop over the whole. About four
    /// slabs per thread, of at least half `threadedElements` elements of the first tensor.
    static func onSlabs(_ tensors: [Tensor], dim: Int = 0, _ body: ([Tensor]) -> Void) {
        let rows = tensors[0].shape[dim], perRow = Swift.max(1, tensors[0].count / Swift.max(1, rows))
        let parts = 4 * Swift.max(1, Int(ckernels_num_threads()))
        let chunk = Swift.max((CPUBackend.threadedElements / 2 + perRow - 1) / perRow, (rows + parts - 1) / parts)
        let slabs = withNoGrad { () -> [[Tensor]] in
            stride(from: 0, to: rows, by: chunk).map { start in
                tensors.map { $0.detached().narrow(dim: dim, start: start, length: Swift.min(rows, start + chunk) - start) }
            }
        }
        CKernelPaths.parallelFor(slabs.count, grain: 1) { begin, end in
            for k in begin..<end { body(slabs[k]) }
        }
    }

    private func unaryLoop(_ op: UnaryOp, _ x: Tensor, into out: Tensor) {
        switch x.dtype {
        case .float32: CPUKernels.unaryFloat(op, x, out, Float.self)
        case .float64: CPUKernels.unaryFloat(op, x, out, Double.self)
        case .bool: CPUKernels.unaryBool(op, x, out)
        case .uint8: CPUKernels.unaryInt(op, x, out, UInt8.self)
        case .int8: CPUKernels.unaryInt(op, x, out, Int8.self)
        case .int16: CPUKernels.unaryInt(op, x, out, Int16.self)
        case .int32: CPUKernels.unaryInt(op, x, out, Int32.self)
        case .int64: CPUKernels.unaryInt(op, x, out, Int64.self)
        case .float16, .bfloat16:
            preconditionFailure("CPU unary \(op): half types are computed in float32 by the op layer")
        }
    }

    func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into out: Tensor) {
        if out.count >= 16, CKernelPaths.binary(op, a, b, out) { return }
        if out.count >= CPUBackend.threadedElements, out.rank >= 1, out.shape[0] >= 2, a.dtype != .float16, a.dtype != .bfloat16 {
            // strided or broadcast operands without a C path (a transposed operand, ...): the
            // Swift loop on slabs of the leading dim, on all threads (the same values)
            CPUBackend.onSlabs([a.expandedWithoutGrad(to: out.shape), b.expandedWithoutGrad(to: out.shape), out]) {
                self.binaryLoop(op, $0[0], $0[1], into: $0[2])
            }
            return
        }
        binaryLoop(op, a, b, into: out)
    }

    private func binaryLoop(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into out: Tensor) {
        switch a.dtype {
        case .float32: CPUKernels.binaryFloat(op, a, b, out, Float.self)
        case .float64: CPUKernels.binaryFloat(op, a, b, out, Double.self)
        case .bool: CPUKernels.binaryBool(op, a, b, out)
        case .uint8: CPUKernels.binaryInt(op, a, b, out, UInt8.self)
        case .int8: CPUKernels.binaryInt(op, a, b, out, Int8.self)
        case .int16: CPUKernels.binaryInt(op, a, b, out, Int16.self)
        case .int32: CPUKernels.binaryInt(op, a, b, out, Int32.self)
        case .int64: CPUKernels.binaryInt(op, a, b, out, Int64.self)
        case .float16, .bfloat16:
            preconditionFailure("CPU binary \(op): half types are computed in float32 by the op layer")
        }
    }

    /// `out = x op s` (or `s op x` with `scalarOnLeft`) for a float32/float64 `x` and an op
    /// with `hasScalarKernel`; the same results as `binary` with `s` filled into a 0-d tensor.
    func binaryScalar(_ op: BinaryOp, _ x: Tensor, _ s: Scalar, scalarOnLeft: Bool, into out: Tensor) {
        if CKernelPaths.binaryScalar(op, x, s, scalarOnLeft: scalarOnLeft, out) { return }
        if x.shape == out.shape && x.isContiguous && out.isContiguous && x.count >= CPUBackend.threadedElements {
            // pow with a scalar exponent other than 2 and 3, ...: the Swift loop (libm's pow) on
            // slices on all threads
            CPUBackend.onSlices([x, out]) { self.binaryScalarLoop(op, $0[0], s, scalarOnLeft: scalarOnLeft, into: $0[1]) }
            return
        }
        binaryScalarLoop(op, x, s, scalarOnLeft: scalarOnLeft, into: out)
    }

    private func binaryScalarLoop(_ op: BinaryOp, _ x: Tensor, _ s: Scalar, scalarOnLeft: Bool, into out: Tensor) {
        switch x.dtype {
        case .float32: CPUKernels.binaryFloatScalar(op, x, s.value(as: Float.self), scalarOnLeft: scalarOnLeft, out)
        case .float64: CPUKernels.binaryFloatScalar(op, x, s.value(as: Double.self), scalarOnLeft: scalarOnLeft, out)
        default: preconditionFailure("CPU binaryScalar \(op): \(x.dtype) has no scalar kernel")
        }
    }

    func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor, into out: Tensor) {
        out.dtype.visit(Select(condition: condition, a: a, b: b, out: out))
    }

    private struct Select: ElementVisitor {
        let condition: Tensor, a: Tensor, b: Tensor, out: Tensor
        func visit<T: Element>(_: T.Type) {
            if selectContiguous(T.self) { return }
            let loop = StridedLoop(shape: out.shape, operands: [
                (out.strides, out.offset), condition.operand(over: out.shape),
                a.operand(over: out.shape), b.operand(over: out.shape),
            ])
            let po = out.pointer(T.self), pc = condition.pointer(Bool.self)
            let pa = a.pointer(T.self), pb = b.pointer(T.self)
            loop.forEachRow { off, n, st in
                var o = off
                for _ in 0..<n {
                    po[o[0]] = pc[o[1]] ? pa[o[2]] : pb[o[3]]
                    o &+= st
                }
            }
        }

        /// The common case (ReLU's backward, `where(c, g, 0)`) in C (`ckernels_select`, branch
        /// free and parallel for large tensors): out and the condition contiguous with out's
        /// shape, `a` and `b` each contiguous with out's shape or a single value. Picks the same
        /// elements as the strided loop.
        private func selectContiguous<T: Element>(_: T.Type) -> Bool {
            func layout(_ t: Tensor) -> Int? {   // the increment: 1 dense, 0 one value
                if t.shape == out.shape && t.isContiguous { return 1 }
                // one value, also when expanded (every stride 0: a sum's gradient)
                return t.count == 1 || t.strides.allSatisfy({ $0 == 0 }) ? 0 : nil
            }
            guard out.isContiguous, condition.shape == out.shape, condition.isContiguous,
                  let incA = layout(a), let incB = layout(b) else { return false }
            let status = withExtendedLifetime((condition, a, b, out)) {
                ckernels_select(out.count, MemoryLayout<T>.stride,
                                UnsafeRawPointer(condition.pointer(Bool.self) + condition.offset),
                                UnsafeRawPointer(a.pointer(T.self) + a.offset), incA,
                                UnsafeRawPointer(b.pointer(T.self) + b.offset), incB,
                                UnsafeMutableRawPointer(out.pointer(T.self) + out.offset))
            }
            return status == CKERNELS_OK
        }
    }

    // MARK: - Reductions

    func reduce(_ op: ReduceOp, _ x: Tensor, dims: [Int], into out: Tensor) {
        if x.count >= 16, dims.count == x.rank {
            if op == .sum, CKernelPaths.sumAll(x, out) { return }
            if op == .max, CKernelPaths.maxAll(x, out) { return }
        }
        if op == .sum, dims.count == 1, CKernelPaths.sumDim(x, dim: dims[0], out) { return }
        if op == .max || op == .min, dims.count == 1, x.rank > 1, x.dtype == .float32 || x.dtype == .float64, x.count >= 16,
           out.isContiguous, out.count == x.count / Swift.max(1, x.shape[dims[0]]) {
            // amax/amin over one dim of a matrix or more: the values of max(dim:)/min(dim:)'s
            // kernel (NaN wins; of equal values the first, as PyTorch: only +-0 can tell), on
            // all threads instead of the generic loop ([4096, 1000] amax(dim: 1) 10.2 -> ~0.5 ms)
            var kept = x.shape
            kept[dims[0]] = 1
            let values = out.viewing(shape: kept, strides: Shape.contiguousStrides(kept), offset: out.offset)
            let indices = Tensor(uninitializedShape: kept, dtype: .int64)
            reduceWithIndex(op == .max ? .max : .min, x, dim: dims[0], values: values, indices: indices)
            return
        }
        if op == .sum, dims.count > 1, CKernelPaths.sumAllButOne(x, dims: dims, out) { return }
        switch x.dtype {
        case .float32: CPUKernels.reduceFloat(op, x, dims, out, Float.self)
        case .float64: CPUKernels.reduceFloat(op, x, dims, out, Double.self)
        case .bool: CPUKernels.reduceBool(op, x, dims, out)
        case .uint8: CPUKernels.reduceInt(op, x, dims, out, UInt8.self)
        case .int8: CPUKernels.reduceInt(op, x, dims, out, Int8.self)
        case .int16: CPUKernels.reduceInt(op, x, dims, out, Int16.self)
        case .int32: CPUKernels.reduceInt(op, x, dims, out, Int32.self)
        case .int64: CPUKernels.reduceInt(op, x, dims, out, Int64.self)
        case .float16, .bfloat16:
            preconditionFailure("CPU reduce \(op): half types are computed in float32 by the op layer")
        }
    }

    func reduceWithIndex(_ op: IndexReduceOp, _ x: Tensor, dim: Int, values: Tensor, indices: Tensor) {
        if CKernelPaths.reduceWithIndex(op, x, dim: dim, values: values, indices: indices) { return }
        x.dtype.visit(IndexReduce(op: op, x: x, dim: dim, values: values, indices: indices))
    }

    private struct IndexReduce: ElementVisitor {
        let op: IndexReduceOp, x: Tensor, dim: Int, values: Tensor, indices: Tensor
        func visit<T: Element>(_: T.Type) {
            CPUKernels.reduceWithIndex(op, x, dim, values, indices, T.self)
        }
    }

    // MARK: - Matmul

    func matmul(_ a: Tensor, _ b: Tensor, into out: Tensor) {
        if CKernelPaths.matmul(a, b, out) { return }
        switch a.dtype {
        case .float32: CPUKernels.matmulFloat(a, b, out, Float.self)
        case .float64: CPUKernels.matmulFloat(a, b, out, Double.self)
        case .uint8: CPUKernels.matmulInt(a, b, out, UInt8.self)
        case .int8: CPUKernels.matmulInt(a, b, out, Int8.self)
        case .int16: CPUKernels.matmulInt(a, b, out, Int16.self)
        case .int32: CPUKernels.matmulInt(a, b, out, Int32.self)
        case .int64: CPUKernels.matmulInt(a, b, out, Int64.self)
        case .bool, .float16, .bfloat16:
            preconditionFailure("CPU matmul: \(a.dtype) is widened by the op layer")
        }
    }
}
