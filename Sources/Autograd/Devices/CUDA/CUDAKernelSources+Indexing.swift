// Indexing (gather/scatter, take/put, row lookups), scans, im2col/col2im and Philox random
// numbers: the kernels that replace the host-staged defaults of `IndexingKernels`,
// `ScanKernels` and `ConvKernels`.

extension CUDAKernelSources {
    /// The index dtypes the indexing kernels accept, with their kernel-name suffixes.
    static let indexDTypes: [(dtype: DType, suffix: String)] = [(.int32, "i32"), (.int64, "i64")]

    /// The kernel-name suffix of an index dtype (`i32`, `i64`), or nil for other dtypes.
    static func indexSuffix(_ dtype: DType) -> String? {
        indexDTypes.first { $0.dtype == dtype }?.suffix
    }

    /// Definitions shared by the indexing modules: the device-side error slot and atomic
    /// accumulation for every dtype.
    static let indexPrelude = #"""
        // ---- Index errors. A kernel that meets an index out of range skips the access and
        // reports the value: err[0] goes from 0 to 1 once (compare-and-swap), and the thread
        // that set it writes the value to err[1]. The host clears the slot before the launch
        // and reads it afterwards. ----
        AG_DEV void ag_report_index(unsigned long long* err, long long value) {
            if (atomicCAS(err, 0ull, 1ull) == 0ull) err[1] = (unsigned long long)value;
        }

        // ---- Accumulation: floats add in their own precision (half types through float32),
        // integers wrap, bool is logical or (as the CPU's ElementArithmetic.add). ----
        template <typename T> AG_DEV T ag_add_values(T a, T b) {
            if constexpr (ag_t<T>::flt) {
                return ag_t<T>::from_f64((double)((float)ag_t<T>::f64(a) + (float)ag_t<T>::f64(b)));
            } else {
                return ag_t<T>::from_i64((long long)((unsigned long long)ag_t<T>::i64(a)
                                                     + (unsigned long long)ag_t<T>::i64(b)));
            }
        }
        AG_DEV void ag_atomic_add(float* p, float v) { atomicAdd(p, v); }
        AG_DEV void ag_atomic_add(double* p, double v) { atomicAdd(p, v); }  // sm_60+
        AG_DEV void ag_atomic_add(int* p, int v) { atomicAdd(p, v); }
        AG_DEV void ag_atomic_add(long long* p, long long v) {
            atomicAdd((unsigned long long*)p, (unsigned long long)v);
        }

        // The bits of 1- and 2-byte elements inside a 32-bit word.
        template <typename T> struct ag_narrow {
            AG_DEV static T from(unsigned int b) { return (T)b; }
            AG_DEV static unsigned int to(T v) { return (unsigned int)v; }
        };
        template <> struct ag_narrow<bool> {
            AG_DEV static bool from(unsigned int b) { return b != 0u; }
            AG_DEV static unsigned int to(bool v) { return v ? 1u : 0u; }
        };
        template <> struct ag_narrow<ag_half> {
            AG_DEV static ag_half from(unsigned int b) { ag_half h; h.bits = (unsigned short)b; return h; }
            AG_DEV static unsigned int to(ag_half v) { return v.bits; }
        };
        template <> struct ag_narrow<ag_bf16> {
            AG_DEV static ag_bf16 from(unsigned int b) { ag_bf16 h; h.bits = (unsigned short)b; return h; }
            AG_DEV static unsigned int to(ag_bf16 v) { return v.bits; }
        };

        // 1- and 2-byte elements: compare-and-swap on the aligned 32-bit word that holds them
        // (device allocations are at least 16-byte aligned, so the word is allocated).
        template <typename T> AG_DEV void ag_atomic_add_narrow(T* p, T v) {
            const unsigned long long address = (unsigned long long)p;
            unsigned int* word = (unsigned int*)(address & ~3ull);
            const unsigned int shift = (unsigned int)((address & 3ull) * 8ull);
            const unsigned int mask = sizeof(T) == 1 ? 0xffu : 0xffffu;
            unsigned int old = *word, assumed;
            do {
                assumed = old;
                const T sum = ag_add_values<T>(ag_narrow<T>::from((assumed >> shift) & mask), v);
                const unsigned int bits = (ag_narrow<T>::to(sum) & mask) << shift;
                old = atomicCAS(word, assumed, (assumed & ~(mask << shift)) | bits);
            } while (assumed != old);
        }

        template <typename T> AG_DEV void ag_accumulate(T* p, T v) {
            if constexpr (sizeof(T) >= 4) ag_atomic_add(p, v);
            else ag_atomic_add_narrow<T>(p, v);
        }

        // ---- gather / scatter along a dim: L walks index's shape; operand 0 is out (gather)
        // or target (scatter) with the dim's stride set to 0, operand 1 is x (gather) or src
        // (scatter, same roles swapped), operand 2 the index. ----
        template <typename U, typename I>
        AG_DEV void ag_gather(const ag_layout<3>& L, U* out, const U* x, const I* index, long long step,
                              long long size, unsigned long long* err) {
            __shared__ ag_layout<3> S;
            ag_stage(L, &S, L.rank > 1);
            AG_GRID_LOOP(i, L.count) {
                long long off[3];
                ag_offsets<3>(L, &S, i, off);
                const long long k = (long long)index[off[2]];
                if (k < 0 || k >= size) { ag_report_index(err, k); continue; }
                out[off[0]] = x[off[1] + k * step];
            }
        }

        template <typename T, typename I, bool ACCUMULATE>
        AG_DEV void ag_scatter(const ag_layout<3>& L, T* target, const T* src, const I* index, long long step,
                               long long size, unsigned long long* err) {
            __shared__ ag_layout<3> S;
            ag_stage(L, &S, L.rank > 1);
            AG_GRID_LOOP(i, L.count) {
                long long off[3];
                ag_offsets<3>(L, &S, i, off);
                const long long k = (long long)index[off[2]];
                if (k < 0 || k >= size) { ag_report_index(err, k); continue; }
                T* t = target + off[0] + k * step;
                if constexpr (ACCUMULATE) ag_accumulate<T>(t, src[off[1]]);
                else *t = src[off[1]];
            }
        }

        // ---- take / put through element offsets: L walks offsets.shape + base.shape;
        // operand 0 is out (take) or values (put), operand 1 base (0 strides over the batch
        // dims), operand 2 the offsets (0 strides over base's dims). Each element position
        // must lie in [0, limit), the storage's element count. ----
        template <typename U, typename I>
        AG_DEV void ag_take(const ag_layout<3>& L, U* out, const U* base, const I* offsets, long long limit,
                            unsigned long long* err) {
            __shared__ ag_layout<3> S;
            ag_stage(L, &S, L.rank > 1);
            AG_GRID_LOOP(i, L.count) {
                long long off[3];
                ag_offsets<3>(L, &S, i, off);
                const long long p = off[1] + (long long)offsets[off[2]];
                if (p < 0 || p >= limit) { ag_report_index(err, p); continue; }
                out[off[0]] = base[p];
            }
        }

        template <typename T, typename I, bool ACCUMULATE>
        AG_DEV void ag_put(const ag_layout<3>& L, const T* values, T* base, const I* offsets, long long limit,
                           unsigned long long* err) {
            __shared__ ag_layout<3> S;
            ag_stage(L, &S, L.rank > 1);
            AG_GRID_LOOP(i, L.count) {
                long long off[3];
                ag_offsets<3>(L, &S, i, off);
                const long long p = off[1] + (long long)offsets[off[2]];
                if (p < 0 || p >= limit) { ag_report_index(err, p); continue; }
                if constexpr (ACCUMULATE) ag_accumulate<T>(base + p, values[off[0]]);
                else base[p] = values[off[0]];
            }
        }

        // ---- Rows of a dense [rows, width] matrix (embedding): out[m, :] = source[idx[m], :]
        // or out[idx[m], :] += source[m, :]; pointers already at the tensors' offsets. ----
        template <typename U, typename I>
        AG_DEV void ag_gather_rows(U* out, const U* source, const I* indices, long long rows, long long width,
                                   long long count, unsigned long long* err) {
            AG_GRID_LOOP(i, count) {
                const long long m = i / width, k = i - m * width;
                const long long r = (long long)indices[m];
                if (r < 0 || r >= rows) { if (k == 0) ag_report_index(err, r); continue; }
                out[i] = source[r * width + k];
            }
        }

        template <typename T, typename I>
        AG_DEV void ag_scatter_add_rows(T* out, const T* source, const I* indices, long long rows, long long width,
                                        long long count, unsigned long long* err) {
            AG_GRID_LOOP(i, count) {
                const long long m = i / width, k = i - m * width;
                const long long r = (long long)indices[m];
                if (r < 0 || r >= rows) { if (k == 0) ag_report_index(err, r); continue; }
                ag_accumulate<T>(out + r * width + k, source[i]);
            }
        }

        """#

    /// Module `index`: element moves by element size (1, 2, 4, 8 bytes) and index dtype:
    /// `ag_index_{gather,scatter,take,put,gather_rows}_<size>_<i32|i64>`.
    static func indexModule() -> String {
        var text = prelude + indexPrelude
        for size in [1, 2, 4, 8] {
            let u = bitsType(size: size)
            for (index, suffix) in indexDTypes {
                let i = cType(index)
                text += """
                    extern "C" __global__ void __launch_bounds__(AG_THREADS)
                    ag_index_gather_\(size)_\(suffix)(ag_layout<3> L, \(u)* out, const \(u)* x, const \(i)* index, long long step, long long size, unsigned long long* err) {
                        ag_gather<\(u), \(i)>(L, out, x, index, step, size, err);
                    }
                    extern "C" __global__ void __launch_bounds__(AG_THREADS)
                    ag_index_scatter_\(size)_\(suffix)(ag_layout<3> L, \(u)* target, const \(u)* src, const \(i)* index, long long step, long long size, unsigned long long* err) {
                        ag_scatter<\(u), \(i), false>(L, target, src, index, step, size, err);
                    }
                    extern "C" __global__ void __launch_bounds__(AG_THREADS)
                    ag_index_take_\(size)_\(suffix)(ag_layout<3> L, \(u)* out, const \(u)* base, const \(i)* offsets, long long limit, unsigned long long* err) {
                        ag_take<\(u), \(i)>(L, out, base, offsets, limit, err);
                    }
                    extern "C" __global__ void __launch_bounds__(AG_THREADS)
                    ag_index_put_\(size)_\(suffix)(ag_layout<3> L, const \(u)* values, \(u)* base, const \(i)* offsets, long long limit, unsigned long long* err) {
                        ag_put<\(u), \(i), false>(L, values, base, offsets, limit, err);
                    }
                    extern "C" __global__ void __launch_bounds__(AG_THREADS)
                    ag_index_gather_rows_\(size)_\(suffix)(\(u)* out, const \(u)* source, const \(i)* indices, long long rows, long long width, long long count, unsigned long long* err) {
                        ag_gather_rows<\(u), \(i)>(out, source, indices, rows, width, count, err);
                    }

                    """
            }
        }
        return text
    }

    /// Module `index_add`: accumulating scatter and put for every dtype, and row
    /// accumulation for float32 and float64:
    /// `ag_index_add_{scatter,put}_<dtype>_<i32|i64>`, `ag_index_add_rows_<dtype>_<i32|i64>`.
    static func indexAddModule() -> String {
        var text = prelude + indexPrelude
        for dtype in DType.allCases {
            let t = cType(dtype)
            for (index, suffix) in indexDTypes {
                let i = cType(index)
                text += """
                    extern "C" __global__ void __launch_bounds__(AG_THREADS)
                    ag_index_add_scatter_\(dtype)_\(suffix)(ag_layout<3> L, \(t)* target, const \(t)* src, const \(i)* index, long long step, long long size, unsigned long long* err) {
                        ag_scatter<\(t), \(i), true>(L, target, src, index, step, size, err);
                    }
                    extern "C" __global__ void __launch_bounds__(AG_THREADS)
                    ag_index_add_put_\(dtype)_\(suffix)(ag_layout<3> L, const \(t)* values, \(t)* base, const \(i)* offsets, long long limit, unsigned long long* err) {
                        ag_put<\(t), \(i), true>(L, values, base, offsets, limit, err);
                    }

                    """
                if dtype == .float32 || dtype == .float64 {
                    text += """
                        extern "C" __global__ void __launch_bounds__(AG_THREADS)
                        ag_index_add_rows_\(dtype)_\(suffix)(\(t)* out, const \(t)* source, const \(i)* indices, long long rows, long long width, long long count, unsigned long long* err) {
                            ag_scatter_add_rows<\(t), \(i)>(out, source, indices, rows, width, count, err);
                        }

                        """
                }
            }
        }
        return text
    }

    // MARK: - Scans

    /// Module `scan`: running sums and products along one dim in the CPU's accumulate types
    /// (double for floats, wrapping int64 for integers and bool), for every compute dtype
    /// (integers write int64): `ag_scan_<dtype>_{sum,prod}` runs one thread per line in the
    /// CPU's order, `ag_scan_block_<dtype>_{sum,prod}` one block per line (long lines).
    static func scanModule() -> String {
        var text = prelude + #"""
            // L walks the lines (every dim but the scanned one); operand 0 is out, operand 1 x.
            // Along the line: n elements, strides xs (x) and os (out).
            template <typename T, typename R, bool PROD>
            AG_DEV void ag_scan(const ag_layout<2>& L, R* out, const T* x, long long n, long long xs, long long os) {
                __shared__ ag_layout<2> S;
                ag_stage(L, &S, L.rank > 1);
                AG_GRID_LOOP(line, L.count) {
                    long long off[2];
                    ag_offsets<2>(L, &S, line, off);
                    const T* px = x + off[1];
                    R* po = out + off[0];
                    if constexpr (ag_t<T>::flt) {
                        double acc = PROD ? 1.0 : 0.0;
                        for (long long k = 0; k < n; ++k) {
                            const double v = ag_t<T>::f64(px[k * xs]);
                            acc = PROD ? acc * v : acc + v;
                            po[k * os] = (R)acc;
                        }
                    } else {
                        unsigned long long acc = PROD ? 1ull : 0ull;
                        for (long long k = 0; k < n; ++k) {
                            const unsigned long long v = (unsigned long long)ag_t<T>::i64(px[k * xs]);
                            acc = PROD ? acc * v : acc + v;
                            po[k * os] = (R)(long long)acc;
                        }
                    }
                }
            }

            // A block per line (few or contiguous long lines); blockDim.x == AG_THREADS. The
            // line goes in tiles of AG_THREADS * AG_SCAN_RUN elements: each thread folds a run
            // of AG_SCAN_RUN neighbours, a shared-memory (Hillis-Steele) scan combines the
            // runs' totals, and a carry links the tiles. Same accumulate types as ag_scan; for
            // floats the order differs from the CPU's (runs, then a tree).
            #define AG_SCAN_RUN 8
            template <typename T, typename R, typename A, bool PROD>
            AG_DEV void ag_scan_block(const ag_layout<2>& L, R* out, const T* x, long long n, long long xs, long long os) {
                __shared__ ag_layout<2> S;
                __shared__ A partial[AG_THREADS];
                ag_stage(L, &S, L.rank > 1);
                const int t = threadIdx.x;
                const A identity = PROD ? (A)1 : (A)0;
                for (long long line = blockIdx.x; line < L.count; line += gridDim.x) {
                    long long off[2];
                    ag_offsets<2>(L, &S, line, off);
                    const T* px = x + off[1];
                    R* po = out + off[0];
                    A carry = identity;
                    for (long long base = 0; base < n; base += (long long)AG_THREADS * AG_SCAN_RUN) {
                        const long long start = base + (long long)t * AG_SCAN_RUN;
                        A run[AG_SCAN_RUN];
                        A acc = identity;
                        #pragma unroll
                        for (int k = 0; k < AG_SCAN_RUN; ++k) {
                            A v = identity;
                            if (start + k < n) {
                                if constexpr (ag_t<T>::flt) v = (A)ag_t<T>::f64(px[(start + k) * xs]);
                                else v = (A)(unsigned long long)ag_t<T>::i64(px[(start + k) * xs]);
                            }
                            acc = PROD ? acc * v : acc + v;
                            run[k] = acc;
                        }
                        partial[t] = acc;
                        __syncthreads();
                        for (int d = 1; d < AG_THREADS; d <<= 1) {
                            const A other = t >= d ? partial[t - d] : identity;
                            __syncthreads();
                            partial[t] = PROD ? partial[t] * other : partial[t] + other;
                            __syncthreads();
                        }
                        const A before = t > 0 ? (PROD ? carry * partial[t - 1] : carry + partial[t - 1]) : carry;
                        #pragma unroll
                        for (int k = 0; k < AG_SCAN_RUN; ++k) {
                            if (start + k < n) {
                                const A value = PROD ? before * run[k] : before + run[k];
                                if constexpr (ag_t<T>::flt) po[(start + k) * os] = (R)value;
                                else po[(start + k) * os] = (R)(long long)value;
                            }
                        }
                        carry = PROD ? carry * partial[AG_THREADS - 1] : carry + partial[AG_THREADS - 1];
                        __syncthreads();  // every thread has read `partial` before the next tile writes it
                    }
                }
            }

            """#
        for dtype in computeDTypes {
            let t = cType(dtype)
            let r = dtype.isFloatingPoint ? t : "long long"
            let a = dtype.isFloatingPoint ? "double" : "unsigned long long"
            for (op, prod) in [("sum", false), ("prod", true)] {
                text += """
                    extern "C" __global__ void __launch_bounds__(AG_THREADS)
                    ag_scan_\(dtype)_\(op)(ag_layout<2> L, \(r)* out, const \(t)* x, long long n, long long xs, long long os) {
                        ag_scan<\(t), \(r), \(prod)>(L, out, x, n, xs, os);
                    }
                    extern "C" __global__ void __launch_bounds__(AG_THREADS)
                    ag_scan_block_\(dtype)_\(op)(ag_layout<2> L, \(r)* out, const \(t)* x, long long n, long long xs, long long os) {
                        ag_scan_block<\(t), \(r), \(a), \(prod)>(L, out, x, n, xs, os);
                    }

                    """
            }
        }
        return text
    }

    // MARK: - Sliding windows

    /// Module `window`: im2col and col2im for float32 and float64 (`ag_window_im2col_<dtype>`,
    /// `ag_window_col2im_<dtype>`). col2im gathers, for each image element, the column entries
    /// read from it, in the CPU's order (kernel row, then column): deterministic, no atomics,
    /// and equal to the CPU's sums.
    static func windowModule() -> String {
        var text = prelude + #"""
            // The geometry (WindowGeometry) and the operands' layouts: x strides [N, C, H, W]
            // and offset, columns strides [N, rows] (the last stride is 1) and offset.
            struct ag_window {
                long long batch, channels, height, width, kh, kw, sh, sw, ph, pw, dh, dw, outh, outw;
                long long xs[4];
                long long xoff;
                long long cs[2];
                long long coff;
            };

            template <typename T>
            AG_DEV void ag_im2col(const ag_window& G, T* cols, const T* x, double padValue) {
                const T pad = (T)padValue;
                const long long total = G.batch * G.channels * G.kh * G.kw * G.outh * G.outw;
                AG_GRID_LOOP(e, total) {
                    long long t = e;
                    const long long ox = t % G.outw; t /= G.outw;
                    const long long oy = t % G.outh; t /= G.outh;
                    const long long j = t % G.kw; t /= G.kw;
                    const long long i = t % G.kh; t /= G.kh;
                    const long long c = t % G.channels;
                    const long long n = t / G.channels;
                    const long long y = oy * G.sh - G.ph + i * G.dh;
                    const long long xx = ox * G.sw - G.pw + j * G.dw;
                    T v = pad;
                    if (y >= 0 && y < G.height && xx >= 0 && xx < G.width)
                        v = x[G.xoff + n * G.xs[0] + c * G.xs[1] + y * G.xs[2] + xx * G.xs[3]];
                    const long long row = (c * G.kh + i) * G.kw + j;
                    cols[G.coff + n * G.cs[0] + row * G.cs[1] + oy * G.outw + ox] = v;
                }
            }

            // image (contiguous, offset already applied) += the column entries read from it.
            template <typename T>
            AG_DEV void ag_col2im(const ag_window& G, T* image, const T* cols) {
                const long long total = G.batch * G.channels * G.height * G.width;
                AG_GRID_LOOP(e, total) {
                    long long t = e;
                    const long long xx = t % G.width; t /= G.width;
                    const long long y = t % G.height; t /= G.height;
                    const long long c = t % G.channels;
                    const long long n = t / G.channels;
                    T acc = image[e];
                    for (long long i = 0; i < G.kh; ++i) {
                        const long long ty = y + G.ph - i * G.dh;
                        if (ty < 0 || ty % G.sh != 0) continue;
                        const long long oy = ty / G.sh;
                        if (oy >= G.outh) continue;
                        for (long long j = 0; j < G.kw; ++j) {
                            const long long tx = xx + G.pw - j * G.dw;
                            if (tx < 0 || tx % G.sw != 0) continue;
                            const long long ox = tx / G.sw;
                            if (ox >= G.outw) continue;
                            const long long row = (c * G.kh + i) * G.kw + j;
                            acc += cols[G.coff + n * G.cs[0] + row * G.cs[1] + oy * G.outw + ox];
                        }
                    }
                    image[e] = acc;
                }
            }

            """#
        for dtype in [DType.float32, .float64] {
            let t = cType(dtype)
            text += """
                extern "C" __global__ void __launch_bounds__(AG_THREADS)
                ag_window_im2col_\(dtype)(ag_window G, \(t)* cols, const \(t)* x, double pad) {
                    ag_im2col<\(t)>(G, cols, x, pad);
                }
                extern "C" __global__ void __launch_bounds__(AG_THREADS)
                ag_window_col2im_\(dtype)(ag_window G, \(t)* image, const \(t)* cols) {
                    ag_col2im<\(t)>(G, image, cols);
                }

                """
        }
        return text
    }

    // MARK: - Random numbers

    /// Module `random`: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as
    /// 1, 2, 3", SC'11) uniform and normal samples and uniform integers into a dense buffer:
    /// `ag_random_{uniform,normal}_{float32,float64}`, `ag_random_integers_int64`.
    ///
    /// Block `g` of a call (elements `4g..<4g+4` for float32, `2g..<2g+2` for float64) is
    /// Philox of the counter `(g_lo, g_hi, offset_lo, offset_hi)` under the key
    /// `(seed_lo, seed_hi)` (int64: elements `2g..<2g+2`): a call's `offset` (the generator's call counter) keeps the
    /// streams of successive calls apart, so results depend only on seed, offset and element
    /// index, not on the launch shape. Uniform: 24 (float32) or 53 (float64) bits into
    /// [0, 1); normal: Box–Muller on pairs of uniforms, the first mapped to (0, 1].
    static func randomModule() -> String {
        prelude + #"""
            struct ag_philox_block { unsigned int v[4]; };

            AG_DEV ag_philox_block ag_philox(unsigned long long counter, unsigned long long offset,
                                             unsigned long long seed) {
                unsigned int c0 = (unsigned int)counter, c1 = (unsigned int)(counter >> 32);
                unsigned int c2 = (unsigned int)offset, c3 = (unsigned int)(offset >> 32);
                unsigned int k0 = (unsigned int)seed, k1 = (unsigned int)(seed >> 32);
                #pragma unroll
                for (int round = 0; round < 10; ++round) {
                    if (round > 0) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
                    const unsigned long long p0 = 0xD2511F53ull * (unsigned long long)c0;
                    const unsigned long long p1 = 0xCD9E8D57ull * (unsigned long long)c2;
                    const unsigned int hi0 = (unsigned int)(p0 >> 32), lo0 = (unsigned int)p0;
                    const unsigned int hi1 = (unsigned int)(p1 >> 32), lo1 = (unsigned int)p1;
                    c0 = hi1 ^ c1 ^ k0;
                    c1 = lo1;
                    c2 = hi0 ^ c3 ^ k1;
                    c3 = lo0;
                }
                ag_philox_block r;
                r.v[0] = c0; r.v[1] = c1; r.v[2] = c2; r.v[3] = c3;
                return r;
            }

            AG_DEV float ag_uniform_f32(unsigned int u) { return (float)(u >> 8) * 5.9604644775390625e-8f; }
            AG_DEV double ag_uniform_f64(unsigned int hi, unsigned int lo) {
                return (double)((((unsigned long long)hi << 32) | lo) >> 11) * 1.1102230246251565e-16;
            }

            extern "C" __global__ void __launch_bounds__(AG_THREADS)
            ag_random_uniform_float32(float* out, long long n, unsigned long long seed, unsigned long long offset) {
                AG_GRID_LOOP(g, (n + 3) / 4) {
                    const ag_philox_block b = ag_philox((unsigned long long)g, offset, seed);
                    #pragma unroll
                    for (int k = 0; k < 4; ++k) if (4 * g + k < n) out[4 * g + k] = ag_uniform_f32(b.v[k]);
                }
            }
            extern "C" __global__ void __launch_bounds__(AG_THREADS)
            ag_random_uniform_float64(double* out, long long n, unsigned long long seed, unsigned long long offset) {
                AG_GRID_LOOP(g, (n + 1) / 2) {
                    const ag_philox_block b = ag_philox((unsigned long long)g, offset, seed);
                    out[2 * g] = ag_uniform_f64(b.v[0], b.v[1]);
                    if (2 * g + 1 < n) out[2 * g + 1] = ag_uniform_f64(b.v[2], b.v[3]);
                }
            }
            extern "C" __global__ void __launch_bounds__(AG_THREADS)
            ag_random_normal_float32(float* out, long long n, unsigned long long seed, unsigned long long offset) {
                AG_GRID_LOOP(g, (n + 3) / 4) {
                    const ag_philox_block b = ag_philox((unsigned long long)g, offset, seed);
                    #pragma unroll
                    for (int k = 0; k < 4; k += 2) {
                        const float u1 = 1.0f - ag_uniform_f32(b.v[k]);
                        const float u2 = ag_uniform_f32(b.v[k + 1]);
                        const float r = sqrtf(-2.0f * logf(u1));
                        const float a = 6.2831853071795865f * u2;
                        if (4 * g + k < n) out[4 * g + k] = r * cosf(a);
                        if (4 * g + k + 1 < n) out[4 * g + k + 1] = r * sinf(a);
                    }
                }
            }
            // Integers in [low, low + range) by the multiply-high method, 64 random bits each
            // (the CPU's Generator.integers method, on Philox bits).
            extern "C" __global__ void __launch_bounds__(AG_THREADS)
            ag_random_integers_int64(long long* out, long long n, unsigned long long seed, unsigned long long offset, long long low, unsigned long long range) {
                AG_GRID_LOOP(g, (n + 1) / 2) {
                    const ag_philox_block b = ag_philox((unsigned long long)g, offset, seed);
                    const unsigned long long r0 = ((unsigned long long)b.v[0] << 32) | b.v[1];
                    const unsigned long long r1 = ((unsigned long long)b.v[2] << 32) | b.v[3];
                    out[2 * g] = (long long)((unsigned long long)low + __umul64hi(r0, range));
                    if (2 * g + 1 < n) out[2 * g + 1] = (long long)((unsigned long long)low + __umul64hi(r1, range));
                }
            }
            extern "C" __global__ void __launch_bounds__(AG_THREADS)
            ag_random_normal_float64(double* out, long long n, unsigned long long seed, unsigned long long offset) {
                AG_GRID_LOOP(g, (n + 1) / 2) {
                    const ag_philox_block b = ag_philox((unsigned long long)g, offset, seed);
                    const double u1 = 1.0 - ag_uniform_f64(b.v[0], b.v[1]);
                    const double u2 = ag_uniform_f64(b.v[2], b.v[3]);
                    const double r = sqrt(-2.0 * log(u1));
                    const double a = 6.283185307179586 * u2;
                    out[2 * g] = r * cos(a);
                    if (2 * g + 1 < n) out[2 * g + 1] = r * sin(a);
                }
            }

            """#
    }
}
