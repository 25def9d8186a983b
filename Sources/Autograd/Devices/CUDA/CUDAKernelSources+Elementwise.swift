// The unary and binary kernel modules: one C expression per (op, dtype), mirroring the CPU
// backend's definitions in CPUKernels.swift case by case, so both devices agree on NaN,
// signed zeros, integer wrap-around and rounding.

extension CUDAKernelSources {
    /// The kernel name of `op`, as it appears in `ag_unary_<dtype>_<name>`.
    static func name(_ op: UnaryOp) -> String { "\(op)" }

    /// The kernel name of `op`, as it appears in `ag_binary_<dtype>_<name>`.
    static func name(_ op: BinaryOp) -> String { "\(op)" }

    /// Whether `op` writes bool whatever its input dtype.
    static func producesBool(_ op: UnaryOp) -> Bool {
        switch op {
        case .logicalNot, .isNaN, .isInf, .isFinite: return true
        default: return false
        }
    }

    /// The C expression of `op` on `x` of `dtype`, or nil where the CPU backend rejects it too.
    static func expression(_ op: UnaryOp, _ dtype: DType) -> String? {
        switch dtype {
        case .float32, .float64: return floatExpression(op, dtype)
        case .bool: return boolExpression(op)
        case .float16, .bfloat16: return nil
        default: return integerExpression(op, dtype)
        }
    }

    private static func floatExpression(_ op: UnaryOp, _ dtype: DType) -> String {
        let f = dtype == .float32 ? "f" : ""       // the C math suffix
        let one = dtype == .float32 ? "1.0f" : "1.0"
        let zero = dtype == .float32 ? "0.0f" : "0.0"
        let largest = dtype == .float32 ? "3.402823466e+38f" : "1.7976931348623157e+308"
        switch op {
        case .neg: return "-x"
        case .exp: return "exp\(f)(x)"
        case .log: return "log\(f)(x)"
        case .sqrt: return "sqrt\(f)(x)"
        case .rsqrt: return "\(one) / sqrt\(f)(x)"
        case .sin: return "sin\(f)(x)"
        case .cos: return "cos\(f)(x)"
        case .tan: return "tan\(f)(x)"
        case .tanh: return "tanh\(f)(x)"
        // Stable for both signs: never exponentiates a large positive number.
        case .sigmoid: return "x >= \(zero) ? \(one) / (\(one) + exp\(f)(-x)) : exp\(f)(x) / (\(one) + exp\(f)(x))"
        case .relu: return "x != x ? x : (x > \(zero) ? x : \(zero))"
        case .abs: return "fabs\(f)(x)"
        case .sign: return "x != x ? x : (x > \(zero) ? \(one) : (x < \(zero) ? -\(one) : \(zero)))"
        case .floor: return "floor\(f)(x)"
        case .ceil: return "ceil\(f)(x)"
        case .round: return "rint\(f)(x)"
        case .trunc: return "trunc\(f)(x)"
        case .reciprocal: return "\(one) / x"
        case .expm1: return "expm1\(f)(x)"
        case .log1p: return "log1p\(f)(x)"
        case .log2: return "log2\(f)(x)"
        case .erf: return "erf\(f)(x)"
        case .square: return "x * x"
        case .asin: return "asin\(f)(x)"
        case .acos: return "acos\(f)(x)"
        case .atan: return "atan\(f)(x)"
        case .sinh: return "sinh\(f)(x)"
        case .cosh: return "cosh\(f)(x)"
        case .asinh: return "asinh\(f)(x)"
        case .acosh: return "acosh\(f)(x)"
        case .atanh: return "atanh\(f)(x)"
        case .logicalNot: return "x == \(zero)"
        case .isNaN: return "x != x"
        case .isInf: return "fabs\(f)(x) > \(largest)"
        case .isFinite: return "fabs\(f)(x) <= \(largest)"
        }
    }

    private static func integerExpression(_ op: UnaryOp, _ dtype: DType) -> String? {
        let t = cType(dtype), w = wrapType(dtype)
        let signed = dtype.isSigned
        switch op {
        case .neg: return "(\(t))((\(w))0 - (\(w))x)"
        case .abs: return signed ? "x < 0 ? (\(t))((\(w))0 - (\(w))x) : x" : "x"
        case .sign: return signed ? "(\(t))(x > 0 ? 1 : (x < 0 ? -1 : 0))" : "(\(t))(x > 0 ? 1 : 0)"
        case .square: return "(\(t))((\(w))x * (\(w))x)"
        case .floor, .ceil, .round, .trunc: return "x"
        case .relu: return "x > 0 ? x : (\(t))0"
        case .logicalNot: return "x == 0"
        case .isNaN, .isInf: return "false"
        case .isFinite: return "true"
        default: return nil
        }
    }

    private static func boolExpression(_ op: UnaryOp) -> String? {
        switch op {
        case .logicalNot: return "!x"
        case .isNaN, .isInf: return "false"
        case .isFinite: return "true"
        case .abs, .floor, .ceil, .round, .trunc, .relu, .sign, .square: return "x"
        default: return nil
        }
    }

    /// The C expression of `op` on `x` and `y` of `dtype`, or nil where the CPU backend
    /// rejects it too. Comparisons and logical ops yield bool.
    ///
    /// Integer division or remainder by zero, and an integer to a negative power other than
    /// of ±1, trap on the CPU; on CUDA they give 0 (a kernel cannot trap usefully), as
    /// PyTorch's CUDA kernels give unspecified values without raising.
    static func expression(_ op: BinaryOp, _ dtype: DType) -> String? {
        switch dtype {
        case .float32, .float64: return floatExpression(op, dtype)
        case .bool: return boolExpression(op)
        case .float16, .bfloat16: return nil
        default: return integerExpression(op, dtype)
        }
    }

    private static func floatExpression(_ op: BinaryOp, _ dtype: DType) -> String {
        let f = dtype == .float32 ? "f" : ""
        let zero = dtype == .float32 ? "0.0f" : "0.0"
        let one = dtype == .float32 ? "1.0f" : "1.0"
        let two = dtype == .float32 ? "2.0f" : "2.0"
        let three = dtype == .float32 ? "3.0f" : "3.0"
        switch op {
        case .add: return "x + y"
        case .sub: return "x - y"
        case .mul: return "x * y"
        case .div: return "x / y"
        case .pow: return "y == \(two) ? x * x : (y == \(one) ? x : (y == \(three) ? x * x * x : pow\(f)(x, y)))"
        // Swift.max(x, y) is `y >= x ? y : x` and Swift.min(x, y) is `y < x ? y : x`.
        case .maximum: return "(x != x || y != y) ? x + y : (y >= x ? y : x)"
        case .minimum: return "(x != x || y != y) ? x + y : (y < x ? y : x)"
        case .remainder: return "ag_remainder(x, y)"
        case .floorDivide: return "floor\(f)(x / y)"
        case .atan2: return "atan2\(f)(x, y)"
        case .eq: return "x == y"
        case .ne: return "x != y"
        case .lt: return "x < y"
        case .le: return "x <= y"
        case .gt: return "x > y"
        case .ge: return "x >= y"
        case .logicalAnd: return "x != \(zero) && y != \(zero)"
        case .logicalOr: return "x != \(zero) || y != \(zero)"
        case .logicalXor: return "(x != \(zero)) != (y != \(zero))"
        }
    }

    private static func integerExpression(_ op: BinaryOp, _ dtype: DType) -> String? {
        let t = cType(dtype), w = wrapType(dtype)
        switch op {
        case .add: return "(\(t))((\(w))x + (\(w))y)"
        case .sub: return "(\(t))((\(w))x - (\(w))y)"
        case .mul: return "(\(t))((\(w))x * (\(w))y)"
        case .div, .atan2: return nil
        case .pow: return "ag_ipow(x, y)"
        case .maximum: return "y >= x ? y : x"
        case .minimum: return "y < x ? y : x"
        case .remainder: return "ag_iremainder(x, y)"
        case .floorDivide: return "ag_ifloordiv(x, y)"
        case .eq: return "x == y"
        case .ne: return "x != y"
        case .lt: return "x < y"
        case .le: return "x <= y"
        case .gt: return "x > y"
        case .ge: return "x >= y"
        case .logicalAnd: return "x != 0 && y != 0"
        case .logicalOr: return "x != 0 || y != 0"
        case .logicalXor: return "(x != 0) != (y != 0)"
        }
    }

    private static func boolExpression(_ op: BinaryOp) -> String? {
        switch op {
        case .add, .logicalOr, .maximum: return "x || y"
        case .mul, .logicalAnd, .minimum: return "x && y"
        case .logicalXor, .ne: return "x != y"
        case .eq: return "x == y"
        case .lt: return "!x && y"
        case .le: return "!x || y"
        case .gt: return "x && !y"
        case .ge: return "x || !y"
        default: return nil
        }
    }

    /// Helpers the binary expressions call, for one dtype.
    private static func binaryHelpers(_ dtype: DType) -> String {
        let t = cType(dtype), w = wrapType(dtype)
        switch dtype {
        case .float32, .float64:
            let f = dtype == .float32 ? "f" : ""
            return """
                AG_DEV \(t) ag_remainder(\(t) x, \(t) y) {
                    \(t) r = fmod\(f)(x, y);
                    if (r != 0 && ((r < 0) != (y < 0))) r += y;
                    return r;
                }

                """
        case .bool, .float16, .bfloat16:
            return ""
        default:
            let signed = dtype.isSigned
            return """
                AG_DEV \(t) ag_ipow(\(t) x, \(t) y) {
                    if (y < 0) {
                        if (x == 1) return 1;
                        \(signed ? "if (x == -1) return (y & 1) == 0 ? 1 : x;" : "")
                        return 0;
                    }
                    \(w) result = 1, base = (\(w))x;
                    long long e = (long long)y;
                    while (e > 0) {
                        if (e & 1) result *= base;
                        base *= base;
                        e >>= 1;
                    }
                    return (\(t))result;
                }
                AG_DEV \(t) ag_iremainder(\(t) x, \(t) y) {
                    if (y == 0) return 0;
                    \(signed ? "if (y == -1) return 0;" : "")
                    \(t) r = (\(t))(x % y);
                    if (r != 0 && ((r < 0) != (y < 0))) r = (\(t))((\(w))r + (\(w))y);
                    return r;
                }
                AG_DEV \(t) ag_ifloordiv(\(t) x, \(t) y) {
                    if (y == 0) return 0;
                    \(signed ? "if (y == -1) return (\(t))((\(w))0 - (\(w))x);" : "")
                    const \(t) q = (\(t))(x / y);
                    return (x % y != 0 && ((x < 0) != (y < 0))) ? (\(t))(q - 1) : q;
                }

                """
        }
    }

    // MARK: - Modules

    /// Every unary op defined for `dtype`.
    static func unaryModule(_ dtype: DType) -> String {
        var text = prelude
        let t = cType(dtype)
        for op in UnaryOp.allCases {
            guard let body = expression(op, dtype) else { continue }
            let r = producesBool(op) ? "bool" : t
            let n = name(op)
            text += """
                struct ag_f_\(n) { AG_DEV \(r) operator()(\(t) x) const { return \(body); } };
                extern "C" __global__ void __launch_bounds__(AG_THREADS)
                ag_unary_\(dtype)_\(n)(ag_layout<2> L, \(r)* out, const \(t)* x) {
                    ag_map1<\(r), \(t), ag_f_\(n)>(L, out, x);
                }

                """
        }
        return text
    }

    /// Every binary op defined for `dtype`.
    static func binaryModule(_ dtype: DType) -> String {
        var text = prelude + binaryHelpers(dtype)
        let t = cType(dtype)
        for op in BinaryOp.allCases {
            guard let body = expression(op, dtype) else { continue }
            let r = op.isComparison ? "bool" : t
            let n = name(op)
            text += """
                struct ag_f_\(n) { AG_DEV \(r) operator()(\(t) x, \(t) y) const { return \(body); } };
                extern "C" __global__ void __launch_bounds__(AG_THREADS)
                ag_binary_\(dtype)_\(n)(ag_layout<3> L, \(r)* out, const \(t)* x, const \(t)* y) {
                    ag_map2<\(r), \(t), ag_f_\(n)>(L, out, x, y);
                }

                """
        }
        return text
    }
}
