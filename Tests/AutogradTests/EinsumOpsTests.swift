import XCTest
@testable import Autograd

/// outer, einsum, and matmul's full rules (Ops/EinsumOps, Ops/LinalgOps).
final class EinsumOpsTests: XCTestCase {
    func testEinsumPatternsMatchDirectOps() {
        let a = Tensor.randn([2, 3], dtype: .float64, seed: 1), b = Tensor.randn([3, 4], dtype: .float64, seed: 2)
        let c = Tensor.randn([5, 2, 3], dtype: .float64, seed: 3), d = Tensor.randn([5, 3, 4], dtype: .float64, seed: 4)
        let m = Tensor.randn([3, 3], dtype: .float64, seed: 5)
        assertClose(Tensor.einsum("ij,jk->ik", a, b), a.matmul(b))
        assertClose(Tensor.einsum("ij,jk", a, b), a.matmul(b))                      // implicit output
        assertClose(Tensor.einsum("bij,bjk->bik", c, d), c.bmm(d))
        assertClose(Tensor.einsum("ij->ji", a), a.T)
        assertClose(Tensor.einsum("ii", m), m.diagonal().sum())
        assertClose(Tensor.einsum("ii->i", m), m.diagonal())
        assertClose(Tensor.einsum("ij->", a), a.sum())
        assertClose(Tensor.einsum("i,j->ij", a[0], b[0]), a[0].outer(b[0]))
        assertClose(Tensor.einsum("i,i->", a[0], a[1]), a[0].dot(a[1]))
        assertClose(Tensor.einsum("ij,ij->ij", a, a), a * a)
        assertClose(Tensor.einsum("...ij,jk->...ik", c, b), c.matmul(b))
        assertClose(Tensor.einsum("b i j, b j k -> b i k", c, d), c.bmm(d))
        assertClose(Tensor.einsum("ij,jk,kl->il", a, b, Tensor.eye(4, dtype: .float64)), a.matmul(b))
        XCTAssertEqual(Tensor.einsum("ij,jk->ik", Tensor.zeros([2, 0]), Tensor.zeros([0, 3])).scalars(as: Float.self), [0, 0, 0, 0, 0, 0])
    }

    func testEinsumGradients() {
        let a = randomLeaf([2, 3], seed: 71), b = randomLeaf([3, 4], seed: 72), m = randomLeaf([3, 3], seed: 73)
        assertGradcheck([a, b]) { Tensor.einsum("ij,jk->ik", $0[0], $0[1]) }
        assertGradcheck([a, b]) { Tensor.einsum("ij,jk->kj", $0[0], $0[1]) }
        assertGradcheck([m]) { Tensor.einsum("ii", $0[0]) }
        assertGradcheck([m, a]) { Tensor.einsum("ij,kj->ik", $0[0].T, $0[1]) }
        assertGradgradcheck([a, b]) { Tensor.einsum("ij,jk->ik", $0[0], $0[1]) }
    }

    func testOuterAndMatmulRules() {
        let v = Tensor([1.0, 2.0], dtype: .float64), w = Tensor([3.0, 4.0, 5.0], dtype: .float64)
        assertClose(v.outer(w), shape: [2, 3], [3, 4, 5, 6, 8, 10])
        XCTAssertEqual(Tensor([1, 2], dtype: .int32).outer(Tensor([1.5])).dtype, .float32)
        let shapes: [([Int], [Int], [Int])] = [
            ([3], [3], []), ([2, 3], [3], [2]), ([3], [3, 4], [4]), ([5, 2, 3], [3], [5, 2]),
            ([3], [5, 3, 4], [5, 4]), ([2, 1, 2, 3], [3, 3, 2], [2, 3, 2, 2]), ([0, 3], [3, 2], [0, 2]),
        ]
        for (sa, sb, expected) in shapes {
            let a = Tensor.randn(sa, dtype: .float64, seed: 1), b = Tensor.randn(sb, dtype: .float64, seed: 2)
            let out = a.matmul(b)
            XCTAssertEqual(out.shape, expected, "\(sa) @ \(sb)")
            // Against a broadcast multiply-and-sum.
            let a2 = sa.count == 1 ? a.unsqueezed(dim: 0) : a
            let b2 = sb.count == 1 ? b.unsqueezed(dim: -1) : b
            var ref = (a2.unsqueezed(dim: -1) * b2.unsqueezed(dim: -3)).sum(dim: -2)
            if sa.count == 1 { ref = ref.squeezed(dim: -2) }
            if sb.count == 1 { ref = ref.squeezed(dim: -1) }
            assertClose(out, ref, Tolerance.Pair(rtol: 1e-12, atol: 1e-12), "\(sa) @ \(sb)")
        }
        let a = randomLeaf([2, 1, 2, 3], seed: 74), b = randomLeaf([3, 3, 2], seed: 75)
        assertGradcheck([a, b]) { $0[0].matmul($0[1]) }
        assertGradcheck([v.detach().requiringGrad(), a]) { $0[0].matmul($0[1]) }
    }

    func testValidators() {
        assertValidationFails("einsum(): 2 terms in the equation 'ij,jk' but 1 operands were given") {
            _ = try EinsumPlan("ij,jk", [Tensor.zeros([2, 2])])
        }
        assertValidationFails("einsum(): the number of subscripts in the equation (2) does not match the number of dimensions (3) for operand 0") {
            _ = try EinsumPlan("ij", [Tensor.zeros([2, 2, 2])])
        }
        assertValidationFails("einsum(): operands do not broadcast with remapped shapes: subscript 'j' has size 4 for operand 1 which does not broadcast with previously seen size 3") {
            _ = try EinsumPlan("ij,jk", [Tensor.zeros([2, 3]), Tensor.zeros([4, 2])])
        }
        assertValidationFails("einsum(): output subscript k does not appear in the equation for any input operand") {
            _ = try EinsumPlan("ij->k", [Tensor.zeros([2, 3])])
        }
        assertValidationFails("einsum(): invalid subscript '1'") { _ = try EinsumPlan("i1", [Tensor.zeros([2, 3])]) }
        assertValidationFails("einsum(): operands must share dtype and device") {
            _ = try EinsumPlan("i,i", [Tensor.zeros([2]), Tensor.zeros([2], dtype: .float64)])
        }
        assertValidationFails("matmul: inner dimensions differ (3 vs 4) for shapes [2, 3] and [4, 5]") {
            try Tensor.validateMatmul(Tensor.zeros([2, 3]), Tensor.zeros([4, 5]), op: "matmul")
        }
        assertValidationFails("matmul: expected both operands to have the same dtype") {
            try Tensor.validateMatmul(Tensor.zeros([2, 3]), Tensor.zeros([3], dtype: .float64), op: "matmul")
        }
    }
}
