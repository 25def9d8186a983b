#ifndef CKERNELS_H
#define CKERNELS_H
/* Hot CPU kernels (filled in by the CPU speed work). */
int ckernels_placeholder(void);
#endif
