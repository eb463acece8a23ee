/*
 * cli_profile.c - the shared profiling options (cli_profile.h): the per-layer table, its JSON,
 * and the Chrome trace-event file.
 *
 * The trace is written as the runs go, to a temporary file renamed into place at the end, so a
 * failed command leaves no partial trace. Its timestamps are microseconds from the first
 * profiled run; each worker is a thread (tid) named after its PU, one event per layer it had a
 * share of, per run. Perfetto and chrome://tracing open it as it is.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_energy.h"
#include "cli_measure.h"
#include "cli_profile.h"

int cli_profile_option(cli_profile *p, int ch, const char *arg)
{
    switch (ch) {
    case CLI_OPT_PROFILE: p->table = 1; return 1;
    case CLI_OPT_PROFILE_JSON: p->json_path = arg; return 1;
    case CLI_OPT_TRACE: p->trace_path = arg; return 1;
    case CLI_OPT_EVENTS: p->events = arg; return 1;
    case CLI_OPT_ENERGY: p->energy = 1; return 1;
    case CLI_OPT_SYSFS_ROOT: p->sysfs_root = arg; return 1;
    default: return 0;
    }
}

void cli_profile_usage(FILE *f)
{
    fprintf(f, "      --profile       per-layer table: wall time, share, GFLOP/s, each worker's\n"
               "                      time (means over the measured runs)\n"
               "      --profile-json FILE  the same as JSON\n"
               "      --events LIST   count events per layer and worker: PAPI names\n"
               "                      (PAPI_TOT_CYC,...), task-clock, page-faults,\n"
               "                      context-switches, cpu-migrations, or 'default'\n"
               "      --trace FILE    Chrome trace-event JSON, one track per worker (open it\n"
               "                      in https://ui.perfetto.dev or chrome://tracing)\n"
               "      --energy        joules per inference and watts per rail from the board's\n"
               "                      power sensors (INA219/226/3221, Jetson, Intel RAPL)\n"
               "      --sysfs-root DIR  read the sensors under DIR instead of / (also\n"
               "                      HIDP_SYSFS_ROOT)\n");
}

int cli_profile_wanted(const cli_profile *p)
{
    return p->table || p->json_path || p->trace_path || p->events || p->energy;
}

void cli_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        const unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

/* A temporary file next to path, "PATH.tmpXXXXXX", opened for writing with the mode a plain
 * fopen would give (mkstemp makes it 0600); its name goes to tmp. NULL on failure. */
static FILE *open_temp(const char *path, char *tmp, size_t len)
{
    snprintf(tmp, len, "%s.tmpXXXXXX", path);
    const int fd = mkstemp(tmp);
    if (fd < 0)
        return NULL;
    const mode_t mask = umask(0);
    umask(mask);
    FILE *f = fchmod(fd, 0666 & ~mask) == 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        close(fd);
        unlink(tmp);
    }
    return f;
}

int cli_profile_begin(cli_profile *p, const char *cmd, hidp_context *ctx, hidp_model *m)
{
    if (!(p->table || p->json_path || p->trace_path || p->events))
        return cli_energy_begin(p, cmd);
    if (hidp_model_profile(m, 1, p->events) != 0)
        return cli_fail(cmd, "%s", hidp_context_last_error(ctx));
    p->on = 1;
    if (*hidp_model_profile_missing(m))
        fprintf(stderr, "hidp %s: events not counted: %s\n", cmd, hidp_model_profile_missing(m));
    if (p->trace_path) {
        if (!(p->trace = open_temp(p->trace_path, p->trace_tmp, sizeof p->trace_tmp))) {
            p->trace_tmp[0] = '\0';
            return cli_fail(cmd, "cannot write the trace next to %s", p->trace_path);
        }
        fprintf(p->trace, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
        for (int w = 0; w < hidp_model_num_workers(m); w++) {
            hidp_worker_profile wp;
            hidp_model_profile_worker(m, 0, w, &wp);
            fprintf(p->trace, "%s{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":%d,"
                    "\"args\":{\"name\":\"worker %d", w ? ",\n" : "", w, w);
            if (wp.pu >= 0)
                fprintf(p->trace, " (PU %d)", wp.pu);
            fprintf(p->trace, "\"}}");
        }
    }
    return cli_energy_begin(p, cmd);
}

void cli_profile_run_start(cli_profile *p)
{
    p->run_ms = cli_now_ms();
    if (p->runs == 0)
        p->first_ms = p->run_ms;
    cli_energy_run_start(p);
}

int cli_profile_run_end(cli_profile *p, const char *cmd, hidp_model *m)
{
    const double end = cli_now_ms();
    p->measured_ms += end - p->run_ms;
    p->runs++;
    cli_energy_run_end(p);
    if (!p->trace)
        return 0;
    const double base_us = (p->run_ms - p->first_ms) * 1e3;
    for (int i = 0; i < hidp_model_num_layers(m); i++) {
        hidp_layer_info li;
        if (hidp_model_layer_info(m, i, &li) != 0)
            continue;
        for (int w = 0; w < hidp_model_num_workers(m); w++) {
            hidp_worker_profile wp;
            if (hidp_model_profile_worker(m, i, w, &wp) != 0 || wp.end_us <= 0)
                continue;
            fprintf(p->trace, ",\n{\"ph\":\"X\",\"pid\":1,\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f,"
                    "\"name\":", w, base_us + wp.start_us, wp.end_us - wp.start_us);
            cli_json_string(p->trace, li.name);
            fprintf(p->trace, ",\"cat\":");
            cli_json_string(p->trace, li.op_type);
            fprintf(p->trace, ",\"args\":{\"run\":%d,\"layer\":%d}}", p->runs - 1, i);
            p->trace_events++;
        }
    }
    if (ferror(p->trace))
        return cli_fail(cmd, "writing the trace %s failed", p->trace_path);
    return 0;
}

/* The index of event `name` among those counted, or -1. */
static int find_event(const hidp_model *m, const char *name)
{
    for (int k = 0; k < hidp_model_profile_num_events(m); k++)
        if (!strcmp(hidp_model_profile_event(m, k), name))
            return k;
    return -1;
}

static void print_table(const cli_profile *p, const hidp_model *m, FILE *f)
{
    const int workers = hidp_model_num_workers(m), ne = hidp_model_profile_num_events(m);
    const int cyc = find_event(m, "PAPI_TOT_CYC"), ins = find_event(m, "PAPI_TOT_INS");
    int32_t runs = 0;
    const double total = hidp_model_profile_total_ms(m, &runs);
    const double per = runs > 0 ? 1.0 / runs : 0;
    fprintf(f, "profile: %d run%s, %d worker%s; times are means per run\n", runs, runs == 1 ? "" : "s",
           workers, workers == 1 ? "" : "s");
    fprintf(f, "%4s  %-32s %-14s %9s %9s %6s %8s", "#", "layer", "op", "MFLOP", "wall ms", "share",
           "GFLOP/s");
    for (int w = 0; w < workers && workers <= 4; w++)
        fprintf(f, "   w%d ms", w);
    for (int k = 0; k < ne; k++)
        fprintf(f, " %14.14s", hidp_model_profile_event(m, k));
    if (cyc >= 0 && ins >= 0)
        fprintf(f, "   IPC");
    fprintf(f, "\n");
    double sum = 0;
    for (int i = 0; i < hidp_model_num_layers(m); i++) {
        hidp_layer_info li;
        hidp_layer_profile lp;
        if (hidp_model_layer_info(m, i, &li) != 0 || hidp_model_profile_layer(m, i, &lp) != 0)
            continue;
        const double wall = lp.wall_ms * per;
        sum += wall;
        fprintf(f, "%4d  %-32.32s %-14.14s %9.2f %9.3f %5.1f%% %8.1f", i, li.name, li.op_type,
               li.mflops, wall, total > 0 ? 100.0 * lp.wall_ms / total : 0,
               wall > 0 ? li.mflops / wall : 0);
        for (int w = 0; w < workers && workers <= 4; w++) {
            hidp_worker_profile wp;
            hidp_model_profile_worker(m, i, w, &wp);
            fprintf(f, " %8.3f", wp.busy_ms * per);
        }
        for (int k = 0; k < ne; k++)
            fprintf(f, " %14.0f", (double)lp.counts[k] * per);
        if (cyc >= 0 && ins >= 0)
            fprintf(f, " %5.2f", lp.counts[cyc] > 0 ? (double)lp.counts[ins] / lp.counts[cyc] : 0);
        fprintf(f, "\n");
    }
    const double measured = p->runs > 0 ? p->measured_ms / p->runs : 0;
    fprintf(f, "total: layers %.3f ms per run, %.1f%% of the %.3f ms measured around each run\n",
           sum, measured > 0 ? 100.0 * sum / measured : 0, measured);
}

static int write_json(const cli_profile *p, const hidp_model *m, const char *model_name,
                      FILE *f)
{
    const int workers = hidp_model_num_workers(m), ne = hidp_model_profile_num_events(m);
    int32_t runs = 0;
    const double total = hidp_model_profile_total_ms(m, &runs), per = runs > 0 ? 1.0 / runs : 0;
    fprintf(f, "{\"model\":");
    cli_json_string(f, model_name);
    fprintf(f, ",\"runs\":%d,\"workers\":%d,\"total_ms\":%.6g,\"measured_ms\":%.6g,\"events\":[",
            runs, workers, total * per, p->runs > 0 ? p->measured_ms / p->runs : 0);
    for (int k = 0; k < ne; k++) {
        fprintf(f, k ? "," : "");
        cli_json_string(f, hidp_model_profile_event(m, k));
    }
    fprintf(f, "],\"missing\":");
    cli_json_string(f, hidp_model_profile_missing(m));
    fprintf(f, ",\"layers\":[");
    for (int i = 0; i < hidp_model_num_layers(m); i++) {
        hidp_layer_info li;
        hidp_layer_profile lp;
        if (hidp_model_layer_info(m, i, &li) != 0 || hidp_model_profile_layer(m, i, &lp) != 0)
            continue;
        const double wall = lp.wall_ms * per;
        fprintf(f, "%s\n{\"index\":%d,\"name\":", i ? "," : "", i);
        cli_json_string(f, li.name);
        fprintf(f, ",\"op\":");
        cli_json_string(f, li.op_type);
        fprintf(f, ",\"mflops\":%.6g,\"wall_ms\":%.6g,\"share\":%.6g,\"gflops\":%.6g,\"workers\":[",
                li.mflops, wall, total > 0 ? lp.wall_ms / total : 0,
                wall > 0 ? li.mflops / wall : 0);
        for (int w = 0; w < workers; w++) {
            hidp_worker_profile wp;
            hidp_model_profile_worker(m, i, w, &wp);
            fprintf(f, "%s{\"worker\":%d,\"pu\":%d,\"busy_ms\":%.6g,\"counts\":{", w ? "," : "", w,
                    wp.pu, wp.busy_ms * per);
            for (int k = 0; k < ne; k++) {
                fprintf(f, k ? "," : "");
                cli_json_string(f, hidp_model_profile_event(m, k));
                fprintf(f, ":%.6g", (double)wp.counts[k] * per);
            }
            fprintf(f, "}}");
        }
        fprintf(f, "]}");
    }
    fprintf(f, "\n]}\n");
    return ferror(f) ? -1 : 0;
}

/* Writes the JSON profile to path through a temporary file renamed into place. */
static int save_json(const cli_profile *p, const hidp_model *m, const char *model_name,
                     const char *cmd)
{
    char tmp[4200];
    FILE *f = open_temp(p->json_path, tmp, sizeof tmp);
    if (!f)
        return cli_fail(cmd, "cannot write the profile next to %s", p->json_path);
    int bad = write_json(p, m, model_name, f);
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, p->json_path) != 0) {
        unlink(tmp);
        return cli_fail(cmd, "writing the profile %s failed", p->json_path);
    }
    return 0;
}

int cli_profile_end(cli_profile *p, const char *cmd, hidp_model *m, const char *model_name)
{
    int status = cli_energy_end(p, cmd);
    if (p->on && p->table)
        print_table(p, m, p->table_to_stderr ? stderr : stdout);
    if (p->on && p->json_path && save_json(p, m, model_name, cmd) != 0)
        status = 1;
    if (p->trace) {
        fprintf(p->trace, "\n]}\n");
        int bad = ferror(p->trace);
        bad |= fclose(p->trace) != 0;
        p->trace = NULL;
        if (bad || rename(p->trace_tmp, p->trace_path) != 0) {
            status = cli_fail(cmd, "writing the trace %s failed", p->trace_path);
            unlink(p->trace_tmp);
        } else {
            fprintf(stderr, "hidp %s: trace of %d runs (%ld events) in %s\n", cmd, p->runs,
                    p->trace_events, p->trace_path);
        }
        p->trace_tmp[0] = '\0';
    }
    if (p->on)
        hidp_model_profile(m, 0, NULL);
    p->on = 0;
    return status;
}

void cli_profile_abort(cli_profile *p)
{
    if (p->trace) {
        fclose(p->trace);
        p->trace = NULL;
    }
    if (p->trace_tmp[0])
        unlink(p->trace_tmp);
    p->trace_tmp[0] = '\0';
    cli_energy_abort(p);
}
