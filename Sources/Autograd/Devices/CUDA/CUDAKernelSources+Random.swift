// Philox4x32-10 random numbers for tensors created on a CUDA device.

extension CUDAKernelSources {
    /// Module `random`: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as
    /// 1, 2, 3", SC'11) uniform and normal samples and uniform integers into a dense buffer:
    /// `ag_random_{uniform,normal}_{float32,float64}`, `ag_random_integers_int64`.
    ///
    /// Block `g` of a call (elements `4g..<4g+4` for float32, `2g..<2g+2` for float64 and
    /// int64) is Philox of the counter `(g_lo, g_hi, offset_lo, offset_hi)` under the key
    /// `(seed_lo, seed_hi)`: a call's `offset` (the generator's call counter) keeps the
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
