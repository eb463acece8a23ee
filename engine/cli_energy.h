/*
 * cli_energy.h - `--energy` for `hidp run` and `hidp bench`: the board's power rails sampled
 * around the measured runs (engine/energy.h), reported as joules per inference and average
 * watts per rail.
 */
#ifndef HIDP_CLI_ENERGY_H
#define HIDP_CLI_ENERGY_H

#include "cli_profile.h"

/* Opens the sensors when p asks for --energy; 0, or 1 after printing why. */
int cli_energy_begin(cli_profile *p, const char *cmd);
/* Sampling covers each measured run (and only those). */
void cli_energy_run_start(cli_profile *p);
void cli_energy_run_end(cli_profile *p);
/* Prints "energy X J/inference" and the rails; 0, or 1 after printing why. */
int cli_energy_end(cli_profile *p, const char *cmd);
void cli_energy_abort(cli_profile *p);

#endif
