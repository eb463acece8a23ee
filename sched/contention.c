/*
 * contention.c - whether a slower core's CPU is scarce (see contention.h).
 */
#include "contention.h"

void hidp__contention_init(hidp__contention *c)
{
    c->window_start_ns = 0;
    c->window_start_wait_ns = 0;
    c->clean = 0;
    atomic_init(&c->scarce, 1);
}

int hidp__contention_due(const hidp__contention *c, int64_t now_ns)
{
    return c->window_start_ns == 0 || now_ns - c->window_start_ns >= HIDP__CONTENTION_WINDOW_NS;
}

int hidp__contention_feed(hidp__contention *c, int64_t now_ns, int64_t wait_ns)
{
    if (c->window_start_ns == 0 || now_ns <= c->window_start_ns ||
        wait_ns < c->window_start_wait_ns) { /* the first sample, or a clock gone back */
        c->window_start_ns = now_ns > 0 ? now_ns : 1;
        c->window_start_wait_ns = wait_ns;
        return 0;
    }
    const int64_t span = now_ns - c->window_start_ns;
    if (span < HIDP__CONTENTION_WINDOW_NS)
        return 0;
    const int waited =
        (double)(wait_ns - c->window_start_wait_ns) >= HIDP__CONTENTION_SHARE * (double)span;
    c->clean = waited ? 0 : c->clean + 1;
    const int scarce = c->clean < HIDP__CONTENTION_CLEAN;
    c->window_start_ns = now_ns;
    c->window_start_wait_ns = wait_ns;
    return atomic_exchange_explicit(&c->scarce, scarce, memory_order_relaxed) != scarce;
}

void hidp__contention_force(hidp__contention *c, int scarce)
{
    c->clean = scarce ? 0 : HIDP__CONTENTION_CLEAN;
    atomic_store_explicit(&c->scarce, scarce != 0, memory_order_relaxed);
}
