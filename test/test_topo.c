/*
 * test_topo.c - core kinds discovered from the hwloc XML topologies in test/data/topo (never from
 * the build host), the public hidp_topology_* API, and real thread binding on this machine's
 * first two CPUs described as two kinds (HWLOC_THISSYSTEM=1).
 */
#include <math.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <unistd.h>

#include "plan_check.h"
#include "topo_data.h"
#include "emulated.h"
#include "tap.h"
#include "../engine/exec.h"
#include "../engine/model.h"
#include "../sched/calib.h"
#include "../sched/topo.h"
#include "hidp.h"

/* What one kind must look like; core_type NULL and numbers 0 mean "not checked". */
typedef struct want_kind {
    const char *core_type;
    int pus[16];
    int n_pus;
    int cores;
    int frequency_max_mhz;
    int linux_capacity;
} want_kind;

typedef struct want_topo {
    const char *file;
    int n_kinds;
    want_kind kinds[4];
} want_topo;

/* Expected kinds, fastest first as topo.h promises. */
static const want_topo wants[] = {
    {"odroid-xu4.xml",
     2,
     {{"Cortex-A15", {4, 5, 6, 7}, 4, 4, 2000, 0}, {"Cortex-A7", {0, 1, 2, 3}, 4, 4, 1400, 0}}},
    {"rk3588.xml",
     2,
     {{"Cortex-A76", {4, 5, 6, 7}, 4, 4, 2400, 1024},
      {"Cortex-A55", {0, 1, 2, 3}, 4, 4, 1800, 446}}},
    {"orin-nx.xml", 1, {{"Cortex-A78AE", {0, 1, 2, 3, 4, 5, 6, 7}, 8, 8, 1984, 1024}}},
    /* P cores with SMT: 4 PUs but 2 cores. */
    {"intel-hybrid.xml",
     2,
     {{"IntelCore", {0, 1, 2, 3}, 4, 2, 4400, 0}, {"IntelAtom", {4, 5, 6, 7}, 4, 4, 3300, 0}}},
    {"plain2.xml", 1, {{"", {0, 1}, 2, 2, 0, 0}}},
};

static int same_list(const int *a, int na, const int *b, int nb)
{
    if (na != nb)
        return 0;
    for (int i = 0; i < na; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

static void check_topology(const want_topo *w)
{
    char path[1200];
    if (!path_of(path, sizeof path, w->file)) {
        tap_skip("file missing", "%s: discovery", path);
        return;
    }
    setenv("HWLOC_XMLFILE", path, 1);
    unsetenv("HWLOC_THISSYSTEM");
    hidp__topo t;
    hidp__err err = {0, ""};
    int rc = hidp__topo_load(&t, &err);
    if (!tap_ok(rc == 0, "%s: loads", w->file)) {
        tap_diag("  %s", err.msg);
        return;
    }
    TAP_EQ_INT(t.n_kinds, w->n_kinds, "%s: %d kind(s)", w->file, w->n_kinds);
    tap_ok(strstr(t.source, path) != NULL, "%s: source names the XML (%s)", w->file, t.source);
    int total = 0;
    for (int i = 0; i < t.n_kinds && i < w->n_kinds; i++) {
        const hidp__core_kind *k = &t.kinds[i];
        const want_kind *wk = &w->kinds[i];
        total += wk->n_pus;
        if (!tap_ok(same_list(k->pus, k->n_pus, wk->pus, wk->n_pus), "%s: kind %d PUs", w->file,
                    i)) {
            list_diag("got", k->pus, k->n_pus);
            list_diag("want", wk->pus, wk->n_pus);
        }
        TAP_EQ_INT(k->cores, wk->cores, "%s: kind %d has %d cores", w->file, i, wk->cores);
        if (!tap_ok(!strcmp(k->core_type, wk->core_type), "%s: kind %d core type '%s'", w->file, i,
                    wk->core_type))
            tap_diag("  got '%s'", k->core_type);
        TAP_EQ_INT(k->frequency_max_mhz, wk->frequency_max_mhz, "%s: kind %d max frequency",
                   w->file, i);
        TAP_EQ_INT(k->linux_capacity, wk->linux_capacity, "%s: kind %d Linux capacity", w->file, i);
        /* hwloc ranks 0 = least performant, and kinds come fastest first. */
        TAP_EQ_INT(k->efficiency, w->n_kinds - 1 - i, "%s: kind %d efficiency rank", w->file, i);
        tap_ok(k->speed == 0, "%s: kind %d not calibrated (speed %g)", w->file, i, k->speed);
    }
    TAP_EQ_INT(t.n_pus, total, "%s: every PU in one kind", w->file);
    /* An XML of another board must not pretend to bind. */
    int pu = t.kinds[0].pus[0];
    TAP_EQ_INT(hidp__topo_bind_thread(&t, &pu, 1, &err), HIDP_EUNSUPPORTED,
               "%s: binding refused without HWLOC_THISSYSTEM", w->file);
    hidp__topo_destroy(&t);
    tap_ok(t.kinds == NULL && t.n_kinds == 0, "%s: destroy clears", w->file);
}

/* The public API on the RK3588 description. */
static void check_public(void)
{
    char path[1200];
    if (!path_of(path, sizeof path, "rk3588.xml")) {
        tap_skip("file missing", "public API on %s", path);
        return;
    }
    setenv("HWLOC_XMLFILE", path, 1);
    unsetenv("HWLOC_THISSYSTEM");
    hidp_context *ctx = NULL;
    hidp_topology *topo = NULL;
    if (!tap_ok(hidp_context_create(&ctx, 0) == 0, "context"))
        return;
    int rc = hidp_topology_load(ctx, &topo);
    if (tap_ok(rc == 0, "hidp_topology_load on rk3588.xml")) {
        TAP_EQ_INT(hidp_topology_num_kinds(topo), 2, "public: 2 kinds");
        hidp_core_kind k;
        if (tap_ok(hidp_topology_kind(topo, 1, &k) == 0, "public: kind 1")) {
            static const int32_t little[] = {0, 1, 2, 3};
            tap_ok(k.n_pus == 4 && !memcmp(k.pus, little, sizeof little), "public: kind 1 PUs 0-3");
            tap_ok(!strcmp(k.core_type, "Cortex-A55"), "public: kind 1 is %s", k.core_type);
            TAP_EQ_INT(k.linux_capacity, 446, "public: kind 1 capacity");
            TAP_EQ_INT(k.efficiency, 0, "public: kind 1 efficiency");
            tap_ok(k.speed == 0, "public: kind 1 speed unknown");
        }
        TAP_EQ_INT(hidp_topology_kind(topo, 2, &k), HIDP_EINVAL, "public: kind 2 out of range");
        TAP_EQ_INT(hidp_topology_kind(topo, -1, &k), HIDP_EINVAL, "public: kind -1 out of range");
        tap_ok(strstr(hidp_topology_source(topo), "rk3588.xml") != NULL, "public: source '%s'",
               hidp_topology_source(topo));
    } else {
        tap_diag("  %s", hidp_context_last_error(ctx));
    }
    hidp_topology_destroy(topo);

    setenv("HWLOC_XMLFILE", "/nonexistent/topo.xml", 1);
    topo = NULL;
    rc = hidp_topology_load(ctx, &topo);
    tap_ok(rc < 0 && topo == NULL, "public: a missing HWLOC_XMLFILE fails (%d)", rc);
    tap_ok(strstr(hidp_context_last_error(ctx), "/nonexistent/topo.xml") != NULL,
           "public: the message names the file: %s", hidp_context_last_error(ctx));
    hidp_topology_destroy(topo);

    /* hwloc alone would fall back to this machine on a malformed file. */
    char bad[] = "/tmp/hidp-topo-XXXXXX";
    int fd = mkstemp(bad);
    if (fd >= 0 && write(fd, "garbage\n", 8) == 8) {
        setenv("HWLOC_XMLFILE", bad, 1);
        topo = NULL;
        rc = hidp_topology_load(ctx, &topo);
        tap_ok(rc < 0 && topo == NULL, "public: a malformed HWLOC_XMLFILE fails (%d): %s", rc,
               hidp_context_last_error(ctx));
        hidp_topology_destroy(topo);
    } else {
        tap_skip("cannot write a temporary file", "public: a malformed HWLOC_XMLFILE fails");
    }
    if (fd >= 0) {
        close(fd);
        unlink(bad);
    }

    char buf[512];
    const char *old_xdg = getenv("XDG_CACHE_HOME");
    char *saved = old_xdg ? strdup(old_xdg) : NULL;
    setenv("XDG_CACHE_HOME", "/tmp/xdg-test", 1);
    tap_ok(hidp_topology_cache_dir(ctx, buf, sizeof buf) == 0 && !strcmp(buf, "/tmp/xdg-test/hidp"),
           "cache dir under XDG_CACHE_HOME: %s", buf);
    unsetenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (home && *home) {
        char want[600];
        snprintf(want, sizeof want, "%s/.cache/hidp", home);
        tap_ok(hidp_topology_cache_dir(ctx, buf, sizeof buf) == 0 && !strcmp(buf, want),
               "cache dir under HOME: %s", buf);
    } else {
        tap_skip("HOME not set", "cache dir under HOME");
    }
    tap_ok(hidp_topology_cache_dir(ctx, buf, 4) == HIDP_EINVAL, "cache dir: short buffer refused");
    if (saved)
        setenv("XDG_CACHE_HOME", saved, 1);
    free(saved);
    hidp_context_destroy(ctx);
}

typedef struct bind_job {
    const hidp__topo *t;
    int pu;
    int rc;
    int cpu;
    int only_pu; /* the thread's affinity mask is exactly {pu} */
    char msg[HIDP__ERRLEN];
} bind_job;

/* Binds itself to one PU, then yields a few times so the scheduler has moved it if it could,
 * and reads back where it runs and where it may run. */
static void *bind_thread(void *arg)
{
    bind_job *j = arg;
    hidp__err err = {0, ""};
    j->rc = hidp__topo_bind_thread(j->t, &j->pu, 1, &err);
    snprintf(j->msg, sizeof j->msg, "%s", err.msg);
    j->cpu = -1;
    if (j->rc == 0) {
        for (int i = 0; i < 5; i++)
            sched_yield();
        j->cpu = sched_getcpu();
        cpu_set_t set;
        j->only_pu = sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) == 1 &&
                     CPU_ISSET(j->pu, &set);
    }
    return NULL;
}

static void check_binding(void)
{
    char path[1200];
    if (!path_of(path, sizeof path, "this2.xml")) {
        tap_skip("file missing", "binding with %s", path);
        return;
    }
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || !CPU_ISSET(0, &allowed) ||
        !CPU_ISSET(1, &allowed)) {
        tap_skip("this process may not run on both CPU 0 and CPU 1", "binding a thread per kind");
        return;
    }
    setenv("HWLOC_XMLFILE", path, 1);
    setenv("HWLOC_THISSYSTEM", "1", 1);
    hidp__topo t;
    hidp__err err = {0, ""};
    int rc = hidp__topo_load(&t, &err);
    unsetenv("HWLOC_THISSYSTEM");
    if (!tap_ok(rc == 0, "this2.xml loads as this system")) {
        tap_diag("  %s", err.msg);
        return;
    }
    tap_ok(t.this_system, "this2.xml: topology is this system (%s)", t.source);
    TAP_EQ_INT(t.n_kinds, 2, "this2.xml: 2 kinds");
    if (t.n_kinds != 2) {
        hidp__topo_destroy(&t);
        return;
    }
    TAP_EQ_INT(t.kinds[0].n_pus == 1 ? t.kinds[0].pus[0] : -1, 0, "this2.xml: big kind is PU 0");
    TAP_EQ_INT(t.kinds[1].n_pus == 1 ? t.kinds[1].pus[0] : -1, 1, "this2.xml: little kind is PU 1");
    for (int i = 0; i < 2; i++) {
        bind_job j = {&t, t.kinds[i].pus[0], 0, -1, 0, ""};
        pthread_t th;
        if (!tap_ok(pthread_create(&th, NULL, bind_thread, &j) == 0, "thread for kind %d", i))
            continue;
        pthread_join(th, NULL);
        if (!tap_ok(j.rc == 0, "kind %d: bind to PU %d", i, j.pu))
            tap_diag("  %s", j.msg);
        else {
            TAP_EQ_INT(j.cpu, j.pu, "kind %d: sched_getcpu() is the bound PU", i);
            tap_ok(j.only_pu, "kind %d: the thread's affinity is PU %d alone", i, j.pu);
        }
    }
    int bad = 9999;
    TAP_EQ_INT(hidp__topo_bind_thread(&t, &bad, 1, &err), HIDP_EINVAL, "bind to PU 9999 refused");
    TAP_EQ_INT(hidp__topo_bind_thread(&t, &bad, 0, &err), HIDP_EINVAL, "bind to no PU refused");
    hidp__topo_destroy(&t);
}

/* Sets the speed of every "kind K" line of the cache file at path to `speed`. */
static int rewrite_cache(const char *path, double speed)
{
    FILE *f = fopen(path, "r");
    char text[4096], line[512];
    size_t at = 0;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f) && at < sizeof text - 128) {
        int k;
        double sp, alone;
        if (sscanf(line, "kind %d speed %lf alone %lf", &k, &sp, &alone) == 3)
            at += (size_t)snprintf(text + at, sizeof text - at, "kind %d speed %g alone %g\n", k,
                                   speed, alone);
        else
            at += (size_t)snprintf(text + at, sizeof text - at, "%s", line);
    }
    fclose(f);
    f = fopen(path, "w");
    if (!f)
        return -1;
    fwrite(text, 1, at, f);
    fclose(f);
    return 0;
}

/* Undoes a test's topology and cache settings (HWLOC_XMLFILE, XDG_CACHE_HOME) and removes its
 * temporary cache directory. */
static void leave_cache_dir(const char *dir)
{
    unsetenv("HWLOC_XMLFILE");
    unsetenv("XDG_CACHE_HOME");
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", dir);
}

/* Calibration (sched/calib.c) in a private cache directory: nothing measured in CACHED mode
 * without a file, AUTO measures and writes the file, later calls read it back (a speed edited
 * in the file comes back), FORCE measures again, another board's XML cannot be timed here, and
 * another topology of this machine gets its own file. */
static void check_calibration(void)
{
    char dir[] = "/tmp/hidp-calib.XXXXXX", path[4200], path2[4200], xml[1200];
    hidp__err err = {0, ""};
    hidp__topo t = {0};
    if (!mkdtemp(dir)) {
        tap_skip("cannot make a temporary directory", "calibration");
        return;
    }
    setenv("XDG_CACHE_HOME", dir, 1);
    unsetenv("HWLOC_XMLFILE");
    unsetenv("HWLOC_THISSYSTEM");
    if (!tap_ok(hidp__topo_load(&t, &err) == 0, "calibration: this system loads (%s)", err.msg))
        goto done;
    TAP_EQ_INT(hidp__calibrate(&t, HIDP_CALIB_CACHED, &err), 0, "CACHED without a file: no error");
    tap_ok(t.kinds[0].speed == 0, "CACHED without a file measures nothing (speed %g)",
           t.kinds[0].speed);
    TAP_EQ_INT(hidp__calibrate(&t, HIDP_CALIB_AUTO, &err), 0, "AUTO measures (%s)", err.msg);
    tap_ok(t.n_pus < 2 || (t.wake_us > 0 && t.wake_us < 100000),
           "a sleeping worker's wake-up is measured (%.1f us)", t.wake_us);
    /* Any real core of a board runs the GEMM above 1 GFLOP/s; qemu-user (HIDP_EMULATED=1, a
     * cross build's make check) about 0.4. */
    const double min_speed = test_emulated() ? 0.01 : 1;
    int all = 1;
    for (int k = 0; k < t.n_kinds; k++)
        all &= t.kinds[k].speed > min_speed && t.kinds[k].speed_alone > min_speed;
    tap_ok(all, "every kind has a speed and an alone speed (kind 0: %.1f, alone %.1f GFLOP/s)",
           t.kinds[0].speed, t.kinds[0].speed_alone);
    hidp__calib_path(&t, path, sizeof path, &err);
    tap_ok(access(path, R_OK) == 0 && strstr(path, dir) == path, "the file is in the cache dir: %s",
           path);
    tap_ok(rewrite_cache(path, 42.0) == 0, "edit the cached speeds to 42");
    t.kinds[0].speed = 0;
    hidp__calibrate(&t, HIDP_CALIB_CACHED, &err);
    tap_ok(t.kinds[0].speed == 42.0, "CACHED reads the file back (%g)", t.kinds[0].speed);
    hidp__calibrate(&t, HIDP_CALIB_AUTO, &err);
    tap_ok(t.kinds[0].speed == 42.0, "AUTO reuses the file (%g)", t.kinds[0].speed);
    TAP_EQ_INT(hidp__calibrate(&t, HIDP_CALIB_FORCE, &err), 0, "FORCE measures again");
    tap_ok(t.kinds[0].speed != 42.0 && t.kinds[0].speed > min_speed,
           "... and replaces the speed (%g)", t.kinds[0].speed);
    hidp__topo_destroy(&t);

    /* another board's XML: its file may be read, but nothing can be timed here */
    if (path_of(xml, sizeof xml, "rk3588.xml")) {
        setenv("HWLOC_XMLFILE", xml, 1);
        if (hidp__topo_load(&t, &err) == 0) {
            TAP_EQ_INT(hidp__calibrate(&t, HIDP_CALIB_CACHED, &err), 0,
                       "rk3588 XML, CACHED: no file, no error");
            const int rc = hidp__calibrate(&t, HIDP_CALIB_AUTO, &err);
            tap_ok(rc == HIDP_EUNSUPPORTED && strstr(err.msg, "not this machine"),
                   "rk3588 XML, AUTO: refused (%s)", err.msg);
            hidp__topo_destroy(&t);
        }
    } else {
        tap_skip("test/data/topo/rk3588.xml missing", "calibration of another board");
    }

    /* this machine as two kinds: timed, and cached apart from the one-kind view */
    if (path_of(xml, sizeof xml, "this2.xml")) {
        cpu_set_t allowed;
        if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || !CPU_ISSET(0, &allowed) ||
            !CPU_ISSET(1, &allowed)) {
            tap_skip("CPUs 0 and 1 are not both allowed here", "calibration of two kinds");
        } else {
            setenv("HWLOC_XMLFILE", xml, 1);
            setenv("HWLOC_THISSYSTEM", "1", 1);
            if (hidp__topo_load(&t, &err) == 0) {
                TAP_EQ_INT(hidp__calibrate(&t, HIDP_CALIB_AUTO, &err), 0, "two kinds: measured");
                tap_ok(t.n_kinds == 2 && t.kinds[0].speed > min_speed &&
                           t.kinds[1].speed > min_speed,
                       "two kinds: both have speeds (%.1f, %.1f)", t.kinds[0].speed,
                       t.n_kinds == 2 ? t.kinds[1].speed : 0.0);
                hidp__calib_path(&t, path2, sizeof path2, &err);
                tap_ok(strcmp(path, path2) != 0 && access(path2, R_OK) == 0,
                       "two kinds: a file of its own (%s)", path2);
                hidp__topo_destroy(&t);
            }
            unsetenv("HWLOC_THISSYSTEM");
        }
    }
done:
    leave_cache_dir(dir);
}

/* Nodes of m that worker 1 has a share of. */
static int split_nodes(const hidp_model *m)
{
    int count = 0;
    for (int i = 0; i < m->g.n_nodes; i++) {
        hidp__slice s1 = hidp__exec_slice(m->exec, i, 1);
        count += s1.c1 > s1.c0 && s1.h1 > s1.h0;
    }
    return count;
}

/* Worker w's share (elements of its slice) of the first split node of m. */
static int64_t share(const hidp_model *m, int w, int *node)
{
    for (int i = 0; i < m->g.n_nodes; i++) {
        hidp__slice s1 = hidp__exec_slice(m->exec, i, 1);
        if (s1.c1 > s1.c0 && s1.h1 > s1.h0) {
            hidp__slice s = hidp__exec_slice(m->exec, i, w);
            *node = i;
            return s.c1 > s.c0 && s.h1 > s.h0 ? (s.c1 - s.c0) * (s.h1 - s.h0) : 0;
        }
    }
    return -1;
}

enum { IMG = 3 * 64 * 64 };

/* ResNet-18 of the zoo at 64x64 (seed 1), loaded in ctx. */
static int load_resnet(hidp_context *ctx, hidp_model **m)
{
    void *onnx = NULL;
    size_t size = 0;
    int rc = hidp_zoo_build(ctx, "resnet18", 1, 64, &onnx, &size);
    if (rc == 0)
        rc = hidp_model_load_memory(ctx, onnx, size, m);
    hidp_free(onnx);
    return rc;
}

/* Runs the prepared m on in; *out: its 1000 logits. */
static int run_once(hidp_model *m, const float *in, const float **out)
{
    size_t count = 0;
    int rc = hidp_model_set_input(m, 0, in, IMG);
    if (rc == 0)
        rc = hidp_model_run(m);
    if (rc == 0)
        rc = hidp_model_output(m, 0, out, &count);
    return rc == 0 && count != 1000 ? HIDP_ESHAPE : rc;
}

/* Runs m `runs` times with worker 1 stalled stall_ns in every chunk (as under a spent quota),
 * on in2 and in in turn, raising *worst to the largest max |diff| from their 1-thread scores
 * one2 and one. */
static int stalled_runs(hidp_model *m, int64_t stall_ns, int runs, const float *in,
                        const float *in2, const float *one, const float *one2, double *worst)
{
    const float *out;
    int rc = 0;
    hidp__exec_stall(m->exec, 1, stall_ns);
    for (int k = 0; k < runs && rc == 0; k++) {
        rc = run_once(m, k % 2 ? in : in2, &out);
        const double d = rc == 0 ? plan_check_max_diff(out, k % 2 ? one : one2, 1000) : INFINITY;
        *worst = d > *worst ? d : *worst;
    }
    hidp__exec_stall(m->exec, 1, 0);
    return rc;
}

/* Plans m again as if every layer took `seconds` alone on the fastest core (the tuner's
 * measured times): take-back's chunks, pieces and deadlines follow from them. */
static int plan_with_solo_times(hidp_model *m, double seconds)
{
    double *solo_s = calloc((size_t)m->g.n_nodes, sizeof *solo_s);
    if (!solo_s)
        return HIDP_ENOMEM;
    for (int i = 0; i < m->g.n_nodes; i++)
        solo_s[i] = seconds;
    hidp__err err = {0, ""};
    int rc = hidp__exec_set_solo_times(m->exec, solo_s, &err);
    if (rc == 0)
        rc = hidp__exec_plan(m->exec, NULL, 1.0, &err);
    free(solo_s);
    return rc;
}

/* Prepares m with its context's settings and runs it on in; *out gets the 1000 scores. */
static int prepare_and_run(hidp_model *m, const float *in, const float **out)
{
    const int rc = hidp_model_prepare(m);
    return rc ? rc : run_once(m, in, out);
}

/* Writes calibration text to path, then makes a new context (which rereads it) and model: 2
 * workers on PUs 0 and 1, the plan as prepared (no tuning), one run on in. The old model goes
 * before its context, which must outlive it. */
static int rerun_calibrated(const char *path, const char *text, hidp_context **ctx,
                            hidp_model **m, const float *in, const float **out)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        return HIDP_EIO;
    hidp_model_destroy(*m);
    *m = NULL;
    hidp_context_destroy(*ctx);
    if (hidp_context_create(ctx, 0) != 0)
        return HIDP_ENOMEM;
    hidp_context_set_tuning(*ctx, 0);
    hidp_context_set_threads(*ctx, 2);
    hidp_context_set_cores(*ctx, "0,1");
    int rc = load_resnet(*ctx, m);
    return rc == 0 ? prepare_and_run(*m, in, out) : rc;
}

/* This machine's two PUs as two kinds with cached speeds 3 and 1: a 2-thread ResNet-18 gives its
 * first split layer 3:1 (calibrated) or 1:1 (equal) and the same output as one thread. */
static void check_split_model(void)
{
    char dir[] = "/tmp/hidp-split.XXXXXX", xml[1200], path[4200];
    hidp__err err = {0, ""};
    hidp__topo t = {0};
    cpu_set_t allowed;
    if (!path_of(xml, sizeof xml, "this2.xml") || sched_getaffinity(0, sizeof allowed, &allowed) ||
        !CPU_ISSET(0, &allowed) || !CPU_ISSET(1, &allowed) || !mkdtemp(dir)) {
        tap_skip("needs test/data/topo/this2.xml and CPUs 0 and 1", "calibrated split on a model");
        return;
    }
    setenv("XDG_CACHE_HOME", dir, 1);
    setenv("HWLOC_XMLFILE", xml, 1);
    setenv("HWLOC_THISSYSTEM", "1", 1);
    FILE *f = NULL;
    if (hidp__topo_load(&t, &err) == 0 && hidp__calib_path(&t, path, sizeof path, &err) == 0) {
        char sub[4200];
        snprintf(sub, sizeof sub, "%s/hidp", dir);
        mkdir(sub, 0755);
        f = fopen(path, "w");
    }
    hidp__topo_destroy(&t);
    if (!tap_ok(f != NULL, "split: write a calibration file with speeds 3 and 1")) {
        unsetenv("HWLOC_THISSYSTEM");
        return;
    }
    fprintf(f, "kind 0 speed 3 alone 3\nkind 1 speed 1 alone 1\n");
    fclose(f);

    hidp_context *ctx = NULL;
    hidp_model *m = NULL;
    static float in[IMG], in2[IMG], one[1000], one2[1000];
    const float *out;
    for (int i = 0; i < IMG; i++) {
        in[i] = (float)((i * 7919) % 101) / 50.0f - 1.0f;
        in2[i] = (float)((i * 104729) % 89) / 44.0f - 1.0f;
    }
    int rc = hidp_context_create(&ctx, 0);
    hidp_context_set_tuning(ctx, 0); /* these check the plan made at prepare (test_tune: after) */
    if (rc == 0)
        rc = load_resnet(ctx, &m);
    if (rc == 0)
        rc = prepare_and_run(m, in2, &out);
    if (rc == 0)
        memcpy(one2, out, sizeof one2);
    if (rc == 0)
        rc = run_once(m, in, &out);
    if (!tap_ok(rc == 0, "split: resnet18 at 64 runs on one thread (%s)",
                ctx ? hidp_context_last_error(ctx) : "no context"))
        goto done;
    memcpy(one, out, sizeof one);
    static const char *const modes[] = {"calibrated", "equal"};
    for (int mode = 0; mode < 2; mode++) {
        hidp_context_set_threads(ctx, 2);
        hidp_context_set_cores(ctx, "0,1");
        hidp_context_set_split(ctx, mode ? HIDP_SPLIT_EQUAL : HIDP_SPLIT_CALIBRATED);
        rc = prepare_and_run(m, in, &out);
        if (!tap_ok(rc == 0, "split %s: runs on 2 threads (%s)", modes[mode],
                    hidp_context_last_error(ctx)))
            continue;
        int node = -1;
        const int64_t s0 = share(m, 0, &node), s1 = share(m, 1, &node);
        const double ratio = s1 > 0 ? (double)s0 / (double)s1 : 0;
        tap_ok(mode ? ratio > 0.5 && ratio < 2.0 : ratio > 2.0 && ratio < 4.5,
               "split %s: worker shares of the first split layer (%s) are %lld : %lld", modes[mode],
               node >= 0 ? m->g.nodes[node].name : "none", (long long)s0, (long long)s1);
        const double worst = plan_check_max_diff(out, one, 1000);
        tap_ok(worst <= 1e-4, "split %s: output equals the 1-thread run (max |diff| %.3g)",
               modes[mode], worst);
    }
    /* the tuner's trims on the slower core's shares: x2 doubles them (3:1 -> 3:2), and no trim
     * gives the slower core more than the fastest (x10 -> 1:1); the output does not move */
    static const struct {
        double trim, lo, hi;
    } trims[] = {{2.0, 1.2, 1.9}, {10.0, 0.8, 1.25}};
    hidp_context_set_split(ctx, HIDP_SPLIT_CALIBRATED);
    for (size_t k = 0; k < sizeof trims / sizeof trims[0]; k++) {
        hidp__err perr = {0, ""};
        rc = hidp_model_prepare(m);
        if (rc == 0)
            rc = hidp__exec_plan(m->exec, NULL, trims[k].trim, &perr);
        if (rc == 0)
            rc = run_once(m, in, &out);
        int node = -1;
        const int64_t s0 = rc == 0 ? share(m, 0, &node) : 0, s1 = rc == 0 ? share(m, 1, &node) : 0;
        const double ratio = s1 > 0 ? (double)s0 / (double)s1 : 0;
        tap_ok(rc == 0 && ratio >= trims[k].lo && ratio <= trims[k].hi &&
                   plan_check_max_diff(out, one, 1000) <= 1e-4,
               "trim x%.0f: shares %lld : %lld (ratio %.2f, want %.2f to %.2f), output equals "
               "the 1-thread run", trims[k].trim, (long long)s0, (long long)s1, ratio,
               trims[k].lo, trims[k].hi);
    }
    /* backing off: the slower worker, off its CPU for 2 ms in every slice as under a spent
     * quota, loses much of each run, so its shares shrink run by run (to x0.2 here natively;
     * under qemu, where slices are ten times longer, 5-8% a run, to x0.6); without backing off
     * they stay as planned. Outputs do not move; turned off, the plan's own shares come back. */
    hidp_context_set_split(ctx, HIDP_SPLIT_CALIBRATED);
    hidp_context_set_take_back(ctx, 0); /* backing off is for fixed shares */
    rc = hidp_model_prepare(m);
    int node = -1;
    const int64_t planned = rc == 0 ? share(m, 1, &node) : -1;
    if (rc == 0) {
        hidp__exec_stall(m->exec, 1, 2000000);
        for (int k = 0; k < 10 && rc == 0; k++) /* not backing off: tuning is off */
            rc = run_once(m, in, &out);
    }
    const int64_t fixed = rc == 0 ? share(m, 1, &node) : -1;
    tap_ok(rc == 0 && fixed == planned && hidp__exec_backoff(m->exec, NULL) == 1.0,
           "backoff off: a stalled slower worker keeps its share (%lld of %lld)",
           (long long)fixed, (long long)planned);
    double lost = 0, worst_backoff = 0;
    if (rc == 0) {
        hidp__exec_adapt(m->exec, 1);
        for (int k = 0; k < 10 && rc == 0; k++) {
            rc = run_once(m, in, &out);
            const double d = rc == 0 ? plan_check_max_diff(out, one, 1000) : INFINITY;
            worst_backoff = d > worst_backoff ? d : worst_backoff;
        }
    }
    const double factor = rc == 0 ? hidp__exec_backoff(m->exec, &lost) : 1.0;
    const int64_t shrunk = rc == 0 ? share(m, 1, &node) : -1;
    tap_ok(rc == 0 && factor < 0.9 && shrunk >= 0 && shrunk < planned,
           "backoff: after 10 stalled runs the slower worker's share is x%.2f (%lld of %lld; "
           "the last run lost %.0f%% off its CPU)", factor, (long long)shrunk,
           (long long)planned, 100.0 * lost);
    tap_ok(rc == 0 && worst_backoff <= 1e-4,
           "backoff: the outputs of the runs backing off equal the 1-thread run (%.3g)",
           worst_backoff);
    if (rc == 0) {
        hidp__exec_stall(m->exec, 1, 0);
        hidp__exec_adapt(m->exec, 0);
        rc = run_once(m, in, &out);
    }
    tap_ok(rc == 0 && share(m, 1, &node) == planned && hidp__exec_backoff(m->exec, NULL) == 1.0 &&
               plan_check_max_diff(out, one, 1000) <= 1e-4,
           "backoff turned off: the planned share is back (%lld), the output right",
           (long long)(rc == 0 ? share(m, 1, &node) : -1));
    /* taking back: worker 1 runs its share of each conv in chunks, computed aside, and worker 0
     * takes back those it has not started or has not finished in time. In plain runs worker 1
     * finishes some; stalled for 20 ms inside each chunk (as under a spent quota) it finishes
     * none in time, worker 0 takes them back, and worker 1's late copies must not land: the
     * outputs, two inputs in turn, equal the 1-thread runs throughout. */
    long long helped = 0, taken = 0, helped2 = 0, taken2 = 0;
    double worst_help = 0;
    const int help_on = rc == 0 && hidp__exec_help(m->exec, 1);
    for (int k = 0; help_on && rc == 0 && k < 200 && (k < 20 || helped == 0); k++) {
        rc = run_once(m, k % 2 ? in : in2, &out);
        const double d = rc == 0 ? plan_check_max_diff(out, k % 2 ? one : one2, 1000) : INFINITY;
        worst_help = d > worst_help ? d : worst_help;
        hidp__exec_help_counts(m->exec, &helped, &taken);
    }
    tap_ok(help_on && rc == 0 && helped > 0 && worst_help <= 1e-4,
           "take-back: worker 1 finished %lld chunks, worker 0 took back %lld; the outputs equal "
           "the 1-thread runs (%.3g)",
           helped, taken, worst_help);
    if (help_on && rc == 0) {
        rc = stalled_runs(m, 20000000, 6, in, in2, one, one2, &worst_help);
        hidp__exec_help_counts(m->exec, &helped2, &taken2);
    }
    tap_ok(help_on && rc == 0 && taken2 > taken && worst_help <= 1e-4,
           "take-back, worker 1 stalled in every chunk: worker 0 took back %lld more (worker 1 "
           "finished %lld more); the outputs equal the 1-thread runs (%.3g)",
           taken2 - taken, helped2 - helped, worst_help);
    /* a longer stall, 200 ms, with deadlines of seconds (every layer said to take 1 s alone):
     * worker 0 sees worker 1's CPU clock stand still and takes its chunks back long before, so
     * worker 1 finishes none (waiting out the deadlines, it would finish every one). The stall
     * is long so that worker 0 is done with its own share and waiting before worker 1 wakes:
     * under an emulator (qemu, ten times slower and more, beside another test in make -j2) it
     * is 1 s, as in 200 ms worker 1 once woke first and finished a chunk. Chunks said to take
     * that long are cut into pieces, and worker 1 stalls after its first: worker 0 copies that
     * one in and computes the rest. */
    long long helped3 = 0, taken3 = 0;
    const long long resumed0 = hidp__exec_help_resumed(m->exec);
    if (help_on && rc == 0) {
        rc = plan_with_solo_times(m, 1.0);
        if (rc == 0)
            rc = stalled_runs(m, test_emulated() ? 1000000000 : 200000000, 4, in, in2, one,
                              one2, &worst_help);
        hidp__exec_help_counts(m->exec, &helped3, &taken3);
    }
    if (help_on && rc == 0 && !hidp__exec_help_watches(m->exec))
        tap_skip("worker 1's CPU clock cannot be read here", "take-back, worker 1 stopped");
    else
        tap_ok(help_on && rc == 0 && taken3 > taken2 && helped3 == helped2 &&
                   hidp__exec_help_resumed(m->exec) > resumed0 && worst_help <= 1e-4,
               "take-back, worker 1 stopped, deadlines of seconds: worker 0 took back %lld more "
               "as its CPU clock stood still (%lld after a piece worker 1 had finished), worker "
               "1 finished %lld; the outputs right (%.3g)",
               taken3 - taken2, hidp__exec_help_resumed(m->exec) - resumed0, helped3 - helped2,
               worst_help);
    /* worker 1's pace on its chunks: spinning 2 ms in each (on its CPU, as a slow core), with
     * deadlines of seconds, it finishes them, and their CPU time grows by 1 ms each at least (a
     * spin of 2 ms on the wall clock, less what a loaded machine preempts of it) while their
     * planned time on worker 0 grows too. Worker 1 may still be asleep in the last
     * run's chunk (the stall above), while worker 0 takes every chunk: runs until it finishes
     * some, 40 at most. */
    long long helped4 = helped3, taken4 = taken3;
    double cpu3 = 0, planned3 = 0, cpu4 = 0, planned4 = 0;
    if (help_on && rc == 0)
        hidp__exec_help_pace(m->exec, &cpu3, &planned3);
    for (int k = 0; help_on && rc == 0 && k < 40 && helped4 == helped3; k++) {
        rc = stalled_runs(m, -2000000, 2, in, in2, one, one2, &worst_help);
        hidp__exec_help_counts(m->exec, &helped4, &taken4);
    }
    if (help_on && rc == 0)
        hidp__exec_help_pace(m->exec, &cpu4, &planned4);
    tap_ok(help_on && rc == 0 && helped4 > helped3 &&
               cpu4 - cpu3 >= 1e-3 * (double)(helped4 - helped3) && planned4 > planned3 &&
               worst_help <= 1e-4,
           "worker 1's pace: spinning 2 ms in each chunk it finished %lld, their CPU time grew "
           "%.1f ms and their planned time %.1f ms; the outputs right (%.3g)",
           helped4 - helped3, 1e3 * (cpu4 - cpu3), 1e3 * (planned4 - planned3), worst_help);
    /* Sharing a chunk's pieces: every layer said to take 3 ms alone, so worker 1's share is
     * one chunk of several pieces, each with a deadline over 1 ms. Worker 1 spins after its
     * first piece until worker 0 has taken one from the back (20 ms at most: on a machine
     * loaded by other tests worker 0 may be kept from coming for longer than any fixed spin,
     * as in a distcheck that took 0 pieces in 40 runs with a spin of 0.3 ms); worker 0, done
     * with its own share, takes the pieces worker 1 has not begun from the back rather than
     * wait for them, and worker 1 delivers its first pieces only. Until both have happened, 40
     * runs at most. Not under an emulator: there, with the spin of 0.3 ms this check first
     * had, worker 0's own share of a layer outlasted it (0 taken in 40 runs under qemu); the
     * native build checks it. */
    const long long shared3 = hidp__exec_help_shared(m->exec);
    long long shared4 = shared3, helped5 = helped4;
    if (help_on && rc == 0)
        rc = plan_with_solo_times(m, 3e-3);
    hidp__exec_stall_until_shared(m->exec, 1);
    for (int k = 0; help_on && rc == 0 && !test_emulated() && k < 40 &&
                    (shared4 == shared3 || helped5 == helped4);
         k++) {
        rc = stalled_runs(m, -20000000, 1, in, in2, one, one2, &worst_help);
        hidp__exec_help_counts(m->exec, &helped5, &taken4);
        shared4 = hidp__exec_help_shared(m->exec);
    }
    hidp__exec_stall_until_shared(m->exec, 0);
    if (test_emulated())
        tap_skip("under emulation (worker 0's share outlasted the check's first, fixed spin "
                 "there; the native build checks it)",
                 "pieces shared");
    else
        tap_ok(help_on && rc == 0 && shared4 > shared3 && helped5 > helped4 && worst_help <= 1e-4,
               "pieces shared: while worker 1 spun in its first piece, worker 0 took %lld pieces "
               "from the back of its chunks and worker 1 finished %lld; the outputs right (%.3g)",
               shared4 - shared3, helped5 - helped4, worst_help);
    if (help_on && rc == 0) {
        hidp__exec_help(m->exec, 0);
        rc = run_once(m, in, &out);
    }
    tap_ok(rc == 0 && share(m, 1, &node) == planned && plan_check_max_diff(out, one, 1000) <= 1e-4,
           "take-back turned off: the planned share, the output right");
    /* tuning with take-back on: the whole-run trials run as the tuned plan will, taken back (the
     * layer trials, timed per slice, run fixed shares), so worker 1 does chunks while tuning.
     * Not under an emulator: its 60-70 trials took two minutes there (test_tune tunes a model
     * under it, without take-back). */
    long long tuned_helped = 0, tuned_taken = 0;
    int tuning_runs = 0;
    hidp_context_set_take_back(ctx, 1);
    if (test_emulated()) {
        tap_skip("under emulation (tuning a model with take-back takes two minutes there; the "
                 "native build checks it)", "tuning, take-back on");
    } else {
        hidp_context_set_tuning(ctx, 1);
        rc = hidp_model_prepare(m);
        if (rc == 0)
            rc = run_once(m, in, &out); /* the first trial */
        if (rc == 0) {
            tuning_runs = hidp_model_tune(m);
            hidp__exec_help_counts(m->exec, &tuned_helped, &tuned_taken);
            rc = tuning_runs > 0 ? run_once(m, in, &out) : -1;
        }
        tap_ok(rc == 0 && tuned_helped + tuned_taken > 0 &&
                   plan_check_max_diff(out, one, 1000) <= 1e-4,
               "tuning, take-back on: in %d trials worker 1 finished %lld chunks and worker 0 "
               "took back %lld; the tuned plan's output right",
               tuning_runs, tuned_helped, tuned_taken);
        hidp_context_set_tuning(ctx, 0);
    }
    /* a 1 ms wake-up measured: the short layers stay on the fast core, the outputs do not move */
    int before = -1;
    hidp_context_set_split(ctx, HIDP_SPLIT_CALIBRATED);
    hidp_context_set_cores(ctx, "0,1");
    if (hidp_model_prepare(m) == 0)
        before = split_nodes(m);
    rc = rerun_calibrated(path, "kind 0 speed 3 alone 3\nkind 1 speed 1 alone 1\nwake_us 1000\n",
                          &ctx, &m, in, &out);
    const int after = rc == 0 ? split_nodes(m) : -1;
    tap_ok(rc == 0 && after >= 1 && after < before,
           "wake-up 1 ms: fewer layers split (%d of them, %d with no wake-up cost)", after,
           before);
    /* the slower worker's CPU its own (sched/contention.h): it spins instead of sleeping, and
     * the plan allows for no wake-up */
    int own = -1;
    if (rc == 0) {
        hidp__err perr = {0, ""};
        hidp__exec_set_scarce(m->exec, 1, 0);
        own = hidp__exec_plan(m->exec, NULL, 1.0, &perr) == 0 ? split_nodes(m) : -1;
        hidp__exec_set_scarce(m->exec, 1, 1);
        if (hidp__exec_plan(m->exec, NULL, 1.0, &perr) != 0 || split_nodes(m) != after)
            own = -2;
    }
    tap_ok(own == before,
           "wake-up 1 ms, the slower core's CPU its own: %d layers split, as with "
           "no wake-up cost (%d); scarce again, %d",
           own, before, after);
    const double worst = rc == 0 ? plan_check_max_diff(out, one, 1000) : INFINITY;
    tap_ok(rc == 0 && worst <= 1e-4, "wake-up 1 ms: output equals the 1-thread run (%.3g)", worst);
    /* speeds 300 and 100 GFLOP/s and a 10 us wake-up: the shares of short layers allow for the
     * slow worker's late start (hidp__split_allow_wake); the output does not move */
    rc = rerun_calibrated(path, "kind 0 speed 300 alone 300\nkind 1 speed 100 alone 100\n"
                          "wake_us 10\n", &ctx, &m, in, &out);
    const int wake_split = rc == 0 ? split_nodes(m) : -1;
    const double worst2 = rc == 0 ? plan_check_max_diff(out, one, 1000) : INFINITY;
    tap_ok(rc == 0 && wake_split > 0 && worst2 <= 1e-4, "wake-up 10 us: %d layers split, output "
           "equals the 1-thread run (%.3g)", wake_split, worst2);
    /* random plans with the slower worker: it waits only where it has a slice before the next
     * barrier and passes through the others; the outputs, two inputs in turn, do not move */
    const float *const ins[2] = {in, in2}, *const refs[2] = {one, one2};
    const int plans = test_emulated() ? 8 : 30; /* under qemu 30 took minutes */
    const plan_check_result r = rc == 0 ? plan_check_random(m, plans, 777, ins, IMG, refs, 1000)
                                        : (plan_check_result){0, 0, 0, 0, INFINITY};
    tap_ok(rc == 0 && hidp__exec_slower(m->exec, 1) && !hidp__exec_slower(m->exec, 0),
           "random plans: worker 1 is the slower one");
    tap_ok(r.plans == plans && r.wrong == 0 && r.waits > 0 && r.passes > 0, "random plans: in "
           "%d plans each worker waits where it should (%d waits, %d passed through, %d wrong)",
           plans, r.waits, r.passes, r.wrong);
    tap_ok(r.worst <= 1e-4, "random plans: 4 runs of each, two inputs in turn, equal the "
           "1-thread runs (%.3g)", r.worst);
    hidp_context_set_cores(ctx, "7");
    rc = hidp_model_prepare(m);
    tap_ok(rc == HIDP_EINVAL && strstr(hidp_context_last_error(ctx), "PU 7"),
           "cores '7' on a 2-PU board: prepare refuses it (%s)", hidp_context_last_error(ctx));
done:
    hidp_model_destroy(m);
    hidp_context_destroy(ctx);
    unsetenv("HWLOC_THISSYSTEM");
    leave_cache_dir(dir);
}

int main(void)
{
    topo_data_init();
    for (size_t i = 0; i < sizeof wants / sizeof wants[0]; i++)
        check_topology(&wants[i]);
    check_public();
    check_binding();
    check_calibration();
    check_split_model();
    unsetenv("HWLOC_XMLFILE");
    return tap_done();
}
