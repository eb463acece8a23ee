/*
 * little_core.c - the local level's benchmark on a board with one core made "little" for real:
 * every thread that runs on PU 1 is put in a cgroup-v1 cpu group whose quota is a fraction of
 * its period (bench/little_core.sh makes the group and removes it). The topology describing PU 0
 * and PU 1 as two kinds comes from HWLOC_XMLFILE (test/data/topo/this2.xml) with
 * HWLOC_THISSYSTEM=1.
 *
 * It calibrates the two kinds the way hidp does, but with the probe on PU 1 inside the group,
 * writes hidp's calibration file, then times the model (median of RUNS) with: the big core
 * alone, the little core alone, both with equal shares, both with calibrated shares; and prints
 * the ideal, 1 / (1 / t_big + 1 / t_little), and the calibrated split's efficiency against it.
 * Each median is over RUNS runs or a second's worth, whichever is more.
 *
 * usage: little_core CGROUP_DIR MODEL|ZOO-NAME [RUNS]   (root; run by bench/little_core.sh)
 */
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../engine/hidp.h"
#include "../ops/sgemm.h"
#include "../sched/calib.h"
#include "../sched/topo.h"

static const char *group; /* the throttled cgroup's directory */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

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
    const double t0 = now_ms();
    while (now_ms() - t0 < 300) { /* several quota periods */
        hidp__sgemm(&call, 0, M, s);
        runs++;
    }
    p->gflops = 2.0 * M * N * K * (double)runs / ((now_ms() - t0) * 1e-3) * 1e-9;
    free(a), free(b), free(c), free(s);
    return NULL;
}

/* Median latency of RUNS runs of the model with this placement; the little core's thread is
 * moved into the group after prepare (the caller's own thread too when it is bound there). With
 * tune, the plan's tuning runs (hidp_model_tune) happen after the move, throttled like the timed
 * runs; without, the plan stays as estimated at prepare. */
static double time_model(hidp_context *ctx, hidp_model *m, const float *in, size_t n, int threads,
                         const char *cores, int split, int tune, int runs, const char *label)
{
    hidp_context_set_threads(ctx, threads);
    hidp_context_set_cores(ctx, cores);
    hidp_context_set_split(ctx, split);
    hidp_context_set_tuning(ctx, tune);
    if (hidp_model_prepare(m) != 0 || hidp_model_set_input(m, 0, in, n) != 0) {
        fprintf(stderr, "little_core: %s\n", hidp_context_last_error(ctx));
        exit(1);
    }
    hidp_model_run(m); /* warm up; the workers are running (and bound) from here */
    move_pu1_threads(0);
    const int main_on_little = !strcmp(cores, "1");
    if (main_on_little)
        move_task(group, (long)syscall(SYS_gettid));
    const double tune0 = now_ms();
    const int tuning_runs = hidp_model_tune(m);
    if (tune && tuning_runs > 0)
        printf("  (tuning: %d runs, %.2f s)\n", tuning_runs, (now_ms() - tune0) * 1e-3);
    /* At least a second of runs, so a short model sees a hundred quota periods, not a few. */
    const double before = now_ms();
    hidp_model_run(m);
    const double est = now_ms() - before;
    if (est > 0 && runs < 1000.0 / est)
        runs = 1000.0 / est > 5000 ? 5000 : (int)(1000.0 / est) + 1;
    double *t = malloc((size_t)runs * sizeof *t);
    const usage u0 = group_usage();
    for (int r = 0; r < runs; r++) {
        const double t0 = now_ms();
        hidp_model_run(m);
        t[r] = now_ms() - t0;
    }
    const usage u1 = group_usage();
    move_pu1_threads(1);
    for (int i = 1; i < runs; i++) /* insertion sort: a few dozen runs */
        for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
            const double x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    const double med = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
    free(t);
    printf("  %-29s %8.2f   little busy %5.2f ms/run, throttled %5.1f%% of runs\n", label, med,
           (double)(u1.cpu_ns - u0.cpu_ns) * 1e-6 / runs,
           100.0 * (double)(u1.throttled - u0.throttled) / runs);
    fflush(stdout);
    return med;
}

/* The tuner's verdicts ("plan tuned: ..."), so a figure comes with the plan behind it. */
static void log_tuned(void *user, int level, const char *message)
{
    (void)user;
    (void)level;
    if (strstr(message, "tuned"))
        printf("  (%s)\n", message);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: little_core CGROUP_DIR MODEL|ZOO-NAME [RUNS]\n"
                        "(run it through bench/little_core.sh, which makes the group)\n");
        return 2;
    }
    group = argv[1];
    const int runs = argc > 3 ? atoi(argv[3]) : 21;
    hidp__err err = {0, ""};

    /* calibration, the little probe throttled */
    hidp__topo topo = {0};
    if (hidp__topo_load(&topo, &err) != 0 || topo.n_kinds != 2 || !topo.this_system) {
        fprintf(stderr, "little_core: need HWLOC_XMLFILE naming PU 0 and PU 1 as two kinds and "
                        "HWLOC_THISSYSTEM=1 (%s)\n", err.msg);
        return 1;
    }
    probe pr[2] = {{0, 0}, {1, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, probe_main, &pr[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    move_pu1_threads(1);
    char path[4200];
    if (hidp__calib_path(&topo, path, sizeof path, &err) != 0) {
        fprintf(stderr, "little_core: %s\n", err.msg);
        return 1;
    }
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    /* kind 0 is PU 0 (big), kind 1 PU 1 (little) in this2.xml */
    const double wake = hidp__calib_wake_us(&topo, 0, 1);
    fprintf(f, "# written by bench/little_core with PU 1 throttled\n"
               "kind 0 speed %.3f alone %.3f\nkind 1 speed %.3f alone %.3f\nwake_us %.2f\n",
            pr[0].gflops, pr[0].gflops, pr[1].gflops, pr[1].gflops, wake);
    fclose(f);
    hidp__topo_destroy(&topo);
    printf("calibration: big PU 0 %.1f GFLOP/s, little PU 1 %.1f GFLOP/s (%.0f%%), wake-up "
           "%.1f us\n", pr[0].gflops, pr[1].gflops, 100.0 * pr[1].gflops / pr[0].gflops, wake);

    hidp_context *ctx;
    hidp_model *m = NULL;
    void *onnx = NULL;
    size_t size = 0;
    hidp_context_create(&ctx, 0);
    hidp_context_set_log(ctx, log_tuned, NULL, HIDP_LOG_INFO);
    int rc = access(argv[2], R_OK) == 0 ? hidp_model_load(ctx, argv[2], &m)
             : hidp_zoo_build(ctx, argv[2], 0, 224, &onnx, &size) == 0
                 ? hidp_model_load_memory(ctx, onnx, size, &m)
                 : -1;
    hidp_free(onnx);
    if (rc != 0) {
        fprintf(stderr, "little_core: %s\n", hidp_context_last_error(ctx));
        return 1;
    }
    hidp_tensor_info ti;
    hidp_model_input_info(m, 0, &ti);
    size_t n = 1;
    for (int i = 0; i < ti.ndim; i++)
        n *= (size_t)(ti.dims[i] > 0 ? ti.dims[i] : 1);
    float *in = malloc(n * sizeof *in);
    for (size_t i = 0; i < n; i++)
        in[i] = (float)((i * 7919) % 1000) / 500.0f - 1.0f;

    const int cal_ = HIDP_SPLIT_CALIBRATED, eq = HIDP_SPLIT_EQUAL;
    printf("model %s, median of %d runs or 1 s of them (ms)\n", argv[2], runs);
    const double big = time_model(ctx, m, in, n, 1, "0", cal_, 0, runs, "big core only");
    const double little = time_model(ctx, m, in, n, 1, "1", cal_, 0, runs, "little core only");
    const double equal = time_model(ctx, m, in, n, 2, "0,1", eq, 0, runs, "both, equal split");
    const double equal_t =
        time_model(ctx, m, in, n, 2, "0,1", eq, 1, runs, "both, equal split, tuned");
    const double cal0 =
        time_model(ctx, m, in, n, 2, "0,1", cal_, 0, runs, "both, calibrated, as prepared");
    const double cal = time_model(ctx, m, in, n, 2, "0,1", cal_, 1, runs,
                                  "both, calibrated, tuned (default)");
    const double ideal = big * little / (big + little);
    printf("  ideal                         %8.2f   (1 / (1/big + 1/little))\n", ideal);
    printf("  calibrated+tuned: %.0f%% of ideal; %.2fx big only, %.2fx equal split "
           "(%.2fx tuned equal); as prepared: %.0f%% of ideal\n",
           100.0 * ideal / cal, big / cal, equal / cal, equal_t / cal, 100.0 * ideal / cal0);
    free(in);
    hidp_model_destroy(m);
    hidp_context_destroy(ctx);
    return 0;
}
