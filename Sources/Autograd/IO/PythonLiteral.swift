/// A value of the small subset of Python literal syntax that `.npy` headers use: the header
/// is the `repr` of a dict such as `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
enum PythonLiteral: Equatable {
    case string(String)
    case integer(Int)
    case boolean(Bool)
    case none
    case tuple([PythonLiteral])
    case list([PythonLiteral])
    /// Keys and values in the order written (duplicates are rejected by the parser).
    case dict([(PythonLiteral, PythonLiteral)])

    static func == (a: PythonLiteral, b: PythonLiteral) -> Bool {
        switch (a, b) {
        case let (.string(x), .string(y)): return x == y
        case let (.integer(x), .integer(y)): return x == y
        case let (.boolean(x), .boolean(y)): return x == y
        case (.none, .none): return true
        case let (.tuple(x), .tuple(y)), let (.list(x), .list(y)): return x == y
        case let (.dict(x), .dict(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }
}

/// A hand-written recursive-descent parser for ``PythonLiteral``. It accepts only what it
/// understands and reports the offset (within the header text) of the first thing it does not.
struct PythonLiteralParser {
    /// Nesting deeper than this is refused (headers nest two levels; fuzzed input could nest
    /// deep enough to exhaust the stack).
    static let maxDepth = 16
    /// Dicts longer than this are refused (the duplicate-key check is quadratic; headers have 3).
    static let maxDictEntries = 64

    private let text: [UInt8]
    private var pos = 0

    struct Failure: Error {
        var offset: Int
        var message: String
    }

    init(_ text: [UInt8]) { self.text = text }

    /// Parses exactly one literal, allowing surrounding whitespace.
    static func parse(_ text: [UInt8]) throws(Failure) -> PythonLiteral {
        var p = PythonLiteralParser(text)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.pos == p.text.count else { throw Failure(offset: p.pos, message: "unexpected text after the literal") }
        return v
    }

    private mutating func skipSpace() {
        while pos < text.count, text[pos] == 0x20 || text[pos] == 0x09 || text[pos] == 0x0A || text[pos] == 0x0D {
            pos += 1
        }
    }

    private func fail(_ message: String) -> Failure { Failure(offset: pos, message: message) }

    private mutating func value(depth: Int) throws(Failure) -> PythonLiteral {
        guard depth < Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth)") }
        guard pos < text.count else { throw fail("expected a value, found the end") }
        switch text[pos] {
        case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "("):
            let (items, sawComma) = try sequence(close: UInt8(ascii: ")"), depth: depth)
            // `(3)` is just the integer 3 in Python, not a tuple.
            if items.count == 1 && !sawComma { return items[0] }
            return .tuple(items)
        case UInt8(ascii: "["): return .list(try sequence(close: UInt8(ascii: "]"), depth: depth).0)
        case UInt8(ascii: "{"): return try dict(depth: depth)
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .integer(try integer())
        default:
            for (word, v) in [("True", PythonLiteral.boolean(true)), ("False", .boolean(false)), ("None", .none)] {
                let w = Array(word.utf8)
                if text.count - pos >= w.count, Array(text[pos..<(pos + w.count)]) == w {
                    let end = pos + w.count
                    if end < text.count, isIdentifierByte(text[end]) { break }
                    pos = end
                    return v
                }
            }
            throw fail("unexpected character")
        }
    }

    private func isIdentifierByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c >= 0x80
    }

    private mutating func integer() throws(Failure) -> Int {
        let start = pos
        var negative = false
        if text[pos] == UInt8(ascii: "-") || text[pos] == UInt8(ascii: "+") {
            negative = text[pos] == UInt8(ascii: "-")
            pos += 1
        }
        var v = 0
        var digits = 0
        while pos < text.count, text[pos] >= 0x30, text[pos] <= 0x39 {
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(text[pos] - 0x30))
            guard !o1, !o2 else { throw Failure(offset: start, message: "integer too large") }
            v = a
            digits += 1
            pos += 1
        }
        guard digits > 0 else { throw Failure(offset: start, message: "expected digits") }
        // Python 2 wrote long integers with an `L` suffix (`(3L, 4L)`); NumPy still reads them.
        if pos < text.count, text[pos] == UInt8(ascii: "L") { pos += 1 }
        if pos < text.count, isIdentifierByte(text[pos]) || text[pos] == UInt8(ascii: ".") {
            throw fail("not an integer")
        }
        return negative ? -v : v
    }

    private mutating func string() throws(Failure) -> String {
        let quote = text[pos]
        let start = pos
        pos += 1
        var out: [UInt8] = []
        while true {
            guard pos < text.count else { throw Failure(offset: start, message: "unterminated string") }
            let c = text[pos]
            if c == quote { pos += 1; break }
            if c == 0x0A { throw fail("newline in string") }
            if c == UInt8(ascii: "\\") {
                pos += 1
                guard pos < text.count else { throw Failure(offset: start, message: "unterminated string") }
                switch text[pos] {
                case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): out.append(text[pos])
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                default: throw fail("unsupported escape in string")
                }
                pos += 1
                continue
            }
            out.append(c)
            pos += 1
        }
        guard let s = String(validating: out, as: UTF8.self) else {
            throw Failure(offset: start, message: "string is not valid UTF-8")
        }
        return s
    }

    /// Items up to `close`, comma separated, trailing comma allowed; also reports whether any
    /// comma was seen (which makes `(x,)` a tuple).
    private mutating func sequence(close: UInt8, depth: Int) throws(Failure) -> ([PythonLiteral], Bool) {
        pos += 1
        var items: [PythonLiteral] = []
        var sawComma = false
        skipSpace()
        while true {
            guard pos < text.count else { throw fail("unterminated sequence") }
            if text[pos] == close { pos += 1; return (items, sawComma) }
            items.append(try value(depth: depth + 1))
            skipSpace()
            guard pos < text.count else { throw fail("unterminated sequence") }
            if text[pos] == UInt8(ascii: ",") {
                sawComma = true
                pos += 1
                skipSpace()
            } else if text[pos] != close {
                throw fail("expected ',' or closing bracket")
            }
        }
    }

    private mutating func dict(depth: Int) throws(Failure) -> PythonLiteral {
        pos += 1
        var items: [(PythonLiteral, PythonLiteral)] = []
        skipSpace()
        while true {
            guard pos < text.count else { throw fail("unterminated dict") }
            if text[pos] == UInt8(ascii: "}") { pos += 1; return .dict(items) }
            guard items.count < Self.maxDictEntries else { throw fail("more than \(Self.maxDictEntries) keys") }
            let keyOffset = pos
            let key = try value(depth: depth + 1)
            if items.contains(where: { $0.0 == key }) { throw Failure(offset: keyOffset, message: "duplicate key") }
            skipSpace()
            guard pos < text.count, text[pos] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            pos += 1
            skipSpace()
            let v = try value(depth: depth + 1)
            items.append((key, v))
            skipSpace()
            guard pos < text.count else { throw fail("unterminated dict") }
            if text[pos] == UInt8(ascii: ",") {
                pos += 1
                skipSpace()
            } else if text[pos] != UInt8(ascii: "}") {
                throw fail("expected ',' or '}'")
            }
        }
    }
}
