/*
 * bench_kernels_stream.c - `bench_kernels stream`: how much memory bandwidth one core gets, and
 * how much several cores get together, at working sets that fit in L2, in L3 and in neither.
 *
 * Why: a layer split between cores runs faster only as far as what bounds it grows with the
 * cores. FMA throughput does (each core has its own units); bandwidth may not. On the 2-vCPU
 * EPYC VM this project is measured on, two cores streaming from DRAM together got less than one
 * alone, so memory-bound layers (depthwise convolutions, MobileNet-V2's 112x112 and 56x56 1x1s)
 * gain little or nothing from a split, while ResNet-50's GEMMs scale. This puts that in figures.
 *
 * The kernel is a triad, y = a * x + y over float arrays (three streams: two reads, a write),
 * repeated until --time passes; the rate counts 12 bytes per element. Each thread has its own
 * arrays, touched before the clock starts, and is bound to its own CPU; in the together rows all
 * threads start at one signal and the figure is the sum of their rates.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "bench_kernels.h"
#include "handoff.h"
#include "stats.h"

typedef struct stream_job {
    int cpu;              /* CPU to bind to, -1 none */
    size_t n;             /* floats per array */
    double seconds;       /* how long to repeat the triad */
    const atomic_int *go; /* start signal (NULL: at once) */
    double gbs;           /* result */
    int failed;
} stream_job;

static void *stream_thread(void *arg)
{
    stream_job *j = arg;
    if (j->cpu >= 0)
        bench_bind_to(j->cpu);
    float *x = aligned_alloc(64, (j->n * sizeof(float) + 63) / 64 * 64);
    float *y = aligned_alloc(64, (j->n * sizeof(float) + 63) / 64 * 64);
    if (!x || !y) {
        j->failed = 1;
        free(x), free(y);
        return NULL;
    }
    kb_fill(x, j->n, 1);
    kb_fill(y, j->n, 2);
    while (j->go && !atomic_load_explicit(j->go, memory_order_acquire))
        ;
    /* 16-byte vectors, four at a time: plain SSE2 (every x86-64; NEON and others get what the
     * compiler makes of them) loads and stores as fast as L2 serves them, where a scalar loop
     * would measure the loop, not the memory */
    typedef float v4 __attribute__((vector_size(16)));
    const v4 a = {1.0001f, 1.0001f, 1.0001f, 1.0001f};
    v4 *vx = (v4 *)x, *vy = (v4 *)y;
    const size_t nv = j->n / 4 / 4 * 4;
    long reps = 0;
    const double t0 = kb_now_s();
    double t1 = t0;
    do {
        for (size_t i = 0; i < nv; i += 4) {
            vy[i] = a * vx[i] + vy[i];
            vy[i + 1] = a * vx[i + 1] + vy[i + 1];
            vy[i + 2] = a * vx[i + 2] + vy[i + 2];
            vy[i + 3] = a * vx[i + 3] + vy[i + 3];
        }
        reps++;
        t1 = kb_now_s();
    } while (t1 - t0 < j->seconds);
    /* keeps the stores: a result the compiler cannot see unused */
    j->gbs = 12.0 * (double)(nv * 4) * (double)reps / (t1 - t0) * 1e-9 + 0.0 * (double)y[j->n / 2];
    free(x), free(y);
    return NULL;
}

/* Runs `threads` triads at once on cpus[0..threads), n floats per array each; the sum of their
 * rates, or -1. */
static double together(const int *cpus, int threads, size_t n, double seconds)
{
    stream_job job[64];
    pthread_t tid[64];
    atomic_int go = 0;
    int started = 0;
    for (; started < threads; started++) {
        job[started] = (stream_job){cpus[started], n, seconds, &go, 0, 0};
        if (pthread_create(&tid[started], NULL, stream_thread, &job[started]) != 0)
            break;
    }
    atomic_store_explicit(&go, 1, memory_order_release);
    double sum = 0;
    int failed = started < threads;
    for (int i = 0; i < started; i++) {
        pthread_join(tid[i], NULL);
        failed |= job[i].failed;
        sum += job[i].gbs;
    }
    return failed ? -1 : sum;
}

/* Alternations of one thread alone and all together, at most (-r caps them lower). */
#define MAX_ALTERNATIONS 5

int kb_stream_main(const kb_opts *o)
{
    int cpus[64];
    const int avail = kb_allowed_cpus(cpus, 64);
    /* -t 1 (the default) means every CPU here: one core alone is the first column anyway */
    const int threads = o->threads > 1 ? o->threads : avail;
    if (threads < 1 || threads > avail) {
        fprintf(stderr, "bench_kernels stream: %d threads, but this process may use %d CPUs\n",
                threads, avail);
        return 2;
    }
    /* total bytes per thread (three arrays' worth of traffic, two arrays held): within L2,
     * within a shared L3, and well past any cache */
    static const struct {
        const char *name;
        size_t bytes;
    } sets[] = {{"l2", 256u << 10}, {"l3", 8u << 20}, {"dram", 64u << 20}};
    const double seconds = o->budget_s > 0.05 ? o->budget_s : 0.05;
    static const kb_col cols[] = {{"set", 5, -1},    {"bytes", 11, 0},   {"threads", 7, 0},
                                  {"one_gbs", 8, 1}, {"all_gbs", 8, 1}, {"per_core", 8, 1},
                                  {"scaling", 7, 2}};
    kb_meta(o, "stream");
    kb_note(o, "triad y = a*x + y, 12 bytes per element; one_gbs: one thread alone on the first "
               "CPU; all_gbs: %d threads at once, one per CPU, their sum; scaling = all / one "
               "(%d would be perfect)", threads, threads);
    kb_header(o, cols, 7);
    for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
        const size_t n = sets[s].bytes / 2 / sizeof(float);
        /* medians over alternations, each one thread alone and then all together, so a drift
         * in the machine's speed moves both columns alike */
        double one[MAX_ALTERNATIONS], all[MAX_ALTERNATIONS];
        const int reps = o->reps < MAX_ALTERNATIONS ? o->reps : MAX_ALTERNATIONS;
        for (int r = 0; r < reps; r++) {
            one[r] = together(cpus, 1, n, seconds / 2);
            all[r] = together(cpus, threads, n, seconds / 2);
            if (one[r] < 0 || all[r] < 0) {
                fprintf(stderr, "bench_kernels stream: out of memory or no threads\n");
                return 1;
            }
        }
        const double m1 = bench_median(one, reps), ma = bench_median(all, reps);
        kb_val v[] = {{sets[s].name, 0},  {NULL, (double)sets[s].bytes}, {NULL, threads},
                      {NULL, m1},         {NULL, ma},                     {NULL, ma / threads},
                      {NULL, ma / m1}};
        kb_row(o, "stream", cols, 7, v);
    }
    return 0;
}
