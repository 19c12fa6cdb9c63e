#ifndef DRE_DIAG_HEAP_H
#define DRE_DIAG_HEAP_H

#include <stddef.h>

void *diag_malloc(size_t size);
void diag_free(void *ptr);

#endif
