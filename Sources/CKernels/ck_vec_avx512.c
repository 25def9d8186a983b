/* Element-wise kernels, AVX-512 build. */
#include "ck_internal.h"

#if CK_X86
#define CK_TARGET CK_TARGET_AVX512
#include "ck_simd_avx512.h"
#include "ck_vec_impl.inc"
const ck_vec_table *ck_vec_table_avx512(void) { return &ck_vec_tab_avx512; }
#include "ck_softmax_impl.inc"
const ck_softmax_table *ck_softmax_table_avx512(void) { return &ck_softmax_tab_avx512; }
#endif
