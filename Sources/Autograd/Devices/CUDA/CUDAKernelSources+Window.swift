// im2col and col2im, the sliding-window kernels of convolution and pooling (`ConvKernels`).

extension CUDAKernelSources {
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
}
