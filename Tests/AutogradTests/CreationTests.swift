import XCTest
@testable import Autograd

/// Expected values were printed by PyTorch 2.15 for the same calls (noted per assertion).
final class CreationTests: XCTestCase {
    func testLiteralDTypes() {
        XCTAssertEqual(Tensor([[1, 2], [3, 4]]).dtype, .int64)
        XCTAssertEqual(Tensor([1.5, 2]).dtype, .float32)
        XCTAssertEqual(Tensor(5.0).dtype, .float32)
        XCTAssertEqual(Tensor(5).dtype, .int64)
        XCTAssertEqual(Tensor([Int32(1)]).dtype, .int32)
        XCTAssertEqual(Tensor([true]).dtype, .bool)
        XCTAssertEqual(Tensor([1, 2], dtype: .float64).dtype, .float64)
        XCTAssertEqual(Tensor(5.0).shape, [])
        XCTAssertEqual(Tensor([[[1.0]]]).shape, [1, 1, 1])
    }

    func testShapeAndScalarsInitializer() {
        let s = Tensor(shape: [2, 3], scalars: [Float](repeating: 1, count: 6))
        XCTAssertEqual(s.dtype, .float32)
        XCTAssertEqual(s.shape, [2, 3])
        let w = Tensor(shape: [3], scalars: [0.1, 0.2, 0.3], dtype: .float64, requiresGrad: true)
        XCTAssertEqual(w.dtype, .float64)
        XCTAssertTrue(w.requiresGrad)
        XCTAssertEqual(w.scalars(as: Double.self), [0.1, 0.2, 0.3])
        XCTAssertEqual(Tensor(shape: [2], scalars: [Double](arrayLiteral: 1, 2)).dtype, .float64)
        assertValidationFails("holds 6 elements but 5 scalars") { try Tensor.validateShapeAndCount([2, 3], 5, op: "Tensor(shape:scalars:)") }
        assertValidationFails("negative dimension") { try Tensor.validateShapeAndCount([-1], 0, op: "Tensor(shape:scalars:)") }
    }

    func testFactories() {
        XCTAssertEqual(Tensor.zeros([2, 2]).scalars(as: Float.self), [0, 0, 0, 0])
        XCTAssertEqual(Tensor.ones([3], dtype: .int32).scalars(as: Int32.self), [1, 1, 1])
        XCTAssertEqual(Tensor.full([2], value: 7.5, dtype: .float64).scalars(as: Double.self), [7.5, 7.5])
        // torch.arange(5).dtype == int64; torch.arange(0., 3.).dtype == float32
        XCTAssertEqual(Tensor.arange(5).dtype, .int64)
        XCTAssertEqual(Tensor.arange(5).scalars(as: Int.self), [0, 1, 2, 3, 4])
        // torch.arange(0, 1, 0.25) -> [0.0, 0.25, 0.5, 0.75]
        XCTAssertEqual(Tensor.arange(0, 1, step: 0.25).scalars(as: Float.self), [0, 0.25, 0.5, 0.75])
        // torch.arange(1, 10, 3) -> [1, 4, 7]
        XCTAssertEqual(Tensor.arange(1, 10, step: 3).scalars(as: Int.self), [1, 4, 7])
        // torch.linspace(0, 1, 5) -> [0.0, 0.25, 0.5, 0.75, 1.0]
        XCTAssertEqual(Tensor.linspace(0, 1, count: 5).scalars(as: Float.self), [0, 0.25, 0.5, 0.75, 1])
        // torch.linspace(-1, 1, 4, dtype=float64) -> [-1.0, -0.33333333333333337, 0.33333333333333337, 1.0]
        XCTAssertEqual(Tensor.linspace(-1, 1, count: 4, dtype: .float64).scalars(as: Double.self),
                       [-1.0, -0.33333333333333337, 0.33333333333333337, 1.0])
    }

    func testSeededRandomIsReproducible() {
        let a = Tensor.randn([3, 4], seed: 42)
        let b = Tensor.randn([3, 4], seed: 42)
        XCTAssertEqual(a.scalars(as: Float.self), b.scalars(as: Float.self))
        XCTAssertNotEqual(a.scalars(as: Float.self), Tensor.randn([3, 4], seed: 43).scalars(as: Float.self))
        let u = Tensor.rand([10_000], dtype: .float64, seed: 1).scalars(as: Double.self)
        XCTAssertTrue(u.allSatisfy { $0 >= 0 && $0 < 1 })
        // Moments of 10 000 normal samples: mean within 4 standard errors (0.04) of 0, variance near 1.
        let n = Tensor.randn([10_000], dtype: .float64, seed: 2)
        XCTAssertEqual(n.mean().item(), 0, accuracy: 0.04)
        XCTAssertEqual(((n - n.mean()).pow(2)).mean().item(), 1, accuracy: 0.06)
    }

    func testItemAndScalarsConvert() {
        XCTAssertEqual(Tensor(3.5).item(), 3.5)
        XCTAssertEqual(Tensor(3).item(as: Int.self), 3)
        XCTAssertEqual(Tensor([[1, 2], [3, 4]]).scalars(as: Double.self), [1, 2, 3, 4])
        // torch.tensor([1.7, -1.7, nan]).to(torch.int32) -> [1, -1, -2147483648]
        XCTAssertEqual(Tensor([1.7, -1.7, .nan]).to(.int32).scalars(as: Int32.self), [1, -1, Int32.min])
        // torch.tensor([300, -1]).to(torch.uint8) -> [44, 255]
        XCTAssertEqual(Tensor([300, -1]).to(.uint8).scalars(as: UInt8.self), [44, 255])
        // torch.tensor([70000.5]).to(torch.float16) -> [inf]
        XCTAssertEqual(Tensor([70000.5]).to(.float16).to(.float32).item(), .infinity)
        // torch.tensor([1.00390625 + 2**-9]).to(torch.bfloat16) -> [1.0078125]
        XCTAssertEqual(Tensor([1.00390625 + 0.001953125], dtype: .float64).to(.bfloat16).to(.float64).item(), 1.0078125)
    }

    func testHalfConversionsRoundTripEveryBitPattern() {
        // Every finite float16 converts to Float and back exactly; NaNs stay NaN.
        for bits in 0...UInt16.max {
            let h = Half(bitPattern: bits)
            let f = h.floatValue
            if f.isNaN {
                XCTAssertTrue(Half(f).floatValue.isNaN)
            } else if Half(f).bitPattern != bits {
                XCTFail("float16 bits \(bits) -> \(f) -> \(Half(f).bitPattern)")
                return
            }
        }
    }

    func testPromotionLikePyTorch() {
        // (int32 tensor * 2).dtype == int32; (float16 tensor * 2.5).dtype == float16
        XCTAssertEqual((Tensor([1, 2], dtype: .int32) * 2).dtype, .int32)
        XCTAssertEqual((Tensor([1.0, 2.0], dtype: .float16) * 2.5).dtype, .float16)
        // (int64 tensor / 2).dtype == float32
        XCTAssertEqual((Tensor([1, 2]) / 2).dtype, .float32)
        // int32 tensor + 0-d float64 tensor -> float64 (a 0-d tensor of a higher category wins)
        XCTAssertEqual((Tensor([1, 2], dtype: .int32) + Tensor(1.5, dtype: .float64)).dtype, .float64)
        // uint8 + int8 -> int16; bool + bool -> bool (logical or)
        XCTAssertEqual((Tensor([1, 2], dtype: .uint8) + Tensor([1], dtype: .int8)).dtype, .int16)
        XCTAssertEqual((Tensor([true]) + Tensor([true])).scalars(as: Bool.self), [true])
        // int32 tensor + 0-d int64 tensor -> int32; float16 + 0-d float32 -> float16; int32 + 0-d float32 -> float32
        XCTAssertEqual((Tensor([1, 2], dtype: .int32) + Tensor(3)).dtype, .int32)
        XCTAssertEqual((Tensor([1.0], dtype: .float16) + Tensor(3.0)).dtype, .float16)
        XCTAssertEqual((Tensor([1], dtype: .int32) + Tensor(3.0)).dtype, .float32)
        // sums: float32 stays float32; int32 and bool sum to int64
        XCTAssertEqual(Tensor([1, 2], dtype: .int32).sum().dtype, .int64)
        XCTAssertEqual(Tensor([true, true]).sum().item(as: Int.self), 2)
    }

    func testHalfArithmeticComputesInFloat32() {
        // 2049 is not representable in float16: (2048 + 1) rounds to 2048 once, at the end.
        let h = Tensor([2048.0], dtype: .float16)
        XCTAssertEqual((h + 1.0).to(.float32).item(), 2048)
        XCTAssertEqual((h + 2.0).to(.float32).item(), 2050)
        let bf = Tensor([1.0, 2.0, 3.0], dtype: .bfloat16)
        XCTAssertEqual(bf.sum().dtype, .bfloat16)
        XCTAssertEqual(bf.sum().to(.float32).item(), 6)
    }
}
