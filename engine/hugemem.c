/*
 * hugemem.c - the large buffers on transparent huge pages (hugemem.h).
 *
 * Debian, like most distributions, sets /sys/kernel/mm/transparent_hugepage/enabled to
 * "madvise": a buffer gets 2 MB pages only when asked. A core that a CPU quota or another
 * process stops several times a run comes back with its TLB cold, and refills it a 2 MB page
 * at a time instead of 4 KB. On bench/little_core.sh's quota core, the calibrated split of
 * ResNet-50 ran 1.02x and 1.04x (paired, in the same runs) with these buffers on huge pages as
 * on 4 KB ones; MobileNet-V2, whose layers' weights are each under 2 MB, 0.99x both times.
 * Every other page of the model on huge pages as well (the system set to "always" while it was
 * prepared) gained nothing more on either (1.00x), so smaller buffers are left as they are.
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "hugemem.h"

#define HUGE_PAGE ((size_t)2 << 20)

void *hidp__huge_alloc(size_t bytes)
{
    if (bytes < HUGE_PAGE)
        return aligned_alloc(64, bytes ? (bytes + 63) / 64 * 64 : 64);
    void *p = NULL;
    if (posix_memalign(&p, HUGE_PAGE, bytes) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    /* A hint: without THP the pages stay 4 KB. A tail shorter than 2 MB stays on them too,
     * rather than take a whole huge page for a part of one. */
    madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return p;
}
