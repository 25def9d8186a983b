import Foundation
import XCTest
@testable import Autograd

/// The PyTorch reference values of `Scripts/nn-reference.py`
/// (`Fixtures/nn-reference.json`), loaded once.
enum NNReference {
    nonisolated(unsafe) static let root: [String: Any] = {
        guard let data = FileManager.default.contents(atPath: fixturePath("nn-reference.json")),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object
    }()

    static func section(_ name: String) -> [String: Any] { root[name] as? [String: Any] ?? [:] }

    /// Decodes `{shape, data, dtype}` into a CPU tensor of that dtype.
    static func tensor(_ value: Any?) -> Tensor {
        guard let dict = value as? [String: Any], let shape = dict["shape"] as? [Int] else {
            XCTFail("malformed tensor entry in nn-reference.json")
            return Tensor.zeros([0])
        }
        let data = (dict["data"] as? [Any] ?? []).map { ($0 as? NSNumber)?.doubleValue ?? .nan }
        let dtypeName = dict["dtype"] as? String ?? "float64"
        let dtype = DType(rawValue: dtypeName) ?? .float64
        return Tensor(shape: shape, scalars: data).to(dtype)
    }

    /// Decodes a dictionary of tensors.
    static func tensors(_ value: Any?) -> [String: Tensor] {
        (value as? [String: Any] ?? [:]).mapValues { tensor($0) }
    }
}
