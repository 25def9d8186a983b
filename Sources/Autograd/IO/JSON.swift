/// A JSON value (RFC 8259) as the safetensors header needs it. Numbers keep their text so
/// integers too large for a `Double` stay exact; objects keep their keys in order.
indirect enum JSONValue: Equatable {
    case object([(String, JSONValue)])
    case array([JSONValue])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case let (.array(x), .array(y)): return x == y
        case let (.string(x), .string(y)), let (.number(x), .number(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case (.null, .null): return true
        default: return false
        }
    }

    /// The value as an `Int` if it is a JSON integer (no fraction or exponent) that fits.
    var integer: Int? {
        guard case .number(let text) = self else { return nil }
        return Int(text)
    }
}

/// A strict recursive-descent JSON parser: rejects duplicate object keys, unescaped control
/// characters, invalid UTF-8, lone surrogates, and nesting deeper than `maxDepth`.
struct JSONParser {
    static let maxDepth = 64

    struct Failure: Error {
        var offset: Int
        var message: String
    }

    private let text: UnsafeRawBufferPointer
    private var pos = 0

    private init(_ text: UnsafeRawBufferPointer) { self.text = text }

    static func parse(_ text: UnsafeRawBufferPointer) throws(Failure) -> JSONValue {
        var p = JSONParser(text)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.pos == text.count else { throw Failure(offset: p.pos, message: "unexpected text after the JSON value") }
        return v
    }

    static func parse(_ text: [UInt8]) throws(Failure) -> JSONValue {
        do {
            return try text.withUnsafeBytes { try parse($0) }
        } catch let e as Failure {
            throw e
        } catch {
            // `parse(UnsafeRawBufferPointer)` throws only `Failure`; `withUnsafeBytes` erases the type.
            throw Failure(offset: 0, message: "\(error)")
        }
    }

    private func fail(_ message: String) -> Failure { Failure(offset: pos, message: message) }

    private mutating func skipSpace() {
        while pos < text.count, text[pos] == 0x20 || text[pos] == 0x09 || text[pos] == 0x0A || text[pos] == 0x0D {
            pos += 1
        }
    }

    private mutating func literal(_ word: String, _ v: JSONValue) throws(Failure) -> JSONValue {
        for b in word.utf8 {
            guard pos < text.count, text[pos] == b else { throw fail("invalid literal") }
            pos += 1
        }
        return v
    }

    private mutating func value(depth: Int) throws(Failure) -> JSONValue {
        guard depth < Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth)") }
        guard pos < text.count else { throw fail("expected a value, found the end") }
        switch text[pos] {
        case UInt8(ascii: "{"):
            pos += 1
            var items: [(String, JSONValue)] = []
            var keys = Set<String>()
            skipSpace()
            if pos < text.count, text[pos] == UInt8(ascii: "}") { pos += 1; return .object(items) }
            while true {
                skipSpace()
                guard pos < text.count, text[pos] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                let keyOffset = pos
                let key = try string()
                guard keys.insert(key).inserted else { throw Failure(offset: keyOffset, message: "duplicate key \"\(key)\"") }
                skipSpace()
                guard pos < text.count, text[pos] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                pos += 1
                skipSpace()
                items.append((key, try value(depth: depth + 1)))
                skipSpace()
                guard pos < text.count else { throw fail("unterminated object") }
                if text[pos] == UInt8(ascii: ",") { pos += 1; continue }
                if text[pos] == UInt8(ascii: "}") { pos += 1; return .object(items) }
                throw fail("expected ',' or '}'")
            }
        case UInt8(ascii: "["):
            pos += 1
            var items: [JSONValue] = []
            skipSpace()
            if pos < text.count, text[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard pos < text.count else { throw fail("unterminated array") }
                if text[pos] == UInt8(ascii: ",") { pos += 1; continue }
                if text[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
                throw fail("expected ',' or ']'")
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw fail("unexpected character")
        }
    }

    private mutating func digits() -> Int {
        let start = pos
        while pos < text.count, text[pos] >= 0x30, text[pos] <= 0x39 { pos += 1 }
        return pos - start
    }

    private mutating func number() throws(Failure) -> JSONValue {
        let start = pos
        if text[pos] == UInt8(ascii: "-") { pos += 1 }
        guard pos < text.count, text[pos] >= 0x30, text[pos] <= 0x39 else { throw fail("expected a digit") }
        if text[pos] == 0x30 {
            pos += 1
        } else {
            _ = digits()
        }
        if pos < text.count, text[pos] == UInt8(ascii: ".") {
            pos += 1
            guard digits() > 0 else { throw fail("expected a digit after '.'") }
        }
        if pos < text.count, text[pos] == UInt8(ascii: "e") || text[pos] == UInt8(ascii: "E") {
            pos += 1
            if pos < text.count, text[pos] == UInt8(ascii: "+") || text[pos] == UInt8(ascii: "-") { pos += 1 }
            guard digits() > 0 else { throw fail("expected a digit in the exponent") }
        }
        return .number(String(decoding: UnsafeRawBufferPointer(rebasing: text[start..<pos]), as: UTF8.self))
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard text.count - pos >= 4 else { throw fail("truncated \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = text[pos]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw fail("invalid hex digit in \\u escape")
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    private mutating func string() throws(Failure) -> String {
        let start = pos
        pos += 1
        var out: [UInt8] = []
        while true {
            guard pos < text.count else { throw Failure(offset: start, message: "unterminated string") }
            let c = text[pos]
            if c == UInt8(ascii: "\"") { pos += 1; break }
            if c < 0x20 { throw fail("control character in string") }
            if c != UInt8(ascii: "\\") {
                out.append(c)
                pos += 1
                continue
            }
            pos += 1
            guard pos < text.count else { throw Failure(offset: start, message: "unterminated string") }
            let e = text[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    guard text.count - pos >= 6, text[pos] == UInt8(ascii: "\\"), text[pos + 1] == UInt8(ascii: "u") else {
                        throw fail("lone surrogate in \\u escape")
                    }
                    pos += 2
                    let low = try hex4()
                    guard low >= 0xDC00 && low < 0xE000 else { throw fail("invalid low surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    throw fail("lone surrogate in \\u escape")
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                out += Array(String(Character(u)).utf8)
            default: throw fail("invalid escape")
            }
        }
        guard let s = String(validating: out, as: UTF8.self) else {
            throw Failure(offset: start, message: "string is not valid UTF-8")
        }
        return s
    }
}

enum JSONWriter {
    /// A JSON string literal for `s`, escaping quotes, backslashes and control characters.
    static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}
