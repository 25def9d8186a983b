/// CRC-32 as used by ZIP and zlib (reflected polynomial 0xEDB88320), slicing by 4 bytes.
struct CRC32 {
    private(set) var value: UInt32 = 0

    /// Four 256-entry tables: table k gives the CRC of a byte followed by k zero bytes.
    static let tables: [[UInt32]] = {
        var t0 = [UInt32](repeating: 0, count: 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            t0[i] = c
        }
        var tables = [t0]
        for k in 1..<4 {
            var t = [UInt32](repeating: 0, count: 256)
            for i in 0..<256 { t[i] = (tables[k - 1][i] >> 8) ^ t0[Int(tables[k - 1][i] & 0xFF)] }
            tables.append(t)
        }
        return tables
    }()

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        let t = CRC32.tables
        let t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3]
        var c = ~value
        var i = 0
        let n = bytes.count
        while i + 4 <= n {
            c ^= UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
            c = t3[Int(c & 0xFF)] ^ t2[Int((c >> 8) & 0xFF)] ^ t1[Int((c >> 16) & 0xFF)] ^ t0[Int(c >> 24)]
            i += 4
        }
        while i < n {
            c = t0[Int((c ^ UInt32(bytes[i])) & 0xFF)] ^ (c >> 8)
            i += 1
        }
        value = ~c
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32()
        crc.update(bytes)
        return crc.value
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }
}
