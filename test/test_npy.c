/*
 * test_npy.c - .npy read and write: round trips of odd shapes, hand-written headers as numpy
 * and other writers produce them, the fixtures numpy wrote, and every kind of bad file, which
 * must fail with a message naming the file (and leave nothing behind when writing).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hidp.h"
#include "npy.h"
#include "tap.h"

static char tmpdir[256];

static int count_entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

static void round_trip(const char *label, int32_t ndim, const int64_t *dims)
{
    char path[300];
    int64_t count = 1;
    for (int i = 0; i < ndim; i++)
        count *= dims[i];
    float *data = malloc((size_t)(count ? count : 1) * 4);
    for (int64_t i = 0; i < count; i++)
        data[i] = (float)i * 0.5f - 3.25f;
    snprintf(path, sizeof path, "%s/%s.npy", tmpdir, label);
    hidp__err err = {0};
    hidp_array a;
    int rc = hidp__npy_save(path, data, dims, ndim, &err);
    if (!rc)
        rc = hidp__npy_load(path, &a, &err);
    int ok = rc == 0 && a.ndim == ndim;
    for (int i = 0; ok && i < ndim; i++)
        ok = a.dims[i] == dims[i];
    ok = ok && (count == 0 || memcmp(a.data, data, (size_t)count * 4) == 0);
    /* numpy's layout: the data starts on a 64-byte boundary and the header ends in '\n'. */
    struct stat st;
    int aligned = stat(path, &st) == 0 && ((size_t)st.st_size - (size_t)count * 4) % 64 == 0;
    tap_ok(ok && aligned, "round trip %s (%s)", label, err.msg);
    if (!rc)
        hidp_array_free(&a);
    unlink(path);
    free(data);
}

/* A .npy image: magic, version, header (padded to 16 with spaces and '\n'), then n floats. */
static size_t make(uint8_t *buf, int major, const char *header, int n, int extra_bytes)
{
    size_t hl = strlen(header), off = major == 1 ? 10 : 12;
    size_t pad = (16 - (off + hl + 1) % 16) % 16, len = hl + pad + 1;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (uint8_t)major;
    buf[7] = 0;
    buf[8] = (uint8_t)len;
    buf[9] = (uint8_t)(len >> 8);
    buf[10] = buf[11] = 0;
    memcpy(buf + off, header, hl);
    memset(buf + off + hl, ' ', pad);
    buf[off + len - 1] = '\n';
    for (int i = 0; i < n; i++) {
        float f = (float)i + 0.5f;
        memcpy(buf + off + len + 4 * i, &f, 4); /* the tests run on little-endian hosts */
    }
    memset(buf + off + len + 4 * (size_t)n, 0xab, (size_t)extra_bytes);
    return off + len + 4 * (size_t)n + (size_t)extra_bytes;
}

static void good_header(const char *label, int major, const char *header, int n, int ndim,
                        int64_t d0)
{
    static uint8_t buf[4096];
    size_t size = make(buf, major, header, n, 0);
    hidp_array a;
    hidp__err err = {0};
    int rc = hidp__npy_parse(buf, size, "hand.npy", &a, &err);
    int ok = rc == 0 && a.ndim == ndim && (ndim == 0 || a.dims[0] == d0) &&
             (n == 0 || a.data[n - 1] == (float)(n - 1) + 0.5f);
    if (!tap_ok(ok, "header variant: %s", label))
        tap_diag("  rc %d ndim %d: %s", rc, rc ? -1 : (int)a.ndim, err.msg);
    if (!rc)
        hidp_array_free(&a);
}

static void bad(const char *label, const uint8_t *buf, size_t size, const char *needle)
{
    hidp_array a;
    hidp__err err = {0};
    memset(&a, 0x5a, sizeof a);
    int rc = hidp__npy_parse(buf, size, "bad.npy", &a, &err);
    int ok = rc == HIDP_EFORMAT && strstr(err.msg, "bad.npy") && strstr(err.msg, needle) &&
             a.data == NULL;
    if (!tap_ok(ok, "bad file: %s", label))
        tap_diag("  got %d: %s", rc, err.msg);
    if (!rc)
        hidp_array_free(&a);
}

static void bad_header(const char *label, int major, const char *header, int n, int extra,
                       const char *needle)
{
    static uint8_t buf[4096];
    bad(label, buf, make(buf, major, header, n, extra), needle);
}

static void test_headers(void)
{
    good_header("numpy 1.0 style", 1,
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 6, 2, 2);
    good_header("double quotes, other order, no spaces", 1,
                "{\"shape\":(4,),\"descr\":\"<f4\",\"fortran_order\":False}", 4, 1, 4);
    good_header("tabs and newlines", 1,
                "{ 'descr' :\t'<f4' ,\n 'fortran_order' : False ,\t'shape' : ( 3 , 1 , ) , }", 3,
                2, 3);
    good_header("version 2.0", 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }",
                5, 1, 5);
    good_header("version 3.0", 3, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
                2, 1, 2);
    good_header("scalar shape ()", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
                1, 0, 0);
    good_header("empty array", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 7), }",
                0, 2, 0);
    good_header("Python 2 long dims", 1,
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 1L), }", 2, 2, 2);
    good_header("fortran order of a 1-D array", 1,
                "{'descr': '<f4', 'fortran_order': True, 'shape': (3,), }", 3, 1, 3);
}

static void test_bad(void)
{
    static uint8_t buf[4096];
    const char *ok_hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    size_t size = make(buf, 1, ok_hdr, 6, 0);
    buf[1] = 'X';
    bad("wrong magic", buf, size, "not a .npy file");
    bad("empty", buf, 0, "not a .npy file");
    bad("only the magic", (const uint8_t *)"\x93NUMPY\x01", 7, "too short");
    bad("ONNX bytes", (const uint8_t *)"\x08\x07\x12\x04hidp", 8, "bad magic");
    bad_header("big-endian", 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 2,
               0, "dtype '>f4'");
    bad_header("float64", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", 2, 0,
               "dtype '<f8'");
    bad_header("int64", 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", 2, 0,
               "dtype '<i8'");
    bad_header("structured dtype", 1,
               "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", 1, 0,
               "quoted string");
    bad_header("fortran order", 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
               6, 0, "fortran_order");
    bad_header("truncated data", 1, ok_hdr, 5, 2, "truncated");
    bad_header("trailing bytes", 1, ok_hdr, 6, 1, "trailing");
    bad_header("huge shape", 1,
               "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, "
               "1099511627776), }", 0, 0, "too large");
    bad_header("dim beyond int64", 1,
               "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 0,
               0, "dim too large");
    bad_header("ndim 9", 1,
               "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", 1, 0,
               "more than 8 dims");
    bad_header("negative dim", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }",
               0, 0, "expected a dim");
    bad_header("missing key", 1, "{'descr': '<f4', 'shape': (1,), }", 1, 0, "'fortran_order'");
    bad_header("unknown key", 1,
               "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", 1, 0,
               "unknown key 'x'");
    bad_header("repeated key", 1,
               "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", 1, 0,
               "repeated key");
    bad_header("broken quoting", 1, "{'descr: '<f4'", 0, 0, "malformed");
    bad_header("text after the dict", 1,
               "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", 1, 0, "after");
    bad_header("no dict", 1, "'descr': '<f4'", 0, 0, "expected '{'");
    bad_header("bad boolean", 1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", 1, 0,
               "True or False");
    bad_header("version 4.0", 4, "{}", 0, 0, "version 4.0");
    size = make(buf, 1, ok_hdr, 6, 0);
    bad("header length past EOF", buf, 40, "past the end");
    buf[8] = 0xff;
    buf[9] = 0xff;
    bad("header length 65535 in a small file", buf, size, "past the end");
    size = make(buf, 2, ok_hdr, 6, 0);
    buf[10] = 0x10; /* 1 MiB + the real length */
    bad("header length over the limit", buf, size, "too large");
    bad("v2 header cut", buf, 11, "truncated");
}

static void test_files(void)
{
    char path[300];
    hidp__err err = {0};
    hidp_array a;
    snprintf(path, sizeof path, "%s/missing.npy", tmpdir);
    int rc = hidp__npy_load(path, &a, &err);
    tap_ok(rc == HIDP_EIO && strstr(err.msg, path) && strstr(err.msg, "No such file") && !a.data,
           "missing file: EIO (%s)", err.msg);

    snprintf(path, sizeof path, "%s/no/such/dir/out.npy", tmpdir);
    rc = hidp__npy_save(path, (float[]){1}, (int64_t[]){1}, 1, &err);
    tap_ok(rc == HIDP_EIO && strstr(err.msg, path), "save into a missing directory: EIO (%s)",
           err.msg);
    /* The target is a directory: the temporary file is written, the rename fails, and the
     * temporary must be gone. */
    snprintf(path, sizeof path, "%s/adir", tmpdir);
    mkdir(path, 0755);
    int before = count_entries(tmpdir);
    rc = hidp__npy_save(path, (float[]){1, 2}, (int64_t[]){2}, 1, &err);
    tap_ok(rc == HIDP_EIO && strstr(err.msg, path) && count_entries(tmpdir) == before &&
               count_entries(path) == 0,
           "save onto a directory: EIO, nothing left behind (%s)", err.msg);
    rmdir(path);
    rc = hidp__npy_save(tmpdir, (float[]){1}, (int64_t[]){1}, 9, &err);
    tap_ok(rc == HIDP_EINVAL, "save with ndim 9: EINVAL (%s)", err.msg);
    rc = hidp__npy_save(tmpdir, (float[]){1}, (int64_t[]){-2}, 1, &err);
    tap_ok(rc == HIDP_EINVAL, "save with a negative dim: EINVAL (%s)", err.msg);
    TAP_EQ_INT(count_entries(tmpdir), 0, "the temp dir holds nothing after the failures");

    /* A file made by numpy itself. */
    const char *fx = getenv("HIDP_FIXTURES");
    snprintf(path, sizeof path, "%s/resnet18.input.npy", fx && *fx ? fx : "../shared/fixtures");
    if (access(path, R_OK) != 0) {
        tap_skip("fixture absent", "numpy-written file %s", path);
        return;
    }
    hidp__err_clear(&err);
    rc = hidp__npy_load(path, &a, &err);
    tap_ok(rc == 0 && a.ndim == 4 && a.dims[0] == 1 && a.dims[1] == 3 && a.dims[2] == 224 &&
               a.dims[3] == 224,
           "numpy-written 1x3x224x224 input loads (%s)", err.msg);
    if (!rc) {
        double sum = 0;
        for (int i = 0; i < 3 * 224 * 224; i++)
            sum += (double)a.data[i] * a.data[i];
        /* N(0,1) data: the mean square is near 1. */
        tap_ok(sum / (3 * 224 * 224) > 0.9 && sum / (3 * 224 * 224) < 1.1,
               "its values look like N(0,1) (mean square %g)", sum / (3 * 224 * 224));
        hidp_array_free(&a);
        hidp_array_free(&a); /* a second free is harmless */
    }
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/hidp_npy_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        tap_ok(0, "mkdtemp");
        return tap_done();
    }
    round_trip("scalar", 0, NULL);
    round_trip("1d", 1, (int64_t[]){17});
    round_trip("5d", 5, (int64_t[]){2, 1, 3, 1, 5});
    round_trip("8d", 8, (int64_t[]){1, 2, 1, 2, 1, 2, 1, 3});
    round_trip("empty", 2, (int64_t[]){0, 4});
    round_trip("image", 4, (int64_t[]){1, 3, 33, 47});
    test_headers();
    test_bad();
    test_files();
    rmdir(tmpdir);
    return tap_done();
}
