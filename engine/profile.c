/*
 * profile.c - per-layer profiling of a prepared model (hidp_model_profile): the executor's
 * per-slice records of each run (exec.h) summed per layer and per worker, with the event counts
 * of counters.h.
 */
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "exec.h"
#include "model.h"

typedef struct worker_sum {
    double busy_s;
    double start_us, end_us; /* last run */
    int busy_last;           /* whether the worker had a part of the layer in the last run */
    long long counts[HIDP__EXEC_MAX_COUNTERS];
} worker_sum;

struct hidp__profile {
    hidp__counters *ctr;   /* NULL: times only */
    int runs, threads, nodes;
    double total_s;
    double *wall_s;        /* [node] */
    worker_sum *ws;        /* [node * threads + worker] */
};

static void profile_free(struct hidp__profile *p)
{
    if (!p)
        return;
    hidp__counters_destroy(p->ctr);
    free(p->wall_s);
    free(p->ws);
    free(p);
}

void hidp__profile_stop(hidp_model *m)
{
    hidp__err err = {0, ""};
    if (m->prof && m->exec && !m->tuner) /* tuning keeps its own timestamps on */
        hidp__exec_profile(m->exec, HIDP__PROFILE_OFF, NULL, &err);
    else if (m->prof && m->exec)
        hidp__exec_profile(m->exec, HIDP__PROFILE_AS_RUN, NULL, &err);
    profile_free(m->prof);
    m->prof = NULL;
}

const hidp__exec_probe *hidp__model_probe(const hidp_model *m)
{
    return m->prof && m->prof->ctr ? hidp__counters_probe(m->prof->ctr) : NULL;
}

int hidp_model_profile(hidp_model *m, int on, const char *events)
{
    hidp__err err = {0, ""};
    if (!m)
        return HIDP_EINVAL;
    if (!m->prepared)
        return hidp__ctx_fail(m->ctx, HIDP_ESTATE, "hidp_model_profile: the model is not "
                              "prepared (call hidp_model_prepare first)");
    hidp__profile_stop(m);
    if (!on)
        return 0;
    struct hidp__profile *p = calloc(1, sizeof *p);
    const int t = hidp__exec_threads(m->exec), n = m->g.n_nodes;
    const size_t nn = (size_t)(n > 0 ? n : 1);
    int rc = HIDP_ENOMEM;
    if (!p || !(p->wall_s = calloc(nn, sizeof *p->wall_s)) ||
        !(p->ws = calloc(nn * (size_t)t, sizeof *p->ws))) {
        hidp__fail(&err, rc, "out of memory for the profile");
        goto fail;
    }
    p->threads = t;
    p->nodes = n;
    if (events && *events) {
        if ((rc = hidp__counters_create(&p->ctr, events, t, &err)) != 0)
            goto fail;
        if (*hidp__counters_missing(p->ctr))
            hidp__log(m->ctx, HIDP_LOG_WARN, "events left out: %s",
                      hidp__counters_missing(p->ctr));
    }
    if ((rc = hidp__exec_profile(m->exec, HIDP__PROFILE_AS_RUN,
                                 p->ctr ? hidp__counters_probe(p->ctr) : NULL, &err)) != 0)
        goto fail;
    m->prof = p;
    return 0;
fail:
    profile_free(p);
    return hidp__ctx_error(m->ctx, rc, &err);
}

void hidp__profile_add_run(hidp_model *m)
{
    struct hidp__profile *p = m->prof;
    int64_t start;
    const hidp__exec_rec *rec = hidp__exec_records(m->exec, &start);
    if (!p || !rec || p->nodes < 1)
        return;
    const int nc = hidp__counters_count(p->ctr);
    /* Helping, a worker's record is the work it did, none when worker 0 took all of its chunks
     * back; otherwise its slice, which it ran. */
    const int helping = hidp__exec_helping(m->exec);
    for (int i = 0; i < p->nodes; i++) {
        p->wall_s[i] += hidp__exec_node_seconds(m->exec, i);
        for (int w = 0; w < p->threads; w++) {
            const size_t at = (size_t)i * (size_t)p->threads + (size_t)w;
            const hidp__slice s = hidp__exec_slice(m->exec, i, w);
            worker_sum *ws = &p->ws[at];
            const int busy = helping ? rec[at].end > rec[at].start : s.c1 > s.c0 && s.h1 > s.h0;
            ws->busy_last = busy;
            ws->start_us = busy ? (double)(rec[at].start - start) * 1e-3 : 0;
            ws->end_us = busy ? (double)(rec[at].end - start) * 1e-3 : 0;
            if (!busy)
                continue;
            ws->busy_s += (double)(rec[at].end - rec[at].start) * 1e-9;
            for (int k = 0; k < nc; k++)
                ws->counts[k] += rec[at].counts[k];
        }
    }
    p->total_s += hidp__exec_run_seconds(m->exec);
    p->runs++;
}

int hidp_model_profile_num_events(const hidp_model *m)
{
    return m && m->prof ? hidp__counters_count(m->prof->ctr) : 0;
}

const char *hidp_model_profile_event(const hidp_model *m, int i)
{
    return m && m->prof ? hidp__counters_name(m->prof->ctr, i) : "";
}

const char *hidp_model_profile_missing(const hidp_model *m)
{
    return m && m->prof ? hidp__counters_missing(m->prof->ctr) : "";
}

/* HIDP_ESTATE / HIDP_EINVAL with a message, or 0 when layer (and worker) are in range. */
static int check_index(const hidp_model *m, int layer, int worker, const char *fn)
{
    if (!m->prof)
        return hidp__ctx_fail(m->ctx, HIDP_ESTATE, "%s: profiling is off (hidp_model_profile)",
                              fn);
    if (layer < 0 || layer >= m->prof->nodes || worker < 0 || worker >= m->prof->threads)
        return hidp__ctx_fail(m->ctx, HIDP_EINVAL, "%s: layer %d / worker %d out of range "
                              "(%d layers, %d workers)", fn, layer, worker, m->prof->nodes,
                              m->prof->threads);
    return 0;
}

int hidp_model_profile_layer(const hidp_model *m, int layer, hidp_layer_profile *out)
{
    if (!m || !out)
        return HIDP_EINVAL;
    int rc = check_index(m, layer, 0, "hidp_model_profile_layer");
    if (rc)
        return rc;
    const struct hidp__profile *p = m->prof;
    memset(out, 0, sizeof *out);
    out->runs = p->runs;
    out->wall_ms = p->wall_s[layer] * 1e3;
    for (int w = 0; w < p->threads; w++) {
        const worker_sum *ws = &p->ws[(size_t)layer * (size_t)p->threads + (size_t)w];
        out->workers += ws->busy_last;
        out->busy_ms += ws->busy_s * 1e3;
        for (int k = 0; k < HIDP_MAX_EVENTS && k < HIDP__EXEC_MAX_COUNTERS; k++)
            out->counts[k] += ws->counts[k];
    }
    return 0;
}

int hidp_model_profile_worker(const hidp_model *m, int layer, int worker,
                              hidp_worker_profile *out)
{
    if (!m || !out)
        return HIDP_EINVAL;
    int rc = check_index(m, layer, worker, "hidp_model_profile_worker");
    if (rc)
        return rc;
    const worker_sum *ws = &m->prof->ws[(size_t)layer * (size_t)m->prof->threads + (size_t)worker];
    memset(out, 0, sizeof *out);
    out->pu = hidp__exec_pu(m->exec, worker);
    out->start_us = ws->start_us;
    out->end_us = ws->end_us;
    out->busy_ms = ws->busy_s * 1e3;
    for (int k = 0; k < HIDP_MAX_EVENTS && k < HIDP__EXEC_MAX_COUNTERS; k++)
        out->counts[k] = ws->counts[k];
    return 0;
}

int hidp_model_num_workers(const hidp_model *m)
{
    return m && m->exec ? hidp__exec_threads(m->exec) : 0;
}

double hidp_model_profile_total_ms(const hidp_model *m, int32_t *runs)
{
    if (runs)
        *runs = m && m->prof ? m->prof->runs : 0;
    return m && m->prof ? m->prof->total_s * 1e3 : 0;
}
