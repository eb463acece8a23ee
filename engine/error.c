/*
 * error.c - hidp__fail and hidp_strerror.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

int hidp__fail(hidp__err *e, int code, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof e->msg, fmt, ap);
        va_end(ap);
        e->code = code;
    }
    return code;
}

void hidp__err_clear(hidp__err *e)
{
    e->code = 0;
    e->msg[0] = '\0';
}

const char *hidp_strerror(int code)
{
    switch (code) {
    case HIDP_OK: return "success";
    case HIDP_EINVAL: return "invalid argument";
    case HIDP_ENOMEM: return "out of memory";
    case HIDP_EIO: return "input/output error";
    case HIDP_EFORMAT: return "malformed file";
    case HIDP_EUNSUPPORTED: return "unsupported feature";
    case HIDP_ESHAPE: return "shape mismatch";
    case HIDP_ESTATE: return "call out of order";
    case HIDP_ESYSTEM: return "system error";
    }
    return "unknown error";
}
