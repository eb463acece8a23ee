/*
 * exec_help.c - helping (hidp__exec_help): the slower worker's share in chunks that worker 0
 * can take back.
 *
 * A core under a CPU quota runs at full speed until the quota is spent, then not at all for the
 * rest of the period (6 ms of every 10 on bench/little_core.sh's core); a preempted core stops
 * the same way. With fixed shares every layer then waits at its barrier for the stopped core.
 * Helping turns that around for two workers, worker 1 the slower: worker 0 runs every node and
 * its own share of it, and worker 1's share is one chunk, or several when it is long.
 * Worker 1 takes chunks from the front while it runs; worker 0, done with its share, takes from
 * the back those worker 1 has not started, and then waits for the ones it is running, but only
 * while worker 1 gains CPU time and about as long as they should take: then it takes them back
 * too and runs them itself. That is
 * safe because worker 1 computes each chunk aside, into a mirror of the output, and copies it
 * in only if it still owns the chunk (a compare-and-swap each side decides). Worker 0 never
 * waits for worker 1 to arrive anywhere: a stopped core costs it one late chunk per node, not
 * the rest of the period. Only ops that can write aside (HIDP__OP_REDIRECTS: the convolutions)
 * are chunked; worker 0 runs worker 1's share of the others itself. A stripe (exec_stripe.c)
 * is one more such chunk: worker 1's band of a run of layers.
 * Worker 1 computes a chunk of many rows in pieces, bands of them, and counts each one it has
 * finished: worker 0 taking the chunk back copies those in from the mirror and computes only the
 * rest, and worker 1 stops at the next piece. Under a CPU quota worker 1 stops for up to 6 ms
 * mid-chunk several times a run; worker 0 then computed the whole chunk again, and worker 1,
 * running again, finished a chunk no longer its own (about a tenth of its CPU time on
 * ResNet-50 in bench/little_core.sh).
 * The pieces worker 1 has not begun are shared from both ends: it takes them from the front,
 * and worker 0, done with everything else of the node, from the back, so that worker 0 waits
 * for the piece worker 1 has in hand at most, not for the rest of its chunk (chunk_ends).
 * A chunk taken back may still be running on worker 1 while worker 0 goes on and overwrites that
 * node's inputs (memory is reused): the reads race with the writes, as ThreadSanitizer reports,
 * by design. What worker 1 computes from them goes to the mirror and is dropped; it writes
 * nothing else but its own copy of the arena for stripes, and the memory it reads is freed only
 * after the workers are joined. Changing the
 * plan waits for worker 1 to be done with the last run (hidp__help_quiesce).
 */
#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exec_impl.h"
#include "hugemem.h"
#include "../sched/split.h"

/* A chunk is at most about this long on worker 0, so that running one again costs it at most
 * that; shorter shares stay whole. Each chunk is a call of its own, and a channel range of a
 * GEMM conv packs its input again per call: on bench/little_core.sh's quota core, chunks of 60
 * us made ResNet-50 slower than fixed shares (0.92x, 0.97x paired), whole shares were level
 * with them or ahead (1.00x on ResNet-50, 1.04x twice on MobileNet-V2). */
#define HELP_CHUNK_S 1e-3
/* Worker 0 takes back a chunk worker 1 is running when its piece in hand has run this many
 * times as long as its share's planned speed says, plus the grace. */
#define HELP_LATE_FACTOR 1.5
#define HELP_GRACE_NS 20000
/* Sooner than that, worker 0 takes back a chunk once worker 1 has had no CPU time for this long
 * while holding it: a spent quota, a preemption. It reads worker 1's CPU clock (a system call)
 * at most every HELP_POLL_NS while it waits. A running worker 1 gains CPU time continuously;
 * a late deadline alone had worker 0 wait up to 1.5 times a chunk for a core that had stopped
 * at its start. */
#define HELP_STOPPED_NS 30000
#define HELP_POLL_NS 5000
/* A chunk's pieces take about this long on worker 0, and have this many pixels at least: a
 * piece is one more call, which reads the chunk's weights again (its GEMM streams them once per
 * 288 columns anyway). At most HELP_MAX_PIECES of them. Finer pieces lose less when worker 1
 * stops in one (half a piece on average), but their calls cost more than that: under
 * bench/little_core.sh's quota, with both sides held to one trim, pieces of 300 us against 150
 * gave ResNet-50 1.009x and 1.002x and MobileNet-V2 1.032x and 1.041x; pieces of 14 pixels on
 * ResNet-50's 14x14 and 7x7 layers (instead of one or two of 96 and more) 0.976x. */
#define HELP_PIECE_S 300e-6
#define HELP_PIECE_PIXELS 96
#define HELP_MAX_PIECES 8

void hidp__copy_slice(const hidp__value *y, float *to, const float *from, hidp__slice s)
{
    const hidp__view4 v = hidp__shape_view4(&y->shape);
    const size_t len = (size_t)((s.h1 - s.h0) * v.w) * sizeof(float);
    for (int64_t b = 0; b < v.n; b++)
        for (int64_t c = s.c0; c < s.c1; c++) {
            const size_t at = (size_t)(((b * v.c + c) * v.h + s.h0) * v.w);
            memcpy(to + at, from + at, len);
        }
}

void hidp__help_copy_in(const hidp__exec *e, const hidp__node *n, hidp__slice s)
{
    hidp__value *y = hidp__out(e->g, n, 0);
    hidp__copy_slice(y, y->data, e->mirror, s);
}

/* How long slice s of node i takes on worker 0: its part of the node's time there, as measured
 * by the tuner (hidp__exec_set_solo_times) or else estimated from the node's work at the
 * calibrated speed. The estimate is a GEMM's speed: a depthwise conv runs at a tenth of it and
 * less, and with deadlines from the estimate worker 1's depthwise chunks were all "late", taken
 * back while it ran them (a fifth of its chunk time on MobileNet-V2 was dropped that way). */
double hidp__help_part_seconds(const hidp__exec *e, int i, hidp__slice s)
{
    const hidp__node *n = &e->g->nodes[i];
    const hidp__slice all = hidp__slice_all(e->g, n);
    const double whole = (double)(all.c1 - all.c0) * (double)(all.h1 - all.h0);
    const double alone = e->solo_s && e->solo_s[i] > 0
                             ? e->solo_s[i]
                             : hidp__exec_node_work(e->g, n) / (e->weight[0] * 1e9);
    return alone * (double)(s.c1 - s.c0) * (double)(s.h1 - s.h0) / whole;
}

/* How many pieces a chunk c of node n (rows `width` wide, part_s seconds on worker 0) is cut
 * into: bands of whole blocks of the op's row alignment. */
static int chunk_pieces(const hidp__node *n, hidp__slice c, int64_t width, double part_s)
{
    const int64_t align = n->row_align > 1 ? n->row_align : 1;
    const int64_t rows = c.h1 - c.h0;
    int64_t k = (int64_t)(part_s / HELP_PIECE_S);
    k = k < rows / align ? k : rows / align;
    k = k < rows * width / HELP_PIECE_PIXELS ? k : rows * width / HELP_PIECE_PIXELS;
    return k < 1 ? 1 : k > HELP_MAX_PIECES ? HELP_MAX_PIECES : (int)k;
}

/* Pieces [a, b) of chunk c of node n: the chunk with only their band of its rows (none when
 * b <= a). */
static hidp__slice pieces(const hidp__exec *e, const hidp__node *n, size_t c, int a, int b)
{
    hidp__slice s = e->chunks[c];
    const int64_t align = n->row_align > 1 ? n->row_align : 1;
    int64_t lo, hi, unused;
    if (b <= a) {
        s.h1 = s.h0;
        return s;
    }
    hidp__split_even(s.h1 - s.h0, e->chunk_pieces[c], align, a, &lo, &unused);
    hidp__split_even(s.h1 - s.h0, e->chunk_pieces[c], align, b - 1, &unused, &hi);
    return narrowed(s, 1, lo, hi);
}

/* Which of chunk c's pieces each worker may take, in one word (chunk_ends): the run (its low 48
 * bits), `front`, how many worker 1 has begun, and `back`, the first of those worker 0 has
 * taken; a word of an earlier run is the whole chunk untaken. Pieces are at most
 * HELP_MAX_PIECES, which a byte holds. */
static uint64_t pieces_word(uint64_t run, int front, int back)
{
    return (run & 0xffffffffffffu) << 16 | (uint64_t)front << 8 | (uint64_t)back;
}

static void pieces_read(const hidp__exec *e, size_t c, uint64_t run, uint64_t w, int *front,
                        int *back)
{
    if (w >> 16 == (run & 0xffffffffffffu)) {
        *front = (int)(w >> 8 & 0xff);
        *back = (int)(w & 0xff);
    } else {
        *front = 0;
        *back = e->chunk_pieces[c];
    }
}

/* Worker 1: takes piece p of chunk c, the next at the front, unless worker 0 has taken it. */
static int take_front(hidp__exec *e, size_t c, uint64_t run, int p)
{
    uint64_t w = atomic_load(&e->chunk_ends[c]);
    for (;;) {
        int front, back;
        pieces_read(e, c, run, w, &front, &back);
        if (p >= back)
            return 0;
        if (atomic_compare_exchange_weak(&e->chunk_ends[c], &w, pieces_word(run, p + 1, back)))
            return 1;
    }
}

/* Worker 0: takes the last piece of chunk c that worker 1 has not begun; its number, or -1. */
static int take_back(hidp__exec *e, size_t c)
{
    uint64_t w = atomic_load(&e->chunk_ends[c]);
    for (;;) {
        int front, back;
        pieces_read(e, c, e->run, w, &front, &back);
        if (back <= front)
            return -1;
        if (atomic_compare_exchange_weak(&e->chunk_ends[c], &w,
                                         pieces_word(e->run, front, back - 1)))
            return back - 1;
    }
}

/* The first piece of chunk c worker 0 has taken from the back (its pieces when none). */
static int pieces_back(const hidp__exec *e, size_t c)
{
    int front, back;
    pieces_read(e, c, e->run, atomic_load(&e->chunk_ends[c]), &front, &back);
    return back;
}

/* The chunks of worker 1's share of node i (plan_node's row[1]): cut along the share's own
 * dimension, in whole blocks of the alignment plan_node used. Each piece of one may be held for
 * HELP_LATE_FACTOR times as long as it takes worker 0 (hidp__help_part_seconds), over worker 1's
 * speed relative to it as the share was planned (its weight, trimmed), plus the grace. */
void hidp__help_plan_chunks(hidp__exec *e, int i, int64_t align)
{
    const hidp__node *n = &e->g->nodes[i];
    const hidp__slice s = e->slices[(size_t)i * 2 + 1];
    const hidp__value *y = hidp__out(e->g, n, 0);
    e->help_k[i] = 0;
    if (slice_empty(s) || !(n->op->flags & HIDP__OP_REDIRECTS) || !y || !y->data ||
        (n->act.kind != HIDP__ACT_NONE && !(n->op->flags & HIDP__OP_FUSES_ACT)))
        return;
    const hidp__slice all = hidp__slice_all(e->g, n);
    const int by_rows = s.c0 == all.c0 && s.c1 == all.c1;
    const int64_t width = hidp__shape_view4(&y->shape).w;
    const int64_t range = by_rows ? s.h1 - s.h0 : s.c1 - s.c0;
    int k = (int)ceil(hidp__help_part_seconds(e, i, s) / HELP_CHUNK_S);
    const int64_t blocks = (range + align - 1) / align;
    k = k < 1 ? 1 : k > HELP_MAX_CHUNKS ? HELP_MAX_CHUNKS : k;
    k = k > blocks ? (int)blocks : k;
    const double relative = fmin(e->weight[1] * e->trim, e->weight[0]) / e->weight[0];
    const size_t base = (size_t)i * HELP_MAX_CHUNKS;
    for (int j = 0; j < k; j++) {
        int64_t lo, hi;
        hidp__split_even(range, k, align, j, &lo, &hi);
        e->chunks[base + j] = narrowed(s, by_rows, lo, hi);
        const double part_s = hidp__help_part_seconds(e, i, e->chunks[base + j]);
        const int k_pieces = chunk_pieces(n, e->chunks[base + j], width, part_s);
        e->chunk_pieces[base + j] = (signed char)k_pieces;
        e->chunk_late_ns[base + j] =
            HELP_GRACE_NS + (int64_t)(HELP_LATE_FACTOR * part_s / k_pieces / relative * 1e9);
    }
    e->help_k[i] = k;
}

int hidp__help_take_free(hidp__exec *e, size_t c)
{
    uint64_t st = atomic_load_explicit(&e->chunk_state[c], memory_order_acquire);
    return st >> 3 < e->run &&
           atomic_compare_exchange_strong(&e->chunk_state[c], &st, chunk_word(e->run, CHUNK_MINE));
}

int hidp__help_wait(hidp__exec *e, size_t c, hidp__help_watch *w)
{
    const uint64_t mine = chunk_word(e->run, CHUNK_MINE);
    const int64_t late = e->chunk_late_ns[c];
    for (;;) {
        uint64_t st = atomic_load_explicit(&e->chunk_state[c], memory_order_acquire);
        if (st >> 3 < e->run) { /* a word of an earlier run: worker 1 has not started it */
            if (atomic_compare_exchange_strong(&e->chunk_state[c], &st, mine))
                return 1;
            continue;
        }
        const int state = (int)(st & 7);
        if (state == CHUNK_DONE || state == CHUNK_MINE)
            return 0;
        if (state == CHUNK_HELPER) {
            const int64_t t = now_ns();
            int stopped = 0;
            if (e->helper_clock_ok && t - w->polled_at >= HELP_POLL_NS) {
                const int64_t cpu = clock_ns(e->helper_clock);
                if (cpu != w->cpu_seen) {
                    w->cpu_seen = cpu;
                    w->cpu_seen_at = t;
                }
                stopped = cpu >= 0 && t - w->cpu_seen_at > HELP_STOPPED_NS;
                w->polled_at = t;
            }
            if ((stopped ||
                 t - atomic_load_explicit(&e->chunk_start[c], memory_order_relaxed) > late) &&
                atomic_compare_exchange_strong(&e->chunk_state[c], &st, mine))
                return 2;
        }
        CPU_RELAX();
    }
}

/* Worker 0, done with its own share of node i: the chunks worker 1 has not started, from the
 * back; then of each one it is running, the pieces it has not begun, from the back, and the
 * rest once worker 1 is done with it, or once it is late or has stopped. */
static void finish_chunks(hidp__exec *e, int i, float *scratch)
{
    const hidp__node *n = &e->g->nodes[i];
    const int k = e->help_k[i];
    const size_t base = (size_t)i * HELP_MAX_CHUNKS;
    long long taken = 0;
    for (int j = k - 1; j >= 0; j--)
        if (hidp__help_take_free(e, base + j)) {
            hidp__exec_run_slice(e, n, e->chunks[base + j], scratch);
            taken++;
        }
    hidp__help_watch watch = {-1, 0, 0};
    const uint64_t held = chunk_word(e->run, CHUNK_HELPER);
    for (int j = 0; j < k; j++) {
        const size_t c = base + j;
        /* Worker 1 holds it (a chunk worker 0 took is never its to share): its pieces from the
         * back. Worker 1 delivers only once it has none left to begin, so a chunk no longer
         * held has none to take. */
        for (int q; atomic_load(&e->chunk_state[c]) == held && (q = take_back(e, c)) >= 0;) {
            hidp__exec_run_slice(e, n, pieces(e, n, c, q, q + 1), scratch);
            atomic_fetch_add_explicit(&e->shared, 1, memory_order_relaxed);
        }
        const int got = hidp__help_wait(e, c, &watch);
        if (!got)
            continue;
        /* Taken from a worker 1 that had started: the pieces it finished are in the mirror. The
         * chunk is taken (seq_cst) before the count is read, and worker 1 counts a piece
         * (seq_cst) before it looks whether the chunk is still its own to begin the next, so it
         * can be in the piece after those counted and no further: that piece's rows only. The
         * pieces from `back` on are worker 0's already. */
        const int done = got == 2 ? atomic_load(&e->chunk_done[c]) : 0, back = pieces_back(e, c);
        if (done > 0) {
            hidp__help_copy_in(e, n, pieces(e, n, c, 0, done));
            atomic_fetch_add_explicit(&e->resumed, 1, memory_order_relaxed);
        }
        if (done < back)
            hidp__exec_run_slice(e, n, pieces(e, n, c, done, back), scratch);
        taken++;
    }
    if (taken)
        atomic_fetch_add_explicit(&e->taken_back, taken, memory_order_relaxed);
}

void hidp__help_open(hidp__exec *e, int i)
{
    atomic_store_explicit(&e->opened, e->run << 32 | (uint64_t)(i + 1), memory_order_release);
    atomic_fetch_add(&e->open_seq, 1);
    if (atomic_load(&e->open_sleepers) > 0)
        hidp__exec_wake_all(&e->open_seq);
}

int hidp__help_claim(hidp__exec *e, size_t c, uint64_t run)
{
    uint64_t st = atomic_load_explicit(&e->chunk_state[c], memory_order_relaxed);
    if (st >> 3 >= run)
        return 0;
    /* the start first: worker 0 reads it once it sees the slot taken */
    atomic_store_explicit(&e->chunk_start[c], now_ns(), memory_order_relaxed);
    return atomic_compare_exchange_strong(&e->chunk_state[c], &st, chunk_word(run, CHUNK_HELPER));
}

/* Whether worker 0 has taken a piece of chunk c (of run `run`) from the back. */
static int shared_from_back(const hidp__exec *e, size_t c, uint64_t run)
{
    int front, back;
    pieces_read(e, c, run, atomic_load(&e->chunk_ends[c]), &front, &back);
    return back < e->chunk_pieces[c];
}

void hidp__help_stall(hidp__exec *e, size_t c, uint64_t run)
{
    const int64_t stall = atomic_load_explicit(&e->stall_ns, memory_order_relaxed);
    if (stall && atomic_load_explicit(&e->stall_worker, memory_order_relaxed) == 1) {
        const int64_t until = now_ns() - stall;
        const int until_shared = atomic_load_explicit(&e->stall_until_shared, memory_order_relaxed);
        nap_ns(stall);
        while (stall < 0 && now_ns() < until &&
               !(until_shared && c != SIZE_MAX && shared_from_back(e, c, run)))
            CPU_RELAX();
    }
}

void hidp__help_record(hidp__exec *e, int i, int w, const hidp__exec_rec *r)
{
    hidp__exec_rec *to = &e->recs[(size_t)i * (size_t)e->threads + (size_t)w];
    if (to->end <= to->start) { /* nothing yet this run */
        memset(to, 0, sizeof *to);
        to->start = r->start;
    }
    to->end = to->leave = r->end;
    for (int k = 0; e->probe && k < e->probe->n && k < HIDP__EXEC_MAX_COUNTERS; k++)
        to->counts[k] += r->counts[k];
}

int hidp__help_deliver(hidp__exec *e, size_t c, uint64_t run, const hidp__node *n, hidp__slice s,
                       hidp__exec_rec *spans, int first, int count)
{
    uint64_t expect = chunk_word(run, CHUNK_HELPER);
    if (atomic_compare_exchange_strong(&e->chunk_state[c], &expect,
                                       chunk_word(run, CHUNK_COPYING))) {
        hidp__help_copy_in(e, n, s);
        if (spans) { /* held (COPYING): worker 0 waits at this node until DONE */
            hidp__exec_span_end(e, 1, &spans[count - 1]);
            for (int k = 0; k < count; k++)
                hidp__help_record(e, first + k, 1, &spans[k]);
        }
        atomic_store_explicit(&e->chunk_state[c], chunk_word(run, CHUNK_DONE),
                              memory_order_release);
        atomic_fetch_add_explicit(&e->helped, 1, memory_order_relaxed);
        return 1;
    }
    return 0;
}

/* Worker 1's chunks of node i in this run, from the front, while worker 0 has not taken them. */
static void help_node(hidp__exec *e, int i, uint64_t run, float *scratch)
{
    const hidp__node *n = &e->g->nodes[i];
    const size_t base = (size_t)i * HELP_MAX_CHUNKS;
    const uint64_t held = chunk_word(run, CHUNK_HELPER);
    for (int j = 0; j < e->help_k[i]; j++) {
        atomic_store_explicit(&e->chunk_done[base + j], 0, memory_order_relaxed);
        if (!hidp__help_claim(e, base + j, run))
            continue;
        hidp__exec_rec span = {0};
        hidp__exec_span_begin(e, 1, &span);
        const int64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        /* piece by piece from the front while the chunk is its own and worker 0 has not taken
         * the piece from the back, counting each (see finish_chunks); each piece's start is
         * worker 0's deadline's */
        int p = 0;
        for (; p < e->chunk_pieces[base + j]; p++) {
            if (p > 0) {
                if (atomic_load(&e->chunk_state[base + j]) != held)
                    break;
                atomic_store_explicit(&e->chunk_start[base + j], now_ns(), memory_order_relaxed);
            }
            if (!take_front(e, base + j, run, p))
                break;
            hidp__slice c = pieces(e, n, base + j, p, p + 1);
            c.out = e->mirror;
            hidp__exec_run_slice(e, n, c, scratch);
            atomic_store(&e->chunk_done[base + j], p + 1);
            if (p == 0)
                hidp__help_stall(e, base + j, run);
        }
        const int64_t cpu1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
        const hidp__slice mine = pieces(e, n, base + j, 0, p);
        if (hidp__help_deliver(e, base + j, run, n, mine, e->recs ? &span : NULL, i, 1) && p > 0)
            pace_add(&e->helped_pace, cpu0, cpu1, hidp__help_part_seconds(e, i, mine));
    }
}

/* Worker 1's run: it helps with each node worker 0 opens, jumping to the latest, and sleeps
 * in between; the run is over for it when worker 0 says so or a newer run has begun. */
void hidp__help_run_helper(hidp__exec *e, uint64_t run)
{
    float *scratch = e->scratch[1];
    int next = 0;
    for (;;) {
        const int seen = atomic_load(&e->open_seq);
        const uint64_t o = atomic_load_explicit(&e->opened, memory_order_acquire);
        const int i = (int)(o & 0xffffffffu) - 1;
        if ((o >> 32) == (run & 0xffffffffu) && i >= next) {
            if (i >= e->g->n_nodes)
                break;
            const int st = hidp__stripe_at(e, i);
            if (st >= 0) {
                hidp__stripe_help(e, st, run, scratch);
                next = e->stripes[st].end;
            } else {
                help_node(e, i, run, scratch);
                next = i + 1;
            }
            continue;
        }
        if (atomic_load_explicit(&e->gen, memory_order_acquire) != run)
            break;
        /* nothing new: a few pauses, then sleep until worker 0 opens another node; while its
         * CPU is its own, it spins as long as worker 0 would at a barrier first */
        const int64_t spin_ns = hidp__exec_spin_ns(e, 1);
        const int64_t until = spin_ns > 0 ? now_ns() + spin_ns : 0;
        for (int k = 0; atomic_load(&e->open_seq) == seen; k++) {
            if (k >= SPIN_LIMIT / 16 && k % 64 == 0 && now_ns() >= until)
                break;
            CPU_RELAX();
        }
        atomic_fetch_add(&e->open_sleepers, 1);
        if (atomic_load(&e->open_seq) == seen)
            hidp__exec_wait_while(&e->open_seq, seen);
        atomic_fetch_sub(&e->open_sleepers, 1);
    }
}

/* Worker 0's run when helping: every node, its own share, worker 1's share of the nodes that
 * are not chunked, and what is left of the chunks; the stripes in force as stripes. */
void hidp__help_run_master(hidp__exec *e)
{
    const hidp__graph *g = e->g;
    float *scratch = e->scratch[0];
    /* worker 1's records start empty: it adds to them as it delivers, after the first open */
    for (int i = 0; e->recs && i < g->n_nodes; i++)
        memset(&e->recs[(size_t)i * 2 + 1], 0, sizeof *e->recs);
    for (int i = 0; i < g->n_nodes; i++) {
        const int st = hidp__stripe_at(e, i);
        if (st >= 0) {
            hidp__stripe_lead(e, st, scratch);
            i = e->stripes[st].end - 1;
            continue;
        }
        hidp__exec_rec span = {0};
        hidp__exec_span_begin(e, 0, &span);
        if (e->help_k[i])
            hidp__help_open(e, i);
        const hidp__slice s = e->slices[(size_t)i * 2];
        if (!slice_empty(s))
            hidp__exec_run_slice(e, &g->nodes[i], s, scratch);
        if (e->help_k[i])
            finish_chunks(e, i, scratch);
        else if (!slice_empty(e->slices[(size_t)i * 2 + 1]))
            hidp__exec_run_slice(e, &g->nodes[i], e->slices[(size_t)i * 2 + 1], scratch);
        hidp__exec_span_end(e, 0, &span);
        if (e->recs)
            e->recs[(size_t)i * 2] = span;
    }
    hidp__help_open(e, g->n_nodes);
}

/* Before the plan or the way of running changes: worker 1 may still be in the last run when
 * helping (worker 0 does not wait for it), finishing a chunk worker 0 took back, or not even
 * have woken up for it; wait until it is done with it. (Without helping, the last barrier
 * already waited, unless worker 1 is helping in a run it has yet to see.) */
void hidp__help_quiesce(hidp__exec *e)
{
    while (e->help_k && e->started >= 1 && atomic_load(&e->done_gen) != atomic_load(&e->gen))
        sched_yield();
}

/* What helping needs (two workers, the second slower): chunk tables and the mirror, as large
 * as the largest output of an op that can write aside. */
int hidp__help_alloc(hidp__exec *e, size_t nn)
{
    const hidp__graph *g = e->g;
    size_t floats = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const hidp__node *n = &g->nodes[i];
        const hidp__value *y = hidp__out(g, n, 0);
        if ((n->op->flags & HIDP__OP_REDIRECTS) && y) {
            const int64_t count = hidp__shape_count(&y->shape);
            floats = count > 0 && (size_t)count > floats ? (size_t)count : floats;
        }
    }
    if (!floats)
        return 0;
    const size_t chunks = nn * HELP_MAX_CHUNKS;
    e->help_k = calloc(nn, sizeof *e->help_k);
    e->chunks = calloc(chunks, sizeof *e->chunks);
    e->chunk_late_ns = calloc(chunks, sizeof *e->chunk_late_ns);
    e->chunk_state = calloc(chunks, sizeof *e->chunk_state);
    e->chunk_start = calloc(chunks, sizeof *e->chunk_start);
    e->chunk_done = calloc(chunks, sizeof *e->chunk_done);
    e->chunk_pieces = calloc(chunks, sizeof *e->chunk_pieces);
    e->chunk_ends = calloc(chunks, sizeof *e->chunk_ends);
    e->mirror = hidp__huge_alloc(floats * sizeof(float));
    if (!e->help_k || !e->chunks || !e->chunk_late_ns || !e->chunk_state || !e->chunk_start ||
        !e->chunk_done || !e->chunk_pieces || !e->chunk_ends || !e->mirror)
        return -1;
    for (size_t c = 0; c < chunks; c++) {
        atomic_init(&e->chunk_state[c], 0);
        atomic_init(&e->chunk_start[c], 0);
        atomic_init(&e->chunk_done[c], 0);
        atomic_init(&e->chunk_ends[c], 0);
    }
    atomic_init(&e->open_seq, 0);
    atomic_init(&e->open_sleepers, 0);
    atomic_init(&e->opened, 0);
    atomic_init(&e->done_gen, 0);
    atomic_init(&e->helped, 0);
    atomic_init(&e->taken_back, 0);
    atomic_init(&e->resumed, 0);
    atomic_init(&e->shared, 0);
    pace_init(&e->helped_pace);
    return 0;
}
