/*
 * hugemem.h - memory for the large buffers every run sweeps: the arena, the workers' scratch,
 * the mirror and shadow of worker 1's results, the packed weights.
 */
#ifndef HIDP_HUGEMEM_H
#define HIDP_HUGEMEM_H

#include <stddef.h>

/* `bytes` (0 counts as 1) aligned to 64 bytes, freed with free(). From 2 MB on, aligned to
 * 2 MB and advised as transparent huge pages before it is first touched. NULL when out of
 * memory. */
void *hidp__huge_alloc(size_t bytes);

#endif
