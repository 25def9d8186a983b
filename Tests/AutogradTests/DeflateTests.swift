import XCTest
@testable import Autograd

final class DeflateTests: XCTestCase {
    // MARK: - CRC-32

    func testCRC32KnownValues() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum([UInt8]()), 0)
        XCTAssertEqual(CRC32.checksum(Array("The quick brown fox jumps over the lazy dog".utf8)), 0x414F_A339)
        // Incremental updates agree with one pass, across the 4-byte stride.
        let data = TestRNG(seed: 3).bytesArray(1001)
        var crc = CRC32()
        data[0..<7].withUnsafeBytes { crc.update($0) }
        data[7...].withUnsafeBytes { crc.update($0) }
        XCTAssertEqual(crc.value, CRC32.checksum(data))
    }

    // MARK: - Streams made by zlib

    func testInflatesZlibStreams() throws {
        // zlib level 9, raw: "hello hello hello world" (fixed Huffman with a match).
        XCTAssertEqual(try Inflater.decompress(hexBytes("cb48cdc9c957c84022cbf38b725200")),
                       Array("hello hello hello world".utf8))
        // zlib level 0: a stored block.
        XCTAssertEqual(try Inflater.decompress(hexBytes("010700f8ff73746f72656421")), Array("stored!".utf8))
        // zlib level 9: bytes 0...255 four times then "abc" * 100 (a dynamic block).
        let dynamic = hexBytes("6360646266616563e7e0e4e2e6e1e5e3171014121611151397909492969195935750545256515553d7d0d4d2d6d1d5d33730343236313533b7b0b4b2b6b1b5b37770747276717573f7f0f4f2f6f1f5f30f080c0a0e090d0b8f888c8a8e898d8b4f484c4a4e494d4bcfc8cccacec9cdcb2f282c2a2e292d2bafa8acaaaea9adab6f686c6a6e696d6befe8eceaeee9edeb9f3071d2e42953a74d9f3173d6ec3973e7cd5fb070d1e2254b972d5fb172d5ea356bd7addfb071d3e62d5bb76ddfb173d7ee3d7bf7ed3f70f0d0e123478f1d3f71f2d4e93367cf9dbf70f1d2e52b57af5dbf71f3d6ed3b77efdd7ff0f0d1e3274f9f3d7ff1f2d5eb376fdfbdfff0f1d3e72f5fbf7dfff1f3d7ef3f7ffffd6718f5ffa8ff47b0ff81ce1b45442200")
        let expected = (0..<4).flatMap { _ in (0...255).map { UInt8($0) } } + Array(String(repeating: "abc", count: 100).utf8)
        XCTAssertEqual(try Inflater.decompress(dynamic), expected)
    }

    // MARK: - Round trips through our encoder

    func testRoundTripsVariedData() throws {
        let rng = TestRNG(seed: 7)
        let text = Array(String(repeating: "the quick brown fox jumps over the lazy dog; ", count: 400).utf8)
        let cases: [(String, [UInt8])] = [
            ("empty", []),
            ("one byte", [42]),
            ("two bytes", [1, 2]),
            ("zeros", [UInt8](repeating: 0, count: 100_000)),
            ("random (stored blocks, more than 64K)", rng.bytesArray(70_000)),
            ("text", text),
            ("periodic int64", (0..<5000).flatMap { i -> [UInt8] in withUnsafeBytes(of: Int64(i % 97).littleEndian) { Array($0) } }),
            ("mixed", text + rng.bytesArray(3000) + [UInt8](repeating: 7, count: 5000) + text),
            ("all byte values", (0..<256).map { UInt8($0) }),
        ]
        for (name, data) in cases {
            let packed = Deflater.compress(data)
            XCTAssertEqual(try Inflater.decompress(packed, expectedSize: data.count), data, name)
            if name == "zeros" || name == "text" { XCTAssertLessThan(packed.count, data.count / 20, name) }
            if name.hasPrefix("random") { XCTAssertLessThan(packed.count, data.count + 64, name) }
        }
    }

    func testMatchesReachTheWholeWindowAndNoFurther() throws {
        for blockSize in [32768 - 100, 32768] {
            let block = TestRNG(seed: 9).bytesArray(blockSize)
            // The second copy is exactly one window back; the third is out of reach.
            let data = block + block + TestRNG(seed: 10).bytesArray(40000) + block
            let packed = Deflater.compress(data)
            XCTAssertEqual(try Inflater.decompress(packed, expectedSize: data.count), data, "\(blockSize)")
            XCTAssertLessThan(packed.count, data.count - blockSize + 1000, "\(blockSize)")
            XCTAssertGreaterThan(packed.count, data.count - blockSize - 1000, "\(blockSize)")
        }
    }

    func testHuffmanLengthsAreLimitedAndComplete() {
        // Fibonacci frequencies give an unlimited Huffman tree of depth n - 1.
        var fib = [1, 1]
        while fib.count < 30 { fib.append(fib[fib.count - 1] + fib[fib.count - 2]) }
        for maxBits in [7, 15] {
            let lengths = HuffmanEncoder.lengths(for: fib, maxBits: maxBits)
            XCTAssertLessThanOrEqual(Int(lengths.max() ?? 0), maxBits)
            let kraft = lengths.reduce(0.0) { $0 + ($1 > 0 ? 1.0 / Double(1 << Int($1)) : 0) }
            XCTAssertEqual(kraft, 1.0, accuracy: 1e-12)
        }
        // One used symbol still gets a complete two-code tree.
        let single = HuffmanEncoder.lengths(for: [0, 0, 5, 0], maxBits: 15)
        XCTAssertEqual(single.filter { $0 > 0 }.count, 2)
    }

    // MARK: - Malformed streams

    func testRejectsInvalidBlockType() {
        assertIOError("corruptData", format: .deflate) { try Inflater.decompress([0x07]) }
    }

    func testRejectsStoredLengthMismatch() {
        assertIOError("corruptData") { try Inflater.decompress([0x01, 0x07, 0x00, 0xF8, 0xFE] + Array("stored!".utf8)) }
    }

    func testRejectsEveryTruncation() throws {
        let data = Array(String(repeating: "truncate me please, ", count: 50).utf8) + TestRNG(seed: 1).bytesArray(300)
        let packed = Deflater.compress(data)
        for n in 0..<packed.count {
            do {
                let out = try Inflater.decompress(Array(packed.prefix(n)))
                XCTFail("prefix \(n) of \(packed.count) decoded to \(out.count) bytes")
            } catch let e as TensorIOError {
                XCTAssertEqual(e.format, .deflate)
            }
        }
    }

    func testRejectsDistanceBeforeStart() {
        // Fixed block: literal 'a' then a match of length 3 at distance 2.
        var w = BitWriter()
        w.write(1, 1); w.write(1, 2)
        let lit = HuffmanEncoder(lengths: DeflateTables.fixedLiteralLengths)
        let dist = HuffmanEncoder(lengths: DeflateTables.fixedDistanceLengths)
        w.write(lit.codes[97], Int(lit.lengths[97]))
        w.write(lit.codes[257], Int(lit.lengths[257]))
        w.write(dist.codes[1], 5)
        w.write(lit.codes[256], Int(lit.lengths[256]))
        w.alignToByte()
        assertIOError("corruptData") { try Inflater.decompress(w.bytes) }
    }

    func testRejectsInvalidFixedSymbols() {
        let lit = HuffmanEncoder(lengths: DeflateTables.fixedLiteralLengths)
        let dist = HuffmanEncoder(lengths: DeflateTables.fixedDistanceLengths)
        for (symbol, distance) in [(286, 0), (287, 0), (257, 30), (257, 31)] {
            var w = BitWriter()
            w.write(1, 1); w.write(1, 2)
            w.write(lit.codes[97], 8)
            w.write(lit.codes[97], 8)
            w.write(lit.codes[symbol], Int(lit.lengths[symbol]))
            w.write(dist.codes[distance], 5)
            w.write(lit.codes[256], 7)
            w.alignToByte()
            assertIOError("corruptData", "symbol \(symbol), distance \(distance)") { try Inflater.decompress(w.bytes) }
        }
    }

    func testRejectsBadDynamicHeaders() {
        func dynamic(_ body: (inout BitWriter) -> Void) -> [UInt8] {
            var w = BitWriter()
            w.write(1, 1); w.write(2, 2)
            body(&w)
            w.write(0, 32)
            w.alignToByte()
            return w.bytes
        }
        // HLIT = 287 (> 286).
        assertIOError("corruptData") { try Inflater.decompress(dynamic { $0.write(30, 5); $0.write(0, 5); $0.write(0, 4) }) }
        // Over-subscribed code-length code: all 19 lengths 1.
        assertIOError("corruptData") {
            try Inflater.decompress(dynamic { w in
                w.write(0, 5); w.write(0, 5); w.write(15, 4)
                for _ in 0..<19 { w.write(1, 3) }
            })
        }
        // Incomplete code-length code: a single code of length 2.
        assertIOError("corruptData") {
            try Inflater.decompress(dynamic { w in
                w.write(0, 5); w.write(0, 5); w.write(0, 4)
                w.write(2, 3); w.write(0, 3); w.write(0, 3); w.write(0, 3)
            })
        }
        // Repeat (16) with no previous length: code-length code {16: 1 bit, 17: 1 bit}.
        assertIOError("corruptData") {
            try Inflater.decompress(dynamic { w in
                w.write(0, 5); w.write(0, 5); w.write(0, 4)
                w.write(1, 3); w.write(1, 3); w.write(0, 3); w.write(0, 3)
                w.write(0, 1)   // symbol 16
                w.write(0, 2)
            })
        }
        // All literal/length code lengths zero, so no end-of-block code: 17/18 runs only.
        assertIOError("corruptData") {
            try Inflater.decompress(dynamic { w in
                w.write(0, 5); w.write(0, 5); w.write(0, 4)
                w.write(0, 3); w.write(1, 3); w.write(1, 3); w.write(0, 3)   // 17 and 18: 1 bit each
                w.write(1, 1); w.write(127, 7)   // 18: 138 zeros
                w.write(1, 1); w.write(108, 7)   // 18: 119 zeros (257 literal lengths)
                w.write(0, 1); w.write(0, 3)     // 17: 3 zeros... too many: 258 + 1 distance
            })
        }
    }

    func testOutputLimitIsEnforced() {
        let bomb = Deflater.compress([UInt8](repeating: 0, count: 1_000_000))
        XCTAssertLessThan(bomb.count, 2000)
        assertIOError("limitExceeded") { try Inflater.decompress(bomb, limit: 1000) }
        assertIOError("limitExceeded") { try Inflater.decompress(bomb, expectedSize: 999_999) }
        assertIOError("sizeMismatch") { try Inflater.decompress(bomb, expectedSize: 1_000_001) }
    }
}

extension TestRNG {
    func bytesArray(_ n: Int) -> [UInt8] {
        var copy = self
        return copy.bytes(n)
    }
}
