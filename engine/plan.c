/*
 * plan.c - the memory plan: one arena per prepared model, each runtime value at an offset, values
 * whose lifetimes do not overlap sharing bytes.
 *
 * Placement is the greedy heuristic TFLite's arena planner and MNN use: take values from the
 * largest down, put each in the smallest gap between already-placed values that are alive at the
 * same time (best fit), or after them all. On CNN chains this lands close to the peak of live
 * bytes. Lifetimes are inclusive at both ends, so a node's output never shares bytes with an
 * input it reads.
 */
#include <stdlib.h>
#include <string.h>

#include "hugemem.h"
#include "passes.h"

static size_t round_up(size_t n)
{
    return (n + HIDP__ALIGN - 1) / HIDP__ALIGN * HIDP__ALIGN;
}

int hidp__plan_lifetimes(const hidp__graph *g, hidp__life **out, hidp__err *err)
{
    int *slot = malloc((size_t)(g->n_vals > 0 ? g->n_vals : 1) * sizeof *slot);
    hidp__life *life = malloc((size_t)(g->n_vals > 0 ? g->n_vals : 1) * sizeof *life);
    int count = 0;
    *out = NULL;
    if (!slot || !life) {
        free(slot);
        free(life);
        return hidp__fail(err, HIDP_ENOMEM, "out of memory planning");
    }
    for (int v = 0; v < g->n_vals; v++)
        slot[v] = -1;
#define ADD(v, step)                                                                          \
    do {                                                                                      \
        if (slot[v] < 0 && !(g->vals[v].flags & HIDP__VAL_CONST)) {                           \
            int64_t n_ = hidp__shape_count(&g->vals[v].shape);                                \
            slot[v] = count;                                                                  \
            life[count].value = v;                                                            \
            life[count].first = life[count].last = (step);                                    \
            life[count++].bytes = round_up((size_t)(n_ > 0 ? n_ : 1) * sizeof(float));        \
        }                                                                                     \
    } while (0)
    for (int i = 0; i < g->n_inputs; i++)
        ADD(g->inputs[i], 0);
    for (int i = 0; i < g->n_nodes; i++) {
        const hidp__node *n = &g->nodes[i];
        if (n->dead)
            continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0 && slot[n->in[k]] >= 0 && life[slot[n->in[k]]].last < i)
                life[slot[n->in[k]]].last = i;
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0)
                ADD(n->out[k], i);
    }
#undef ADD
    /* Graph outputs are read after the last node. Graph inputs are kept intact for the whole run
     * too: a caller may set an input once and run many times (benchmarks do). */
    for (int i = 0; i < g->n_outputs; i++)
        if (slot[g->outputs[i]] >= 0)
            life[slot[g->outputs[i]]].last = g->n_nodes;
    for (int i = 0; i < g->n_inputs; i++)
        if (slot[g->inputs[i]] >= 0)
            life[slot[g->inputs[i]]].last = g->n_nodes;
    free(slot);
    *out = life;
    return count;
}

static int by_size_desc(const void *pa, const void *pb)
{
    const hidp__life *a = pa, *b = pb;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    if (a->first != b->first)
        return a->first < b->first ? -1 : 1;
    return a->value - b->value;
}

typedef struct placed {
    size_t off, bytes;
} placed;

static int by_offset(const void *pa, const void *pb)
{
    const placed *a = pa, *b = pb;
    return a->off < b->off ? -1 : a->off > b->off;
}

/* A value alive at some node of a stripe and before or after it is kept for the whole stripe:
 * its inputs stay intact while a worker that fell behind still reads them, and the bytes of its
 * output are no other value's inside it, so the worker ahead can compute the band of the one
 * behind in place, at the stripe's end (engine/exec_stripe.c). */
static void keep_for_stripes(hidp__life *life, int n, const hidp__stripe *keep, int n_keep)
{
    for (int s = 0; s < n_keep; s++) {
        const int a = keep[s].first, b = keep[s].end - 1;
        for (int i = 0; i < n; i++) {
            hidp__life *l = &life[i];
            if (l->first > b || l->last < a || (l->first >= a && l->last <= b))
                continue;
            l->first = l->first < a ? l->first : a;
            l->last = l->last > b ? l->last : b;
        }
    }
}

int hidp__plan_memory(hidp__graph *g, const hidp__stripe *keep, int n_keep, hidp__plan *p,
                      hidp__err *err)
{
    hidp__life *life = NULL;
    placed *tmp = NULL;
    size_t *off = NULL;
    memset(p, 0, sizeof *p);
    int n = hidp__plan_lifetimes(g, &life, err);
    if (n < 0)
        return n;
    keep_for_stripes(life, n, keep, n_keep);
    tmp = malloc((size_t)(n > 0 ? n : 1) * sizeof *tmp);
    off = malloc((size_t)(n > 0 ? n : 1) * sizeof *off);
    if (!tmp || !off)
        goto nomem;
    qsort(life, (size_t)n, sizeof *life, by_size_desc);
    size_t arena = 0;
    for (int i = 0; i < n; i++) {
        int k = 0;
        for (int j = 0; j < i; j++)
            if (life[j].first <= life[i].last && life[i].first <= life[j].last)
                tmp[k++] = (placed){off[j], life[j].bytes};
        qsort(tmp, (size_t)k, sizeof *tmp, by_offset);
        size_t end = 0, best = (size_t)-1, best_gap = (size_t)-1;
        for (int j = 0; j < k; j++) {
            if (tmp[j].off >= end && tmp[j].off - end >= life[i].bytes &&
                tmp[j].off - end < best_gap) {
                best = end;
                best_gap = tmp[j].off - end;
            }
            if (tmp[j].off + tmp[j].bytes > end)
                end = tmp[j].off + tmp[j].bytes;
        }
        off[i] = best != (size_t)-1 ? best : end;
        if (off[i] + life[i].bytes > arena)
            arena = off[i] + life[i].bytes;
        p->values_bytes += life[i].bytes;
    }
    p->arena_bytes = arena;
    p->n_values = n;
    p->arena = hidp__huge_alloc(arena);
    if (!p->arena)
        goto nomem;
    for (int i = 0; i < n; i++) {
        hidp__value *v = &g->vals[life[i].value];
        v->arena_off = (int64_t)off[i];
        v->data = (char *)p->arena + off[i];
    }
    for (int i = 0; i < g->n_nodes; i++)
        if (!g->nodes[i].dead && g->nodes[i].scratch > p->scratch_floats)
            p->scratch_floats = g->nodes[i].scratch;
    free(life);
    free(tmp);
    free(off);
    return 0;
nomem:
    free(life);
    free(tmp);
    free(off);
    hidp__plan_free(p);
    return hidp__fail(err, HIDP_ENOMEM, "out of memory planning activations");
}

void hidp__plan_free(hidp__plan *p)
{
    free(p->arena);
    memset(p, 0, sizeof *p);
}
