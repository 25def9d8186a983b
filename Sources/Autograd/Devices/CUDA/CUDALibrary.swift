import CCUDA

/// One of the CUDA libraries the `CCUDA` shim opens at run time, with where it came from.
enum CUDALibrary: Int32, CaseIterable, Sendable {
    // Raw values are the shim's CCUDA_LIBRARY_* ids.
    case cudart = 0
    case nvrtc = 1
    case cublas = 2

    /// The library's file stem, as users know it: `libcudart`.
    var name: String {
        switch self {
        case .cudart: return "libcudart"
        case .nvrtc: return "libnvrtc"
        case .cublas: return "libcublas"
        }
    }

    /// Whether the library is loaded (loading it on first use; thread-safe, never traps).
    var isLoaded: Bool { ccuda_load_library(rawValue) == 0 }

    /// Loads the library if needed.
    ///
    /// - Throws: `CUDAError.libraryNotFound` with the candidates tried.
    func load() throws {
        guard isLoaded else {
            throw CUDAError.libraryNotFound(library: name, searched: searched)
        }
    }

    /// The file the library was loaded from, or nil if it could not be loaded.
    var path: String? {
        let text = CUDAText.read { buffer, capacity, length in
            ccuda_library_path(rawValue, buffer, capacity, length)
        }
        return isLoaded ? text : nil
    }

    /// The candidates tried, in order (see `CUDAError.libraryNotFound`).
    var searched: [String] {
        let text = CUDAText.read { buffer, capacity, length in
            ccuda_library_searched(rawValue, buffer, capacity, length)
        }
        return text.split(separator: "\n").map(String.init)
    }

    /// The error for a negative status of the shim itself, or nil for a library status.
    func shimError(_ status: Int32, function: String) -> CUDAError? {
        switch status {
        case CCUDA_ERROR_LIBRARY_NOT_FOUND:
            return .libraryNotFound(library: name, searched: searched)
        case CCUDA_ERROR_SYMBOL_NOT_FOUND:
            return .missingFunction(library: name, function: function, path: path ?? "?")
        case CCUDA_ERROR_INVALID_VALUE:
            return .apiCall(function: function, code: status, name: "ccudaErrorInvalidValue",
                            message: "the CCUDA shim was passed a null pointer")
        default:
            return nil
        }
    }
}

/// Helpers for strings crossing the C boundary.
enum CUDAText {
    /// Reads a string from a shim function that copies into `(buffer, capacity)` and reports the
    /// full length: asks the length first, then copies.
    static func read(
        _ copy: (UnsafeMutablePointer<CChar>?, Int, UnsafeMutablePointer<Int>) -> Int32
    ) -> String {
        var length = 0
        _ = copy(nil, 0, &length)
        guard length > 0 else { return "" }
        var bytes = [CChar](repeating: 0, count: length + 1)
        _ = bytes.withUnsafeMutableBufferPointer { copy($0.baseAddress, $0.count, &length) }
        return string(fromNulTerminated: bytes)
    }

    /// Decodes the UTF-8 bytes of `chars` up to the first NUL (invalid bytes are replaced).
    static func string<C: Collection>(fromNulTerminated chars: C) -> String where C.Element == CChar {
        String(decoding: chars.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Decodes a C string the library owns, or `fallback` for NULL.
    static func string(_ pointer: UnsafePointer<CChar>?, fallback: String) -> String {
        guard let pointer else { return fallback }
        return String(cString: pointer)
    }

    /// `text` without trailing whitespace or NULs (compiler logs end with both).
    static func trimmingTrailingWhitespace(_ text: String) -> String {
        var result = Substring(text)
        while let last = result.last, last.isWhitespace || last == "\0" { result = result.dropLast() }
        return String(result)
    }
}
