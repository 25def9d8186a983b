import Foundation

/// The parsed header of a `.npy` array.
struct NPYHeader: Equatable {
    var version: (major: UInt8, minor: UInt8)
    var dtype: DType
    /// Whether multi-byte elements are stored big-endian (`>` in `descr`).
    var bigEndian: Bool
    var fortranOrder: Bool
    var shape: [Int]
    /// Where the element data starts.
    var dataOffset: Int

    static func == (a: NPYHeader, b: NPYHeader) -> Bool {
        a.version == b.version && a.dtype == b.dtype && a.bigEndian == b.bigEndian
            && a.fortranOrder == b.fortranOrder && a.shape == b.shape && a.dataOffset == b.dataOffset
    }
}

/// The NumPy `.npy` format, versions 1.0, 2.0 and 3.0
/// (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
enum NPYFormat {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]   // "\x93NUMPY"
    /// NumPy refuses more dimensions than this.
    static let maxRank = 64
    /// Headers longer than this are refused before they are parsed. Every header this reader
    /// can accept fits in a few kilobytes; NumPy's own default limit is 10,000 bytes.
    static let maxHeaderLength = 1 << 20

    // MARK: - Reading

    /// Parses the magic, version and header dict.
    static func parseHeader(_ r: ByteReader) throws -> NPYHeader {
        try r.check(0, 8, "the magic string and version")
        for i in 0..<6 where r.bytes[i] != magic[i] {
            throw r.error(.badMagic("expected \\x93NUMPY"), at: i)
        }
        let major = r.bytes[6], minor = r.bytes[7]
        let headerLength: Int, headerStart: Int
        switch (major, minor) {
        case (1, 0):
            headerLength = Int(try r.u16(8)); headerStart = 10
        case (2, 0), (3, 0):
            headerLength = Int(try r.u32(8)); headerStart = 12
        default:
            throw r.error(.unsupportedVersion("format version \(major).\(minor) (known: 1.0, 2.0, 3.0)"), at: 6)
        }
        guard headerLength <= maxHeaderLength else {
            throw r.error(.limitExceeded("header length \(headerLength) exceeds \(maxHeaderLength)"), at: 8)
        }
        let text = try r.copy(headerStart, headerLength, "the header")
        // Versions 1.0 and 2.0 are latin-1; only 3.0 allows UTF-8. Every valid header is ASCII
        // except for unusual field names, which this reader does not support anyway.
        if major < 3, let i = text.firstIndex(where: { $0 >= 0x80 }) {
            throw r.error(.malformedHeader("non-ASCII byte in a version \(major).0 header"), at: headerStart + i)
        }
        let literal: PythonLiteral
        do {
            literal = try PythonLiteralParser.parse(text)
        } catch {
            throw r.error(.malformedHeader(error.message), at: headerStart + error.offset)
        }
        guard case .dict(let entries) = literal else {
            throw r.error(.malformedHeader("header is not a dict"), at: headerStart)
        }
        var descr: String?, fortran: Bool?, shapeItems: [PythonLiteral]?
        for (key, value) in entries {
            guard case .string(let k) = key else {
                throw r.error(.malformedHeader("header key is not a string"), at: headerStart)
            }
            switch (k, value) {
            case ("descr", .string(let s)): descr = s
            case ("fortran_order", .boolean(let b)): fortran = b
            case ("shape", .tuple(let items)), ("shape", .list(let items)): shapeItems = items
            case ("descr", _), ("fortran_order", _), ("shape", _):
                throw r.error(.malformedHeader("'\(k)' has the wrong type"), at: headerStart)
            default:
                throw r.error(.malformedHeader("unexpected key '\(k)'"), at: headerStart)
            }
        }
        guard let descr, let fortran, let shapeItems else {
            throw r.error(.malformedHeader("header needs the keys 'descr', 'fortran_order' and 'shape'"), at: headerStart)
        }
        guard let mapped = dtype(forDescr: descr) else {
            throw r.error(.unsupportedDType("descr '\(descr)' (supported: |b1 |u1 |i1 i2 i4 i8 f2 f4 f8, < or >)"),
                          at: headerStart)
        }
        guard shapeItems.count <= maxRank else {
            throw r.error(.invalidShape("\(shapeItems.count) dimensions (at most \(maxRank))"), at: headerStart)
        }
        var shape: [Int] = []
        for item in shapeItems {
            guard case .integer(let d) = item, d >= 0 else {
                throw r.error(.invalidShape("shape entries must be non-negative integers"), at: headerStart)
            }
            shape.append(d)
        }
        return NPYHeader(version: (major, minor), dtype: mapped.0, bigEndian: mapped.1, fortranOrder: fortran,
                         shape: shape, dataOffset: headerStart + headerLength)
    }

    /// Maps a NumPy type string such as `<f4` to a dtype and byte order.
    static func dtype(forDescr descr: String) -> (DType, Bool)? {
        let u = Array(descr.utf8)
        guard u.count >= 3 else { return nil }
        let order = u[0], kind = u[1]
        guard let size = Int(String(decoding: u[2...], as: UTF8.self)), u[2] != UInt8(ascii: "+") else { return nil }
        let dtype: DType
        switch (kind, size) {
        case (UInt8(ascii: "b"), 1): dtype = .bool
        case (UInt8(ascii: "u"), 1): dtype = .uint8
        case (UInt8(ascii: "i"), 1): dtype = .int8
        case (UInt8(ascii: "i"), 2): dtype = .int16
        case (UInt8(ascii: "i"), 4): dtype = .int32
        case (UInt8(ascii: "i"), 8): dtype = .int64
        case (UInt8(ascii: "f"), 2): dtype = .float16
        case (UInt8(ascii: "f"), 4): dtype = .float32
        case (UInt8(ascii: "f"), 8): dtype = .float64
        default: return nil
        }
        switch order {
        case UInt8(ascii: "<"): return (dtype, false)
        case UInt8(ascii: ">"): return (dtype, size > 1)
        // `|` (not applicable) and `=` (the writer's native order, unknown here) are only
        // unambiguous for one-byte types.
        case UInt8(ascii: "|"), UInt8(ascii: "="): return size == 1 ? (dtype, false) : nil
        default: return nil
        }
    }

    /// Validates a whole `.npy` image and returns a view of its elements (valid as long as
    /// `bytes`). `baseOffset` shifts offsets in errors (for npz members).
    static func view(_ bytes: UnsafeRawBufferPointer, baseOffset: Int = 0) throws -> RawArrayView {
        let r = ByteReader(bytes: bytes, format: .npy, baseOffset: baseOffset)
        let h = try parseHeader(r)
        guard let size = ArrayPayload.byteCount(shape: h.shape, dtype: h.dtype) else {
            throw r.error(.invalidShape("shape \(h.shape) of \(h.dtype) overflows"), at: h.dataOffset)
        }
        let available = r.count - h.dataOffset
        // Validate against what is present before anything of the declared size is allocated.
        guard available >= size else {
            throw r.error(.truncated("shape \(h.shape) of \(h.dtype) needs \(size) data bytes, file has \(available)"),
                          at: h.dataOffset)
        }
        guard available == size else {
            throw r.error(.sizeMismatch("shape \(h.shape) of \(h.dtype) needs \(size) data bytes, file has \(available)"),
                          at: h.dataOffset + size)
        }
        return RawArrayView(dtype: h.dtype, shape: h.shape, data: try r.slice(h.dataOffset, size, "the array data"),
                            bigEndian: h.bigEndian, fortranOrder: h.fortranOrder)
    }

    /// Decodes a whole `.npy` image into little-endian C-order bytes.
    static func decode(_ bytes: UnsafeRawBufferPointer, baseOffset: Int = 0) throws -> ArrayPayload {
        ArrayPayload(try view(bytes, baseOffset: baseOffset))
    }

    static func decode(_ data: Data) throws -> ArrayPayload {
        try data.withUnsafeBytes { try decode($0) }
    }

    static func decode(_ bytes: [UInt8]) throws -> ArrayPayload {
        try bytes.withUnsafeBytes { try decode($0) }
    }

    // MARK: - Writing

    /// The `descr` NumPy uses for a dtype (bfloat16 has none; see ``encode(_:)``).
    static func descr(for dtype: DType) -> String {
        switch dtype {
        case .bool: return "|b1"
        case .uint8: return "|u1"
        case .int8: return "|i1"
        case .int16: return "<i2"
        case .int32: return "<i4"
        case .int64: return "<i8"
        case .float16: return "<f2"
        case .bfloat16, .float32: return "<f4"
        case .float64: return "<f8"
        }
    }

    /// Encodes a payload as `.npy` bytes, C order, little-endian, version 1.0 (2.0 if the header
    /// needs it), header padded so the data starts on a 64-byte boundary as NumPy does.
    /// NumPy has no bfloat16, so bfloat16 arrays are widened (exactly) to float32.
    static func encode(_ payload: ArrayPayload) -> [UInt8] {
        let dtype = payload.dtype == .bfloat16 ? DType.float32 : payload.dtype
        let shapeText: String
        switch payload.shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(payload.shape[0]),)"
        default: shapeText = "(" + payload.shape.map(String.init).joined(separator: ", ") + ")"
        }
        let dict = "{'descr': '\(descr(for: dtype))', 'fortran_order': False, 'shape': \(shapeText), }"
        var header = Array(dict.utf8)
        var prefix = 10
        var pad = 64 - (prefix + header.count + 1) % 64
        if pad == 64 { pad = 0 }
        var major: UInt8 = 1
        if header.count + 1 + pad > 0xFFFF {
            major = 2
            prefix = 12
            pad = 64 - (prefix + header.count + 1) % 64
            if pad == 64 { pad = 0 }
        }
        header += [UInt8](repeating: 0x20, count: pad)
        header.append(0x0A)
        var out = magic + [major, 0]
        if major == 1 { out.appendLE16(UInt16(header.count)) } else { out.appendLE32(UInt32(header.count)) }
        out += header
        if payload.dtype == .bfloat16 {
            out += widenBFloat16(payload.bytes)
        } else {
            out += payload.bytes
        }
        return out
    }

    /// bfloat16 is the top half of a float32, so widening is exact: two zero bytes below.
    static func widenBFloat16(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: bytes.count * 2)
        var i = 0
        while i + 1 < bytes.count {
            out[2 * i + 2] = bytes[i]
            out[2 * i + 3] = bytes[i + 1]
            i += 2
        }
        return out
    }
}
