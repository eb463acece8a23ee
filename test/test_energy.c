/*
 * test_energy.c - power rails found in the fake sysfs trees of test/data/sysfs (Jetson Nano iio
 * ina3221x, Jetson Orin hwmon ina3221, INA226 boards, Intel RAPL), one-reading values, and the
 * sampler integrating known power curves that this test writes into a copy of a tree while the
 * sampler runs: power steps (trapezoid rule) and a RAPL counter ramping through its wrap.
 *
 * Timed expectations are computed from the times the writer itself measured, and their
 * tolerance grows only by what the sampler's own longest gap can explain, so a slow or loaded
 * machine loosens them honestly while wrong units, a lost wrap or a wrong rule still fail.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "../engine/energy.h"

static char datadir[1024];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Checks |got - want| <= tol, printing both. */
static void check_close(double got, double want, double tol, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (!tap_ok(fabs(got - want) <= tol, "%s", what))
        tap_diag("  got %.9g, want %.9g, tolerance %.3g", got, want, tol);
}

/* Checks a call returned 0; on failure prints its code and message. */
static int check_rc(int rc, const hidp__err *err, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (!tap_ok(rc == 0, "%s", what))
        tap_diag("  returned %d: %s", rc, err->msg);
    return rc == 0;
}

static void check_contains(const char *s, const char *part, const char *what)
{
    if (!tap_ok(strstr(s, part) != NULL, "%s", what))
        tap_diag("  '%s' does not contain '%s'", s, part);
}

/* ---- a writable copy of a tree ---- */

static int copy_tree(const char *src, const char *dst)
{
    struct stat st;
    if (lstat(src, &st) < 0)
        return -1;
    if (S_ISLNK(st.st_mode)) {
        char target[1024];
        ssize_t n = readlink(src, target, sizeof target - 1);
        if (n < 0)
            return -1;
        target[n] = '\0';
        return symlink(target, dst);
    }
    if (S_ISREG(st.st_mode)) {
        char buf[4096];
        int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644), rc = 0;
        ssize_t n;
        while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
            if (write(out, buf, (size_t)n) != n)
                rc = -1;
        rc = in < 0 || out < 0 ? -1 : rc;
        if (in >= 0)
            close(in);
        if (out >= 0)
            close(out);
        return rc;
    }
    if (mkdir(dst, 0755) < 0 && errno != EEXIST)
        return -1;
    struct dirent **list;
    int n = scandir(src, &list, NULL, alphasort), rc = 0;
    for (int i = 0; i < n; i++) {
        const char *nm = list[i]->d_name;
        if (strcmp(nm, ".") && strcmp(nm, "..") && rc == 0) {
            char s[1200], d[1200];
            snprintf(s, sizeof s, "%s/%s", src, nm);
            snprintf(d, sizeof d, "%s/%s", dst, nm);
            rc = copy_tree(s, d);
        }
        free(list[i]);
    }
    free(list);
    return n < 0 ? -1 : rc;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void rm_tree(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A new empty temporary directory, named in dir[len]. */
static int make_tmp(char *dir, size_t len)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, len, "%s/hidp-energy-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

/* Copies test/data/sysfs/<tree> into a new temporary directory, named in dir[len]. */
static int scratch_copy(const char *tree, char *dir, size_t len)
{
    char src[1100];
    if (make_tmp(dir, len) < 0)
        return -1;
    snprintf(src, sizeof src, "%s/%s", datadir, tree);
    char sys[1100], srcsys[1200];
    snprintf(sys, sizeof sys, "%s/sys", dir);
    snprintf(srcsys, sizeof srcsys, "%s/sys", src);
    if (copy_tree(srcsys, sys) < 0) {
        rm_tree(dir);
        return -1;
    }
    return 0;
}

/* Replaces root/rel by a file holding the text, atomically (write then rename), so a reader sees
 * the old value or the new one, never half of one. */
static int put(const char *root, const char *rel, const char *fmt, ...) HIDP__PRINTF(3, 4);
static int put(const char *root, const char *rel, const char *fmt, ...)
{
    char path[1200], tmp[1300], text[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    int bad = fprintf(f, "%s\n", text) < 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) < 0) {
        tap_diag("cannot write %s", path);
        return -1;
    }
    return 0;
}

static int find_rail(const hidp__energy *e, const char *name)
{
    for (int i = 0; i < hidp__energy_rail_count(e); i++)
        if (strcmp(hidp__energy_rail(e, i)->name, name) == 0)
            return i;
    return -1;
}

/* ---- discovery and one reading on each tree ---- */

typedef struct want_rail {
    const char *name;
    hidp__rail_kind kind;
    hidp__rail_role role;
    double value; /* W, or J for a counter */
} want_rail;

typedef struct want_tree {
    const char *tree;
    int n;
    want_rail rails[4];
} want_tree;

static const want_tree trees[] = {
    {"jetson-nano",
     3,
     {{"POM_5V_IN", HIDP__RAIL_INA3221X, HIDP__ROLE_INPUT, 4.820},
      {"POM_5V_GPU", HIDP__RAIL_INA3221X, HIDP__ROLE_RAIL, 0.120},
      {"POM_5V_CPU", HIDP__RAIL_INA3221X, HIDP__ROLE_RAIL, 1.510}}},
    /* The second ina3221's only channel is disabled: no "NC" rail. */
    {"jetson-orin",
     3,
     {{"VDD_IN", HIDP__RAIL_INA3221, HIDP__ROLE_INPUT, 6.000},
      {"VDD_CPU_GPU_CV", HIDP__RAIL_INA3221, HIDP__ROLE_RAIL, 2.000},
      {"VDD_SOC", HIDP__RAIL_INA3221, HIDP__ROLE_RAIL, 4.984 * 0.320}}},
    /* power1_input (2.48 W) is preferred to in1 x curr1 (2.5 W). */
    {"ina226", 1, {{"ina226", HIDP__RAIL_INA2XX, HIDP__ROLE_RAIL, 2.480}}},
    {"ina226-vi", 1, {{"main_12v", HIDP__RAIL_INA2XX, HIDP__ROLE_RAIL, 12.0 * 0.250}}},
    /* intel-rapl-mmio:0 repeats package-0 and is left out. */
    {"rapl",
     2,
     {{"package-0", HIDP__RAIL_RAPL, HIDP__ROLE_PACKAGE, 81.234567},
      {"package-0/core", HIDP__RAIL_RAPL, HIDP__ROLE_SUBZONE, 31.234567}}},
};

static void check_tree(const want_tree *w)
{
    char root[1100];
    hidp__energy *e = NULL;
    hidp__err err = {0};
    snprintf(root, sizeof root, "%s/%s", datadir, w->tree);
    int rc = hidp__energy_open(&e, root, &err);
    if (!check_rc(rc, &err, "%s: open", w->tree))
        return;
    TAP_EQ_INT(hidp__energy_rail_count(e), w->n, "%s: %d rails found", w->tree, w->n);
    for (int k = 0; k < w->n; k++) {
        const want_rail *wr = &w->rails[k];
        const hidp__rail *r = hidp__energy_rail(e, k);
        if (!tap_ok(r && strcmp(r->name, wr->name) == 0, "%s: rail %d is %s", w->tree, k,
                    wr->name)) {
            tap_diag("  got '%s'", r ? r->name : "(none)");
            continue;
        }
        tap_ok(r->kind == wr->kind && r->role == wr->role && r->error[0] == '\0',
               "%s: %s is %s, role %d, readable ('%s')", w->tree, wr->name,
               hidp__rail_kind_name(wr->kind), (int)wr->role, r->error);
        double v = -1;
        rc = hidp__energy_read(e, k, &v, &err);
        check_close(rc == 0 ? v : -1, wr->value, 1e-9 * wr->value, "%s: %s reads %.6f %s", w->tree,
                    wr->name, wr->value, wr->kind == HIDP__RAIL_RAPL ? "J" : "W");
    }
    if (strcmp(w->tree, "jetson-orin") == 0) {
        tap_ok(find_rail(e, "NC") < 0, "jetson-orin: the disabled channel is skipped");
        /* Found through the class symlink, by name, wherever the device lives. */
        const char *p = hidp__energy_rail(e, 0)->path;
        check_contains(p, "/sys/class/hwmon/hwmon5", "jetson-orin: VDD_IN read via class/hwmon");
    }
    hidp__energy_close(e);
}

/* Writes root/rel (parents made as needed). */
static int mkfile(const char *root, const char *rel, const char *text)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    return put(root, rel, "%s", text);
}

/* A tree made here: two unlabelled chips of one kind, an old driver with its attributes under
 * device/, an unlabelled ina3221 channel, and RAPL with psys and a dram subzone. */
static void check_naming(void)
{
    static const char *const files[][2] = {
        {"sys/class/hwmon/hwmon10/name", "ina219"},
        {"sys/class/hwmon/hwmon10/power1_input", "2000000"},
        {"sys/class/hwmon/hwmon9/name", "ina219"},
        {"sys/class/hwmon/hwmon9/power1_input", "1000000"},
        {"sys/class/hwmon/hwmon7/device/name", "ina226"},
        {"sys/class/hwmon/hwmon7/device/power1_input", "500000"},
        {"sys/class/hwmon/hwmon8/name", "ina3221"},
        {"sys/class/hwmon/hwmon8/in1_input", "1000"},
        {"sys/class/hwmon/hwmon8/curr1_input", "100"},
        {"sys/class/powercap/intel-rapl:0/name", "package-0"},
        {"sys/class/powercap/intel-rapl:0/energy_uj", "1"},
        {"sys/class/powercap/intel-rapl:0/max_energy_range_uj", "1000"},
        {"sys/class/powercap/intel-rapl:0:1/name", "dram"},
        {"sys/class/powercap/intel-rapl:0:1/energy_uj", "1"},
        {"sys/class/powercap/intel-rapl:0:1/max_energy_range_uj", "1000"},
        {"sys/class/powercap/intel-rapl:1/name", "psys"},
        {"sys/class/powercap/intel-rapl:1/energy_uj", "1"},
        {"sys/class/powercap/intel-rapl:1/max_energy_range_uj", "1000"},
    };
    /* psys feeds everything: first; then discovery order, hwmon9 before hwmon10. */
    static const struct {
        const char *name;
        hidp__rail_role role;
        double value;
    } want[] = {
        {"psys", HIDP__ROLE_INPUT, 1e-6},
        {"ina226", HIDP__ROLE_RAIL, 0.5},
        {"ina3221:in1", HIDP__ROLE_RAIL, 0.1},
        {"ina219@hwmon9", HIDP__ROLE_RAIL, 1.0},
        {"ina219@hwmon10", HIDP__ROLE_RAIL, 2.0},
        {"package-0", HIDP__ROLE_PACKAGE, 1e-6},
        {"package-0/dram", HIDP__ROLE_PACKAGE, 1e-6},
    };
    char dir[1100];
    hidp__energy *e = NULL;
    hidp__err err = {0};
    if (make_tmp(dir, sizeof dir) < 0) {
        tap_skip("cannot make a temporary directory", "naming rules");
        return;
    }
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (mkfile(dir, files[i][0], files[i][1]) < 0)
            goto done;
    if (!check_rc(hidp__energy_open(&e, dir, &err), &err, "made-up tree opens"))
        goto done;
    int n = (int)(sizeof want / sizeof want[0]);
    TAP_EQ_INT(hidp__energy_rail_count(e), n, "made-up tree: %d rails", n);
    for (int k = 0; k < n && k < hidp__energy_rail_count(e); k++) {
        const hidp__rail *r = hidp__energy_rail(e, k);
        double v = -1;
        hidp__energy_read(e, k, &v, &err);
        if (!tap_ok(strcmp(r->name, want[k].name) == 0 && r->role == want[k].role &&
                        fabs(v - want[k].value) <= 1e-12,
                    "made-up tree: rail %d is %s, role %d, reads %g", k, want[k].name,
                    (int)want[k].role, want[k].value))
            tap_diag("  got %s, role %d, %g ('%s')", r->name, (int)r->role, v, r->error);
    }
    hidp__energy_report rep;
    int rc = hidp__energy_start(e, 0, &err);
    rc = rc ? rc : hidp__energy_stop(e, &rep, &err);
    if (check_rc(rc, &err, "made-up tree: a run"))
        tap_ok(rep.total_rule == HIDP__TOTAL_INPUT && rep.rail[0].in_total && !rep.rail[5].in_total,
               "RAPL psys is the input: total from it alone (rule '%s')",
               hidp__energy_total_name(rep.total_rule));
done:
    hidp__energy_close(e);
    rm_tree(dir);
}

static void check_roots(void)
{
    hidp__energy *e = NULL;
    hidp__err err = {0};
    char root[1100];

    /* NULL takes HIDP_SYSFS_ROOT. */
    snprintf(root, sizeof root, "%s/jetson-nano", datadir);
    setenv("HIDP_SYSFS_ROOT", root, 1);
    int rc = hidp__energy_open(&e, NULL, &err);
    unsetenv("HIDP_SYSFS_ROOT");
    if (check_rc(rc, &err, "HIDP_SYSFS_ROOT is used for a NULL root")) {
        TAP_EQ_INT(hidp__energy_rail_count(e), 3, "HIDP_SYSFS_ROOT: the Nano's 3 rails");
        tap_ok(strcmp(hidp__energy_root(e), root) == 0, "root reported as given ('%s')",
               hidp__energy_root(e));
        hidp__energy_close(e);
    }

    /* The real system: whatever it has, opening works (this VM has no sensors). */
    rc = hidp__energy_open(&e, "", &err);
    if (check_rc(rc, &err, "the real /sys opens")) {
        tap_diag("this machine: %d rails under %s", hidp__energy_rail_count(e),
                 hidp__energy_root(e));
        tap_ok(strcmp(hidp__energy_root(e), "/") == 0, "the real root is reported as '/'");
        hidp__energy_close(e);
    }

    const char *missing = "/nonexistent/hidp-sysfs-root";
    rc = hidp__energy_open(&e, missing, &err);
    TAP_EQ_INT(rc, HIDP_EIO, "a missing root is HIDP_EIO");
    check_contains(err.msg, missing, "the missing root is named in the message");
    tap_ok(e == NULL, "no handle for a missing root");

    snprintf(root, sizeof root, "%s/rapl/sys/class/powercap/intel-rapl:0/name", datadir);
    rc = hidp__energy_open(&e, root, &err);
    TAP_EQ_INT(rc, HIDP_EIO, "a file as root is HIDP_EIO");
    check_contains(err.msg, "not a directory", "a file as root: 'not a directory'");

    /* An existing directory without sensors: 0 rails, and a run still reports its time. */
    char dir[1100];
    if (make_tmp(dir, sizeof dir) < 0) {
        tap_skip("cannot make a temporary directory", "a root without sensors");
        return;
    }
    rc = hidp__energy_open(&e, dir, &err);
    if (check_rc(rc, &err, "a root without sensors opens")) {
        hidp__energy_report rep;
        TAP_EQ_INT(hidp__energy_rail_count(e), 0, "a root without sensors: 0 rails");
        rc = hidp__energy_start(e, 1000, &err);
        sleep_s(0.005);
        rc = rc ? rc : hidp__energy_stop(e, &rep, &err);
        if (check_rc(rc, &err, "no rails: start and stop work"))
            tap_ok(rep.total_rule == HIDP__TOTAL_NONE && rep.total_joules == 0 &&
                       rep.seconds >= 0.004 && rep.n_rails == 0 && rep.rounds == 2,
                   "no rails: total 'none', 0 J, %.4f s, %d rounds", rep.seconds, rep.rounds);
        hidp__energy_close(e);
    }
    rm_tree(dir);
}

/* ---- rails that cannot be read ---- */

static void check_bad_files(void)
{
    char dir[1100];
    hidp__energy *e = NULL;
    hidp__err err = {0};
    /* Through the class symlink, which `make dist` (tar -h) turns into a copy of its target. */
    const char *hw = "sys/class/hwmon/hwmon5";
    char rel[200], path[1300];

    if (scratch_copy("jetson-orin", dir, sizeof dir) < 0) {
        tap_skip("cannot make a temporary directory", "garbage value files");
        return;
    }
    snprintf(rel, sizeof rel, "%s/curr2_input", hw);
    put(dir, rel, "garbage");
    snprintf(path, sizeof path, "%s/%s/curr3_input", dir, hw);
    unlink(path);
    int rc = hidp__energy_open(&e, dir, &err);
    if (!check_rc(rc, &err, "a tree with bad files opens"))
        goto done;
    TAP_EQ_INT(hidp__energy_rail_count(e), 3, "bad files: the rails are still listed");
    int cpu = find_rail(e, "VDD_CPU_GPU_CV"), soc = find_rail(e, "VDD_SOC");
    if (!tap_ok(cpu >= 0 && soc >= 0, "bad files: both broken rails listed by name"))
        goto done;
    check_contains(hidp__energy_rail(e, cpu)->error, "curr2_input: not a number ('garbage')",
                   "garbage: the rail says which file and why");
    check_contains(hidp__energy_rail(e, soc)->error, "curr3_input: No such file",
                   "missing current file: the rail says which");
    double v;
    rc = hidp__energy_read(e, cpu, &v, &err);
    TAP_EQ_INT(rc, HIDP_EFORMAT, "reading the garbage rail is HIDP_EFORMAT");
    check_contains(err.msg, "VDD_CPU_GPU_CV", "its message names the rail");
    TAP_EQ_INT(hidp__energy_read(e, soc, &v, &err), HIDP_EIO, "the missing file is HIDP_EIO");

    /* A run: the broken rails are never sampled, the input rail still makes the total; a file
     * that turns to garbage for a while is counted as failed readings and bridged. */
    snprintf(rel, sizeof rel, "%s/curr1_input", hw);
    hidp__energy_report rep;
    rc = hidp__energy_start(e, 1000, &err);
    sleep_s(0.02);
    put(dir, rel, "12x");
    sleep_s(0.05);
    put(dir, rel, "1200");
    sleep_s(0.02);
    rc = rc ? rc : hidp__energy_stop(e, &rep, &err);
    if (!check_rc(rc, &err, "a run with broken rails"))
        goto done;
    const hidp__rail_stat *in = &rep.rail[0];
    tap_ok(rep.rail[cpu].samples == 0 && !rep.rail[cpu].in_total && rep.rail[soc].samples == 0,
           "broken rails: no samples, not in the total");
    tap_ok(rep.total_rule == HIDP__TOTAL_INPUT && in->in_total && rep.total_joules == in->joules,
           "total = VDD_IN (rule '%s')", hidp__energy_total_name(rep.total_rule));
    tap_ok(in->errors > 0, "VDD_IN: %d failed readings while its file held garbage", in->errors);
    check_close(in->joules, 6.0 * rep.seconds, 1e-9,
                "VDD_IN: 6 W bridged over the failed readings: %.4f J in %.4f s", in->joules,
                rep.seconds);
    hidp__energy_close(e);
    e = NULL;
    rm_tree(dir);

    /* A value file that cannot be read at all (here a directory in its place), and energy_uj
     * readable by root only, as on current kernels (not testable as root). */
    if (scratch_copy("rapl", dir, sizeof dir) < 0)
        return;
    snprintf(path, sizeof path, "%s/sys/class/powercap/intel-rapl:0:0/energy_uj", dir);
    unlink(path);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/sys/class/powercap/intel-rapl:0/energy_uj", dir);
    chmod(path, 0);
    int as_root = access(path, R_OK) == 0;
    rc = hidp__energy_open(&e, dir, &err);
    if (!check_rc(rc, &err, "a tree with unreadable files opens"))
        goto done;
    int pkg = find_rail(e, "package-0"), core = find_rail(e, "package-0/core");
    check_contains(core >= 0 ? hidp__energy_rail(e, core)->error : "", "energy_uj: Is a directory",
                   "unreadable energy_uj: the reason is given");
    if (as_root) {
        tap_skip("running as root: a mode-0 file is still readable", "energy_uj of mode 0");
    } else {
        check_contains(pkg >= 0 ? hidp__energy_rail(e, pkg)->error : "",
                       "energy_uj: Permission denied (energy_uj is readable by root only",
                       "energy_uj of mode 0: permission denied, with the hint");
        /* Nothing readable but a subzone, which is inside its package: no total. */
        rc = hidp__energy_start(e, 1000, &err);
        rc = rc ? rc : hidp__energy_stop(e, &rep, &err);
        if (check_rc(rc, &err, "a run with no readable rail"))
            TAP_EQ_INT(rep.total_rule, HIDP__TOTAL_NONE, "no readable rail: total 'none'");
    }
done:
    hidp__energy_close(e);
    rm_tree(dir);
}

/* ---- integration with two readings only (a period far longer than the run) ---- */

static void check_two_readings(void)
{
    char dir[1100];
    hidp__energy *e = NULL;
    hidp__err err = {0};
    hidp__energy_report rep;
    const char *gpu = "sys/bus/iio/devices/iio:device3/in_power1_input";

    if (scratch_copy("jetson-nano", dir, sizeof dir) < 0 ||
        !check_rc(hidp__energy_open(&e, dir, &err), &err, "nano copy opens"))
        goto done;
    int g = find_rail(e, "POM_5V_GPU"), in = find_rail(e, "POM_5V_IN");
    int rc = hidp__energy_start(e, 10000000, &err);
    TAP_EQ_INT(hidp__energy_start(e, 1000, NULL), HIDP_ESTATE, "start twice is HIDP_ESTATE");
    sleep_s(0.05);
    put(dir, gpu, "2120");
    sleep_s(0.05);
    double t0 = now_s();
    rc = rc ? rc : hidp__energy_stop(e, &rep, &err);
    double took = now_s() - t0;
    if (!check_rc(rc, &err, "two-reading run"))
        goto done;
    tap_ok(took < 0.5, "stop does not wait for a 10 s period (%.4f s)", took);
    TAP_EQ_INT(rep.rounds, 2, "a 10 s period over 100 ms: the start and stop readings only");
    /* The trapezoid over 0.12 W then 2.12 W: their mean over the run, but for the microseconds
     * between the report's edges and the readings, where each value is held (allowed: 10 ms at
     * the 1 W by which they differ from the mean, against 100 mJ for a rectangle rule). */
    check_close(rep.rail[g].joules, 1.12 * rep.seconds, 0.01 * 1.12 * rep.seconds + 1.0 * 0.01,
                "POM_5V_GPU: trapezoid of 0.12 W and 2.12 W over %.4f s", rep.seconds);
    check_close(rep.rail[in].joules, 4.82 * rep.seconds, 1e-9,
                "POM_5V_IN: a steady 4.82 W spans exactly the report's %.4f s", rep.seconds);
    check_close(rep.rail[g].watts, rep.rail[g].joules / rep.seconds, 1e-12,
                "watts = joules / seconds");
    tap_ok(rep.total_rule == HIDP__TOTAL_INPUT && rep.total_joules == rep.rail[in].joules &&
               rep.rail[in].in_total && !rep.rail[g].in_total,
           "total = POM_5V_IN only (%.4f J), not POM_5V_IN + its parts", rep.total_joules);
    TAP_EQ_INT(hidp__energy_stop(e, &rep, NULL), HIDP_ESTATE, "stop twice is HIDP_ESTATE");
done:
    hidp__energy_close(e);
    rm_tree(dir);
}

static void check_wrap_once(void)
{
    char dir[1100];
    hidp__energy *e = NULL;
    hidp__err err = {0};
    hidp__energy_report rep;
    const char *pkg = "sys/class/powercap/intel-rapl:0/energy_uj";
    const char *core = "sys/class/powercap/intel-rapl:0:0/energy_uj";

    if (scratch_copy("rapl", dir, sizeof dir) < 0)
        return;
    put(dir, pkg, "%lld", 262143328850LL - 100000);
    put(dir, core, "5000");
    if (!check_rc(hidp__energy_open(&e, dir, &err), &err, "rapl copy opens"))
        goto done;
    int rc = hidp__energy_start(e, 10000000, &err);
    put(dir, pkg, "400000");
    put(dir, core, "255000");
    rc = rc ? rc : hidp__energy_stop(e, &rep, &err);
    if (!check_rc(rc, &err, "wrap run"))
        goto done;
    int p = find_rail(e, "package-0"), c = find_rail(e, "package-0/core");
    /* max - 100000 -> max -> 0 -> 400000: 100000 + 1 + 400000 uJ. */
    check_close(rep.rail[p].joules, 0.500001, 1e-9, "package-0: wrap past max_energy_range_uj");
    check_close(rep.rail[c].joules, 0.25, 1e-9, "core: plain counter delta");
    tap_ok(rep.total_rule == HIDP__TOTAL_PACKAGES && rep.total_joules == rep.rail[p].joules &&
               !rep.rail[c].in_total,
           "total = package-0 only (%.6f J), its core subzone not added", rep.total_joules);
done:
    hidp__energy_close(e);
    rm_tree(dir);
}

/* ---- the sampling thread against a writer ---- */

/* Power steps from p0 to p1 watts half-way through a 200 ms run at a 1 ms period; the file holds
 * the value in the given unit (mW, uW, or mA at a fixed mV). */
static void check_step(const char *tree, const char *rail, const char *rel, double p0, double p1,
                       double unit_per_w)
{
    char dir[1100];
    hidp__energy *e = NULL;
    hidp__err err = {0};
    hidp__energy_report rep;

    if (scratch_copy(tree, dir, sizeof dir) < 0)
        return;
    put(dir, rel, "%.0f", p0 * unit_per_w);
    if (!check_rc(hidp__energy_open(&e, dir, &err), &err, "%s copy opens", tree))
        goto done;
    int k = find_rail(e, rail);
    int rc = hidp__energy_start(e, 1000, &err);
    sleep_s(0.1);
    double a = now_s();
    put(dir, rel, "%.0f", p1 * unit_per_w);
    double b = now_s(), ts = 0.5 * (a + b);
    sleep_s(0.1);
    rc = rc ? rc : hidp__energy_stop(e, &rep, &err);
    if (!check_rc(rc, &err, "%s: sampled run", tree) ||
        !tap_ok(k >= 0, "%s: rail %s found", tree, rail))
        goto done;
    /* The true integral from the writer's own switch time, which lies in [a, b]: taking the
     * middle is off by at most |p1 - p0| * (b - a) / 2, and the trapezoid by at most
     * |p1 - p0| * gap / 2 across the step, gap being at most the longest one seen. */
    double want = p0 * (ts - rep.t_start) + p1 * (rep.t_end - ts);
    double tol = 0.03 * want + fabs(p1 - p0) * (rep.max_gap + (b - a)) / 2;
    tap_diag("%s: %d rounds in %.4f s, longest gap %.2f ms; %.5f J off, tolerance %.5f J", tree,
             rep.rounds, rep.seconds, rep.max_gap * 1e3, rep.rail[k].joules - want, tol);
    check_close(rep.rail[k].joules, want, tol, "%s: %s %.0f W then %.0f W integrates to %.4f J",
                tree, rail, p0, p1, want);
    tap_ok(rep.rounds >= 20 && rep.rail[k].samples == rep.rounds && rep.rail[k].errors == 0,
           "%s: %d readings of %s, none failed (1 ms period over 200 ms)", tree,
           rep.rail[k].samples, rail);
    check_close(rep.total_joules, rep.rail[k].joules, 1e-12, "%s: total = %s (rule '%s')", tree,
                rail, hidp__energy_total_name(rep.total_rule));
    if (strcmp(tree, "jetson-orin") == 0) {
        int soc = find_rail(e, "VDD_SOC");
        double p = 4.984 * 0.320;
        check_close(rep.rail[soc].joules, p * rep.seconds, 1e-9,
                    "jetson-orin: VDD_SOC steady %.3f W over the run", p);
        check_close(rep.rail[soc].watts, p, 1e-9, "jetson-orin: VDD_SOC average watts");
    }
done:
    hidp__energy_close(e);
    rm_tree(dir);
}

/* RAPL counters ramping at 5 W (package) and 3 W (core) for 300 ms, their range shrunk to 1 J so
 * the package counter wraps twice during the run. The counters' values are what the writer
 * wrote, so the expected joules are exact whatever the timing. */
static void check_ramp(void)
{
    char dir[1100];
    hidp__energy *e = NULL;
    hidp__err err = {0};
    hidp__energy_report rep;
    const char *pkg = "sys/class/powercap/intel-rapl:0/energy_uj";
    const char *core = "sys/class/powercap/intel-rapl:0:0/energy_uj";
    const long long range = 1000000; /* max_energy_range_uj + 1 */

    if (scratch_copy("rapl", dir, sizeof dir) < 0)
        return;
    put(dir, "sys/class/powercap/intel-rapl:0/max_energy_range_uj", "%lld", range - 1);
    put(dir, "sys/class/powercap/intel-rapl:0:0/max_energy_range_uj", "%lld", range - 1);
    long long p_uj = 800000, c_uj = 0;
    put(dir, pkg, "%lld", p_uj);
    put(dir, core, "%lld", c_uj);
    if (!check_rc(hidp__energy_open(&e, dir, &err), &err, "rapl copy opens"))
        goto done;
    int rc = hidp__energy_start(e, 1000, &err);
    double w0 = now_s(), t;
    while ((t = now_s() - w0) < 0.3) {
        p_uj = 800000 + (long long)(5e6 * t);
        c_uj = (long long)(3e6 * t);
        put(dir, pkg, "%lld", p_uj % range);
        put(dir, core, "%lld", c_uj % range);
        sleep_s(0.0005);
    }
    rc = rc ? rc : hidp__energy_stop(e, &rep, &err);
    if (!check_rc(rc, &err, "ramp run"))
        goto done;
    int p = find_rail(e, "package-0"), c = find_rail(e, "package-0/core");
    tap_ok(p_uj / range >= 2, "the package counter wrapped %lld times during the run",
           p_uj / range);
    tap_diag("ramp: %d rounds in %.4f s, longest gap %.2f ms", rep.rounds, rep.seconds,
             rep.max_gap * 1e3);
    check_close(rep.rail[p].joules, (double)(p_uj - 800000) * 1e-6, 1e-9,
                "package-0: %.6f J through the wraps", (double)(p_uj - 800000) * 1e-6);
    check_close(rep.rail[c].joules, (double)c_uj * 1e-6, 1e-9, "core: %.6f J", (double)c_uj * 1e-6);
    tap_ok(rep.rail[p].samples >= 20, "package-0: %d readings over 300 ms", rep.rail[p].samples);
    check_close(rep.total_joules, rep.rail[p].joules, 1e-12, "total = package-0 (rule '%s')",
                hidp__energy_total_name(rep.total_rule));
done:
    hidp__energy_close(e);
    rm_tree(dir);
}

int main(void)
{
    const char *src = getenv("HIDP_SRCDIR");
    snprintf(datadir, sizeof datadir, "%s/test/data/sysfs", src ? src : ".");
    for (size_t i = 0; i < sizeof trees / sizeof trees[0]; i++)
        check_tree(&trees[i]);
    check_roots();
    check_naming();
    check_bad_files();
    check_two_readings();
    check_wrap_once();
    check_step("ina226", "ina226", "sys/class/hwmon/hwmon4/power1_input", 2, 6, 1e6);
    check_step("jetson-nano", "POM_5V_IN", "sys/bus/iio/devices/iio:device3/in_power0_input", 3, 7,
               1e3);
    /* VDD_IN at 5000 mV: current in mA is 200 per watt. */
    check_step("jetson-orin", "VDD_IN", "sys/class/hwmon/hwmon5/curr1_input", 5, 10, 200);
    check_ramp();
    return tap_done();
}
