#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Compiled kernels, kept in memory for the process and on disk across processes.
///
/// Entries are keyed by the source, kernel name, target (`sm_90`), options and NVRTC version.
/// A disk file is named by a 64-bit FNV-1a hash of the key and stores the whole key, which is
/// compared on load, so a hash collision is a miss, never a wrong kernel.
///
/// The folder is `AUTOGRAD_KERNEL_CACHE` when set (an empty value turns the disk cache off),
/// else `$XDG_CACHE_HOME/swift-autograd/kernels`, else `~/.cache/swift-autograd/kernels`.
/// Disk errors are never fatal: an unreadable, corrupt or unwritable cache only means compiling
/// again. Files are written to a temporary name and renamed, so readers never see half a file.
final class CUDAKernelCache: @unchecked Sendable {
    // @unchecked Sendable: `memory` and the counters are only touched while holding `lock`;
    // `directory` is immutable. Compilation and disk I/O run outside the lock (two threads may
    // compile the same kernel at once; both get equal results).

    /// What identifies a compiled kernel.
    struct Key: Hashable, Sendable {
        var source: String
        var name: String
        var target: String
        var options: [String]
        var nvrtcVersion: String

        /// The key as stored in a cache file (and hashed for its name).
        var serialized: [UInt8] {
            var text = "swift-autograd kernel cache v1\n"
            text += "nvrtc \(nvrtcVersion)\ntarget \(target)\nname \(name)\n"
            text += "options \(options.joined(separator: " "))\n\n\(source)"
            return Array(text.utf8)
        }
    }

    /// The process-wide cache, in the default folder.
    static let shared = CUDAKernelCache(directory: defaultDirectory())

    /// The disk folder, or nil when the disk cache is off.
    let directory: String?

    private let lock = CUDALock()
    private var memory: [Key: CUDAKernelBinary] = [:]
    private var compileCount = 0
    private var diskHitCount = 0

    init(directory: String?) {
        self.directory = directory
    }

    /// The folder from the environment (see the type's documentation), or nil.
    static func defaultDirectory() -> String? {
        if let override = environment("AUTOGRAD_KERNEL_CACHE") {
            return override.isEmpty ? nil : override
        }
        if let xdg = environment("XDG_CACHE_HOME"), !xdg.isEmpty {
            return xdg + "/swift-autograd/kernels"
        }
        if let home = environment("HOME"), !home.isEmpty {
            return home + "/.cache/swift-autograd/kernels"
        }
        return nil
    }

    /// Compilations this cache ran (misses in memory and on disk).
    var compilations: Int { lock.withLock { compileCount } }
    /// Kernels this cache read from disk.
    var diskHits: Int { lock.withLock { diskHitCount } }

    /// The binary for `key`: from memory, else from disk, else from `compile` (then stored in
    /// both).
    func binary(for key: Key, compile: () throws -> CUDAKernelBinary) throws -> CUDAKernelBinary {
        if let cached = lock.withLock({ memory[key] }) { return cached }
        let serializedKey = key.serialized
        if let stored = read(key: serializedKey) {
            lock.withLock {
                memory[key] = stored
                diskHitCount += 1
            }
            return stored
        }
        let binary = try compile()
        lock.withLock {
            memory[key] = binary
            compileCount += 1
        }
        write(binary, key: serializedKey)
        return binary
    }

    /// Forgets the in-memory entries (the disk stays).
    func removeAllFromMemory() {
        lock.withLock { memory = [:] }
    }

    // MARK: - File format
    // "SAGKERN1", key length (UInt64 LE), key, format (UInt8), architecture (UInt32 LE), image.

    private static let magic = Array("SAGKERN1".utf8)

    /// The file for a key: `<fnv1a-64 hex>.kernel` in the folder.
    func path(forKey key: [UInt8]) -> String? {
        guard let directory else { return nil }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return directory + "/" + String(repeating: "0", count: 16 - hex.count) + hex + ".kernel"
    }

    static func encode(_ binary: CUDAKernelBinary, key: [UInt8]) -> [UInt8] {
        var bytes = magic
        bytes.reserveCapacity(magic.count + 13 + key.count + binary.bytes.count)
        withUnsafeBytes(of: UInt64(key.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: key)
        bytes.append(binary.format.rawValue)
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: binary.architecture).littleEndian) {
            bytes.append(contentsOf: $0)
        }
        bytes.append(contentsOf: binary.bytes)
        return bytes
    }

    /// The binary in `bytes` if they are a well-formed entry for exactly `key`.
    static func decode(_ bytes: [UInt8], key: [UInt8]) -> CUDAKernelBinary? {
        var offset = magic.count
        guard bytes.count >= offset + 8, Array(bytes[0..<offset]) == magic else { return nil }
        var keyLength: UInt64 = 0
        for i in 0..<8 { keyLength |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        offset += 8
        guard keyLength == UInt64(key.count), bytes.count >= offset + key.count + 5,
              bytes[offset..<offset + key.count].elementsEqual(key) else { return nil }
        offset += key.count
        guard let format = CUDAKernelBinary.Format(rawValue: bytes[offset]) else { return nil }
        offset += 1
        var architecture: UInt32 = 0
        for i in 0..<4 { architecture |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
        offset += 4
        guard offset < bytes.count else { return nil }
        return CUDAKernelBinary(format: format, architecture: Int(architecture),
                                bytes: Array(bytes[offset...]))
    }

    // MARK: - Disk (every failure is a miss or a skipped write)

    private func read(key: [UInt8]) -> CUDAKernelBinary? {
        guard let path = path(forKey: key), let bytes = Self.readFile(path) else { return nil }
        return Self.decode(bytes, key: key)
    }

    private func write(_ binary: CUDAKernelBinary, key: [UInt8]) {
        guard let directory, let path = path(forKey: key), Self.makeDirectories(directory) else { return }
        let temporary = "\(path).\(getpid()).\(UInt64.random(in: 0...UInt64.max)).tmp"
        guard Self.writeFile(temporary, Self.encode(binary, key: key)) else {
            unlink(temporary)
            return
        }
        if rename(temporary, path) != 0 { unlink(temporary) }
    }

    private static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    static func readFile(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            result.append(contentsOf: chunk[0..<count])
            if count < chunk.count { break }
        }
        return ferror(file) == 0 ? result : nil
    }

    static func writeFile(_ path: String, _ bytes: [UInt8]) -> Bool {
        guard let file = fopen(path, "wb") else { return false }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        return fclose(file) == 0 && written == bytes.count
    }

    /// `mkdir -p`; true when the folder exists afterwards.
    static func makeDirectories(_ path: String) -> Bool {
        var info = stat()
        if stat(path, &info) == 0 { return (info.st_mode & S_IFMT) == S_IFDIR }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component + "/"
            _ = mkdir(prefix, 0o755)  // EEXIST and friends: checked once at the end
        }
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
}
