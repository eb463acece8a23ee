/*
 * energy.h - power rails read from sysfs (INA power monitors, Intel RAPL) and a sampling thread
 * that integrates them over a run: joules per rail, average watts, and a board total.
 *
 * Rails are found under a sysfs root (engine/energy_rail.c), by driver name and label, never by
 * fixed hwmonN / iio:deviceN numbers:
 *   hwmon `ina2xx` (name ina219, ina226, ina230, ...)  power1_input (uW), else
 *                                                     in1_input (bus mV) x curr1_input (mA);
 *                                                     named by the hwmon `label` file or the chip
 *   hwmon `ina3221`                                   inN_input (mV) x currN_input (mA), N = 1..3,
 *                                                     named by inN_label; channels whose
 *                                                     inN_enable reads 0 are skipped
 *   iio `ina3221x` (Jetson legacy, L4T 32)            in_powerN_input (mW), named by rail_name_N
 *   powercap `intel-rapl:*` zones                     energy_uj, a counter that wraps after
 *                                                     max_energy_range_uj; subzones are named
 *                                                     "<package>/<zone>", e.g. package-0/core
 *
 * The sampler (engine/energy_sampler.c) reads every rail each period on CLOCK_MONOTONIC. A power
 * rail is integrated with the trapezoid rule over its own reading times, its first and last
 * values held out to the run's start and stop; a counter rail adds the counter's deltas, adding
 * max_energy_range_uj + 1 when it goes backwards (so one wrap per period at most: RAPL's range
 * lasts about 40 minutes at 100 W). Readings that fail during a run are counted and bridged: the
 * next good one integrates across the gap.
 *
 * The total never counts one joule twice. It is, in this order of preference:
 *   1. the input rails (VDD_IN, POM_5V_IN, RAPL psys): they feed everything else on the board;
 *   2. else the top-level RAPL domains (package-N, and dram, which is not inside a package);
 *      their core/uncore subzones are inside them;
 *   3. else the sum of the other rails (INA boards with no known input rail).
 * Only rails that could be read take part; a rail that fails at open is skipped and rule 1 or 2
 * falls through to the next.
 *
 * Thread-safety: one thread drives a handle (open, start, stop, close); the sampler is the
 * handle's own thread. hidp__energy_read may be called from any thread at any time.
 */
#ifndef HIDP_ENERGY_H
#define HIDP_ENERGY_H

#include "error.h"

/* Sampling period used when hidp__energy_start is given 0: an INA3221 register read is an I2C
 * transfer of a few hundred microseconds, and its conversions take milliseconds anyway. */
#define HIDP__ENERGY_PERIOD_US 10000u

typedef struct hidp__energy hidp__energy;

typedef enum hidp__rail_kind {
    HIDP__RAIL_INA2XX,   /* hwmon ina2xx: power1_input, or in1_input x curr1_input */
    HIDP__RAIL_INA3221,  /* hwmon ina3221: inN_input x currN_input */
    HIDP__RAIL_INA3221X, /* Jetson legacy iio ina3221x: in_powerN_input */
    HIDP__RAIL_RAPL      /* powercap intel-rapl zone: energy_uj counter */
} hidp__rail_kind;

/* How a rail relates to the others, which decides the total (see above). */
typedef enum hidp__rail_role {
    HIDP__ROLE_INPUT,   /* the board's input: VDD_IN, POM_5V_IN, RAPL psys */
    HIDP__ROLE_PACKAGE, /* a top-level RAPL domain: package-N, dram */
    HIDP__ROLE_SUBZONE, /* inside a package: RAPL core, uncore */
    HIDP__ROLE_RAIL     /* any other rail */
} hidp__rail_role;

/* Which rule chose the total. */
typedef enum hidp__energy_total {
    HIDP__TOTAL_NONE,     /* no rail could be read */
    HIDP__TOTAL_INPUT,    /* the input rails */
    HIDP__TOTAL_PACKAGES, /* the top-level RAPL domains */
    HIDP__TOTAL_SUM       /* the sum of the other rails */
} hidp__energy_total;

/* One rail as discovered. */
typedef struct hidp__rail {
    char name[64]; /* VDD_IN, POM_5V_GPU, package-0/core, ina226 (made unique: "@dir") */
    hidp__rail_kind kind;
    hidp__rail_role role;
    char path[1024];  /* the directory holding its files, under the root */
    const char *what; /* the files read, e.g. "inN_input (mV) x currN_input (mA)" */
    char error[320];  /* "" if readable at open, else why not (naming the file): such a
                       * rail is listed but never sampled and left out of the total */
} hidp__rail;

/* Per rail, over one start..stop. */
typedef struct hidp__rail_stat {
    double joules;
    double watts; /* joules / report seconds */
    int samples;  /* readings that succeeded */
    int errors;   /* readings that failed during the run (bridged by the integration) */
    int in_total; /* 1 if counted in the report's total */
} hidp__rail_stat;

typedef struct hidp__energy_report {
    double t_start, t_end; /* CLOCK_MONOTONIC seconds around the first and last readings */
    double seconds;        /* t_end - t_start */
    double max_gap;        /* longest time between two good readings of one rail, seconds */
    int rounds;            /* sampling rounds, the ones in start and stop included */
    int n_rails;
    const hidp__rail_stat *rail; /* n_rails entries, indexed as hidp__energy_rail(); owned by the
                                  * handle, valid until the next start or close */
    hidp__energy_total total_rule;
    double total_joules;
    double total_watts; /* total_joules / seconds */
} hidp__energy_report;

/* Discovers the rails under sysfs_root: NULL means getenv("HIDP_SYSFS_ROOT"), or the real /sys
 * when that is unset or empty; "" is the real /sys; any other string is a directory that holds a
 * sys/ tree (at most 512 bytes, else HIDP_EINVAL). A root that does not exist or is not a
 * directory is HIDP_EIO naming it. Finding no rail is not an error (hidp__energy_rail_count 0).
 * The caller owns *out (hidp__energy_close). */
int hidp__energy_open(hidp__energy **out, const char *sysfs_root, hidp__err *err);

/* Stops a running sampler and frees everything. NULL is allowed. */
void hidp__energy_close(hidp__energy *e);

/* The root searched, "/" for the real system: for "no power sensors found under <root>". */
const char *hidp__energy_root(const hidp__energy *e);

int hidp__energy_rail_count(const hidp__energy *e);

/* Rail i (0 <= i < count); input rails come first, then the others in discovery order. */
const hidp__rail *hidp__energy_rail(const hidp__energy *e, int i);

/* Reads rail i once: watts for a power rail, the counter in joules for a RAPL rail. Fails with
 * HIDP_EIO (file missing or unreadable) or HIDP_EFORMAT (not a number) naming the file. */
int hidp__energy_read(const hidp__energy *e, int i, double *value, hidp__err *err);

/* Takes a first reading of every rail now, then starts a thread that reads them every period_us
 * microseconds (0: HIDP__ENERGY_PERIOD_US). HIDP_ESTATE if already started; HIDP_ESYSTEM if the
 * thread cannot be created. With no readable rail no thread is started, and stop still reports
 * the elapsed time. */
int hidp__energy_start(hidp__energy *e, unsigned period_us, hidp__err *err);

/* Stops the thread (at once, not at its next period), takes a last reading of every rail and
 * fills *r. HIDP_ESTATE if not started. */
int hidp__energy_stop(hidp__energy *e, hidp__energy_report *r, hidp__err *err);

/* "ina2xx", "ina3221", "ina3221x", "rapl". */
const char *hidp__rail_kind_name(hidp__rail_kind kind);

/* "none", "input rails", "RAPL packages", "sum of rails". */
const char *hidp__energy_total_name(hidp__energy_total rule);

#endif
