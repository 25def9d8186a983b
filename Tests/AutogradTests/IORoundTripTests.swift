import Foundation
import XCTest
@testable import Autograd

/// The Swift half of Scripts/io-roundtrip.py. Skipped unless AUTOGRAD_IO_ROUNDTRIP_DIR is set:
/// the script writes files with NumPy and safetensors into DIR/numpy (with manifest.json),
/// runs this test, and then reads back with NumPy and safetensors what it wrote into DIR/swift:
/// every NumPy file re-encoded (npz both stored and deflated), plus arrays of every dtype that
/// Swift generated, described in DIR/swift/manifest.json.
final class IORoundTripTests: XCTestCase {
    func testRoundTripWithNumPy() throws {
        guard let dir = ProcessInfo.processInfo.environment["AUTOGRAD_IO_ROUNDTRIP_DIR"] else {
            throw XCTSkip("set AUTOGRAD_IO_ROUNDTRIP_DIR (Scripts/io-roundtrip.py does)")
        }
        let input = URL(fileURLWithPath: dir).appendingPathComponent("numpy")
        let output = URL(fileURLWithPath: dir).appendingPathComponent("swift")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let manifest = try XCTUnwrap(JSONSerialization.jsonObject(
            with: Data(contentsOf: input.appendingPathComponent("manifest.json"))) as? [String: Any])

        // NumPy → Swift → NumPy.
        var checked = 0
        for (name, entry) in try XCTUnwrap(manifest["npy"] as? [String: Any]) {
            let payload = try FileBytes.withContents(of: input.appendingPathComponent(name).path, format: .npy) {
                try NPYFormat.decode($0)
            }
            assertPayload(payload, matches: entry, name)
            try FileBytes.write(NPYFormat.encode(payload), to: output.appendingPathComponent(name).path, format: .npy)
            checked += 1
        }
        for (name, entry) in try XCTUnwrap(manifest["npz"] as? [String: Any]) {
            let arrays = try FileBytes.withContents(of: input.appendingPathComponent(name).path, format: .npz) {
                try NPZFormat.decode($0)
            }
            let table = try XCTUnwrap(entry as? [String: Any])
            XCTAssertEqual(Set(arrays.map(\.name)), Set(table.keys), name)
            for (key, p) in arrays { assertPayload(p, matches: table[key], "\(name)/\(key)") }
            let stem = String(name.dropLast(4))
            try FileBytes.write(NPZFormat.encode(arrays, compressed: false), to: output.appendingPathComponent(stem + ".stored.npz").path, format: .npz)
            try FileBytes.write(NPZFormat.encode(arrays, compressed: true), to: output.appendingPathComponent(stem + ".deflated.npz").path, format: .npz)
            try FileBytes.write(NPZFormat.encode(arrays, compressed: true, forceZIP64: true),
                                to: output.appendingPathComponent(stem + ".zip64.npz").path, format: .npz)
            checked += 1
        }
        for (name, entry) in try XCTUnwrap(manifest["safetensors"] as? [String: Any]) {
            let (tensors, metadata) = try FileBytes.withContents(of: input.appendingPathComponent(name).path, format: .safetensors) {
                try SafeTensorsFormat.decode($0)
            }
            let e = try XCTUnwrap(entry as? [String: Any])
            let table = try XCTUnwrap(e["tensors"] as? [String: Any])
            XCTAssertEqual(Set(tensors.map(\.name)), Set(table.keys), name)
            for (key, p) in tensors { assertPayload(p, matches: table[key], "\(name)/\(key)") }
            XCTAssertEqual(metadata, e["metadata"] as? [String: String], name)
            try FileBytes.write(SafeTensorsFormat.encode(tensors, metadata: metadata),
                                to: output.appendingPathComponent(name).path, format: .safetensors)
            checked += 1
        }
        XCTAssertGreaterThan(checked, 0)

        // Swift → NumPy: every dtype and several shapes, described for the script.
        var generated: [String: Any] = [:]
        var arrays: [(name: String, array: ArrayPayload)] = []
        let shapes: [[Int]] = [[], [0], [7], [3, 4], [2, 0, 5], [2, 3, 2, 2], [20_000]]
        for (i, dtype) in DType.allCases.enumerated() {
            for (j, shape) in shapes.enumerated() {
                let p = randomPayload(dtype, shape, seed: UInt64(100 * i + j))
                arrays.append(("\(dtype)_\(j)", p))
            }
        }
        func describe(_ p: ArrayPayload) -> [String: Any] {
            let digits = Array("0123456789abcdef".utf8)
            var hex: [UInt8] = []
            hex.reserveCapacity(2 * p.bytes.count)
            for b in p.bytes { hex.append(digits[Int(b >> 4)]); hex.append(digits[Int(b & 15)]) }
            return ["dtype": p.dtype.rawValue, "shape": p.shape, "hex": String(decoding: hex, as: UTF8.self)]
        }
        var npyFiles: [String: Any] = [:]
        for (name, p) in arrays where p.dtype != .bfloat16 {
            try FileBytes.write(NPYFormat.encode(p), to: output.appendingPathComponent("gen_\(name).npy").path, format: .npy)
            npyFiles["gen_\(name).npy"] = describe(p)
        }
        generated["npy"] = npyFiles
        let npzArrays = arrays.filter { $0.array.dtype != .bfloat16 }
        try FileBytes.write(NPZFormat.encode(npzArrays, compressed: false), to: output.appendingPathComponent("gen.stored.npz").path, format: .npz)
        try FileBytes.write(NPZFormat.encode(npzArrays, compressed: true), to: output.appendingPathComponent("gen.deflated.npz").path, format: .npz)
        let table = Dictionary(uniqueKeysWithValues: npzArrays.map { ($0.name, describe($0.array) as Any) })
        generated["npz"] = ["gen.stored.npz": table, "gen.deflated.npz": table]
        let metadata = ["format": "pt", "written by": "swift-autograd", "ünïcode \"quoted\"": "line\nbreak"]
        try FileBytes.write(SafeTensorsFormat.encode(arrays, metadata: metadata),
                            to: output.appendingPathComponent("gen.safetensors").path, format: .safetensors)
        generated["safetensors"] = ["gen.safetensors": [
            "tensors": Dictionary(uniqueKeysWithValues: arrays.map { ($0.name, describe($0.array) as Any) }),
            "metadata": metadata,
        ] as [String: Any]]
        let json = try JSONSerialization.data(withJSONObject: generated, options: [.sortedKeys])
        try json.write(to: output.appendingPathComponent("manifest.json"))
    }
}
