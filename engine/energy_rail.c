/*
 * energy_rail.c - finding power rails under a sysfs root and reading them (engine/energy.h).
 *
 * Devices are recognised by their driver's `name` file and rails by their labels; the numbers
 * in hwmonN and iio:deviceN depend on probe order and change between boots and boards, so they
 * only ever serve to tell two unlabelled chips apart. Every file is opened, read and closed at
 * each reading: sysfs computes an attribute when it is read from offset 0, and a fresh open also
 * sees a file that a test replaced by rename.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "energy_impl.h"

/* Longest root accepted, so that every path built below fits hidp__rail_src's buffers. */
#define ROOT_MAX 512

/* Labels of the rail that feeds a Jetson board (its total input). */
static const char *const input_labels[] = {"VDD_IN", "POM_5V_IN"};

/* snprintf that reports truncation: 0, or -1 if buf was too small. */
static int pathf(char *buf, size_t len, const char *fmt, ...) HIDP__PRINTF(3, 4);
static int pathf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Records why rail r cannot be read (a long path is cut short, which is fine for a message). */
static void set_error(hidp__rail_src *r, const char *fmt, ...) HIDP__PRINTF(2, 3);
static void set_error(hidp__rail_src *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->info.error, sizeof r->info.error, fmt, ap);
    va_end(ap);
}

static void copy_str(char *dst, size_t len, const char *src)
{
    size_t n = strnlen(src, len - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Reads a small text file into buf, trailing whitespace removed. 0 or -errno. */
static int read_text(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n;
    do
        n = read(fd, buf, len - 1);
    while (n < 0 && errno == EINTR);
    int e = errno;
    close(fd);
    if (n < 0)
        return -e;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
        n--;
    buf[n] = '\0';
    return 0;
}

/* Reads dir/file into buf; 0 or -errno. */
static int read_attr(const char *dir, const char *file, char *buf, size_t len)
{
    char path[1200];
    if (pathf(path, sizeof path, "%s/%s", dir, file))
        return -ENAMETOOLONG;
    return read_text(path, buf, len);
}

static int has_attr(const char *dir, const char *file)
{
    char path[1200];
    return !pathf(path, sizeof path, "%s/%s", dir, file) && access(path, F_OK) == 0;
}

/* A whole decimal integer, optionally signed (an INA current is negative when it flows back). */
static int parse_ll(const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || errno)
        return -1;
    *out = v;
    return 0;
}

int hidp__rail_read_raw(const hidp__rail_src *r, double *raw, char *why, size_t len)
{
    double v = 1;
    for (int i = 0; i < r->nfiles; i++) {
        char buf[64], eb[128];
        long long x;
        int rc = read_text(r->file[i], buf, sizeof buf);
        if (rc < 0) {
            if (why)
                snprintf(why, len, "%s: %s%s", r->file[i], strerror_r(-rc, eb, sizeof eb),
                         r->counter && rc == -EACCES
                             ? " (energy_uj is readable by root only on current kernels)"
                             : "");
            return HIDP_EIO;
        }
        if (parse_ll(buf, &x)) {
            if (why)
                snprintf(why, len, "%s: not a number ('%.32s')", r->file[i], buf);
            return HIDP_EFORMAT;
        }
        v *= (double)x;
    }
    *raw = v;
    return 0;
}

/* Appends a zeroed rail; NULL when out of memory. */
static hidp__rail_src *add_rail(hidp__energy *e, hidp__rail_kind kind, const char *dir,
                                hidp__err *err)
{
    hidp__rail_src *grown = realloc(e->rails, (size_t)(e->n + 1) * sizeof *grown);
    if (!grown) {
        hidp__fail(err, HIDP_ENOMEM, "energy: out of memory listing rails");
        return NULL;
    }
    e->rails = grown;
    hidp__rail_src *r = &e->rails[e->n++];
    memset(r, 0, sizeof *r);
    r->info.kind = kind;
    r->info.role = HIDP__ROLE_RAIL;
    copy_str(r->info.path, sizeof r->info.path, dir);
    return r;
}

/* Sets the rail's files (dir/f0 and, for V x I, dir/f1); a name too long becomes its error. */
static void set_files(hidp__rail_src *r, const char *dir, const char *f0, const char *f1)
{
    r->nfiles = f1 ? 2 : 1;
    if (pathf(r->file[0], sizeof r->file[0], "%s/%s", dir, f0) ||
        (f1 && pathf(r->file[1], sizeof r->file[1], "%s/%s", dir, f1)))
        set_error(r, "%s: path too long", dir);
}

static void set_name(hidp__rail_src *r, const char *name)
{
    copy_str(r->info.name, sizeof r->info.name, name);
    for (size_t i = 0; i < sizeof input_labels / sizeof *input_labels; i++)
        if (strcmp(name, input_labels[i]) == 0)
            r->info.role = HIDP__ROLE_INPUT;
}

/* hwmon ina3221: three channels, each bus voltage (mV) x current (mA) = microwatts. */
static int add_ina3221(hidp__energy *e, const char *dir, hidp__err *err)
{
    for (int ch = 1; ch <= 3; ch++) {
        char in[32], curr[32], en[32], lab[32], buf[64];
        snprintf(in, sizeof in, "in%d_input", ch);
        snprintf(curr, sizeof curr, "curr%d_input", ch);
        snprintf(en, sizeof en, "in%d_enable", ch);
        snprintf(lab, sizeof lab, "in%d_label", ch);
        if (!has_attr(dir, in))
            continue;
        /* A disabled channel reads ENODATA; older kernels have no enable file at all. */
        if (read_attr(dir, en, buf, sizeof buf) == 0 && strcmp(buf, "0") == 0)
            continue;
        hidp__rail_src *r = add_rail(e, HIDP__RAIL_INA3221, dir, err);
        if (!r)
            return HIDP_ENOMEM;
        if (read_attr(dir, lab, buf, sizeof buf) < 0 || !buf[0])
            snprintf(buf, sizeof buf, "ina3221:in%d", ch);
        set_name(r, buf);
        set_files(r, dir, in, curr);
        r->scale = 1e-6;
        r->info.what = "inN_input (mV) x currN_input (mA)";
    }
    return 0;
}

/* hwmon ina2xx: power1_input in microwatts, else bus voltage in1 (mV) x curr1 (mA). */
static int add_ina2xx(hidp__energy *e, const char *dir, const char *chip, hidp__err *err)
{
    char label[64];
    hidp__rail_src *r = add_rail(e, HIDP__RAIL_INA2XX, dir, err);
    if (!r)
        return HIDP_ENOMEM;
    set_name(r, read_attr(dir, "label", label, sizeof label) == 0 && label[0] ? label : chip);
    r->scale = 1e-6;
    if (has_attr(dir, "power1_input")) {
        set_files(r, dir, "power1_input", NULL);
        r->info.what = "power1_input (uW)";
    } else {
        set_files(r, dir, "in1_input", "curr1_input");
        r->info.what = "in1_input (mV) x curr1_input (mA)";
    }
    return 0;
}

/* ina219, ina226, ina230, ina238, ina260...: "ina2" and three digits. */
static int is_ina2xx(const char *name)
{
    return strncmp(name, "ina2", 4) == 0 && strlen(name) == 6 && name[4] >= '0' && name[4] <= '9' &&
           name[5] >= '0' && name[5] <= '9';
}

static int not_dot(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

/* The entries of dir, in version order (hwmon2 before hwmon10); none if dir is missing. */
static int list_dir(const char *dir, struct dirent ***list)
{
    int n = scandir(dir, list, not_dot, versionsort);
    if (n < 0) {
        *list = NULL;
        return 0;
    }
    return n;
}

static void free_list(struct dirent **list, int n)
{
    for (int i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

static int scan_hwmon(hidp__energy *e, hidp__err *err)
{
    char base[1100], dir[1200], name[64];
    struct dirent **list;
    int rc = 0;
    snprintf(base, sizeof base, "%s/sys/class/hwmon", e->root);
    int n = list_dir(base, &list);
    for (int i = 0; i < n && rc == 0; i++) {
        /* Drivers from before hwmon's own attributes keep theirs under device/. */
        if (pathf(dir, sizeof dir, "%s/%s", base, list[i]->d_name) ||
            (read_attr(dir, "name", name, sizeof name) < 0 &&
             (pathf(dir, sizeof dir, "%s/%s/device", base, list[i]->d_name) ||
              read_attr(dir, "name", name, sizeof name) < 0)))
            continue;
        if (strcmp(name, "ina3221") == 0)
            rc = add_ina3221(e, dir, err);
        else if (is_ina2xx(name))
            rc = add_ina2xx(e, dir, name, err);
    }
    free_list(list, n);
    return rc;
}

/* Jetson's downstream iio driver (L4T 32): rail_name_N and in_powerN_input in milliwatts. */
static int scan_iio(hidp__energy *e, hidp__err *err)
{
    char base[1100], dir[1200], buf[64];
    struct dirent **list;
    int rc = 0;
    snprintf(base, sizeof base, "%s/sys/bus/iio/devices", e->root);
    int n = list_dir(base, &list);
    for (int i = 0; i < n && rc == 0; i++) {
        if (pathf(dir, sizeof dir, "%s/%s", base, list[i]->d_name) ||
            read_attr(dir, "name", buf, sizeof buf) < 0 || strcmp(buf, "ina3221x") != 0)
            continue;
        for (int ch = 0; ch < 8; ch++) {
            char attr[32], power[32];
            snprintf(attr, sizeof attr, "rail_name_%d", ch);
            if (read_attr(dir, attr, buf, sizeof buf) < 0 || !buf[0])
                continue;
            hidp__rail_src *r = add_rail(e, HIDP__RAIL_INA3221X, dir, err);
            if (!r) {
                rc = HIDP_ENOMEM;
                break;
            }
            set_name(r, buf);
            snprintf(power, sizeof power, "in_power%d_input", ch);
            set_files(r, dir, power, NULL);
            r->scale = 1e-3;
            r->info.what = "in_powerN_input (mW)";
        }
    }
    free_list(list, n);
    return rc;
}

/* powercap intel-rapl:P (top level) and intel-rapl:P:S (subzones). intel-rapl-mmio:* is the
 * same package domain through another interface, so it is left out. */
static int scan_rapl(hidp__energy *e, hidp__err *err)
{
    char base[1100], dir[1200], name[64], parent[64], buf[64];
    struct dirent **list;
    int rc = 0;
    snprintf(base, sizeof base, "%s/sys/class/powercap", e->root);
    int n = list_dir(base, &list);
    for (int i = 0; i < n && rc == 0; i++) {
        const char *ent = list[i]->d_name;
        if (strncmp(ent, "intel-rapl:", 11) != 0 || pathf(dir, sizeof dir, "%s/%s", base, ent) ||
            !has_attr(dir, "energy_uj"))
            continue;
        hidp__rail_src *r = add_rail(e, HIDP__RAIL_RAPL, dir, err);
        if (!r) {
            rc = HIDP_ENOMEM;
            break;
        }
        if (read_attr(dir, "name", name, sizeof name) < 0 || !name[0])
            copy_str(name, sizeof name, ent);
        const char *colon = strrchr(ent, ':');
        if (colon == ent + 10) { /* top level */
            r->info.role = strcmp(name, "psys") == 0 ? HIDP__ROLE_INPUT : HIDP__ROLE_PACKAGE;
            copy_str(r->info.name, sizeof r->info.name, name);
        } else {
            /* DRAM is a domain of its own, not part of the package's energy. */
            r->info.role = strcmp(name, "dram") == 0 ? HIDP__ROLE_PACKAGE : HIDP__ROLE_SUBZONE;
            char pdir[1200];
            if (pathf(pdir, sizeof pdir, "%s/%.*s", base, (int)(colon - ent), ent) ||
                read_attr(pdir, "name", parent, sizeof parent) < 0 || !parent[0])
                snprintf(parent, sizeof parent, "%.*s", (int)(colon - ent), ent);
            snprintf(r->info.name, sizeof r->info.name, "%.31s/%.31s", parent, name);
        }
        set_files(r, dir, "energy_uj", NULL);
        r->counter = 1;
        r->scale = 1e-6;
        r->info.what = "energy_uj (uJ counter)";
        long long range;
        int got = read_attr(dir, "max_energy_range_uj", buf, sizeof buf);
        if (got < 0 || parse_ll(buf, &range) || range <= 0)
            set_error(r, "%s/max_energy_range_uj: %s", dir,
                      got < 0 ? "cannot be read" : "not a positive number");
        else
            r->range = (double)range + 1;
    }
    free_list(list, n);
    return rc;
}

/* What tells apart two rails of one name: the directory's last component, or the one before a
 * trailing "device" (hwmon5, iio:device2). */
static void make_unique(hidp__energy *e)
{
    char *dup = calloc((size_t)e->n + 1, 1);
    if (!dup)
        return; /* names stay ambiguous, nothing worse */
    for (int i = 0; i < e->n; i++)
        for (int j = 0; j < e->n; j++)
            if (i != j && strcmp(e->rails[i].info.name, e->rails[j].info.name) == 0)
                dup[i] = 1;
    for (int i = 0; i < e->n; i++) {
        if (!dup[i])
            continue;
        hidp__rail *ri = &e->rails[i].info;
        char dir[1024], name[64];
        copy_str(dir, sizeof dir, ri->path);
        char *slash = strrchr(dir, '/');
        if (slash && strcmp(slash, "/device") == 0) {
            *slash = '\0';
            slash = strrchr(dir, '/');
        }
        snprintf(name, sizeof name, "%.31s@%.31s", ri->name, slash ? slash + 1 : dir);
        copy_str(ri->name, sizeof ri->name, name);
    }
    free(dup);
}

/* Input rails first, everything else in discovery order. */
static int order_rails(hidp__energy *e, hidp__err *err)
{
    if (e->n < 2)
        return 0;
    hidp__rail_src *sorted = malloc((size_t)e->n * sizeof *sorted);
    if (!sorted)
        return hidp__fail(err, HIDP_ENOMEM, "energy: out of memory ordering rails");
    int k = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < e->n; i++)
            if ((e->rails[i].info.role == HIDP__ROLE_INPUT) == (pass == 0))
                sorted[k++] = e->rails[i];
    free(e->rails);
    e->rails = sorted;
    return 0;
}

int hidp__energy_open(hidp__energy **out, const char *sysfs_root, hidp__err *err)
{
    int rc;
    *out = NULL;
    if (!sysfs_root)
        sysfs_root = getenv("HIDP_SYSFS_ROOT");
    if (!sysfs_root)
        sysfs_root = "";
    size_t len = strlen(sysfs_root);
    while (len > 0 && sysfs_root[len - 1] == '/')
        len--;
    if (len > ROOT_MAX)
        return hidp__fail(err, HIDP_EINVAL, "sysfs root '%.64s...' is longer than %d bytes",
                          sysfs_root, ROOT_MAX);
    if (len > 0) {
        struct stat st;
        if (stat(sysfs_root, &st) < 0) {
            char eb[128];
            return hidp__fail(err, HIDP_EIO, "sysfs root '%s': %s", sysfs_root,
                              strerror_r(errno, eb, sizeof eb));
        }
        if (!S_ISDIR(st.st_mode))
            return hidp__fail(err, HIDP_EIO, "sysfs root '%s' is not a directory", sysfs_root);
    }
    hidp__energy *e = calloc(1, sizeof *e);
    if (!e)
        return hidp__fail(err, HIDP_ENOMEM, "energy: out of memory");
    memcpy(e->root, sysfs_root, len);
    e->root[len] = '\0';
    if ((rc = scan_hwmon(e, err)) < 0 || (rc = scan_iio(e, err)) < 0 ||
        (rc = scan_rapl(e, err)) < 0)
        goto fail;
    /* One reading now, so a rail that cannot be read is listed with the reason at once. */
    for (int i = 0; i < e->n; i++) {
        hidp__rail_src *r = &e->rails[i];
        double raw;
        if (!r->info.error[0])
            hidp__rail_read_raw(r, &raw, r->info.error, sizeof r->info.error);
    }
    make_unique(e);
    if ((rc = order_rails(e, err)) < 0)
        goto fail;
    e->stat = calloc((size_t)e->n + 1, sizeof *e->stat);
    if (!e->stat) {
        rc = hidp__fail(err, HIDP_ENOMEM, "energy: out of memory");
        goto fail;
    }
    *out = e;
    return 0;
fail:
    hidp__energy_close(e);
    return rc;
}

const char *hidp__energy_root(const hidp__energy *e)
{
    return e->root[0] ? e->root : "/";
}

int hidp__energy_rail_count(const hidp__energy *e)
{
    return e->n;
}

const hidp__rail *hidp__energy_rail(const hidp__energy *e, int i)
{
    return i >= 0 && i < e->n ? &e->rails[i].info : NULL;
}

int hidp__energy_read(const hidp__energy *e, int i, double *value, hidp__err *err)
{
    if (i < 0 || i >= e->n)
        return hidp__fail(err, HIDP_EINVAL, "energy: no rail %d (there are %d)", i, e->n);
    const hidp__rail_src *r = &e->rails[i];
    char why[400];
    double raw;
    int rc = hidp__rail_read_raw(r, &raw, why, sizeof why);
    if (rc < 0)
        return hidp__fail(err, rc, "rail %s: %s", r->info.name, why);
    *value = raw * r->scale;
    return 0;
}

const char *hidp__rail_kind_name(hidp__rail_kind kind)
{
    switch (kind) {
    case HIDP__RAIL_INA2XX:
        return "ina2xx";
    case HIDP__RAIL_INA3221:
        return "ina3221";
    case HIDP__RAIL_INA3221X:
        return "ina3221x";
    case HIDP__RAIL_RAPL:
        return "rapl";
    }
    return "?";
}
