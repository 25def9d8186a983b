/// Tables shared by the DEFLATE decoder and encoder (RFC 1951, section 3.2.5).
enum DeflateTables {
    /// Base match length for length symbols 257...285.
    static let lengthBase: [Int] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                                    35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra: [Int] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
                                     3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    /// Base distance for distance symbols 0...29.
    static let distanceBase: [Int] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
                                      257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
                                      8193, 12289, 16385, 24577]
    static let distanceExtra: [Int] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
                                       7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    /// The order in which code-length code lengths are stored in a dynamic block header.
    static let codeLengthOrder: [Int] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    /// The fixed literal/length code lengths (block type 1).
    static let fixedLiteralLengths: [UInt8] =
        [UInt8](repeating: 8, count: 144) + [UInt8](repeating: 9, count: 112)
        + [UInt8](repeating: 7, count: 24) + [UInt8](repeating: 8, count: 8)
    /// The fixed distance code lengths (30 and 31 are decodable but invalid).
    static let fixedDistanceLengths = [UInt8](repeating: 5, count: 32)

    /// Reverses the low `count` bits of `code` (DEFLATE sends Huffman codes MSB first).
    static func reverse(_ code: Int, _ count: Int) -> Int {
        var c = code, r = 0
        for _ in 0..<count { r = (r << 1) | (c & 1); c >>= 1 }
        return r
    }
}

/// A canonical Huffman decoding table: a direct lookup for codes up to `fastBits` long and a
/// count/symbol walk (as in zlib's `puff.c`) for longer ones.
struct HuffmanDecoder {
    static let fastBits = 9
    /// `(symbol << 4) | length`, or 0 when the code is longer than `fastBits` or unused.
    var fast: [UInt16]
    /// Number of codes of each length 0...15.
    var counts: [Int]
    /// Symbols ordered by code.
    var symbols: [UInt16]

    enum Kind { case codeLengths, literals, distances }

    /// Builds a table, or returns a reason why `lengths` is not a valid prefix code.
    /// Incomplete codes are accepted only as zlib accepts them: a literal or distance code
    /// whose only codes are one bit long (or no distance codes at all).
    struct CodeError: Error { var message: String }

    static func make(_ lengths: ArraySlice<UInt8>, kind: Kind) throws(CodeError) -> HuffmanDecoder {
        var counts = [Int](repeating: 0, count: 16)
        var maxLength = 0
        for l in lengths {
            guard l <= 15 else { throw CodeError(message: "code length \(l) > 15") }
            counts[Int(l)] += 1
            maxLength = max(maxLength, Int(l))
        }
        counts[0] = 0
        var left = 1
        for len in 1...15 {
            left <<= 1
            left -= counts[len]
            if left < 0 { throw CodeError(message: "over-subscribed Huffman code") }
        }
        if maxLength == 0 && kind == .codeLengths {
            throw CodeError(message: "empty code-length code")
        }
        if left > 0 && (kind == .codeLengths || maxLength > 1) {
            throw CodeError(message: "incomplete Huffman code")
        }
        var offsets = [Int](repeating: 0, count: 16)
        for len in 1..<15 { offsets[len + 1] = offsets[len] + counts[len] }
        var symbols = [UInt16](repeating: 0, count: lengths.count)
        var nextCode = [Int](repeating: 0, count: 16)
        var code = 0
        for len in 1...15 {
            code = (code + counts[len - 1]) << 1
            nextCode[len] = code
        }
        var fast = [UInt16](repeating: 0, count: 1 << fastBits)
        for (sym, l) in lengths.enumerated() where l > 0 {
            let len = Int(l)
            symbols[offsets[len]] = UInt16(sym)
            offsets[len] += 1
            let c = nextCode[len]
            nextCode[len] += 1
            if len <= fastBits {
                var r = DeflateTables.reverse(c, len)
                let entry = UInt16(sym << 4 | len)
                while r < (1 << fastBits) {
                    fast[r] = entry
                    r += 1 << len
                }
            }
        }
        return HuffmanDecoder(fast: fast, counts: counts, symbols: symbols)
    }

    // The fixed codes are complete prefix codes (RFC 1951 3.2.6), so `make` cannot fail.
    static let fixedLiterals = try! make(DeflateTables.fixedLiteralLengths[...], kind: .literals)
    static let fixedDistances = try! make(DeflateTables.fixedDistanceLengths[...], kind: .distances)
}

/// A DEFLATE (RFC 1951) decoder: stored, fixed-Huffman and dynamic-Huffman blocks.
///
/// Every malformed stream throws a ``TensorIOError`` with format `.deflate`; output never
/// grows past `limit` bytes, so a small stream cannot expand into a huge allocation.
struct Inflater {
    private let input: UnsafeRawBufferPointer
    private var pos = 0
    private var bitBuffer: UInt64 = 0
    private var bitCount = 0
    private var out: [UInt8] = []
    private let limit: Int
    private let baseOffset: Int

    /// Decodes a raw DEFLATE stream (no zlib or gzip wrapper).
    /// - Parameters:
    ///   - expectedSize: when given, the output must be exactly this long (ZIP's declared size).
    ///   - limit: output longer than this throws.
    ///   - baseOffset: added to offsets in errors (the stream's position in its file).
    /// - Returns: the decoded bytes. Bytes after the final block are ignored, as zlib does.
    static func decompress(_ input: UnsafeRawBufferPointer, expectedSize: Int? = nil, limit: Int = Int.max,
                           baseOffset: Int = 0) throws -> [UInt8] {
        var s = Inflater(input: input, limit: min(limit, expectedSize ?? Int.max), baseOffset: baseOffset)
        if let expectedSize { s.out.reserveCapacity(expectedSize) }
        try s.run()
        if let expectedSize, s.out.count != expectedSize {
            throw TensorIOError(.deflate, .sizeMismatch("stream decodes to \(s.out.count) bytes, header declares \(expectedSize)"),
                                offset: baseOffset + s.pos)
        }
        return s.out
    }

    static func decompress(_ input: [UInt8], expectedSize: Int? = nil, limit: Int = Int.max) throws -> [UInt8] {
        try input.withUnsafeBytes { try decompress($0, expectedSize: expectedSize, limit: limit) }
    }

    private init(input: UnsafeRawBufferPointer, limit: Int, baseOffset: Int) {
        self.input = input
        self.limit = limit
        self.baseOffset = baseOffset
    }

    /// The offset of the first byte not yet fully consumed.
    private var offset: Int { baseOffset + pos - bitCount / 8 }

    private func fail(_ reason: TensorIOError.Reason) -> TensorIOError {
        TensorIOError(.deflate, reason, offset: offset)
    }

    private mutating func refill() {
        while bitCount <= 56 && pos < input.count {
            bitBuffer |= UInt64(input[pos]) << UInt64(bitCount)
            pos += 1
            bitCount += 8
        }
    }

    private mutating func bits(_ n: Int) throws -> Int {
        if bitCount < n {
            refill()
            guard bitCount >= n else { throw fail(.truncated("stream ends inside a block")) }
        }
        let v = Int(bitBuffer & ((1 << UInt64(n)) - 1))
        bitBuffer >>= UInt64(n)
        bitCount -= n
        return v
    }

    private mutating func decode(_ h: HuffmanDecoder) throws -> Int {
        if bitCount < 15 { refill() }
        let peek = Int(bitBuffer & 0x7FFF)   // zero bits past the end of input
        let e = Int(h.fast[peek & ((1 << HuffmanDecoder.fastBits) - 1)])
        if e != 0 {
            let len = e & 15
            guard len <= bitCount else { throw fail(.truncated("stream ends inside a Huffman code")) }
            bitBuffer >>= UInt64(len)
            bitCount -= len
            return e >> 4
        }
        var code = 0, first = 0, index = 0
        for len in 1...15 {
            code |= (peek >> (len - 1)) & 1
            let count = h.counts[len]
            if code - first < count {
                guard len <= bitCount else { throw fail(.truncated("stream ends inside a Huffman code")) }
                bitBuffer >>= UInt64(len)
                bitCount -= len
                return Int(h.symbols[index + code - first])
            }
            index += count
            first += count
            first <<= 1
            code <<= 1
        }
        throw fail(.corruptData("invalid Huffman code"))
    }

    private mutating func run() throws {
        var final = false
        while !final {
            final = try bits(1) == 1
            switch try bits(2) {
            case 0: try storedBlock()
            case 1: try codes(HuffmanDecoder.fixedLiterals, HuffmanDecoder.fixedDistances)
            case 2:
                let (lit, dist) = try dynamicTables()
                try codes(lit, dist)
            default: throw fail(.corruptData("invalid block type 3"))
            }
        }
    }

    private mutating func storedBlock() throws {
        _ = try bits(bitCount % 8)
        let len = try bits(16), nlen = try bits(16)
        guard len == (~nlen & 0xFFFF) else { throw fail(.corruptData("stored block length check fails")) }
        guard len <= limit - out.count else { throw fail(.limitExceeded("output exceeds \(limit) bytes")) }
        var remaining = len
        while remaining > 0 && bitCount >= 8 {
            out.append(UInt8(try bits(8)))
            remaining -= 1
        }
        guard remaining <= input.count - pos else { throw fail(.truncated("stream ends inside a stored block")) }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[pos..<(pos + remaining)]))
        pos += remaining
    }

    private func table(_ lengths: ArraySlice<UInt8>, _ kind: HuffmanDecoder.Kind) throws -> HuffmanDecoder {
        do { return try HuffmanDecoder.make(lengths, kind: kind) } catch { throw fail(.corruptData(error.message)) }
    }

    private mutating func dynamicTables() throws -> (HuffmanDecoder, HuffmanDecoder) {
        let nlen = try bits(5) + 257, ndist = try bits(5) + 1, ncode = try bits(4) + 4
        guard nlen <= 286, ndist <= 30 else { throw fail(.corruptData("too many length or distance codes")) }
        var codeLengths = [UInt8](repeating: 0, count: 19)
        for i in 0..<ncode { codeLengths[DeflateTables.codeLengthOrder[i]] = UInt8(try bits(3)) }
        let lencode = try table(codeLengths[...], .codeLengths)
        var lengths = [UInt8](repeating: 0, count: nlen + ndist)
        var i = 0
        while i < nlen + ndist {
            let sym = try decode(lencode)
            if sym < 16 {
                lengths[i] = UInt8(sym)
                i += 1
                continue
            }
            var value: UInt8 = 0
            let repeatCount: Int
            switch sym {
            case 16:
                guard i > 0 else { throw fail(.corruptData("repeat with no previous length")) }
                value = lengths[i - 1]
                repeatCount = 3 + (try bits(2))
            case 17: repeatCount = 3 + (try bits(3))
            default: repeatCount = 11 + (try bits(7))
            }
            guard i + repeatCount <= nlen + ndist else { throw fail(.corruptData("too many code lengths")) }
            for _ in 0..<repeatCount { lengths[i] = value; i += 1 }
        }
        guard lengths[256] != 0 else { throw fail(.corruptData("no end-of-block code")) }
        let lit = try table(lengths[0..<nlen], .literals)
        let dist = try table(lengths[nlen...], .distances)
        return (lit, dist)
    }

    private mutating func codes(_ lit: HuffmanDecoder, _ dist: HuffmanDecoder) throws {
        while true {
            var sym = try decode(lit)
            if sym < 256 {
                guard out.count < limit else { throw fail(.limitExceeded("output exceeds \(limit) bytes")) }
                out.append(UInt8(sym))
                continue
            }
            if sym == 256 { return }
            sym -= 257
            guard sym < 29 else { throw fail(.corruptData("invalid length symbol \(sym + 257)")) }
            let length = DeflateTables.lengthBase[sym] + (try bits(DeflateTables.lengthExtra[sym]))
            let dsym = try decode(dist)
            guard dsym < 30 else { throw fail(.corruptData("invalid distance symbol \(dsym)")) }
            let distance = DeflateTables.distanceBase[dsym] + (try bits(DeflateTables.distanceExtra[dsym]))
            guard distance <= out.count else {
                throw fail(.corruptData("distance \(distance) reaches before the start of the output"))
            }
            guard length <= limit - out.count else { throw fail(.limitExceeded("output exceeds \(limit) bytes")) }
            let start = out.count - distance
            for k in 0..<length { out.append(out[start + k]) }
        }
    }
}
