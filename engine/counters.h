/*
 * counters.h - per-worker event counters for the profiler: PAPI events by name where PAPI is
 * configured and the board has them, and Linux's software events (task clock, page faults,
 * context switches, CPU migrations) through perf_event_open where PAPI has no working perf
 * component (a VM without a PMU: libpfm4 then disables PAPI's perf_event component altogether).
 *
 * Each worker opens its counters on its own thread, at its first read (PAPI event sets and perf
 * events count the thread that made them), so they follow the pinned worker wherever it runs.
 * An event that cannot be opened is dropped once, with its reason, not reported at every read.
 */
#ifndef HIDP_COUNTERS_H
#define HIDP_COUNTERS_H

#include "error.h"
#include "exec.h"

typedef struct hidp__counters hidp__counters;

/* The events `--events default` asks for: cycles, instructions, L1 data and last-level misses,
 * then the software events that exist everywhere. */
#define HIDP__DEFAULT_EVENTS \
    "PAPI_TOT_CYC,PAPI_TOT_INS,PAPI_L1_DCM,PAPI_L3_TCM,task-clock,page-faults,context-switches"

/* Checks the comma-separated event list (at most HIDP__EXEC_MAX_COUNTERS events, "default"
 * expands to HIDP__DEFAULT_EVENTS) against what this machine can count, for `workers` workers.
 * Events that cannot count are dropped and listed in *missing (with the reason); no event left
 * is not an error (the probe then counts nothing). HIDP_EINVAL for a malformed list,
 * HIDP_ENOMEM. The caller owns *out (hidp__counters_destroy). */
int hidp__counters_create(hidp__counters **out, const char *events, int workers,
                          hidp__err *err);
void hidp__counters_destroy(hidp__counters *c);

/* The events that count, and what was dropped ("PAPI_TOT_CYC (no such event here), ..."; ""
 * when nothing). Strings owned by c. */
int hidp__counters_count(const hidp__counters *c);
const char *hidp__counters_name(const hidp__counters *c, int i);
const char *hidp__counters_missing(const hidp__counters *c);

/* The executor's probe reading c (valid while c lives). */
const hidp__exec_probe *hidp__counters_probe(const hidp__counters *c);

#endif
