/* Element-wise kernels, arm64 NEON build (always available on arm64). */
#include "ck_internal.h"

#if CK_NEON
#define CK_TARGET
#include "ck_simd_neon.h"
#include "ck_vec_impl.inc"
const ck_vec_table *ck_vec_table_neon(void) { return &ck_vec_tab_neon; }
#include "ck_softmax_impl.inc"
const ck_softmax_table *ck_softmax_table_neon(void) { return &ck_softmax_tab_neon; }
#endif
