import Foundation
import XCTest
@testable import Autograd

/// Runs every case of `Fixtures/ops-cases.json` (made by `Scripts/make-reference.py` with
/// PyTorch, seed 2026): forward values and input gradients of the operator set in float64,
/// and PyTorch's promotion tables.
final class OpsReferenceTests: XCTestCase {
    /// A tensor in the fixture; non-finite values are the strings "nan", "inf", "-inf".
    struct Spec {
        let shape: [Int]
        let dtype: DType
        let data: [Double]
        let requiresGrad: Bool

        init?(_ json: Any?) {
            guard let d = json as? [String: Any], let shape = d["shape"] as? [Int], let dt = d["dtype"] as? String,
                  let dtype = DType(rawValue: dt), let raw = d["data"] as? [Any] else { return nil }
            self.shape = shape
            self.dtype = dtype
            self.data = raw.map { v in
                if let n = v as? NSNumber { return n.doubleValue }
                switch v as? String {
                case "inf": return .infinity
                case "-inf": return -.infinity
                default: return .nan
                }
            }
            self.requiresGrad = d["requiresGrad"] as? Bool ?? false
        }

        func tensor() -> Tensor {
            let t = Tensor(shape: shape, scalars: data).to(dtype).detach()
            if requiresGrad { t.requiresGrad = true }
            return t
        }
    }

    static func run(_ op: String, _ a: [String: Any], _ x: [Tensor]) -> Tensor? {
        func int(_ k: String, _ d: Int = 0) -> Int { a[k] as? Int ?? d }
        func dbl(_ k: String, _ d: Double = 0) -> Double { (a[k] as? NSNumber)?.doubleValue ?? d }
        func ints(_ k: String) -> [Int] { a[k] as? [Int] ?? [] }
        let keepDim = a["keepDim"] as? Bool ?? false
        switch op {
        case "expm1": return x[0].expm1()
        case "log1p": return x[0].log1p()
        case "log2": return x[0].log2()
        case "rsqrt": return x[0].rsqrt()
        case "tan": return x[0].tan()
        case "sinh": return x[0].sinh()
        case "cosh": return x[0].cosh()
        case "asin": return x[0].asin()
        case "acos": return x[0].acos()
        case "atan": return x[0].atan()
        case "asinh": return x[0].asinh()
        case "acosh": return x[0].acosh()
        case "atanh": return x[0].atanh()
        case "sort", "sort_desc_dim0": return x[0].sort(dim: int("dim"), descending: a["descending"] as? Bool ?? false).values
        case "argsort_ties", "argsort_ties_desc": return x[0].argsort(dim: int("dim"), descending: a["descending"] as? Bool ?? false)
        case "topk", "topk_smallest_dim0": return x[0].topk(int("k"), dim: int("dim"), largest: a["largest"] as? Bool ?? true).values
        case "topk_indices": return x[0].topk(int("k"), dim: int("dim"), largest: a["largest"] as? Bool ?? true).indices
        case "erf": return x[0].erf()
        case "reciprocal": return x[0].reciprocal()
        case "floor": return x[0].floor()
        case "ceil": return x[0].ceil()
        case "round": return x[0].round()
        case "round_decimals": return x[0].round(decimals: int("decimals"))
        case "trunc": return x[0].trunc()
        case "gelu": return x[0].gelu()
        case "gelu_tanh": return x[0].gelu(approximate: .tanh)
        case "silu": return x[0].silu()
        case "softplus": return x[0].softplus(beta: dbl("beta"), threshold: dbl("threshold"))
        case "leaky_relu": return x[0].leakyRelu(negativeSlope: dbl("negativeSlope"))
        case "elu": return x[0].elu(alpha: dbl("alpha"))
        case "hardtanh": return x[0].hardtanh(minValue: dbl("min"), maxValue: dbl("max"))
        case "clamp": return x[0].clamp(min: dbl("min"), max: dbl("max"))
        case "clamp_min": return x[0].clamp(min: dbl("min"))
        case "clamp_tensor": return x[0].clamp(min: x[1], max: x[2])
        case "nan_to_num": return x[0].nanToNum(nan: dbl("nan"), posinf: dbl("posinf"), neginf: dbl("neginf"))
        case "prod": return x[0].prod()
        case "prod_dim", "prod_zero": return x[0].prod(dim: int("dim"), keepDim: keepDim)
        case "amax", "amax_ties": return x[0].amax(dims: ints("dims"), keepDim: keepDim)
        case "amin": return x[0].amin(dims: ints("dims"), keepDim: keepDim)
        case "var": return x[0].var()
        case "var_dims": return x[0].var(dims: ints("dims"), correction: dbl("correction", 1), keepDim: keepDim)
        case "std": return x[0].std(dims: ints("dims"), correction: dbl("correction", 1), keepDim: keepDim)
        case "std_all": return x[0].std(correction: dbl("correction", 1))
        case "logsumexp", "logsumexp_all": return x[0].logsumexp(dims: ints("dims"), keepDim: keepDim)
        case "norm2", "norm1_dim", "norminf_dim", "norm3":
            let p = (a["p"] as? String) == "inf" ? Double.infinity : dbl("p")
            return x[0].norm(p: p, dims: ints("dims"), keepDim: keepDim)
        case "cumsum": return x[0].cumsum(dim: int("dim"))
        case "cumprod", "cumprod_zero": return x[0].cumprod(dim: int("dim"))
        case "outer": return x[0].outer(x[1])
        case "einsum_mm", "einsum_bmm", "einsum_trace", "einsum_transpose", "einsum_sum", "einsum_ellipsis":
            return Tensor.einsum(a["equation"] as! String, x)
        case "einsum_outer_diag": return Tensor.einsum(a["equation"] as! String, x[0], x[1], x[1])
        case "matmul_1d_3d", "matmul_3d_1d", "matmul_broadcast": return x[0].matmul(x[1])
        case "mT": return x[0].mT
        case "flatten_range": return x[0].flattened(startDim: int("startDim"), endDim: int("endDim"))
        case "unflatten": return x[0].unflattened(dim: int("dim"), sizes: ints("sizes"))
        case "narrow": return x[0].narrow(dim: int("dim"), start: int("start"), length: int("length"))
        case "split": return x[0].split(size: int("size"), dim: int("dim"))[int("piece")]
        case "chunk": return x[0].chunk(int("chunks"), dim: int("dim"))[int("piece")]
        case "repeat": return x[0].repeated(ints("repeats"))
        case "tile": return x[0].tiled(ints("repeats"))
        case "flip": return x[0].flipped(dims: ints("dims"))
        case "roll", "roll_flat": return x[0].rolled(shifts: ints("shifts"), dims: ints("dims"))
        case "diagonal": return x[0].diagonal(offset: int("offset"), dim1: int("dim1"), dim2: int("dim2"))
        case "gather": return x[0].gather(dim: int("dim"), index: x[1])
        case "scatter": return x[0].scatter(dim: int("dim"), index: x[1], source: x[2])
        case "scatter_add": return x[0].scatterAdd(dim: int("dim"), index: x[1], source: x[2])
        case "index_select": return x[0].indexSelect(dim: int("dim"), index: x[1])
        case "index_add": return x[0].indexAdd(dim: int("dim"), index: x[1], source: x[2], alpha: dbl("alpha", 1))
        case "masked_fill": return x[0].maskedFill(x[1], value: dbl("value"))
        case "index_int": return x[0][1]
        case "index_slice_step": return x[0][.all, .range(0, 3, step: 2)]
        case "index_neg": return x[0][-1, .range(1, -1)]
        case "index_ellipsis": return x[0][..., 2]
        case "index_newaxis": return x[0][.newAxis, .all, 1]
        case "index_tensor": return x[0][x[1]]
        case "index_two_tensors": return x[0][.all, x[1], x[2]]
        case "index_separated": return x[0][x[1], .all, x[2]]
        case "index_mask": return x[0][x[1]]
        case "index_put_accumulate": return x[0].indexPut([x[2]], values: x[1], accumulate: true)
        default: return nil
        }
    }

    func loadRoot() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixturePath("ops-cases.json")))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func testEveryOpsCaseMatchesPyTorch() throws {
        let cases = try XCTUnwrap(try loadRoot()["cases"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(cases.count, 80)
        var compared = 0, gradients = 0
        defer {
            XCTAssertEqual(compared, cases.count)
            XCTAssertGreaterThanOrEqual(gradients, 70)
        }
        for (index, c) in cases.enumerated() {
            let op = c["op"] as! String
            let attrs = c["attrs"] as? [String: Any] ?? [:]
            let inputs = (c["inputs"] as! [Any]).map { Spec($0)!.tensor() }
            guard let out = Self.run(op, attrs, inputs) else {
                XCTFail("case \(index): op \(op) has no Swift mapping")
                continue
            }
            let expected = Spec(c["output"])!
            XCTAssertEqual(out.dtype, expected.dtype, "case \(index) \(op): dtype")
            assertClose(out, shape: expected.shape, expected.data, Tolerance.Pair(rtol: 1e-9, atol: 1e-11), "case \(index) \(op) forward")
            compared += 1
            guard out.requiresGrad else { continue }
            try out.backward(Spec(c["cotangent"]).map { $0.tensor() })
            for (i, g) in (c["grads"] as! [Any]).enumerated() {
                guard let spec = Spec(g) else { continue }
                guard let actual = inputs[i].grad else {
                    XCTFail("case \(index) \(op): input \(i) got no grad")
                    continue
                }
                assertClose(actual, shape: spec.shape, spec.data, Tolerance.Pair(rtol: 1e-9, atol: 1e-11), "case \(index) \(op) grad \(i)")
                gradients += 1
            }
        }
    }

    func testPromotionTablesMatchPyTorch() throws {
        let promotion = try XCTUnwrap(try loadRoot()["promotion"] as? [String: Any])
        let pairs = try XCTUnwrap(promotion["promoteTypes"] as? [String: String])
        XCTAssertEqual(pairs.count, 100)
        for (key, value) in pairs {
            let names = key.split(separator: ",").map(String.init)
            XCTAssertEqual(DType.promoted(DType(rawValue: names[0])!, DType(rawValue: names[1])!).rawValue, value, key)
        }
        let results = try XCTUnwrap(promotion["resultType"] as? [String: [String: String]])
        for (name, expected) in results {
            let t = Tensor.ones([2], dtype: DType(rawValue: name)!)
            XCTAssertEqual((t * 2).dtype.rawValue, expected["int"], "\(name) * 2")
            XCTAssertEqual((t * 2.5).dtype.rawValue, expected["float"], "\(name) * 2.5")
            XCTAssertEqual((t * Tensor(1.0, dtype: .float64)).dtype.rawValue, expected["zeroDimFloat64"], "\(name) * 0-d float64")
            XCTAssertEqual((t * Tensor(1)).dtype.rawValue, expected["zeroDimInt64"], "\(name) * 0-d int64")
        }
    }
}
