/* Element-wise kernels, portable C build (CPUs without AVX2/FMA or NEON). */
#include "ck_internal.h"

#define CK_TARGET
#include "ck_simd_scalar.h"
#include "ck_vec_impl.inc"
const ck_vec_table *ck_vec_table_scalar(void) { return &ck_vec_tab_scalar; }
#include "ck_softmax_impl.inc"
const ck_softmax_table *ck_softmax_table_scalar(void) { return &ck_softmax_tab_scalar; }
