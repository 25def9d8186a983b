import XCTest
@testable import Autograd

final class ZIPTests: XCTestCase {
    // MARK: - Archives written by NumPy

    func testReadsNumPyArchives() throws {
        let files = try IOFixtures.section("npz")
        XCTAssertEqual(Set(files.keys), ["savez.npz", "savez_compressed.npz", "compressed_large.npz", "empty.npz"])
        for (name, expected) in files {
            let arrays = try IOFixtures.bytes(name).withUnsafeBytes { try NPZFormat.decode($0) }
            let table = try XCTUnwrap(expected as? [String: Any])
            XCTAssertEqual(Set(arrays.map(\.name)), Set(table.keys), name)
            for (key, payload) in arrays { assertPayload(payload, matches: table[key], "\(name)/\(key)") }
        }
    }

    func testNumPyArchivesUseTheExpectedMethods() throws {
        // np.savez stores (with ZIP64 extra fields in the local headers); savez_compressed deflates.
        for (name, method) in [("savez.npz", UInt16(0)), ("savez_compressed.npz", UInt16(8))] {
            let entries = try IOFixtures.bytes(name).withUnsafeBytes { try ZIPArchive.entries(ByteReader(bytes: $0, format: .zip)) }
            XCTAssertTrue(entries.allSatisfy { $0.method == method }, name)
        }
    }

    // MARK: - Round trips

    func testRoundTripsStoredCompressedAndZIP64() throws {
        let arrays: [(name: String, array: ArrayPayload)] = [
            ("a", randomPayload(.float32, [3, 4])),
            ("b/nested", randomPayload(.int64, [0, 2])),
            ("ünïcode", randomPayload(.bool, [])),
            ("zeros", ArrayPayload(dtype: .float64, shape: [50, 50], bytes: [UInt8](repeating: 0, count: 20000))),
        ]
        for compressed in [false, true] {
            for zip64 in [false, true] {
                let bytes = try NPZFormat.encode(arrays, compressed: compressed, forceZIP64: zip64)
                let back = try bytes.withUnsafeBytes { try NPZFormat.decode($0) }
                XCTAssertEqual(back.map(\.name), arrays.map(\.name))
                XCTAssertEqual(back.map(\.array), arrays.map(\.array))
                if compressed { XCTAssertLessThan(bytes.count, 2000) }
            }
        }
    }

    func testEmptyArchive() throws {
        let bytes = try ZIPArchive.write([], compressed: false)
        XCTAssertEqual(bytes.count, 22)
        XCTAssertTrue(try bytes.withUnsafeBytes { try ZIPArchive.read($0) }.isEmpty)
    }

    func testWriterRejectsBadNames() {
        assertIOError("duplicateName") {
            try NPZFormat.encode([("x", randomPayload(.int8, [1])), ("x", randomPayload(.int8, [1]))], compressed: false)
        }
        assertIOError("invalidName") { try NPZFormat.encode([("", randomPayload(.int8, [1]))], compressed: false) }
        assertIOError("invalidName") {
            try ZIPArchive.write([(String(repeating: "n", count: 70000), [])], compressed: false)
        }
    }

    // MARK: - Malformed archives

    private func archive(compressed: Bool = false) throws -> [UInt8] {
        try ZIPArchive.write([("first.npy", Array("first member data, first member data".utf8)),
                              ("second.npy", Array("second".utf8))], compressed: compressed)
    }

    private func read(_ bytes: [UInt8]) throws -> [(name: String, data: [UInt8])] {
        try bytes.withUnsafeBytes { try ZIPArchive.read($0) }
    }

    func testRejectsNonArchives() {
        assertIOError("truncated", format: .zip) { try read([]) }
        assertIOError("badMagic") { try read([UInt8](repeating: 0, count: 100)) }
        assertIOError("badMagic") { try read(NPYFormat.encode(randomPayload(.int8, [40]))) }
    }

    func testRejectsEveryTruncation() throws {
        for compressed in [false, true] {
            let full = try archive(compressed: compressed)
            for n in 0..<full.count {
                do {
                    _ = try read(Array(full.prefix(n)))
                    XCTFail("prefix \(n) read")
                } catch is TensorIOError {}
            }
        }
    }

    func testDetectsCorruptedData() throws {
        var stored = try archive()
        stored[30 + "first.npy".utf8.count + 3] ^= 0x01
        let e = assertIOError("checksumMismatch") { try read(stored) }
        XCTAssertEqual(e?.member, "first.npy")

        var deflated = try archive(compressed: true)
        deflated[30 + "first.npy".utf8.count + 2] ^= 0x40
        do {
            _ = try read(deflated)
            XCTFail("corrupt deflate data read")
        } catch let e as TensorIOError {
            XCTAssertTrue([.deflate, .zip].contains(e.format), "\(e)")
        }
    }

    /// Offsets into `archive()` (stored): the central directory entries and end record.
    private func layout(_ bytes: [UInt8]) throws -> (cd: [Int], eocd: Int) {
        let eocd = bytes.count - 22
        var p = Int(bytes[eocd + 16]) | Int(bytes[eocd + 17]) << 8
        var cd: [Int] = []
        while p < eocd {
            cd.append(p)
            p += 46 + Int(bytes[p + 28]) + Int(bytes[p + 30]) + Int(bytes[p + 32])
        }
        return (cd, eocd)
    }

    private func patch32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
        for i in 0..<4 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
    }

    func testRejectsLyingSizesAndOffsets() throws {
        let good = try archive()
        let (cd, eocd) = try layout(good)

        var b = good   // compressed size larger than the data before the directory
        patch32(&b, cd[0] + 20, 1_000_000); patch32(&b, cd[0] + 24, 1_000_000)
        assertIOError("invalidOffsets") { try read(b) }

        b = good       // stored member whose sizes disagree
        patch32(&b, cd[1] + 24, 5)
        assertIOError("sizeMismatch") { try read(b) }

        b = good       // local header offset past the directory
        patch32(&b, cd[1] + 42, UInt32(eocd))
        assertIOError("invalidOffsets") { try read(b) }

        b = good       // both entries point at the first member: overlap
        patch32(&b, cd[1] + 42, 0)
        XCTAssertNotNil(assertIOError("malformedHeader") { try read(b) })   // names differ first
        b = good
        patch32(&b, cd[1] + 42, 0)
        for i in 0..<"first.npy".utf8.count { b[cd[1] + 46 + i] = Array("first.npy".utf8)[i] }
        b[cd[1] + 28] = UInt8("first.npy".utf8.count)
        assertIOError("invalidOffsets") { try read(Array(b)) }

        b = good       // directory offset beyond the end record
        patch32(&b, eocd + 16, UInt32(eocd + 1))
        assertIOError("invalidOffsets") { try read(b) }

        b = good       // more entries than the directory can hold
        b[eocd + 8] = 200; b[eocd + 10] = 200
        assertIOError("sizeMismatch") { try read(b) }

        b = good       // wrong local header signature
        b[0] = 0x51
        assertIOError("badMagic") { try read(b) }
    }

    func testRejectsAbsurdDeflateSize() throws {
        var b = try archive(compressed: true)
        let (cd, _) = try layout(b)
        patch32(&b, cd[0] + 24, 0xFFFF_FFF0)
        assertIOError("limitExceeded") { try read(b) }
    }

    func testRejectsUnsupportedFeatures() throws {
        let good = try archive()
        let (cd, eocd) = try layout(good)
        var b = good
        b[cd[0] + 8] |= 1                  // encrypted
        assertIOError("unsupportedFeature") { try read(b) }
        b = good
        b[cd[0] + 10] = 12                 // bzip2
        assertIOError("unsupportedFeature") { try read(b) }
        b = good
        b[eocd + 4] = 1                    // disk 1 of a multi-disk set
        assertIOError("unsupportedFeature") { try read(b) }
    }

    func testZIP64RecordsAndExtraFields() throws {
        let b = try ZIPArchive.write([("x", [1, 2, 3])], compressed: false, forceZIP64: true)
        // Locator just before the end record; the end record's fields are saturated.
        let eocd = b.count - 22
        XCTAssertEqual(Array(b[(eocd - 20)..<(eocd - 16)]), [0x50, 0x4B, 0x06, 0x07])
        XCTAssertEqual(Array(b[(eocd + 16)..<(eocd + 20)]), [0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertEqual(try read(b).first?.data, [1, 2, 3])

        // A ZIP64 extra field too short for the saturated fields it must hold.
        var short = b
        let cdStart = Int(try b.withUnsafeBytes { try ByteReader(bytes: $0, format: .zip).u64(eocd - 76 + 48) })
        short[cdStart + 46 + 1 + 2] = 8    // extra field data size 24 -> 8
        assertIOError("malformedHeader") { try read(short) }

        // A locator pointing nowhere.
        var lost = b
        patch32(&lost, eocd - 20 + 8, 0xFFFF)
        assertIOError("invalidOffsets") { try read(lost) }
    }
}
