/*
 * energy_api.c - the public hidp_energy_* calls (hidp.h) over the sensors and sampler of
 * energy.h, with errors kept in the context like every other call.
 */
#include <stdlib.h>
#include <string.h>

#include "energy.h"
#include "model.h"

struct hidp_energy {
    hidp_context *ctx;
    hidp__energy *e;
    hidp__energy_report last; /* the last stop's report (rail stats owned by e) */
    int reported;
};

int hidp_energy_open(hidp_context *ctx, const char *sysfs_root, hidp_energy **out)
{
    hidp__err err = {0, ""};
    if (!ctx || !out)
        return HIDP_EINVAL;
    *out = NULL;
    hidp_energy *h = calloc(1, sizeof *h);
    if (!h)
        return hidp__ctx_fail(ctx, HIDP_ENOMEM, "out of memory opening the power sensors");
    int rc = hidp__energy_open(&h->e, sysfs_root, &err);
    if (rc) {
        free(h);
        return hidp__ctx_error(ctx, rc, &err);
    }
    h->ctx = ctx;
    *out = h;
    return 0;
}

void hidp_energy_close(hidp_energy *h)
{
    if (!h)
        return;
    hidp__energy_close(h->e);
    free(h);
}

const char *hidp_energy_root(const hidp_energy *h)
{
    return h ? hidp__energy_root(h->e) : "";
}

int hidp_energy_num_rails(const hidp_energy *h)
{
    return h ? hidp__energy_rail_count(h->e) : 0;
}

int hidp_energy_rail(const hidp_energy *h, int i, hidp_rail_info *out)
{
    if (!h || !out)
        return HIDP_EINVAL;
    if (i < 0 || i >= hidp__energy_rail_count(h->e))
        return hidp__ctx_fail(h->ctx, HIDP_EINVAL, "hidp_energy_rail: rail %d out of range "
                              "(%d rails)", i, hidp__energy_rail_count(h->e));
    const hidp__rail *r = hidp__energy_rail(h->e, i);
    memset(out, 0, sizeof *out);
    out->name = r->name;
    out->kind = hidp__rail_kind_name(r->kind);
    out->error = r->error;
    if (h->reported && i < h->last.n_rails) {
        out->joules = h->last.rail[i].joules;
        out->watts = h->last.rail[i].watts;
        out->in_total = h->last.rail[i].in_total;
    }
    return 0;
}

int hidp_energy_start(hidp_energy *h, uint32_t period_us)
{
    hidp__err err = {0, ""};
    if (!h)
        return HIDP_EINVAL;
    const int rc = hidp__energy_start(h->e, period_us, &err);
    h->reported = 0; /* the last report's rail stats are reused by the sampler */
    return rc ? hidp__ctx_error(h->ctx, rc, &err) : 0;
}

int hidp_energy_stop(hidp_energy *h, hidp_energy_report *out)
{
    hidp__err err = {0, ""};
    if (!h || !out)
        return HIDP_EINVAL;
    const int rc = hidp__energy_stop(h->e, &h->last, &err);
    if (rc)
        return hidp__ctx_error(h->ctx, rc, &err);
    h->reported = 1;
    out->seconds = h->last.seconds;
    out->total_joules = h->last.total_joules;
    out->total_watts = h->last.total_watts;
    out->total_rule = hidp__energy_total_name(h->last.total_rule);
    return 0;
}
