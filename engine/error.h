/*
 * error.h - internal error reporting: a code plus a message that names what failed and where.
 */
#ifndef HIDP_ERROR_H
#define HIDP_ERROR_H

#include "hidp.h"

#define HIDP__ERRLEN 512

typedef struct hidp__err {
    int code;
    char msg[HIDP__ERRLEN];
} hidp__err;

#if defined(__GNUC__)
#define HIDP__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define HIDP__PRINTF(a, b)
#endif

/* Records code and a printf-style message in *e (e may be NULL) and returns code, so callers
 * write `return hidp__fail(err, HIDP_EFORMAT, "conv '%s': ...", name);`. A message already
 * recorded is kept when the new one would only repeat the failure further up the stack: use
 * hidp__fail only where the failure is first detected. */
int hidp__fail(hidp__err *e, int code, const char *fmt, ...) HIDP__PRINTF(3, 4);

/* Clears *e. */
void hidp__err_clear(hidp__err *e);

#endif
