/*
 * exec_plan.c - the executor's plan: each node's slice per worker, and where the workers meet.
 *
 * Slices are planned at create time and again whenever the plan changes (hidp__exec_plan,
 * between runs: the tuner's trials and its verdict). Each node's output channels are cut into
 * one contiguous range per worker (rounded to 16 channels when there are plenty, so a worker's
 * GEMM panel stays whole), or its rows when there are too few channels (or the op prefers rows),
 * or the node runs on worker 0 alone when it is too small to be worth splitting. With a
 * placement (sched/place.h) the ranges follow each worker's share, its core kind's calibrated
 * speed allowing for a slower worker's wake-up. A barrier is left out where no worker can read
 * what another has not finished. When helping (exec_help.c), worker 1's share of each node that
 * can write aside is cut into chunks.
 */
#include <math.h>
#include <stdint.h>

#include "exec_impl.h"
#include "../sched/split.h"

/* With cores of unequal calibrated speed (weights in GFLOP/s, worker 0 the fastest): whether
 * worker 0 alone finishes `work` sooner than all of them plus the wake-up of a worker that slept
 * at the barrier before (measured at calibration). Short layers then stay on the fast core
 * instead of waiting for a slow one to wake. A slower worker sleeps only while its CPU is
 * scarce (sched/contention.h); otherwise it spins and there is no wake-up to allow for. */
static int solo_is_faster(const hidp__exec *e, double work)
{
    if (!e->weight || e->wake_s <= 0 || !hidp__exec_slower_scarce(e))
        return 0;
    double sum = 0, lo = e->weight[0], hi = e->weight[0];
    for (int w = 0; w < e->threads; w++) {
        sum += e->weight[w];
        lo = e->weight[w] < lo ? e->weight[w] : lo;
        hi = e->weight[w] > hi ? e->weight[w] : hi;
    }
    if (lo == hi || e->weight[0] < hi)
        return 0;
    return work / (sum * 1e9) + e->wake_s >= work / (e->weight[0] * 1e9);
}

/* A node's estimated work: its flops, or its output elements when those are more (a copy or
 * an elementwise op costs per element). */
double hidp__exec_node_work(const hidp__graph *g, const hidp__node *n)
{
    const hidp__value *y = hidp__out(g, n, 0);
    const double elements = y ? (double)hidp__shape_count(&y->shape) : 0;
    return elements > n->flops ? elements : n->flops;
}

/* Before measurement says otherwise (hidp__exec_plan), whether node i is too small to split:
 * its work under HIDP__EXEC_MIN_SPLIT, or the fast core alone beats waking a slow one. */
static int small_by_estimate(const hidp__exec *e, int i)
{
    const double work = hidp__exec_node_work(e->g, &e->g->nodes[i]);
    return work < HIDP__EXEC_MIN_SPLIT || solo_is_faster(e, work);
}

/* Decides how node i is shared among the workers. */
static void plan_node(hidp__exec *e, int i)
{
    const hidp__node *n = &e->g->nodes[i];
    int t = e->threads;
    hidp__slice all = hidp__slice_all(e->g, n), *row = &e->slices[(size_t)i * (size_t)t];
    for (int w = 0; w < t; w++)
        row[w] = (hidp__slice){0, 0, 0, 0, NULL};
    if (e->help_k)
        e->help_k[i] = 0;
    const int mode = e->mode ? e->mode[i] : HIDP__PLAN_AUTO;
    if (!splittable(e, i) || mode == HIDP__PLAN_SOLO ||
        (mode == HIDP__PLAN_AUTO && small_by_estimate(e, i))) {
        row[0] = all;
        return;
    }
    int64_t c = all.c1 - all.c0, h = all.h1 - all.h0;
    int by_rows = h >= t && (c < 2 * t || n->split_rows);
    /* Channel pieces in whole blocks of 16 when there are plenty: a multiple of every GEMM
     * micro-tile's rows (8 on AVX-512, 4 on NEON, 16 = 2x8), so no worker gets a ragged tile. */
    int64_t align = !by_rows && c >= 32 * (int64_t)t ? 16 : 1;
    if (by_rows && n->row_align > 1 && h >= n->row_align * (int64_t)t)
        align = n->row_align;
    double weight[HIDP__EXEC_MAX_WORKERS];
    if (e->weight) { /* each worker's share in proportion to its core's speed, trimmed */
        double fastest = 0;
        for (int w = 0; w < t; w++)
            fastest = e->weight[w] > fastest ? e->weight[w] : fastest;
        const double factor = e->trim * e->backoff.factor;
        for (int w = 0; w < t; w++)
            weight[w] = e->weight[w] < fastest ? fmin(e->weight[w] * factor, fastest)
                                               : e->weight[w];
        if (e->wake_s > 0 && hidp__exec_unequal(e) && hidp__exec_slower_scarce(e)) {
            /* the layer alone on the fastest worker: measured, or its work at calibrated speed */
            const double t0 = e->solo_s && e->solo_s[i] > 0
                                  ? e->solo_s[i]
                                  : hidp__exec_node_work(e->g, n) / (fastest * 1e9);
            hidp__split_allow_wake(t, weight, t0, e->wake_s);
        }
    }
    for (int w = 0; w < t; w++) {
        int64_t lo, hi;
        if (e->weight)
            hidp__split_weighted(by_rows ? h : c, t, weight, align, w, &lo, &hi);
        else
            hidp__split_even(by_rows ? h : c, t, align, w, &lo, &hi);
        row[w] = narrowed(all, by_rows, lo, hi);
    }
    if (e->help)
        hidp__help_plan_chunks(e, i, align);
}

/* Only worker 0 works on node i. */
static int solo(const hidp__exec *e, int i)
{
    for (int w = 1; w < e->threads; w++)
        if (!slice_empty(e->slices[(size_t)i * (size_t)e->threads + (size_t)w]))
            return 0;
    return 1;
}

/* Whether the bytes of values a and b overlap (the memory plan reuses dead values' bytes). */
static int overlap(const hidp__graph *g, int a, int b)
{
    return hidp__values_overlap(&g->vals[a], &g->vals[b]);
}

static int contains(hidp__slice outer, hidp__slice inner)
{
    return slice_empty(inner) || (inner.c0 >= outer.c0 && inner.c1 <= outer.c1 &&
                                  inner.h0 >= outer.h0 && inner.h1 <= outer.h1);
}

/* Whether node j can follow the nodes [seg, j) with no barrier between: the nodes after the last
 * barrier, which a worker may still be running when another starts j.
 *  - Every value j reads that one of them wrote, each worker reads only where it wrote it
 *    itself: a depthwise conv after the 1x1 that expands its channels, both cut by channels (as
 *    in MobileNet's blocks); a 1x1 conv after a node cut into the same rows; anything after
 *    nodes that worker 0 ran alone, on worker 0 alone.
 *  - j writes no byte they read or write (the memory plan reuses dead values' bytes), unless
 *    worker 0 alone runs both. */
static int joins_segment(const hidp__exec *e, int seg, int j)
{
    const hidp__graph *g = e->g;
    const hidp__node *n = &g->nodes[j];
    const int t = e->threads;
    for (int k = 0; k < n->n_in; k++) {
        const int v = n->in[k];
        if (v < 0 || (g->vals[v].flags & HIDP__VAL_CONST))
            continue;
        const int p = e->producer[v];
        if (p < seg)
            continue; /* written before the barrier, or not by a node */
        if (g->nodes[p].n_out != 1) /* a slice covers output 0 only */
            return 0;
        const hidp__slice all = hidp__slice_all(g, &g->nodes[p]);
        for (int w = 0; w < t; w++) {
            hidp__slice r;
            if (!hidp__slice_reads(g, n, k, e->slices[(size_t)j * (size_t)t + (size_t)w], &r))
                r = all;
            if (!contains(e->slices[(size_t)p * (size_t)t + (size_t)w], r))
                return 0;
        }
    }
    const int alone = solo(e, j);
    for (int i = seg; i < j; i++) {
        const hidp__node *m = &g->nodes[i];
        if (alone && solo(e, i))
            continue;
        for (int o = 0; o < n->n_out; o++) {
            if (n->out[o] < 0)
                continue;
            for (int k = 0; k < m->n_in; k++)
                if (m->in[k] >= 0 && overlap(g, m->in[k], n->out[o]))
                    return 0;
            for (int k = 0; k < m->n_out; k++)
                if (m->out[k] >= 0 && overlap(g, m->out[k], n->out[o]))
                    return 0;
        }
    }
    return 1;
}

/* Plans every node and where the workers meet. */
void hidp__exec_plan_all(hidp__exec *e)
{
    const hidp__graph *g = e->g;
    hidp__help_quiesce(e);
    for (int i = 0; i < g->n_nodes; i++)
        plan_node(e, i);
    hidp__stripe_plan_all(e);
    /* Workers meet after a node unless the next can follow without (joins_segment). The last
     * node always ends with a meeting, so a run returns only when every worker is done. */
    e->any_split = 0;
    for (int i = 0; i < g->n_nodes; i++)
        e->any_split |= !solo(e, i);
    /* A stripe in force is worker 1's band, though each of its layers may be worker 0's alone
     * (one wake-up repays a stripe where it repays none of its layers): without it counted,
     * nothing split meant worker 1 was not woken, and worker 0 waited forever for its band. */
    for (int s = 0; s < e->n_stripes; s++)
        e->any_split |= e->stripe_on[s];
    for (int i = 0, seg = 0; i < g->n_nodes; i++) {
        e->barrier_after[i] =
            e->any_split && (i == g->n_nodes - 1 || !joins_segment(e, seg, i + 1));
        if (e->barrier_after[i])
            seg = i + 1;
    }
    /* Who waits at each barrier. At the last, worker 0 alone: a run returns when every worker
     * is done, and the others have nothing after it. Elsewhere a slower worker waits only if it
     * has a slice before the next barrier; a worker of the fastest kind waits at every one, so
     * its waits stay as short as the layers between and it keeps spinning instead of sleeping
     * through a run of layers it has no part in (on this VM MobileNet-V2 on two equal cores
     * took 3.0 ms that way instead of 2.6-2.8). Walking back, busy[w] says whether worker w has
     * a slice between node i and the next barrier. */
    const int t = e->threads;
    char busy[HIDP__EXEC_MAX_WORKERS] = {0};
    for (int i = g->n_nodes - 1; i >= 0; i--) {
        for (int w = 0; w < t; w++) {
            char *waits = &e->waits[(size_t)i * (size_t)t + (size_t)w];
            *waits = e->barrier_after[i] &&
                     (i == g->n_nodes - 1 ? w == 0 : busy[w] || !hidp__exec_slower(e, w));
            if (e->barrier_after[i])
                busy[w] = 0;
            busy[w] |= !slice_empty(e->slices[(size_t)i * (size_t)t + (size_t)w]);
        }
    }
}
