// Reductions (over any set of dims), max/min with indices, and the tiled matmul fallback.

extension CUDAKernelSources {
    /// The reductions module `reduce_<dtype>` defines: sum, prod, max and min, or all and any
    /// for bool.
    static func reduceNames(_ dtype: DType) -> [String] {
        dtype == .bool ? ["all", "any"] : ["sum", "prod", "max", "min"]
    }

    /// The kernel (in module `reduce_<dtype>`) that performs `op` on `dtype`: on bool, sum and
    /// max are `any`, prod and min are `all` (as on the CPU).
    static func reduceKernelName(_ op: ReduceOp, _ dtype: DType) -> String? {
        if dtype == .bool {
            switch op {
            case .all, .min, .prod: return "ag_reduce_bool_all"
            case .any, .max, .sum: return "ag_reduce_bool_any"
            }
        }
        guard computeDTypes.contains(dtype) else { return nil }
        switch op {
        case .sum: return "ag_reduce_\(dtype)_sum"
        case .prod: return "ag_reduce_\(dtype)_prod"
        case .max: return "ag_reduce_\(dtype)_max"
        case .min: return "ag_reduce_\(dtype)_min"
        case .all, .any: return nil
        }
    }

    /// The driver shared by every reduction.
    ///
    /// Each output (`m`) is reduced by the threads along x (row mode: the reduced elements
    /// are the closer ones in memory) or along y (column mode: neighbouring outputs are
    /// neighbours in memory, so threads along x read them together). A thread folds a strided
    /// share of its block's chunk of the reduced elements into four accumulators, then the
    /// threads' results meet in a warp-shuffle tree (row mode) or a shared-memory tree
    /// (column mode). When there are few outputs, grid.y splits the reduced elements into
    /// chunks whose partial results a second launch reduces. For floats the summation order
    /// is therefore blocked: runs of length/threads terms, then pairwise trees.
    static let reduceDriver = #"""
        struct ag_reduce_params {
            ag_layout<2> kept;       // over the kept dims; operand 0: output, operand 1: input
            ag_layout<1> red;        // over the reduced dims; operand 0: input (offset 0)
            long long outputs;       // kept elements
            long long length;        // reduced elements per output
            long long chunk;         // reduced elements per block along grid.y
            long long row;           // 1: row mode, 0: column mode
            long long split_stride;  // output offset per blockIdx.y (a partial buffer), or 0
        };

        AG_DEV long long ag_red_offset(const ag_layout<1>& L, const ag_layout<1>& S, long long r) {
            if (L.rank <= 1) return r * L.stride[0][0];
            long long off[1];
            ag_offsets<1>(L, &S, r, off);
            return off[0];
        }

        template <typename T, typename Op>
        AG_DEV void ag_reduce(const ag_reduce_params& P, T* out, const T* x) {
            __shared__ T shared[AG_THREADS];
            __shared__ ag_reduce_params S;
            ag_stage(P, &S, P.kept.rank > 1 || P.red.rank > 1);
            const bool row = P.row != 0;
            const int lane = row ? threadIdx.x : threadIdx.y;
            const long long lanes = row ? blockDim.x : blockDim.y;
            const long long m = row ? (long long)blockIdx.x * blockDim.y + threadIdx.y
                                    : (long long)blockIdx.x * blockDim.x + threadIdx.x;
            const long long r0 = (long long)blockIdx.y * P.chunk;
            const long long r1 = ag_min_ll(P.length, r0 + P.chunk);
            T acc = Op::identity();
            long long off[2] = {0, 0};
            if (m < P.outputs) {
                ag_offsets<2>(P.kept, &S.kept, m, off);
                const T* base = x + off[1];
                T a0 = Op::identity(), a1 = Op::identity(), a2 = Op::identity(), a3 = Op::identity();
                long long r = r0 + lane;
                for (; r + 3 * lanes < r1; r += 4 * lanes) {
                    a0 = Op::combine(a0, base[ag_red_offset(P.red, S.red, r)]);
                    a1 = Op::combine(a1, base[ag_red_offset(P.red, S.red, r + lanes)]);
                    a2 = Op::combine(a2, base[ag_red_offset(P.red, S.red, r + 2 * lanes)]);
                    a3 = Op::combine(a3, base[ag_red_offset(P.red, S.red, r + 3 * lanes)]);
                }
                for (; r < r1; r += lanes) a0 = Op::combine(a0, base[ag_red_offset(P.red, S.red, r)]);
                acc = Op::combine(Op::combine(a0, a1), Op::combine(a2, a3));
            }
            acc = ag_block_reduce<T, Op>(acc, shared, row);
            if (lane == 0 && m < P.outputs) out[off[0] + (long long)blockIdx.y * P.split_stride] = acc;
        }

        """#

    /// The reductions of `dtype`.
    static func reduceModule(_ dtype: DType) -> String {
        var text = prelude + reduceDriver
        let t = cType(dtype), w = wrapType(dtype)
        for name in reduceNames(dtype) {
            let identity: String, combine: String
            switch (dtype, name) {
            case (.bool, "all"): (identity, combine) = ("true", "a && b")
            case (.bool, _): (identity, combine) = ("false", "a || b")
            case (.float32, _), (.float64, _):
                let inf = dtype == .float32 ? "__int_as_float(0x7f800000)" : "__longlong_as_double(0x7ff0000000000000ll)"
                switch name {
                case "sum": (identity, combine) = ("0", "a + b")
                case "prod": (identity, combine) = ("1", "a * b")
                // NaN wins, as on the CPU (a + b is NaN when either is).
                case "max": (identity, combine) = ("-\(inf)", "(a != a || b != b) ? a + b : (b > a ? b : a)")
                default: (identity, combine) = (inf, "(a != a || b != b) ? a + b : (b < a ? b : a)")
                }
            default:
                let (minimum, maximum) = integerRange(dtype)
                switch name {
                case "sum": (identity, combine) = ("0", "(\(t))((\(w))a + (\(w))b)")
                case "prod": (identity, combine) = ("1", "(\(t))((\(w))a * (\(w))b)")
                case "max": (identity, combine) = (minimum, "b > a ? b : a")
                default: (identity, combine) = (maximum, "b < a ? b : a")
                }
            }
            text += """
                struct ag_r_\(name) {
                    AG_DEV static \(t) identity() { return (\(t))(\(identity)); }
                    AG_DEV static \(t) combine(\(t) a, \(t) b) { return \(combine); }
                };
                extern "C" __global__ void __launch_bounds__(AG_THREADS)
                ag_reduce_\(dtype)_\(name)(ag_reduce_params P, \(t)* out, const \(t)* x) {
                    ag_reduce<\(t), ag_r_\(name)>(P, out, x);
                }

                """
        }
        return text
    }

    /// The smallest and largest value of an integer dtype, as C literals.
    static func integerRange(_ dtype: DType) -> (String, String) {
        switch dtype {
        case .uint8: return ("0", "255")
        case .int8: return ("-128", "127")
        case .int16: return ("-32768", "32767")
        case .int32: return ("(-2147483647 - 1)", "2147483647")
        default: return ("(-9223372036854775807ll - 1)", "9223372036854775807ll")
        }
    }

    // MARK: - Max/min with indices

    /// Max and min with indices along one dim, for every dtype: the first occurrence wins,
    /// and a NaN beats any number (the first NaN), as on the CPU. float16 and bfloat16
    /// compare as float32.
    static func indexReduceModule() -> String {
        var text = prelude + #"""
            struct ag_index_params {
                ag_layout<3> kept;   // over the kept dims; operands: values, indices, input
                long long outputs;   // kept elements
                long long length;    // the reduced dim's size
                long long stride;    // the input's stride along the reduced dim
                long long row;       // 1: row mode, 0: column mode
            };

            template <typename C, bool IsMax> struct ag_best {
                AG_DEV static ag_pair<C> identity() { ag_pair<C> p; p.v = C(); p.i = -1; return p; }
                AG_DEV static ag_pair<C> combine(ag_pair<C> a, ag_pair<C> b) {
                    if (b.i < 0) return a;
                    if (a.i < 0) return b;
                    const bool an = a.v != a.v, bn = b.v != b.v;
                    if (an || bn) return (an && bn) ? (b.i < a.i ? b : a) : (an ? a : b);
                    if (IsMax ? (b.v > a.v) : (b.v < a.v)) return b;
                    if (b.v == a.v && b.i < a.i) return b;
                    return a;
                }
            };

            template <typename T> struct ag_compare_type { typedef T type; };
            template <> struct ag_compare_type<ag_half> { typedef float type; };
            template <> struct ag_compare_type<ag_bf16> { typedef float type; };

            template <typename T, bool IsMax>
            AG_DEV void ag_index_reduce(const ag_index_params& P, T* values, long long* indices, const T* x) {
                typedef typename ag_compare_type<T>::type C;
                typedef ag_best<C, IsMax> Op;
                __shared__ ag_pair<C> shared[AG_THREADS];
                __shared__ ag_index_params S;
                ag_stage(P, &S, P.kept.rank > 1);
                const bool row = P.row != 0;
                const int lane = row ? threadIdx.x : threadIdx.y;
                const long long lanes = row ? blockDim.x : blockDim.y;
                const long long m = row ? (long long)blockIdx.x * blockDim.y + threadIdx.y
                                        : (long long)blockIdx.x * blockDim.x + threadIdx.x;
                ag_pair<C> acc = Op::identity();
                long long off[3] = {0, 0, 0};
                if (m < P.outputs) {
                    ag_offsets<3>(P.kept, &S.kept, m, off);
                    const T* base = x + off[2];
                    for (long long r = lane; r < P.length; r += lanes) {
                        ag_pair<C> p;
                        p.v = ag_cast<C, T>(base[r * P.stride]);
                        p.i = r;
                        acc = Op::combine(acc, p);
                    }
                }
                acc = ag_block_reduce<ag_pair<C>, Op>(acc, shared, row);
                if (lane == 0 && m < P.outputs) {
                    values[off[0]] = ag_cast<T, C>(acc.v);
                    indices[off[1]] = acc.i < 0 ? 0 : acc.i;
                }
            }

            """#
        for dtype in DType.allCases {
            let t = cType(dtype)
            for (name, isMax) in [("max", true), ("min", false)] {
                text += """
                    extern "C" __global__ void __launch_bounds__(AG_THREADS)
                    ag_index_reduce_\(dtype)_\(name)(ag_index_params P, \(t)* values, long long* indices, const \(t)* x) {
                        ag_index_reduce<\(t), \(isMax)>(P, values, indices, x);
                    }

                    """
            }
        }
        return text
    }

    // MARK: - Matmul

    /// The dtypes the tiled matmul supports.
    static let matmulDTypes: [DType] = [.uint8, .int8, .int16, .int32, .int64, .float32, .float64]

    /// `out[b] = a[b] @ b[b]` in 16 × 16 tiles staged through shared memory, reading every
    /// operand through its own strides: the fallback when cuBLAS is missing, and the kernel
    /// for integers (which wrap, as on the CPU).
    static func matmulModule() -> String {
        var text = prelude + #"""
            struct ag_matmul_params {
                long long batch, m, n, k;
                long long offset[3];      // out, a, b
                long long stride[3][3];   // per operand: batch, row, column
            };

            template <typename T, typename A>
            AG_DEV void ag_matmul(const ag_matmul_params& P, T* out, const T* a, const T* b) {
                __shared__ T as[AG_TILE][AG_TILE + 1];
                __shared__ T bs[AG_TILE][AG_TILE + 1];
                const int tx = threadIdx.x, ty = threadIdx.y;
                const long long row = (long long)blockIdx.y * AG_TILE + ty;
                const long long col = (long long)blockIdx.x * AG_TILE + tx;
                for (long long z = blockIdx.z; z < P.batch; z += gridDim.z) {
                    const T* pa = a + P.offset[1] + z * P.stride[1][0];
                    const T* pb = b + P.offset[2] + z * P.stride[2][0];
                    A acc = 0;
                    for (long long k0 = 0; k0 < P.k; k0 += AG_TILE) {
                        as[ty][tx] = (row < P.m && k0 + tx < P.k) ? pa[row * P.stride[1][1] + (k0 + tx) * P.stride[1][2]] : (T)0;
                        bs[ty][tx] = (k0 + ty < P.k && col < P.n) ? pb[(k0 + ty) * P.stride[2][1] + col * P.stride[2][2]] : (T)0;
                        __syncthreads();
                        #pragma unroll
                        for (int kk = 0; kk < AG_TILE; ++kk) acc += (A)as[ty][kk] * (A)bs[kk][tx];
                        __syncthreads();
                    }
                    if (row < P.m && col < P.n)
                        out[P.offset[0] + z * P.stride[0][0] + row * P.stride[0][1] + col * P.stride[0][2]] = (T)acc;
                }
            }

            """#
        for dtype in matmulDTypes {
            let t = cType(dtype)
            let accumulator = dtype.isFloatingPoint ? t : wrapType(dtype)
            text += """
                extern "C" __global__ void __launch_bounds__(AG_TILE * AG_TILE)
                ag_matmul_\(dtype)(ag_matmul_params P, \(t)* out, const \(t)* a, const \(t)* b) {
                    ag_matmul<\(t), \(accumulator)>(P, out, a, b);
                }

                """
        }
        return text
    }
}
