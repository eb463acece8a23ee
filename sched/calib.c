/*
 * calib.c - how fast each core kind runs hidp's kernels, measured on the board and cached.
 *
 * The measure is the GEMM of a representative convolution (ResNet's 3x3 64->64 layer on a 14x14
 * band: M = 64, N = 196, K = 576, weights packed once, all in L2), repeated for CALIB_MS:
 *   alone     one thread bound to the kind's first PU, the kinds one after the other;
 *   together  one thread on every PU of every kind at once, as a split layer runs them, so
 *             shared caches, memory bandwidth and SMT siblings weigh in (CALIB_ROUNDS times,
 *             each PU's figure the median).
 * A kind's speed is its together figure per PU (GFLOP/s); the alone figure is kept for tools.
 * The efficiency rank hwloc reports is only an order; these are the numbers a split can use.
 *
 * Results are cached in <cache dir>/calibration-<signature>.txt, the signature hashing each
 * kind's PUs, core type and frequencies, so another board, or the same board with a core taken
 * offline, gets its own file. The file is text, written atomically, and reread unless forced.
 */
#include <errno.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "calib.h"
#include "hidp.h"
#include "median.h"
#include "../engine/npy.h"
#include "../ops/sgemm.h"

/* Milliseconds each measurement runs. */
#ifndef CALIB_MS
#define CALIB_MS 40
#endif

/* Times the together measurement is taken; each PU's figure is the median of them. A vCPU the
 * host stops for a few milliseconds loses a tenth of one 40 ms figure: two equal vCPUs measured
 * 0-21% apart with one round, run to run, on the dev VMs, and the shares followed; with five,
 * 0-4% apart in four calibrations. */
#define CALIB_ROUNDS 5

enum { CALIB_M = 64, CALIB_N = 196, CALIB_K = 576 };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One measuring thread: its PU, the go signal it waits for, what it measured. */
typedef struct probe {
    const hidp__topo *t;
    int pu;
    const atomic_int *go;
    double gflops;
    int rc;
    hidp__err err;
} probe;

/* The GEMM over and over for CALIB_MS, after one untimed run; GFLOP/s into p->gflops. */
static void *probe_main(void *arg)
{
    probe *p = arg;
    const hidp__sgemm_kernel *kern = hidp__sgemm_best();
    p->rc = hidp__topo_bind_thread(p->t, &p->pu, 1, &p->err);
    if (p->rc)
        return NULL;
    const size_t na = hidp__sgemm_packed_a_floats(kern, CALIB_M, CALIB_K);
    const size_t ns = hidp__sgemm_scratch_floats(kern, CALIB_K, CALIB_N);
    float *a = calloc(na, sizeof *a), *b = malloc((size_t)CALIB_K * CALIB_N * sizeof *b);
    float *c = malloc((size_t)CALIB_M * CALIB_N * sizeof *c), *s = malloc(ns * sizeof *s);
    if (!a || !b || !c || !s) {
        p->rc = hidp__fail(&p->err, HIDP_ENOMEM, "calibration: out of memory");
        goto done;
    }
    for (size_t i = 0; i < na; i++)
        a[i] = (float)(i % 7) * 0.01f;
    for (size_t i = 0; i < (size_t)CALIB_K * CALIB_N; i++)
        b[i] = (float)(i % 5) * 0.01f;
    const hidp__sgemm_matrix bm = {b, CALIB_N};
    const hidp__sgemm_call call = {.kern = kern, .m = CALIB_M, .n = CALIB_N, .k = CALIB_K,
                                   .a_packed = a, .b_src = &bm, .c = c, .ldc = CALIB_N};
    while (!atomic_load_explicit(p->go, memory_order_acquire))
        ;
    hidp__sgemm(&call, 0, CALIB_M, s);
    long runs = 0;
    const double t0 = now_s();
    double t1 = t0;
    while (t1 - t0 < CALIB_MS * 1e-3) {
        hidp__sgemm(&call, 0, CALIB_M, s);
        runs++;
        t1 = now_s();
    }
    p->gflops = 2.0 * CALIB_M * CALIB_N * CALIB_K * (double)runs / (t1 - t0) * 1e-9;
done:
    free(a), free(b), free(c), free(s);
    return NULL;
}

/* Runs one probe per PU in pus[0..n) at once; gflops[i] gets PU i's figure. */
static int measure(const hidp__topo *t, const int *pus, int n, double *gflops, hidp__err *err)
{
    probe *pr = calloc((size_t)n, sizeof *pr);
    pthread_t *tid = calloc((size_t)n, sizeof *tid);
    atomic_int go = 0;
    int rc = 0, started = 0;
    if (!pr || !tid) {
        rc = hidp__fail(err, HIDP_ENOMEM, "calibration: out of memory");
        goto done;
    }
    for (; started < n; started++) {
        pr[started] = (probe){t, pus[started], &go, 0.0, 0, {0, ""}};
        if (pthread_create(&tid[started], NULL, probe_main, &pr[started]) != 0) {
            rc = hidp__fail(err, HIDP_ESYSTEM, "calibration: cannot start a thread");
            break;
        }
    }
    atomic_store_explicit(&go, 1, memory_order_release);
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    for (int i = 0; i < started && rc == 0; i++) {
        if (pr[i].rc) {
            rc = pr[i].rc;
            *err = pr[i].err;
        }
        gflops[i] = pr[i].gflops;
    }
done:
    free(pr);
    free(tid);
    return rc;
}

/* measure() CALIB_ROUNDS times; gflops[i] gets the median of PU i's figures. */
static int measure_rounds(const hidp__topo *t, const int *pus, int n, double *gflops,
                          hidp__err *err)
{
    double *all = calloc((size_t)n * CALIB_ROUNDS, sizeof *all), tmp[CALIB_ROUNDS];
    if (!all)
        return hidp__fail(err, HIDP_ENOMEM, "calibration: out of memory");
    int rc = 0;
    for (int r = 0; r < CALIB_ROUNDS && rc == 0; r++)
        rc = measure(t, pus, n, all + (size_t)r * (size_t)n, err);
    for (int i = 0; i < n && rc == 0; i++)
        gflops[i] = hidp__median(all + i, CALIB_ROUNDS, n, tmp);
    free(all);
    return rc;
}

/* ---- wake-up latency: how long a worker asleep on a futex takes to run again ---- */

enum { WAKE_ROUNDS = 40 };

typedef struct waker {
    const hidp__topo *t;
    int pu;
    atomic_int *word;   /* bumped once per round */
    _Atomic double *sent; /* [round]: when its wake was sent, written before the bump */
    double total;       /* the sleeper's sum of wake-up delays */
} waker;

/* The sleeper: waits on the word in the kernel each round and adds up how late it runs, from
 * the send time of the round it finds (a sleeper slower than a round, as under an emulator,
 * finds a later one; taking whatever round was sent last could read one sent after its clock,
 * and a negative delay: -33.5 us once under qemu). */
static void *sleeper_main(void *arg)
{
    waker *p = arg;
    hidp__err err = {0, ""};
    hidp__topo_bind_thread(p->t, &p->pu, 1, &err);
    for (int r = 1; r <= WAKE_ROUNDS; r++) {
        int v;
        while ((v = atomic_load(p->word)) < r)
            syscall(SYS_futex, (int *)p->word, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
        const double sent = atomic_load_explicit(&p->sent[v], memory_order_relaxed);
        p->total += now_s() - sent;
    }
    return NULL;
}

/* Microseconds between waking a worker that sleeps at a barrier (on PU b) and its running
 * again, woken from PU a: the calling thread waits long enough for the sleeper to be asleep,
 * then wakes it, WAKE_ROUNDS times. What splitting a short layer costs when a worker slept. */
static double measure_wake(const hidp__topo *t, int a, int b)
{
    atomic_int word = 0;
    _Atomic double sent[WAKE_ROUNDS + 1] = {0};
    waker w = {t, b, &word, sent, 0};
    pthread_t tid;
    hidp__err err = {0, ""};
    if (hidp__topo_bind_thread(t, &a, 1, &err) != 0 ||
        pthread_create(&tid, NULL, sleeper_main, &w) != 0)
        return 0;
    for (int r = 1; r <= WAKE_ROUNDS; r++) {
        const struct timespec nap = {0, 300000}; /* the sleeper is in the kernel by then */
        nanosleep(&nap, NULL);
        atomic_store_explicit(&sent[r], now_s(), memory_order_relaxed);
        atomic_store(&word, r); /* publishes sent[r] to a sleeper that reads r */
        syscall(SYS_futex, (int *)&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
    pthread_join(tid, NULL);
    return w.total * 1e6 / WAKE_ROUNDS;
}

typedef struct wake_job {
    const hidp__topo *t;
    int a, b;
    double us;
} wake_job;

static void *wake_job_main(void *arg)
{
    wake_job *j = arg;
    j->us = measure_wake(j->t, j->a, j->b);
    return NULL;
}

/* measure_wake on a thread of its own, so the caller's CPU binding is left alone. */
double hidp__calib_wake_us(const hidp__topo *t, int a, int b)
{
    wake_job j = {t, a, b, 0};
    pthread_t tid;
    if (pthread_create(&tid, NULL, wake_job_main, &j) != 0)
        return 0;
    pthread_join(tid, NULL);
    return j.us;
}

/* FNV-1a of what identifies the board's kinds. */
static uint64_t signature(const hidp__topo *t)
{
    uint64_t h = 1469598103934665603ull;
    char buf[96];
    for (int k = 0; k < t->n_kinds; k++) {
        const hidp__core_kind *kd = &t->kinds[k];
        for (int i = 0; i <= kd->n_pus; i++) {
            int len = i < kd->n_pus ? snprintf(buf, sizeof buf, "%d,", kd->pus[i])
                                    : snprintf(buf, sizeof buf, "|%s|%d|%d;", kd->core_type,
                                               kd->frequency_max_mhz, kd->frequency_base_mhz);
            for (int j = 0; j < len; j++)
                h = (h ^ (unsigned char)buf[j]) * 1099511628211ull;
        }
    }
    return h;
}

int hidp__calib_path(const hidp__topo *t, char *buf, size_t len, hidp__err *err)
{
    char dir[4000];
    int rc = hidp__topo_cache_dir(dir, sizeof dir, err);
    if (rc)
        return rc;
    if ((size_t)snprintf(buf, len, "%s/calibration-%016" PRIx64 ".txt", dir, signature(t)) >= len)
        return hidp__fail(err, HIDP_EINVAL, "calibration: cache path too long");
    return 0;
}

/* Reads speeds from the cache file; 0 when it held one line per kind, 1 when absent or stale. */
static int load_cache(hidp__topo *t, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    char line[512];
    int found = 0;
    double speed[64] = {0}, alone[64] = {0};
    while (fgets(line, sizeof line, f)) {
        int k;
        double s, a;
        if (line[0] == '#' || sscanf(line, "kind %d speed %lf alone %lf", &k, &s, &a) != 3)
            continue;
        if (k < 0 || k >= t->n_kinds || k >= 64 || !(s > 0) || !(a > 0))
            continue;
        speed[k] = s;
        alone[k] = a;
        found++;
    }
    fclose(f);
    if (found != t->n_kinds)
        return 1;
    f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "wake_us %lf", &t->wake_us) == 1)
            break;
    if (f)
        fclose(f);
    for (int k = 0; k < t->n_kinds; k++) {
        t->kinds[k].speed = speed[k];
        t->kinds[k].speed_alone = alone[k];
    }
    return 0;
}

/* mkdir -p for the cache directory (the parent of path). */
static int make_dirs(const char *path, hidp__err *err)
{
    char dir[4200];
    if ((size_t)snprintf(dir, sizeof dir, "%s", path) >= sizeof dir)
        return hidp__fail(err, HIDP_EINVAL, "calibration: cache path too long");
    char *slash = strrchr(dir, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            return hidp__fail(err, HIDP_EIO, "calibration: cannot create %s: %s", dir,
                              strerror(errno));
        *p = '/';
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return hidp__fail(err, HIDP_EIO, "calibration: cannot create %s: %s", dir, strerror(errno));
    return 0;
}

static int save_cache(const hidp__topo *t, const char *path, hidp__err *err)
{
    char text[8192];
    size_t at = (size_t)snprintf(text, sizeof text,
                                 "# hidp calibration of %s: GFLOP/s per PU of a 64x196x576 GEMM, "
                                 "all PUs together and one PU alone\n", t->source);
    for (int k = 0; k < t->n_kinds && at < sizeof text; k++)
        at += (size_t)snprintf(text + at, sizeof text - at, "kind %d speed %.3f alone %.3f\n", k,
                               t->kinds[k].speed, t->kinds[k].speed_alone);
    if (at < sizeof text)
        at += (size_t)snprintf(text + at, sizeof text - at, "wake_us %.2f\n", t->wake_us);
    if (at >= sizeof text)
        return hidp__fail(err, HIDP_EINVAL, "calibration: too many kinds to cache");
    int rc = make_dirs(path, err);
    return rc ? rc : hidp__write_file_atomic(path, text, at, err);
}

int hidp__calibrate(hidp__topo *t, int mode, hidp__err *err)
{
    char path[4200];
    int rc = hidp__calib_path(t, path, sizeof path, err);
    if (rc)
        return mode == HIDP_CALIB_CACHED ? 0 : rc;
    if (mode != HIDP_CALIB_FORCE && load_cache(t, path) == 0)
        return 0;
    if (mode == HIDP_CALIB_CACHED)
        return 0;
    if (!t->this_system)
        return hidp__fail(err, HIDP_EUNSUPPORTED,
                          "calibration: the topology (%s) is not this machine's, so its kinds "
                          "cannot be timed here", t->source);
    /* alone: each kind's first PU, one kind at a time */
    for (int k = 0; k < t->n_kinds; k++) {
        double g = 0;
        if ((rc = measure(t, t->kinds[k].pus, 1, &g, err)) != 0)
            return rc;
        t->kinds[k].speed_alone = g;
    }
    /* together: every PU at once, each kind's speed the mean of its PUs */
    int *pus = malloc((size_t)t->n_pus * sizeof *pus);
    double *g = calloc((size_t)t->n_pus, sizeof *g);
    if (!pus || !g) {
        free(pus), free(g);
        return hidp__fail(err, HIDP_ENOMEM, "calibration: out of memory");
    }
    int n = 0;
    for (int k = 0; k < t->n_kinds; k++)
        for (int i = 0; i < t->kinds[k].n_pus; i++)
            pus[n++] = t->kinds[k].pus[i];
    rc = measure_rounds(t, pus, n, g, err);
    for (int k = 0, at = 0; rc == 0 && k < t->n_kinds; k++) {
        double sum = 0;
        for (int i = 0; i < t->kinds[k].n_pus; i++)
            sum += g[at++];
        t->kinds[k].speed = sum / t->kinds[k].n_pus;
    }
    free(pus), free(g);
    /* between the fastest kind's first PU and another PU (the slowest kind's when there is one) */
    const hidp__core_kind *last = &t->kinds[t->n_kinds - 1];
    const int other = t->n_kinds > 1 ? last->pus[0] : t->kinds[0].n_pus > 1 ? t->kinds[0].pus[1] : -1;
    if (rc == 0 && other >= 0)
        t->wake_us = hidp__calib_wake_us(t, t->kinds[0].pus[0], other);
    return rc ? rc : save_cache(t, path, err);
}
