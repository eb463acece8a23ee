/*
 * prefetch.c - hidp__prefetch_for_write and hidp__pull_in (prefetch.h).
 *
 * x86 has a write prefetch (PREFETCHW) only where CPUID says so (the PRFCHW bit, which AMD calls
 * 3DNowPrefetch); GCC emits it for __builtin_prefetch(p, 1) only when compiling for such a CPU,
 * which the portable build is not, so the instruction is written out and run after a CPUID
 * check. Elsewhere (aarch64: PRFM PSTL1KEEP) the builtin is enough.
 */
#include "prefetch.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <stdatomic.h>

/* 1: PREFETCHW runs; 0: it does not; -1: not asked yet (two first callers find the same). */
static atomic_int prfchw = -1;

static int can_prefetch_write(void)
{
    int have = atomic_load_explicit(&prfchw, memory_order_relaxed);
    if (have < 0) {
        unsigned a, b, c, d;
        have = __get_cpuid(0x80000001u, &a, &b, &c, &d) && (c & bit_PRFCHW);
        atomic_store_explicit(&prfchw, have, memory_order_relaxed);
    }
    return have;
}

static inline void prefetch_line(const float *p)
{
    __asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
}
#else
static int can_prefetch_write(void)
{
    return 1;
}

static inline void prefetch_line(const float *p)
{
    __builtin_prefetch(p, 1, 3);
}
#endif

/* Floats per cache line (64 bytes on every CPU hidp runs on; a larger line only repeats). */
#define LINE_FLOATS 16

void hidp__prefetch_for_write(const float *p, int64_t n)
{
    if (n <= 0 || !can_prefetch_write())
        return;
    for (int64_t i = 0; i < n; i += LINE_FLOATS)
        prefetch_line(p + i);
    prefetch_line(p + n - 1); /* the last line, when p is not at a line's start */
}

unsigned hidp__pull_in(const float *p, int64_t n)
{
    /* ORs of words, not sums of floats: a chain of one-cycle ORs does not hold the loads back
     * the way a chain of four-cycle float adds would */
    unsigned bits = 0, w;
    if (n <= 0)
        return 0;
    for (int64_t i = 0; i < n; i += LINE_FLOATS) {
        memcpy(&w, p + i, sizeof w);
        bits |= w;
    }
    memcpy(&w, p + n - 1, sizeof w); /* the last line, when p is not at a line's start */
    return bits | w;
}
