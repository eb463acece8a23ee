/*
 * cli_energy.c - `--energy`: the power rails sampled from the first measured run's start to the
 * last one's end (one sampling window, not one per run: each start and stop reads every sensor,
 * an I2C transfer per file on an INA board), then joules per inference and watts per rail.
 */
#include <stdlib.h>

#include "cli.h"
#include "cli_energy.h"

struct cli_energy {
    hidp_context *ctx;
    hidp_energy *sensors;
    int started;
};

int cli_energy_begin(cli_profile *p, const char *cmd)
{
    if (!p->energy)
        return 0;
    struct cli_energy *en = calloc(1, sizeof *en);
    if (!en || hidp_context_create(&en->ctx, 0) != 0) {
        free(en);
        return cli_fail(cmd, "out of memory");
    }
    p->en = en;
    if (hidp_energy_open(en->ctx, p->sysfs_root, &en->sensors) != 0)
        return cli_fail(cmd, "--energy: %s", hidp_context_last_error(en->ctx));
    int readable = 0;
    for (int i = 0; i < hidp_energy_num_rails(en->sensors); i++) {
        hidp_rail_info r;
        if (hidp_energy_rail(en->sensors, i, &r) == 0 && !r.error[0])
            readable++;
    }
    if (!readable)
        return cli_fail(cmd, "--energy: no readable power sensor under %s (INA219/226/3221 "
                        "hwmon, Jetson iio ina3221x or Intel RAPL powercap)",
                        hidp_energy_root(en->sensors));
    return 0;
}

void cli_energy_run_start(cli_profile *p)
{
    struct cli_energy *en = p->en;
    if (en && en->sensors && !en->started)
        en->started = hidp_energy_start(en->sensors, 0) == 0;
}

void cli_energy_run_end(cli_profile *p)
{
    (void)p; /* the window stays open until cli_energy_end */
}

int cli_energy_end(cli_profile *p, const char *cmd)
{
    struct cli_energy *en = p->en;
    if (!en || !en->started)
        return 0;
    hidp_energy_report rep;
    en->started = 0;
    if (hidp_energy_stop(en->sensors, &rep) != 0)
        return cli_fail(cmd, "--energy: %s", hidp_context_last_error(en->ctx));
    FILE *f = p->table_to_stderr ? stderr : stdout;
    const int runs = p->runs > 0 ? p->runs : 1;
    fprintf(f, "energy %.3g J/inference (%s: %.3g J over %d run%s in %.4g s, %.2f W)\n",
            rep.total_joules / runs, rep.total_rule, rep.total_joules, runs,
            runs == 1 ? "" : "s", rep.seconds, rep.total_watts);
    for (int i = 0; i < hidp_energy_num_rails(en->sensors); i++) {
        hidp_rail_info r;
        if (hidp_energy_rail(en->sensors, i, &r) != 0)
            continue;
        if (r.error[0])
            fprintf(f, "  %-24s unreadable: %s\n", r.name, r.error);
        else
            fprintf(f, "  %-24s %.2f W%s\n", r.name, r.watts, r.in_total ? "  (in the total)" : "");
    }
    return 0;
}

void cli_energy_abort(cli_profile *p)
{
    struct cli_energy *en = p->en;
    if (!en)
        return;
    hidp_energy_close(en->sensors); /* stops a running sampler */
    hidp_context_destroy(en->ctx);
    free(en);
    p->en = NULL;
}
