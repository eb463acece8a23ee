/*
 * prefetch.h - claiming cache lines before writing them, and pulling in lines before reading
 * them out of order.
 *
 * A store to a line another core holds waits until that core's copy is invalidated. Where the
 * two cores share no cache (this VM's two vCPUs, half of the time: doc/local-level.md) that is a
 * round trip of 200-250 ns per line, and a kernel that writes a few bytes to each of many lines
 * (the transposed tile's 7 pixels per channel, Winograd's output rows) stalls on every one of
 * them: the memory plan reuses bytes the other worker wrote or read a layer or two earlier.
 * Asking for the lines early, while the kernel still computes, overlaps those round trips.
 */
#ifndef HIDP_PREFETCH_H
#define HIDP_PREFETCH_H

#include <stdint.h>

/* Asks for the cache lines of p[0, n) in this core's cache, owned for writing (other cores'
 * copies invalidated). A hint: it changes no memory, never faults, and does nothing where the
 * CPU has no such instruction. */
void hidp__prefetch_for_write(const float *p, int64_t n);

/* Reads a word every 16 floats of p[0, n) and its last, in order (so one of every cache line),
 * and returns their bits ORed (for the caller to keep, so the reads stay). A kernel that will read
 * those lines out of order, a line at a time, otherwise waits for each line another core holds
 * (about 100 ns each, a few in flight); read in order, they stream in at the hardware prefetcher's
 * pace. */
unsigned hidp__pull_in(const float *p, int64_t n);

#endif
