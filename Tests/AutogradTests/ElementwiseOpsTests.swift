import XCTest
@testable import Autograd

/// Elementwise math, activations and clamp (Ops/ElementwiseOps, ActivationOps, ClampOps).
final class ElementwiseOpsTests: XCTestCase {
    /// Unary ops checked on a transposed (non-contiguous) float64 view, and with the input
    /// used twice (`f(x) * x`).
    func testGradcheckEveryDifferentiableUnaryOp() {
        let ops: [(String, Double, (Tensor) -> Tensor)] = [
            ("expm1", 0, { $0.expm1() }), ("log1p", 2, { $0.log1p() }), ("log2", 3, { $0.log2() }),
            ("rsqrt", 3, { $0.rsqrt() }), ("tan", 0, { ($0 * 0.3).tan() }), ("erf", 0, { $0.erf() }),
            ("reciprocal", 3, { $0.reciprocal() }), ("gelu", 0, { $0.gelu() }),
            ("geluTanh", 0, { $0.gelu(approximate: .tanh) }), ("silu", 0, { $0.silu() }),
            ("softplus", 0, { $0.softplus(beta: 2, threshold: 3) }), ("leakyRelu", 0.05, { $0.leakyRelu(negativeSlope: 0.2) }),
            ("elu", 0.05, { $0.elu(alpha: 1.5) }), ("hardtanh", 0.05, { $0.hardtanh(minValue: -0.7, maxValue: 0.9) }),
            ("clamp", 0.05, { $0.clamp(min: -0.6, max: 0.8) }), ("nanToNum", 0, { $0.nanToNum() }),
            ("sinh", 0, { $0.sinh() }), ("cosh", 0, { $0.cosh() }), ("asin", 0, { ($0 * 0.3).asin() }),
            ("acos", 0, { ($0 * 0.3).acos() }), ("atan", 0, { ($0 * 2).atan() }), ("asinh", 0, { ($0 * 2).asinh() }),
            ("acosh", 0, { ($0 * $0 + 1.2).acosh() }), ("atanh", 0, { ($0 * 0.3).atanh() }),
        ]
        for (name, shift, f) in ops {
            let x = randomLeaf([3, 2], seed: 11, shift: shift)
            assertGradcheck([x]) { xs in f(xs[0].transposed(0, 1)) }
            assertGradcheck([x]) { xs in f(xs[0]) * xs[0] }
            _ = name
        }
    }

    func testGradgradcheckRepresentativeOps() {
        let x = randomLeaf([2, 3], seed: 5, shift: 0.1)
        assertGradgradcheck([x]) { $0[0].gelu() }
        assertGradgradcheck([x]) { $0[0].gelu(approximate: .tanh) }
        assertGradgradcheck([x]) { $0[0].silu() }
        assertGradgradcheck([x]) { $0[0].softplus() }
        assertGradgradcheck([x]) { $0[0].elu() }
        assertGradgradcheck([x]) { ($0[0] * 0.5).tan() }
        assertGradgradcheck([x]) { ($0[0] + 3).rsqrt() }
        assertGradgradcheck([x]) { $0[0].erf() }
        assertGradgradcheck([x]) { $0[0].sinh() * $0[0].cosh() }
        assertGradgradcheck([x]) { ($0[0] * 0.4).asin() + ($0[0] * 0.4).acos() * 2 + $0[0].atan() }
        assertGradgradcheck([x]) { $0[0].asinh() + ($0[0] * $0[0] + 1.5).acosh() * 2 + ($0[0] * 0.4).atanh() }
    }

    /// sinh, cosh, asin, acos, atan, asinh, acosh and atanh: libm's values (float32 sinh and cosh from the vectorized
    /// kernel within 1 ulp), NaN outside [-1, 1] for asin and acos, integers computed in float32,
    /// half types rounded once from float32, large tensors as small ones.
    /// PyTorch's layout rule for element-wise results: operands that share one transposed or
    /// permuted dense layout give a result in that layout (scalars and single values aside);
    /// mixed layouts, broadcasting and non-dense views give a contiguous result. The values are
    /// the bits of the same op on contiguous copies, and gradients flow through either layout.
    func testElementwiseResultsKeepASharedDenseLayout() throws {
        for dtype in [DType.float32, .float64] {
            let a = Tensor.randn([300, 257], dtype: dtype, seed: 41), b = Tensor.randn([300, 257], dtype: dtype, seed: 42)
            let at = a.transposed(0, 1), bt = b.transposed(0, 1), one = Tensor([2.5]).to(dtype), row = Tensor.randn([300], dtype: dtype, seed: 46)
            let nchw = Tensor.randn([4, 6, 5, 7], dtype: dtype, seed: 43).permuted([0, 2, 3, 1])
            let cases: [(String, Tensor, Tensor, Bool)] = [
                ("exp of transposed", at.exp(), at.contiguous().exp(), true),
                ("sigmoid of transposed", at.sigmoid(), at.contiguous().sigmoid(), true),
                ("floor of permuted", nchw.floor(), nchw.contiguous().floor(), true),
                ("both transposed", at + bt, at.contiguous() + bt.contiguous(), true),
                ("both transposed mul", at * bt, at.contiguous() * bt.contiguous(), true),
                ("transposed times scalar", at * 3, at.contiguous() * 3, true),
                ("scalar minus transposed", 1 - at, 1 - at.contiguous(), true),
                ("transposed over one value", at / one, at.contiguous() / one, true),
                ("transposed comparison", at .> bt, at.contiguous() .> bt.contiguous(), true),
                ("mixed layouts", at + b.reshaped([257, 300]), at.contiguous() + b.reshaped([257, 300]), false),
                ("broadcast row", at + row, at.contiguous() + row, false),
                ("non-dense slice", a[0..., 0..<100].exp(), a[0..., 0..<100].contiguous().exp(), false),
                ("strided slice", a[0..., stride(from: 0, to: 257, by: 2)].tanh(), a[0..., stride(from: 0, to: 257, by: 2)].contiguous().tanh(), false),
            ]
            for (name, got, want, kept) in cases {
                XCTAssertEqual(got.shape, want.shape, name)
                XCTAssertEqual(got.isContiguous, !kept, "\(name) \(dtype): strides \(got.strides)")
                XCTAssertEqual(got.to(.float64).contiguous().scalars(as: Double.self).map(\.bitPattern),
                               want.to(.float64).scalars(as: Double.self).map(\.bitPattern), "\(name) \(dtype)")
            }
            XCTAssertEqual(at.exp().strides, at.strides)
            XCTAssertEqual(nchw.floor().strides, nchw.strides)
        }
        let x = randomLeaf([5, 4], seed: 44), y = randomLeaf([5, 4], seed: 45)
        assertGradcheck([x, y]) { ($0[0].transposed(0, 1).exp() * $0[1].transposed(0, 1) + 2).tanh() }
        assertGradgradcheck([x]) { $0[0].transposed(0, 1).sigmoid() * $0[0].transposed(0, 1) }
    }

    func testHyperbolicAndInverseTrigonometricValues() {
        let v: [Double] = [-3, -1, -0.5, -0.0, 0, 0.25, 0.999, 1, 2.5, 40]
        let x = Tensor(shape: [v.count], scalars: v, dtype: .float64)
        let cases: [(String, (Tensor) -> Tensor, (Double) -> Double)] = [
            ("sinh", { $0.sinh() }, { Foundation.sinh($0) }), ("cosh", { $0.cosh() }, { Foundation.cosh($0) }),
            ("asin", { $0.asin() }, { Foundation.asin($0) }), ("acos", { $0.acos() }, { Foundation.acos($0) }),
            ("atan", { $0.atan() }, { Foundation.atan($0) }), ("asinh", { $0.asinh() }, { Foundation.asinh($0) }),
            ("acosh", { $0.acosh() }, { Foundation.acosh($0) }), ("atanh", { $0.atanh() }, { Foundation.atanh($0) }),
        ]
        for (name, f, reference) in cases {
            let got = f(x).scalars(as: Double.self)
            for (g, value) in zip(got, v) {
                let want = reference(value)
                XCTAssertTrue(g.bitPattern == want.bitPattern || (g.isNaN && want.isNaN), "\(name)(\(value)) = \(g), libm \(want)")
            }
            let big = Tensor.randn([300, 250], dtype: .float32, seed: 8) * 0.9 + (name == "acosh" ? 3 : 0)
            let wide = f(big.to(.float64)).to(.float32)
            assertClose(f(big), wide, Tolerance.Pair(rtol: 2.4e-7, atol: 1e-37), "\(name) float32 large")
            XCTAssertEqual(f(Tensor([0, 1], dtype: .int32)).dtype, .float32, name)
            let h = Tensor([0.5, -0.25]).to(.float16)
            assertClose(f(h), f(h.to(.float32)).to(.float16), Tolerance.exact, "\(name) float16")
        }
        XCTAssertTrue(Tensor([1.5]).asin().item(as: Float.self).isNaN && Tensor([-1.01]).acos().item(as: Float.self).isNaN)
        XCTAssertTrue(Tensor([0.5]).acosh().item(as: Float.self).isNaN && Tensor([1.5]).atanh().item(as: Float.self).isNaN)
        XCTAssertEqual(Tensor([1.0, -1.0]).atanh().scalars(as: Float.self), [.infinity, -.infinity])
    }

    /// clamp with both bounds in one C pass gives the bits of its two halves run one after the
    /// other (NaN in the input or a bound, min > max, signed zeros), in the input's layout, and
    /// its gradient is unchanged.
    func testClampInOnePassMatchesItsTwoHalves() {
        for dtype in [DType.float32, .float64] {
            var v = Tensor.randn([40, 70], dtype: .float64, seed: 51).scalars(as: Double.self)
            v[3] = .nan
            v[9] = -0.0
            v[100] = .infinity
            let x = Tensor(shape: [40, 70], scalars: v).to(dtype)
            for input in [x, x.transposed(0, 1), x[0..., 0..<9], x.reshaped([-1])[0..<15]] {
                for (lo, hi) in [(-0.5, 0.5), (0.5, -0.5), (-0.0, 0.0), (Double.nan, 1.0), (-1.0, Double.nan), (-.infinity, 0.25)] {
                    let once = input.clamp(min: lo, max: hi), twice = input.clamp(min: lo).clamp(max: hi)
                    XCTAssertEqual(once.strides, twice.strides)
                    XCTAssertEqual(once.to(.float64).contiguous().scalars(as: Double.self).map(\.bitPattern),
                                   twice.to(.float64).contiguous().scalars(as: Double.self).map(\.bitPattern), "\(dtype) \(input.shape) [\(lo), \(hi)]")
                }
            }
        }
        let leaf = randomLeaf([6, 5], seed: 52)
        assertGradcheck([leaf]) { $0[0].clamp(min: -0.3, max: 0.4) * 3 }
    }

    func testClampWithTensorBoundsBroadcastsAndDifferentiatesAllThree() {
        let x = randomLeaf([2, 3], seed: 1)
        let lo = randomLeaf([3], seed: 2, shift: -0.5)
        let hi = randomLeaf([2, 1], seed: 3, shift: 0.8)
        assertGradcheck([x, lo, hi]) { $0[0].clamp(min: $0[1], max: $0[2]) }
        assertGradcheck([x, lo]) { $0[0].clamp(min: $0[1]) }
        assertGradcheck([x, hi]) { $0[0].clamp(max: $0[1]) }
        XCTAssertEqual(x.clamp(min: lo, max: hi).gradFn?.name, "ClampBackward0")
        XCTAssertEqual(x.clamp(min: 0.0).gradFn?.name, "ClampBackward1")
        // min > max: every element becomes max, as in PyTorch.
        assertClose(Tensor([-1.0, 0.5, 2.0]).clamp(min: 1, max: 0), shape: [3], [0, 0, 0])
        assertClose(Tensor([-1.0, 0.5, 2.0]).clip(min: 0, max: 1), shape: [3], [0, 0.5, 1])
    }

    func testNodeNamesFollowPyTorch() {
        let x = randomLeaf([2], seed: 3, shift: 2)
        let names = [x.expm1(), x.log1p(), x.log2(), x.rsqrt(), x.tan(), x.gelu(), x.silu(), x.softplus(),
                     x.leakyRelu(), x.elu(), x.hardtanh(), x.floor(), x.ceil(), x.round(), x.trunc(),
                     x.reciprocal(), x.nanToNum(), x.erf(), x.sinh(), x.cosh(), (x * 0.1).asin(), (x * 0.1).acos(),
                     x.atan(), x.asinh(), (x * x + 1.5).acosh(), (x * 0.1).atanh()].map { $0.gradFn!.name }
        XCTAssertEqual(names, ["Expm1Backward0", "Log1PBackward0", "Log2Backward0", "RsqrtBackward0", "TanBackward0",
                               "GeluBackward0", "SiluBackward0", "SoftplusBackward0", "LeakyReluBackward0", "EluBackward0",
                               "HardtanhBackward0", "FloorBackward0", "CeilBackward0", "RoundBackward0", "TruncBackward0",
                               "ReciprocalBackward0", "NanToNumBackward0", "ErfBackward0", "SinhBackward0", "CoshBackward0",
                               "AsinBackward0", "AcosBackward0", "AtanBackward0", "AsinhBackward0", "AcoshBackward0", "AtanhBackward0"])
    }

    func testRoundingOpsHaveZeroGradientAndKeepIntegers() throws {
        let x = Tensor([0.5, 1.5, 2.5, -0.5, -1.7], dtype: .float64, requiresGrad: true)
        assertClose(x.round(), shape: [5], [0, 2, 2, -0, -2])          // halves to even
        assertClose(x.floor(), shape: [5], [0, 1, 2, -1, -2])
        assertClose(x.ceil(), shape: [5], [1, 2, 3, -0, -1])
        assertClose(x.trunc(), shape: [5], [0, 1, 2, -0, -1])
        try (x.floor() + x.ceil() + x.round() + x.trunc()).sum().backward()
        assertClose(x.grad!, shape: [5], [0, 0, 0, 0, 0])
        let ints = Tensor([3, -2], dtype: .int32)
        XCTAssertEqual(ints.floor().dtype, .int32)
        XCTAssertEqual(ints.round().scalars(as: Int.self), [3, -2])
        XCTAssertEqual(ints.expm1().dtype, .float32)
        XCTAssertEqual(ints.reciprocal().dtype, .float32)
        assertClose(Tensor([1.2345, -2.5555], dtype: .float64).round(decimals: 2), shape: [2], [1.23, -2.56])
    }

    func testClassificationAndNanToNum() {
        let x = Tensor([1.0, .nan, .infinity, -.infinity])
        XCTAssertEqual(x.isNaN().scalars(as: Bool.self), [false, true, false, false])
        XCTAssertEqual(x.isInf().scalars(as: Bool.self), [false, false, true, true])
        XCTAssertEqual(x.isFinite().scalars(as: Bool.self), [true, false, false, false])
        XCTAssertEqual(x.isPosInf().scalars(as: Bool.self), [false, false, true, false])
        XCTAssertEqual(x.isNegInf().scalars(as: Bool.self), [false, false, false, true])
        XCTAssertEqual(x.nanToNum().scalars(as: Float.self), [1, 0, .greatestFiniteMagnitude, -.greatestFiniteMagnitude])
        XCTAssertEqual(x.to(.float16).nanToNum().scalars(as: Double.self), [1, 0, 65504, -65504])
        XCTAssertEqual(Tensor([1, 2]).isNaN().scalars(as: Bool.self), [false, false])
        XCTAssertEqual(Tensor([1, 2]).nanToNum().scalars(as: Int.self), [1, 2])
    }

    func testHalfTypesComputeInFloat32AndRoundOnce() {
        let values: [Float] = [-2.3, -0.7, 0.1, 0.9, 1.7, 3.2]
        for dtype in [DType.float16, .bfloat16] {
            let h = Tensor(shape: [6], scalars: values).to(dtype)
            let wide = h.to(.float32)
            for (name, f) in [("gelu", { (t: Tensor) in t.gelu() }), ("silu", { $0.silu() }), ("softplus", { $0.softplus() }),
                              ("elu", { $0.elu() }), ("expm1", { $0.expm1() }), ("tan", { $0.tan() })] as [(String, (Tensor) -> Tensor)] {
                let r = f(h)
                XCTAssertEqual(r.dtype, dtype, name)
                // Rounded once from the float32 result, exactly.
                assertClose(r, f(wide).to(dtype), Tolerance.exact, "\(name) \(dtype)")
            }
        }
    }

    func testScalarOperandsKeepTheTensorCategory() {
        XCTAssertEqual((Tensor([1, 2], dtype: .int32) * 2).dtype, .int32)
        XCTAssertEqual((Tensor([1, 2], dtype: .float16) * 2.5).dtype, .float16)
        XCTAssertEqual((Tensor([1, 2], dtype: .int32) * 2.5).dtype, .float32)
        XCTAssertEqual((Tensor([1, 2], dtype: .uint8) + 300).scalars(as: Int.self), [45, 46])  // wraps like PyTorch
        XCTAssertEqual(Tensor([1, 5], dtype: .int32).clamp(min: 2, max: 4).dtype, .int32)
        XCTAssertEqual(Tensor([1, 5], dtype: .int32).clamp(min: 2.5).dtype, .float32)
        XCTAssertEqual((Tensor([true, false]) + 1).dtype, .int64)
    }

    func testComparisonsWithIntegerScalarsAreExact() {
        let big = Tensor([Int(1 << 40) + 1, 7])
        XCTAssertEqual((big .== Int(1 << 40) + 1).scalars(as: Bool.self), [true, false])
        XCTAssertEqual((big .> 7).scalars(as: Bool.self), [true, false])
        XCTAssertEqual((7 .>= big).scalars(as: Bool.self), [false, true])
        XCTAssertEqual((0.5 .< Tensor([0.25, 1.0])).scalars(as: Bool.self), [false, true])
    }

    func testEmptyAndZeroDimensionalInputs() throws {
        let empty = Tensor.zeros([0, 3], dtype: .float64, requiresGrad: true)
        for r in [empty.gelu(), empty.expm1(), empty.clamp(min: 0), empty.softplus(), empty.nanToNum()] {
            XCTAssertEqual(r.shape, [0, 3])
        }
        try empty.gelu().sum().backward()
        XCTAssertEqual(empty.grad?.shape, [0, 3])
        let s = Tensor(0.5, dtype: .float64, requiresGrad: true)
        XCTAssertEqual(s.silu().shape, [])
        assertGradcheck([s]) { $0[0].gelu() + $0[0].log1p() + $0[0].clamp(min: 0, max: 1) }
    }

    func testValidatorsNameTheOpAndDtype() {
        let ints = Tensor([1, 2])
        assertValidationFails("gelu: expected a floating tensor, but got dtype int64") { try ints.validateFloating("gelu") }
        assertValidationFails("clamp: at least one of 'min' or 'max' must not be nil") {
            try Tensor.validateClamp(Tensor([1.0]), hasMin: false, hasMax: false, op: "clamp")
        }
        assertValidationFails("clamp: not implemented for bool tensors") {
            try Tensor.validateClamp(Tensor([true]), hasMin: true, hasMax: false, op: "clamp")
        }
        assertValidationFails("floor: not implemented for bool tensors") { try Tensor([true]).validateFloatingOrInteger("floor") }
        assertValidationFails("clamp: the size of tensor a (3) must match the size of tensor b (2)") {
            _ = try Tensor.planBinary(.maximum, .tensor(Tensor.zeros([3])), .tensor(Tensor.zeros([2])), name: "clamp")
        }
    }
}
