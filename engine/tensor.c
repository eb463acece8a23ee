/*
 * tensor.c - shape arithmetic.
 */
#include <stdio.h>
#include <string.h>

#include "tensor.h"

int64_t hidp__shape_count(const hidp__shape *s)
{
    int64_t n = 1;
    for (int i = 0; i < s->ndim; i++) {
        if (s->d[i] < 0)
            return -1;
        if (s->d[i] != 0 && n > INT64_MAX / s->d[i])
            return -1;
        n *= s->d[i];
    }
    return n;
}

int hidp__shape_equal(const hidp__shape *a, const hidp__shape *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->d[i] != b->d[i])
            return 0;
    return 1;
}

hidp__view4 hidp__shape_view4(const hidp__shape *s)
{
    hidp__view4 v = {1, 1, 1, 1};
    if (s->ndim == 1) {
        v.c = s->d[0];
        return v;
    }
    if (s->ndim >= 1)
        v.n = s->d[0];
    if (s->ndim >= 2)
        v.c = s->d[1];
    if (s->ndim >= 3)
        v.h = s->d[2];
    for (int i = 3; i < s->ndim; i++)
        v.w *= s->d[i];
    return v;
}

char *hidp__shape_format(const hidp__shape *s, char *buf, size_t len)
{
    size_t at = 0;
    if (len == 0)
        return buf;
    buf[0] = '\0';
    if (s->ndim == 0) {
        snprintf(buf, len, "scalar");
        return buf;
    }
    for (int i = 0; i < s->ndim && at < len; i++) {
        int w = snprintf(buf + at, len - at, i ? "x%lld" : "%lld", (long long)s->d[i]);
        if (w < 0)
            break;
        at += (size_t)w;
    }
    return buf;
}

hidp__shape hidp__shape_make(int ndim, const int64_t *dims)
{
    hidp__shape s;
    memset(&s, 0, sizeof s);
    s.ndim = ndim;
    for (int i = 0; i < ndim && i < HIDP_MAX_DIMS; i++)
        s.d[i] = dims[i];
    return s;
}
