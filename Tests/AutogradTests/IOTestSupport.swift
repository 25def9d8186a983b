import Foundation
import XCTest
@testable import Autograd

/// Fixtures written by Scripts/make-io-fixtures.py, found next to this file so that
/// `swift test` works from any clone without a resource bundle.
enum IOFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("io")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// manifest.json: {"npy": {file: entry}, "npz": {file: {name: entry}},
    /// "safetensors": {file: {"tensors": {name: entry}, "metadata": {k: v}}}}.
    static func manifest() throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func section(_ name: String) throws -> [String: Any] {
        try XCTUnwrap(try manifest()[name] as? [String: Any])
    }
}

func hexBytes(_ hex: String) -> [UInt8] {
    let chars = Array(hex.utf8)
    return stride(from: 0, to: chars.count, by: 2).map { i in
        UInt8(String(decoding: chars[i..<(i + 2)], as: UTF8.self), radix: 16) ?? 0
    }
}

/// Checks a decoded payload against a manifest entry (dtype, shape, and the bytes as hex,
/// or for large arrays size + CRC-32 + prefix).
func assertPayload(_ p: ArrayPayload, matches entry: Any?, _ what: String,
                   file: StaticString = #filePath, line: UInt = #line) {
    guard let e = entry as? [String: Any] else {
        return XCTFail("\(what): no manifest entry", file: file, line: line)
    }
    XCTAssertEqual(p.dtype.rawValue, e["dtype"] as? String, "\(what): dtype", file: file, line: line)
    XCTAssertEqual(p.shape, (e["shape"] as? [Int]) ?? [-1], "\(what): shape", file: file, line: line)
    if let hex = e["hex"] as? String {
        XCTAssertEqual(p.bytes, hexBytes(hex), "\(what): bytes", file: file, line: line)
    } else {
        XCTAssertEqual(p.bytes.count, e["size"] as? Int, "\(what): size", file: file, line: line)
        XCTAssertEqual(Int(CRC32.checksum(p.bytes)), e["crc32"] as? Int, "\(what): CRC-32", file: file, line: line)
        let prefix = hexBytes(e["prefix"] as? String ?? "")
        XCTAssertEqual(Array(p.bytes.prefix(prefix.count)), prefix, "\(what): prefix", file: file, line: line)
    }
}

extension TensorIOError.Reason {
    /// The case name, for tests that check which kind of failure was reported.
    var tag: String {
        switch self {
        case .unreadable: return "unreadable"
        case .unwritable: return "unwritable"
        case .truncated: return "truncated"
        case .badMagic: return "badMagic"
        case .unsupportedVersion: return "unsupportedVersion"
        case .malformedHeader: return "malformedHeader"
        case .unsupportedDType: return "unsupportedDType"
        case .invalidShape: return "invalidShape"
        case .sizeMismatch: return "sizeMismatch"
        case .invalidOffsets: return "invalidOffsets"
        case .corruptData: return "corruptData"
        case .checksumMismatch: return "checksumMismatch"
        case .unsupportedFeature: return "unsupportedFeature"
        case .limitExceeded: return "limitExceeded"
        case .duplicateName: return "duplicateName"
        case .invalidName: return "invalidName"
        }
    }
}

/// Asserts that `body` throws a TensorIOError whose reason has tag `tag` (and format, if given).
@discardableResult
func assertIOError<T>(_ tag: String, format: TensorIOError.Format? = nil, _ message: String = "",
                      file: StaticString = #filePath, line: UInt = #line,
                      _ body: () throws -> T) -> TensorIOError? {
    do {
        _ = try body()
        XCTFail("expected a \(tag) error, nothing thrown. \(message)", file: file, line: line)
    } catch let e as TensorIOError {
        XCTAssertEqual(e.reason.tag, tag, "\(e) \(message)", file: file, line: line)
        if let format { XCTAssertEqual(e.format, format, "\(e) \(message)", file: file, line: line) }
        return e
    } catch {
        XCTFail("expected TensorIOError, got \(error). \(message)", file: file, line: line)
    }
    return nil
}

/// A small deterministic generator (SplitMix64) for test data.
struct TestRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
}

/// A payload of `dtype` and `shape` with arbitrary (seeded) bytes; bools are 0/1.
func randomPayload(_ dtype: DType, _ shape: [Int], seed: UInt64 = 1) -> ArrayPayload {
    var rng = TestRNG(seed: seed)
    var bytes = rng.bytes(shape.reduce(1, *) * dtype.byteCount)
    if dtype == .bool { bytes = bytes.map { $0 & 1 } }
    return ArrayPayload(dtype: dtype, shape: shape, bytes: bytes)
}
