import Autograd

/// Every tolerance the suite uses, in one place (STYLE.md): exact for copies, shape ops and
/// integers; float32 elementwise rtol 1e-5 / atol 1e-6, scaled by √n for reductions and
/// matmul; float64 tight; CUDA against CPU rtol 1e-4.
enum Tolerance {
    struct Pair {
        let rtol: Double
        let atol: Double
    }

    static let exact = Pair(rtol: 0, atol: 0)
    static let float64 = Pair(rtol: 1e-10, atol: 1e-12)
    static let float32 = Pair(rtol: 1e-5, atol: 1e-6)
    static let cudaVersusCPU = Pair(rtol: 1e-4, atol: 1e-5)

    /// The elementwise tolerance for `dtype`.
    static func elementwise(_ dtype: DType) -> Pair {
        switch dtype {
        case .float64: return float64
        case .float32: return float32
        case .float16: return Pair(rtol: 1e-3, atol: 1e-3)
        case .bfloat16: return Pair(rtol: 1e-2, atol: 1e-2)
        default: return exact
        }
    }

    /// The tolerance for a result summing `n` terms (reductions, matmul): elementwise × √n.
    static func reduction(_ dtype: DType, terms n: Int) -> Pair {
        let base = elementwise(dtype)
        let scale = Double(Swift.max(n, 1)).squareRoot()
        return Pair(rtol: base.rtol * scale, atol: base.atol * scale)
    }

    /// A product of unit-variance random matrices with inner dimension `k`, against a
    /// reference summed in another order: each result is a sum of k terms of size ~1 whose
    /// value may cancel to near 0, so the absolute part scales with the terms' total (~k),
    /// not with the result: `reduction` rtol, elementwise atol × k.
    static func randomProduct(_ dtype: DType, k: Int) -> Pair {
        let base = elementwise(dtype)
        return Pair(rtol: reduction(dtype, terms: k).rtol, atol: base.atol * Double(Swift.max(k, 1)))
    }

    /// Gradient checks in float64 against central differences.
    static let gradcheck = Pair(rtol: 1e-3, atol: 1e-5)
}
