/* Per-thread free lists of tiny blocks: see ckernels_tiny_alloc in CKernels.h. */
#include "CKernels.h"

#include <pthread.h>
#include <stdlib.h>

#define TINY_CAPACITY 512

#if defined(__GNUC__) || defined(__clang__)

/* One list per thread in static thread-local storage (two instructions to reach, where a
 * pthread_getspecific lookup costs a call). `state`: 0 before first use, 1 while caching,
 * 2 once the thread's exit destructor ran (blocks then go straight to malloc/free). */
typedef struct {
    int count;
    int state;
    void *blocks[TINY_CAPACITY];
} tiny_list;

static __thread tiny_list t_list;
static pthread_key_t g_key;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_key_ok;

static void tiny_release(void *arg) {
    tiny_list *l = (tiny_list *)arg;
    for (int i = 0; i < l->count; i++) free(l->blocks[i]);
    l->count = 0;
    l->state = 2;
}

static void tiny_make_key(void) { g_key_ok = pthread_key_create(&g_key, tiny_release) == 0; }

/* Registers the exit destructor for this thread's list; caching stays off if that fails. */
static void tiny_first_use(tiny_list *l) {
    pthread_once(&g_once, tiny_make_key);
    l->state = (g_key_ok && pthread_setspecific(g_key, l) == 0) ? 1 : 2;
}

int ckernels_tiny_alloc(void **block) {
    if (!block) return CKERNELS_EINVAL;
    tiny_list *l = &t_list;
    if (l->count > 0) {
        *block = l->blocks[--l->count];
        return CKERNELS_OK;
    }
    void *p = malloc(CKERNELS_TINY_BYTES);
    if (!p) return CKERNELS_ENOMEM;
    *block = p;
    return CKERNELS_OK;
}

int ckernels_tiny_free(void *block) {
    if (!block) return CKERNELS_OK;
    tiny_list *l = &t_list;
    if (l->state == 0) tiny_first_use(l);
    if (l->state == 1 && l->count < TINY_CAPACITY) {
        l->blocks[l->count++] = block;
    } else {
        free(block);
    }
    return CKERNELS_OK;
}

long ckernels_tiny_cached(void) { return t_list.count; }

#else /* no thread-local storage: plain malloc/free */

int ckernels_tiny_alloc(void **block) {
    if (!block) return CKERNELS_EINVAL;
    void *p = malloc(CKERNELS_TINY_BYTES);
    if (!p) return CKERNELS_ENOMEM;
    *block = p;
    return CKERNELS_OK;
}

int ckernels_tiny_free(void *block) {
    free(block);
    return CKERNELS_OK;
}

long ckernels_tiny_cached(void) { return 0; }

#endif
