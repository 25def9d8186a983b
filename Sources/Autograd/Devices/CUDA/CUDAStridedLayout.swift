/// How a kernel walks up to four operands over one iteration shape: the host side of the C
/// struct `ag_layout<N>` in `CUDAKernelSources.prelude`.
///
/// Size-1 dims are dropped and neighbouring dims merged wherever every operand's strides
/// allow (as `StridedLoop` does on the CPU), so dense and simply broadcast operands become one
/// dim and the kernel's index arithmetic disappears.
struct CUDAStridedLayout: Equatable {
    /// The kernel's choice of inner loop (the C field `mode`).
    enum Mode: Int {
        /// Divide the linear index by each dim's size (32-bit when every offset fits).
        case general = 0
        /// At most one dim: `offset + i * stride`.
        case linear = 1
        /// At most one dim, the output dense, each input dense or a broadcast scalar, every
        /// dense operand aligned for 16-byte vector loads.
        case vector = 2
    }

    /// The number of elements.
    var count: Int
    /// Sizes of the coalesced dims, outermost first.
    var sizes: [Int]
    /// Each operand's strides over `sizes`, in elements.
    var strides: [[Int]]
    /// Each operand's offset, in elements.
    var offsets: [Int]

    /// The coalesced layout of `operands` (strides over `shape`, offset) read over `shape`.
    init(shape: [Int], operands: [(strides: [Int], offset: Int)]) {
        count = shape.reduce(1, *)
        offsets = operands.map(\.offset)
        var sizes: [Int] = []
        var strides = [[Int]](repeating: [], count: operands.count)
        for d in shape.indices where shape[d] != 1 {
            let canMerge = !sizes.isEmpty && operands.indices.allSatisfy { k in
                strides[k][strides[k].count - 1] == operands[k].strides[d] * shape[d]
            }
            if canMerge {
                sizes[sizes.count - 1] *= shape[d]
                for k in operands.indices { strides[k][strides[k].count - 1] = operands[k].strides[d] }
            } else {
                sizes.append(shape[d])
                for k in operands.indices { strides[k].append(operands[k].strides[d]) }
            }
        }
        self.sizes = sizes
        self.strides = strides
    }

    /// The number of coalesced dims.
    var rank: Int { sizes.count }

    /// Whether 32-bit index arithmetic is exact: the count and every operand's furthest
    /// element offset (relative to its base offset) fit in `Int32`, with no negative stride.
    var fitsInt32: Bool {
        let limit = Int(Int32.max)
        guard count <= limit else { return false }
        for operand in strides {
            var extent = 0
            for (size, stride) in zip(sizes, operand) {
                guard stride >= 0 else { return false }
                let (product, overflow) = (size - 1).multipliedReportingOverflow(by: stride)
                if overflow { return false }
                extent += product
                if extent > limit { return false }
            }
        }
        return true
    }

    /// The inner-loop mode for operands whose element sizes are `elementSizes` and whose
    /// storage base addresses are `bases` (operand 0 is the output; inputs may be broadcast
    /// scalars in vector mode when `broadcastInputs`).
    func mode(elementSizes: [Int], bases: [UnsafeRawPointer], broadcastInputs: Bool = true) -> Mode {
        guard rank <= 1 else { return .general }
        guard rank == 1 else { return .linear }
        let width = 16 / (elementSizes.max() ?? 16)
        for k in strides.indices {
            let stride = strides[k][0]
            if stride == 0 && k > 0 && broadcastInputs { continue }
            guard stride == 1 else { return .linear }
            let address = Int(bitPattern: bases[k]) + offsets[k] * elementSizes[k]
            guard address % (width * elementSizes[k]) == 0 else { return .linear }
        }
        return .vector
    }

    /// The layout split into layouts of at most `maxRank` dims, each covering one index of the
    /// outer dims beyond `maxRank` (their offsets advanced accordingly).
    func slices(maxRank: Int) -> [CUDAStridedLayout] {
        guard rank > maxRank else { return [self] }
        let outer = rank - maxRank
        var result: [CUDAStridedLayout] = []
        var inner = self
        inner.sizes = Array(sizes[outer...])
        inner.strides = strides.map { Array($0[outer...]) }
        inner.count = inner.sizes.reduce(1, *)
        var index = [Int](repeating: 0, count: outer)
        outerLoop: while true {
            var slice = inner
            for k in offsets.indices {
                slice.offsets[k] = offsets[k] + zip(index, strides[k]).reduce(0) { $0 + $1.0 * $1.1 }
            }
            result.append(slice)
            var d = outer - 1
            while d >= 0 {
                index[d] += 1
                if index[d] < sizes[d] { continue outerLoop }
                index[d] = 0
                d -= 1
            }
            break
        }
        return result
    }

    /// The bytes of `ag_layout<N>` (N = the operand count) for `mode`: count, rank, mode,
    /// index32, then sizes, offsets and strides with dims innermost first, zero-padded to
    /// `CUDAKernelSources.maxDims`.
    ///
    /// - Precondition: `rank <= CUDAKernelSources.maxDims`.
    func packed(mode: Mode) -> [UInt8] {
        let maxDims = CUDAKernelSources.maxDims
        precondition(rank <= maxDims, "CUDAStridedLayout: \(rank) dims exceed \(maxDims)")
        var words: [Int64] = [Int64(count), Int64(rank), Int64(mode.rawValue), fitsInt32 ? 1 : 0]
        func padded(_ values: [Int]) -> [Int64] {
            values.reversed().map(Int64.init) + [Int64](repeating: 0, count: maxDims - values.count)
        }
        words += padded(sizes)
        words += offsets.map(Int64.init)
        for operand in strides { words += padded(operand) }
        return CUDAStridedLayout.bytes(of: words)
    }

    /// The little-endian bytes of 64-bit words (the layout of a C struct of `long long`s).
    static func bytes(of words: [Int64]) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(words.count * 8)
        for word in words {
            withUnsafeBytes(of: word.littleEndian) { result.append(contentsOf: $0) }
        }
        return result
    }
}
