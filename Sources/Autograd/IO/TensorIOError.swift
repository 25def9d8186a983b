/// An error reading or writing a tensor file (`.npy`, `.npz`, safetensors).
///
/// Every malformed input throws one of these instead of trapping: a truncated file, a bad
/// magic string, a header that lies about shape or offsets, a corrupt DEFLATE stream, a wrong
/// CRC-32, or sizes too large to be real. The error names the file (when there is one), the
/// archive member or tensor (when there is one), and the byte offset where the problem is.
///
/// ```swift
/// do { _ = try Tensor(npyFile: "w.npy") }
/// catch let error as TensorIOError { print(error) }   // w.npy: npy: at byte 8: ...
/// ```
public struct TensorIOError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file format or layer that reported the error.
    public enum Format: String, Sendable, Equatable {
        /// A NumPy `.npy` array.
        case npy
        /// A NumPy `.npz` archive (a ZIP of `.npy` members).
        case npz
        /// The ZIP container layer.
        case zip
        /// A DEFLATE stream inside a ZIP member.
        case deflate
        /// A safetensors file.
        case safetensors
        /// Opening, reading or writing the file itself.
        case file
    }

    /// What is wrong.
    public enum Reason: Sendable, Equatable, CustomStringConvertible {
        /// The file could not be opened or read; carries the system's message.
        case unreadable(String)
        /// The file could not be written; carries the system's message.
        case unwritable(String)
        /// The data ends before a structure it declares.
        case truncated(String)
        /// The file does not start with the format's magic bytes or signature.
        case badMagic(String)
        /// A format version this reader does not know.
        case unsupportedVersion(String)
        /// The header is not well formed.
        case malformedHeader(String)
        /// A dtype with no counterpart in ``DType``.
        case unsupportedDType(String)
        /// A shape with a negative dimension or whose element count overflows.
        case invalidShape(String)
        /// Declared sizes disagree with each other or with the data present.
        case sizeMismatch(String)
        /// Offsets that point outside the data, overlap, or leave gaps.
        case invalidOffsets(String)
        /// Compressed data that does not decode.
        case corruptData(String)
        /// A CRC-32 that does not match the data.
        case checksumMismatch(expected: UInt32, actual: UInt32)
        /// A valid feature this reader does not implement (encryption, multi-disk archives).
        case unsupportedFeature(String)
        /// A size too large to be real, refused before allocating.
        case limitExceeded(String)
        /// Two entries with the same name.
        case duplicateName(String)
        /// A name that cannot be stored (for example `__metadata__` as a tensor name).
        case invalidName(String)

        /// A one-line English description.
        public var description: String {
            switch self {
            case .unreadable(let s): return "cannot read file: \(s)"
            case .unwritable(let s): return "cannot write file: \(s)"
            case .truncated(let s): return "truncated: \(s)"
            case .badMagic(let s): return "bad magic: \(s)"
            case .unsupportedVersion(let s): return "unsupported version: \(s)"
            case .malformedHeader(let s): return "malformed header: \(s)"
            case .unsupportedDType(let s): return "unsupported dtype: \(s)"
            case .invalidShape(let s): return "invalid shape: \(s)"
            case .sizeMismatch(let s): return "size mismatch: \(s)"
            case .invalidOffsets(let s): return "invalid offsets: \(s)"
            case .corruptData(let s): return "corrupt data: \(s)"
            case .checksumMismatch(let e, let a):
                return "CRC-32 mismatch: expected \(hex32(e)), computed \(hex32(a))"
            case .unsupportedFeature(let s): return "unsupported feature: \(s)"
            case .limitExceeded(let s): return "size limit exceeded: \(s)"
            case .duplicateName(let s): return "duplicate name: \(s)"
            case .invalidName(let s): return "invalid name: \(s)"
            }
        }
    }

    /// The format or layer that reported the error.
    public var format: Format
    /// What is wrong.
    public var reason: Reason
    /// The file's path, or `nil` for in-memory data.
    public var path: String?
    /// The archive member or tensor name concerned, if any.
    public var member: String?
    /// The byte offset of the problem (in the file, or in the member's data for `.npy`
    /// members and DEFLATE streams), if known.
    public var offset: Int?

    /// Creates an error; readers fill `path` and `member` in as the error propagates out.
    public init(_ format: Format, _ reason: Reason, path: String? = nil, member: String? = nil, offset: Int? = nil) {
        self.format = format
        self.reason = reason
        self.path = path
        self.member = member
        self.offset = offset
    }

    /// `path: [member: ]format: [at byte N: ]reason`.
    public var description: String {
        var s = (path ?? "<memory>") + ": "
        if let member { s += "\(member): " }
        s += format.rawValue + ": "
        if let offset { s += "at byte \(offset): " }
        return s + reason.description
    }

    /// A copy with `path` set if it was not set yet.
    func located(path: String?) -> TensorIOError {
        var e = self
        if e.path == nil { e.path = path }
        return e
    }

    /// A copy with `member` set if it was not set yet.
    func inMember(_ name: String?) -> TensorIOError {
        var e = self
        if e.member == nil { e.member = name }
        return e
    }
}

func hex32(_ v: UInt32) -> String {
    let h = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - h.count)) + h
}

/// Runs `body`, stamping `path` onto any ``TensorIOError`` it throws.
func withErrorPath<T>(_ path: String?, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as TensorIOError { throw e.located(path: path) }
}
