/*
 * The CCUDA loader and wrappers. See include/CCUDA.h for the contract and the search order.
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* dladdr (path of a library found by soname) */
#endif

#include "CCUDA.h"

#include <dlfcn.h>
#include <glob.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* MARK: - Library state */

#define CCUDA_PATH_CAPACITY 4096
#define CCUDA_SEARCHED_CAPACITY 16384

typedef struct ccuda_library_state {
    const char *stem;             /* "libcudart" */
    const char *path_variable;    /* "AUTOGRAD_CUDART_PATH" */
    const char *wheel_folders[3]; /* below site-packages, NULL-terminated */
    void *handle;                 /* written once inside pthread_once, read after it */
    char path[CCUDA_PATH_CAPACITY];
    char searched[CCUDA_SEARCHED_CAPACITY];
    size_t searched_length;
} ccuda_library_state;

static ccuda_library_state ccuda_libraries[3] = {
    {"libcudart", "AUTOGRAD_CUDART_PATH", {"nvidia/cu13/lib", "nvidia/cuda_runtime/lib", NULL},
     NULL, {0}, {0}, 0},
    {"libnvrtc", "AUTOGRAD_NVRTC_PATH", {"nvidia/cu13/lib", "nvidia/cuda_nvrtc/lib", NULL},
     NULL, {0}, {0}, 0},
    {"libcublas", "AUTOGRAD_CUBLAS_PATH", {"nvidia/cu13/lib", "nvidia/cublas/lib", NULL},
     NULL, {0}, {0}, 0},
};

static pthread_once_t ccuda_once[3] = {PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT};

/* MARK: - Resolved entry points (written inside pthread_once, read only after it) */

/* X(name, required): a required symbol missing makes the candidate library unusable. */
#define CCUDA_CUDART_SYMBOLS(X)            \
    X(cudaGetDeviceCount, 1)               \
    X(cudaGetErrorName, 1)                 \
    X(cudaGetErrorString, 1)               \
    X(cudaRuntimeGetVersion, 0)            \
    X(cudaDriverGetVersion, 0)             \
    X(cudaGetDevice, 0)                    \
    X(cudaSetDevice, 0)                    \
    X(cudaDeviceGetAttribute, 0)           \
    X(cudaGetDriverEntryPoint, 0)          \
    X(cudaGetDriverEntryPointByVersion, 0) \
    X(cudaMemGetInfo, 0)                   \
    X(cudaMalloc, 0)                       \
    X(cudaFree, 0)                         \
    X(cudaMallocHost, 0)                   \
    X(cudaFreeHost, 0)                     \
    X(cudaMemcpy, 0)                       \
    X(cudaMemcpyAsync, 0)                  \
    X(cudaMemset, 0)                       \
    X(cudaMemsetAsync, 0)                  \
    X(cudaDeviceSynchronize, 0)            \
    X(cudaStreamCreateWithFlags, 0)        \
    X(cudaStreamDestroy, 0)                \
    X(cudaStreamSynchronize, 0)            \
    X(cudaEventCreateWithFlags, 0)         \
    X(cudaEventDestroy, 0)                 \
    X(cudaEventRecord, 0)                  \
    X(cudaEventSynchronize, 0)             \
    X(cudaGetLastError, 0)                 \
    X(cudaLibraryLoadData, 0)              \
    X(cudaLibraryUnload, 0)                \
    X(cudaLibraryGetKernel, 0)             \
    X(cudaLaunchKernel, 0)

#define CCUDA_NVRTC_SYMBOLS(X)      \
    X(nvrtcVersion, 1)              \
    X(nvrtcCreateProgram, 1)        \
    X(nvrtcCompileProgram, 1)       \
    X(nvrtcGetPTXSize, 1)           \
    X(nvrtcGetPTX, 1)               \
    X(nvrtcGetProgramLogSize, 1)    \
    X(nvrtcGetProgramLog, 1)        \
    X(nvrtcDestroyProgram, 1)       \
    X(nvrtcGetErrorString, 1)       \
    X(nvrtcGetCUBINSize, 0)         \
    X(nvrtcGetCUBIN, 0)             \
    X(nvrtcGetNumSupportedArchs, 0) \
    X(nvrtcGetSupportedArchs, 0)

#define CCUDA_CUBLAS_SYMBOLS(X)       \
    X(cublasCreate_v2, 1)             \
    X(cublasDestroy_v2, 1)            \
    X(cublasSetStream_v2, 0)          \
    X(cublasGetStatusName, 0)         \
    X(cublasSgemm_v2, 0)              \
    X(cublasDgemm_v2, 0)              \
    X(cublasSgemmStridedBatched, 0)   \
    X(cublasDgemmStridedBatched, 0)   \
    X(cublasGemmEx, 0)

#define CCUDA_DECLARE_POINTER(name, required) static ccuda_pfn_##name p_##name;
CCUDA_CUDART_SYMBOLS(CCUDA_DECLARE_POINTER)
CCUDA_NVRTC_SYMBOLS(CCUDA_DECLARE_POINTER)
CCUDA_CUBLAS_SYMBOLS(CCUDA_DECLARE_POINTER)
/* CUDA 12 exports the current cudaDeviceProp layout as cudaGetDeviceProperties_v2; CUDA 13
   only as cudaGetDeviceProperties. Only the leading name field is read, so either will do. */
static ccuda_pfn_cudaGetDeviceProperties p_cudaGetDeviceProperties;

/* MARK: - Helpers */

/* Copies `text` into `buffer` (NUL-terminated, truncated) and reports its full length. */
static int ccuda_copy_out(const char *text, char *buffer, size_t capacity, size_t *length) {
    size_t n = strlen(text);
    if (length != NULL) {
        *length = n;
    }
    if (buffer != NULL && capacity > 0) {
        size_t copied = n < capacity - 1 ? n : capacity - 1;
        memcpy(buffer, text, copied);
        buffer[copied] = '\0';
    }
    return 0;
}

/* Appends one line to the library's search record (silently truncated when full). */
static void ccuda_record(ccuda_library_state *state, const char *candidate, const char *reason) {
    char line[CCUDA_PATH_CAPACITY + 1024];
    int written;
    size_t room;
    if (reason != NULL) {
        written = snprintf(line, sizeof line, "%s (%s)\n", candidate, reason);
    } else {
        written = snprintf(line, sizeof line, "%s\n", candidate);
    }
    if (written <= 0) {
        return;
    }
    room = sizeof state->searched - 1 - state->searched_length;
    if ((size_t)written > room) {
        return;
    }
    memcpy(state->searched + state->searched_length, line, (size_t)written);
    state->searched_length += (size_t)written;
    state->searched[state->searched_length] = '\0';
}

/* dlsym into a function pointer slot without an object-to-function pointer cast. */
static int ccuda_resolve(void *handle, const char *name, void *slot, size_t slot_size) {
    void *symbol = dlsym(handle, name);
    if (slot_size != sizeof symbol) {
        return 0;
    }
    memcpy(slot, &symbol, sizeof symbol);
    return symbol != NULL;
}

#define CCUDA_RESOLVE(name, required)                                          \
    if (!ccuda_resolve(handle, #name, &p_##name, sizeof p_##name) && (required)) { \
        *missing = #name;                                                       \
        return 0;                                                               \
    }

static int ccuda_resolve_cudart(void *handle, const char **missing) {
    CCUDA_CUDART_SYMBOLS(CCUDA_RESOLVE)
    if (!ccuda_resolve(handle, "cudaGetDeviceProperties_v2", &p_cudaGetDeviceProperties,
                       sizeof p_cudaGetDeviceProperties)) {
        (void)ccuda_resolve(handle, "cudaGetDeviceProperties", &p_cudaGetDeviceProperties,
                            sizeof p_cudaGetDeviceProperties);
    }
    return 1;
}

static int ccuda_resolve_nvrtc(void *handle, const char **missing) {
    CCUDA_NVRTC_SYMBOLS(CCUDA_RESOLVE)
    return 1;
}

static int ccuda_resolve_cublas(void *handle, const char **missing) {
    CCUDA_CUBLAS_SYMBOLS(CCUDA_RESOLVE)
    return 1;
}

typedef int (*ccuda_resolver)(void *handle, const char **missing);
static const ccuda_resolver ccuda_resolvers[3] = {
    ccuda_resolve_cudart, ccuda_resolve_nvrtc, ccuda_resolve_cublas};

#if defined(__APPLE__)
static const char *const ccuda_suffixes[] = {".dylib", NULL};
#else
static const char *const ccuda_suffixes[] = {".so.13", ".so.12", ".so", NULL};
#endif

/* Whether a loader message only says "no such file" (not worth reporting). */
static int ccuda_is_not_found_message(const char *message) {
    return message == NULL || strstr(message, "No such file") != NULL;
}

/* Tries one candidate: a soname (`is_path == 0`) or a path. Returns 1 once loaded. */
static int ccuda_try(int library, const char *candidate, int is_path) {
    ccuda_library_state *state = &ccuda_libraries[library];
    const char *missing = NULL;
    void *handle;
    if (is_path && access(candidate, F_OK) != 0) {
        return 0;
    }
    handle = dlopen(candidate, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *message = dlerror();
        if (is_path || !ccuda_is_not_found_message(message)) {
            ccuda_record(state, candidate, message != NULL ? message : "dlopen failed");
        }
        return 0;
    }
    if (!ccuda_resolvers[library](handle, &missing)) {
        char reason[256];
        snprintf(reason, sizeof reason, "does not export %s", missing);
        ccuda_record(state, candidate, reason);
        dlclose(handle);
        return 0;
    }
    state->handle = handle;
    ccuda_copy_out(candidate, state->path, sizeof state->path, NULL);
    if (!is_path) {
        /* Report the file the dynamic loader picked, not just the soname. */
        char symbol[64];
        void *address;
        Dl_info info;
        snprintf(symbol, sizeof symbol, "%s",
                 library == CCUDA_LIBRARY_CUDART  ? "cudaGetDeviceCount"
                 : library == CCUDA_LIBRARY_NVRTC ? "nvrtcVersion"
                                                  : "cublasCreate_v2");
        address = dlsym(handle, symbol);
        if (address != NULL && dladdr(address, &info) != 0 && info.dli_fname != NULL) {
            ccuda_copy_out(info.dli_fname, state->path, sizeof state->path, NULL);
        }
    }
    return 1;
}

/* Tries the library's names in `folder`; records the folder once. */
static int ccuda_try_folder(int library, const char *folder) {
    ccuda_library_state *state = &ccuda_libraries[library];
    char path[CCUDA_PATH_CAPACITY];
    size_t i;
    size_t length = strlen(folder);
    const char *separator = (length > 0 && folder[length - 1] == '/') ? "" : "/";
    if (length == 0) {
        return 0;
    }
    ccuda_record(state, folder, NULL);
    for (i = 0; ccuda_suffixes[i] != NULL; i++) {
        int written = snprintf(path, sizeof path, "%s%s%s%s", folder, separator, state->stem,
                               ccuda_suffixes[i]);
        if (written > 0 && (size_t)written < sizeof path && ccuda_try(library, path, 1)) {
            return 1;
        }
    }
    return 0;
}

/* Calls `body` on each element of a colon-separated list; stops when it returns 1. */
static int ccuda_each_in_list(int library, const char *list, const char *suffix,
                              int (*body)(int, const char *, const char *)) {
    char element[CCUDA_PATH_CAPACITY];
    const char *start = list;
    if (list == NULL) {
        return 0;
    }
    while (*start != '\0') {
        const char *end = strchr(start, ':');
        size_t length = end != NULL ? (size_t)(end - start) : strlen(start);
        if (length > 0 && length < sizeof element) {
            memcpy(element, start, length);
            element[length] = '\0';
            if (body(library, element, suffix)) {
                return 1;
            }
        }
        if (end == NULL) {
            break;
        }
        start = end + 1;
    }
    return 0;
}

static int ccuda_try_folder_with_suffix(int library, const char *folder, const char *suffix) {
    char path[CCUDA_PATH_CAPACITY];
    int written;
    if (suffix == NULL) {
        return ccuda_try_folder(library, folder);
    }
    written = snprintf(path, sizeof path, "%s/%s", folder, suffix);
    if (written <= 0 || (size_t)written >= sizeof path) {
        return 0;
    }
    return ccuda_try_folder(library, path);
}

/* Tries the wheel folders (nvidia/cu13/lib, ...) below one site-packages folder. */
static int ccuda_try_site_packages(int library, const char *site_packages, const char *unused) {
    size_t i;
    (void)unused;
    for (i = 0; ccuda_libraries[library].wheel_folders[i] != NULL; i++) {
        if (ccuda_try_folder_with_suffix(library, site_packages,
                                         ccuda_libraries[library].wheel_folders[i])) {
            return 1;
        }
    }
    return 0;
}

static void ccuda_load(int library) {
    ccuda_library_state *state = &ccuda_libraries[library];
    const char *value;
    size_t i;

    /* 1. Full-path override for this library. */
    value = getenv(state->path_variable);
    if (value != NULL && value[0] != '\0') {
        if (access(value, F_OK) != 0) {
            ccuda_record(state, value, "no such file");
        } else if (ccuda_try(library, value, 1)) {
            return;
        }
    }
    /* 2. Folder override (a colon list). */
    if (ccuda_each_in_list(library, getenv("AUTOGRAD_CUDA_LIB_DIR"), NULL,
                           ccuda_try_folder_with_suffix)) {
        return;
    }
    /* 3. Sonames, through the dynamic loader's own search (LD_LIBRARY_PATH, ld.so.cache). */
    for (i = 0; ccuda_suffixes[i] != NULL; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s%s", state->stem, ccuda_suffixes[i]);
        ccuda_record(state, name, NULL);
        if (ccuda_try(library, name, 0)) {
            return;
        }
    }
    /* 4. Toolkit folders. */
    value = getenv("CUDA_HOME");
    if (value != NULL && value[0] != '\0' &&
        ccuda_try_folder_with_suffix(library, value, "lib64")) {
        return;
    }
    value = getenv("CUDA_PATH");
    if (value != NULL && value[0] != '\0' &&
        ccuda_try_folder_with_suffix(library, value, "lib64")) {
        return;
    }
    if (ccuda_try_folder(library, "/usr/local/cuda/lib64")) {
        return;
    }
    /* 5. NVIDIA's PyPI wheels on the Python path. */
    if (ccuda_each_in_list(library, getenv("PYTHONPATH"), NULL, ccuda_try_site_packages)) {
        return;
    }
    if (ccuda_each_in_list(library, getenv("AUTOGRAD_PYTHON_SITE_PACKAGES"), NULL,
                           ccuda_try_site_packages)) {
        return;
    }
    value = getenv("VIRTUAL_ENV");
    if (value != NULL && value[0] != '\0') {
        char pattern[CCUDA_PATH_CAPACITY];
        int written = snprintf(pattern, sizeof pattern, "%s/lib/python3*/site-packages", value);
        glob_t matches;
        if (written > 0 && (size_t)written < sizeof pattern &&
            glob(pattern, 0, NULL, &matches) == 0) {
            size_t m;
            int found = 0;
            for (m = 0; m < matches.gl_pathc && !found; m++) {
                found = ccuda_try_site_packages(library, matches.gl_pathv[m], NULL);
            }
            globfree(&matches);
            if (found) {
                return;
            }
        } else {
            ccuda_record(state, pattern, "no match");
        }
    }
}

static void ccuda_load_cudart(void) { ccuda_load(CCUDA_LIBRARY_CUDART); }
static void ccuda_load_nvrtc(void) { ccuda_load(CCUDA_LIBRARY_NVRTC); }
static void ccuda_load_cublas(void) { ccuda_load(CCUDA_LIBRARY_CUBLAS); }

static int ccuda_ensure(int library) {
    static void (*const loaders[3])(void) = {ccuda_load_cudart, ccuda_load_nvrtc,
                                             ccuda_load_cublas};
    if (library < 0 || library > 2) {
        return CCUDA_ERROR_INVALID_VALUE;
    }
    pthread_once(&ccuda_once[library], loaders[library]);
    return ccuda_libraries[library].handle != NULL ? 0 : CCUDA_ERROR_LIBRARY_NOT_FOUND;
}

/* MARK: - Loader API */

int ccuda_load_library(int library) { return ccuda_ensure(library); }

int ccuda_library_path(int library, char *buffer, size_t capacity, size_t *length) {
    int status = ccuda_ensure(library);
    if (status == CCUDA_ERROR_INVALID_VALUE) {
        return status;
    }
    ccuda_copy_out(status == 0 ? ccuda_libraries[library].path : "", buffer, capacity, length);
    return status;
}

int ccuda_library_searched(int library, char *buffer, size_t capacity, size_t *length) {
    int status = ccuda_ensure(library);
    if (status == CCUDA_ERROR_INVALID_VALUE) {
        return status;
    }
    ccuda_copy_out(ccuda_libraries[library].searched, buffer, capacity, length);
    return 0;
}

/* MARK: - Wrappers */

/* Loads `library` and checks that it exports `name`, else returns the shim's status. */
#define CCUDA_ENTER(library, name)                 \
    do {                                           \
        int ccuda_status_ = ccuda_ensure(library); \
        if (ccuda_status_ != 0) {                  \
            return ccuda_status_;                  \
        }                                          \
        if (p_##name == NULL) {                    \
            return CCUDA_ERROR_SYMBOL_NOT_FOUND;   \
        }                                          \
    } while (0)

#define CCUDA_REQUIRE(pointer)                \
    do {                                      \
        if ((pointer) == NULL) {              \
            return CCUDA_ERROR_INVALID_VALUE; \
        }                                     \
    } while (0)

#define RT CCUDA_LIBRARY_CUDART
#define NVRTC CCUDA_LIBRARY_NVRTC
#define CUBLAS CCUDA_LIBRARY_CUBLAS

int ccuda_runtime_get_version(int *version) {
    CCUDA_REQUIRE(version);
    CCUDA_ENTER(RT, cudaRuntimeGetVersion);
    return p_cudaRuntimeGetVersion(version);
}

int ccuda_driver_get_version(int *version) {
    CCUDA_REQUIRE(version);
    CCUDA_ENTER(RT, cudaDriverGetVersion);
    return p_cudaDriverGetVersion(version);
}

int ccuda_get_device_count(int *count) {
    int status;
    CCUDA_REQUIRE(count);
    *count = 0;
    status = ccuda_ensure(RT);
    if (status != 0) {
        return status;
    }
    status = p_cudaGetDeviceCount(count);
    if (status != 0) {
        *count = 0; /* CUDA leaves the count untouched on failure */
    }
    return status;
}

int ccuda_get_device(int *device) {
    CCUDA_REQUIRE(device);
    CCUDA_ENTER(RT, cudaGetDevice);
    return p_cudaGetDevice(device);
}

int ccuda_set_device(int device) {
    CCUDA_ENTER(RT, cudaSetDevice);
    return p_cudaSetDevice(device);
}

int ccuda_device_get_attribute(int *value, int attribute, int device) {
    CCUDA_REQUIRE(value);
    CCUDA_ENTER(RT, cudaDeviceGetAttribute);
    return p_cudaDeviceGetAttribute(value, attribute, device);
}

int ccuda_get_device_name(int device, char *name, size_t capacity) {
    /* cudaDeviceProp is about 1 KiB in CUDA 12 and 13; 8 KiB leaves room for growth. Only
       the leading `char name[256]`, the same in every version, is read. */
    enum { properties_capacity = 8192 };
    char *properties;
    int status;
    CCUDA_REQUIRE(name);
    if (capacity == 0) {
        return CCUDA_ERROR_INVALID_VALUE;
    }
    name[0] = '\0';
    status = ccuda_ensure(RT);
    if (status != 0) {
        return status;
    }
    if (p_cudaGetDeviceProperties == NULL) {
        return CCUDA_ERROR_SYMBOL_NOT_FOUND;
    }
    properties = calloc(1, properties_capacity);
    if (properties == NULL) {
        return CCUDA_CUDA_ERROR_MEMORY_ALLOCATION;
    }
    status = p_cudaGetDeviceProperties(properties, device);
    if (status == 0) {
        properties[255] = '\0';
        ccuda_copy_out(properties, name, capacity, NULL);
    }
    free(properties);
    return status;
}

int ccuda_device_total_memory(int device, size_t *bytes) {
    void *function = NULL;
    int driver_status = 0;
    int status;
    int previous = 0;
    size_t free_bytes = 0;
    CCUDA_REQUIRE(bytes);
    *bytes = 0;
    status = ccuda_ensure(RT);
    if (status != 0) {
        return status;
    }
    /* cuDeviceTotalMem needs no context; the runtime hands out the driver's entry point. */
    if (p_cudaGetDriverEntryPointByVersion != NULL) {
        status = p_cudaGetDriverEntryPointByVersion("cuDeviceTotalMem", &function, 12000, 0,
                                                    &driver_status);
    } else if (p_cudaGetDriverEntryPoint != NULL) {
        status = p_cudaGetDriverEntryPoint("cuDeviceTotalMem", &function, 0, &driver_status);
    } else {
        status = CCUDA_ERROR_SYMBOL_NOT_FOUND;
    }
    if (status == 0 && driver_status == 0 && function != NULL) {
        ccuda_pfn_cuDeviceTotalMem total_memory;
        memcpy(&total_memory, &function, sizeof function);
        if (total_memory(bytes, device) == 0) {
            return 0;
        }
    }
    /* Fallback: cudaMemGetInfo on that device (creates its primary context). */
    if (p_cudaGetDevice == NULL || p_cudaSetDevice == NULL || p_cudaMemGetInfo == NULL) {
        return CCUDA_ERROR_SYMBOL_NOT_FOUND;
    }
    status = p_cudaGetDevice(&previous);
    if (status != 0) {
        return status;
    }
    status = p_cudaSetDevice(device);
    if (status != 0) {
        return status;
    }
    status = p_cudaMemGetInfo(&free_bytes, bytes);
    (void)p_cudaSetDevice(previous);
    return status;
}

int ccuda_mem_get_info(size_t *free_bytes, size_t *total_bytes) {
    CCUDA_REQUIRE(free_bytes);
    CCUDA_REQUIRE(total_bytes);
    CCUDA_ENTER(RT, cudaMemGetInfo);
    return p_cudaMemGetInfo(free_bytes, total_bytes);
}

int ccuda_malloc(void **pointer, size_t size) {
    CCUDA_REQUIRE(pointer);
    *pointer = NULL;
    CCUDA_ENTER(RT, cudaMalloc);
    return p_cudaMalloc(pointer, size);
}

int ccuda_free(void *pointer) {
    CCUDA_ENTER(RT, cudaFree);
    return p_cudaFree(pointer);
}

int ccuda_malloc_host(void **pointer, size_t size) {
    CCUDA_REQUIRE(pointer);
    *pointer = NULL;
    CCUDA_ENTER(RT, cudaMallocHost);
    return p_cudaMallocHost(pointer, size);
}

int ccuda_free_host(void *pointer) {
    CCUDA_ENTER(RT, cudaFreeHost);
    return p_cudaFreeHost(pointer);
}

int ccuda_memcpy(void *destination, const void *source, size_t count, int kind) {
    CCUDA_ENTER(RT, cudaMemcpy);
    return p_cudaMemcpy(destination, source, count, kind);
}

int ccuda_memcpy_async(void *destination, const void *source, size_t count, int kind,
                       ccuda_stream_t stream) {
    CCUDA_ENTER(RT, cudaMemcpyAsync);
    return p_cudaMemcpyAsync(destination, source, count, kind, stream);
}

int ccuda_memset(void *pointer, int value, size_t count) {
    CCUDA_ENTER(RT, cudaMemset);
    return p_cudaMemset(pointer, value, count);
}

int ccuda_memset_async(void *pointer, int value, size_t count, ccuda_stream_t stream) {
    CCUDA_ENTER(RT, cudaMemsetAsync);
    return p_cudaMemsetAsync(pointer, value, count, stream);
}

int ccuda_device_synchronize(void) {
    CCUDA_ENTER(RT, cudaDeviceSynchronize);
    return p_cudaDeviceSynchronize();
}

int ccuda_stream_create(ccuda_stream_t *stream, unsigned int flags) {
    CCUDA_REQUIRE(stream);
    *stream = NULL;
    CCUDA_ENTER(RT, cudaStreamCreateWithFlags);
    return p_cudaStreamCreateWithFlags(stream, flags);
}

int ccuda_stream_destroy(ccuda_stream_t stream) {
    CCUDA_ENTER(RT, cudaStreamDestroy);
    return p_cudaStreamDestroy(stream);
}

int ccuda_stream_synchronize(ccuda_stream_t stream) {
    CCUDA_ENTER(RT, cudaStreamSynchronize);
    return p_cudaStreamSynchronize(stream);
}

int ccuda_event_create(ccuda_event_t *event, unsigned int flags) {
    CCUDA_REQUIRE(event);
    *event = NULL;
    CCUDA_ENTER(RT, cudaEventCreateWithFlags);
    return p_cudaEventCreateWithFlags(event, flags);
}

int ccuda_event_destroy(ccuda_event_t event) {
    CCUDA_ENTER(RT, cudaEventDestroy);
    return p_cudaEventDestroy(event);
}

int ccuda_event_record(ccuda_event_t event, ccuda_stream_t stream) {
    CCUDA_ENTER(RT, cudaEventRecord);
    return p_cudaEventRecord(event, stream);
}

int ccuda_event_synchronize(ccuda_event_t event) {
    CCUDA_ENTER(RT, cudaEventSynchronize);
    return p_cudaEventSynchronize(event);
}

int ccuda_get_last_error(void) {
    CCUDA_ENTER(RT, cudaGetLastError);
    return p_cudaGetLastError();
}

int ccuda_get_error_name(int error, const char **name) {
    int status;
    CCUDA_REQUIRE(name);
    *name = NULL;
    status = ccuda_ensure(RT);
    if (status != 0) {
        return status;
    }
    *name = p_cudaGetErrorName(error);
    return 0;
}

int ccuda_get_error_string(int error, const char **message) {
    int status;
    CCUDA_REQUIRE(message);
    *message = NULL;
    status = ccuda_ensure(RT);
    if (status != 0) {
        return status;
    }
    *message = p_cudaGetErrorString(error);
    return 0;
}

int ccuda_library_load_data(ccuda_library_t *library, const void *image) {
    CCUDA_REQUIRE(library);
    CCUDA_REQUIRE(image);
    *library = NULL;
    CCUDA_ENTER(RT, cudaLibraryLoadData);
    return p_cudaLibraryLoadData(library, image, NULL, NULL, 0, NULL, NULL, 0);
}

int ccuda_library_unload(ccuda_library_t library) {
    CCUDA_ENTER(RT, cudaLibraryUnload);
    return p_cudaLibraryUnload(library);
}

int ccuda_library_get_kernel(ccuda_kernel_t *kernel, ccuda_library_t library, const char *name) {
    CCUDA_REQUIRE(kernel);
    CCUDA_REQUIRE(name);
    *kernel = NULL;
    CCUDA_ENTER(RT, cudaLibraryGetKernel);
    return p_cudaLibraryGetKernel(kernel, library, name);
}

int ccuda_launch_kernel(ccuda_kernel_t kernel, ccuda_dim3 grid, ccuda_dim3 block, void **arguments,
                        size_t shared_memory, ccuda_stream_t stream) {
    /* A cudaKernel_t from cudaLibraryGetKernel is accepted as cudaLaunchKernel's `func`. */
    CCUDA_ENTER(RT, cudaLaunchKernel);
    return p_cudaLaunchKernel((const void *)kernel, grid, block, arguments, shared_memory, stream);
}

/* MARK: - NVRTC */

int ccuda_nvrtc_version(int *major, int *minor) {
    CCUDA_REQUIRE(major);
    CCUDA_REQUIRE(minor);
    CCUDA_ENTER(NVRTC, nvrtcVersion);
    return p_nvrtcVersion(major, minor);
}

int ccuda_nvrtc_get_num_supported_archs(int *count) {
    CCUDA_REQUIRE(count);
    CCUDA_ENTER(NVRTC, nvrtcGetNumSupportedArchs);
    return p_nvrtcGetNumSupportedArchs(count);
}

int ccuda_nvrtc_get_supported_archs(int *architectures) {
    CCUDA_REQUIRE(architectures);
    CCUDA_ENTER(NVRTC, nvrtcGetSupportedArchs);
    return p_nvrtcGetSupportedArchs(architectures);
}

int ccuda_nvrtc_create_program(ccuda_nvrtc_program_t *program, const char *source,
                               const char *name) {
    CCUDA_REQUIRE(program);
    CCUDA_REQUIRE(source);
    *program = NULL;
    CCUDA_ENTER(NVRTC, nvrtcCreateProgram);
    return p_nvrtcCreateProgram(program, source, name, 0, NULL, NULL);
}

int ccuda_nvrtc_compile_program(ccuda_nvrtc_program_t program, int option_count,
                                const char *const *options) {
    CCUDA_ENTER(NVRTC, nvrtcCompileProgram);
    return p_nvrtcCompileProgram(program, option_count, options);
}

int ccuda_nvrtc_get_ptx_size(ccuda_nvrtc_program_t program, size_t *size) {
    CCUDA_REQUIRE(size);
    CCUDA_ENTER(NVRTC, nvrtcGetPTXSize);
    return p_nvrtcGetPTXSize(program, size);
}

int ccuda_nvrtc_get_ptx(ccuda_nvrtc_program_t program, char *ptx) {
    CCUDA_REQUIRE(ptx);
    CCUDA_ENTER(NVRTC, nvrtcGetPTX);
    return p_nvrtcGetPTX(program, ptx);
}

int ccuda_nvrtc_get_cubin_size(ccuda_nvrtc_program_t program, size_t *size) {
    CCUDA_REQUIRE(size);
    CCUDA_ENTER(NVRTC, nvrtcGetCUBINSize);
    return p_nvrtcGetCUBINSize(program, size);
}

int ccuda_nvrtc_get_cubin(ccuda_nvrtc_program_t program, char *cubin) {
    CCUDA_REQUIRE(cubin);
    CCUDA_ENTER(NVRTC, nvrtcGetCUBIN);
    return p_nvrtcGetCUBIN(program, cubin);
}

int ccuda_nvrtc_get_program_log_size(ccuda_nvrtc_program_t program, size_t *size) {
    CCUDA_REQUIRE(size);
    CCUDA_ENTER(NVRTC, nvrtcGetProgramLogSize);
    return p_nvrtcGetProgramLogSize(program, size);
}

int ccuda_nvrtc_get_program_log(ccuda_nvrtc_program_t program, char *log) {
    CCUDA_REQUIRE(log);
    CCUDA_ENTER(NVRTC, nvrtcGetProgramLog);
    return p_nvrtcGetProgramLog(program, log);
}

int ccuda_nvrtc_destroy_program(ccuda_nvrtc_program_t *program) {
    CCUDA_REQUIRE(program);
    CCUDA_ENTER(NVRTC, nvrtcDestroyProgram);
    return p_nvrtcDestroyProgram(program);
}

int ccuda_nvrtc_get_error_string(int result, const char **message) {
    int status;
    CCUDA_REQUIRE(message);
    *message = NULL;
    status = ccuda_ensure(NVRTC);
    if (status != 0) {
        return status;
    }
    *message = p_nvrtcGetErrorString(result);
    return 0;
}

/* MARK: - cuBLAS */

int ccuda_cublas_create(ccuda_cublas_handle_t *handle) {
    CCUDA_REQUIRE(handle);
    *handle = NULL;
    CCUDA_ENTER(CUBLAS, cublasCreate_v2);
    return p_cublasCreate_v2(handle);
}

int ccuda_cublas_destroy(ccuda_cublas_handle_t handle) {
    CCUDA_ENTER(CUBLAS, cublasDestroy_v2);
    return p_cublasDestroy_v2(handle);
}

int ccuda_cublas_set_stream(ccuda_cublas_handle_t handle, ccuda_stream_t stream) {
    CCUDA_ENTER(CUBLAS, cublasSetStream_v2);
    return p_cublasSetStream_v2(handle, stream);
}

int ccuda_cublas_get_status_name(int status, const char **name) {
    CCUDA_REQUIRE(name);
    *name = NULL;
    if (ccuda_ensure(CUBLAS) == 0 && p_cublasGetStatusName != NULL) {
        *name = p_cublasGetStatusName(status);
        if (*name != NULL) {
            return 0;
        }
    }
    /* cublasStatus_t's values, from cublas_api.h. */
    switch (status) {
    case 0: *name = "CUBLAS_STATUS_SUCCESS"; break;
    case 1: *name = "CUBLAS_STATUS_NOT_INITIALIZED"; break;
    case 3: *name = "CUBLAS_STATUS_ALLOC_FAILED"; break;
    case 7: *name = "CUBLAS_STATUS_INVALID_VALUE"; break;
    case 8: *name = "CUBLAS_STATUS_ARCH_MISMATCH"; break;
    case 11: *name = "CUBLAS_STATUS_MAPPING_ERROR"; break;
    case 13: *name = "CUBLAS_STATUS_EXECUTION_FAILED"; break;
    case 14: *name = "CUBLAS_STATUS_INTERNAL_ERROR"; break;
    case 15: *name = "CUBLAS_STATUS_NOT_SUPPORTED"; break;
    case 16: *name = "CUBLAS_STATUS_LICENSE_ERROR"; break;
    default: *name = "CUBLAS_STATUS_UNKNOWN"; break;
    }
    return 0;
}

int ccuda_cublas_sgemm(ccuda_cublas_handle_t handle, int trans_a, int trans_b, int m, int n, int k,
                       const float *alpha, const float *a, int lda, const float *b, int ldb,
                       const float *beta, float *c, int ldc) {
    CCUDA_ENTER(CUBLAS, cublasSgemm_v2);
    return p_cublasSgemm_v2(handle, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

int ccuda_cublas_dgemm(ccuda_cublas_handle_t handle, int trans_a, int trans_b, int m, int n, int k,
                       const double *alpha, const double *a, int lda, const double *b, int ldb,
                       const double *beta, double *c, int ldc) {
    CCUDA_ENTER(CUBLAS, cublasDgemm_v2);
    return p_cublasDgemm_v2(handle, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

int ccuda_cublas_sgemm_strided_batched(ccuda_cublas_handle_t handle, int trans_a, int trans_b,
                                       int m, int n, int k, const float *alpha, const float *a,
                                       int lda, long long stride_a, const float *b, int ldb,
                                       long long stride_b, const float *beta, float *c, int ldc,
                                       long long stride_c, int batch_count) {
    CCUDA_ENTER(CUBLAS, cublasSgemmStridedBatched);
    return p_cublasSgemmStridedBatched(handle, trans_a, trans_b, m, n, k, alpha, a, lda, stride_a,
        b, ldb, stride_b, beta, c, ldc, stride_c, batch_count);
}

int ccuda_cublas_dgemm_strided_batched(ccuda_cublas_handle_t handle, int trans_a, int trans_b,
                                       int m, int n, int k, const double *alpha, const double *a,
                                       int lda, long long stride_a, const double *b, int ldb,
                                       long long stride_b, const double *beta, double *c, int ldc,
                                       long long stride_c, int batch_count) {
    CCUDA_ENTER(CUBLAS, cublasDgemmStridedBatched);
    return p_cublasDgemmStridedBatched(handle, trans_a, trans_b, m, n, k, alpha, a, lda, stride_a,
        b, ldb, stride_b, beta, c, ldc, stride_c, batch_count);
}

int ccuda_cublas_gemm_ex(ccuda_cublas_handle_t handle, int trans_a, int trans_b, int m, int n,
                         int k, const void *alpha, const void *a, int a_type, int lda,
                         const void *b, int b_type, int ldb, const void *beta, void *c,
                         int c_type, int ldc, int compute_type, int algorithm) {
    CCUDA_ENTER(CUBLAS, cublasGemmEx);
    return p_cublasGemmEx(handle, trans_a, trans_b, m, n, k, alpha, a, a_type, lda, b, b_type, ldb,
        beta, c, c_type, ldc, compute_type, algorithm);
}
