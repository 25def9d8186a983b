/// A dense array as the file formats see it: a dtype, a shape, and the elements as
/// little-endian bytes in C (row-major) order. Every reader produces one and every writer
/// consumes one, so the formats never touch `Tensor`.
struct ArrayPayload: Equatable, Sendable {
    var dtype: DType
    var shape: [Int]
    var bytes: [UInt8]

    /// The number of elements, `shape.reduce(1, *)`.
    var count: Int { shape.reduce(1, *) }

    init(dtype: DType, shape: [Int], bytes: [UInt8]) {
        // Callers build payloads from validated shapes; this catches internal mistakes.
        precondition(ArrayPayload.byteCount(shape: shape, dtype: dtype) == bytes.count,
                     "ArrayPayload: \(bytes.count) bytes for shape \(shape) of \(dtype)")
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// The element count of `shape`, or `nil` if a dimension is negative or the product
    /// overflows `Int`.
    static func elementCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, o) = n.multipliedReportingOverflow(by: d)
            guard !o else { return nil }
            n = p
        }
        // A 0 dimension makes the product 0 whatever the others are, as in NumPy.
        return n
    }

    /// The byte size of an array, or `nil` on a negative dimension or overflow.
    static func byteCount(shape: [Int], dtype: DType) -> Int? {
        guard let n = elementCount(shape) else { return nil }
        let (b, o) = n.multipliedReportingOverflow(by: dtype.byteCount)
        return o ? nil : b
    }
}

// MARK: - Byte-order and layout conversions

/// An array's elements as a file stores them, validated but not yet converted: a view into
/// the file's bytes (valid only while those bytes are), with the byte order and layout needed
/// to turn them into little-endian C order.
struct RawArrayView {
    var dtype: DType
    var shape: [Int]
    /// Exactly `ArrayPayload.byteCount(shape:dtype:)` bytes.
    var data: UnsafeRawBufferPointer
    var bigEndian = false
    var fortranOrder = false

    /// Writes the elements into `destination` (exactly `data.count` bytes) as little-endian,
    /// C order, bools as 0/1.
    func copy(into destination: UnsafeMutableRawBufferPointer) {
        ByteLayout.convert(from: data, to: destination, shape: shape, width: dtype.byteCount,
                           swap: bigEndian && dtype.byteCount > 1, fromFortran: fortranOrder,
                           normalizeBools: dtype == .bool)
    }
}

extension ArrayPayload {
    /// Copies a view's elements out of the file, converted.
    init(_ view: RawArrayView) {
        let bytes = [UInt8](unsafeUninitializedCapacity: view.data.count) { buffer, initialized in
            view.copy(into: UnsafeMutableRawBufferPointer(buffer))
            initialized = view.data.count
        }
        self.init(dtype: view.dtype, shape: view.shape, bytes: bytes)
    }
}

enum ByteLayout {
    /// Copies `width`-byte elements from `src` to `dst` (same size), reversing each element's
    /// bytes if `swap`, reordering from Fortran to C order if `fromFortran` (rank ≥ 2), and
    /// setting nonzero bytes to 1 if `normalizeBools` (other tools may store any nonzero).
    static func convert(from src: UnsafeRawBufferPointer, to dst: UnsafeMutableRawBufferPointer, shape: [Int],
                        width: Int, swap: Bool, fromFortran: Bool, normalizeBools: Bool) {
        precondition(src.count == dst.count && width > 0 && src.count % width == 0, "ByteLayout.convert: bad sizes")
        let n = src.count / width
        if fromFortran && shape.count >= 2 && n > 0 {
            permute(src, dst, shape: shape, width: width, fromFortran: true, swap: swap)
        } else {
            if n > 0 { dst.copyMemory(from: src) }
            if swap {
                var i = 0
                while i < dst.count {
                    var a = i, b = i + width - 1
                    while a < b { dst.swapAt(a, b); a += 1; b -= 1 }
                    i += width
                }
            }
        }
        if normalizeBools {
            for i in 0..<dst.count where dst[i] > 1 { dst[i] = 1 }
        }
    }

    /// Reorders elements stored in Fortran (column-major) order into C (row-major) order.
    static func fortranToC(_ bytes: [UInt8], shape: [Int], width: Int) -> [UInt8] {
        reordered(bytes, shape: shape, width: width, fromFortran: true)
    }

    /// Reorders elements stored in C order into Fortran order.
    static func cToFortran(_ bytes: [UInt8], shape: [Int], width: Int) -> [UInt8] {
        reordered(bytes, shape: shape, width: width, fromFortran: false)
    }

    private static func reordered(_ bytes: [UInt8], shape: [Int], width: Int, fromFortran: Bool) -> [UInt8] {
        guard shape.count >= 2, !bytes.isEmpty else { return bytes }
        var out = [UInt8](repeating: 0, count: bytes.count)
        bytes.withUnsafeBytes { s in
            out.withUnsafeMutableBytes { d in permute(s, d, shape: shape, width: width, fromFortran: fromFortran, swap: false) }
        }
        return out
    }

    /// Walks the C-order index space once; `fOffset` tracks the element's Fortran position.
    private static func permute(_ s: UnsafeRawBufferPointer, _ d: UnsafeMutableRawBufferPointer, shape: [Int],
                                width: Int, fromFortran: Bool, swap: Bool) {
        let rank = shape.count
        let n = s.count / width
        var fStrides = [Int](repeating: 1, count: rank)
        for k in 1..<rank { fStrides[k] = fStrides[k - 1] * shape[k - 1] }
        var index = [Int](repeating: 0, count: rank)
        var fOffset = 0
        for c in 0..<n {
            let (from, to) = fromFortran ? (fOffset, c) : (c, fOffset)
            for b in 0..<width { d[to * width + b] = s[from * width + (swap ? width - 1 - b : b)] }
            // Odometer increment, last axis fastest (C order).
            var k = rank - 1
            while k >= 0 {
                index[k] += 1
                fOffset += fStrides[k]
                if index[k] < shape[k] { break }
                fOffset -= fStrides[k] * shape[k]
                index[k] = 0
                k -= 1
            }
        }
    }
}

// MARK: - Bounds-checked little-endian reads

/// Bounds-checked reads from a byte buffer that throw ``TensorIOError/Reason/truncated(_:)``
/// instead of reading past the end. Lives only inside the `withUnsafeBytes` closure that made
/// its pointer.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let format: TensorIOError.Format
    /// Added to offsets in errors, so they refer to the enclosing file.
    var baseOffset: Int = 0

    var count: Int { bytes.count }

    func error(_ reason: TensorIOError.Reason, at offset: Int) -> TensorIOError {
        TensorIOError(format, reason, offset: baseOffset + offset)
    }

    /// Throws unless `[offset, offset + length)` lies inside the buffer.
    func check(_ offset: Int, _ length: Int, _ what: @autoclosure () -> String) throws {
        guard offset >= 0, length >= 0, offset <= count, length <= count - offset else {
            throw error(.truncated("\(what()) needs \(length) bytes at \(baseOffset + offset), data has \(baseOffset + count)"),
                        at: offset)
        }
    }

    func u8(_ offset: Int) throws -> UInt8 {
        try check(offset, 1, "a byte")
        return bytes[offset]
    }

    func u16(_ offset: Int) throws -> UInt16 {
        try check(offset, 2, "a 16-bit field")
        return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    func u32(_ offset: Int) throws -> UInt32 {
        try check(offset, 4, "a 32-bit field")
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
        return v
    }

    func u64(_ offset: Int) throws -> UInt64 {
        try check(offset, 8, "a 64-bit field")
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        return v
    }

    /// A copy of `length` bytes at `offset`.
    func copy(_ offset: Int, _ length: Int, _ what: @autoclosure () -> String) throws -> [UInt8] {
        try check(offset, length, what())
        return [UInt8](UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]))
    }

    /// The bytes at `[offset, offset + length)` as a sub-buffer (same lifetime as `bytes`).
    func slice(_ offset: Int, _ length: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        try check(offset, length, what())
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
    }
}

// MARK: - Little-endian writes

extension Array where Element == UInt8 {
    mutating func appendLE16(_ v: UInt16) { append(UInt8(v & 0xFF)); append(UInt8(v >> 8)) }
    mutating func appendLE32(_ v: UInt32) { for i in 0..<4 { append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
    mutating func appendLE64(_ v: UInt64) { for i in 0..<8 { append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
}
