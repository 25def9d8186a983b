import CKernels

/// Runs `body` with CKernels at every ISA level (portable C, AVX2, AVX-512, NEON; each clamped
/// to what the CPU has) and each thread count in `threads`, passing a label naming both; then
/// restores the best level and the default thread count.
func forEachISAAndThreadCount(_ threads: [Int] = [1, 2, 3], _ body: (String) -> Void) {
    defer {
        _ = ckernels_set_isa(CKERNELS_ISA_AVX512)   // clamped to the best the CPU has
        _ = ckernels_set_num_threads(0)
    }
    for isa in [CKERNELS_ISA_SCALAR, CKERNELS_ISA_AVX2, CKERNELS_ISA_AVX512, CKERNELS_ISA_NEON] {
        for count in threads {
            _ = ckernels_set_isa(isa)
            _ = ckernels_set_num_threads(Int32(count))
            body("\(String(cString: ckernels_isa_name())) \(count) threads")
        }
    }
}

/// `body`'s result on CKernels' portable C build with one thread (the reference the other levels
/// and thread counts must match); restores the best level and the default thread count.
func onPortableBuildWithOneThread<R>(_ body: () -> R) -> R {
    defer {
        _ = ckernels_set_isa(CKERNELS_ISA_AVX512)
        _ = ckernels_set_num_threads(0)
    }
    _ = ckernels_set_isa(CKERNELS_ISA_SCALAR)
    _ = ckernels_set_num_threads(1)
    return body()
}
