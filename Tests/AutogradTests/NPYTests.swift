import Foundation
import XCTest
@testable import Autograd

final class NPYTests: XCTestCase {
    // MARK: - Fixtures written by NumPy

    func testReadsEveryNumPyFixture() throws {
        let files = try IOFixtures.section("npy")
        XCTAssertGreaterThanOrEqual(files.count, 30)
        for (name, entry) in files {
            let payload = try NPYFormat.decode(try IOFixtures.bytes(name))
            assertPayload(payload, matches: entry, name)
        }
    }

    func testReadsFromFileWithPath() throws {
        let p = try FileBytes.withContents(of: IOFixtures.path("float32_f.npy"), format: .npy) { try NPYFormat.decode($0) }
        XCTAssertEqual(p.shape, [2, 3, 4])
        let e = assertIOError("unreadable") {
            try FileBytes.withContents(of: IOFixtures.path("missing.npy"), format: .npy) { try NPYFormat.decode($0) }
        }
        XCTAssertEqual(e?.path, IOFixtures.path("missing.npy"))
    }

    func testWriterMatchesNumPyByteForByte() throws {
        // np.save of a C-order little-endian array: same header text, padding and data.
        for name in ["float32_c.npy", "int64_c.npy", "bool_c.npy", "uint8_c.npy", "float64_0d.npy",
                     "int8_1d.npy", "float32_empty.npy", "int64_empty1d.npy", "float16_c.npy"] {
            let original = try IOFixtures.bytes(name)
            XCTAssertEqual(NPYFormat.encode(try NPYFormat.decode(original)), original, name)
        }
    }

    // MARK: - Round trips

    func testRoundTripsEveryDTypeAndShape() throws {
        for dtype in DType.allCases where dtype != .bfloat16 {
            for shape in [[], [0], [5], [2, 3], [2, 0, 3], [3, 1, 4, 2]] {
                let p = randomPayload(dtype, shape, seed: UInt64(shape.count))
                XCTAssertEqual(try NPYFormat.decode(NPYFormat.encode(p)), p, "\(dtype) \(shape)")
            }
        }
    }

    func testBFloat16IsWidenedExactlyToFloat32() throws {
        // 1.0 = 0x3F80, -2.5 = 0xC020 as bfloat16 (little-endian bytes).
        let p = ArrayPayload(dtype: .bfloat16, shape: [2], bytes: [0x80, 0x3F, 0x20, 0xC0])
        let back = try NPYFormat.decode(NPYFormat.encode(p))
        XCTAssertEqual(back.dtype, .float32)
        XCTAssertEqual(back.bytes, [0, 0, 0x80, 0x3F, 0, 0, 0x20, 0xC0])
    }

    func testHeaderIsPaddedTo64BytesAndEndsWithNewline() throws {
        for rank in [0, 1, 5, 40] {
            let bytes = NPYFormat.encode(randomPayload(.int8, [Int](repeating: 1, count: rank)))
            let h = try bytes.withUnsafeBytes { try NPYFormat.parseHeader(ByteReader(bytes: $0, format: .npy)) }
            XCTAssertEqual(h.dataOffset % 64, 0)
            XCTAssertEqual(bytes[h.dataOffset - 1], 0x0A)
        }
    }

    func testFortranOrderIsConvertedToCOrder() throws {
        // shape (2, 3): Fortran storage 0 3 1 4 2 5 is the C array 0 1 2 / 3 4 5.
        let p = try NPYFormat.decode(npy("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3), }", [0, 3, 1, 4, 2, 5]))
        XCTAssertEqual(p.bytes, [0, 1, 2, 3, 4, 5])
        let c = (0..<24).map { UInt8($0) }
        let f = ByteLayout.cToFortran(c, shape: [2, 3, 4], width: 1)
        XCTAssertEqual(ByteLayout.fortranToC(f, shape: [2, 3, 4], width: 1), c)
        XCTAssertEqual(f[1], 12)   // F index (1,0,0) is C offset 12
    }

    func testHeaderVariantsNumPyAccepts() throws {
        let data: [UInt8] = [1, 0, 2, 0]
        for header in [
            "{'descr': '<i2', 'fortran_order': False, 'shape': (2,)}",
            "{\"shape\": (2,), \"descr\": \"<i2\", \"fortran_order\": False}",
            "{'descr':'<i2','fortran_order':False,'shape':(2L,),}",
            "{'descr': '<i2', 'fortran_order': False, 'shape': [2]}",
            "  {'descr': '<i2', 'fortran_order': False, 'shape': (2,), }   \n",
        ] {
            let p = try NPYFormat.decode(npy(header, data))
            XCTAssertEqual(p.shape, [2], header)
            XCTAssertEqual(p.bytes, data, header)
        }
        XCTAssertEqual(try NPYFormat.decode(npy("{'descr': '>u1', 'fortran_order': False, 'shape': ()}", [7])).bytes, [7])
    }

    func testBoolsAreNormalizedToZeroOrOne() throws {
        let p = try NPYFormat.decode(npy("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", [0, 2, 255]))
        XCTAssertEqual(p.bytes, [0, 1, 1])
    }

    // MARK: - Malformed input

    func testRejectsBadMagicAndVersion() {
        assertIOError("truncated") { try NPYFormat.decode([UInt8]()) }
        assertIOError("truncated") { try NPYFormat.decode([0x93, 0x4E, 0x55]) }
        assertIOError("badMagic") { try NPYFormat.decode(Array("PK\u{3}\u{4}NUMPY____".utf8)) }
        var v4 = npy("{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }", [1])
        v4[6] = 4
        let e = assertIOError("unsupportedVersion") { try NPYFormat.decode(v4) }
        XCTAssertEqual(e?.offset, 6)
    }

    func testRejectsHeaderLongerThanFile() {
        var b = npy("{'descr': '|u1', 'fortran_order': False, 'shape': (1,), }", [1])
        b[8] = 0xFF; b[9] = 0xFF
        assertIOError("truncated") { try NPYFormat.decode(b) }
        // Version 2.0 with a 4 GiB header length: refused without reading it.
        var v2 = NPYFormat.magic + [2, 0]
        v2.appendLE32(0xFFFF_FFF0)
        assertIOError("limitExceeded") { try NPYFormat.decode(v2) }
    }

    func testRejectsMalformedHeaders() {
        let cases: [(String, String)] = [
            ("['descr', '<f4']", "malformedHeader"),
            ("{'descr': '<f4', 'fortran_order': False}", "malformedHeader"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", "malformedHeader"),
            ("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", "malformedHeader"),
            ("{'descr': 4, 'fortran_order': False, 'shape': (1,)}", "malformedHeader"),
            ("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", "malformedHeader"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': 1}", "malformedHeader"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", "malformedHeader"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} junk", "malformedHeader"),
            ("{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}", "malformedHeader"),
            ("{'descr': '<f4', 'fortran_order': Falsey, 'shape': (1,)}", "malformedHeader"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,)}", "malformedHeader"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", "malformedHeader"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", "invalidShape"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': ('1',)}", "invalidShape"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': ((1,),)}", "invalidShape"),
            ("{'descr': '<u2', 'fortran_order': False, 'shape': (1,)}", "unsupportedDType"),
            ("{'descr': '<c8', 'fortran_order': False, 'shape': (1,)}", "unsupportedDType"),
            ("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", "unsupportedDType"),
            ("{'descr': '=f4', 'fortran_order': False, 'shape': (1,)}", "unsupportedDType"),
            ("{'descr': '|f4', 'fortran_order': False, 'shape': (1,)}", "unsupportedDType"),
            ("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", "malformedHeader"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (" + String(repeating: "1,", count: 65) + ")}", "invalidShape"),
            (String(repeating: "[", count: 100), "malformedHeader"),
        ]
        for (header, tag) in cases {
            assertIOError(tag, format: .npy, header) { try NPYFormat.decode(npy(header, [0, 0, 0, 0])) }
        }
    }

    func testRejectsNonASCIIInVersion1Header() {
        assertIOError("malformedHeader") {
            try NPYFormat.decode(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'é': 1}", [0, 0, 0, 0]))
        }
    }

    func testRejectsShapesThatLieAboutTheData() {
        let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (%@), }"
        // Too little data (and a shape whose size would be 4 TB: refused before allocating).
        assertIOError("truncated") { try NPYFormat.decode(npy(h.replacingOccurrences(of: "%@", with: "2,"), [0, 0, 0, 0])) }
        assertIOError("truncated") {
            try NPYFormat.decode(npy(h.replacingOccurrences(of: "%@", with: "1000000, 1000000"), [0, 0, 0, 0]))
        }
        // Element count or byte size overflowing Int.
        assertIOError("invalidShape") {
            try NPYFormat.decode(npy(h.replacingOccurrences(of: "%@", with: "4611686018427387904, 4"), []))
        }
        assertIOError("invalidShape") {
            try NPYFormat.decode(npy(h.replacingOccurrences(of: "%@", with: "4611686018427387904,"), []))
        }
        // Too much data.
        assertIOError("sizeMismatch") { try NPYFormat.decode(npy(h.replacingOccurrences(of: "%@", with: "1,"), [0, 0, 0, 0, 9])) }
        // A zero dimension makes any other dimension harmless.
        XCTAssertEqual(try NPYFormat.decode(npy(h.replacingOccurrences(of: "%@", with: "0, 9223372036854775807"), [])).count, 0)
    }

    func testEveryTruncationOfAFixtureThrows() throws {
        let full = try IOFixtures.bytes("float64_be_f.npy")
        for n in 0..<full.count {
            assertIOError("truncated", "prefix \(n)") { try NPYFormat.decode(Array(full.prefix(n))) }
        }
    }

    /// A version 1.0 `.npy` image with `header` (unpadded) and `data`.
    private func npy(_ header: String, _ data: [UInt8]) -> [UInt8] {
        let h = Array(header.utf8)
        var out = NPYFormat.magic + [1, 0]
        out.appendLE16(UInt16(h.count))
        return out + h + data
    }
}
