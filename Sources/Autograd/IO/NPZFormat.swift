/// NumPy `.npz` archives: a ZIP whose members are `.npy` files named `<key>.npy`, stored by
/// `np.savez` and deflated by `np.savez_compressed`.
enum NPZFormat {
    /// Decodes every member, in archive order, keyed by member name without `.npy`.
    /// Directory entries are skipped; any other member must be a valid `.npy` image.
    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> [(name: String, array: ArrayPayload)] {
        let r = ByteReader(bytes: bytes, format: .zip)
        var result: [(name: String, array: ArrayPayload)] = []
        var seen = Set<String>()
        for entry in try ZIPArchive.entries(r) {
            if entry.name.hasSuffix("/") && entry.uncompressedSize == 0 { continue }
            let key = entry.name.hasSuffix(".npy") ? String(entry.name.dropLast(4)) : entry.name
            guard seen.insert(key).inserted else {
                throw TensorIOError(.npz, .duplicateName("two members named '\(key)'"), member: entry.name,
                                    offset: entry.localHeaderOffset)
            }
            let data = try ZIPArchive.extract(entry, from: r)
            do {
                result.append((key, try NPYFormat.decode(data)))
            } catch let e as TensorIOError {
                throw e.inMember(entry.name)
            }
        }
        return result
    }

    /// Encodes arrays as an archive with members `<name>.npy`, in the order given.
    /// - Throws: `.duplicateName` or `.invalidName` for names that cannot be stored.
    static func encode(_ arrays: [(name: String, array: ArrayPayload)], compressed: Bool,
                       forceZIP64: Bool = false) throws -> [UInt8] {
        var seen = Set<String>()
        for (name, _) in arrays {
            guard !name.isEmpty else { throw TensorIOError(.npz, .invalidName("empty array name")) }
            guard seen.insert(name).inserted else {
                throw TensorIOError(.npz, .duplicateName("two arrays named '\(name)'"), member: name)
            }
        }
        return try ZIPArchive.write(arrays.map { ($0.name + ".npy", NPYFormat.encode($0.array)) },
                                    compressed: compressed, forceZIP64: forceZIP64)
    }
}
