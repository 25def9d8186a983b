import Foundation

/// Reading and writing whole files for the tensor formats, with errors as ``TensorIOError``.
enum FileBytes {
    /// The file's contents, memory-mapped (pages are read on first touch, so a large file
    /// costs no memory until its bytes are used, and only what a reader copies out stays).
    /// The file must not be truncated by another process while it is mapped.
    static func read(_ path: String, format: TensorIOError.Format) throws -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw TensorIOError(format, .unreadable(error.localizedDescription), path: path)
        }
    }

    /// Writes `bytes` to `path` atomically (to a temporary file, then renamed).
    static func write(_ bytes: [UInt8], to path: String, format: TensorIOError.Format) throws {
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw TensorIOError(format, .unwritable(error.localizedDescription), path: path)
        }
    }

    /// Runs `body` on the bytes of the file at `path`, stamping the path on its errors.
    static func withContents<T>(of path: String, format: TensorIOError.Format,
                                _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        let data = try read(path, format: format)
        return try withErrorPath(path) { try data.withUnsafeBytes { try body($0) } }
    }
}
