/*
 * calib.h - the measured speed of each core kind (sched/calib.c), cached per board.
 */
#ifndef HIDP_CALIB_H
#define HIDP_CALIB_H

#include <stddef.h>

#include "topo.h"

/* Fills every kind's speed (GFLOP/s per PU, all PUs running at once) and speed_alone (one PU of
 * the kind by itself). mode HIDP_CALIB_CACHED reads this topology's cache file if there is one
 * and measures nothing (no file is not an error); HIDP_CALIB_AUTO reads the file or else
 * measures on this machine and writes it; HIDP_CALIB_FORCE measures and rewrites it. Measuring
 * needs the topology to be this machine's (HIDP_EUNSUPPORTED otherwise) and takes about 40 ms
 * per kind plus 40 ms with every PU busy. */
int hidp__calibrate(hidp__topo *t, int mode, hidp__err *err);

/* Microseconds for a worker asleep at a barrier on PU b to run again once woken from PU a
 * (measured on a thread of its own; the caller's binding is untouched). */
double hidp__calib_wake_us(const hidp__topo *t, int a, int b);

/* The cache file of this topology: <cache dir>/calibration-<signature>.txt. */
int hidp__calib_path(const hidp__topo *t, char *buf, size_t len, hidp__err *err);

#endif
