// libFuzzer entry for the DEFLATE decoder and encoder. Build and run with Fuzz/run.sh deflate.
// Any input must inflate or throw (with output capped at 1 MiB); and every input, taken as
// plain data, must come back unchanged from compress → decompress.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDeflate(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    _ = try? Inflater.decompress(input, limit: 1 << 20)
    let packed = Deflater.compress(input)
    let unpacked = try? Inflater.decompress(packed, expectedSize: input.count)
    precondition(unpacked == [UInt8](input), "deflate: compress/decompress round trip failed")
    return 0
}
