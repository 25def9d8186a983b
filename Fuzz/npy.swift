// libFuzzer entry for the .npy reader. Build and run with Fuzz/run.sh npy (see README.md).
// Any input must decode or throw TensorIOError; what decodes must survive encode → decode.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPY(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    guard let payload = try? NPYFormat.decode(input) else { return 0 }
    let again = try? NPYFormat.decode(NPYFormat.encode(payload))
    precondition(again == payload, "npy: encode/decode round trip changed the array")
    return 0
}
