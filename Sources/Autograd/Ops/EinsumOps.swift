// outer and einsum, written with differentiable ops (diagonal, sum, permute, bmm).

extension Tensor {
    /// The outer product of two 1-D tensors, `[n] ⊗ [m] → [n, m]` (PyTorch's `outer`); the
    /// dtype promotes. Differentiable (`MulBackward0`, as PyTorch's composite).
    /// - Precondition: both 1-D; same device.
    public func outer(_ other: Tensor) -> Tensor {
        check { () throws(ShapeError) in
            guard rank == 1 && other.rank == 1 else {
                throw ShapeError("outer: expected 1-D tensors, but got shapes \(Shape.describe(shape)) and \(Shape.describe(other.shape))")
            }
        }
        return reshaped([-1, 1]) * other
    }

    /// Einstein summation over the operands (PyTorch's `einsum`): each operand is labelled by a
    /// term of letters, `...` stands for broadcast dims, repeated letters in one term take a
    /// diagonal, letters absent from the output are summed. Without `->` the output is the
    /// ellipsis then the letters appearing once, alphabetically. Two operands contract with one
    /// batched matrix product. Differentiable (through the ops it is made of).
    ///
    /// ```swift
    /// Tensor.einsum("ij,jk->ik", a, b)    // a.matmul(b)
    /// Tensor.einsum("bij,bjk->bik", a, b) // batched
    /// Tensor.einsum("ii", m)              // trace
    /// Tensor.einsum("ij->ji", m)          // transpose
    /// ```
    /// - Precondition: one term per operand with one letter per dim (besides `...`); letters
    ///   of equal name have equal sizes (or 1, broadcasting); output letters appear in an input
    ///   and once; operands share dtype and device.
    public static func einsum(_ equation: String, _ operands: Tensor...) -> Tensor { einsum(equation, operands) }

    /// `einsum` with the operands as an array.
    public static func einsum(_ equation: String, _ operands: [Tensor]) -> Tensor {
        let plan = check { () throws(ShapeError) in try EinsumPlan(equation, operands) }
        var current: [(Tensor, [Character])] = []
        for (i, t) in operands.enumerated() {
            let others = plan.inputs.enumerated().filter { $0.offset != i }.flatMap(\.element)
            current.append(einsumReduce(t, plan.inputs[i], keep: Set(plan.output + others)))
        }
        var (acc, letters) = current[0]
        for k in 1..<Swift.max(current.count, 1) {
            let rest = current[(k + 1)...].flatMap(\.1)
            let needed = Set(plan.output + rest)
            (acc, letters) = einsumContract(acc, letters, current[k].0, current[k].1, needed: needed)
            (acc, letters) = einsumReduce(acc, letters, keep: needed)
        }
        let order = plan.output.map { c in letters.firstIndex(of: c)! }  // present: every output letter survives the reductions
        return order == Array(0..<order.count) ? acc : acc.permuted(order)
    }

    /// Takes diagonals for repeated letters, then sums the letters not in `keep`.
    private static func einsumReduce(_ t: Tensor, _ letters: [Character], keep: Set<Character>) -> (Tensor, [Character]) {
        var t = t, letters = letters
        while let (i, j) = firstRepeat(letters) {
            t = t.diagonal(offset: 0, dim1: i, dim2: j)
            let c = letters[i]
            letters.remove(at: j)
            letters.remove(at: i)
            letters.append(c)
        }
        let drop = letters.indices.filter { !keep.contains(letters[$0]) }
        if !drop.isEmpty {
            t = t.sum(dims: drop)
            letters = letters.indices.filter { keep.contains(letters[$0]) }.map { letters[$0] }
        }
        return (t, letters)
    }

    private static func firstRepeat(_ letters: [Character]) -> (Int, Int)? {
        for i in letters.indices {
            if let j = letters[(i + 1)...].firstIndex(of: letters[i]) { return (i, j) }
        }
        return nil
    }

    /// Contracts two labelled operands with one bmm: batch letters (in both, needed), summed
    /// letters (in both, not needed), and each side's own letters.
    private static func einsumContract(_ a: Tensor, _ la: [Character], _ b: Tensor, _ lb: [Character],
                                       needed: Set<Character>) -> (Tensor, [Character]) {
        let batch = la.filter { lb.contains($0) && needed.contains($0) }
        let summed = la.filter { lb.contains($0) && !needed.contains($0) }
        let left = la.filter { !lb.contains($0) }
        let right = lb.filter { !la.contains($0) }
        func size(_ c: Character) -> Int {
            Swift.max(la.firstIndex(of: c).map { a.shape[$0] } ?? 1, lb.firstIndex(of: c).map { b.shape[$0] } ?? 1)
        }
        func arrange(_ t: Tensor, _ l: [Character], _ groups: [[Character]]) -> Tensor {
            let order = groups.flatMap { $0 }.map { c in l.firstIndex(of: c)! }  // every letter of the groups is in l
            let p = t.permuted(order)
            let full = groups.flatMap { $0 }.map(size)
            let e = p.expanded(to: full)
            return e.reshaped(groups.map { $0.map(size).reduce(1, *) })
        }
        let a3 = arrange(a, la, [batch, left, summed])
        let b3 = arrange(b, lb, [batch, summed, right])
        let out = a3.bmm(b3).reshaped((batch + left + right).map(size))
        return (out, batch + left + right)
    }
}

/// A parsed einsum equation with `...` expanded into per-dim placeholder letters.
struct EinsumPlan {
    var inputs: [[Character]] = []
    var output: [Character] = []

    init(_ equation: String, _ operands: [Tensor]) throws(ShapeError) {
        let text = equation.filter { $0 != " " }
        let sides = text.split(separator: "->", omittingEmptySubsequences: false).map(String.init)
        guard sides.count <= 2 else { throw ShapeError("einsum(): more than one '->' in equation '\(equation)'") }
        let terms = sides[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard terms.count == operands.count else {
            throw ShapeError("einsum(): \(terms.count) terms in the equation '\(equation)' but \(operands.count) operands were given")
        }
        guard let first = operands.first else { throw ShapeError("einsum(): must provide at least one operand") }
        for t in operands {
            guard t.dtype == first.dtype && t.device == first.device else {
                throw ShapeError("einsum(): operands must share dtype and device (got \(first.dtype) on \(first.device) and \(t.dtype) on \(t.device))")
            }
        }
        // Placeholder letters for ellipsis dims, right-aligned across operands (broadcasting).
        func placeholder(_ k: Int) -> Character { Character(UnicodeScalar(0xE000 + k)!) }  // private-use scalars are valid
        var ellipsisRank = 0
        var sizes: [Character: Int] = [:]
        for (i, term) in terms.enumerated() {
            let t = operands[i]
            let parts = term.split(separator: "...", omittingEmptySubsequences: false).map(String.init)
            guard parts.count <= 2 else { throw ShapeError("einsum(): more than one ellipsis in term '\(term)'") }
            for c in parts.joined() where !c.isLetter {
                throw ShapeError("einsum(): invalid subscript '\(c)' in equation '\(equation)'; only letters and '...' are allowed")
            }
            let named = parts.joined().count
            var letters: [Character]
            if parts.count == 2 {
                let e = t.rank - named
                guard e >= 0 else {
                    throw ShapeError("einsum(): the term '\(term)' has more subscripts than operand \(i) has dimensions (shape \(Shape.describe(t.shape)))")
                }
                ellipsisRank = Swift.max(ellipsisRank, e)
                letters = Array(parts[0]) + (0..<e).map { placeholder(e - 1 - $0) } + Array(parts[1])
            } else {
                guard named == t.rank else {
                    throw ShapeError("einsum(): the number of subscripts in the equation (\(named)) does not match the number of dimensions (\(t.rank)) for operand \(i) (shape \(Shape.describe(t.shape)))")
                }
                letters = Array(term)
            }
            for (d, c) in letters.enumerated() {
                let n = t.shape[d]
                if let s = sizes[c], s != n, s != 1, n != 1 {
                    throw ShapeError("einsum(): operands do not broadcast with remapped shapes: subscript '\(c)' has size \(n) for operand \(i) which does not broadcast with previously seen size \(s)")
                }
                sizes[c] = Swift.max(sizes[c] ?? 1, n)
            }
            inputs.append(letters)
        }
        let ellipsis = (0..<ellipsisRank).map { placeholder(ellipsisRank - 1 - $0) }
        if sides.count == 2 {
            let parts = sides[1].split(separator: "...", omittingEmptySubsequences: false).map(String.init)
            guard parts.count <= 2 else { throw ShapeError("einsum(): more than one ellipsis in the output '\(sides[1])'") }
            output = Array(parts[0]) + (parts.count == 2 ? ellipsis : []) + (parts.count == 2 ? Array(parts[1]) : [])
            let all = Set(inputs.flatMap { $0 })
            for c in output where !ellipsis.contains(c) {
                guard c.isLetter else { throw ShapeError("einsum(): invalid subscript '\(c)' in the output of '\(equation)'") }
                guard all.contains(c) else { throw ShapeError("einsum(): output subscript \(c) does not appear in the equation for any input operand") }
            }
            guard Set(output).count == output.count else {
                throw ShapeError("einsum(): output subscripts appear more than once in '\(sides[1])'")
            }
        } else {
            var counts: [Character: Int] = [:]
            for c in inputs.flatMap({ $0 }) where !ellipsis.contains(c) { counts[c, default: 0] += 1 }
            output = ellipsis + counts.filter { $0.value == 1 }.keys.sorted()
        }
    }
}
