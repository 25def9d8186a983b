import Foundation

/// A minimal safetensors reader and writer for state dicts: an 8-byte little-endian header
/// length, a JSON header `{name: {dtype, shape, data_offsets}}`, then the raw little-endian
/// bytes. Used until the full IO module is available.
enum StateDictFile {
    static let names: [DType: String] = [
        .bool: "BOOL", .uint8: "U8", .int8: "I8", .int16: "I16", .int32: "I32", .int64: "I64",
        .float16: "F16", .bfloat16: "BF16", .float32: "F32", .float64: "F64",
    ]

    static func write(_ tensors: [String: Tensor], to path: String) throws {
        var header: [String: Any] = [:]
        var data = Data()
        for (name, tensor) in tensors.sorted(by: { $0.key < $1.key }) {
            let start = data.count
            tensor.withUnsafeBytes { data.append(contentsOf: $0) }
            header[name] = ["dtype": names[tensor.dtype] ?? "F32", "shape": tensor.shape, "data_offsets": [start, data.count]] as [String: Any]
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var length = UInt64(json.count).littleEndian
        var file = Data(bytes: &length, count: 8)
        file.append(json)
        file.append(data)
        do {
            try file.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ModuleError.file(path: path, reason: "cannot write: \(error.localizedDescription)")
        }
    }

    static func read(_ path: String) throws -> [String: Tensor] {
        guard let file = FileManager.default.contents(atPath: path) else {
            throw ModuleError.file(path: path, reason: "cannot read the file")
        }
        guard file.count >= 8 else { throw ModuleError.file(path: path, reason: "shorter than the 8-byte header length") }
        let length = file.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length <= UInt64(file.count - 8) else {
            throw ModuleError.file(path: path, reason: "header length \(length) runs past the end of the file (\(file.count) bytes)")
        }
        let headerEnd = 8 + Int(length)
        guard let header = try? JSONSerialization.jsonObject(with: file.subdata(in: 8..<headerEnd)) as? [String: Any] else {
            throw ModuleError.file(path: path, reason: "the header at byte 8 is not a JSON object")
        }
        var result: [String: Tensor] = [:]
        for (name, entry) in header where name != "__metadata__" {
            guard let info = entry as? [String: Any], let dtypeName = info["dtype"] as? String,
                  let dtype = names.first(where: { $0.value == dtypeName })?.key,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2,
                  shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[1] - offsets[0] == Shape.count(shape) * dtype.byteCount,
                  headerEnd + offsets[1] <= file.count else {
                throw ModuleError.file(path: path, reason: "malformed header entry for tensor \"\(name)\"")
            }
            let bytes = file.subdata(in: (headerEnd + offsets[0])..<(headerEnd + offsets[1]))
            result[name] = bytes.withUnsafeBytes { Tensor.fromBytes($0, shape: shape, dtype: dtype) }
        }
        return result
    }
}
