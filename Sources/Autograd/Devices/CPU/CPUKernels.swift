/// Generic CPU loops. Each takes tensors whose storage is host memory, reads them through
/// their strides and writes `out`, which the caller allocated.
enum CPUKernels {
    // MARK: - Maps

    /// `out[i] = f(x[i])` over out's shape (x broadcast to it).
    @inline(__always)
    static func map<T: Element, R: Element>(_ x: Tensor, into out: Tensor, _ f: (T) -> R) {
        if x.shape == out.shape && x.isContiguous && out.isContiguous {
            let po = out.pointer(R.self) + out.offset, px = x.pointer(T.self) + x.offset
            for i in 0..<out.count { po[i] = f(px[i]) }
            return
        }
        let loop = StridedLoop(shape: out.shape, operands: [(out.strides, out.offset), x.operand(over: out.shape)])
        let po = out.pointer(R.self), px = x.pointer(T.self)
        loop.forEachRow { off, n, st in
            let io = off[0], ix = off[1]
            if st[0] == 1 && st[1] == 1 {
                for i in 0..<n { po[io &+ i] = f(px[ix &+ i]) }
            } else {
                var o = io, s = ix
                for _ in 0..<n {
                    po[o] = f(px[s])
                    o &+= st[0]
                    s &+= st[1]
                }
            }
        }
    }

    /// `out[i] = f(a[i], b[i])` over out's shape (a and b broadcast to it).
    @inline(__always)
    static func zip<T: Element, R: Element>(_ a: Tensor, _ b: Tensor, into out: Tensor, _ f: (T, T) -> R) {
        if out.isContiguous {
            // Dense fast paths: equal shapes, or one side a single broadcast value.
            let n = out.count
            let po = out.pointer(R.self) + out.offset, pa = a.pointer(T.self) + a.offset, pb = b.pointer(T.self) + b.offset
            let aDense = a.shape == out.shape && a.isContiguous, bDense = b.shape == out.shape && b.isContiguous
            if aDense && bDense {
                for i in 0..<n { po[i] = f(pa[i], pb[i]) }
                return
            }
            if aDense && b.count == 1 {
                let vb = pb[0]
                for i in 0..<n { po[i] = f(pa[i], vb) }
                return
            }
            if bDense && a.count == 1 {
                let va = pa[0]
                for i in 0..<n { po[i] = f(va, pb[i]) }
                return
            }
        }
        let loop = StridedLoop(shape: out.shape, operands: [
            (out.strides, out.offset), a.operand(over: out.shape), b.operand(over: out.shape),
        ])
        let po = out.pointer(R.self), pa = a.pointer(T.self), pb = b.pointer(T.self)
        loop.forEachRow { off, n, st in
            let io = off[0], ia = off[1], ib = off[2]
            if st[0] == 1 && st[1] == 1 && st[2] == 1 {
                for i in 0..<n { po[io &+ i] = f(pa[ia &+ i], pb[ib &+ i]) }
            } else if st[0] == 1 && st[1] == 1 && st[2] == 0 {
                let vb = pb[ib]
                for i in 0..<n { po[io &+ i] = f(pa[ia &+ i], vb) }
            } else if st[0] == 1 && st[1] == 0 && st[2] == 1 {
                let va = pa[ia]
                for i in 0..<n { po[io &+ i] = f(va, pb[ib &+ i]) }
            } else {
                var o = off
                for _ in 0..<n {
                    po[o[0]] = f(pa[o[1]], pb[o[2]])
                    o &+= st
                }
            }
        }
    }

    // MARK: - Unary

    static func unaryFloat<T: FloatElement>(_ op: UnaryOp, _ x: Tensor, _ out: Tensor, _: T.Type) {
        switch op {
        case .neg: map(x, into: out) { (v: T) in -v }
        case .exp: map(x, into: out) { (v: T) in T.mathExp(v) }
        case .log: map(x, into: out) { (v: T) in T.mathLog(v) }
        case .sqrt: map(x, into: out) { (v: T) in v.squareRoot() }
        case .rsqrt: map(x, into: out) { (v: T) in 1 / v.squareRoot() }
        case .sin: map(x, into: out) { (v: T) in T.mathSin(v) }
        case .cos: map(x, into: out) { (v: T) in T.mathCos(v) }
        case .tan: map(x, into: out) { (v: T) in T.mathTan(v) }
        case .tanh: map(x, into: out) { (v: T) in T.mathTanh(v) }
        case .sigmoid:
            map(x, into: out) { (v: T) -> T in
                // Stable for both signs: never exponentiates a large positive number.
                if v >= 0 { return 1 / (1 + T.mathExp(-v)) }
                let e = T.mathExp(v)
                return e / (1 + e)
            }
        case .relu: map(x, into: out) { (v: T) in v.isNaN ? v : (v > 0 ? v : 0) }
        case .abs: map(x, into: out) { (v: T) in Swift.abs(v) }
        case .sign: map(x, into: out) { (v: T) -> T in v.isNaN ? v : (v > 0 ? 1 : (v < 0 ? -1 : 0)) }
        case .floor: map(x, into: out) { (v: T) in v.rounded(.down) }
        case .ceil: map(x, into: out) { (v: T) in v.rounded(.up) }
        case .round: map(x, into: out) { (v: T) in v.rounded(.toNearestOrEven) }
        case .trunc: map(x, into: out) { (v: T) in v.rounded(.towardZero) }
        case .reciprocal: map(x, into: out) { (v: T) in 1 / v }
        case .expm1: map(x, into: out) { (v: T) in T.mathExpm1(v) }
        case .log1p: map(x, into: out) { (v: T) in T.mathLog1p(v) }
        case .log2: map(x, into: out) { (v: T) in T.mathLog2(v) }
        case .erf: map(x, into: out) { (v: T) in T.mathErf(v) }
        case .square: map(x, into: out) { (v: T) in v * v }
        case .asin: map(x, into: out) { (v: T) in T.mathAsin(v) }
        case .acos: map(x, into: out) { (v: T) in T.mathAcos(v) }
        case .atan: map(x, into: out) { (v: T) in T.mathAtan(v) }
        case .sinh: map(x, into: out) { (v: T) in T.mathSinh(v) }
        case .cosh: map(x, into: out) { (v: T) in T.mathCosh(v) }
        case .asinh: map(x, into: out) { (v: T) in T.mathAsinh(v) }
        case .acosh: map(x, into: out) { (v: T) in T.mathAcosh(v) }
        case .atanh: map(x, into: out) { (v: T) in T.mathAtanh(v) }
        case .logicalNot: map(x, into: out) { (v: T) in v == 0 }
        case .isNaN: map(x, into: out) { (v: T) in v.isNaN }
        case .isInf: map(x, into: out) { (v: T) in v.isInfinite }
        case .isFinite: map(x, into: out) { (v: T) in v.isFinite }
        }
    }

    static func unaryInt<T: IntElement>(_ op: UnaryOp, _ x: Tensor, _ out: Tensor, _: T.Type) {
        switch op {
        case .neg: map(x, into: out) { (v: T) in 0 &- v }
        case .abs: map(x, into: out) { (v: T) in v < 0 ? 0 &- v : v }
        case .sign: map(x, into: out) { (v: T) -> T in v > 0 ? 1 : (v < 0 ? 0 &- 1 : 0) }
        case .square: map(x, into: out) { (v: T) in v &* v }
        case .floor, .ceil, .round, .trunc: map(x, into: out) { (v: T) in v }
        case .relu: map(x, into: out) { (v: T) in v > 0 ? v : 0 }
        case .logicalNot: map(x, into: out) { (v: T) in v == 0 }
        case .isNaN, .isInf: map(x, into: out) { (_: T) in false }
        case .isFinite: map(x, into: out) { (_: T) in true }
        default: preconditionFailure("CPU unary \(op) is not defined for integer tensors")
        }
    }

    static func unaryBool(_ op: UnaryOp, _ x: Tensor, _ out: Tensor) {
        switch op {
        case .logicalNot: map(x, into: out) { (v: Bool) in !v }
        case .isNaN, .isInf: map(x, into: out) { (_: Bool) in false }
        case .isFinite: map(x, into: out) { (_: Bool) in true }
        case .abs, .floor, .ceil, .round, .trunc, .relu, .sign, .square: map(x, into: out) { (v: Bool) in v }
        default: preconditionFailure("CPU unary \(op) is not defined for bool tensors")
        }
    }

    // MARK: - Binary

    static func binaryFloat<T: FloatElement>(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ out: Tensor, _: T.Type) {
        switch op {
        case .add: zip(a, b, into: out) { (x: T, y: T) in x + y }
        case .sub: zip(a, b, into: out) { (x: T, y: T) in x - y }
        case .mul: zip(a, b, into: out) { (x: T, y: T) in x * y }
        case .div: zip(a, b, into: out) { (x: T, y: T) in x / y }
        case .pow: zip(a, b, into: out) { (x: T, y: T) -> T in power(x, y) }
        case .maximum: zip(a, b, into: out) { (x: T, y: T) -> T in x.isNaN || y.isNaN ? .nan : Swift.max(x, y) }
        case .minimum: zip(a, b, into: out) { (x: T, y: T) -> T in x.isNaN || y.isNaN ? .nan : Swift.min(x, y) }
        case .remainder: zip(a, b, into: out) { (x: T, y: T) -> T in
            var r = T.mathFmod(x, y)
            if r != 0 && ((r < 0) != (y < 0)) { r += y }
            return r
        }
        case .floorDivide: zip(a, b, into: out) { (x: T, y: T) in (x / y).rounded(.down) }
        case .atan2: zip(a, b, into: out) { (x: T, y: T) in T(fromDouble: _atan2(x.doubleValue, y.doubleValue)) }
        case .eq: zip(a, b, into: out) { (x: T, y: T) in x == y }
        case .ne: zip(a, b, into: out) { (x: T, y: T) in x != y }
        case .lt: zip(a, b, into: out) { (x: T, y: T) in x < y }
        case .le: zip(a, b, into: out) { (x: T, y: T) in x <= y }
        case .gt: zip(a, b, into: out) { (x: T, y: T) in x > y }
        case .ge: zip(a, b, into: out) { (x: T, y: T) in x >= y }
        case .logicalAnd: zip(a, b, into: out) { (x: T, y: T) in x != 0 && y != 0 }
        case .logicalOr: zip(a, b, into: out) { (x: T, y: T) in x != 0 || y != 0 }
        case .logicalXor: zip(a, b, into: out) { (x: T, y: T) in (x != 0) != (y != 0) }
        }
    }

    /// `x ** y` as the pow kernels compute it: squares and first powers exactly, cubes as
    /// `x * x * x` (as PyTorch computes a scalar exponent of 3; within 1.5 ulp), the rest by
    /// libm's pow.
    @inline(__always)
    static func power<T: FloatElement>(_ x: T, _ y: T) -> T {
        if y == 2 { return x * x }
        if y == 3 { return x * x * x }
        if y == 1 { return x }
        return T.mathPow(x, y)
    }

    /// `x op y` for one pair of elements and an arithmetic op (add, sub, mul, div): the same
    /// expressions as `binaryFloat`'s loops.
    @inline(__always)
    static func arithmetic<T: FloatElement>(_ op: BinaryOp, _ x: T, _ y: T) -> T {
        switch op {
        case .add: return x + y
        case .sub: return x - y
        case .mul: return x * y
        case .div: return x / y
        default: preconditionFailure("CPU arithmetic: \(op) is not add, sub, mul or div")
        }
    }

    /// `v op s` (`s op v` with `scalarOnLeft`) for one element: the same expressions as
    /// `binaryFloatScalar`'s loops.
    @inline(__always)
    static func scalarOp<T: FloatElement>(_ op: BinaryOp, _ v: T, _ s: T, scalarOnLeft: Bool) -> T {
        switch (op, scalarOnLeft) {
        case (.add, false): return v + s
        case (.add, true): return s + v
        case (.sub, false): return v - s
        case (.sub, true): return s - v
        case (.mul, false): return v * s
        case (.mul, true): return s * v
        case (.div, false): return v / s
        case (.div, true): return s / v
        case (.pow, false): return power(v, s)
        case (.pow, true): return power(s, v)
        default: preconditionFailure("CPU scalarOp: \(op) has no scalar kernel")
        }
    }

    /// `out = x op s` (`s op x` with `scalarOnLeft`): `binaryFloat` with a broadcast scalar,
    /// element for element the same results.
    static func binaryFloatScalar<T: FloatElement>(_ op: BinaryOp, _ x: Tensor, _ s: T, scalarOnLeft: Bool, _ out: Tensor) {
        switch (op, scalarOnLeft) {
        case (.add, false): map(x, into: out) { (v: T) in v + s }
        case (.add, true): map(x, into: out) { (v: T) in s + v }
        case (.sub, false): map(x, into: out) { (v: T) in v - s }
        case (.sub, true): map(x, into: out) { (v: T) in s - v }
        case (.mul, false): map(x, into: out) { (v: T) in v * s }
        case (.mul, true): map(x, into: out) { (v: T) in s * v }
        case (.div, false): map(x, into: out) { (v: T) in v / s }
        case (.div, true): map(x, into: out) { (v: T) in s / v }
        case (.pow, false): map(x, into: out) { (v: T) in power(v, s) }
        case (.pow, true): map(x, into: out) { (v: T) in power(s, v) }
        default: preconditionFailure("CPU binaryFloatScalar: \(op) has no scalar kernel")
        }
    }

    /// `out = g * (power(x, e - 1) * e)`: the backward of `x.pow(e)` fused into one pass, with
    /// the exponents rounded to `T` as the scalar ops round them.
    static func powBackward<T: FloatElement>(_ g: Tensor, _ x: Tensor, exponent e: Double, into out: Tensor, _: T.Type) {
        let em1 = T(fromDouble: e - 1), et = T(fromDouble: e)
        zip(g, x, into: out) { (gv: T, xv: T) -> T in gv * (power(xv, em1) * et) }
    }

    /// `out = g * (p * e)` with `p = x.pow(e - 1)` already computed, `e` rounded to `T`.
    static func powBackward<T: FloatElement>(_ g: Tensor, power p: Tensor, exponent e: Double, into out: Tensor, _: T.Type) {
        let et = T(fromDouble: e)
        zip(g, p, into: out) { (gv: T, pv: T) -> T in gv * (pv * et) }
    }

    static func binaryInt<T: IntElement>(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ out: Tensor, _: T.Type) {
        switch op {
        case .add: zip(a, b, into: out) { (x: T, y: T) in x &+ y }
        case .sub: zip(a, b, into: out) { (x: T, y: T) in x &- y }
        case .mul: zip(a, b, into: out) { (x: T, y: T) in x &* y }
        case .div, .atan2: preconditionFailure("CPU \(op): integer inputs are promoted to float by the op layer")
        case .pow: zip(a, b, into: out) { (x: T, y: T) -> T in
            precondition(y >= 0 || x == 1 || x == 0 &- 1, "pow: integers to negative integer powers are not allowed")
            if y < 0 { return x == 1 ? 1 : ((y & 1) == 0 ? 1 : x) }
            var result: T = 1, base = x, e = y
            while e > 0 {
                if e & 1 == 1 { result = result &* base }
                base = base &* base
                e >>= 1
            }
            return result
        }
        case .maximum: zip(a, b, into: out) { (x: T, y: T) in Swift.max(x, y) }
        case .minimum: zip(a, b, into: out) { (x: T, y: T) in Swift.min(x, y) }
        case .remainder: zip(a, b, into: out) { (x: T, y: T) -> T in
            precondition(y != 0, "remainder: ZeroDivisionError (integer remainder by zero)")
            if T.isSigned && y == 0 &- 1 { return 0 }
            var r = x % y
            if r != 0 && ((r < 0) != (y < 0)) { r = r &+ y }
            return r
        }
        case .floorDivide: zip(a, b, into: out) { (x: T, y: T) -> T in
            precondition(y != 0, "floorDivide: ZeroDivisionError (integer division by zero)")
            if T.isSigned && y == 0 &- 1 { return 0 &- x }
            let q = x / y
            return (x % y != 0 && ((x < 0) != (y < 0))) ? q &- 1 : q
        }
        case .eq: zip(a, b, into: out) { (x: T, y: T) in x == y }
        case .ne: zip(a, b, into: out) { (x: T, y: T) in x != y }
        case .lt: zip(a, b, into: out) { (x: T, y: T) in x < y }
        case .le: zip(a, b, into: out) { (x: T, y: T) in x <= y }
        case .gt: zip(a, b, into: out) { (x: T, y: T) in x > y }
        case .ge: zip(a, b, into: out) { (x: T, y: T) in x >= y }
        case .logicalAnd: zip(a, b, into: out) { (x: T, y: T) in x != 0 && y != 0 }
        case .logicalOr: zip(a, b, into: out) { (x: T, y: T) in x != 0 || y != 0 }
        case .logicalXor: zip(a, b, into: out) { (x: T, y: T) in (x != 0) != (y != 0) }
        }
    }

    static func binaryBool(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, _ out: Tensor) {
        switch op {
        case .add, .logicalOr, .maximum: zip(a, b, into: out) { (x: Bool, y: Bool) in x || y }
        case .mul, .logicalAnd, .minimum: zip(a, b, into: out) { (x: Bool, y: Bool) in x && y }
        case .logicalXor, .ne: zip(a, b, into: out) { (x: Bool, y: Bool) in x != y }
        case .eq: zip(a, b, into: out) { (x: Bool, y: Bool) in x == y }
        case .lt: zip(a, b, into: out) { (x: Bool, y: Bool) in !x && y }
        case .le: zip(a, b, into: out) { (x: Bool, y: Bool) in !x || y }
        case .gt: zip(a, b, into: out) { (x: Bool, y: Bool) in x && !y }
        case .ge: zip(a, b, into: out) { (x: Bool, y: Bool) in x || !y }
        default: preconditionFailure("CPU \(op) is not defined for two bool tensors")
        }
    }

    // MARK: - Reductions

    /// Orders x's dims so the kept ones come first and the reduced ones last, then walks rows:
    /// a row whose output stride is 0 is a run of reduced elements, folded by `row` and
    /// combined into the output element with `combine`.
    @inline(__always)
    static func reduceRows<T: Element, R: Element>(
        _ x: Tensor, _ dims: [Int], _ out: Tensor,
        row: (UnsafeMutablePointer<T>, Int, Int, Int) -> R,
        combine: (R, R) -> R
    ) {
        let reduced = Set(dims)
        let order = (0..<x.rank).filter { !reduced.contains($0) } + (0..<x.rank).filter { reduced.contains($0) }
        let shape = order.map { x.shape[$0] }
        let xs = order.map { x.strides[$0] }
        let os = order.map { reduced.contains($0) ? 0 : out.strides[$0] }
        let loop = StridedLoop(shape: shape, operands: [(os, out.offset), (xs, x.offset)])
        let po = out.pointer(R.self), px = x.pointer(T.self)
        loop.forEachRow { off, n, st in
            if st[0] == 0 {
                po[off[0]] = combine(po[off[0]], row(px, off[1], n, st[1]))
            } else {
                var o = off
                for _ in 0..<n {
                    po[o[0]] = combine(po[o[0]], row(px, o[1], 1, 0))
                    o &+= st
                }
            }
        }
    }

    /// Pairwise summation: blocks of 8 summed with 4 accumulators, blocks combined as a tree,
    /// so the error grows with log(n) rather than n.
    static func pairwiseSum<T: FloatElement>(_ p: UnsafeMutablePointer<T>, _ start: Int, _ n: Int, _ stride: Int) -> T {
        if n <= 64 {
            var s0: T = 0, s1: T = 0, s2: T = 0, s3: T = 0
            var i = 0
            var idx = start
            while i + 4 <= n {
                s0 += p[idx]
                s1 += p[idx &+ stride]
                s2 += p[idx &+ 2 &* stride]
                s3 += p[idx &+ 3 &* stride]
                idx &+= 4 &* stride
                i += 4
            }
            while i < n {
                s0 += p[idx]
                idx &+= stride
                i += 1
            }
            return (s0 + s1) + (s2 + s3)
        }
        let half = (n / 2 + 7) & ~7
        return pairwiseSum(p, start, half, stride) + pairwiseSum(p, start + half * stride, n - half, stride)
    }

    static func reduceFloat<T: FloatElement>(_ op: ReduceOp, _ x: Tensor, _ dims: [Int], _ out: Tensor, _: T.Type) {
        switch op {
        case .sum:
            Backends.cpu.fill(out, with: .double(0))
            reduceRows(x, dims, out, row: { (p: UnsafeMutablePointer<T>, s: Int, n: Int, st: Int) -> T in
                pairwiseSum(p, s, n, st)
            }, combine: +)
        case .prod:
            Backends.cpu.fill(out, with: .double(1))
            reduceRows(x, dims, out, row: { (p: UnsafeMutablePointer<T>, s: Int, n: Int, st: Int) -> T in
                var r: T = 1
                var i = s
                for _ in 0..<n {
                    r *= p[i]
                    i &+= st
                }
                return r
            }, combine: *)
        case .max, .min:
            let isMax = op == .max
            Backends.cpu.fill(out, with: .double(isMax ? -.infinity : .infinity))
            let better: (T, T) -> T = { a, b in
                if a.isNaN || b.isNaN { return .nan }
                return isMax ? Swift.max(a, b) : Swift.min(a, b)
            }
            // The row loops inline `better` per op: NaN ends the row as NaN (it would stay NaN),
            // otherwise Swift.max(r, v) is `v >= r ? v : r` and Swift.min(r, v) `v < r ? v : r`.
            if isMax {
                reduceRows(x, dims, out, row: { (p: UnsafeMutablePointer<T>, s: Int, n: Int, st: Int) -> T in
                    var r: T = -.infinity
                    var i = s
                    for _ in 0..<n {
                        let v = p[i]
                        if v.isNaN { return .nan }
                        r = v >= r ? v : r
                        i &+= st
                    }
                    return r
                }, combine: better)
            } else {
                reduceRows(x, dims, out, row: { (p: UnsafeMutablePointer<T>, s: Int, n: Int, st: Int) -> T in
                    var r: T = .infinity
                    var i = s
                    for _ in 0..<n {
                        let v = p[i]
                        if v.isNaN { return .nan }
                        r = v < r ? v : r
                        i &+= st
                    }
                    return r
                }, combine: better)
            }
        case .all, .any:
            preconditionFailure("CPU \(op): inputs are cast to bool by the op layer")
        }
    }

    static func reduceInt<T: IntElement>(_ op: ReduceOp, _ x: Tensor, _ dims: [Int], _ out: Tensor, _: T.Type) {
        func fold(_ initial: Scalar, _ f: @escaping (T, T) -> T) {
            Backends.cpu.fill(out, with: initial)
            reduceRows(x, dims, out, row: { (p: UnsafeMutablePointer<T>, s: Int, n: Int, st: Int) -> T in
                var r: T = initial.value(as: T.self)
                var i = s
                for _ in 0..<n {
                    r = f(r, p[i])
                    i &+= st
                }
                return r
            }, combine: f)
        }
        switch op {
        case .sum: fold(.int(0), &+)
        case .prod: fold(.int(1), &*)
        case .max: fold(.int(Int64(T.min)), { Swift.max($0, $1) })
        case .min: fold(.int(Int64(truncatingIfNeeded: T.max)), { Swift.min($0, $1) })
        case .all, .any: preconditionFailure("CPU \(op): inputs are cast to bool by the op layer")
        }
    }

    static func reduceBool(_ op: ReduceOp, _ x: Tensor, _ dims: [Int], _ out: Tensor) {
        let isAll = op == .all || op == .min || op == .prod
        Backends.cpu.fill(out, with: .bool(isAll))
        reduceRows(x, dims, out, row: { (p: UnsafeMutablePointer<Bool>, s: Int, n: Int, st: Int) -> Bool in
            var i = s
            for _ in 0..<n {
                if p[i] != isAll { return !isAll }
                i &+= st
            }
            return isAll
        }, combine: { isAll ? ($0 && $1) : ($0 || $1) })
    }

    static func reduceWithIndex<T: Element>(_ op: IndexReduceOp, _ x: Tensor, _ dim: Int,
                                            _ values: Tensor, _ indices: Tensor, _: T.Type) {
        let isMax = op == .max
        let others = (0..<x.rank).filter { $0 != dim }
        let shape = others.map { x.shape[$0] }
        let loop = StridedLoop(shape: shape, operands: [
            (others.map { values.strides[$0] }, values.offset),
            (others.map { indices.strides[$0] }, indices.offset),
            (others.map { x.strides[$0] }, x.offset),
        ])
        let pv = values.pointer(T.self), pi = indices.pointer(Int64.self), px = x.pointer(T.self)
        let n = x.shape[dim], step = x.strides[dim]
        loop.forEachRow { off, count, st in
            var o = off
            for _ in 0..<count {
                var best = px[o[2]]
                var bestIndex = 0
                var bestValue = best.doubleValue
                if !bestValue.isNaN {
                    var j = o[2]
                    for k in 1..<Swift.max(n, 1) {
                        j &+= step
                        let v = px[j]
                        let d = v.doubleValue
                        if d.isNaN {
                            best = v
                            bestIndex = k
                            break
                        }
                        if isMax ? (d > bestValue) : (d < bestValue) {
                            best = v
                            bestValue = d
                            bestIndex = k
                        }
                    }
                }
                pv[o[0]] = best
                pi[o[1]] = Int64(bestIndex)
                o &+= st
            }
        }
    }

    // MARK: - Matmul

    /// `[B, M, K] @ [B, K, N]`, row by row: out[i, :] += a[i, k] * b[k, :], which streams rows of
    /// b and out and vectorizes when they are contiguous.
    static func matmulFloat<T: FloatElement>(_ a: Tensor, _ b: Tensor, _ out: Tensor, _: T.Type) {
        let batch = a.shape[0], m = a.shape[1], k = a.shape[2], n = b.shape[2]
        let pa = a.pointer(T.self), pb = b.pointer(T.self), po = out.pointer(T.self)
        for bi in 0..<batch {
            let aBase = a.offset + bi * a.strides[0], bBase = b.offset + bi * b.strides[0]
            let oBase = out.offset + bi * out.strides[0]
            for i in 0..<m {
                let orow = po + oBase + i * out.strides[1]
                let os = out.strides[2]
                for j in 0..<n { orow[j * os] = 0 }
                for kk in 0..<k {
                    let av = pa[aBase + i * a.strides[1] + kk * a.strides[2]]
                    let brow = pb + bBase + kk * b.strides[1]
                    let bs = b.strides[2]
                    if os == 1 && bs == 1 {
                        for j in 0..<n { orow[j] += av * brow[j] }
                    } else {
                        for j in 0..<n { orow[j * os] += av * brow[j * bs] }
                    }
                }
            }
        }
    }

    static func matmulInt<T: IntElement>(_ a: Tensor, _ b: Tensor, _ out: Tensor, _: T.Type) {
        let batch = a.shape[0], m = a.shape[1], k = a.shape[2], n = b.shape[2]
        let pa = a.pointer(T.self), pb = b.pointer(T.self), po = out.pointer(T.self)
        for bi in 0..<batch {
            for i in 0..<m {
                for j in 0..<n {
                    var acc: T = 0
                    for kk in 0..<k {
                        acc = acc &+ pa[a.offset + bi * a.strides[0] + i * a.strides[1] + kk * a.strides[2]]
                            &* pb[b.offset + bi * b.strides[0] + kk * b.strides[1] + j * b.strides[2]]
                    }
                    po[out.offset + bi * out.strides[0] + i * out.strides[1] + j * out.strides[2]] = acc
                }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
private func _atan2(_ y: Double, _ x: Double) -> Double { Glibc.atan2(y, x) }
#elseif canImport(Darwin)
import Darwin
private func _atan2(_ y: Double, _ x: Double) -> Double { Darwin.atan2(y, x) }
#else
import Foundation
private func _atan2(_ y: Double, _ x: Double) -> Double { Foundation.atan2(y, x) }
#endif
