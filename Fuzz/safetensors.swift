// libFuzzer entry for the safetensors reader. Build and run with Fuzz/run.sh safetensors.
// Any input must decode or throw; what decodes must survive encode → decode.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    guard let decoded = try? SafeTensorsFormat.decode(input) else { return 0 }
    let bytes: [UInt8]
    do {
        bytes = try SafeTensorsFormat.encode(decoded.tensors, metadata: decoded.metadata)
    } catch {
        // Only a tensor named __metadata__ can fail, and the reader never produces one.
        preconditionFailure("safetensors: re-encoding a decoded file threw \(error)")
    }
    let back = try? bytes.withUnsafeBytes { try SafeTensorsFormat.decode($0) }
    precondition(back.map { Dictionary(uniqueKeysWithValues: $0.tensors.map { ($0.name, $0.array) }) }
                 == Dictionary(uniqueKeysWithValues: decoded.tensors.map { ($0.name, $0.array) })
                 && back?.metadata == decoded.metadata, "safetensors: round trip changed the file")
    return 0
}
