/*
 * stripe.c - finding the stripes of a graph and the rows each of their layers needs (what a
 * stripe is and why: engine/stripe.h).
 *
 * The rows come from the last layer back: a layer's band of output rows reads the rows of its
 * inputs that hidp__slice_reads names (for a 3x3 conv one more above and below; a stride of 2
 * doubles them), and a layer read by several later ones computes the hull of what they read.
 */
#include <stdlib.h>

#include "stripe.h"
#include "../ops/op.h"

/* The share of the last output's rows the halo estimate gives the slower worker (a third:
 * about what a core at 40% of the other's speed gets), and the halo's limit, as a share of the
 * stripe's work. */
#define NOMINAL_BAND (1.0 / 3.0)
#define MAX_HALO 0.10

static int64_t rows_of(const hidp__graph *g, int v)
{
    return hidp__shape_view4(&g->vals[v].shape).h;
}

/* Whether node n can be in a stripe at all: it computes any band of rows aside (into a mirror,
 * s.out) with its activation, and its output is a tall enough 4-D map. */
static int stripable(const hidp__graph *g, const hidp__node *n)
{
    if (n->dead || !n->op || n->n_out != 1 || n->out[0] < 0 ||
        !(n->op->flags & HIDP__OP_REDIRECTS) ||
        (n->act.kind != HIDP__ACT_NONE && !(n->op->flags & HIDP__OP_FUSES_ACT)))
        return 0;
    const hidp__value *y = &g->vals[n->out[0]];
    return y->shape.ndim == 4 && !(y->flags & HIDP__VAL_OUTPUT) &&
           rows_of(g, n->out[0]) >= HIDP__STRIPE_MIN_ROWS;
}

/* Whether node j, the next after [first, j), reads what those wrote only in rows it can name. */
static int rows_known(const hidp__graph *g, const int *producer, int first, int j)
{
    const hidp__node *n = &g->nodes[j];
    const hidp__slice all = hidp__slice_all(g, n);
    for (int k = 0; k < n->n_in; k++) {
        const int v = n->in[k];
        hidp__slice r;
        if (v >= 0 && producer[v] >= first && producer[v] < j &&
            !hidp__slice_reads(g, n, k, all, &r))
            return 0;
    }
    return 1;
}

/* Whether no value nodes [first, end) write but the last one's output is read after them. */
static int hands_on_one(const hidp__graph *g, const int *last_read, int first, int end)
{
    for (int i = first; i < end - 1; i++) {
        const int v = g->nodes[i].out[0];
        if (last_read[v] >= end)
            return 0;
    }
    return 1;
}

void hidp__stripe_rows(const hidp__graph *g, const int *producer, const hidp__stripe *s, int64_t h0,
                       int64_t h1, hidp__rows *rows)
{
    const int count = s->end - s->first;
    for (int k = 0; k < count; k++)
        rows[k] = (hidp__rows){INT64_MAX, INT64_MIN};
    rows[count - 1] = (hidp__rows){h0, h1};
    for (int j = s->end - 1; j >= s->first; j--) {
        const hidp__rows want = rows[j - s->first];
        if (want.h0 >= want.h1) {
            rows[j - s->first] = (hidp__rows){0, 0};
            continue;
        }
        const hidp__node *n = &g->nodes[j];
        hidp__slice out = hidp__slice_all(g, n);
        out.h0 = want.h0;
        out.h1 = want.h1;
        for (int k = 0; k < n->n_in; k++) {
            const int v = n->in[k];
            hidp__slice r;
            if (v < 0 || producer[v] < s->first || producer[v] >= j)
                continue;
            if (!hidp__slice_reads(g, n, k, out, &r)) /* not so in a stripe: all of it */
                r = hidp__slice_all(g, &g->nodes[producer[v]]);
            hidp__rows *p = &rows[producer[v] - s->first];
            if (r.h0 < r.h1) {
                p->h0 = r.h0 < p->h0 ? r.h0 : p->h0;
                p->h1 = r.h1 > p->h1 ? r.h1 : p->h1;
            }
        }
    }
}

/* The work of [first, end) that both bands would compute, as a share of it, with the slower
 * worker given NOMINAL_BAND of the last output's rows. */
static double halo_share(const hidp__graph *g, const int *producer, int first, int end,
                         hidp__rows *top, hidp__rows *bottom)
{
    const hidp__stripe s = {first, end};
    const int64_t h = rows_of(g, g->nodes[end - 1].out[0]);
    const int64_t cut = h - (int64_t)(h * NOMINAL_BAND + 0.5);
    hidp__stripe_rows(g, producer, &s, 0, cut, top);
    hidp__stripe_rows(g, producer, &s, cut, h, bottom);
    double both = 0, all = 0;
    for (int i = first; i < end; i++) {
        const hidp__node *n = &g->nodes[i];
        const double work = n->flops > 0 ? n->flops : 1;
        const hidp__rows a = top[i - first], b = bottom[i - first];
        const int64_t lo = a.h0 > b.h0 ? a.h0 : b.h0, hi = a.h1 < b.h1 ? a.h1 : b.h1;
        if (hi > lo)
            both += work * (double)(hi - lo) / (double)rows_of(g, n->out[0]);
        all += work;
    }
    return all > 0 ? both / all : 1;
}

int hidp__stripe_find(const hidp__graph *g, hidp__stripe **out)
{
    *out = NULL;
    const size_t nv = (size_t)(g->n_vals > 0 ? g->n_vals : 1);
    int *producer = malloc(nv * sizeof *producer), *last_read = malloc(nv * sizeof *last_read);
    hidp__rows *top = malloc(HIDP__STRIPE_MAX_NODES * sizeof *top);
    hidp__rows *bottom = malloc(HIDP__STRIPE_MAX_NODES * sizeof *bottom);
    hidp__stripe *list = malloc((size_t)(g->n_nodes / 2 + 1) * sizeof *list);
    int count = 0;
    if (!producer || !last_read || !top || !bottom || !list) {
        count = -1;
        goto done;
    }
    for (int v = 0; v < g->n_vals; v++) {
        producer[v] = -1;
        last_read[v] = g->vals[v].flags & HIDP__VAL_OUTPUT ? g->n_nodes : -1;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const hidp__node *n = &g->nodes[i];
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0)
                last_read[n->in[k]] = i;
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0)
                producer[n->out[k]] = i;
    }
    for (int first = 0; first < g->n_nodes;) {
        int best = -1;
        for (int end = first + 1; end <= g->n_nodes && end - first <= HIDP__STRIPE_MAX_NODES;
             end++) {
            if (!stripable(g, &g->nodes[end - 1]) || !rows_known(g, producer, first, end - 1))
                break;
            if (end - first >= 2 && hands_on_one(g, last_read, first, end) &&
                halo_share(g, producer, first, end, top, bottom) <= MAX_HALO)
                best = end;
        }
        if (best < 0) {
            first++;
            continue;
        }
        list[count++] = (hidp__stripe){first, best};
        first = best;
    }
done:
    free(producer);
    free(last_read);
    free(top);
    free(bottom);
    if (count <= 0) {
        free(list);
        return count;
    }
    *out = list;
    return count;
}
