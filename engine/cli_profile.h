/*
 * cli_profile.h - the profiling options `hidp run` and `hidp bench` share: --profile (a
 * per-layer table), --profile-json FILE, --events LIST (counters), --trace FILE (Chrome
 * trace-event JSON, one track per worker) and --energy / --sysfs-root (joules per inference
 * from the board's power sensors).
 *
 * A command parses them with cli_profile_option, then around its measured runs calls
 * cli_profile_begin (after prepare and tuning), cli_profile_run_start / cli_profile_run_end
 * per run, and cli_profile_end (prints and writes everything, or nothing on failure).
 */
#ifndef HIDP_CLI_PROFILE_H
#define HIDP_CLI_PROFILE_H

#include <getopt.h>
#include <stdio.h>

#include "hidp.h"

/* getopt_long codes for the shared options (outside any short option's range). */
enum {
    CLI_OPT_PROFILE = 0x100,
    CLI_OPT_PROFILE_JSON,
    CLI_OPT_TRACE,
    CLI_OPT_EVENTS,
    CLI_OPT_ENERGY,
    CLI_OPT_SYSFS_ROOT,
};

#define CLI_PROFILE_LONG_OPTIONS                                                                   \
    {"profile", no_argument, NULL, CLI_OPT_PROFILE},                                               \
        {"profile-json", required_argument, NULL, CLI_OPT_PROFILE_JSON},                           \
        {"trace", required_argument, NULL, CLI_OPT_TRACE},                                         \
        {"events", required_argument, NULL, CLI_OPT_EVENTS},                                       \
        {"energy", no_argument, NULL, CLI_OPT_ENERGY},                                             \
        {"sysfs-root", required_argument, NULL, CLI_OPT_SYSFS_ROOT}

struct cli_energy;

typedef struct cli_profile {
    /* options */
    int table, table_to_stderr;
    const char *json_path, *trace_path, *events, *sysfs_root;
    int energy;
    /* while measuring */
    int on;                /* the model is being profiled */
    FILE *trace;           /* the trace being written, to a temporary name */
    char trace_tmp[4200];
    long trace_events;
    double first_ms, run_ms, measured_ms;
    int runs;
    struct cli_energy *en; /* cli_energy.c */
} cli_profile;

/* Takes option ch (one of CLI_OPT_*); returns 1 if it was one of them. */
int cli_profile_option(cli_profile *p, int ch, const char *arg);
/* The options' lines of a usage text. */
void cli_profile_usage(FILE *f);
/* Whether any profiling option was given. */
int cli_profile_wanted(const cli_profile *p);

/* Starts profiling m (prepared, tuned) and opens the trace; 0, or 1 after printing why. */
int cli_profile_begin(cli_profile *p, const char *cmd, hidp_context *ctx, hidp_model *m);
void cli_profile_run_start(cli_profile *p);
/* After each run: its events go to the trace. 0, or 1 after printing why. */
int cli_profile_run_end(cli_profile *p, const char *cmd, hidp_model *m);
/* Prints the table (stdout), writes the JSON and the trace; 0, or 1 after printing why. */
int cli_profile_end(cli_profile *p, const char *cmd, hidp_model *m, const char *model_name);
/* Drops everything half done (the trace's temporary file); safe to call after end. */
void cli_profile_abort(cli_profile *p);

#endif
