/* Element-wise kernels, AVX2 + FMA build. */
#include "ck_internal.h"

#if CK_X86
#define CK_TARGET CK_TARGET_AVX2
#include "ck_simd_avx2.h"
#include "ck_vec_impl.inc"
const ck_vec_table *ck_vec_table_avx2(void) { return &ck_vec_tab_avx2; }
#include "ck_softmax_impl.inc"
const ck_softmax_table *ck_softmax_table_avx2(void) { return &ck_softmax_tab_avx2; }
#endif
