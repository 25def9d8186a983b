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
        guard let path = candidates.compactMap({ $0 }).first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw LoadError.missing(candidates.compactMap { $0 }.joined(separator: ", "))
        }
        let arrays = try NPZ.read(path)
        guard let images = arrays["images"], let labels = arrays["labels"], images.rank == 2, images.shape[1] == 64,
              labels.shape == [images.shape[0]], images.shape[0] > trainCount else {
            throw LoadError.malformed("expected images [n, 64] and labels [n] with n > \(trainCount)")
        }
        let n = images.shape[0]
        let x = images.to(.float32) / 16
        let y = labels.to(.int64)
        return DigitsData(trainImages: x.narrow(dim: 0, start: 0, length: trainCount),
                          trainLabels: y.narrow(dim: 0, start: 0, length: trainCount),
                          testImages: x.narrow(dim: 0, start: trainCount, length: n - trainCount),
                          testLabels: y.narrow(dim: 0, start: trainCount, length: n - trainCount))
    }
}
