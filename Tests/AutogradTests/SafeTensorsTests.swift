import XCTest
@testable import Autograd

final class SafeTensorsTests: XCTestCase {
    // MARK: - Files written by the reference implementation

    func testReadsReferenceFiles() throws {
        let files = try IOFixtures.section("safetensors")
        XCTAssertEqual(files.count, 3)
        for (name, expected) in files {
            let e = try XCTUnwrap(expected as? [String: Any])
            let table = try XCTUnwrap(e["tensors"] as? [String: Any])
            let (tensors, metadata) = try FileBytes.withContents(of: IOFixtures.path(name), format: .safetensors) {
                try SafeTensorsFormat.decode($0)
            }
            XCTAssertEqual(Set(tensors.map(\.name)), Set(table.keys), name)
            for (key, payload) in tensors { assertPayload(payload, matches: table[key], "\(name)/\(key)") }
            XCTAssertEqual(metadata, e["metadata"] as? [String: String], name)
        }
    }

    func testWriterMatchesReferenceByteForByte() throws {
        // Without metadata our layout and header text equal the reference implementation's.
        for name in ["numpy.safetensors", "empty.safetensors"] {
            let original = try IOFixtures.bytes(name)
            let decoded = try original.withUnsafeBytes { try SafeTensorsFormat.decode($0) }
            XCTAssertEqual(try SafeTensorsFormat.encode(decoded.tensors, metadata: [:]), original, name)
        }
    }

    func testRoundTripsEveryDTypeWithMetadata() throws {
        let tensors = DType.allCases.enumerated().map { i, d in
            (name: "t.\(d)", array: randomPayload(d, [[], [0], [3], [2, 3], [1, 2, 2]][i % 5], seed: UInt64(i)))
        }
        let metadata = ["format": "pt", "quote\"and\\slash": "new\nline\u{1}ü"]
        let bytes = try SafeTensorsFormat.encode(tensors, metadata: metadata)
        let back = try bytes.withUnsafeBytes { try SafeTensorsFormat.decode($0) }
        XCTAssertEqual(back.metadata, metadata)
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: back.tensors.map { ($0.name, $0.array) }),
                       Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.array) }))
        // Every tensor starts at a multiple of its element size.
        let r = try bytes.withUnsafeBytes { try SafeTensorsFormat.parseHeader(ByteReader(bytes: $0, format: .safetensors)) }
        XCTAssertEqual(r.dataStart % 8, 0)
        for e in r.entries { XCTAssertEqual(e.begin % e.dtype.byteCount, 0, e.name) }
    }

    func testWriterRejectsBadNames() {
        assertIOError("invalidName") { try SafeTensorsFormat.encode([("__metadata__", randomPayload(.int8, [1]))], metadata: [:]) }
        assertIOError("duplicateName") {
            try SafeTensorsFormat.encode([("a", randomPayload(.int8, [1])), ("a", randomPayload(.int8, [1]))], metadata: [:])
        }
    }

    func testBoolsAreNormalized() throws {
        let b = file("{\"m\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[0,3]}}", [0, 7, 1])
        XCTAssertEqual(try decode(b).tensors[0].array.bytes, [0, 1, 1])
    }

    // MARK: - Malformed files

    private func file(_ json: String, _ data: [UInt8]) -> [UInt8] {
        let h = Array(json.utf8)
        var out: [UInt8] = []
        out.appendLE64(UInt64(h.count))
        return out + h + data
    }

    private func decode(_ b: [UInt8]) throws -> (tensors: [(name: String, array: ArrayPayload)], metadata: [String: String]) {
        try b.withUnsafeBytes { try SafeTensorsFormat.decode($0) }
    }

    func testRejectsBadHeaderLengths() {
        assertIOError("truncated", format: .safetensors) { try decode([1, 2, 3]) }
        var huge: [UInt8] = []
        huge.appendLE64(200_000_000)
        assertIOError("limitExceeded") { try decode(huge + Array("{}".utf8)) }
        var past: [UInt8] = []
        past.appendLE64(100)
        assertIOError("truncated") { try decode(past + Array("{}".utf8)) }
        var max: [UInt8] = []
        max.appendLE64(UInt64.max)
        assertIOError("limitExceeded") { try decode(max) }
    }

    func testRejectsMalformedJSON() {
        let t = "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}"
        let cases: [(String, String)] = [
            ("", "malformedHeader"),
            ("[]", "malformedHeader"),
            ("{", "malformedHeader"),
            ("{\"a\":" + t + "} x", "malformedHeader"),
            ("{\"a\":" + t + ",\"a\":" + t + "}", "malformedHeader"),
            ("{\"a\":\"\\ud800\"}", "malformedHeader"),
            ("{\"a\":\"\u{1}\"}", "malformedHeader"),
            ("{\"a\":01}", "malformedHeader"),
            ("{\"a\":tru}", "malformedHeader"),
            (String(repeating: "[", count: 1000), "malformedHeader"),
            ("{\"a\":5}", "malformedHeader"),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", "malformedHeader"),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", "malformedHeader"),
            ("{\"a\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", "malformedHeader"),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", "malformedHeader"),
            ("{\"a\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,4]}}", "unsupportedDType"),
            ("{\"a\":{\"dtype\":\"U16\",\"shape\":[2],\"data_offsets\":[0,4]}}", "unsupportedDType"),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "invalidShape"),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", "invalidShape"),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", "invalidShape"),
            ("{\"a\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904,2],\"data_offsets\":[0,4]}}", "invalidShape"),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", "invalidOffsets"),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", "invalidOffsets"),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,-4]}}", "invalidOffsets"),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", "sizeMismatch"),
            ("{\"__metadata__\":{\"k\":1},\"a\":" + t + "}", "malformedHeader"),
            ("{\"__metadata__\":[],\"a\":" + t + "}", "malformedHeader"),
        ]
        for (json, tag) in cases {
            assertIOError(tag, format: .safetensors, json) { try decode(file(json, [0, 0, 0, 0])) }
        }
        XCTAssertEqual(try decode(file("{\"__metadata__\":null,\"a\":" + t + "}   ", [0, 0, 0, 0])).tensors.count, 1)
    }

    func testRejectsOverlapsGapsAndWrongBufferSizes() {
        func two(_ a: (Int, Int), _ b: (Int, Int)) -> String {
            "{\"a\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[\(a.0),\(a.1)]},"
                + "\"b\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[\(b.0),\(b.1)]}}"
        }
        let eight = [UInt8](repeating: 1, count: 8)
        XCTAssertEqual(try decode(file(two((4, 8), (0, 4)), eight)).tensors.map(\.name), ["a", "b"])
        let overlap = assertIOError("invalidOffsets") { try decode(file(two((0, 4), (0, 4)), eight)) }
        XCTAssertNotNil(overlap?.member)
        assertIOError("invalidOffsets") { try decode(file(two((0, 4), (2, 6)), eight)) }
        assertIOError("invalidOffsets") { try decode(file(two((0, 4), (8, 12)), eight + [0, 0, 0, 0])) }
        assertIOError("invalidOffsets") { try decode(file(two((4, 8), (8, 12)), eight + [0, 0, 0, 0])) }
        assertIOError("sizeMismatch") { try decode(file(two((0, 4), (4, 8)), eight + [0])) }
        assertIOError("truncated") { try decode(file(two((0, 4), (4, 8)), [0, 0, 0, 0, 0])) }
        // A huge declared tensor in a tiny file is refused without allocating.
        assertIOError("truncated") {
            try decode(file("{\"a\":{\"dtype\":\"F64\",\"shape\":[1000000000,1000],\"data_offsets\":[0,8000000000000]}}", []))
        }
    }

    func testEveryTruncationThrows() throws {
        let full = try IOFixtures.bytes("all_dtypes.safetensors")
        for n in 0..<full.count {
            do {
                _ = try decode(Array(full.prefix(n)))
                XCTFail("prefix \(n) decoded")
            } catch is TensorIOError {}
        }
    }
}
