/*
 * exec_stripe.c - stripes when helping (what a stripe is: engine/stripe.h; helping:
 * engine/exec_help.c).
 *
 * For a stripe in force, worker 0 opens its first node to worker 1 and computes the top band of
 * rows of every node in it; worker 1, if it takes the stripe, computes the bottom band of every
 * node in a copy of the arena of its own (the shadow: the same offsets, so the memory plan's
 * reuse holds there too), the last node into the mirror, and copies that band of the stripe's
 * output in. The stripe is one chunk of the helping protocol: worker 0, done with its band,
 * takes it back if worker 1 has not started it, has stopped or is late, and then computes the
 * bottom band itself, in place. That is safe because the memory plan keeps a stripe's inputs
 * and its output whole for all of it (engine/plan.c): every other value it writes is dead at
 * its end, and the nodes run in the order the plan was made for. Worker 1 counts the nodes it
 * has finished, so worker 0 goes on from there: it copies in the bottom band of what the later
 * nodes read of the earlier ones, from the shadow. Under a CPU quota worker 1 stops for up to
 * 6 ms in the middle of stripes (bench/little_core.sh: several times a ResNet-50 run); begun
 * again from their start, such stripes cost worker 0 the whole band and worker 1 its work.
 *
 * Worker 1 reads the stripe's inputs where worker 0 wrote them; taken back and still running,
 * it may read them after worker 0 has gone on and reused their bytes, which is the race
 * exec_help.c describes: what it computes then stays in the shadow and the mirror. So may it
 * read a stripe's rows while worker 0 moves its cut (hidp__stripe_lead), which worker 0 does
 * only once the stripe is settled for the run: whatever worker 1 computes from them is dropped.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exec_impl.h"
#include "hugemem.h"

/* Worker 0 takes a stripe back from a worker 1 that is still running it once it has taken this
 * many times as long as planned, plus the grace (as exec_help.c's chunks). */
#define STRIPE_LATE_FACTOR 1.5
#define STRIPE_GRACE_NS 20000
/* Worker 0 waiting longer than this for a stripe worker 1 then delivers gives worker 1 a row
 * less next time (a shorter wait is within a wake-up's noise). */
#define STRIPE_WAIT_NS 20000

int hidp__exec_stripes(hidp__exec *e, const hidp__stripe *list, int n)
{
    const hidp__graph *g = e->g;
    if (!e->help_k || n <= 0)
        return 0; /* no helping, no stripes */
    const size_t nn = (size_t)g->n_nodes;
    e->stripes = malloc((size_t)n * sizeof *e->stripes);
    e->stripe_first = malloc(nn * sizeof *e->stripe_first);
    e->stripe_on = calloc((size_t)n, 1);
    e->stripe_rows = calloc(nn * 2, sizeof *e->stripe_rows);
    e->stripe_planned = calloc((size_t)n, sizeof *e->stripe_planned);
    e->stripe_shift = calloc((size_t)n, sizeof *e->stripe_shift);
    e->shadow_vals = malloc((size_t)(g->n_vals > 0 ? g->n_vals : 1) * sizeof *e->shadow_vals);
    if (!e->stripes || !e->stripe_first || !e->stripe_on || !e->stripe_rows || !e->stripe_planned ||
        !e->stripe_shift || !e->shadow_vals)
        return -1;
    memcpy(e->stripes, list, (size_t)n * sizeof *list);
    atomic_init(&e->stripes_helped, 0);
    atomic_init(&e->stripes_taken, 0);
    atomic_init(&e->stripes_resumed, 0);
    atomic_init(&e->stripes_copied, 0);
    pace_init(&e->stripes_pace);
    for (size_t i = 0; i < nn; i++)
        e->stripe_first[i] = -1;
    /* The shadow: the arena's extent from the values in it. */
    size_t bytes = 0;
    for (int v = 0; v < g->n_vals; v++) {
        const hidp__value *x = &g->vals[v];
        if (x->arena_off >= 0 && x->data) {
            const size_t end =
                (size_t)x->arena_off + (size_t)hidp__shape_count(&x->shape) * sizeof(float);
            bytes = end > bytes ? end : bytes;
        }
    }
    if (!(e->shadow_arena = hidp__huge_alloc(bytes)))
        return -1;
    memcpy(e->shadow_vals, g->vals, (size_t)g->n_vals * sizeof *g->vals);
    for (int s = 0; s < n; s++) {
        e->stripe_first[list[s].first] = s;
        for (int i = list[s].first; i < list[s].end - 1; i++) {
            hidp__value *x = &e->shadow_vals[g->nodes[i].out[0]];
            if (x->arena_off >= 0 && x->data)
                x->data = (char *)e->shadow_arena + x->arena_off;
        }
    }
    e->shadow = *g;
    e->shadow.vals = e->shadow_vals;
    e->n_stripes = n;
    hidp__exec_plan_all(e);
    return 0;
}

void hidp__stripe_free(hidp__exec *e)
{
    free(e->stripes);
    free(e->stripe_first);
    free(e->stripe_on);
    free(e->stripe_rows);
    free(e->stripe_planned);
    free(e->stripe_shift);
    free(e->shadow_vals);
    free(e->shadow_arena);
}

void hidp__exec_use_stripes(hidp__exec *e, int on)
{
    if (e->stripes_off != !on) {
        hidp__help_quiesce(e);
        e->stripes_off = !on;
        hidp__exec_plan_all(e);
    }
}

int hidp__exec_stripes_in_force(const hidp__exec *e, long long *helped, long long *taken_back)
{
    int count = 0;
    for (int s = 0; s < e->n_stripes; s++)
        count += e->stripe_on[s];
    if (helped)
        *helped = e->n_stripes ? atomic_load(&e->stripes_helped) : 0;
    if (taken_back)
        *taken_back = e->n_stripes ? atomic_load(&e->stripes_taken) : 0;
    return count;
}

void hidp__exec_stripe_pace(const hidp__exec *e, double *cpu_s, double *planned_s)
{
    *cpu_s = *planned_s = 0;
    if (e->n_stripes)
        pace_read(&e->stripes_pace, cpu_s, planned_s);
}

long long hidp__exec_stripes_resumed(const hidp__exec *e, long long *whole)
{
    if (whole)
        *whole = e->n_stripes ? atomic_load(&e->stripes_copied) : 0;
    return e->n_stripes ? atomic_load(&e->stripes_resumed) : 0;
}

int64_t hidp__exec_stripe_rows_moved(const hidp__exec *e)
{
    int64_t moved = 0;
    for (int s = 0; s < e->n_stripes; s++)
        moved += e->stripe_shift[s];
    return moved;
}

/* Node i's rows r, all its channels, as a slice (written to out when it is set). */
static hidp__slice rows_slice(const hidp__exec *e, int i, hidp__rows r, float *out)
{
    hidp__slice s = hidp__slice_all(e->g, &e->g->nodes[i]);
    s.h0 = r.h0;
    s.h1 = r.h1;
    s.out = out;
    return s;
}

/* Worker 1's band of stripe s's last output: what it copies in from the mirror. */
static hidp__slice last_band(const hidp__exec *e, int s)
{
    const int last = e->stripes[s].end - 1;
    return rows_slice(e, last, e->stripe_rows[(size_t)last * 2 + 1], NULL);
}

/* The time rows r of node i take on worker 0. */
static double rows_seconds(const hidp__exec *e, int i, hidp__rows r)
{
    return r.h1 > r.h0 ? hidp__help_part_seconds(e, i, rows_slice(e, i, r, NULL)) : 0;
}

/* Worker 1's speed relative to worker 0's, as planned (trimmed, at most 1). */
static double relative_speed(const hidp__exec *e)
{
    const double fastest = e->weight[0];
    return fmin(e->weight[1] * e->trim * e->backoff.factor, fastest) / fastest;
}

/* Where worker 1's band of stripe s starts (h rows in its last output): the plan's row, moved
 * by what runs showed, within [1, h - 1]. */
static int64_t cut_in_force(const hidp__exec *e, int s, int64_t h)
{
    const int64_t cut = e->stripe_planned[s] - e->stripe_shift[s];
    return cut < 1 ? 1 : cut > h - 1 ? h - 1 : cut;
}

/* Worker 1 computes rows [cut, h) of stripe s's last output: sets the rows of each node for
 * both bands and worker 1's deadline. */
static void set_cut(hidp__exec *e, int s, int64_t cut)
{
    const hidp__stripe *st = &e->stripes[s];
    const int count = st->end - st->first;
    const int64_t h = hidp__slice_all(e->g, &e->g->nodes[st->end - 1]).h1;
    hidp__rows top[HIDP__STRIPE_MAX_NODES], bottom[HIDP__STRIPE_MAX_NODES];
    hidp__stripe_rows(e->g, e->producer, st, 0, cut, top);
    hidp__stripe_rows(e->g, e->producer, st, cut, h, bottom);
    double t1 = 0;
    for (int k = 0; k < count; k++) {
        e->stripe_rows[(size_t)(st->first + k) * 2] = top[k];
        e->stripe_rows[(size_t)(st->first + k) * 2 + 1] = bottom[k];
        t1 += rows_seconds(e, st->first + k, bottom[k]);
    }
    e->chunk_late_ns[(size_t)st->first * HELP_MAX_CHUNKS] =
        STRIPE_GRACE_NS + (int64_t)(STRIPE_LATE_FACTOR * t1 / relative_speed(e) * 1e9);
}

/* Plans stripe s: in force unless every node in it runs on worker 0 alone by the plan's modes,
 * with the cut between the bands where the later of the two workers is done soonest (worker 1
 * at its trimmed speed, after its wake-up), if that beats worker 0 alone; then moved by the
 * rows the runs so far have shown (stripe_shift, hidp__stripe_lead). */
static void plan_stripe(hidp__exec *e, int s)
{
    const hidp__stripe *st = &e->stripes[s];
    const int count = st->end - st->first;
    hidp__rows top[HIDP__STRIPE_MAX_NODES], bottom[HIDP__STRIPE_MAX_NODES];
    e->stripe_on[s] = 0;
    if (e->stripes_off || !e->help || !e->weight)
        return;
    int split = !e->mode;
    for (int i = st->first; i < st->end && !split; i++)
        split = e->mode[i] != HIDP__PLAN_SOLO;
    if (!split)
        return;
    const double relative = relative_speed(e);
    double alone = 0;
    for (int i = st->first; i < st->end; i++)
        alone += hidp__help_part_seconds(e, i, hidp__slice_all(e->g, &e->g->nodes[i]));
    const int64_t h = hidp__slice_all(e->g, &e->g->nodes[st->end - 1]).h1;
    double best = alone;
    int64_t cut = -1;
    for (int64_t c = 1; c < h; c++) {
        hidp__stripe_rows(e->g, e->producer, st, 0, c, top);
        hidp__stripe_rows(e->g, e->producer, st, c, h, bottom);
        double t0 = 0, t1 = 0;
        for (int k = 0; k < count; k++) {
            t0 += rows_seconds(e, st->first + k, top[k]);
            t1 += rows_seconds(e, st->first + k, bottom[k]) / relative;
        }
        const double later = fmax(t0, t1 + e->wake_s);
        if (later < best) {
            best = later;
            cut = c;
        }
    }
    if (cut < 0)
        return;
    for (int k = 0; k < count; k++)
        e->help_k[st->first + k] = 0;
    e->stripe_planned[s] = cut;
    set_cut(e, s, cut_in_force(e, s, h));
    e->stripe_on[s] = 1;
}

void hidp__stripe_plan_all(hidp__exec *e)
{
    for (int s = 0; s < e->n_stripes; s++)
        plan_stripe(e, s);
}

/* Worker w's band of node i of stripe s, in the arena (graph g: e->g) or the shadow. */
static void run_band_node(const hidp__exec *e, int s, int w, const hidp__graph *g, int i,
                          float *scratch)
{
    const hidp__node *n = &g->nodes[i];
    /* worker 1's last node goes to the mirror, copied in if the stripe is still its own */
    const hidp__slice c =
        rows_slice(e, i, e->stripe_rows[(size_t)i * 2 + w],
                   w == 1 && i == e->stripes[s].end - 1 && g != e->g ? e->mirror : NULL);
    if (!slice_empty(c))
        n->op->run(g, n, c, scratch);
}

/* Rows r of value v (NCHW), all channels, from the shadow into the arena. */
static void copy_rows_in(const hidp__exec *e, int v, hidp__rows r)
{
    const hidp__value *from = &e->shadow_vals[v], *to = &e->g->vals[v];
    const hidp__slice rows = {0, hidp__shape_view4(&to->shape).c, r.h0, r.h1, NULL};
    if (r.h1 > r.h0 && from->data != to->data)
        hidp__copy_slice(to, to->data, from->data, rows);
}

/* Worker 0, having taken stripe s back from a worker 1 that had finished its first `done` nodes
 * in the shadow: brings in what the nodes after those read of them (the bottom band of each
 * such value), so that it can go on from there in place. Worker 1 may still be in the node
 * after them, but that node writes no value the later nodes read of the earlier ones: those
 * are alive while it runs, so the memory plan gave them bytes of their own. */
static void resume_band(const hidp__exec *e, int s, int done)
{
    const hidp__stripe *st = &e->stripes[s];
    const int from = st->first + done;
    int copied[HIDP__STRIPE_MAX_NODES];
    int n_copied = 0;
    for (int i = from; i < st->end; i++) {
        const hidp__node *n = &e->g->nodes[i];
        for (int k = 0; k < n->n_in; k++) {
            const int v = n->in[k];
            const int p = v >= 0 ? e->producer[v] : -1;
            int seen = p < st->first || p >= from;
            for (int j = 0; j < n_copied && !seen; j++)
                seen = copied[j] == v;
            if (seen)
                continue;
            copy_rows_in(e, v, e->stripe_rows[(size_t)p * 2 + 1]);
            copied[n_copied++] = v;
        }
    }
}

void hidp__stripe_lead(hidp__exec *e, int s, float *scratch)
{
    const hidp__stripe *st = &e->stripes[s];
    const int count = st->end - st->first;
    const size_t c = (size_t)st->first * HELP_MAX_CHUNKS;
    hidp__exec_rec span = {0};
    hidp__exec_span_begin(e, 0, &span);
    hidp__help_open(e, st->first);
    for (int i = st->first; i < st->end; i++) {
        run_band_node(e, s, 0, e->g, i, scratch);
        hidp__exec_span_end(e, 0, &span);
        if (e->recs)
            e->recs[(size_t)i * 2] = span;
        hidp__exec_span_begin(e, 0, &span);
    }
    /* what follows (waiting for worker 1's band, or computing it) is the last node's */
    hidp__help_watch watch = {-1, 0, 0};
    const uint64_t before = atomic_load_explicit(&e->chunk_state[c], memory_order_acquire);
    const int64_t waited_from = now_ns();
    const int taken = hidp__help_wait(e, c, &watch);
    if (taken) {
        /* Taken from a worker 1 that had started: it goes on from the node worker 1 reached.
         * The stripe is taken (a seq_cst exchange) before worker 1's count is read, and worker
         * 1 counts a node (seq_cst) before it looks whether the stripe is still its own to
         * start the next: so it can be in the node after those counted, and no further. */
        const int done = taken == 2 ? atomic_load(&e->chunk_done[c]) : 0;
        if (done == count)
            hidp__help_copy_in(e, &e->g->nodes[st->end - 1], last_band(e, s));
        else if (done > 0)
            resume_band(e, s, done);
        for (int i = st->first + done; i < st->end; i++)
            run_band_node(e, s, 1, e->g, i, scratch);
        atomic_fetch_add_explicit(&e->taken_back, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&e->stripes_taken, 1, memory_order_relaxed);
        if (done > 0)
            atomic_fetch_add_explicit(done == count ? &e->stripes_copied : &e->stripes_resumed, 1,
                                      memory_order_relaxed);
    }
    /* Worker 1 done before worker 0 was gets a row more next time; worker 0 having waited for
     * it longer than a wake-up, or taken back a stripe it had started (late, or stopped: a
     * spent quota, a preemption), a row less. The stripe is settled for this run (worker 1 may
     * hold it only in a later one), so its rows can change here. */
    const int64_t h = hidp__slice_all(e->g, &e->g->nodes[st->end - 1]).h1;
    const int early = (before & 7) == CHUNK_DONE && before >> 3 == e->run;
    const int late = taken == 2 || (!taken && !early && now_ns() - waited_from > STRIPE_WAIT_NS);
    const int64_t cut = cut_in_force(e, s, h) - early + late;
    if ((early || late) && cut >= 1 && cut <= h - 1) {
        e->stripe_shift[s] = e->stripe_planned[s] - cut;
        set_cut(e, s, cut);
    }
    hidp__exec_span_end(e, 0, &span);
    if (e->recs)
        hidp__help_record(e, st->end - 1, 0, &span);
}

/* The node of a stripe of `count` nodes after which worker 1 stalls for tests
 * (hidp__exec_stall): the middle one and the last in turn, so that worker 0 takes stripes back
 * both part done and wholly done but not delivered. */
static int stall_after(hidp__exec *e, int count)
{
    return e->stall_turn++ % 2 ? count - 1 : (count - 1) / 2;
}

void hidp__stripe_help(hidp__exec *e, int s, uint64_t run, float *scratch)
{
    const hidp__stripe *st = &e->stripes[s];
    const int count = st->end - st->first;
    const size_t c = (size_t)st->first * HELP_MAX_CHUNKS;
    const uint64_t held = chunk_word(run, CHUNK_HELPER);
    atomic_store_explicit(&e->chunk_done[c], 0, memory_order_relaxed);
    if (!hidp__help_claim(e, c, run))
        return;
    /* node by node while the stripe is its own, counting each (see hidp__stripe_lead) */
    const int stall_at =
        atomic_load_explicit(&e->stall_ns, memory_order_relaxed) ? stall_after(e, count) : -1;
    hidp__exec_rec spans[HIDP__STRIPE_MAX_NODES] = {{0}};
    const int64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    for (int k = 0; k < count; k++) {
        if (atomic_load(&e->chunk_state[c]) != held)
            return;
        hidp__exec_span_begin(e, 1, &spans[k]);
        run_band_node(e, s, 1, &e->shadow, st->first + k, scratch);
        atomic_store(&e->chunk_done[c], k + 1);
        if (k == stall_at)
            hidp__help_stall(e, SIZE_MAX, run);
        if (k < count - 1) /* the last is ended as the band is delivered */
            hidp__exec_span_end(e, 1, &spans[k]);
    }
    const int64_t cpu1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    /* the rows it computed, the halo too (its pace on them, not the halo's cost), read before
     * delivering: worker 0 moves a stripe's cut only once it is delivered or taken back */
    double planned_s = 0;
    for (int i = st->first; i < st->end; i++)
        planned_s += rows_seconds(e, i, e->stripe_rows[(size_t)i * 2 + 1]);
    if (!hidp__help_deliver(e, c, run, &e->g->nodes[st->end - 1], last_band(e, s),
                            e->recs ? spans : NULL, st->first, count))
        return;
    atomic_fetch_add_explicit(&e->stripes_helped, 1, memory_order_relaxed);
    pace_add(&e->stripes_pace, cpu0, cpu1, planned_s);
}
