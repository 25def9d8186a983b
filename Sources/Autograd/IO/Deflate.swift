/// Writes bits least-significant first, as DEFLATE packs them.
struct BitWriter {
    var bytes: [UInt8] = []
    private var buffer: UInt64 = 0
    private var count = 0

    /// Appends the low `n` bits of `value` (n ≤ 32).
    mutating func write(_ value: Int, _ n: Int) {
        buffer |= UInt64(truncatingIfNeeded: value) << UInt64(count)
        count += n
        while count >= 8 {
            bytes.append(UInt8(truncatingIfNeeded: buffer))
            buffer >>= 8
            count -= 8
        }
    }

    /// Pads with zero bits to the next byte boundary.
    mutating func alignToByte() {
        if count > 0 {
            bytes.append(UInt8(truncatingIfNeeded: buffer))
            buffer = 0
            count = 0
        }
    }
}

/// Canonical Huffman codes for encoding: lengths, and codes already bit-reversed for `BitWriter`.
struct HuffmanEncoder {
    var lengths: [UInt8]
    var codes: [Int]

    init(lengths: [UInt8]) {
        self.lengths = lengths
        var counts = [Int](repeating: 0, count: 16)
        for l in lengths where l > 0 { counts[Int(l)] += 1 }
        var next = [Int](repeating: 0, count: 16)
        var code = 0
        for len in 1...15 {
            code = (code + counts[len - 1]) << 1
            next[len] = code
        }
        codes = [Int](repeating: 0, count: lengths.count)
        for (sym, l) in lengths.enumerated() where l > 0 {
            codes[sym] = DeflateTables.reverse(next[Int(l)], Int(l))
            next[Int(l)] += 1
        }
    }

    /// Length-limited Huffman code lengths for `frequencies`: a Huffman tree built with two
    /// queues, then depths over `maxBits` clamped and the Kraft sum repaired (miniz's method),
    /// then lengths handed out again by frequency. At least two symbols always get a code, so
    /// every code written is complete (zlib rejects some incomplete codes).
    static func lengths(for frequencies: [Int], maxBits: Int) -> [UInt8] {
        var freqs = frequencies
        var used = freqs.indices.filter { freqs[$0] > 0 }
        var k = 0
        while used.count < 2 && k < freqs.count {
            if freqs[k] == 0 { freqs[k] = 1; used.append(k) }
            k += 1
        }
        let n = used.count
        var result = [UInt8](repeating: 0, count: freqs.count)
        guard n >= 2 else {
            for s in used { result[s] = 1 }
            return result
        }
        used.sort { freqs[$0] != freqs[$1] ? freqs[$0] < freqs[$1] : $0 < $1 }
        // Nodes 0..<n are leaves in ascending frequency; n..<2n-1 are internal, made in
        // non-decreasing weight order, so two queue heads always hold the two lightest.
        var weight = used.map { freqs[$0] } + [Int](repeating: 0, count: n - 1)
        var parent = [Int](repeating: 0, count: 2 * n - 1)
        var leaf = 0, inner = n
        for next in n..<(2 * n - 1) {
            var pick = [0, 0]
            for j in 0..<2 {
                if leaf < n && (inner >= next || weight[leaf] <= weight[inner]) {
                    pick[j] = leaf; leaf += 1
                } else {
                    pick[j] = inner; inner += 1
                }
            }
            weight[next] = weight[pick[0]] + weight[pick[1]]
            parent[pick[0]] = next
            parent[pick[1]] = next
        }
        var depth = [Int](repeating: 0, count: 2 * n - 1)
        for i in stride(from: 2 * n - 3, through: 0, by: -1) { depth[i] = depth[parent[i]] + 1 }
        var counts = [Int](repeating: 0, count: maxBits + 1)
        for i in 0..<n { counts[min(depth[i], maxBits)] += 1 }
        var total = 0
        for len in 1...maxBits { total += counts[len] << (maxBits - len) }
        while total != 1 << maxBits {
            counts[maxBits] -= 1
            for len in stride(from: maxBits - 1, to: 0, by: -1) where counts[len] != 0 {
                counts[len] -= 1
                counts[len + 1] += 2
                break
            }
            total -= 1
        }
        // The rarest symbols (front of `used`) get the longest codes.
        var idx = 0
        for len in stride(from: maxBits, through: 1, by: -1) {
            for _ in 0..<counts[len] {
                result[used[idx]] = UInt8(len)
                idx += 1
            }
        }
        return result
    }
}

/// A DEFLATE (RFC 1951) compressor: LZ77 with hash chains and one-step lazy matching, blocks
/// of up to 16K symbols each written as whichever of stored, fixed-Huffman and
/// dynamic-Huffman is smallest. Output is a raw stream, as ZIP's method 8 stores it.
enum Deflater {
    static let windowSize = 1 << 15
    static let hashBits = 15
    static let maxMatch = 258
    static let blockSymbols = 1 << 14

    static func compress(_ input: [UInt8], maxChain: Int = 128) -> [UInt8] {
        input.withUnsafeBytes { compress($0, maxChain: maxChain) }
    }

    static func compress(_ input: UnsafeRawBufferPointer, maxChain: Int = 128) -> [UInt8] {
        var state = State(input: input, maxChain: max(1, maxChain))
        state.run()
        state.writer.alignToByte()
        return state.writer.bytes
    }

    private struct State {
        let input: UnsafeRawBufferPointer
        let maxChain: Int
        /// Small inputs get small tables: the hash has about as many slots as the input has
        /// bytes, and `prev` (indexed by position modulo the window) only as many as positions.
        let hashBits: Int
        var head: [Int32]
        var prev: [Int32]
        /// Literal: the byte. Match: bit 31 set, (length - 3) in bits 16...23, (distance - 1) below.
        var tokens: [UInt32] = []
        var blockStart = 0
        var covered = 0
        var writer = BitWriter()

        init(input: UnsafeRawBufferPointer, maxChain: Int) {
            self.input = input
            self.maxChain = maxChain
            hashBits = min(Deflater.hashBits, max(8, Int.bitWidth - input.count.leadingZeroBitCount))
            head = [Int32](repeating: -1, count: 1 << hashBits)
            prev = [Int32](repeating: -1, count: max(1, min(input.count, Deflater.windowSize)))
            tokens.reserveCapacity(Deflater.blockSymbols)
        }

        func hash(_ i: Int) -> Int {
            let v = UInt32(input[i]) | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2]) << 16
            return Int((v &* 2_654_435_761) >> UInt32(32 - hashBits))
        }

        mutating func insert(_ i: Int) {
            let h = hash(i)
            prev[i & (Deflater.windowSize - 1)] = head[h]
            head[h] = Int32(i)
        }

        /// The longest earlier match for position `i` (which must have 3 bytes after it).
        func findMatch(_ i: Int, chainLimit: Int) -> (length: Int, distance: Int) {
            let n = input.count
            let maxLen = min(Deflater.maxMatch, n - i)
            var best = 0, bestDistance = 0
            var candidate = Int(head[hash(i)])
            var chain = chainLimit
            while candidate >= 0 && i - candidate <= Deflater.windowSize && chain > 0 {
                if input[candidate + best] == input[i + best] {
                    var l = 0
                    while l < maxLen && input[candidate + l] == input[i + l] { l += 1 }
                    if l > best {
                        best = l
                        bestDistance = i - candidate
                        if l == maxLen { break }
                    }
                }
                let next = Int(prev[candidate & (Deflater.windowSize - 1)])
                // A slot overwritten by a newer position no longer continues this chain.
                if next >= candidate { break }
                candidate = next
                chain -= 1
            }
            return best >= 3 ? (best, bestDistance) : (0, 0)
        }

        mutating func literal(_ b: UInt8) {
            tokens.append(UInt32(b))
            covered += 1
        }

        mutating func match(_ length: Int, _ distance: Int) {
            tokens.append(0x8000_0000 | UInt32(length - 3) << 16 | UInt32(distance - 1))
            covered += length
        }

        mutating func run() {
            let n = input.count
            var i = 0
            var havePrevious = false
            var prevLength = 0, prevDistance = 0
            while i < n {
                var length = 0, distance = 0
                if i + 2 < n {
                    if !(havePrevious && prevLength >= 128) {
                        (length, distance) = findMatch(i, chainLimit: havePrevious && prevLength >= 32 ? maxChain / 4 : maxChain)
                    }
                    insert(i)
                }
                if havePrevious && prevLength >= 3 && length <= prevLength {
                    match(prevLength, prevDistance)
                    let end = i - 1 + prevLength
                    var j = i + 1
                    while j < end {
                        if j + 2 < n { insert(j) }
                        j += 1
                    }
                    i = end
                    havePrevious = false
                    prevLength = 0
                } else {
                    if havePrevious { literal(input[i - 1]) }
                    havePrevious = true
                    prevLength = length
                    prevDistance = distance
                    i += 1
                }
                if tokens.count >= Deflater.blockSymbols { flush(final: false) }
            }
            if havePrevious { literal(input[n - 1]) }
            flush(final: true)
        }

        static func lengthSymbol(_ length: Int) -> Int {
            if length == 258 { return 28 }
            let l = length - 3
            if l < 8 { return l }
            let k = Int.bitWidth - 1 - l.leadingZeroBitCount
            return 4 * (k - 1) + ((l >> (k - 2)) & 3)
        }

        static func distanceSymbol(_ distance: Int) -> Int {
            let d = distance - 1
            if d < 4 { return d }
            let k = Int.bitWidth - 1 - d.leadingZeroBitCount
            return 2 * k + ((d >> (k - 1)) & 1)
        }

        mutating func flush(final: Bool) {
            var litFreq = [Int](repeating: 0, count: 286)
            var distFreq = [Int](repeating: 0, count: 30)
            var extraBits = 0
            litFreq[256] = 1
            for t in tokens {
                if t & 0x8000_0000 == 0 {
                    litFreq[Int(t)] += 1
                } else {
                    let ls = State.lengthSymbol(Int((t >> 16) & 0xFF) + 3)
                    let ds = State.distanceSymbol(Int(t & 0xFFFF) + 1)
                    litFreq[257 + ls] += 1
                    distFreq[ds] += 1
                    extraBits += DeflateTables.lengthExtra[ls] + DeflateTables.distanceExtra[ds]
                }
            }
            let litLengths = HuffmanEncoder.lengths(for: litFreq, maxBits: 15)
            let distLengths = HuffmanEncoder.lengths(for: distFreq, maxBits: 15)
            var nlit = 286
            while nlit > 257 && litLengths[nlit - 1] == 0 { nlit -= 1 }
            var ndist = 30
            while ndist > 1 && distLengths[ndist - 1] == 0 { ndist -= 1 }

            // Run-length code the code lengths: (symbol, extra value, extra bit count).
            let all = Array(litLengths[0..<nlit]) + Array(distLengths[0..<ndist])
            var rle: [(Int, Int, Int)] = []
            var i = 0
            while i < all.count {
                let v = all[i]
                var run = 1
                while i + run < all.count && all[i + run] == v { run += 1 }
                if v == 0 && run >= 3 {
                    let r = min(run, 138)
                    rle.append(r >= 11 ? (18, r - 11, 7) : (17, r - 3, 3))
                    i += r
                } else if v != 0 && run >= 4 {
                    rle.append((Int(v), 0, 0))
                    let r = min(run - 1, 6)
                    rle.append((16, r - 3, 2))
                    i += 1 + r
                } else {
                    rle.append((Int(v), 0, 0))
                    i += 1
                }
            }
            var clFreq = [Int](repeating: 0, count: 19)
            for (s, _, _) in rle { clFreq[s] += 1 }
            let clLengths = HuffmanEncoder.lengths(for: clFreq, maxBits: 7)
            var nclen = 19
            while nclen > 4 && clLengths[DeflateTables.codeLengthOrder[nclen - 1]] == 0 { nclen -= 1 }

            var dynamicBits = 3 + 14 + 3 * nclen + extraBits
            for (s, _, e) in rle { dynamicBits += Int(clLengths[s]) + e }
            var fixedBits = 3 + extraBits
            for s in 0..<286 {
                dynamicBits += litFreq[s] * Int(litLengths[s])
                fixedBits += litFreq[s] * Int(DeflateTables.fixedLiteralLengths[s])
            }
            for s in 0..<30 {
                dynamicBits += distFreq[s] * Int(distLengths[s])
                fixedBits += distFreq[s] * 5
            }
            let rawCount = covered - blockStart
            let chunks = max(1, (rawCount + 65534) / 65535)
            let storedBits = chunks * (3 + 7 + 32) + 8 * rawCount

            if storedBits < min(dynamicBits, fixedBits) {
                writeStored(final: final)
            } else if fixedBits <= dynamicBits {
                writer.write(final ? 1 : 0, 1)
                writer.write(1, 2)
                writeTokens(HuffmanEncoder(lengths: DeflateTables.fixedLiteralLengths),
                            HuffmanEncoder(lengths: DeflateTables.fixedDistanceLengths))
            } else {
                writer.write(final ? 1 : 0, 1)
                writer.write(2, 2)
                writer.write(nlit - 257, 5)
                writer.write(ndist - 1, 5)
                writer.write(nclen - 4, 4)
                for k in 0..<nclen { writer.write(Int(clLengths[DeflateTables.codeLengthOrder[k]]), 3) }
                let cl = HuffmanEncoder(lengths: clLengths)
                for (s, extra, bits) in rle {
                    writer.write(cl.codes[s], Int(cl.lengths[s]))
                    if bits > 0 { writer.write(extra, bits) }
                }
                writeTokens(HuffmanEncoder(lengths: litLengths), HuffmanEncoder(lengths: distLengths))
            }
            tokens.removeAll(keepingCapacity: true)
            blockStart = covered
        }

        mutating func writeTokens(_ lit: HuffmanEncoder, _ dist: HuffmanEncoder) {
            for t in tokens {
                if t & 0x8000_0000 == 0 {
                    writer.write(lit.codes[Int(t)], Int(lit.lengths[Int(t)]))
                } else {
                    let length = Int((t >> 16) & 0xFF) + 3
                    let distance = Int(t & 0xFFFF) + 1
                    let ls = State.lengthSymbol(length)
                    let ds = State.distanceSymbol(distance)
                    writer.write(lit.codes[257 + ls], Int(lit.lengths[257 + ls]))
                    if DeflateTables.lengthExtra[ls] > 0 {
                        writer.write(length - DeflateTables.lengthBase[ls], DeflateTables.lengthExtra[ls])
                    }
                    writer.write(dist.codes[ds], Int(dist.lengths[ds]))
                    if DeflateTables.distanceExtra[ds] > 0 {
                        writer.write(distance - DeflateTables.distanceBase[ds], DeflateTables.distanceExtra[ds])
                    }
                }
            }
            writer.write(lit.codes[256], Int(lit.lengths[256]))
        }

        mutating func writeStored(final: Bool) {
            var start = blockStart
            repeat {
                let len = min(65535, covered - start)
                let last = start + len == covered
                writer.write(final && last ? 1 : 0, 1)
                writer.write(0, 2)
                writer.alignToByte()
                writer.bytes.appendLE16(UInt16(len))
                writer.bytes.appendLE16(UInt16(~len & 0xFFFF))
                writer.bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[start..<(start + len)]))
                start += len
            } while start < covered
        }
    }
}
