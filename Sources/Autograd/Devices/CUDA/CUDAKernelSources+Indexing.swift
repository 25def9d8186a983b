// Indexing (gather/scatter, take/put, row lookups): the kernels that replace the host-staged
// defaults of `IndexingKernels` and the row lookups of `ConvKernels`.

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
}
