// libFuzzer entry for the ZIP reader and the .npz layer. Build and run with Fuzz/run.sh npz.
// Any input must read or throw; an archive that reads must survive write → read, both
// stored and compressed.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNPZ(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    _ = try? ZIPArchive.read(input)
    guard let arrays = try? NPZFormat.decode(input) else { return 0 }
    // Re-encoding (and compressing) large members would dominate the run time; the deflate
    // target covers compression of arbitrary data.
    guard arrays.reduce(0, { $0 + $1.array.bytes.count }) <= 16384 else { return 0 }
    for compressed in [false, true] {
        guard let bytes = try? NPZFormat.encode(arrays, compressed: compressed) else { continue }
        let back = try? bytes.withUnsafeBytes { try NPZFormat.decode($0) }
        precondition(back?.map(\.name) == arrays.map(\.name) && back?.map(\.array) == arrays.map(\.array),
                     "npz: write/read round trip changed the archive")
    }
    return 0
}
