import XCTest
@testable import Autograd

/// Random tensors made on a CUDA device (Philox4x32-10): the published known answer,
/// determinism per seed and call, and the moments of the distributions and masks. Skips where
/// CUDA is unavailable (runs on the CUDA emulator in CI).
extension CUDABackendTests {
    func testPhiloxMatchesTheRandom123KnownAnswer() throws {
        // Random123's kat_vectors: philox4x32-10 of counter (0, 0, 0, 0) under key (0, 0) is
        // 6627e8d5 e169c58d bc57ac4c 9b00dbd8. A fresh generator of seed 0 makes its first
        // device draw at offset 0, so elements 0..<4 use exactly that block.
        let words: [UInt32] = [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]
        let u = Tensor.rand([4], generator: Generator(seed: 0), device: .cuda).cpu().scalars(as: Float.self)
        XCTAssertEqual(u, words.map { Float($0 >> 8) * 0x1p-24 })
        let d = Tensor.rand([2], dtype: .float64, generator: Generator(seed: 0), device: .cuda).cpu().scalars(as: Double.self)
        XCTAssertEqual(d, [Double((UInt64(words[0]) << 32 | UInt64(words[1])) >> 11) * 0x1p-53,
                           Double((UInt64(words[2]) << 32 | UInt64(words[3])) >> 11) * 0x1p-53])
    }

    func testRandomNumbersAreDeterministicPerSeed() throws {
        for dtype in [DType.float32, .float64, .float16] {
            let a = Tensor.randn([3, 333], dtype: dtype, seed: 7, device: .cuda).cpu()
            let b = Tensor.randn([3, 333], dtype: dtype, seed: 7, device: .cuda).cpu()
            let c = Tensor.randn([3, 333], dtype: dtype, seed: 8, device: .cuda).cpu()
            XCTAssertEqual(a.dtype, dtype)
            assertClose(b, a, Tolerance.exact, "same seed \(dtype)")
            XCTAssertNotEqual(a.scalars(as: Double.self), c.scalars(as: Double.self), "different seeds \(dtype)")
            // Successive draws of one generator differ; reseeding replays them.
            let g = Generator(seed: 9)
            let first = Tensor.rand([101], dtype: dtype, generator: g, device: .cuda).cpu()
            let second = Tensor.rand([101], dtype: dtype, generator: g, device: .cuda).cpu()
            XCTAssertNotEqual(first.scalars(as: Double.self), second.scalars(as: Double.self))
            g.manualSeed(9)
            assertClose(Tensor.rand([101], dtype: dtype, generator: g, device: .cuda).cpu(), first, Tolerance.exact)
            // A prefix of a longer draw is the shorter draw (results depend on the element, not the launch).
            let long = Tensor.randn([5000], dtype: dtype, seed: 7, device: .cuda).cpu()
            XCTAssertEqual(Array(long.scalars(as: Double.self).prefix(999)), a.scalars(as: Double.self))
        }
    }

    func testRandomMomentsAndMasks() throws {
        let n = 100_000
        for dtype in [DType.float32, .float64] {
            let u = Tensor.rand([n], dtype: dtype, seed: 11, device: .cuda).to(.float64)
            let z = Tensor.randn([n], dtype: dtype, seed: 12, device: .cuda).to(.float64)
            XCTAssertEqual(u.mean().item(), 0.5, accuracy: 0.01, "uniform mean \(dtype)")
            XCTAssertEqual(((u - 0.5) * (u - 0.5)).mean().item(), 1.0 / 12, accuracy: 0.005, "uniform variance \(dtype)")
            XCTAssertGreaterThanOrEqual(u.min().item(), 0)
            XCTAssertLessThan(u.max().item(), 1)
            XCTAssertEqual(z.mean().item(), 0, accuracy: 0.02, "normal mean \(dtype)")
            XCTAssertEqual((z * z).mean().item(), 1, accuracy: 0.03, "normal variance \(dtype)")
            XCTAssertTrue(z.isFinite().all().item() != 0)
        }
        let ints = Tensor.randint(-3, 4, [20_000], seed: 16, device: .cuda)
        XCTAssertEqual(ints.device, .cuda)
        XCTAssertEqual(Set(ints.cpu().scalars(as: Int.self)), Set(-3..<4))
        XCTAssertEqual(ints.to(.float64).mean().item(), 0, accuracy: 0.06)
        assertClose(Tensor.randint(-3, 4, [20_000], seed: 16, device: .cuda).cpu(), ints.cpu(), Tolerance.exact, "randint per seed")
        XCTAssertEqual(Tensor.randint(5, [7], dtype: .int8, seed: 17, device: .cuda).dtype, .int8)
        // The full int64 range (the range wraps to 2^64 - 1 as on the CPU).
        XCTAssertEqual(Tensor.randint(Int.min, Int.max, [64], seed: 18, device: .cuda).cpu().count, 64)
        let mask = Tensor.bernoulli([n], p: 0.3, seed: 13, device: .cuda)
        XCTAssertEqual(mask.device, .cuda)
        XCTAssertEqual(mask.mean().item(), 0.3, accuracy: 0.01)
        XCTAssertEqual(Set(mask.cpu().scalars(as: Double.self)), [0, 1])
        let probabilities = Tensor(shape: [2, 3], scalars: [0.0, 1, 0, 1, 1, 0], dtype: .float64).to(device: .cuda)
        XCTAssertEqual(Tensor.bernoulli(probabilities, seed: 14).cpu().scalars(as: Double.self), [0, 1, 0, 1, 1, 0])
        let ones = Tensor.ones([n], device: .cuda)
        let dropped = dropout(ones, p: 0.25, generator: Generator(seed: 15))
        XCTAssertEqual(dropped.device, .cuda)
        let kept = dropped.cpu().scalars(as: Float.self)
        XCTAssertEqual(Set(kept), [0, Float(1 / 0.75)])
        XCTAssertEqual(Double(kept.filter { $0 == 0 }.count) / Double(n), 0.25, accuracy: 0.01)
    }
}
