/*
 * bench_kernels_xcore.c - `bench_kernels xcore`: what it costs one core to read what another
 * has just written, the traffic every layer split between cores makes (the local level,
 * sched/): a worker reads the rows or channels of its input that the other worker computed.
 *
 * Two threads, bound to the first two CPUs this process may use. The handoff is a cache line
 * passed back and forth, each side waiting for the other's store (bench/handoff.c): half the
 * round trip is what a worker waits, at least, to see that another has finished. The read rows
 * time one pass over a buffer the other core has just filled, then a second pass over it, now
 * in this core's own caches; own_over_other is how much slower the first was.
 *
 * On the 2-vCPU EPYC VM hidp is measured on, the handoff took 220-245 ns and the other core's
 * data came at 23-32 GB/s against 54-95 GB/s from this core's own caches: the two vCPUs shared
 * no cache then (in other minutes the host runs them on cores that do: 47-50 ns and 74-78
 * GB/s), and a layer split by channels, whose workers each read the whole input, paid for it
 * (ResNet-50 on the two cores ran at 84% of twice one core's speed; a 1x1 conv's GEMM split by
 * channels took 7-23% longer per half with both cores at it than with one, and no longer when
 * each core had a copy of the input of its own).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "bench_kernels.h"
#include "handoff.h"
#include "stats.h"

/* Round trips of the handoff per sample, at most; a sample also stops after --time. */
#define XC_TRIPS 20000
/* A waiting side yields after this many polls: with more runnable threads than CPUs (a
 * parallel `make check`) the side it waits for may not be running at all. */
#define XC_POLLS 4096
/* Samples of each row, at most (-r caps them lower). */
#define XC_MAX_REPS 9

typedef float v4 __attribute__((vector_size(16)));

typedef struct xc_shared {
    _Alignas(64) atomic_int step; /* the reads: 2k + 1 asks for fill k, 2k + 2 says it is done */
    int other_cpu, fills;
    v4 *buf;
    size_t nv; /* v4s in buf */
} xc_shared;

/* Waits until *word is want. */
static void wait_for(atomic_int *word, int want)
{
    for (int polls = 1; atomic_load_explicit(word, memory_order_acquire) != want; polls++)
        if (polls % XC_POLLS == 0)
            sched_yield();
}

/* The other core: fills the buffer whenever asked. */
static void *other_core(void *arg)
{
    xc_shared *x = arg;
    bench_bind_to(x->other_cpu);
    for (int k = 0; k < x->fills; k++) {
        wait_for(&x->step, 2 * k + 1);
        const v4 val = {(float)k, 1.0f, 2.0f, 3.0f};
        for (size_t i = 0; i < x->nv; i++)
            x->buf[i] = val;
        atomic_store_explicit(&x->step, 2 * k + 2, memory_order_release);
    }
    return NULL;
}

/* One pass over the buffer, four v4s at a time; the sum keeps the loads. */
static float read_pass(const v4 *b, size_t nv)
{
    v4 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    for (size_t i = 0; i + 4 <= nv; i += 4) {
        s0 += b[i], s1 += b[i + 1], s2 += b[i + 2], s3 += b[i + 3];
    }
    const v4 s = s0 + s1 + s2 + s3;
    return s[0] + s[1] + s[2] + s[3];
}

int kb_xcore_main(const kb_opts *o)
{
    int cpus[2];
    if (kb_allowed_cpus(cpus, 2) < 2) {
        fprintf(stderr, "bench_kernels xcore: needs two CPUs, this process may use one\n");
        return 2;
    }
    static const struct {
        const char *name;
        size_t bytes;
    } sets[] = {{"l2", 256u << 10}, {"l3", 4u << 20}};
    const int reps = o->reps < XC_MAX_REPS ? (o->reps > 0 ? o->reps : 1) : XC_MAX_REPS;
    const int n_sets = (int)(sizeof sets / sizeof sets[0]);
    xc_shared *x = aligned_alloc(64, sizeof *x);
    v4 *buf = aligned_alloc(64, sets[n_sets - 1].bytes);
    if (!x || !buf) {
        fprintf(stderr, "bench_kernels xcore: out of memory\n");
        free(x), free(buf);
        return 1;
    }
    atomic_init(&x->step, 0);
    x->other_cpu = cpus[1];
    x->fills = reps * n_sets;
    x->buf = buf;
    bench_bind_to(cpus[0]);
    /* the handoffs before the filling thread starts, which would share the other CPU */
    double handoff[XC_MAX_REPS];
    int bound = 1;
    for (int r = 0; r < reps; r++)
        bound &= (handoff[r] = bench_handoff_ns(cpus[0], cpus[1], XC_TRIPS, o->budget_s)) >= 0;
    pthread_t tid;
    if (!bound || pthread_create(&tid, NULL, other_core, x) != 0) {
        fprintf(stderr, "bench_kernels xcore: cannot start a thread\n");
        free(x), free(buf);
        return 1;
    }
    const double handoff_ns = bench_median(handoff, reps);
    static const kb_col cols[] = {{"set", 5, -1},        {"bytes", 9, 0},
                                  {"handoff_ns", 10, 0}, {"other_gbs", 9, 1},
                                  {"own_gbs", 8, 1},     {"own_over_other", 14, 2}};
    kb_meta(o, "xcore");
    kb_note(o,
            "CPU %d reads what CPU %d has just written (other_gbs), then reads it again from "
            "its own caches (own_gbs); handoff_ns: one way of a cache line passed between them",
            cpus[0], cpus[1]);
    kb_header(o, cols, 6);
    float sink = 0;
    for (int s = 0, k = 0; s < n_sets; s++) {
        x->nv = sets[s].bytes / sizeof(v4);
        double other[XC_MAX_REPS], own[XC_MAX_REPS];
        for (int r = 0; r < reps; r++, k++) {
            atomic_store_explicit(&x->step, 2 * k + 1, memory_order_release);
            wait_for(&x->step, 2 * k + 2);
            const double t0 = kb_now_s();
            sink += read_pass(buf, x->nv);
            const double t1 = kb_now_s();
            sink += read_pass(buf, x->nv);
            const double t2 = kb_now_s();
            other[r] = (double)sets[s].bytes / (t1 - t0) * 1e-9;
            own[r] = (double)sets[s].bytes / (t2 - t1) * 1e-9;
        }
        const double mo = bench_median(other, reps), mw = bench_median(own, reps);
        kb_val v[] = {{sets[s].name, 0},  {NULL, (double)sets[s].bytes},
                      {NULL, handoff_ns}, {NULL, mo},
                      {NULL, mw},         {NULL, mw / mo}};
        kb_row(o, "xcore", cols, 6, v);
    }
    pthread_join(tid, NULL);
    free(x), free(buf);
    return sink == -1.0f; /* never: keeps the sums */
}
