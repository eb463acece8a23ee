/*
 * npy.c - NumPy .npy read and write, and whole-file read / atomic write.
 *
 * Format: "\x93NUMPY", major and minor version bytes, header length (2 bytes little-endian in
 * version 1, 4 bytes in 2 and 3), then the header: a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }
 * padded with spaces and a newline, then the raw data. The dict is parsed as a small grammar
 * (keys in any order, either quote, any whitespace, trailing commas), not searched for
 * substrings, so a malformed header is refused rather than half understood.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hidp.h"
#include "npy.h"
#include "pb.h"

void hidp_array_free(hidp_array *a)
{
    if (!a)
        return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* ---- Header dict parser ---- */

typedef struct hdr {
    const char *p, *start, *end;
    const char *src;
    hidp__err *err;
    int ndim, fortran, seen;
    int64_t dims[HIDP_MAX_DIMS];
} hdr;

static int hbad(hdr *h, const char *what)
{
    return hidp__fail(h->err, HIDP_EFORMAT, "%s: malformed .npy header: %s at offset %d",
                      h->src, what, (int)(h->p - h->start));
}

static void ws(hdr *h)
{
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r'))
        h->p++;
}

static int eat(hdr *h, char c)
{
    ws(h);
    if (h->p < h->end && *h->p == c) {
        h->p++;
        return 1;
    }
    return 0;
}

/* A quoted string without escapes, copied into buf (at most n-1 chars). */
static int str(hdr *h, char *buf, size_t n)
{
    ws(h);
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"'))
        return hbad(h, "expected a quoted string");
    char q = *h->p++;
    size_t k = 0;
    while (h->p < h->end && *h->p != q) {
        if (*h->p == '\\' || k + 1 >= n)
            return hbad(h, "unexpected string");
        buf[k++] = *h->p++;
    }
    if (h->p >= h->end)
        return hbad(h, "unterminated string");
    h->p++;
    buf[k] = '\0';
    return 0;
}

static int word(hdr *h, const char *w)
{
    size_t n = strlen(w);
    ws(h);
    if ((size_t)(h->end - h->p) >= n && memcmp(h->p, w, n) == 0) {
        h->p += n;
        return 1;
    }
    return 0;
}

static int shape(hdr *h)
{
    if (!eat(h, '('))
        return hbad(h, "expected '(' for the shape");
    h->ndim = 0;
    for (;;) {
        if (eat(h, ')'))
            return 0;
        ws(h);
        if (h->p >= h->end || *h->p < '0' || *h->p > '9')
            return hbad(h, "expected a dim");
        int64_t d = 0;
        while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
            if (d > (INT64_MAX - 9) / 10)
                return hbad(h, "dim too large");
            d = d * 10 + (*h->p++ - '0');
        }
        if (h->p < h->end && *h->p == 'L') /* written by Python 2 */
            h->p++;
        if (h->ndim == HIDP_MAX_DIMS)
            return hidp__fail(h->err, HIDP_EFORMAT, "%s: shape has more than %d dims", h->src,
                              HIDP_MAX_DIMS);
        h->dims[h->ndim++] = d;
        if (!eat(h, ',')) {
            if (!eat(h, ')'))
                return hbad(h, "expected ',' or ')' in the shape");
            return 0;
        }
    }
}

static int dict(hdr *h)
{
    char key[32], val[32];
    int rc;
    if (!eat(h, '{'))
        return hbad(h, "expected '{'");
    for (;;) {
        if (eat(h, '}'))
            break;
        if ((rc = str(h, key, sizeof key)))
            return rc;
        if (!eat(h, ':'))
            return hbad(h, "expected ':'");
        int bit = !strcmp(key, "descr") ? 1 : !strcmp(key, "fortran_order") ? 2
                : !strcmp(key, "shape") ? 4 : 0;
        if (!bit || (h->seen & bit))
            return hidp__fail(h->err, HIDP_EFORMAT, "%s: malformed .npy header: %s key '%s'",
                              h->src, bit ? "repeated" : "unknown", key);
        h->seen |= bit;
        if (bit == 1) {
            if ((rc = str(h, val, sizeof val)))
                return rc;
            if (strcmp(val, "<f4") != 0)
                return hidp__fail(h->err, HIDP_EFORMAT,
                                  "%s: dtype '%s' not supported; hidp reads little-endian "
                                  "float32 ('<f4')", h->src, val);
        } else if (bit == 2) {
            if (word(h, "True"))
                h->fortran = 1;
            else if (!word(h, "False"))
                return hbad(h, "expected True or False");
        } else if ((rc = shape(h))) {
            return rc;
        }
        if (!eat(h, ',')) {
            if (!eat(h, '}'))
                return hbad(h, "expected ',' or '}'");
            break;
        }
    }
    ws(h);
    if (h->p != h->end)
        return hbad(h, "unexpected text after the dict");
    if (h->seen != 7)
        return hidp__fail(h->err, HIDP_EFORMAT, "%s: .npy header lacks %s", h->src,
                          !(h->seen & 1) ? "'descr'" : !(h->seen & 2) ? "'fortran_order'"
                                                                       : "'shape'");
    return 0;
}

/* Checks magic, version and header; *data_off is where the data starts. */
static int parse_header(const uint8_t *buf, size_t size, hdr *h, size_t *data_off)
{
    if (size < 10 || memcmp(buf, "\x93NUMPY", 6) != 0)
        return hidp__fail(h->err, HIDP_EFORMAT, "%s: not a .npy file (%s)", h->src,
                          size < 10 && (size < 6 || !memcmp(buf, "\x93NUMPY", 6))
                              ? "too short" : "bad magic");
    int major = buf[6], minor = buf[7];
    size_t off = major == 1 ? 10 : 12, hlen;
    if (major < 1 || major > 3)
        return hidp__fail(h->err, HIDP_EFORMAT, "%s: .npy version %d.%d not supported", h->src,
                          major, minor);
    if (size < off)
        return hidp__fail(h->err, HIDP_EFORMAT, "%s: truncated .npy header", h->src);
    hlen = major == 1 ? (size_t)(buf[8] | buf[9] << 8) : (size_t)hidp__le32(buf + 8);
    if (hlen > HIDP__NPY_MAX_HEADER)
        return hidp__fail(h->err, HIDP_EFORMAT, "%s: .npy header length %zu too large", h->src,
                          hlen);
    if (hlen > size - off)
        return hidp__fail(h->err, HIDP_EFORMAT,
                          "%s: .npy header length %zu runs past the end of the file (%zu bytes)",
                          h->src, hlen, size);
    h->p = h->start = (const char *)buf + off;
    h->end = h->p + hlen;
    int rc = dict(h);
    if (rc)
        return rc;
    int big = 0;
    for (int i = 0; i < h->ndim; i++)
        big += h->dims[i] > 1;
    /* One layout is the other when at most one dim is longer than 1. */
    if (h->fortran && big > 1)
        return hidp__fail(h->err, HIDP_EFORMAT,
                          "%s: fortran_order True not supported; save the array in C order",
                          h->src);
    *data_off = off + hlen;
    return 0;
}

int hidp__npy_parse(const void *buf, size_t size, const char *source, hidp_array *out,
                    hidp__err *err)
{
    hdr h;
    size_t off = 0;
    memset(out, 0, sizeof *out);
    memset(&h, 0, sizeof h);
    h.src = source ? source : "<memory>";
    h.err = err;
    int rc = parse_header(buf, size, &h, &off);
    if (rc)
        return rc;
    uint64_t count = 1;
    for (int i = 0; i < h.ndim; i++) {
        if (h.dims[i] && count > (SIZE_MAX / 4) / (uint64_t)h.dims[i])
            return hidp__fail(err, HIDP_EFORMAT, "%s: shape too large", h.src);
        count *= (uint64_t)h.dims[i];
    }
    size_t want = (size_t)count * 4, have = size - off;
    if (have != want)
        return hidp__fail(err, HIDP_EFORMAT, "%s: %s: %zu data bytes, the shape needs %zu",
                          h.src, have < want ? "truncated" : "trailing bytes after the data",
                          have, want);
    float *data = malloc(want ? want : 4);
    if (!data)
        return hidp__fail(err, HIDP_ENOMEM, "%s: out of memory (%zu bytes)", h.src, want);
    const uint8_t *p = (const uint8_t *)buf + off;
    for (size_t i = 0; i < (size_t)count; i++) {
        uint32_t u = hidp__le32(p + 4 * i);
        memcpy(&data[i], &u, 4);
    }
    out->ndim = h.ndim;
    for (int i = 0; i < h.ndim; i++)
        out->dims[i] = h.dims[i];
    out->data = data;
    return 0;
}

int hidp__npy_load(const char *path, hidp_array *out, hidp__err *err)
{
    void *buf;
    size_t size;
    memset(out, 0, sizeof *out);
    int rc = hidp__read_file(path, SIZE_MAX / 2, &buf, &size, err);
    if (rc)
        return rc;
    rc = hidp__npy_parse(buf, size, path, out, err);
    free(buf);
    return rc;
}

int hidp__npy_save(const char *path, const float *data, const int64_t *dims, int32_t ndim,
                   hidp__err *err)
{
    char head[512];
    uint64_t count = 1;
    if (!path || ndim < 0 || ndim > HIDP_MAX_DIMS || (ndim > 0 && !dims))
        return hidp__fail(err, HIDP_EINVAL, "%s: cannot save: bad arguments (ndim %d)",
                          path ? path : "(null)", (int)ndim);
    int n = snprintf(head, sizeof head, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0 || (dims[i] && count > (SIZE_MAX / 4) / (uint64_t)dims[i]))
            return hidp__fail(err, HIDP_EINVAL, "%s: cannot save: bad dim %lld", path,
                              (long long)dims[i]);
        count *= (uint64_t)dims[i];
        n += snprintf(head + n, sizeof head - (size_t)n, ndim == 1 ? "%lld," : i ? ", %lld"
                                                                             : "%lld",
                      (long long)dims[i]);
    }
    if (count > 0 && !data)
        return hidp__fail(err, HIDP_EINVAL, "%s: cannot save: no data", path);
    n += snprintf(head + n, sizeof head - (size_t)n, "), }");
    /* numpy pads so that the data starts on a 64-byte boundary, ending the header with '\n'. */
    size_t hlen = (size_t)n + 1, pad = (64 - (10 + hlen) % 64) % 64, total;
    hlen += pad;
    total = 10 + hlen + (size_t)count * 4;
    uint8_t *file = malloc(total);
    if (!file)
        return hidp__fail(err, HIDP_ENOMEM, "%s: out of memory", path);
    memcpy(file, "\x93NUMPY\x01\x00", 8);
    file[8] = (uint8_t)hlen;
    file[9] = (uint8_t)(hlen >> 8);
    memcpy(file + 10, head, (size_t)n);
    memset(file + 10 + n, ' ', pad);
    file[10 + hlen - 1] = '\n';
    for (size_t i = 0; i < (size_t)count; i++) {
        uint32_t u;
        memcpy(&u, &data[i], 4);
        hidp__put_le32(file + 10 + hlen + 4 * i, u);
    }
    int rc = hidp__write_file_atomic(path, file, total, err);
    free(file);
    return rc;
}

/* ---- Whole files ---- */

int hidp__map_file(const char *path, size_t max, const void **data, size_t *size,
                   hidp__err *err)
{
    struct stat st;
    *data = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 1; /* hidp__read_file says why */
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
        close(fd);
        return 1;
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return hidp__fail(err, HIDP_EFORMAT, "%s: %lld bytes, more than the %zu this reader takes",
                          path, (long long)st.st_size, max);
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return 1;
    *data = p;
    *size = (size_t)st.st_size;
    return 0;
}

void hidp__unmap_file(const void *data, size_t size)
{
    if (data)
        munmap((void *)data, size);
}

void hidp__release_pages(const void *p, size_t n)
{
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    const uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1);
    const uintptr_t hi = ((uintptr_t)p + n) & ~(page - 1);
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_DONTNEED); /* best effort */
}

int hidp__read_file(const char *path, size_t max, void **data, size_t *size, hidp__err *err)
{
    int rc = 0;
    uint8_t *buf = NULL;
    size_t len = 0, cap;
    struct stat st;
    *data = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hidp__fail(err, HIDP_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0) {
        rc = hidp__fail(err, HIDP_EIO, "%s: cannot read: %s", path, strerror(errno));
        goto done;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = hidp__fail(err, HIDP_EIO, "%s: cannot read: is a directory", path);
        goto done;
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max)
        goto too_big;
    /* A regular file is read in one go (one byte more to see its end); a pipe grows the
     * buffer up to the limit. */
    cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536;
    for (;;) {
        if (!buf || len == cap) {
            if (buf && len > max)
                goto too_big;
            if (buf)
                cap = cap > max / 2 ? max + 1 : cap * 2;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                rc = hidp__fail(err, HIDP_ENOMEM, "%s: out of memory reading it", path);
                goto done;
            }
            buf = nb;
        }
        ssize_t got = read(fd, buf + len, cap - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = hidp__fail(err, HIDP_EIO, "%s: cannot read: %s", path, strerror(errno));
            goto done;
        }
        if (got == 0)
            break;
        len += (size_t)got;
    }
    if (len > max)
        goto too_big;
    *data = buf;
    *size = len;
    buf = NULL;
    goto done;
too_big:
    rc = hidp__fail(err, HIDP_EFORMAT, "%s: file too large (over %zu bytes)", path, max);
done:
    free(buf);
    close(fd);
    return rc;
}

int hidp__write_file_atomic(const char *path, const void *data, size_t size, hidp__err *err)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 48);
    int fd = -1, rc = 0;
    if (!tmp)
        return hidp__fail(err, HIDP_ENOMEM, "%s: out of memory", path);
    /* A name of our own next to the target (rename works only within one file system). */
    for (int i = 0; i < 100; i++) {
        snprintf(tmp, plen + 48, "%s.tmp%ld.%d", path, (long)getpid(), i);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            break;
    }
    if (fd < 0) {
        rc = hidp__fail(err, HIDP_EIO, "%s: cannot write: %s", path, strerror(errno));
        free(tmp);
        return rc;
    }
    const uint8_t *p = data;
    size_t left = size;
    while (left > 0) {
        ssize_t put = write(fd, p, left);
        if (put < 0 && errno == EINTR)
            continue;
        if (put <= 0) {
            rc = hidp__fail(err, HIDP_EIO, "%s: cannot write: %s", path,
                            put < 0 ? strerror(errno) : "no progress");
            break;
        }
        p += put;
        left -= (size_t)put;
    }
    /* Flush before the rename, so a crash leaves the old file or the new one, not a hole. */
    if (!rc && fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
        rc = hidp__fail(err, HIDP_EIO, "%s: cannot write: %s", path, strerror(errno));
    if (close(fd) != 0 && !rc)
        rc = hidp__fail(err, HIDP_EIO, "%s: cannot write: %s", path, strerror(errno));
    if (!rc && rename(tmp, path) != 0)
        rc = hidp__fail(err, HIDP_EIO, "%s: cannot write: %s", path, strerror(errno));
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
}
