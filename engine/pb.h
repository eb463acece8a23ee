/*
 * pb.h - the protobuf wire format, read with bounds checks and written into a growable buffer.
 *
 * ONNX files are protobuf messages. hidp reads them without a protobuf library: a cursor walks
 * the bytes, and every length taken from the file is checked against the bytes that remain
 * before anything is read or allocated, so a corrupted or hostile file can only make a read
 * fail, never run past the buffer. The writer serves onnx_write.c.
 */
#ifndef HIDP_PB_H
#define HIDP_PB_H

#include <stddef.h>
#include <stdint.h>

/* Wire types. 3 and 4 (groups) are not used by ONNX and are refused, as are 6 and 7. */
enum { HIDP__PB_VARINT = 0, HIDP__PB_I64 = 1, HIDP__PB_LEN = 2, HIDP__PB_I32 = 5 };

/* Reader failures (negative); hidp__pb_strerror says what each means. */
enum {
    HIDP__PB_ETRUNC = -1,  /* a value runs past the end */
    HIDP__PB_EVARINT = -2, /* a varint longer than 10 bytes or wider than 64 bits */
    HIDP__PB_EWIRE = -3,   /* wire type 3, 4, 6 or 7 */
    HIDP__PB_EFIELD = -4,  /* field number 0 or above 2^29-1 */
    HIDP__PB_ELEN = -5,    /* a length past the end of the enclosing message */
    HIDP__PB_EPACKED = -6, /* a packed run that is not a whole number of elements */
    HIDP__PB_ETYPE = -7,   /* a known field with the wrong wire type */
    HIDP__PB_ENUL = -8,    /* a string with a NUL byte inside */
    HIDP__PB_ENOMEM = -9   /* out of memory */
};

/* A read cursor over [p, end). */
typedef struct hidp__pb {
    const uint8_t *p, *end;
} hidp__pb;

static inline hidp__pb hidp__pb_make(const void *data, size_t size)
{
    hidp__pb c;
    c.p = (const uint8_t *)data;
    c.end = c.p + size;
    return c;
}

static inline int hidp__pb_more(const hidp__pb *c)
{
    return c->p < c->end;
}

const char *hidp__pb_strerror(int code);

/* Each reader returns 0 or a HIDP__PB_E* code; on failure the cursor position is unspecified. */
int hidp__pb_varint(hidp__pb *c, uint64_t *v);
/* A field key: field number (1 .. 2^29-1) and wire type (0, 1, 2 or 5). */
int hidp__pb_tag(hidp__pb *c, uint32_t *field, int *wire);
/* A length-delimited value: *sub covers its bytes and c moves past them. */
int hidp__pb_len(hidp__pb *c, hidp__pb *sub);
int hidp__pb_fixed32(hidp__pb *c, uint32_t *v);
int hidp__pb_fixed64(hidp__pb *c, uint64_t *v);
/* Skips one value of the given wire type (an unknown field). */
int hidp__pb_skip(hidp__pb *c, int wire);

/* Checks that a field has wire type want (HIDP__PB_ETYPE otherwise). */
static inline int hidp__pb_want(int wire, int want)
{
    return wire == want ? 0 : HIDP__PB_ETYPE;
}

/* Fields with their wire type checked: a nested message (*sub covers it), scalars. */
int hidp__pb_get_msg(hidp__pb *c, int wire, hidp__pb *sub);
int hidp__pb_get_int(hidp__pb *c, int wire, int64_t *v);
int hidp__pb_get_float(hidp__pb *c, int wire, float *v);
/* A string field copied NUL-terminated into *out (malloc'd, caller frees; a previous *out is
 * freed, so a repeated field keeps its last value). Refuses a NUL byte inside. */
int hidp__pb_get_string(hidp__pb *c, int wire, char **out);

/* Growable arrays for repeated fields. Each element in the file takes at least one byte, so
 * their size is bounded by the file's. Free v with free(). */
typedef struct hidp__pb_i64s {
    int64_t *v;
    size_t n, cap;
} hidp__pb_i64s;
typedef struct hidp__pb_f32s {
    float *v;
    size_t n, cap;
} hidp__pb_f32s;
typedef struct hidp__pb_f64s {
    double *v;
    size_t n, cap;
} hidp__pb_f64s;

/* Appends one occurrence of a repeated field: a single value, or a packed run (wire type LEN).
 * Varints are taken as two's complement int64 (int32 and uint64 fields fit). */
int hidp__pb_add_varints(hidp__pb *c, int wire, hidp__pb_i64s *out);
int hidp__pb_add_floats(hidp__pb *c, int wire, hidp__pb_f32s *out);
int hidp__pb_add_doubles(hidp__pb *c, int wire, hidp__pb_f64s *out);

/* ---- Writer ---- */

/* A growable output buffer. Writes after a failed allocation are dropped and `failed` stays
 * set, so a writer checks once at the end. */
typedef struct hidp__pbw {
    uint8_t *buf;
    size_t len, cap;
    int failed;
} hidp__pbw;

void hidp__pbw_free(hidp__pbw *w);
/* Appends n bytes and returns where they go (NULL after a failure). */
uint8_t *hidp__pbw_reserve(hidp__pbw *w, size_t n);
void hidp__pbw_varint(hidp__pbw *w, uint64_t v);
void hidp__pbw_tag(hidp__pbw *w, uint32_t field, int wire);
void hidp__pbw_int(hidp__pbw *w, uint32_t field, int64_t v);
void hidp__pbw_float(hidp__pbw *w, uint32_t field, float v);
void hidp__pbw_bytes(hidp__pbw *w, uint32_t field, const void *data, size_t n);
void hidp__pbw_string(hidp__pbw *w, uint32_t field, const char *s);
void hidp__pbw_packed_int64(hidp__pbw *w, uint32_t field, const int64_t *v, size_t n);
void hidp__pbw_packed_float(hidp__pbw *w, uint32_t field, const float *v, size_t n);
/* A nested message: begin writes the key and returns a mark; end inserts the length of what
 * was written since. Nest freely; end in reverse order. */
size_t hidp__pbw_begin(hidp__pbw *w, uint32_t field);
void hidp__pbw_end(hidp__pbw *w, size_t mark);

/* Little-endian loads and stores (files are little-endian whatever the host is). */
static inline uint32_t hidp__le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t hidp__le64(const uint8_t *p)
{
    return (uint64_t)hidp__le32(p) | (uint64_t)hidp__le32(p + 4) << 32;
}
static inline void hidp__put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static inline void hidp__put_le64(uint8_t *p, uint64_t v)
{
    hidp__put_le32(p, (uint32_t)v);
    hidp__put_le32(p + 4, (uint32_t)(v >> 32));
}

#endif
