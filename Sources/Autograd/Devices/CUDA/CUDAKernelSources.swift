/// The CUDA C source of every kernel the CUDA backend launches, generated once per process.
///
/// Kernels are grouped into modules, one NVRTC compilation each, so the first use of an op
/// compiles its whole family for one dtype (for example every unary op on float32) and the
/// rest is already loaded:
///
/// | module             | kernels                                                        |
/// |--------------------|----------------------------------------------------------------|
/// | `memory`           | strided copy, fill and select by element size (1, 2, 4, 8 B)   |
/// | `cast_<dtype>`     | conversions from `<dtype>` to each other dtype                 |
/// | `unary_<dtype>`    | every `UnaryOp` defined for `<dtype>`                          |
/// | `binary_<dtype>`   | every `BinaryOp` defined for `<dtype>`                         |
/// | `reduce_<dtype>`   | sum, prod, max, min (all, any for bool)                        |
/// | `index_reduce`     | max/min with indices, every dtype                              |
/// | `matmul`           | the tiled GEMM fallback, every numeric dtype                   |
/// | `index`            | gather, scatter, take, put, row lookup by element size         |
/// | `index_add`        | accumulating scatter, put and row sums, every dtype            |
/// | `scan`             | cumsum and cumprod, every compute dtype                        |
/// | `window`           | im2col and col2im, float32 and float64                         |
/// | `random`           | Philox4x32-10 uniform and normal samples                       |
///
/// Kernel `ag_<module>_<op>` lives in module `<module>`: `ag_unary_float32_exp`,
/// `ag_cast_float16_to_float32`, `ag_memory_copy_4`. No CUDA header is included (NVRTC's
/// wheels ship none on the include path): half and bfloat16 are 16-bit structs converted by
/// PTX instructions (float16) and by hand (bfloat16, round to nearest even as on the CPU).
///
/// Elementwise kernels read every operand through a `ag_layout<N>`, passed by value: the
/// dims after coalescing (at most `maxDims`, innermost first), each operand's element offset
/// and strides, and a mode: general index arithmetic (32-bit when every offset fits), a single
/// strided dim, or 16-byte vector loads when every operand is dense (or a broadcast scalar)
/// and aligned.
enum CUDAKernelSources {
    /// Dims an elementwise layout holds after coalescing; more are split on the host.
    static let maxDims = 10
    /// Threads per block of elementwise and reduction kernels.
    static let threadsPerBlock = 256
    /// The side of the tiled matmul's square tiles.
    static let matmulTile = 16

    /// Every module's source, by module name.
    static let all: [String: String] = {
        var modules: [String: String] = [:]
        modules["memory"] = memoryModule()
        for dtype in DType.allCases {
            modules["cast_\(dtype)"] = castModule(from: dtype)
        }
        for dtype in computeDTypes {
            modules["unary_\(dtype)"] = unaryModule(dtype)
            modules["binary_\(dtype)"] = binaryModule(dtype)
            modules["reduce_\(dtype)"] = reduceModule(dtype)
        }
        modules["index_reduce"] = indexReduceModule()
        modules["matmul"] = matmulModule()
        modules["index"] = indexModule()
        modules["index_add"] = indexAddModule()
        modules["scan"] = scanModule()
        modules["window"] = windowModule()
        modules["random"] = randomModule()
        return modules
    }()

    /// The dtypes kernels compute in (the op layer widens float16 and bfloat16 to float32).
    static let computeDTypes: [DType] = [.bool, .uint8, .int8, .int16, .int32, .int64, .float32, .float64]

    /// The source of module `name`.
    /// - Precondition: `name` is one of `all`'s keys.
    static func source(module name: String) -> String {
        guard let source = all[name] else {
            preconditionFailure("CUDAKernelSources: no module named '\(name)'")
        }
        return source
    }

    /// The `extern "C"` kernel names module `name` defines (what a compiled image must export).
    static func kernelNames(module name: String) -> [String] {
        let marker = "extern \"C\" __global__ void "
        return source(module: name).components(separatedBy: marker).dropFirst().compactMap { rest in
            // `__launch_bounds__(...)` then a newline, then the name and its parameters.
            let declaration = rest.split(separator: "\n", maxSplits: 2)
            guard declaration.count > 1 else { return nil }
            return declaration[1].split(separator: "(", maxSplits: 1).first.map(String.init)
        }
    }

    // MARK: - C names of dtypes

    /// The C type that stores one element of `dtype`.
    static func cType(_ dtype: DType) -> String {
        switch dtype {
        case .bool: return "bool"
        case .uint8: return "unsigned char"
        case .int8: return "signed char"
        case .int16: return "short"
        case .int32: return "int"
        case .int64: return "long long"
        case .float16: return "ag_half"
        case .bfloat16: return "ag_bf16"
        case .float32: return "float"
        case .float64: return "double"
        }
    }

    /// The unsigned C type integer arithmetic of `dtype` wraps in (at least 32 bits, so that
    /// narrow operands never promote to a signed `int` that could overflow).
    static func wrapType(_ dtype: DType) -> String {
        dtype.byteCount == 8 ? "unsigned long long" : "unsigned int"
    }

    /// The unsigned C type of an element `size` bytes wide (copies and fills move bits).
    static func bitsType(size: Int) -> String {
        switch size {
        case 1: return "unsigned char"
        case 2: return "unsigned short"
        case 4: return "unsigned int"
        default: return "unsigned long long"
        }
    }

    // MARK: - The common prelude

    /// Definitions every module starts with: element types and conversions, layouts and
    /// offset arithmetic, the elementwise drivers, warp and block reductions.
    static let prelude = #"""
        // swift-autograd CUDA kernels (generated; see CUDAKernelSources.swift).
        #define AG_DEV __device__ __forceinline__
        #define AG_MAX_DIMS \#(maxDims)
        #define AG_THREADS \#(threadsPerBlock)
        #define AG_TILE \#(matmulTile)

        struct ag_half { unsigned short bits; };
        struct ag_bf16 { unsigned short bits; };

        // ---- Conversions (the CPU backend's rules: float -> int truncates toward zero, NaN
        // and out-of-range give INT64_MIN for int64 and INT32_MIN (then wrap) for narrower
        // integers; int -> narrower int wraps; half types round to nearest even through
        // float32). ----

        #if defined(__CUDA_ARCH__)
        AG_DEV float ag_half_to_float(ag_half h) {
            float f;
            asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h.bits));
            return f;
        }
        AG_DEV ag_half ag_float_to_half(float f) {
            ag_half h;
            asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h.bits) : "f"(f));
            return h;
        }
        #else  // compiled for the host by Scripts/cuda-emulator (tests without a GPU)
        AG_DEV float ag_half_to_float(ag_half h) { _Float16 v; __builtin_memcpy(&v, &h.bits, 2); return (float)v; }
        AG_DEV ag_half ag_float_to_half(float f) { _Float16 v = (_Float16)f; ag_half h; __builtin_memcpy(&h.bits, &v, 2); return h; }
        #endif
        AG_DEV float ag_bf16_to_float(ag_bf16 b) { return __uint_as_float(((unsigned int)b.bits) << 16); }
        AG_DEV ag_bf16 ag_float_to_bf16(float f) {
            unsigned int u = __float_as_uint(f);
            ag_bf16 r;
            if ((u & 0x7fffffffu) > 0x7f800000u) { r.bits = 0x7fc0; return r; }
            u += 0x7fffu + ((u >> 16) & 1u);
            r.bits = (unsigned short)(u >> 16);
            return r;
        }
        AG_DEV long long ag_trunc_i64(double d) {
            if (d != d || d >= 9223372036854775808.0 || d < -9223372036854775808.0)
                return (long long)0x8000000000000000ull;
            return (long long)d;
        }
        // Targets of 32 bits or fewer convert through int32, as x86's 32-bit cvttsd2si does.
        AG_DEV int ag_trunc_i32(double d) {
            if (d != d || d >= 2147483648.0 || d <= -2147483649.0) return (int)0x80000000u;
            return (int)d;
        }

        template <typename T> struct ag_t;
        template <> struct ag_t<bool> {
            static constexpr bool flt = false;
            AG_DEV static double f64(bool v) { return v ? 1.0 : 0.0; }
            AG_DEV static long long i64(bool v) { return v ? 1 : 0; }
            AG_DEV static bool from_f64(double d) { return d != 0.0; }
            AG_DEV static bool from_i64(long long i) { return i != 0; }
        };
        #define AG_INT_TRAITS(T, TRUNCATE) template <> struct ag_t<T> { \
            static constexpr bool flt = false; \
            AG_DEV static double f64(T v) { return (double)v; } \
            AG_DEV static long long i64(T v) { return (long long)v; } \
            AG_DEV static T from_f64(double d) { return (T)TRUNCATE(d); } \
            AG_DEV static T from_i64(long long i) { return (T)i; } };
        AG_INT_TRAITS(unsigned char, ag_trunc_i32)
        AG_INT_TRAITS(signed char, ag_trunc_i32)
        AG_INT_TRAITS(short, ag_trunc_i32)
        AG_INT_TRAITS(int, ag_trunc_i32)
        AG_INT_TRAITS(long long, ag_trunc_i64)
        template <> struct ag_t<float> {
            static constexpr bool flt = true;
            AG_DEV static double f64(float v) { return (double)v; }
            AG_DEV static long long i64(float v) { return ag_trunc_i64((double)v); }
            AG_DEV static float from_f64(double d) { return (float)d; }
            AG_DEV static float from_i64(long long i) { return (float)i; }
        };
        template <> struct ag_t<double> {
            static constexpr bool flt = true;
            AG_DEV static double f64(double v) { return v; }
            AG_DEV static long long i64(double v) { return ag_trunc_i64(v); }
            AG_DEV static double from_f64(double d) { return d; }
            AG_DEV static double from_i64(long long i) { return (double)i; }
        };
        template <> struct ag_t<ag_half> {
            static constexpr bool flt = true;
            AG_DEV static double f64(ag_half v) { return (double)ag_half_to_float(v); }
            AG_DEV static long long i64(ag_half v) { return ag_trunc_i64(f64(v)); }
            AG_DEV static ag_half from_f64(double d) { return ag_float_to_half((float)d); }
            AG_DEV static ag_half from_i64(long long i) { return ag_float_to_half((float)i); }
        };
        template <> struct ag_t<ag_bf16> {
            static constexpr bool flt = true;
            AG_DEV static double f64(ag_bf16 v) { return (double)ag_bf16_to_float(v); }
            AG_DEV static long long i64(ag_bf16 v) { return ag_trunc_i64(f64(v)); }
            AG_DEV static ag_bf16 from_f64(double d) { return ag_float_to_bf16((float)d); }
            AG_DEV static ag_bf16 from_i64(long long i) { return ag_float_to_bf16((float)i); }
        };
        template <typename D, typename S> AG_DEV D ag_cast(S v) {
            if constexpr (ag_t<S>::flt) return ag_t<D>::from_f64(ag_t<S>::f64(v));
            else return ag_t<D>::from_i64(ag_t<S>::i64(v));
        }

        AG_DEV long long ag_min_ll(long long a, long long b) { return a < b ? a : b; }

        // ---- Layouts: dims innermost first; operand 0 is the output. ----

        template <int N> struct ag_layout {
            long long count;      // elements
            long long rank;       // dims in use, 0...AG_MAX_DIMS
            long long mode;       // 0: index arithmetic, 1: one strided dim, 2: 16-byte vectors
            long long index32;    // 1: every offset fits in 32 bits
            long long size[AG_MAX_DIMS];
            long long offset[N];
            long long stride[N][AG_MAX_DIMS];
        };

        // General layouts are staged in shared memory once per block (`ag_stage`), so the dim
        // loop below reads sizes and strides with dynamic indices without being unrolled:
        // compact code, fast to compile.
        template <int N, typename I>
        AG_DEV void ag_offsets_as(const ag_layout<N>* L, long long linear, long long (&off)[N]) {
            I rest = (I)linear;
            I o[N];
            #pragma unroll
            for (int k = 0; k < N; ++k) o[k] = 0;
            const int rank = (int)L->rank;
            #pragma unroll 1
            for (int j = 0; j < rank; ++j) {
                const I size = (I)L->size[j];
                const I q = rest / size;
                const I r = rest - q * size;
                rest = q;
                #pragma unroll
                for (int k = 0; k < N; ++k) o[k] += r * (I)L->stride[k][j];
            }
            #pragma unroll
            for (int k = 0; k < N; ++k) off[k] = L->offset[k] + (long long)o[k];
        }

        // Element `linear`'s offset in each operand. `L` is the parameter, `S` its copy in
        // shared memory (read only for general layouts).
        template <int N>
        AG_DEV void ag_offsets(const ag_layout<N>& L, const ag_layout<N>* S, long long linear, long long (&off)[N]) {
            if (L.rank <= 1) {
                #pragma unroll
                for (int k = 0; k < N; ++k) off[k] = L.offset[k] + linear * L.stride[k][0];
            } else if (L.index32) {
                ag_offsets_as<N, unsigned int>(S, linear, off);
            } else {
                ag_offsets_as<N, long long>(S, linear, off);
            }
        }

        // Copies a general layout to shared memory; every thread of the block must call it.
        template <typename P> AG_DEV void ag_stage(const P& params, P* staged, bool needed) {
            if (needed) {
                if (threadIdx.x == 0 && threadIdx.y == 0) *staged = params;
                __syncthreads();
            }
        }

        template <typename T, int V> struct alignas(sizeof(T) * V) ag_vec { T v[V]; };

        // Loads V consecutive elements, or V copies of p[0] for a broadcast operand.
        template <typename T, int V>
        AG_DEV ag_vec<T, V> ag_load_vec(const T* p, long long i, bool dense) {
            if (dense) return reinterpret_cast<const ag_vec<T, V>*>(p)[i];
            ag_vec<T, V> r;
            const T s = p[0];
            #pragma unroll
            for (int v = 0; v < V; ++v) r.v[v] = s;
            return r;
        }

        #define AG_GRID_LOOP(i, n) \
            for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
                 i += (long long)gridDim.x * blockDim.x)

        template <typename A, typename B> struct ag_max_size {
            static constexpr int value = sizeof(A) > sizeof(B) ? (int)sizeof(A) : (int)sizeof(B);
        };

        // Each driver applies its functor at two sites only: V times in the vector loop, once in
        // the scalar loop (vector tails, one strided dim, general layouts).

        // out = f(x)
        template <typename R, typename T, typename F>
        AG_DEV void ag_map1(const ag_layout<2>& L, R* out, const T* x) {
            __shared__ ag_layout<2> S;
            ag_stage(L, &S, L.rank > 1);
            F f;
            const long long n = L.count;
            long long start = 0;
            if (L.mode == 2) {
                constexpr int V = 16 / ag_max_size<R, T>::value;
                R* o = out + L.offset[0];
                const T* a = x + L.offset[1];
                const bool da = L.stride[1][0] != 0;
                const long long nv = n / V;
                AG_GRID_LOOP(i, nv) {
                    const ag_vec<T, V> va = ag_load_vec<T, V>(a, i, da);
                    ag_vec<R, V> vo;
                    #pragma unroll
                    for (int v = 0; v < V; ++v) vo.v[v] = f(va.v[v]);
                    reinterpret_cast<ag_vec<R, V>*>(o)[i] = vo;
                }
                start = nv * V;
            }
            AG_GRID_LOOP(j, n - start) {
                long long off[2];
                ag_offsets<2>(L, &S, start + j, off);
                out[off[0]] = f(x[off[1]]);
            }
        }

        // out = f(x, y)
        template <typename R, typename T, typename F>
        AG_DEV void ag_map2(const ag_layout<3>& L, R* out, const T* x, const T* y) {
            __shared__ ag_layout<3> S;
            ag_stage(L, &S, L.rank > 1);
            F f;
            const long long n = L.count;
            long long start = 0;
            if (L.mode == 2) {
                constexpr int V = 16 / ag_max_size<R, T>::value;
                R* o = out + L.offset[0];
                const T* a = x + L.offset[1];
                const T* b = y + L.offset[2];
                const bool da = L.stride[1][0] != 0, db = L.stride[2][0] != 0;
                const long long nv = n / V;
                AG_GRID_LOOP(i, nv) {
                    const ag_vec<T, V> va = ag_load_vec<T, V>(a, i, da);
                    const ag_vec<T, V> vb = ag_load_vec<T, V>(b, i, db);
                    ag_vec<R, V> vo;
                    #pragma unroll
                    for (int v = 0; v < V; ++v) vo.v[v] = f(va.v[v], vb.v[v]);
                    reinterpret_cast<ag_vec<R, V>*>(o)[i] = vo;
                }
                start = nv * V;
            }
            AG_GRID_LOOP(j, n - start) {
                long long off[3];
                ag_offsets<3>(L, &S, start + j, off);
                out[off[0]] = f(x[off[1]], y[off[2]]);
            }
        }

        // out = c ? x : y
        template <typename T>
        AG_DEV void ag_select(const ag_layout<4>& L, T* out, const bool* c, const T* x, const T* y) {
            __shared__ ag_layout<4> S;
            ag_stage(L, &S, L.rank > 1);
            const long long n = L.count;
            long long start = 0;
            if (L.mode == 2) {
                constexpr int V = 16 / (int)sizeof(T);
                T* o = out + L.offset[0];
                const bool* pc = c + L.offset[1];
                const T* a = x + L.offset[2];
                const T* b = y + L.offset[3];
                const bool dc = L.stride[1][0] != 0, da = L.stride[2][0] != 0, db = L.stride[3][0] != 0;
                const long long nv = n / V;
                AG_GRID_LOOP(i, nv) {
                    const ag_vec<bool, V> vc = ag_load_vec<bool, V>(pc, i, dc);
                    const ag_vec<T, V> va = ag_load_vec<T, V>(a, i, da);
                    const ag_vec<T, V> vb = ag_load_vec<T, V>(b, i, db);
                    ag_vec<T, V> vo;
                    #pragma unroll
                    for (int v = 0; v < V; ++v) vo.v[v] = vc.v[v] ? va.v[v] : vb.v[v];
                    reinterpret_cast<ag_vec<T, V>*>(o)[i] = vo;
                }
                start = nv * V;
            }
            AG_GRID_LOOP(j, n - start) {
                long long off[4];
                ag_offsets<4>(L, &S, start + j, off);
                out[off[0]] = c[off[1]] ? x[off[2]] : y[off[3]];
            }
        }

        // ---- Warp and block reductions ----

        AG_DEV float ag_shfl_down(float v, int o) { return __shfl_down_sync(0xffffffffu, v, o); }
        AG_DEV double ag_shfl_down(double v, int o) { return __shfl_down_sync(0xffffffffu, v, o); }
        AG_DEV long long ag_shfl_down(long long v, int o) { return __shfl_down_sync(0xffffffffu, v, o); }
        AG_DEV int ag_shfl_down(int v, int o) { return __shfl_down_sync(0xffffffffu, v, o); }
        AG_DEV short ag_shfl_down(short v, int o) { return (short)__shfl_down_sync(0xffffffffu, (int)v, o); }
        AG_DEV signed char ag_shfl_down(signed char v, int o) {
            return (signed char)__shfl_down_sync(0xffffffffu, (int)v, o);
        }
        AG_DEV unsigned char ag_shfl_down(unsigned char v, int o) {
            return (unsigned char)__shfl_down_sync(0xffffffffu, (int)v, o);
        }
        AG_DEV bool ag_shfl_down(bool v, int o) { return __shfl_down_sync(0xffffffffu, (int)v, o) != 0; }

        template <typename C> struct ag_pair { C v; long long i; };
        template <typename C> AG_DEV ag_pair<C> ag_shfl_down(ag_pair<C> p, int o) {
            ag_pair<C> r;
            r.v = ag_shfl_down(p.v, o);
            r.i = ag_shfl_down(p.i, o);
            return r;
        }

        // Combines the values of the threads that share an output. Row mode: threads along x
        // (blockDim.x a multiple of 32, so a warp never spans two outputs); the result is in
        // threadIdx.x == 0. Column mode: threads along y (blockDim.y a power of two); the
        // result is in threadIdx.y == 0. Every thread of the block must call it.
        template <typename T, typename Op>
        AG_DEV T ag_block_reduce(T v, T* shared, bool row) {
            const int tx = threadIdx.x, ty = threadIdx.y, bx = blockDim.x, by = blockDim.y;
            if (row) {
                #pragma unroll
                for (int o = 16; o > 0; o >>= 1) v = Op::combine(v, ag_shfl_down(v, o));
                if (bx > 32) {
                    const int warps = bx / 32;
                    if ((tx & 31) == 0) shared[ty * warps + tx / 32] = v;
                    __syncthreads();
                    if (tx < 32) {
                        v = tx < warps ? shared[ty * warps + tx] : Op::identity();
                        #pragma unroll
                        for (int o = 16; o > 0; o >>= 1) v = Op::combine(v, ag_shfl_down(v, o));
                    }
                }
                return v;
            }
            shared[ty * bx + tx] = v;
            __syncthreads();
            for (int s = by / 2; s > 0; s >>= 1) {
                if (ty < s) shared[ty * bx + tx] = Op::combine(shared[ty * bx + tx], shared[(ty + s) * bx + tx]);
                __syncthreads();
            }
            return shared[tx];
        }

        """#

    // MARK: - Memory module

    /// Strided copy, fill and select by element size.
    static func memoryModule() -> String {
        var text = prelude
        text += """
            template <typename U> struct ag_identity { AG_DEV U operator()(U v) const { return v; } };

            """
        for size in [1, 2, 4, 8] {
            let u = bitsType(size: size)
            text += """
                extern "C" __global__ void __launch_bounds__(AG_THREADS)
                ag_memory_copy_\(size)(ag_layout<2> L, \(u)* out, const \(u)* x) {
                    ag_map1<\(u), \(u), ag_identity<\(u)>>(L, out, x);
                }
                extern "C" __global__ void __launch_bounds__(AG_THREADS)
                ag_memory_fill_\(size)(ag_layout<1> L, \(u)* out, unsigned long long bits) {
                    __shared__ ag_layout<1> S;
                    ag_stage(L, &S, L.rank > 1);
                    const \(u) value = (\(u))bits;
                    AG_GRID_LOOP(i, L.count) {
                        long long off[1];
                        ag_offsets<1>(L, &S, i, off);
                        out[off[0]] = value;
                    }
                }
                extern "C" __global__ void __launch_bounds__(AG_THREADS)
                ag_memory_select_\(size)(ag_layout<4> L, \(u)* out, const bool* c, const \(u)* x, const \(u)* y) {
                    ag_select<\(u)>(L, out, c, x, y);
                }

                """
        }
        return text
    }

    // MARK: - Cast modules

    /// Conversions from `source` to every other dtype.
    static func castModule(from source: DType) -> String {
        var text = prelude
        let s = cType(source)
        for destination in DType.allCases where destination != source {
            let d = cType(destination)
            text += """
                struct ag_cast_to_\(destination) { AG_DEV \(d) operator()(\(s) v) const { return ag_cast<\(d), \(s)>(v); } };
                extern "C" __global__ void __launch_bounds__(AG_THREADS)
                ag_cast_\(source)_to_\(destination)(ag_layout<2> L, \(d)* out, const \(s)* x) {
                    ag_map1<\(d), \(s), ag_cast_to_\(destination)>(L, out, x);
                }

                """
        }
        return text
    }
}
