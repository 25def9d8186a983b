/*
 * CCUDA: run-time binding to the CUDA runtime (libcudart), NVRTC (libnvrtc) and cuBLAS
 * (libcublas), in the style of cuew.
 *
 * No CUDA header is included: this file declares its own opaque handle types, the few
 * constants the Swift backend uses, and the signatures of the CUDA entry points it calls
 * (as the `ccuda_pfn_*` function pointer types). The libraries are opened with `dlopen` on
 * first use, so the package builds without a CUDA toolkit and the same binary runs with or
 * without a GPU.
 *
 * Every `ccuda_*` function returns an `int` status and writes its results through
 * out-pointers:
 *   - 0 is success;
 *   - a positive value is the status of the wrapped library, unchanged (a `cudaError_t`,
 *     an `nvrtcResult` or a `cublasStatus_t`, depending on the function's prefix);
 *   - a negative value is one of the shim's own `CCUDA_ERROR_*` codes below.
 *
 * Loading is thread-safe (one `pthread_once` per library). Where a library cannot be found,
 * `ccuda_library_searched` says where it was looked for and why candidates failed.
 *
 * Search order for each library (the first that loads wins):
 *   1. `AUTOGRAD_CUDART_PATH` / `AUTOGRAD_NVRTC_PATH` / `AUTOGRAD_CUBLAS_PATH`: a full path;
 *   2. each folder in `AUTOGRAD_CUDA_LIB_DIR` (a colon-separated list);
 *   3. the sonames `libX.so.13`, `libX.so.12`, `libX.so` (the dynamic loader's own search);
 *   4. `$CUDA_HOME/lib64`, `$CUDA_PATH/lib64`, `/usr/local/cuda/lib64`;
 *   5. NVIDIA's PyPI wheels: for each folder in `$PYTHONPATH`, in
 *      `AUTOGRAD_PYTHON_SITE_PACKAGES` (colon-separated) and `$VIRTUAL_ENV/lib/python3*
 *      /site-packages`, the subfolders `nvidia/cu13/lib` and `nvidia/<package>/lib`
 *      (`cuda_runtime`, `cuda_nvrtc`, `cublas`).
 * In each folder the names `libX.so.13`, `libX.so.12` and `libX.so` are tried in order.
 */
#ifndef CCUDA_H
#define CCUDA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* MARK: - Shim status codes (negative; library statuses pass through as positive values) */

/** The library could not be opened from any candidate (see `ccuda_library_searched`). */
#define CCUDA_ERROR_LIBRARY_NOT_FOUND (-1)
/** The library was opened but does not export the entry point this call needs. */
#define CCUDA_ERROR_SYMBOL_NOT_FOUND (-2)
/** A null out-pointer or an unknown library id was passed to the shim. */
#define CCUDA_ERROR_INVALID_VALUE (-3)

/* MARK: - Library ids */

#define CCUDA_LIBRARY_CUDART 0
#define CCUDA_LIBRARY_NVRTC 1
#define CCUDA_LIBRARY_CUBLAS 2

/* MARK: - CUDA constants the backend uses (values from CUDA's headers, same in 12 and 13) */

/* cudaError_t */
#define CCUDA_CUDA_SUCCESS 0
#define CCUDA_CUDA_ERROR_MEMORY_ALLOCATION 2
#define CCUDA_CUDA_ERROR_STUB_LIBRARY 34
#define CCUDA_CUDA_ERROR_INSUFFICIENT_DRIVER 35
#define CCUDA_CUDA_ERROR_NO_DEVICE 100

/* cudaMemcpyKind */
#define CCUDA_MEMCPY_HOST_TO_HOST 0
#define CCUDA_MEMCPY_HOST_TO_DEVICE 1
#define CCUDA_MEMCPY_DEVICE_TO_HOST 2
#define CCUDA_MEMCPY_DEVICE_TO_DEVICE 3
#define CCUDA_MEMCPY_DEFAULT 4

/* cudaDeviceAttr */
#define CCUDA_DEV_ATTR_MAX_THREADS_PER_BLOCK 1
#define CCUDA_DEV_ATTR_MAX_SHARED_MEMORY_PER_BLOCK 8
#define CCUDA_DEV_ATTR_WARP_SIZE 10
#define CCUDA_DEV_ATTR_MULTIPROCESSOR_COUNT 16
#define CCUDA_DEV_ATTR_L2_CACHE_SIZE 38
#define CCUDA_DEV_ATTR_MAX_THREADS_PER_MULTIPROCESSOR 39
#define CCUDA_DEV_ATTR_COMPUTE_CAPABILITY_MAJOR 75
#define CCUDA_DEV_ATTR_COMPUTE_CAPABILITY_MINOR 76
#define CCUDA_DEV_ATTR_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN 97

/* Stream and event flags */
#define CCUDA_STREAM_NON_BLOCKING 1
#define CCUDA_EVENT_DISABLE_TIMING 2

/* nvrtcResult */
#define CCUDA_NVRTC_SUCCESS 0
#define CCUDA_NVRTC_ERROR_INVALID_OPTION 5
#define CCUDA_NVRTC_ERROR_COMPILATION 6

/* cublasStatus_t, cublasOperation_t, cudaDataType, cublasComputeType_t, cublasGemmAlgo_t */
#define CCUDA_CUBLAS_STATUS_SUCCESS 0
#define CCUDA_CUBLAS_OP_N 0
#define CCUDA_CUBLAS_OP_T 1
#define CCUDA_R_32F 0
#define CCUDA_R_64F 1
#define CCUDA_R_16F 2
#define CCUDA_R_16BF 14
#define CCUDA_CUBLAS_COMPUTE_32F 68
#define CCUDA_CUBLAS_COMPUTE_64F 70
#define CCUDA_CUBLAS_COMPUTE_32F_FAST_TF32 77
#define CCUDA_CUBLAS_GEMM_DEFAULT (-1)

/* MARK: - Opaque handles (pointer-sized, as in CUDA) */

typedef struct ccuda_stream_st *ccuda_stream_t;           /* cudaStream_t (NULL: default stream) */
typedef struct ccuda_event_st *ccuda_event_t;             /* cudaEvent_t */
typedef struct ccuda_library_st *ccuda_library_t;         /* cudaLibrary_t */
typedef struct ccuda_kernel_st *ccuda_kernel_t;           /* cudaKernel_t */
typedef struct ccuda_nvrtc_program_st *ccuda_nvrtc_program_t; /* nvrtcProgram */
typedef struct ccuda_cublas_handle_st *ccuda_cublas_handle_t; /* cublasHandle_t */

/** CUDA's `dim3`, passed by value to `cudaLaunchKernel`. */
typedef struct ccuda_dim3 {
    unsigned int x;
    unsigned int y;
    unsigned int z;
} ccuda_dim3;

/* MARK: - CUDA entry points, as the libraries export them (enums are int-sized) */

/* libcudart */
typedef int (*ccuda_pfn_cudaRuntimeGetVersion)(int *version);
typedef int (*ccuda_pfn_cudaDriverGetVersion)(int *version);
typedef int (*ccuda_pfn_cudaGetDeviceCount)(int *count);
typedef int (*ccuda_pfn_cudaGetDevice)(int *device);
typedef int (*ccuda_pfn_cudaSetDevice)(int device);
typedef int (*ccuda_pfn_cudaDeviceGetAttribute)(int *value, int attribute, int device);
typedef int (*ccuda_pfn_cudaGetDeviceProperties)(void *properties, int device);
typedef int (*ccuda_pfn_cudaGetDriverEntryPoint)(const char *symbol, void **function,
                                                 unsigned long long flags, int *driver_status);
typedef int (*ccuda_pfn_cudaGetDriverEntryPointByVersion)(const char *symbol, void **function,
                                                          unsigned int cuda_version,
                                                          unsigned long long flags,
                                                          int *driver_status);
typedef int (*ccuda_pfn_cudaMemGetInfo)(size_t *free_bytes, size_t *total_bytes);
typedef int (*ccuda_pfn_cudaMalloc)(void **pointer, size_t size);
typedef int (*ccuda_pfn_cudaFree)(void *pointer);
typedef int (*ccuda_pfn_cudaMallocHost)(void **pointer, size_t size);
typedef int (*ccuda_pfn_cudaFreeHost)(void *pointer);
typedef int (*ccuda_pfn_cudaMemcpy)(void *destination, const void *source, size_t count, int kind);
typedef int (*ccuda_pfn_cudaMemcpyAsync)(void *destination, const void *source, size_t count,
                                         int kind, ccuda_stream_t stream);
typedef int (*ccuda_pfn_cudaMemset)(void *pointer, int value, size_t count);
typedef int (*ccuda_pfn_cudaMemsetAsync)(void *pointer, int value, size_t count,
                                         ccuda_stream_t stream);
typedef int (*ccuda_pfn_cudaDeviceSynchronize)(void);
typedef int (*ccuda_pfn_cudaStreamCreateWithFlags)(ccuda_stream_t *stream, unsigned int flags);
typedef int (*ccuda_pfn_cudaStreamDestroy)(ccuda_stream_t stream);
typedef int (*ccuda_pfn_cudaStreamSynchronize)(ccuda_stream_t stream);
typedef int (*ccuda_pfn_cudaEventCreateWithFlags)(ccuda_event_t *event, unsigned int flags);
typedef int (*ccuda_pfn_cudaEventDestroy)(ccuda_event_t event);
typedef int (*ccuda_pfn_cudaEventRecord)(ccuda_event_t event, ccuda_stream_t stream);
typedef int (*ccuda_pfn_cudaEventSynchronize)(ccuda_event_t event);
typedef int (*ccuda_pfn_cudaGetLastError)(void);
typedef const char *(*ccuda_pfn_cudaGetErrorName)(int error);
typedef const char *(*ccuda_pfn_cudaGetErrorString)(int error);
typedef int (*ccuda_pfn_cudaLibraryLoadData)(ccuda_library_t *library, const void *code,
                                             int *jit_options, void **jit_option_values,
                                             unsigned int jit_option_count, int *library_options,
                                             void **library_option_values,
                                             unsigned int library_option_count);
typedef int (*ccuda_pfn_cudaLibraryUnload)(ccuda_library_t library);
typedef int (*ccuda_pfn_cudaLibraryGetKernel)(ccuda_kernel_t *kernel, ccuda_library_t library,
                                              const char *name);
typedef int (*ccuda_pfn_cudaLaunchKernel)(const void *function, ccuda_dim3 grid, ccuda_dim3 block,
                                          void **arguments, size_t shared_memory,
                                          ccuda_stream_t stream);
/* driver API, reached through cudaGetDriverEntryPoint (never linked or dlopened directly) */
typedef int (*ccuda_pfn_cuDeviceTotalMem)(size_t *bytes, int device);

/* libnvrtc */
typedef int (*ccuda_pfn_nvrtcVersion)(int *major, int *minor);
typedef int (*ccuda_pfn_nvrtcGetNumSupportedArchs)(int *count);
typedef int (*ccuda_pfn_nvrtcGetSupportedArchs)(int *architectures);
typedef int (*ccuda_pfn_nvrtcCreateProgram)(ccuda_nvrtc_program_t *program, const char *source,
                                            const char *name, int header_count,
                                            const char *const *headers,
                                            const char *const *include_names);
typedef int (*ccuda_pfn_nvrtcCompileProgram)(ccuda_nvrtc_program_t program, int option_count,
                                             const char *const *options);
typedef int (*ccuda_pfn_nvrtcGetPTXSize)(ccuda_nvrtc_program_t program, size_t *size);
typedef int (*ccuda_pfn_nvrtcGetPTX)(ccuda_nvrtc_program_t program, char *ptx);
typedef int (*ccuda_pfn_nvrtcGetCUBINSize)(ccuda_nvrtc_program_t program, size_t *size);
typedef int (*ccuda_pfn_nvrtcGetCUBIN)(ccuda_nvrtc_program_t program, char *cubin);
typedef int (*ccuda_pfn_nvrtcGetProgramLogSize)(ccuda_nvrtc_program_t program, size_t *size);
typedef int (*ccuda_pfn_nvrtcGetProgramLog)(ccuda_nvrtc_program_t program, char *log);
typedef int (*ccuda_pfn_nvrtcDestroyProgram)(ccuda_nvrtc_program_t *program);
typedef const char *(*ccuda_pfn_nvrtcGetErrorString)(int result);

/* libcublas */
typedef int (*ccuda_pfn_cublasCreate_v2)(ccuda_cublas_handle_t *handle);
typedef int (*ccuda_pfn_cublasDestroy_v2)(ccuda_cublas_handle_t handle);
typedef int (*ccuda_pfn_cublasSetStream_v2)(ccuda_cublas_handle_t handle, ccuda_stream_t stream);
typedef const char *(*ccuda_pfn_cublasGetStatusName)(int status);
typedef int (*ccuda_pfn_cublasSgemm_v2)(ccuda_cublas_handle_t handle, int trans_a, int trans_b,
                                        int m, int n, int k, const float *alpha, const float *a,
                                        int lda, const float *b, int ldb, const float *beta,
                                        float *c, int ldc);
typedef int (*ccuda_pfn_cublasDgemm_v2)(ccuda_cublas_handle_t handle, int trans_a, int trans_b,
                                        int m, int n, int k, const double *alpha, const double *a,
                                        int lda, const double *b, int ldb, const double *beta,
                                        double *c, int ldc);
typedef int (*ccuda_pfn_cublasSgemmStridedBatched)(ccuda_cublas_handle_t handle, int trans_a,
                                                   int trans_b, int m, int n, int k,
                                                   const float *alpha, const float *a, int lda,
                                                   long long stride_a, const float *b, int ldb,
                                                   long long stride_b, const float *beta, float *c,
                                                   int ldc, long long stride_c, int batch_count);
typedef int (*ccuda_pfn_cublasDgemmStridedBatched)(ccuda_cublas_handle_t handle, int trans_a,
                                                   int trans_b, int m, int n, int k,
                                                   const double *alpha, const double *a, int lda,
                                                   long long stride_a, const double *b, int ldb,
                                                   long long stride_b, const double *beta,
                                                   double *c, int ldc, long long stride_c,
                                                   int batch_count);
typedef int (*ccuda_pfn_cublasGemmEx)(ccuda_cublas_handle_t handle, int trans_a, int trans_b,
                                      int m, int n, int k, const void *alpha, const void *a,
                                      int a_type, int lda, const void *b, int b_type, int ldb,
                                      const void *beta, void *c, int c_type, int ldc,
                                      int compute_type, int algorithm);

/* MARK: - Loader */

/** Opens `library` (a `CCUDA_LIBRARY_*` id) once; 0, or CCUDA_ERROR_LIBRARY_NOT_FOUND. */
int ccuda_load_library(int library);

/**
 * Copies the path `library` was loaded from (NUL-terminated, truncated to `capacity`) and
 * writes its full length (without the NUL) to `length`. `buffer` may be NULL to ask the length.
 * Returns CCUDA_ERROR_LIBRARY_NOT_FOUND (and an empty string) if the library is not loaded.
 */
int ccuda_library_path(int library, char *buffer, size_t capacity, size_t *length);

/**
 * Copies the newline-separated list of candidates tried for `library`, in order, each failed
 * existing file followed by the loader's reason in parentheses; same buffer rules as
 * `ccuda_library_path`. Loads the library first if needed.
 */
int ccuda_library_searched(int library, char *buffer, size_t capacity, size_t *length);

/* MARK: - Runtime (statuses are cudaError_t) */

int ccuda_runtime_get_version(int *version);
int ccuda_driver_get_version(int *version);
int ccuda_get_device_count(int *count);
int ccuda_get_device(int *device);
int ccuda_set_device(int device);
int ccuda_device_get_attribute(int *value, int attribute, int device);
/** The device's name: the first field of `cudaDeviceProp` (`char name[256]` in every version). */
int ccuda_get_device_name(int device, char *name, size_t capacity);
/** Total device memory: `cuDeviceTotalMem` (driver entry point), else `cudaMemGetInfo`. */
int ccuda_device_total_memory(int device, size_t *bytes);
int ccuda_mem_get_info(size_t *free_bytes, size_t *total_bytes);
int ccuda_malloc(void **pointer, size_t size);
int ccuda_free(void *pointer);
int ccuda_malloc_host(void **pointer, size_t size);
int ccuda_free_host(void *pointer);
int ccuda_memcpy(void *destination, const void *source, size_t count, int kind);
int ccuda_memcpy_async(void *destination, const void *source, size_t count, int kind,
                       ccuda_stream_t stream);
int ccuda_memset(void *pointer, int value, size_t count);
int ccuda_memset_async(void *pointer, int value, size_t count, ccuda_stream_t stream);
int ccuda_device_synchronize(void);
int ccuda_stream_create(ccuda_stream_t *stream, unsigned int flags);
int ccuda_stream_destroy(ccuda_stream_t stream);
int ccuda_stream_synchronize(ccuda_stream_t stream);
int ccuda_event_create(ccuda_event_t *event, unsigned int flags);
int ccuda_event_destroy(ccuda_event_t event);
int ccuda_event_record(ccuda_event_t event, ccuda_stream_t stream);
int ccuda_event_synchronize(ccuda_event_t event);
/** Returns (and clears) the runtime's last error, as `cudaGetLastError` does. */
int ccuda_get_last_error(void);
/** The enum name of a `cudaError_t`, for example "cudaErrorInsufficientDriver". */
int ccuda_get_error_name(int error, const char **name);
/** CUDA's description of a `cudaError_t`. */
int ccuda_get_error_string(int error, const char **message);
/** Loads a CUBIN, fatbin or PTX image as a context-independent library (`cudaLibraryLoadData`). */
int ccuda_library_load_data(ccuda_library_t *library, const void *image);
int ccuda_library_unload(ccuda_library_t library);
int ccuda_library_get_kernel(ccuda_kernel_t *kernel, ccuda_library_t library, const char *name);
/** Launches a kernel from `ccuda_library_get_kernel` with `cudaLaunchKernel`. */
int ccuda_launch_kernel(ccuda_kernel_t kernel, ccuda_dim3 grid, ccuda_dim3 block, void **arguments,
                        size_t shared_memory, ccuda_stream_t stream);

/* MARK: - NVRTC (statuses are nvrtcResult) */

int ccuda_nvrtc_version(int *major, int *minor);
int ccuda_nvrtc_get_num_supported_archs(int *count);
int ccuda_nvrtc_get_supported_archs(int *architectures);
int ccuda_nvrtc_create_program(ccuda_nvrtc_program_t *program, const char *source,
                               const char *name);
int ccuda_nvrtc_compile_program(ccuda_nvrtc_program_t program, int option_count,
                                const char *const *options);
int ccuda_nvrtc_get_ptx_size(ccuda_nvrtc_program_t program, size_t *size);
int ccuda_nvrtc_get_ptx(ccuda_nvrtc_program_t program, char *ptx);
int ccuda_nvrtc_get_cubin_size(ccuda_nvrtc_program_t program, size_t *size);
int ccuda_nvrtc_get_cubin(ccuda_nvrtc_program_t program, char *cubin);
int ccuda_nvrtc_get_program_log_size(ccuda_nvrtc_program_t program, size_t *size);
int ccuda_nvrtc_get_program_log(ccuda_nvrtc_program_t program, char *log);
int ccuda_nvrtc_destroy_program(ccuda_nvrtc_program_t *program);
int ccuda_nvrtc_get_error_string(int result, const char **message);

/* MARK: - cuBLAS (statuses are cublasStatus_t; matrices are column-major) */

int ccuda_cublas_create(ccuda_cublas_handle_t *handle);
int ccuda_cublas_destroy(ccuda_cublas_handle_t handle);
int ccuda_cublas_set_stream(ccuda_cublas_handle_t handle, ccuda_stream_t stream);
/** The enum name of a `cublasStatus_t` (a built-in table without `cublasGetStatusName`). */
int ccuda_cublas_get_status_name(int status, const char **name);
int ccuda_cublas_sgemm(ccuda_cublas_handle_t handle, int trans_a, int trans_b, int m, int n, int k,
                       const float *alpha, const float *a, int lda, const float *b, int ldb,
                       const float *beta, float *c, int ldc);
int ccuda_cublas_dgemm(ccuda_cublas_handle_t handle, int trans_a, int trans_b, int m, int n, int k,
                       const double *alpha, const double *a, int lda, const double *b, int ldb,
                       const double *beta, double *c, int ldc);
int ccuda_cublas_sgemm_strided_batched(ccuda_cublas_handle_t handle, int trans_a, int trans_b,
                                       int m, int n, int k, const float *alpha, const float *a,
                                       int lda, long long stride_a, const float *b, int ldb,
                                       long long stride_b, const float *beta, float *c, int ldc,
                                       long long stride_c, int batch_count);
int ccuda_cublas_dgemm_strided_batched(ccuda_cublas_handle_t handle, int trans_a, int trans_b,
                                       int m, int n, int k, const double *alpha, const double *a,
                                       int lda, long long stride_a, const double *b, int ldb,
                                       long long stride_b, const double *beta, double *c, int ldc,
                                       long long stride_c, int batch_count);
int ccuda_cublas_gemm_ex(ccuda_cublas_handle_t handle, int trans_a, int trans_b, int m, int n,
                         int k, const void *alpha, const void *a, int a_type, int lda,
                         const void *b, int b_type, int ldb, const void *beta, void *c,
                         int c_type, int ldc, int compute_type, int algorithm);

#ifdef __cplusplus
}
#endif

#endif /* CCUDA_H */
