import Autograd
import Foundation

/// scikit-learn's 8×8 digits, read from the bundled `digits.npz` (see DIGITS-LICENSE.md):
/// images scaled to [0, 1] as float32 `[n, 64]`, labels int64 `[n]`; the first 1 437 rows
/// are the training split, the last 360 the held-out test split.
struct DigitsData {
    let trainImages: Tensor, trainLabels: Tensor
    let testImages: Tensor, testLabels: Tensor

    static let trainCount = 1437

    enum LoadError: Error, CustomStringConvertible {
        case missing(String)
        case malformed(String)
        var description: String {
            switch self {
            case .missing(let what): return "digits data not found: \(what)"
            case .malformed(let what): return "digits.npz is malformed: \(what)"
            }
        }
    }

    static func load() throws -> DigitsData {
        let candidates: [String?] = [Bundle.module.url(forResource: "digits", withExtension: "npz", subdirectory: "Resources")?.path,
                          Bundle.module.url(forResource: "digits", withExtension: "npz")?.path,
                          URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/digits.npz").path]
        guard let path = candidates.compactMap({ $0 }).first(where: { FileManager.default.fileExists(atPath: $0) }),
              let bytes = FileManager.default.contents(atPath: path) else {
            throw LoadError.missing(candidates.compactMap { $0 }.joined(separator: ", "))
        }
        let arrays = try readStoredNPZ([UInt8](bytes))
        guard let images = arrays["images"], let labels = arrays["labels"], images.shape.count == 2, images.shape[1] == 64,
              labels.shape == [images.shape[0]], images.shape[0] > trainCount else {
            throw LoadError.malformed("expected images [n, 64] and labels [n] with n > \(trainCount)")
        }
        let n = images.shape[0]
        let x = Tensor(shape: images.shape, scalars: images.values.map { (v: UInt8) -> Float in Float(v) / 16 })
        let y = Tensor(shape: [n], scalars: labels.values.map { (v: UInt8) -> Int in Int(v) })
        return DigitsData(trainImages: x.narrow(dim: 0, start: 0, length: trainCount),
                          trainLabels: y.narrow(dim: 0, start: 0, length: trainCount),
                          testImages: x.narrow(dim: 0, start: trainCount, length: n - trainCount),
                          testLabels: y.narrow(dim: 0, start: trainCount, length: n - trainCount))
    }

    /// The uint8 arrays of an uncompressed `.npz` (a ZIP of stored `.npy` members, as
    /// `np.savez` writes it). Each member is found from its local header; the `.npy` header
    /// gives dtype and shape, so the ZIP64 size fields need not be read.
    static func readStoredNPZ(_ bytes: [UInt8]) throws -> [String: (shape: [Int], values: [UInt8])] {
        func u16(_ i: Int) -> Int { Int(bytes[i]) | Int(bytes[i + 1]) << 8 }
        var result: [String: (shape: [Int], values: [UInt8])] = [:]
        var i = 0
        while i + 30 <= bytes.count, bytes[i] == 0x50, bytes[i + 1] == 0x4b, bytes[i + 2] == 3, bytes[i + 3] == 4 {
            guard u16(i + 8) == 0 else { throw LoadError.malformed("member at byte \(i) is compressed") }
            let nameLength = u16(i + 26), extraLength = u16(i + 28)
            let name = String(decoding: bytes[(i + 30)..<(i + 30 + nameLength)], as: UTF8.self)
            var p = i + 30 + nameLength + extraLength
            guard p + 10 <= bytes.count, bytes[p] == 0x93, String(decoding: bytes[(p + 1)..<(p + 6)], as: UTF8.self) == "NUMPY" else {
                throw LoadError.malformed("member \(name) at byte \(i) is not a .npy array")
            }
            let major = bytes[p + 6]
            let headerLength = major == 1 ? u16(p + 8) : u16(p + 8) | u16(p + 10) << 16
            let headerStart = p + (major == 1 ? 10 : 12)
            let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
            guard header.contains("'|u1'") || header.contains("'u1'"), header.contains("'fortran_order': False"),
                  let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
                throw LoadError.malformed("member \(name) is not a C-ordered uint8 array: \(header)")
            }
            let shape = header[open.upperBound..<close].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            p = headerStart + headerLength
            let count = shape.reduce(1, *)
            guard p + count <= bytes.count else { throw LoadError.malformed("member \(name) is truncated") }
            result[name.replacingOccurrences(of: ".npy", with: "")] = (shape, Array(bytes[p..<(p + count)]))
            i = p + count
            // np.savez writes a ZIP64 data descriptor only when streaming; members follow directly.
            while i + 4 <= bytes.count && !(bytes[i] == 0x50 && bytes[i + 1] == 0x4b) { i += 1 }
        }
        return result
    }
}
