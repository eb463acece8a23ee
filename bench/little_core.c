/*
 * little_core.c - the local level's benchmark on a board with one core made "little" for real:
 * every thread that runs on PU 1 is put in a cgroup-v1 cpu group whose quota is a fraction of
 * its period (bench/little_core.sh makes the group and removes it). The topology describing PU 0
 * and PU 1 as two kinds comes from HWLOC_XMLFILE (test/data/topo/this2.xml) with
 * HWLOC_THISSYSTEM=1.
 *
 * It calibrates the two kinds the way hidp does, but with the probe on PU 1 inside the group,
 * writes hidp's calibration file, then times the model with: the big core alone, the little
 * core alone, both with equal shares (as prepared and tuned), both with calibrated shares (as
 * prepared, tuned with the plan then fixed, and tuned as by default: the slower core's shares
 * then back off while its quota is spent); and prints the ideal, 1 / (1 / t_big + 1 / t_little),
 * and the tuned calibrated split's efficiency against it. Each round also runs the two
 * single-core settings at once, a model on each core, for the same ideal of busy cores. Each
 * setting is a model of its own, prepared (and tuned) first; then ROUNDS rounds give each
 * setting a block of runs in turn (100 ms at least, RUNS in all at least). It prints each
 * setting's median over all its runs, and the ratios taken round by round (paired), medians
 * over the rounds. With LITTLE_CORE_PROFILE it then profiles one setting's layers.
 *
 * usage: little_core CGROUP_DIR MODEL|ZOO-NAME [RUNS [ROUNDS]]
 *        (LITTLE_CORE_AB=NAME=VALUE: the default once more with NAME set at prepare)
 *        (root; run by bench/little_core.sh)
 */
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../engine/exec.h"
#include "../engine/hidp.h"
#include "../engine/model.h"
#include "../ops/sgemm.h"
#include "../sched/calib.h"
#include "../sched/topo.h"
#include "handoff.h"
#include "input.h"
#include "stats.h"

static const char *group; /* the throttled cgroup's directory */

/* Moves thread tid into the cgroup directory dir (its tasks file). */
static int move_task(const char *dir, long tid)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/tasks", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int ok = fprintf(f, "%ld\n", tid) > 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* The root of the cpu hierarchy holding group (its parent directory). */
static void root_of(char *buf, size_t len)
{
    snprintf(buf, len, "%s", group);
    char *slash = strrchr(buf, '/');
    if (slash)
        *slash = '\0';
}

/* Moves every thread of this process whose CPU set is PU 1 alone into the group, or, with back
 * set, every thread into the root. Returns how many moved. */
static int move_pu1_threads(int back)
{
    char root[4200];
    root_of(root, sizeof root);
    DIR *d = opendir("/proc/self/task");
    int moved = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        const long tid = atol(e->d_name);
        cpu_set_t set;
        if (tid <= 0 || sched_getaffinity((pid_t)tid, sizeof set, &set) != 0)
            continue;
        if (back)
            moved += move_task(root, tid) == 0;
        else if (CPU_COUNT(&set) == 1 && CPU_ISSET(1, &set))
            moved += move_task(group, tid) == 0;
    }
    if (d)
        closedir(d);
    return moved;
}

/* What the little core did over the timed runs: the group's throttled periods (cpu.stat) and
 * the CPU time of its threads (each one's schedstat). */
typedef struct usage {
    long long throttled, cpu_ns;
} usage;

static usage group_usage(void)
{
    usage u = {0, 0};
    char path[4200], key[64];
    long long v;
    snprintf(path, sizeof path, "%s/cpu.stat", group);
    FILE *f = fopen(path, "r");
    while (f && fscanf(f, "%63s %lld", key, &v) == 2)
        if (!strcmp(key, "nr_throttled"))
            u.throttled = v;
    if (f)
        fclose(f);
    snprintf(path, sizeof path, "%s/tasks", group);
    FILE *tasks = fopen(path, "r");
    long tid;
    while (tasks && fscanf(tasks, "%ld", &tid) == 1) {
        snprintf(path, sizeof path, "/proc/self/task/%ld/schedstat", tid);
        FILE *st = fopen(path, "r");
        if (st && fscanf(st, "%lld", &v) == 1)
            u.cpu_ns += v;
        if (st)
            fclose(st);
    }
    if (tasks)
        fclose(tasks);
    return u;
}

/* A calibration probe: GFLOP/s of the calibration GEMM on one PU, throttled when on PU 1. */
typedef struct probe {
    int pu;
    double gflops;
} probe;

static void *probe_main(void *arg)
{
    probe *p = arg;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(p->pu, &one);
    sched_setaffinity(0, sizeof one, &one);
    if (p->pu == 1)
        move_task(group, (long)syscall(SYS_gettid));
    const hidp__sgemm_kernel *kern = hidp__sgemm_best();
    enum { M = 64, N = 196, K = 576 };
    float *a = calloc(hidp__sgemm_packed_a_floats(kern, M, K), sizeof *a);
    float *b = calloc((size_t)K * N, sizeof *b), *c = calloc((size_t)M * N, sizeof *c);
    float *s = calloc(hidp__sgemm_scratch_floats(kern, K, N), sizeof *s);
    const hidp__sgemm_matrix bm = {b, N};
    const hidp__sgemm_call call = {.kern = kern, .m = M, .n = N, .k = K, .a_packed = a,
                                   .b_src = &bm, .c = c, .ldc = N};
    long runs = 0;
    const double t0 = bench_now_ms();
    while (bench_now_ms() - t0 < 300) { /* several quota periods */
        hidp__sgemm(&call, 0, M, s);
        runs++;
    }
    p->gflops = 2.0 * M * N * K * (double)runs / ((bench_now_ms() - t0) * 1e-3) * 1e-9;
    free(a), free(b), free(c), free(s);
    return NULL;
}

/* One way of running the model: its own context and prepared model, and what its timed runs
 * gave (every run's latency, the little core's use, each round's median). */
enum { MAX_ROUNDS = 64 };
typedef struct setting {
    const char *label;
    int threads, split, tune;
    const char *cores;
    int no_take_back; /* hidp_context_set_take_back(ctx, 0): fixed shares */
    int no_stripes;   /* hidp_context_set_stripes(ctx, 0): every layer shared on its own */
    hidp_context *ctx;
    hidp_model *m;
    double *t; /* [runs] ms */
    int runs;
    usage used;
    double round_med[MAX_ROUNDS];
    char backoff[160]; /* the last "... off their CPU ..." (backing off) log line, "" none */
    int backoffs;      /* how many such lines */
} setting;

/* The tuner's verdicts ("plan tuned: ...") and the watch's ("plan checked again: ..."), so a
 * figure comes with the plan behind it; the shares' backing off after it is counted, and its
 * last state kept for the report. */
static void log_tuned(void *user, int level, const char *message)
{
    setting *s = user;
    (void)level;
    if (strstr(message, "tuned") || strstr(message, "checked again"))
        printf("  %s: (%s)\n", s->label, message);
    if (strstr(message, "off their CPU")) {
        snprintf(s->backoff, sizeof s->backoff, "%s", message);
        s->backoffs++;
    }
}

static int on_little(const setting *s)
{
    return !strcmp(s->cores, "1");
}

/* Moves the calling thread into the group (in) or back to the hierarchy's root. With the little
 * core alone the caller's thread is worker 0, bound to PU 1 for each run. */
static void caller_in_group(int in)
{
    char root[4200];
    root_of(root, sizeof root);
    move_task(in ? group : root, (long)syscall(SYS_gettid));
}

/* Loads and prepares the model for setting s; its little-core thread goes into the group after
 * prepare (the caller's own thread too, for the runs, when it is bound there). With tune, the
 * plan's tuning runs (hidp_model_tune) happen after the move, throttled like the timed runs;
 * without, the plan stays as estimated at prepare. */
static void set_up(setting *s, const char *model, const void *onnx, size_t size, const float *in,
                   size_t n)
{
    hidp_context_create(&s->ctx, 0);
    hidp_context_set_log(s->ctx, log_tuned, s, HIDP_LOG_DEBUG);
    hidp_context_set_threads(s->ctx, s->threads);
    hidp_context_set_cores(s->ctx, s->cores);
    hidp_context_set_split(s->ctx, s->split);
    hidp_context_set_tuning(s->ctx, s->tune);
    hidp_context_set_take_back(s->ctx, !s->no_take_back);
    hidp_context_set_stripes(s->ctx, !s->no_stripes);
    const int rc = onnx ? hidp_model_load_memory(s->ctx, onnx, size, &s->m)
                        : hidp_model_load(s->ctx, model, &s->m);
    if (rc != 0 || hidp_model_prepare(s->m) != 0 || hidp_model_set_input(s->m, 0, in, n) != 0) {
        fprintf(stderr, "little_core: %s: %s\n", s->label, hidp_context_last_error(s->ctx));
        exit(1);
    }
    hidp_model_run(s->m); /* warm up; the workers are running (and bound) from here */
    move_pu1_threads(0);
    if (on_little(s))
        caller_in_group(1);
    const double tune0 = bench_now_ms();
    const int tuning_runs = hidp_model_tune(s->m);
    if (s->tune && tuning_runs > 0)
        printf("  %s: (tuning: %d runs, %.2f s)\n", s->label, tuning_runs,
               (bench_now_ms() - tune0) * 1e-3);
    if (on_little(s))
        caller_in_group(0);
}

/* Times one block of `runs` runs of setting s (round r), after a run that is not counted. */
static void time_block(setting *s, int r, int runs)
{
    if (on_little(s))
        caller_in_group(1);
    hidp_model_run(s->m);
    double *t = s->t + s->runs;
    const usage u0 = group_usage();
    for (int k = 0; k < runs; k++) {
        const double t0 = bench_now_ms();
        hidp_model_run(s->m);
        t[k] = bench_now_ms() - t0;
    }
    const usage u1 = group_usage();
    if (on_little(s))
        caller_in_group(0);
    s->used.cpu_ns += u1.cpu_ns - u0.cpu_ns;
    s->used.throttled += u1.throttled - u0.throttled;
    double *copy = malloc((size_t)runs * sizeof *copy);
    memcpy(copy, t, (size_t)runs * sizeof *copy);
    s->round_med[r] = bench_median(copy, runs);
    free(copy);
    s->runs += runs;
}

/* The group's period in microseconds (cpu.cfs_period_us), 100 ms when unreadable. */
static long group_period_us(void)
{
    char path[4200];
    long us = 0;
    snprintf(path, sizeof path, "%s/cpu.cfs_period_us", group);
    FILE *f = fopen(path, "r");
    if (!f || fscanf(f, "%ld", &us) != 1 || us <= 0)
        us = 100000;
    if (f)
        fclose(f);
    return us;
}

/* Calibrates the two kinds the way hidp does, with the little probe throttled, and writes
 * hidp's calibration file for this topology. 0, or 1 after saying why. */
static int calibrate(void)
{
    hidp__err err = {0, ""};
    hidp__topo topo = {0};
    if (hidp__topo_load(&topo, &err) != 0 || topo.n_kinds != 2 || !topo.this_system) {
        fprintf(stderr, "little_core: need HWLOC_XMLFILE naming PU 0 and PU 1 as two kinds and "
                        "HWLOC_THISSYSTEM=1 (%s)\n", err.msg);
        hidp__topo_destroy(&topo);
        return 1;
    }
    probe pr[2] = {{0, 0}, {1, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, probe_main, &pr[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    move_pu1_threads(1);
    char path[4200], dir[4200], cmd[4300];
    if (hidp__calib_path(&topo, path, sizeof path, &err) != 0) {
        fprintf(stderr, "little_core: %s\n", err.msg);
        hidp__topo_destroy(&topo);
        return 1;
    }
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    FILE *f = system(cmd) == 0 ? fopen(path, "w") : NULL;
    if (!f) {
        fprintf(stderr, "little_core: cannot write %s\n", path);
        hidp__topo_destroy(&topo);
        return 1;
    }
    /* kind 0 is PU 0 (big), kind 1 PU 1 (little) in this2.xml */
    const double wake = hidp__calib_wake_us(&topo, 0, 1);
    fprintf(f, "# written by bench/little_core with PU 1 throttled\n"
               "kind 0 speed %.3f alone %.3f\nkind 1 speed %.3f alone %.3f\nwake_us %.2f\n",
            pr[0].gflops, pr[0].gflops, pr[1].gflops, pr[1].gflops, wake);
    fclose(f);
    hidp__topo_destroy(&topo);
    printf("calibration: big PU 0 %.1f GFLOP/s, little PU 1 %.1f GFLOP/s (%.0f%%), wake-up "
           "%.1f us\n", pr[0].gflops, pr[1].gflops, 100.0 * pr[1].gflops / pr[0].gflops, wake);
    return 0;
}

/* The benchmarks' input for the model (model is a file, or onnx holds a zoo model's bytes),
 * its length in *n; NULL after saying why when it does not load. */
static float *model_input(const char *model, const void *onnx, size_t size, size_t *n)
{
    hidp_context *ctx;
    hidp_model *m;
    float *in = NULL;
    hidp_context_create(&ctx, 0);
    const int rc = onnx ? hidp_model_load_memory(ctx, onnx, size, &m)
                        : hidp_model_load(ctx, model, &m);
    if (rc == 0 && !(in = bench_model_input(m, n)))
        fprintf(stderr, "little_core: %s: no input, or out of memory\n", model);
    else if (rc != 0)
        fprintf(stderr, "little_core: %s\n", hidp_context_last_error(ctx));
    if (rc == 0)
        hidp_model_destroy(m);
    hidp_context_destroy(ctx);
    return in;
}

enum { BIG, LITTLE, EQUAL, EQUAL_TUNED, PREPARED, FIXED, NO_TAKE_BACK, NO_STRIPES, TUNED,
       VARIANT, N_SETTINGS };
/* The settings timed: VARIANT, the default with one environment variable set while it is
 * prepared and tuned (LITTLE_CORE_AB=NAME=VALUE), only when asked for. */
static int n_settings = VARIANT;

/* Both cores at once, each on a model of its own: the little core alone's model on a thread
 * of its own (in the group; its runs bind it to PU 1), the big core alone's on the caller's
 * thread, each run counted only when the other core was running all through it. Two cores
 * running at once share what one alone has to itself (memory bandwidth, caches, the host's
 * clocks): ResNet-50 alone took 57.5 ms on PU 0 and 64.5 with PU 1 running its own copy. A
 * split of one model between the two cannot beat the ideal made of these two times. */
typedef struct together {
    hidp_model *little;
    int runs;
    double *t; /* [runs] ms */
    atomic_int started, done;
} together;

static void *together_little(void *arg)
{
    together *tg = arg;
    caller_in_group(1);
    hidp_model_run(tg->little); /* not counted: the big core may not have started */
    atomic_store(&tg->started, 1);
    for (int k = 0; k < tg->runs; k++) {
        const double t0 = bench_now_ms();
        hidp_model_run(tg->little);
        tg->t[k] = bench_now_ms() - t0;
    }
    atomic_store(&tg->done, 1);
    caller_in_group(0);
    return NULL;
}

/* Per round: the median run of each core while the other ran its own model (0: none). */
static double together_big[MAX_ROUNDS], together_little_ms[MAX_ROUNDS];

/* Per round: a cache line's one-way trip between PU 0 and PU 1 at the round's start (ns; < 0:
 * not measured). This VM's two vCPUs take 42-51 ns when the host runs them on cores sharing a
 * cache and 220-255 ns when not, and switch every few seconds or minutes; every layer split
 * between them pays that on the data each reads of the other's (doc/local-level.md). */
static double round_handoff[MAX_ROUNDS];

static void time_together(setting *set, int r, int little_runs)
{
    together tg = {.little = set[LITTLE].m, .runs = little_runs,
                   .t = malloc((size_t)little_runs * sizeof(double))};
    const int cap = 64 * (little_runs + 1);
    double *big = malloc((size_t)cap * sizeof *big);
    pthread_t th;
    if (!tg.t || !big || pthread_create(&th, NULL, together_little, &tg) != 0) {
        fprintf(stderr, "little_core: cannot run the two cores together\n");
        exit(1);
    }
    int n = 0;
    while (!atomic_load(&tg.done)) {
        const int from_start = atomic_load(&tg.started);
        const double t0 = bench_now_ms();
        hidp_model_run(set[BIG].m);
        const double ms = bench_now_ms() - t0;
        if (from_start && !atomic_load(&tg.done) && n < cap)
            big[n++] = ms;
    }
    pthread_join(th, NULL);
    together_big[r] = n ? bench_median(big, n) : 0;
    together_little_ms[r] = bench_median(tg.t, little_runs);
    free(big);
    free(tg.t);
}

/* Every setting gets a block of runs in each round, in turn, so a drift in this machine's speed
 * (a shared VM's neighbours) moves all of them alike and the ratios stay. Each round takes the
 * settings in a new order: in a fixed one, a setting's time depended on its place (big core
 * only, which the ideal is made of, ran 7% slower first than a copy of it placed fourth: 9.15
 * against 8.50 ms on MobileNet-V2), and rotating the order kept every setting's neighbours.
 * Each setting gets at least min_runs runs in all, and each block lasts BLOCK_MS, ten quota
 * periods of the default 10 ms: long enough for the steady state of a throttled core (the quota
 * refills between blocks, two periods, and a short block would mostly time its first
 * full-speed burst). The two cores at once (time_together) take a block too, in the same turn. */
#define BLOCK_MS 100.0
static void time_rounds(setting *set, int rounds, int min_runs)
{
    const long period_us = group_period_us();
    int per_block[N_SETTINGS];
    for (int k = 0; k < n_settings; k++) {
        const double t0 = bench_now_ms();
        hidp_model_run(set[k].m);
        const double est = fmax(bench_now_ms() - t0, 0.01);
        const int for_runs = (min_runs + rounds - 1) / rounds, for_time = (int)(BLOCK_MS / est) + 1;
        per_block[k] = for_runs > for_time ? for_runs : for_time;
        per_block[k] = per_block[k] > 5000 / rounds ? 5000 / rounds : per_block[k];
        set[k].t = malloc((size_t)(per_block[k] * rounds) * sizeof *set[k].t);
        if (!set[k].t) {
            fprintf(stderr, "little_core: out of memory\n");
            exit(1);
        }
    }
    unsigned seed = 1;
    for (int r = 0; r < rounds; r++) {
        round_handoff[r] = bench_handoff_ns(0, 1, 2000, 0);
        int order[N_SETTINGS + 1]; /* n_settings: both single-core settings at once */
        for (int k = 0; k <= n_settings; k++)
            order[k] = k;
        for (int k = n_settings; k > 0; k--) { /* Fisher-Yates, a fixed LCG: repeatable */
            seed = seed * 1103515245u + 12345u;
            const int j = (int)((seed >> 16) % (unsigned)(k + 1)), swap = order[k];
            order[k] = order[j];
            order[j] = swap;
        }
        for (int j = 0; j <= n_settings; j++) {
            const int k = order[j];
            usleep((useconds_t)(2 * period_us));
            if (k == n_settings)
                time_together(set, r, per_block[LITTLE]);
            else
                time_block(&set[k], r, per_block[k]);
        }
    }
}

/* The ideal of a big core and a little one that take big and little ms alone: both at once,
 * each on its part in proportion to its speed, 1 / (1 / big + 1 / little). */
static double ideal_ms(double big, double little)
{
    return big * little / (big + little);
}

/* Round r's ideal, of its big core alone's and little core alone's medians. */
static double round_ideal(const setting *set, int r)
{
    return ideal_ms(set[BIG].round_med[r], set[LITTLE].round_med[r]);
}

/* The median over rounds of round r's median of setting `num` over setting k's (num -1: the
 * round's ideal). This VM's speed jumps by a third for seconds at a time, so a setting's median
 * over all its runs can catch a fast phase that another's missed; within one round (a few
 * hundred ms) the settings mostly share a phase, so ratios taken round by round compare them
 * fairly. */
static double paired(const setting *set, int rounds, int num, int k)
{
    double ratio[MAX_ROUNDS];
    for (int r = 0; r < rounds; r++)
        ratio[r] = (num < 0 ? round_ideal(set, r) : set[num].round_med[r]) / set[k].round_med[r];
    return bench_median(ratio, rounds);
}

/* The rounds' cache-line handoffs and, when they fall in two groups (the slowest over twice the
 * fastest), the default's efficiency in each group, paired round by round: what the phase the
 * VM was in made of the figures above. */
static void report_handoff(const setting *set, int rounds)
{
    double h[MAX_ROUNDS];
    int n = 0;
    for (int r = 0; r < rounds; r++)
        if (round_handoff[r] > 0)
            h[n++] = round_handoff[r];
    if (n == 0)
        return;
    const double med = bench_median(h, n), lo = h[0], hi = h[n - 1]; /* sorted */
    printf("cache-line handoff PU 0 <-> PU 1 at each round's start: median %.0f ns (%.0f-%.0f)\n",
           med, lo, hi);
    if (hi <= 2 * lo)
        return;
    const double cut = sqrt(lo * hi);
    for (int slow = 0; slow < 2; slow++) {
        double eff[MAX_ROUNDS];
        int k = 0;
        for (int r = 0; r < rounds; r++) {
            if (round_handoff[r] <= 0 || (round_handoff[r] >= cut) != slow)
                continue;
            eff[k++] = round_ideal(set, r) / set[TUNED].round_med[r];
        }
        if (k)
            printf("  %d rounds with a handoff %s %.0f ns: the default %.0f%% of the ideal "
                   "(paired)\n",
                   k, slow ? "over" : "under", cut, 100.0 * bench_median(eff, k));
    }
}

/* The little core's pace on its work of one kind (chunks, stripes' bands): the CPU time it
 * spent on it against the time the plan gives the same work on the big core. */
static void report_pace(const char *label, const char *what, double cpu_s, double planned_s)
{
    if (cpu_s > 0)
        printf("  %s: the little core's %s took %.1f ms of its CPU for %.1f ms of the big core's "
               "at its measured speed: %.0f%% of its pace per CPU second\n",
               label, what, 1e3 * cpu_s, 1e3 * planned_s, 100.0 * planned_s / cpu_s);
}

/* The medians, the ideal, and the tuned split against it (overall and round by round). */
static void report(setting *set, int rounds)
{
    int fewest = set[0].runs, most = set[0].runs;
    for (int k = 1; k < n_settings; k++) {
        fewest = set[k].runs < fewest ? set[k].runs : fewest;
        most = set[k].runs > most ? set[k].runs : most;
    }
    printf("medians (ms) over %d-%d runs of each setting, in %d interleaved rounds, and the\n"
           "90th percentile (the slow runs a stopped core makes)\n", fewest, most, rounds);
    double med[N_SETTINGS] = {0};
    for (int k = 0; k < n_settings; k++) {
        med[k] = bench_median(set[k].t, set[k].runs); /* sorts t */
        const double p90 = set[k].t[(set[k].runs * 9 + 9) / 10 - 1];
        /* the quota runs out at most once a period, so a run longer than one can count several */
        printf("  %-37s %8.2f  p90 %8.2f   little busy %5.2f ms/run, quota ran out %5.2f times/run\n",
               set[k].label, med[k], p90, (double)set[k].used.cpu_ns * 1e-6 / set[k].runs,
               (double)set[k].used.throttled / set[k].runs);
    }
    const double ideal = ideal_ms(med[BIG], med[LITTLE]);
    double lo = 1e9, hi = 0;
    for (int r = 0; r < rounds; r++) {
        const double eff = round_ideal(set, r) / set[TUNED].round_med[r];
        lo = eff < lo ? eff : lo;
        hi = eff > hi ? eff : hi;
    }
    printf("  %-37s %8.2f   (1 / (1/big + 1/little))\n", "ideal", ideal);
    /* the same ideal of the two cores' times while both were busy (time_together) */
    double tb[MAX_ROUNDS], tl[MAX_ROUNDS], busy_ratio[MAX_ROUNDS];
    int nt = 0;
    for (int r = 0; r < rounds; r++)
        if (together_big[r] > 0 && together_little_ms[r] > 0) {
            tb[nt] = together_big[r];
            tl[nt] = together_little_ms[r];
            busy_ratio[nt] = ideal_ms(tb[nt], tl[nt]) / set[TUNED].round_med[r];
            nt++;
        }
    double busy_ideal = 0;
    if (nt) {
        const double b = bench_median(tb, nt), l = bench_median(tl, nt);
        busy_ideal = ideal_ms(b, l);
        printf("  %-37s %8.2f   (of each core's time while the other ran a model of its "
               "own:\n  %43s big %.2f ms, little %.2f, %+.0f%% and %+.0f%% on alone)\n",
               "ideal, both cores busy", busy_ideal, "", b, l, 100.0 * (b / med[BIG] - 1),
               100.0 * (l / med[LITTLE] - 1));
    }
    printf("  calibrated+tuned: %.0f%% of ideal (rounds %.0f-%.0f%%); %.2fx big only, %.2fx "
           "equal split (%.2fx tuned equal); as prepared: %.0f%% of ideal\n",
           100.0 * ideal / med[TUNED], 100.0 * lo, 100.0 * hi, med[BIG] / med[TUNED],
           med[EQUAL] / med[TUNED], med[EQUAL_TUNED] / med[TUNED], 100.0 * ideal / med[PREPARED]);
    if (nt)
        printf("  calibrated+tuned: %.0f%% of the ideal with both cores busy (paired %.0f%%)\n",
               100.0 * busy_ideal / med[TUNED], 100.0 * bench_median(busy_ratio, nt));
    for (int k = 0; k < n_settings; k++) {
        long long helped = 0, taken = 0;
        if (set[k].backoffs)
            printf("  %s: shares backed off %d times, last: %s\n", set[k].label,
                   set[k].backoffs, set[k].backoff);
        if (set[k].m->watching)
            printf("  %s: the watch checked the plan %d times and changed it %d times\n",
                   set[k].label, set[k].m->watch.checks, set[k].m->watch.switches);
        if (set[k].m->exec)
            hidp__exec_help_counts(set[k].m->exec, &helped, &taken);
        if (helped + taken)
            printf("  %s: the little core finished %lld chunks, the big core took back %lld "
                   "and took %lld pieces from the back of chunks the little core was running "
                   "(tuning runs included)\n",
                   set[k].label, helped, taken, hidp__exec_help_shared(set[k].m->exec));
        double pace_cpu = 0, pace_planned = 0;
        if (set[k].m->exec)
            hidp__exec_help_pace(set[k].m->exec, &pace_cpu, &pace_planned);
        report_pace(set[k].label, "finished chunks", pace_cpu, pace_planned);
        long long stripes_helped = 0, stripes_taken = 0;
        const int stripes = set[k].m->exec ? hidp__exec_stripes_in_force(
                                                 set[k].m->exec, &stripes_helped, &stripes_taken)
                                           : 0;
        if (stripes_helped + stripes_taken)
            printf("  %s: %d stripes in force; of all stripes run, the little core delivered "
                   "%lld, the big core took back %lld\n",
                   set[k].label, stripes, stripes_helped, stripes_taken);
        if (set[k].m->exec) {
            hidp__exec_stripe_pace(set[k].m->exec, &pace_cpu, &pace_planned);
            report_pace(set[k].label, "delivered stripe bands", pace_cpu, pace_planned);
        }
    }
    printf("paired by round (medians over the %d rounds of each round's ratio):\n", rounds);
    for (int k = PREPARED; k < n_settings; k++)
        printf("  %-37s %3.0f%% of ideal, %.2fx big only, %.2fx equal split\n", set[k].label,
               100.0 * paired(set, rounds, -1, k), paired(set, rounds, BIG, k),
               paired(set, rounds, EQUAL, k));
    printf("  default vs no take-back: %.2fx, vs no stripes: %.2fx (paired)\n",
           paired(set, rounds, NO_TAKE_BACK, TUNED), paired(set, rounds, NO_STRIPES, TUNED));
    if (n_settings > VARIANT)
        printf("  %s vs the default: %.3fx (paired; above 1: the variant is faster)\n",
               set[VARIANT].label, paired(set, rounds, TUNED, VARIANT));
    report_handoff(set, rounds);
}

/* Whether the len characters at p are the whole of name. */
static int names(const char *p, size_t len, const char *name)
{
    return strlen(name) == len && !strncmp(p, name, len);
}

/* The median of `runs` runs of setting s, each timed around (ms); t has room for them. */
static double median_run_ms(setting *s, int runs, double *t)
{
    for (int k = 0; k < runs; k++) {
        const double t0 = bench_now_ms();
        hidp_model_run(s->m);
        t[k] = bench_now_ms() - t0;
    }
    return bench_median(t, runs);
}

/* With LITTLE_CORE_PROFILE set (little_core.sh -P SETTING[,SETTING]: tuned, fixed, prepared or
 * big, the big core alone: what each layer costs unsplit, beside a split setting's): `runs`
 * more runs of that setting, profiled, and per layer its wall time and each worker's time in
 * its slice (means per run), so the layers where the big core waits for the little one show;
 * `runs` runs just before, not profiled, say what the profile costs (or the minutes' drift). */
static void profile_setting(setting *s, int runs)
{
    double *t = malloc((size_t)(runs > 0 ? runs : 1) * sizeof *t);
    if (!t)
        return;
    const double plain_ms = median_run_ms(s, runs, t);
    if (hidp_model_profile(s->m, 1, NULL) != 0) {
        free(t);
        return;
    }
    const usage u0 = group_usage();
    const double profiled_ms = median_run_ms(s, runs, t);
    free(t);
    const usage u1 = group_usage();
    int32_t n = 0;
    const double total = hidp_model_profile_total_ms(s->m, &n);
    const int workers = hidp_model_num_workers(s->m);
    printf("profile of '%s', %d runs, %.2f ms per run (means per run; the median %.2f ms "
           "against %.2f in %d runs just before, not profiled)\n"
           "   #  layer                          wall ms   big ms  little ms\n",
           s->label, n, n ? total / n : 0.0, profiled_ms, plain_ms, runs);
    double little_slices = 0;
    for (int i = 0; i < hidp_model_num_layers(s->m); i++) {
        hidp_layer_info info;
        hidp_layer_profile lp;
        hidp_worker_profile wp[2] = {{0}, {0}};
        if (hidp_model_layer_info(s->m, i, &info) != 0 ||
            hidp_model_profile_layer(s->m, i, &lp) != 0 || lp.runs == 0)
            continue;
        for (int w = 0; w < workers && w < 2; w++)
            hidp_model_profile_worker(s->m, i, w, &wp[w]);
        printf("  %2d  %-30.30s %7.3f  %7.3f  %7.3f\n", i, info.name, lp.wall_ms / lp.runs,
               wp[0].busy_ms / lp.runs, wp[1].busy_ms / lp.runs);
        little_slices += wp[1].busy_ms / lp.runs;
    }
    /* The little core's CPU time (its thread's schedstat) beside the wall time of its slices:
     * what it spent outside them (waking, going to sleep, the profile's own clock reads) is
     * quota its slices could have had. A throttled stretch inside a slice counts in the slices'
     * wall time but not in the CPU time, so the share can pass 100% in runs that were throttled. */
    const double little_cpu = runs ? (double)(u1.cpu_ns - u0.cpu_ns) * 1e-6 / runs : 0;
    printf("  little core: %.3f ms CPU per run, %.3f ms of it in slices (%.0f%%), "
           "throttled %lld times in %d runs\n",
           little_cpu, little_slices, little_cpu > 0 ? 100.0 * little_slices / little_cpu : 0.0,
           u1.throttled - u0.throttled, runs);
    hidp_model_profile(s->m, 0, NULL);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: little_core CGROUP_DIR MODEL|ZOO-NAME [RUNS [ROUNDS]]\n"
                        "(run it through bench/little_core.sh, which makes the group)\n");
        return 2;
    }
    /* line by line: a run the script's timeout stops keeps what it had printed */
    setvbuf(stdout, NULL, _IOLBF, 0);
    group = argv[1];
    const int min_runs = argc > 3 && atoi(argv[3]) > 0 ? atoi(argv[3]) : 21;
    int rounds = argc > 4 ? atoi(argv[4]) : 20;
    rounds = rounds < 1 ? 1 : rounds > MAX_ROUNDS ? MAX_ROUNDS : rounds;
    if (calibrate() != 0)
        return 1;

    void *onnx = NULL;
    size_t size = 0;
    if (access(argv[2], R_OK) != 0) {
        hidp_context *zoo;
        hidp_context_create(&zoo, 0);
        if (hidp_zoo_build(zoo, argv[2], 0, 224, &onnx, &size) != 0) {
            fprintf(stderr, "little_core: %s\n", hidp_context_last_error(zoo));
            return 1;
        }
        hidp_context_destroy(zoo);
    }
    size_t n;
    float *in = model_input(argv[2], onnx, size, &n);
    if (!in)
        return 1;
    const int cal = HIDP_SPLIT_CALIBRATED, eq = HIDP_SPLIT_EQUAL;
    setting set[N_SETTINGS] = {
        [BIG] = {"big core only", 1, cal, 0, "0"},
        [LITTLE] = {"little core only", 1, cal, 0, "1"},
        [EQUAL] = {"both, equal split", 2, eq, 0, "0,1"},
        [EQUAL_TUNED] = {"both, equal split, tuned", 2, eq, 1, "0,1"},
        [PREPARED] = {"both, calibrated, as prepared", 2, cal, HIDP_TUNE_OFF, "0,1"},
        [FIXED] = {"both, calibrated, tuned, fixed", 2, cal, HIDP_TUNE_FIXED, "0,1"},
        [NO_TAKE_BACK] = {"both, calibrated, tuned, no take-back", 2, cal, HIDP_TUNE_ON, "0,1", 1},
        [NO_STRIPES] = {"both, calibrated, tuned, no stripes", 2, cal, HIDP_TUNE_ON, "0,1", 0, 1},
        [TUNED] = {"both, calibrated, tuned (default)", 2, cal, HIDP_TUNE_ON, "0,1"},
        [VARIANT] = {"", 2, cal, HIDP_TUNE_ON, "0,1"},
    };
    /* LITTLE_CORE_AB=NAME=VALUE: the default once more with NAME set while it is prepared and
     * tuned, timed in the same rounds: an A/B under the quota that drifts in this VM's speed
     * (its phases) cannot tell apart from a change, as runs of two builds one after the other
     * can. Only what the engine reads from the environment at prepare can differ. */
    const char *ab = getenv("LITTLE_CORE_AB");
    char ab_label[64], ab_name[64];
    const char *ab_value = ab ? strchr(ab, '=') : NULL;
    if (ab_value && ab_value > ab && (size_t)(ab_value - ab) < sizeof ab_name) {
        snprintf(ab_name, sizeof ab_name, "%.*s", (int)(ab_value - ab), ab);
        ab_value++;
        snprintf(ab_label, sizeof ab_label, "default, %.29s", ab);
        set[VARIANT].label = ab_label;
        n_settings = N_SETTINGS;
    } else if (ab) {
        fprintf(stderr, "little_core: LITTLE_CORE_AB wants NAME=VALUE, got '%s'\n", ab);
        return 2;
    }
    printf("model %s\n", argv[2]);
    /* Set up in this order: big core only just before the default. A model set up later ran
     * faster here, on 4 KB pages, by up to 10% over eight set-ups (the same setting set up
     * first and fourth: 9.59 and 9.05 ms; with transparent huge pages on for all memory, no
     * such drift). Side by side, the ideal and the default share that luck. */
    static const int setup_order[N_SETTINGS] = {LITTLE,     EQUAL,   EQUAL_TUNED, PREPARED,
                                                FIXED,      NO_TAKE_BACK, NO_STRIPES,
                                                VARIANT,    BIG,     TUNED};
    for (int k = 0; k < N_SETTINGS; k++) {
        const int which = setup_order[k];
        if (which >= n_settings)
            continue;
        /* the variant before the default: what set-up order gives goes to the default */
        if (which == VARIANT)
            setenv(ab_name, ab_value, 1);
        set_up(&set[which], argv[2], onnx, size, in, n);
        if (which == VARIANT)
            unsetenv(ab_name);
    }
    hidp_free(onnx);
    time_rounds(set, rounds, min_runs);
    report(set, rounds);
    /* the settings to profile, one after the other: a comma-separated list */
    const char *prof = getenv("LITTLE_CORE_PROFILE");
    for (const char *p = prof; p && *p;) {
        const size_t len = strcspn(p, ",");
        if (len > 0)
            profile_setting(&set[names(p, len, "prepared") ? PREPARED
                                 : names(p, len, "fixed")  ? FIXED
                                 : names(p, len, "big")    ? BIG
                                                           : TUNED],
                            min_runs);
        p += len + (p[len] == ',');
    }
    for (int k = 0; k < n_settings; k++) {
        hidp_model_destroy(set[k].m);
        hidp_context_destroy(set[k].ctx);
        free(set[k].t);
    }
    free(in);
    return 0;
}
