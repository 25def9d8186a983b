import Foundation

// MARK: - Bridging tensors and the byte-level formats

extension Tensor {
    /// A contiguous CPU tensor holding the payload's elements. Tensor storage is host order,
    /// and every platform Swift targets here (x86-64, arm64) is little-endian like payloads.
    init(payload: ArrayPayload) {
        self = payload.bytes.withUnsafeBytes { Tensor.fromBytes($0, shape: payload.shape, dtype: payload.dtype) }
    }

    /// A contiguous CPU tensor converted straight from a file's bytes: one copy, no
    /// intermediate buffer (the file is memory-mapped, so a large file costs one tensor).
    init(view: RawArrayView) {
        let t = Tensor(uninitializedShape: view.shape, dtype: view.dtype)
        view.copy(into: UnsafeMutableRawBufferPointer(start: t.storage.pointer, count: view.data.count))
        self = t
    }

    /// The elements as little-endian, row-major bytes (copied to the CPU if needed).
    var payload: ArrayPayload {
        withUnsafeBytes { ArrayPayload(dtype: dtype, shape: shape, bytes: [UInt8]($0)) }
    }
}

// MARK: - .npy

extension Tensor {
    /// Reads a NumPy `.npy` file (`np.save`'s format).
    ///
    /// Accepts format versions 1.0, 2.0 and 3.0, C and Fortran order, little- and big-endian
    /// data, 0-d and size-0 arrays, and the dtypes `|b1 |u1 |i1 i2 i4 i8 f2 f4 f8`. The result
    /// is a contiguous CPU tensor of the matching dtype that does not require gradients.
    ///
    /// ```swift
    /// let w = try Tensor(npyFile: "weights.npy")   // np.save("weights.npy", w)
    /// ```
    /// - Parameter path: the file to read; it is memory-mapped while being decoded.
    /// - Throws: ``TensorIOError`` naming the file and byte offset for an unreadable file, a bad
    ///   magic string or version, a malformed header, an unsupported dtype (such as `<u4` or an
    ///   object array), a shape that overflows, or data shorter or longer than the header says.
    /// - Complexity: O(n) in the file size.
    public init(npyFile path: String) throws {
        self = try FileBytes.withContents(of: path, format: .npy) { Tensor(view: try NPYFormat.view($0)) }
    }

    /// Decodes a `.npy` image held in memory; see ``init(npyFile:)``.
    /// - Throws: ``TensorIOError`` as ``init(npyFile:)`` does, without a path.
    /// - Complexity: O(n) in the data size.
    public init(npyData: Data) throws {
        self = try npyData.withUnsafeBytes { Tensor(view: try NPYFormat.view($0)) }
    }

    /// Writes this tensor as a NumPy `.npy` file that `np.load` reads.
    ///
    /// The file is version 1.0 (2.0 for very long headers), C order, little-endian, with the
    /// data aligned to 64 bytes: byte-for-byte what `np.save` writes for the same array.
    /// NumPy has no bfloat16, so bfloat16 tensors are written as float32 (exactly).
    /// - Parameter path: the destination, replaced atomically if it exists.
    /// - Throws: ``TensorIOError`` with reason `.unwritable` if the file cannot be written.
    /// - Complexity: O(n); copies from the device first when not on the CPU.
    public func writeNPY(to path: String) throws {
        try FileBytes.write(NPYFormat.encode(payload), to: path, format: .npy)
    }

    /// The `.npy` image of this tensor, as ``writeNPY(to:)`` would write it.
    /// - Complexity: O(n).
    public func npyData() -> Data {
        Data(NPYFormat.encode(payload))
    }
}

// MARK: - .npz

/// NumPy `.npz` archives: several named arrays in one ZIP file (`np.savez`,
/// `np.savez_compressed`, `np.load`).
///
/// ```swift
/// let arrays = try NPZ.read("data.npz")                 // ["x": Tensor, "y": Tensor]
/// try NPZ.write(["x": x, "y": y], to: "out.npz", compressed: true)
/// ```
public enum NPZ {
    /// Reads every array of an `.npz` archive, keyed by name (the member name without `.npy`).
    ///
    /// Reads stored (`np.savez`) and deflated (`np.savez_compressed`) members, ZIP64 archives
    /// and members, and checks each member's CRC-32. Each member is decoded as in
    /// ``Tensor/init(npyFile:)``.
    /// - Parameter path: the archive; it is memory-mapped while being read.
    /// - Returns: CPU tensors that do not require gradients.
    /// - Throws: ``TensorIOError`` naming the file, the member and the byte offset: not a ZIP
    ///   archive, truncated or overlapping members, offsets outside the file, an unsupported
    ///   compression method or encryption, a corrupt DEFLATE stream, a CRC-32 mismatch, a
    ///   declared size DEFLATE could not produce, duplicate names, or an invalid `.npy` member.
    /// - Complexity: O(n) in the uncompressed size.
    public static func read(_ path: String) throws -> [String: Tensor] {
        let arrays = try FileBytes.withContents(of: path, format: .npz) { try NPZFormat.decode($0) }
        var result: [String: Tensor] = [:]
        for (name, payload) in arrays { result[name] = Tensor(payload: payload) }
        return result
    }

    /// Writes tensors as an `.npz` archive that `np.load` reads, members in name order.
    /// - Parameters:
    ///   - tensors: the arrays by name; each becomes member `<name>.npy` (see
    ///     ``Tensor/writeNPY(to:)`` for the layout and the bfloat16 rule).
    ///   - path: the destination, replaced atomically if it exists.
    ///   - compressed: deflate the members, like `np.savez_compressed`; otherwise store them,
    ///     like `np.savez`.
    /// - Throws: ``TensorIOError``: `.invalidName` for an empty name or one over 65531 bytes,
    ///   `.unwritable` if the file cannot be written.
    /// - Complexity: O(n) in the total size; the archive is built in memory first.
    public static func write(_ tensors: [String: Tensor], to path: String, compressed: Bool = false) throws {
        let arrays = tensors.sorted { $0.key < $1.key }.map { (name: $0.key, array: $0.value.payload) }
        let bytes = try withErrorPath(path) { try NPZFormat.encode(arrays, compressed: compressed) }
        try FileBytes.write(bytes, to: path, format: .npz)
    }
}

// MARK: - safetensors

/// The safetensors format used by Hugging Face tools for model weights.
///
/// ```swift
/// let weights = try SafeTensors.read("model.safetensors")
/// try SafeTensors.write(["w": w], to: "out.safetensors", metadata: ["format": "pt"])
/// ```
public enum SafeTensors {
    /// Reads every tensor of a safetensors file, keyed by name.
    ///
    /// Supports the dtypes BOOL, U8, I8, I16, I32, I64, F16, BF16, F32 and F64. The file is
    /// memory-mapped, so only the tensors' bytes are copied, once, into the results.
    /// - Parameter path: the file to read.
    /// - Returns: CPU tensors that do not require gradients.
    /// - Throws: ``TensorIOError`` naming the file, the tensor and the byte offset: a header
    ///   length past the file or over 100 MB, malformed JSON, an unknown dtype, a negative or
    ///   overflowing shape, `data_offsets` that do not match the shape, overlap, leave gaps or
    ///   do not cover the data exactly, or a `__metadata__` that is not a map of strings.
    /// - Complexity: O(n) in the file size.
    public static func read(_ path: String) throws -> [String: Tensor] {
        try FileBytes.withContents(of: path, format: .safetensors) { bytes in
            var result: [String: Tensor] = [:]
            for (name, view) in try SafeTensorsFormat.views(bytes).tensors { result[name] = Tensor(view: view) }
            return result
        }
    }

    /// Reads only the `__metadata__` map of a safetensors file (the header is validated in
    /// full; tensor data is not copied).
    /// - Throws: ``TensorIOError`` as ``read(_:)`` does.
    public static func metadata(_ path: String) throws -> [String: String] {
        try FileBytes.withContents(of: path, format: .safetensors) {
            try SafeTensorsFormat.parseHeader(ByteReader(bytes: $0, format: .safetensors)).metadata
        }
    }

    /// Writes tensors as a safetensors file, laid out as the reference implementation does
    /// (by decreasing dtype size, then name, so each tensor is aligned to its element size).
    /// - Parameters:
    ///   - tensors: the tensors by name.
    ///   - path: the destination, replaced atomically if it exists.
    ///   - metadata: free-form string pairs stored as `__metadata__`.
    /// - Throws: ``TensorIOError``: `.invalidName` for a tensor named `__metadata__`,
    ///   `.unwritable` if the file cannot be written.
    /// - Complexity: O(n) in the total size; the file is built in memory first.
    public static func write(_ tensors: [String: Tensor], to path: String, metadata: [String: String] = [:]) throws {
        let arrays = tensors.sorted { $0.key < $1.key }.map { (name: $0.key, array: $0.value.payload) }
        let bytes = try withErrorPath(path) { try SafeTensorsFormat.encode(arrays, metadata: metadata) }
        try FileBytes.write(bytes, to: path, format: .safetensors)
    }
}
