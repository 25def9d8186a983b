import Foundation
import XCTest
@testable import Autograd

/// Runs every case of `Fixtures/torch-cases.json` (PyTorch 2.15, made by the shared reference
/// script, seed 2026; see shared/reference/README.md): forward values and input gradients.
final class ReferenceCaseTests: XCTestCase {
    struct TensorSpec {
        let shape: [Int]
        let dtype: DType
        let data: [Double]
        let requiresGrad: Bool

        init?(_ json: Any?) {
            guard let d = json as? [String: Any], let shape = d["shape"] as? [Int], let dt = d["dtype"] as? String,
                  let dtype = DType(rawValue: dt), let data = d["data"] as? [NSNumber] else { return nil }
            self.shape = shape
            self.dtype = dtype
            self.data = data.map(\.doubleValue)
            self.requiresGrad = d["requiresGrad"] as? Bool ?? false
        }

        func tensor() -> Tensor {
            let t = Tensor(shape: shape, scalars: data).to(dtype).detach()
            if requiresGrad { t.requiresGrad = true }
            return t
        }
    }

    static func run(_ op: String, _ attrs: [String: Any], _ x: [Tensor]) -> Tensor? {
        let dim = attrs["dim"] as? Int ?? 0
        let keepDim = attrs["keepDim"] as? Bool ?? false
        let scalar = (attrs["scalar"] as? NSNumber)?.doubleValue ?? 0
        switch op {
        case "neg": return -x[0]
        case "exp": return x[0].exp()
        case "log": return x[0].log()
        case "sqrt": return x[0].sqrt()
        case "sin": return x[0].sin()
        case "cos": return x[0].cos()
        case "tanh": return x[0].tanh()
        case "sigmoid": return x[0].sigmoid()
        case "relu": return x[0].relu()
        case "abs": return x[0].abs()
        case "pow_scalar": return x[0].pow((attrs["exponent"] as! NSNumber).doubleValue)
        case "add": return x[0] + x[1]
        case "sub": return x[0] - x[1]
        case "mul": return x[0] * x[1]
        case "div": return x[0] / x[1]
        case "maximum": return maximum(x[0], x[1])
        case "minimum": return minimum(x[0], x[1])
        case "pow": return x[0].pow(x[1])
        case "add_scalar": return x[0] + scalar
        case "rsub_scalar": return scalar - x[0]
        case "mul_scalar": return x[0] * scalar
        case "rdiv_scalar": return scalar / x[0]
        case "sum": return x[0].sum()
        case "mean": return x[0].mean()
        case "sum_dim": return x[0].sum(dim: dim, keepDim: keepDim)
        case "mean_dim": return x[0].mean(dim: dim, keepDim: keepDim)
        case "max_dim": return x[0].max(dim: dim, keepDim: keepDim).values
        case "matmul": return x[0].matmul(x[1])
        case "softmax": return x[0].softmax(dim: dim)
        case "log_softmax": return x[0].logSoftmax(dim: dim)
        case "cross_entropy": return crossEntropy(logits: x[0], targets: x[1])
        case "mse_loss": return mseLoss(predictions: x[0], targets: x[1])
        case "reshaped": return x[0].reshaped(attrs["shape"] as! [Int])
        case "permuted": return x[0].permuted(attrs["dims"] as! [Int])
        case "transposed": return x[0].transposed(attrs["dim0"] as! Int, attrs["dim1"] as! Int)
        case "expanded": return x[0].expanded(to: attrs["shape"] as! [Int])
        case "unsqueezed": return x[0].unsqueezed(dim: dim)
        case "squeezed": return x[0].squeezed(dim: dim)
        case "cat": return Tensor.cat(x, dim: dim)
        case "stack": return Tensor.stack(x, dim: dim)
        case "composite_reuse": return (x[0] * x[0] + x[0].exp() * x[0]).sum()
        case "mlp": return crossEntropy(logits: (x[0].matmul(x[1]) + x[2]).relu().matmul(x[3]), targets: x[4])
        default: return nil
        }
    }

    func testEveryReferenceCaseMatchesPyTorch() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: fixturePath("torch-cases.json")))
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try XCTUnwrap(root["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 182)
        var ran = 0
        for (index, c) in cases.enumerated() {
            let op = c["op"] as! String
            let attrs = c["attrs"] as? [String: Any] ?? [:]
            let specs = (c["inputs"] as! [Any]).map { TensorSpec($0)! }
            let inputs = specs.map { $0.tensor() }
            guard let out = Self.run(op, attrs, inputs) else {
                XCTFail("case \(index): op \(op) has no Swift mapping")
                continue
            }
            let expected = TensorSpec(c["output"])!
            let dtype = expected.dtype
            let terms = specs.map(\.shape).map(Shape.count).max() ?? 1
            let tol = dtype == .float64 ? Tolerance.float64 : Tolerance.reduction(dtype, terms: terms)
            XCTAssertEqual(out.dtype, dtype, "case \(index) \(op): dtype")
            assertClose(out, shape: expected.shape, expected.data, tol, "case \(index) \(op) forward")
            let cotangent = TensorSpec(c["cotangent"]).map { $0.tensor() }
            try out.backward(cotangent)
            let grads = c["grads"] as! [Any]
            for (i, g) in grads.enumerated() {
                guard let spec = TensorSpec(g) else {
                    XCTAssertNil(inputs[i].grad, "case \(index) \(op): input \(i) should get no grad")
                    continue
                }
                guard let actual = inputs[i].grad else {
                    XCTFail("case \(index) \(op): input \(i) got no grad")
                    continue
                }
                let gradTol = dtype == .float64 ? Tolerance.Pair(rtol: 1e-9, atol: 1e-11) : Tolerance.reduction(dtype, terms: terms)
                assertClose(actual, shape: spec.shape, spec.data, gradTol, "case \(index) \(op) grad \(i)")
            }
            ran += 1
        }
        XCTAssertEqual(ran, 182)
    }
}
