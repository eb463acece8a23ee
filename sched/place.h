/*
 * place.h - where the workers of a context run and what share of each layer they get: the local
 * level of HiDP. Workers take PUs fastest kind first (sched/topo.h), and split each layer's
 * channels (or rows) in proportion to their kind's calibrated speed (sched/calib.h), so slow
 * cores get smaller pieces instead of making the fast ones wait.
 */
#ifndef HIDP_PLACE_H
#define HIDP_PLACE_H

#include "topo.h"

/* How a layer is shared. */
enum { HIDP__SPLIT_CALIBRATED = 0, HIDP__SPLIT_EQUAL = 1 };

typedef struct hidp__placement {
    int workers;
    int *pus;       /* [workers]: the PU (OS index) chosen for worker w */
    double *weight; /* [workers]: worker w's share of every split layer */
    int bind;       /* the PUs are this machine's: bind the workers to them */
    double wake_s;  /* calibrated wake-up of a sleeping worker, seconds (0 unknown) */
} hidp__placement;

/* Places `threads` workers on t's PUs. cores chooses the PUs: NULL or "all" (every kind),
 * "big" (the fastest kind), "little" (the slowest kind), or a list of PU OS indices such as
 * "0,2-3"; PUs are taken fastest kind first, in their order, and reused round-robin when there
 * are more workers than PUs: with calibrated shares, fastest by the kinds' calibrated speeds,
 * else by hwloc's efficiency ranks (t's kind order). bind is set when t is this machine's.
 * weight is the PU's kind speed when split is HIDP__SPLIT_CALIBRATED and every kind in use has
 * one (all the fastest's when every kind in use is within 10% of it), else 1. Errors
 * (HIDP_EINVAL) name the bad policy or PU. */
int hidp__place(const hidp__topo *t, int threads, const char *cores, int split,
                hidp__placement *p, hidp__err *err);
void hidp__placement_free(hidp__placement *p);

#endif
