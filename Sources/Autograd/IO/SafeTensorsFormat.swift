/// One tensor's entry in a safetensors header.
struct SafeTensorsEntry: Equatable {
    var name: String
    var dtype: DType
    var shape: [Int]
    /// Byte range relative to the start of the data buffer.
    var begin: Int
    var end: Int
}

/// The safetensors format (https://github.com/huggingface/safetensors): an 8-byte
/// little-endian header length N, N bytes of JSON, then the data buffer. Validation follows
/// the reference implementation: the header is at most 100 MB, every tensor's range has
/// exactly the bytes its dtype and shape need, and the ranges, sorted, tile the buffer from
/// 0 to its end with no gap or overlap.
enum SafeTensorsFormat {
    static let maxHeaderSize = 100_000_000

    static let dtypeNames: [(String, DType)] = DType.allCases.map { (name(of: $0), $0) }

    static func name(of dtype: DType) -> String {
        switch dtype {
        case .bool: return "BOOL"
        case .uint8: return "U8"
        case .int8: return "I8"
        case .int16: return "I16"
        case .int32: return "I32"
        case .int64: return "I64"
        case .float16: return "F16"
        case .bfloat16: return "BF16"
        case .float32: return "F32"
        case .float64: return "F64"
        }
    }

    /// Parses and validates the header; returns the entries (in header order), the
    /// `__metadata__` map, and where the data buffer starts.
    static func parseHeader(_ r: ByteReader) throws -> (entries: [SafeTensorsEntry], metadata: [String: String], dataStart: Int) {
        let n64 = try r.u64(0)
        guard n64 <= UInt64(maxHeaderSize) else {
            throw r.error(.limitExceeded("header length \(n64) exceeds \(maxHeaderSize)"), at: 0)
        }
        let n = Int(n64)
        let headerBytes = try r.slice(8, n, "the JSON header")
        let json: JSONValue
        do {
            json = try JSONParser.parse(headerBytes)
        } catch {
            throw r.error(.malformedHeader("JSON: \(error.message)"), at: 8 + error.offset)
        }
        guard case .object(let items) = json else {
            throw r.error(.malformedHeader("header is not a JSON object"), at: 8)
        }
        var entries: [SafeTensorsEntry] = []
        var metadata: [String: String] = [:]
        for (key, value) in items {
            if key == "__metadata__" {
                switch value {
                case .null: continue
                case .object(let pairs):
                    for (k, v) in pairs {
                        guard case .string(let s) = v else {
                            throw r.error(.malformedHeader("__metadata__ value for '\(k)' is not a string"), at: 8)
                        }
                        metadata[k] = s
                    }
                default:
                    throw r.error(.malformedHeader("__metadata__ is not an object of strings"), at: 8)
                }
                continue
            }
            entries.append(try entry(key, value, r))
        }

        // The ranges, sorted, must tile [0, buffer size) exactly.
        let dataStart = 8 + n
        let bufferSize = r.count - dataStart
        var expected = 0
        for e in entries.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            guard e.begin == expected else {
                let what = e.begin < expected ? "overlaps the previous tensor" : "leaves a gap after the previous tensor"
                throw TensorIOError(.safetensors, .invalidOffsets("'\(e.name)' at [\(e.begin), \(e.end)) \(what) (expected start \(expected))"),
                                    member: e.name, offset: r.baseOffset + dataStart + min(e.begin, bufferSize))
            }
            expected = e.end
        }
        guard expected <= bufferSize else {
            throw r.error(.truncated("tensors need \(expected) data bytes, file has \(bufferSize)"), at: dataStart)
        }
        guard expected == bufferSize else {
            throw r.error(.sizeMismatch("tensors cover \(expected) data bytes, file has \(bufferSize)"), at: dataStart + expected)
        }
        return (entries, metadata, dataStart)
    }

    private static func entry(_ name: String, _ value: JSONValue, _ r: ByteReader) throws -> SafeTensorsEntry {
        func bad(_ reason: TensorIOError.Reason) -> TensorIOError {
            TensorIOError(.safetensors, reason, member: name, offset: r.baseOffset + 8)
        }
        guard case .object(let fields) = value else { throw bad(.malformedHeader("tensor entry is not an object")) }
        var dtype: DType?, shape: [Int]?, offsets: [Int]?
        for (k, v) in fields {
            switch k {
            case "dtype":
                guard case .string(let s) = v else { throw bad(.malformedHeader("dtype is not a string")) }
                guard let d = dtypeNames.first(where: { $0.0 == s })?.1 else {
                    throw bad(.unsupportedDType("'\(s)' (supported: BOOL U8 I8 I16 I32 I64 F16 BF16 F32 F64)"))
                }
                dtype = d
            case "shape", "data_offsets":
                guard case .array(let items) = v else { throw bad(.malformedHeader("\(k) is not an array")) }
                var ints: [Int] = []
                for item in items {
                    guard let i = item.integer, i >= 0 else {
                        throw bad(k == "shape" ? .invalidShape("entries must be non-negative integers")
                                               : .invalidOffsets("entries must be non-negative integers"))
                    }
                    ints.append(i)
                }
                if k == "shape" { shape = ints } else { offsets = ints }
            default:
                throw bad(.malformedHeader("unexpected key '\(k)' in tensor entry"))
            }
        }
        guard let dtype, let shape, let offsets else {
            throw bad(.malformedHeader("tensor entry needs dtype, shape and data_offsets"))
        }
        guard offsets.count == 2, offsets[0] <= offsets[1] else {
            throw bad(.invalidOffsets("data_offsets must be [begin, end] with begin ≤ end"))
        }
        guard let size = ArrayPayload.byteCount(shape: shape, dtype: dtype) else {
            throw bad(.invalidShape("shape \(shape) of \(dtype) overflows"))
        }
        guard size == offsets[1] - offsets[0] else {
            throw bad(.sizeMismatch("shape \(shape) of \(dtype) needs \(size) bytes, data_offsets span \(offsets[1] - offsets[0])"))
        }
        return SafeTensorsEntry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
    }

    /// Validates a file and returns views of every tensor (in header order, valid as long as
    /// `bytes`) and the metadata.
    static func views(_ bytes: UnsafeRawBufferPointer) throws -> (tensors: [(name: String, view: RawArrayView)], metadata: [String: String]) {
        let r = ByteReader(bytes: bytes, format: .safetensors)
        let (entries, metadata, dataStart) = try parseHeader(r)
        var tensors: [(name: String, view: RawArrayView)] = []
        tensors.reserveCapacity(entries.count)
        for e in entries {
            let data = try r.slice(dataStart + e.begin, e.end - e.begin, "tensor data")
            tensors.append((e.name, RawArrayView(dtype: e.dtype, shape: e.shape, data: data)))
        }
        return (tensors, metadata)
    }

    /// Decodes every tensor (in header order) and the metadata.
    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> (tensors: [(name: String, array: ArrayPayload)], metadata: [String: String]) {
        let (views, metadata) = try views(bytes)
        return (views.map { ($0.name, ArrayPayload($0.view)) }, metadata)
    }

    /// The reference implementation's `Dtype` order (restricted to ours); it lays tensors out
    /// by decreasing rank, which is decreasing element size, so each is aligned to its size.
    static func layoutRank(_ d: DType) -> Int {
        switch d {
        case .bool: return 0
        case .uint8: return 1
        case .int8: return 2
        case .int16: return 3
        case .float16: return 4
        case .bfloat16: return 5
        case .int32: return 6
        case .float32: return 7
        case .float64: return 8
        case .int64: return 9
        }
    }

    /// Encodes tensors laid out as the reference implementation does (decreasing dtype rank,
    /// then name), so files without metadata are byte-identical to its output; the header
    /// is padded with spaces to a multiple of 8 bytes.
    /// - Throws: `.invalidName` for a tensor named `__metadata__`, `.duplicateName`.
    static func encode(_ tensors: [(name: String, array: ArrayPayload)], metadata: [String: String]) throws -> [UInt8] {
        var seen = Set<String>()
        for (name, _) in tensors {
            guard name != "__metadata__" else {
                throw TensorIOError(.safetensors, .invalidName("'__metadata__' is reserved"), member: name)
            }
            guard seen.insert(name).inserted else {
                throw TensorIOError(.safetensors, .duplicateName("two tensors named '\(name)'"), member: name)
            }
        }
        let ordered = tensors.sorted {
            let a = layoutRank($0.array.dtype), b = layoutRank($1.array.dtype)
            return a != b ? a > b : $0.name < $1.name
        }
        var parts: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }.map { JSONWriter.quote($0.key) + ":" + JSONWriter.quote($0.value) }
            parts.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for (name, a) in ordered {
            let end = offset + a.bytes.count
            parts.append(JSONWriter.quote(name) + ":{\"dtype\":\"\(self.name(of: a.dtype))\",\"shape\":["
                         + a.shape.map(String.init).joined(separator: ",") + "],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var header = Array(("{" + parts.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        out.appendLE64(UInt64(header.count))
        out += header
        for (_, a) in ordered { out += a.bytes }
        return out
    }
}
