#include "CKernels.h"
int ckernels_placeholder(void) { return 0; }
