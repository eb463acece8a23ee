/*
 * pb.c - bounded protobuf wire-format reader and growable writer (see pb.h).
 */
#include <stdlib.h>
#include <string.h>

#include "pb.h"

const char *hidp__pb_strerror(int code)
{
    switch (code) {
    case HIDP__PB_ETRUNC: return "truncated";
    case HIDP__PB_EVARINT: return "varint longer than 64 bits";
    case HIDP__PB_EWIRE: return "invalid wire type";
    case HIDP__PB_EFIELD: return "invalid field number";
    case HIDP__PB_ELEN: return "length past the end of the data";
    case HIDP__PB_EPACKED: return "packed array of partial elements";
    case HIDP__PB_ETYPE: return "field has the wrong wire type";
    case HIDP__PB_ENUL: return "string contains a NUL byte";
    case HIDP__PB_ENOMEM: return "out of memory";
    }
    return "malformed protobuf";
}

int hidp__pb_varint(hidp__pb *c, uint64_t *v)
{
    uint64_t r = 0;
    for (int i = 0; i < 10; i++) {
        if (c->p >= c->end)
            return HIDP__PB_ETRUNC;
        uint8_t b = *c->p++;
        /* The tenth byte holds bit 63 only. */
        if (i == 9 && b > 1)
            return HIDP__PB_EVARINT;
        r |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return HIDP__PB_EVARINT;
}

int hidp__pb_tag(hidp__pb *c, uint32_t *field, int *wire)
{
    uint64_t key;
    int rc = hidp__pb_varint(c, &key);
    if (rc)
        return rc;
    int w = (int)(key & 7);
    if (w != HIDP__PB_VARINT && w != HIDP__PB_I64 && w != HIDP__PB_LEN && w != HIDP__PB_I32)
        return HIDP__PB_EWIRE;
    if ((key >> 3) == 0 || (key >> 3) > 0x1fffffff)
        return HIDP__PB_EFIELD;
    *field = (uint32_t)(key >> 3);
    *wire = w;
    return 0;
}

int hidp__pb_len(hidp__pb *c, hidp__pb *sub)
{
    uint64_t n;
    int rc = hidp__pb_varint(c, &n);
    if (rc)
        return rc;
    if (n > (uint64_t)(c->end - c->p))
        return HIDP__PB_ELEN;
    sub->p = c->p;
    sub->end = c->p + n;
    c->p += n;
    return 0;
}

int hidp__pb_fixed32(hidp__pb *c, uint32_t *v)
{
    if (c->end - c->p < 4)
        return HIDP__PB_ETRUNC;
    *v = hidp__le32(c->p);
    c->p += 4;
    return 0;
}

int hidp__pb_fixed64(hidp__pb *c, uint64_t *v)
{
    if (c->end - c->p < 8)
        return HIDP__PB_ETRUNC;
    *v = hidp__le64(c->p);
    c->p += 8;
    return 0;
}

int hidp__pb_skip(hidp__pb *c, int wire)
{
    uint64_t v;
    uint32_t v32;
    hidp__pb sub;
    switch (wire) {
    case HIDP__PB_VARINT: return hidp__pb_varint(c, &v);
    case HIDP__PB_I64: return hidp__pb_fixed64(c, &v);
    case HIDP__PB_LEN: return hidp__pb_len(c, &sub);
    case HIDP__PB_I32: return hidp__pb_fixed32(c, &v32);
    }
    return HIDP__PB_EWIRE;
}

int hidp__pb_get_msg(hidp__pb *c, int wire, hidp__pb *sub)
{
    int rc = hidp__pb_want(wire, HIDP__PB_LEN);
    return rc ? rc : hidp__pb_len(c, sub);
}

int hidp__pb_get_int(hidp__pb *c, int wire, int64_t *v)
{
    uint64_t u;
    int rc = hidp__pb_want(wire, HIDP__PB_VARINT);
    if (!rc)
        rc = hidp__pb_varint(c, &u);
    if (!rc)
        *v = (int64_t)u;
    return rc;
}

static float f32_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static double f64_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

int hidp__pb_get_float(hidp__pb *c, int wire, float *v)
{
    uint32_t u;
    int rc = hidp__pb_want(wire, HIDP__PB_I32);
    if (!rc)
        rc = hidp__pb_fixed32(c, &u);
    if (!rc)
        *v = f32_bits(u);
    return rc;
}

int hidp__pb_get_string(hidp__pb *c, int wire, char **out)
{
    hidp__pb s;
    int rc = hidp__pb_want(wire, HIDP__PB_LEN);
    if (!rc)
        rc = hidp__pb_len(c, &s);
    if (rc)
        return rc;
    size_t n = (size_t)(s.end - s.p);
    if (n && memchr(s.p, 0, n))
        return HIDP__PB_ENUL;
    char *str = malloc(n + 1);
    if (!str)
        return HIDP__PB_ENOMEM;
    if (n)
        memcpy(str, s.p, n);
    str[n] = '\0';
    free(*out);
    *out = str;
    return 0;
}

/* Makes room for k more elements of size esz; k is bounded by the bytes left in the file. */
static int grow(void **v, size_t *cap, size_t n, size_t k, size_t esz)
{
    if (n + k <= *cap)
        return 0;
    size_t want = *cap ? *cap : 16;
    while (want < n + k)
        want *= 2;
    if (want > SIZE_MAX / esz)
        return HIDP__PB_ENOMEM;
    void *nv = realloc(*v, want * esz);
    if (!nv)
        return HIDP__PB_ENOMEM;
    *v = nv;
    *cap = want;
    return 0;
}

int hidp__pb_add_varints(hidp__pb *c, int wire, hidp__pb_i64s *out)
{
    uint64_t u;
    int rc;
    if (wire == HIDP__PB_VARINT) {
        if ((rc = hidp__pb_varint(c, &u)) || (rc = grow((void **)&out->v, &out->cap, out->n, 1,
                                                         sizeof *out->v)))
            return rc;
        out->v[out->n++] = (int64_t)u;
        return 0;
    }
    if (wire != HIDP__PB_LEN)
        return HIDP__PB_ETYPE;
    hidp__pb run;
    if ((rc = hidp__pb_len(c, &run)))
        return rc;
    /* Count the values first (one byte without the continuation bit ends each). */
    size_t k = 0;
    for (const uint8_t *q = run.p; q < run.end; q++)
        k += !(*q & 0x80);
    if ((rc = grow((void **)&out->v, &out->cap, out->n, k, sizeof *out->v)))
        return rc;
    while (hidp__pb_more(&run)) {
        if ((rc = hidp__pb_varint(&run, &u)))
            return rc == HIDP__PB_ETRUNC ? HIDP__PB_EPACKED : rc;
        out->v[out->n++] = (int64_t)u;
    }
    return 0;
}

int hidp__pb_add_floats(hidp__pb *c, int wire, hidp__pb_f32s *out)
{
    int rc;
    hidp__pb run;
    if (wire == HIDP__PB_I32) {
        run.p = c->p;
        if ((rc = hidp__pb_fixed32(c, &(uint32_t){0})))
            return rc;
        run.end = c->p;
    } else if (wire == HIDP__PB_LEN) {
        if ((rc = hidp__pb_len(c, &run)))
            return rc;
        if ((run.end - run.p) % 4)
            return HIDP__PB_EPACKED;
    } else {
        return HIDP__PB_ETYPE;
    }
    size_t k = (size_t)(run.end - run.p) / 4;
    if ((rc = grow((void **)&out->v, &out->cap, out->n, k, sizeof *out->v)))
        return rc;
    for (size_t i = 0; i < k; i++)
        out->v[out->n++] = f32_bits(hidp__le32(run.p + 4 * i));
    return 0;
}

int hidp__pb_add_doubles(hidp__pb *c, int wire, hidp__pb_f64s *out)
{
    int rc;
    hidp__pb run;
    if (wire == HIDP__PB_I64) {
        run.p = c->p;
        if ((rc = hidp__pb_fixed64(c, &(uint64_t){0})))
            return rc;
        run.end = c->p;
    } else if (wire == HIDP__PB_LEN) {
        if ((rc = hidp__pb_len(c, &run)))
            return rc;
        if ((run.end - run.p) % 8)
            return HIDP__PB_EPACKED;
    } else {
        return HIDP__PB_ETYPE;
    }
    size_t k = (size_t)(run.end - run.p) / 8;
    if ((rc = grow((void **)&out->v, &out->cap, out->n, k, sizeof *out->v)))
        return rc;
    for (size_t i = 0; i < k; i++)
        out->v[out->n++] = f64_bits(hidp__le64(run.p + 8 * i));
    return 0;
}

/* ---- Writer ---- */

void hidp__pbw_free(hidp__pbw *w)
{
    free(w->buf);
    memset(w, 0, sizeof *w);
}

uint8_t *hidp__pbw_reserve(hidp__pbw *w, size_t n)
{
    if (w->failed)
        return NULL;
    if (n > SIZE_MAX / 2 - w->len) {
        w->failed = 1;
        return NULL;
    }
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n)
            cap *= 2;
        uint8_t *nb = realloc(w->buf, cap);
        if (!nb) {
            w->failed = 1;
            return NULL;
        }
        w->buf = nb;
        w->cap = cap;
    }
    uint8_t *at = w->buf + w->len;
    w->len += n;
    return at;
}

static size_t varint_encode(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        out[n++] = b | (v ? 0x80 : 0);
    } while (v);
    return n;
}

void hidp__pbw_varint(hidp__pbw *w, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = varint_encode(tmp, v);
    uint8_t *at = hidp__pbw_reserve(w, n);
    if (at)
        memcpy(at, tmp, n);
}

void hidp__pbw_tag(hidp__pbw *w, uint32_t field, int wire)
{
    hidp__pbw_varint(w, (uint64_t)field << 3 | (uint64_t)wire);
}

void hidp__pbw_int(hidp__pbw *w, uint32_t field, int64_t v)
{
    hidp__pbw_tag(w, field, HIDP__PB_VARINT);
    hidp__pbw_varint(w, (uint64_t)v);
}

void hidp__pbw_float(hidp__pbw *w, uint32_t field, float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    hidp__pbw_tag(w, field, HIDP__PB_I32);
    uint8_t *at = hidp__pbw_reserve(w, 4);
    if (at)
        hidp__put_le32(at, u);
}

void hidp__pbw_bytes(hidp__pbw *w, uint32_t field, const void *data, size_t n)
{
    hidp__pbw_tag(w, field, HIDP__PB_LEN);
    hidp__pbw_varint(w, n);
    uint8_t *at = hidp__pbw_reserve(w, n);
    if (at && n)
        memcpy(at, data, n);
}

void hidp__pbw_string(hidp__pbw *w, uint32_t field, const char *s)
{
    hidp__pbw_bytes(w, field, s, strlen(s));
}

void hidp__pbw_packed_int64(hidp__pbw *w, uint32_t field, const int64_t *v, size_t n)
{
    size_t mark = hidp__pbw_begin(w, field);
    for (size_t i = 0; i < n; i++)
        hidp__pbw_varint(w, (uint64_t)v[i]);
    hidp__pbw_end(w, mark);
}

void hidp__pbw_packed_float(hidp__pbw *w, uint32_t field, const float *v, size_t n)
{
    hidp__pbw_tag(w, field, HIDP__PB_LEN);
    hidp__pbw_varint(w, (uint64_t)n * 4);
    uint8_t *at = n ? hidp__pbw_reserve(w, n * 4) : NULL;
    for (size_t i = 0; at && i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], sizeof u);
        hidp__put_le32(at + 4 * i, u);
    }
}

size_t hidp__pbw_begin(hidp__pbw *w, uint32_t field)
{
    hidp__pbw_tag(w, field, HIDP__PB_LEN);
    return w->len;
}

void hidp__pbw_end(hidp__pbw *w, size_t mark)
{
    if (w->failed)
        return;
    /* The length goes before the content, which is moved up to make room. Each message's
     * content moves once per enclosing level: a handful of levels in ONNX. */
    size_t body = w->len - mark;
    uint8_t tmp[10];
    size_t k = varint_encode(tmp, body);
    if (!hidp__pbw_reserve(w, k))
        return;
    memmove(w->buf + mark + k, w->buf + mark, body);
    memcpy(w->buf + mark, tmp, k);
}
