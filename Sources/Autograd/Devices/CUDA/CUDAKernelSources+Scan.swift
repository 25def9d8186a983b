// Cumulative sums and products (`ScanKernels`).

extension CUDAKernelSources {
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
}
