/*
 * energy_impl.h - what engine/energy_rail.c (discovery, reading) and engine/energy_sampler.c
 * (the thread, integration, report) share about a handle. Nothing else includes it.
 */
#ifndef HIDP_ENERGY_IMPL_H
#define HIDP_ENERGY_IMPL_H

#include <pthread.h>

#include "energy.h"

/* A rail with how to read it and its integration state. */
typedef struct hidp__rail_src {
    hidp__rail info;
    char file[2][1024]; /* the value file; for V x I, the voltage then the current file */
    int nfiles;
    double scale; /* raw value (or product of both) -> watts, or -> joules for counters */
    int counter;  /* 1: an energy counter (RAPL), 0: a power reading */
    double range; /* counter modulus: max_energy_range_uj + 1, raw units */
    /* Sampler state, touched only by the sampling thread while it runs. */
    int have_prev;
    double first_raw, first_t; /* the first good reading of the run */
    double prev_raw, prev_t;
    double joules, max_gap;
    int samples, errors;
} hidp__rail_src;

struct hidp__energy {
    char root[1024]; /* prefix put before /sys ("" for the real system) */
    hidp__rail_src *rails;
    int n;
    hidp__rail_stat *stat; /* n entries, filled by stop */
    /* Sampler. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int sync_ready; /* mu and cv initialised */
    int thread_on;  /* a thread was created and not yet joined */
    int running;    /* between start and stop */
    int stop;       /* under mu: the thread must return */
    unsigned period_us;
    double t_start;
    int rounds;
};

/* Reads rail r's raw value (product of both files for V x I). Returns 0, or HIDP_EIO /
 * HIDP_EFORMAT with why (naming the file) in why[len] when why is not NULL. */
int hidp__rail_read_raw(const hidp__rail_src *r, double *raw, char *why, size_t len);

#endif
