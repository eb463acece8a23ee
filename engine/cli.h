/*
 * cli.h - the `hidp` command-line tool: one function per subcommand, plus shared helpers.
 * Subcommands print results on stdout and one-line errors ("hidp run: ...") on stderr, and
 * return the process exit status: 0 success, 1 failure, 2 bad usage.
 */
#ifndef HIDP_CLI_H
#define HIDP_CLI_H

#include <stdio.h>

#include "hidp.h"

int cli_info_main(int argc, char **argv);
int cli_run_main(int argc, char **argv);
int cli_zoo_main(int argc, char **argv);
int cli_bench_main(int argc, char **argv);
int cli_topo_main(int argc, char **argv);

/* Prints "hidp CMD: message" on stderr; returns 1. */
int cli_fail(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Parses a positive integer option value in [lo, hi]; returns 0 or -1 (after printing). */
int cli_parse_int(const char *cmd, const char *opt, const char *text, int lo, int hi, int *out);
/* Applies --cores (NULL: leave the default) and --split ("calibrated" or "equal", NULL: default)
 * to ctx; returns 0, or 2 after printing a bad --split. */
int cli_set_placement(const char *cmd, hidp_context *ctx, const char *cores, const char *split);
/* Loads MODEL with ctx, printing the library's message on failure. */
int cli_load_model(const char *cmd, hidp_context *ctx, const char *path, hidp_model **out);
/* Writes s as a JSON string, quoted and escaped. */
void cli_json_string(FILE *f, const char *s);
/* Writes dims as "1x3x224x224". */
void cli_format_dims(char *buf, size_t len, const int64_t *dims, int ndim);

#endif
