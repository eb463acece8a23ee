/*
 * topo.h - the board's core kinds, found with hwloc: which PUs are big, which are little, what
 * hwloc and Linux say about each kind, and binding a thread to a kind's PUs.
 *
 * hwloc reads the environment itself: HWLOC_XMLFILE loads a saved topology instead of this
 * machine's (the tests use the XML files in test/data/topo), HWLOC_THISSYSTEM=1 says that topology
 * is this machine's so binding is real. hwloc types stay in topo.c so users of this header need not
 * include hwloc.h.
 */
#ifndef HIDP_TOPO_H
#define HIDP_TOPO_H

#include "error.h"

/* One kind of identical cores. */
typedef struct hidp__core_kind {
    int *pus; /* OS indices of the kind's PUs (what Linux calls CPUs), ascending */
    int n_pus;
    int cores;              /* physical cores: SMT siblings of one core count once */
    char core_type[32];     /* hwloc's CoreType ("IntelCore", "IntelAtom", ...), "" unknown */
    int frequency_max_mhz;  /* 0 unknown */
    int frequency_base_mhz; /* 0 unknown */
    int linux_capacity;     /* Linux cpu_capacity, 1024 for the biggest core; 0 unknown */
    int efficiency;         /* hwloc's efficiency rank, 0 least performant; an order, not a
                             * speed; -1 unknown */
    double speed;           /* GFLOP/s per PU with all PUs busy (sched/calib.c); 0 not
                             * calibrated */
    double speed_alone;     /* GFLOP/s of one PU of the kind by itself; 0 not calibrated */
} hidp__core_kind;

struct hidp__topo_hw;

typedef struct hidp__topo {
    struct hidp__topo_hw *hw; /* the hwloc topology (opaque) */
    hidp__core_kind *kinds;   /* fastest first, see hidp__topo_load */
    int n_kinds;
    int n_pus;        /* PUs in all kinds */
    int this_system;  /* binding acts on this machine (not an XML of another board) */
    double wake_us;   /* calibrated: how long a worker asleep at a barrier takes to wake, in
                       * microseconds (sched/calib.c); 0 unknown */
    char source[300]; /* "this system", "XML file PATH", ... for messages and tools */
} hidp__topo;

/* Discovers the topology (this machine, or HWLOC_XMLFILE's) into *t. Kinds are ordered fastest
 * first: highest hwloc efficiency first; where hwloc does not rank them (efficiency -1), by
 * Linux capacity, then maximum frequency, then base frequency, all descending; ties keep the
 * order of their first PU. A topology without kind information gives one kind holding every PU
 * (efficiency 0); PUs that no reported kind covers form one more kind (efficiency -1), so every
 * PU is in exactly one kind. On failure *t is left empty (destroy is still safe). */
int hidp__topo_load(hidp__topo *t, hidp__err *err);

/* Frees everything t holds and zeroes it; safe on a zeroed or already destroyed t. */
void hidp__topo_destroy(hidp__topo *t);

/* Binds the calling thread to the n PUs (OS indices) with hwloc_set_cpubind(THREAD). Fails with
 * HIDP_EINVAL for a PU the topology does not have, HIDP_EUNSUPPORTED when the topology is not
 * this machine's (an XML without HWLOC_THISSYSTEM=1: hwloc would silently do nothing) and
 * HIDP_ESYSTEM when the OS refuses. */
int hidp__topo_bind_thread(const hidp__topo *t, const int *pus, int n, hidp__err *err);

/* Writes the directory calibration results are cached in: $XDG_CACHE_HOME/hidp, else
 * $HOME/.cache/hidp. Does not create it. HIDP_EINVAL if neither variable is set or buf is too
 * small. */
int hidp__topo_cache_dir(char *buf, size_t len, hidp__err *err);

#endif
