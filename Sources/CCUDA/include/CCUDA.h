#ifndef CCUDA_H
#define CCUDA_H
/* Run-time binding to the CUDA runtime (filled in by the CUDA backend work). */
int ccuda_placeholder(void);
#endif
