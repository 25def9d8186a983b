/// One member of a ZIP archive, as its central directory entry and local header describe it.
struct ZIPEntry: Equatable {
    var name: String
    var nameBytes: [UInt8]
    var flags: UInt16
    var method: UInt16
    var crc32: UInt32
    var compressedSize: Int
    var uncompressedSize: Int
    var localHeaderOffset: Int
    /// Where the member's (possibly compressed) data starts, from its local header.
    var dataOffset: Int
}

/// ZIP archives (PKWARE APPNOTE 6.3): the end-of-central-directory record, the ZIP64 end
/// record and locator, central directory entries with ZIP64 extra fields, local headers,
/// and members stored (method 0) or deflated (method 8), with CRC-32 checked.
///
/// Everything is validated against the buffer before use: every offset and size must lie
/// inside the archive, member data must not overlap other members or the central directory,
/// and a deflated member may not declare more than DEFLATE's maximum expansion of its
/// compressed size, so no declared size is allocated before it is shown to be possible.
enum ZIPArchive {
    static let localSignature: UInt32 = 0x0403_4B50
    static let centralSignature: UInt32 = 0x0201_4B50
    static let endSignature: UInt32 = 0x0605_4B50
    static let zip64EndSignature: UInt32 = 0x0606_4B50
    static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    /// DEFLATE cannot expand a stream by more than about 1032:1 (258-byte matches coded in
    /// 2 bits); declared sizes beyond that are lies.
    static let maxDeflateRatio = 1032

    // MARK: - Reading

    /// Parses the central directory and every local header.
    static func entries(_ r: ByteReader) throws -> [ZIPEntry] {
        let n = r.count
        guard n >= 22 else {
            throw r.error(.truncated("\(n) bytes is too short for a ZIP archive"), at: 0)
        }
        // The end record is 22 bytes plus a comment of at most 65535 bytes; the comment
        // length must reach exactly to the end of the file.
        var eocd = -1
        var p = n - 22
        let lowest = max(0, n - 22 - 0xFFFF)
        while p >= lowest {
            if r.bytes[p] == 0x50, try r.u32(p) == endSignature, Int(try r.u16(p + 20)) == n - p - 22 {
                eocd = p
                break
            }
            p -= 1
        }
        guard eocd >= 0 else {
            throw r.error(.badMagic("no end-of-central-directory record (not a ZIP archive?)"), at: max(0, n - 22))
        }
        let disk = try r.u16(eocd + 4), cdDisk = try r.u16(eocd + 6)
        var diskEntries = Int(try r.u16(eocd + 8))
        var entryCount = Int(try r.u16(eocd + 10))
        var cdSize = Int(try r.u32(eocd + 12))
        var cdOffset = Int(try r.u32(eocd + 16))
        var cdLimit = eocd   // the central directory must end before this

        let locator = eocd - 20
        if locator >= 0, try r.u32(locator) == zip64LocatorSignature {
            let recordOffset = try toInt(r.u64(locator + 8), r, at: locator + 8, "ZIP64 end record offset")
            guard try r.u32(locator + 4) == 0, try r.u32(locator + 16) <= 1 else {
                throw r.error(.unsupportedFeature("multi-disk archive"), at: locator)
            }
            guard recordOffset <= locator - 56 else {
                throw r.error(.invalidOffsets("ZIP64 end record at \(recordOffset) does not fit before its locator"), at: locator + 8)
            }
            guard try r.u32(recordOffset) == zip64EndSignature else {
                throw r.error(.badMagic("no ZIP64 end-of-central-directory record where the locator points"), at: recordOffset)
            }
            guard try r.u32(recordOffset + 16) == 0, try r.u32(recordOffset + 20) == 0 else {
                throw r.error(.unsupportedFeature("multi-disk archive"), at: recordOffset + 16)
            }
            diskEntries = try toInt(r.u64(recordOffset + 24), r, at: recordOffset + 24, "entry count")
            entryCount = try toInt(r.u64(recordOffset + 32), r, at: recordOffset + 32, "entry count")
            cdSize = try toInt(r.u64(recordOffset + 40), r, at: recordOffset + 40, "central directory size")
            cdOffset = try toInt(r.u64(recordOffset + 48), r, at: recordOffset + 48, "central directory offset")
            cdLimit = recordOffset
        } else if disk != 0 || cdDisk != 0 {
            throw r.error(.unsupportedFeature("multi-disk archive"), at: eocd + 4)
        }
        guard diskEntries == entryCount else {
            throw r.error(.unsupportedFeature("multi-disk archive (\(diskEntries) of \(entryCount) entries on this disk)"), at: eocd + 8)
        }
        guard cdOffset <= cdLimit, cdSize <= cdLimit - cdOffset else {
            throw r.error(.invalidOffsets("central directory [\(cdOffset), +\(cdSize)) runs past its end record at \(cdLimit)"),
                          at: eocd + 12)
        }
        guard entryCount <= cdSize / 46 else {
            throw r.error(.sizeMismatch("\(entryCount) entries cannot fit in a \(cdSize)-byte central directory"), at: eocd + 10)
        }

        var result: [ZIPEntry] = []
        result.reserveCapacity(entryCount)
        var q = cdOffset
        let cdEnd = cdOffset + cdSize
        for _ in 0..<entryCount {
            guard cdEnd - q >= 46 else {
                throw r.error(.truncated("central directory entry runs past the directory"), at: q)
            }
            guard try r.u32(q) == centralSignature else {
                throw r.error(.badMagic("expected a central directory entry"), at: q)
            }
            let flags = try r.u16(q + 8)
            let method = try r.u16(q + 10)
            let crc = try r.u32(q + 16)
            let comp32 = try r.u32(q + 20), uncomp32 = try r.u32(q + 24)
            let nameLength = Int(try r.u16(q + 28)), extraLength = Int(try r.u16(q + 30))
            let commentLength = Int(try r.u16(q + 32))
            let diskStart16 = try r.u16(q + 34)
            let offset32 = try r.u32(q + 42)
            let total = 46 + nameLength + extraLength + commentLength
            guard total <= cdEnd - q else {
                throw r.error(.truncated("central directory entry runs past the directory"), at: q)
            }
            let nameBytes = try r.copy(q + 46, nameLength, "a member name")
            let name = decodeName(nameBytes)
            var compressed = Int(comp32), uncompressed = Int(uncomp32), localOffset = Int(offset32)
            var diskStart = UInt32(diskStart16)

            // Extra fields; the ZIP64 one (id 1) holds the 64-bit values of saturated fields, in order.
            var e = q + 46 + nameLength
            let extraEnd = e + extraLength
            while extraEnd - e >= 4 {
                let id = try r.u16(e), size = Int(try r.u16(e + 2))
                guard size <= extraEnd - e - 4 else {
                    throw r.error(.malformedHeader("extra field runs past its entry"), at: e)
                }
                if id == 0x0001 {
                    var f = e + 4
                    let fieldEnd = f + size
                    func next64(_ what: String) throws -> Int {
                        guard fieldEnd - f >= 8 else {
                            throw r.error(.malformedHeader("ZIP64 extra field lacks the \(what)"), at: f)
                        }
                        defer { f += 8 }
                        return try toInt(r.u64(f), r, at: f, what)
                    }
                    if uncomp32 == 0xFFFF_FFFF { uncompressed = try next64("uncompressed size") }
                    if comp32 == 0xFFFF_FFFF { compressed = try next64("compressed size") }
                    if offset32 == 0xFFFF_FFFF { localOffset = try next64("local header offset") }
                    if diskStart16 == 0xFFFF {
                        guard fieldEnd - f >= 4 else {
                            throw r.error(.malformedHeader("ZIP64 extra field lacks the disk number"), at: f)
                        }
                        diskStart = try r.u32(f)
                    }
                }
                e += 4 + size
            }
            guard diskStart == 0 else {
                throw r.error(.unsupportedFeature("member on disk \(diskStart) of a multi-disk archive"), at: q + 34)
            }
            if flags & 0x41 != 0 {
                throw r.error(.unsupportedFeature("encrypted member '\(name)'"), at: q + 8)
            }
            guard method == 0 || method == 8 else {
                throw r.error(.unsupportedFeature("compression method \(method) for '\(name)' (supported: 0 stored, 8 deflate)"),
                              at: q + 10)
            }
            result.append(ZIPEntry(name: name, nameBytes: nameBytes, flags: flags, method: method, crc32: crc,
                                   compressedSize: compressed, uncompressedSize: uncompressed,
                                   localHeaderOffset: localOffset, dataOffset: 0))
            q += total
        }

        // Local headers, and the data ranges they lead to.
        for i in result.indices {
            let lo = result[i].localHeaderOffset
            guard lo <= cdOffset, cdOffset - lo >= 30 else {
                throw r.error(.invalidOffsets("local header of '\(result[i].name)' at \(lo) is not before the central directory"),
                              at: lo)
            }
            guard try r.u32(lo) == localSignature else {
                throw r.error(.badMagic("expected the local header of '\(result[i].name)'"), at: lo)
            }
            let nameLength = Int(try r.u16(lo + 26)), extraLength = Int(try r.u16(lo + 28))
            let dataOffset = lo + 30 + nameLength + extraLength
            guard try r.copy(lo + 30, nameLength, "a member name") == result[i].nameBytes else {
                throw r.error(.malformedHeader("local header name differs from the central directory's '\(result[i].name)'"),
                              at: lo + 30)
            }
            guard dataOffset <= cdOffset, result[i].compressedSize <= cdOffset - dataOffset else {
                throw r.error(.invalidOffsets("data of '\(result[i].name)' runs into the central directory"), at: dataOffset)
            }
            result[i].dataOffset = dataOffset
        }
        // Members may not share bytes (overlapping members are a known decompression bomb).
        let byOffset = result.sorted { $0.localHeaderOffset < $1.localHeaderOffset }
        for k in byOffset.indices.dropFirst() {
            let a = byOffset[k - 1], b = byOffset[k]
            guard b.localHeaderOffset >= a.dataOffset + a.compressedSize else {
                throw r.error(.invalidOffsets("members '\(a.name)' and '\(b.name)' overlap"), at: b.localHeaderOffset)
            }
        }
        return result
    }

    /// The uncompressed bytes of one member, CRC-checked.
    static func extract(_ entry: ZIPEntry, from r: ByteReader) throws -> [UInt8] {
        let data: [UInt8]
        do {
            if entry.method == 0 {
                guard entry.compressedSize == entry.uncompressedSize else {
                    throw r.error(.sizeMismatch("stored member: compressed size \(entry.compressedSize) ≠ uncompressed size \(entry.uncompressedSize)"),
                                  at: entry.localHeaderOffset)
                }
                data = try r.copy(entry.dataOffset, entry.compressedSize, "member data")
            } else {
                let (bound, overflow) = entry.compressedSize.multipliedReportingOverflow(by: maxDeflateRatio)
                guard overflow || entry.uncompressedSize <= bound + 64 else {
                    throw r.error(.limitExceeded("declared size \(entry.uncompressedSize) is more than DEFLATE can expand \(entry.compressedSize) bytes to"),
                                  at: entry.localHeaderOffset)
                }
                let input = try r.slice(entry.dataOffset, entry.compressedSize, "member data")
                data = try Inflater.decompress(input, expectedSize: entry.uncompressedSize,
                                               baseOffset: r.baseOffset + entry.dataOffset)
            }
            let actual = CRC32.checksum(data)
            guard actual == entry.crc32 else {
                throw r.error(.checksumMismatch(expected: entry.crc32, actual: actual), at: entry.dataOffset)
            }
        } catch let e as TensorIOError {
            throw e.inMember(entry.name)
        }
        return data
    }

    /// Every member's name and bytes, in central directory order.
    static func read(_ bytes: UnsafeRawBufferPointer) throws -> [(name: String, data: [UInt8])] {
        let r = ByteReader(bytes: bytes, format: .zip)
        return try entries(r).map { ($0.name, try extract($0, from: r)) }
    }

    static func toInt(_ v: UInt64, _ r: ByteReader, at offset: Int, _ what: String) throws -> Int {
        guard v <= UInt64(Int.max) else { throw r.error(.limitExceeded("\(what) \(v)"), at: offset) }
        return Int(v)
    }

    /// Names are UTF-8 (flag bit 11, or plain ASCII); older tools wrote code page 437, read
    /// here as Latin-1, which agrees on ASCII.
    static func decodeName(_ bytes: [UInt8]) -> String {
        if let s = String(validating: bytes, as: UTF8.self) { return s }
        return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    }

    // MARK: - Writing

    /// Builds an archive. Members are deflated when `compressed` (else stored); ZIP64 fields
    /// are written where sizes or offsets need them, or everywhere when `forceZIP64`.
    /// Timestamps are fixed at 1980-01-01 00:00 so output is reproducible.
    /// - Throws: `.invalidName` for an empty name or one longer than 65535 bytes.
    static func write(_ members: [(name: String, data: [UInt8])], compressed: Bool,
                      forceZIP64: Bool = false) throws -> [UInt8] {
        for m in members where m.name.utf8.count > 0xFFFF || m.name.isEmpty {
            throw TensorIOError(.zip, .invalidName("member name must be 1 to 65535 UTF-8 bytes"), member: m.name)
        }
        var out: [UInt8] = []
        var central: [UInt8] = []
        let dosDate: UInt16 = (0 << 9) | (1 << 5) | 1
        for m in members {
            let name = Array(m.name.utf8)
            let payload = compressed ? Deflater.compress(m.data) : m.data
            let crc = CRC32.checksum(m.data)
            let method: UInt16 = compressed ? 8 : 0
            let offset = out.count
            let big = 0xFFFF_FFFF
            let sizes64 = forceZIP64 || m.data.count >= big || payload.count >= big
            let offset64 = forceZIP64 || offset >= big
            let flags: UInt16 = name.allSatisfy { $0 < 0x80 } ? 0 : 0x0800
            let version: UInt16 = sizes64 || offset64 ? 45 : 20

            out.appendLE32(localSignature)
            out.appendLE16(version)
            out.appendLE16(flags)
            out.appendLE16(method)
            out.appendLE16(0)
            out.appendLE16(dosDate)
            out.appendLE32(crc)
            out.appendLE32(sizes64 ? UInt32(big) : UInt32(payload.count))
            out.appendLE32(sizes64 ? UInt32(big) : UInt32(m.data.count))
            out.appendLE16(UInt16(name.count))
            out.appendLE16(sizes64 ? 20 : 0)
            out += name
            if sizes64 {
                out.appendLE16(1)
                out.appendLE16(16)
                out.appendLE64(UInt64(m.data.count))
                out.appendLE64(UInt64(payload.count))
            }
            out += payload

            var extra: [UInt8] = []
            if sizes64 || offset64 {
                var body: [UInt8] = []
                if sizes64 { body.appendLE64(UInt64(m.data.count)); body.appendLE64(UInt64(payload.count)) }
                if offset64 { body.appendLE64(UInt64(offset)) }
                extra.appendLE16(1)
                extra.appendLE16(UInt16(body.count))
                extra += body
            }
            central.appendLE32(centralSignature)
            central.appendLE16(3 << 8 | 45)    // made by: Unix, spec 4.5
            central.appendLE16(version)
            central.appendLE16(flags)
            central.appendLE16(method)
            central.appendLE16(0)
            central.appendLE16(dosDate)
            central.appendLE32(crc)
            central.appendLE32(sizes64 ? UInt32(big) : UInt32(payload.count))
            central.appendLE32(sizes64 ? UInt32(big) : UInt32(m.data.count))
            central.appendLE16(UInt16(name.count))
            central.appendLE16(UInt16(extra.count))
            central.appendLE16(0)                // comment
            central.appendLE16(0)                // disk
            central.appendLE16(0)                // internal attributes
            central.appendLE32(0o100644 << 16)   // external: regular file, rw-r--r--
            central.appendLE32(offset64 ? UInt32(big) : UInt32(offset))
            central += name
            central += extra
        }
        let cdOffset = out.count
        out += central
        let zip64 = forceZIP64 || members.count >= 0xFFFF || central.count >= 0xFFFF_FFFF || cdOffset >= 0xFFFF_FFFF
        if zip64 {
            let recordOffset = out.count
            out.appendLE32(zip64EndSignature)
            out.appendLE64(44)                   // size of the rest of this record
            out.appendLE16(3 << 8 | 45)
            out.appendLE16(45)
            out.appendLE32(0)
            out.appendLE32(0)
            out.appendLE64(UInt64(members.count))
            out.appendLE64(UInt64(members.count))
            out.appendLE64(UInt64(central.count))
            out.appendLE64(UInt64(cdOffset))
            out.appendLE32(zip64LocatorSignature)
            out.appendLE32(0)
            out.appendLE64(UInt64(recordOffset))
            out.appendLE32(1)
        }
        out.appendLE32(endSignature)
        out.appendLE16(0)
        out.appendLE16(0)
        out.appendLE16(zip64 ? 0xFFFF : UInt16(members.count))
        out.appendLE16(zip64 ? 0xFFFF : UInt16(members.count))
        out.appendLE32(zip64 ? 0xFFFF_FFFF : UInt32(central.count))
        out.appendLE32(zip64 ? 0xFFFF_FFFF : UInt32(cdOffset))
        out.appendLE16(0)
        return out
    }
}
