import Foundation
import XCTest
@testable import Autograd

/// The public API over the byte-level formats (Tensor+IO.swift).
final class TensorIOTests: XCTestCase {
    private var tmp: URL!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("autograd-io-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: tmp)
    }

    private func path(_ name: String) -> String { tmp.appendingPathComponent(name).path }

    func testReadsNumPyFilesAsTensors() throws {
        // io_common.sample: float32 0.25 i - 1.5, Fortran-ordered (2, 3, 4) on disk.
        let t = try Tensor(npyFile: IOFixtures.path("float32_f.npy"))
        XCTAssertEqual(t.shape, [2, 3, 4])
        XCTAssertEqual(t.dtype, .float32)
        XCTAssertEqual(t.device, .cpu)
        XCTAssertFalse(t.requiresGrad)
        XCTAssertEqual(t.scalars(as: Double.self), (0..<24).map { 0.25 * Double($0) - 1.5 })
        // Big-endian int32: 100003 i - 7.
        XCTAssertEqual(try Tensor(npyFile: IOFixtures.path("int32_be_c.npy")).scalars(as: Int.self),
                       (0..<6).map { 100003 * $0 - 7 })
        let scalar = try Tensor(npyFile: IOFixtures.path("float64_0d.npy"))
        XCTAssertEqual(scalar.shape, [])
        XCTAssertEqual(scalar.item(), 3.25)
        XCTAssertEqual(try Tensor(npyFile: IOFixtures.path("float32_empty.npy")).shape, [0, 3])
    }

    func testNPYRoundTripsThroughFilesAndData() throws {
        let a = Tensor(shape: [2, 3], scalars: [1.5, -2, 3, 4, 5, 6] as [Double], dtype: .float64)
        try a.writeNPY(to: path("a.npy"))
        let b = try Tensor(npyFile: path("a.npy"))
        XCTAssertEqual(b.shape, [2, 3])
        XCTAssertEqual(b.dtype, .float64)
        XCTAssertEqual(b.scalars(as: Double.self), a.scalars(as: Double.self))
        XCTAssertEqual(try Tensor(npyData: a.npyData()).scalars(as: Double.self), a.scalars(as: Double.self))
        XCTAssertEqual(a.npyData(), try Data(contentsOf: URL(fileURLWithPath: path("a.npy"))))
    }

    func testNonContiguousTensorsAreWrittenRowMajor() throws {
        let a = Tensor(shape: [2, 3], scalars: [0, 1, 2, 3, 4, 5] as [Int])
        let t = a.transposed(0, 1)    // [[0, 3], [1, 4], [2, 5]]
        let back = try Tensor(npyData: t.npyData())
        XCTAssertEqual(back.shape, [3, 2])
        XCTAssertEqual(back.scalars(as: Int.self), [0, 3, 1, 4, 2, 5])
    }

    func testEveryDTypeRoundTrips() throws {
        var tensors: [String: Tensor] = [:]
        for dtype in DType.allCases {
            tensors["\(dtype)"] = Tensor(shape: [2, 2], scalars: [0, 1, 1, 0] as [Double], dtype: dtype)
        }
        try NPZ.write(tensors, to: path("all.npz"), compressed: true)
        try SafeTensors.write(tensors, to: path("all.safetensors"), metadata: ["k": "v"])
        let npz = try NPZ.read(path("all.npz"))
        let st = try SafeTensors.read(path("all.safetensors"))
        XCTAssertEqual(try SafeTensors.metadata(path("all.safetensors")), ["k": "v"])
        for dtype in DType.allCases {
            let name = "\(dtype)"
            XCTAssertEqual(st[name]?.dtype, dtype)
            // NumPy has no bfloat16: .npz holds it as float32.
            XCTAssertEqual(npz[name]?.dtype, dtype == .bfloat16 ? .float32 : dtype)
            XCTAssertEqual(st[name]?.scalars(as: Double.self), [0, 1, 1, 0], name)
            XCTAssertEqual(npz[name]?.scalars(as: Double.self), [0, 1, 1, 0], name)
        }
    }

    func testReadsNumPyAndReferenceArchives() throws {
        let npz = try NPZ.read(IOFixtures.path("savez_compressed.npz"))
        XCTAssertEqual(Set(npz.keys), ["weights", "counts", "mask", "scale", "empty", "naïve"])
        XCTAssertEqual(npz["counts"]?.scalars(as: Int.self), (0..<4).map { 1_000_000_000_000 * $0 - 5 })
        XCTAssertEqual(npz["mask"]?.scalars(as: Bool.self), [false, true, false])
        let st = try SafeTensors.read(IOFixtures.path("numpy.safetensors"))
        XCTAssertEqual(st["embedding.weight"]?.shape, [4, 3])
        XCTAssertEqual(st["step"]?.scalars(as: Int.self), [3])
        // bfloat16 from the reference implementation: top half of float32(0.25 i - 1.5).
        let all = try SafeTensors.read(IOFixtures.path("all_dtypes.safetensors"))
        XCTAssertEqual(all["bfloat16"]?.scalars(as: Double.self), (0..<6).map { 0.25 * Double($0) - 1.5 })
    }

    func testErrorsNameTheFile() throws {
        let p = path("bad.npy")
        try Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x58, 1, 0]).write(to: URL(fileURLWithPath: p))
        do {
            _ = try Tensor(npyFile: p)
            XCTFail("bad magic accepted")
        } catch let e as TensorIOError {
            XCTAssertEqual(e.path, p)
            XCTAssertEqual(e.offset, 5)
            XCTAssertTrue(e.description.hasPrefix(p + ": npy: at byte 5: bad magic"), e.description)
        }
        assertIOError("unreadable") { try NPZ.read(path("missing.npz")) }
        assertIOError("unreadable") { try SafeTensors.read(path("missing.safetensors")) }
        assertIOError("unwritable") { try Tensor(3.0).writeNPY(to: path("no/such/dir/x.npy")) }
        assertIOError("invalidName") { try SafeTensors.write(["__metadata__": Tensor(1.0)], to: path("x.safetensors")) }
        let e = assertIOError("checksumMismatch") {
            var b = try IOFixtures.bytes("savez.npz")
            b[200] ^= 0xFF   // inside the first member's data
            try Data(b).write(to: URL(fileURLWithPath: path("corrupt.npz")))
            return try NPZ.read(path("corrupt.npz"))
        }
        XCTAssertEqual(e?.path, path("corrupt.npz"))
        XCTAssertNotNil(e?.member)
    }
}
