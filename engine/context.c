/*
 * context.c - the context (threads, log callback, last error), the version string and the
 * public .npy wrappers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
#include <cblas.h>
#endif

#include "model.h"
#include "../sched/topo.h"
#include "npy.h"

#define HIDP__STR2(x) #x
#define HIDP__STR(x) HIDP__STR2(x)

const char *hidp_version(void)
{
    return HIDP__STR(HIDP_VERSION_MAJOR) "." HIDP__STR(HIDP_VERSION_MINOR) "." HIDP__STR(
        HIDP_VERSION_PATCH);
}

int hidp_context_create(hidp_context **out, uint32_t flags)
{
    if (!out)
        return HIDP_EINVAL;
    *out = NULL;
    if (flags != 0)
        return HIDP_EINVAL;
    hidp_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return HIDP_ENOMEM;
    ctx->threads = 1;
    ctx->log_level = HIDP_LOG_ERROR;
#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
    /* hidp's own workers split each layer; an OpenBLAS pool underneath would put two threads
     * on every core. */
    openblas_set_num_threads(1);
#endif
    *out = ctx;
    return 0;
}

void hidp_context_destroy(hidp_context *ctx)
{
    if (!ctx)
        return;
    if (ctx->topo) {
        hidp__topo_destroy(ctx->topo);
        free(ctx->topo);
    }
    free(ctx->cores);
    free(ctx);
}

int hidp_context_set_cores(hidp_context *ctx, const char *cores)
{
    if (!ctx)
        return HIDP_EINVAL;
    char *copy = NULL;
    if (cores && !(copy = strdup(cores)))
        return hidp__ctx_fail(ctx, HIDP_ENOMEM, "out of memory");
    free(ctx->cores);
    ctx->cores = copy;
    return 0;
}

int hidp_context_set_tuning(hidp_context *ctx, int on)
{
    if (!ctx)
        return HIDP_EINVAL;
    ctx->no_tuning = on == HIDP_TUNE_OFF;
    ctx->fixed_plan = on == HIDP_TUNE_FIXED;
    return 0;
}

int hidp_context_set_take_back(hidp_context *ctx, int on)
{
    if (!ctx)
        return HIDP_EINVAL;
    ctx->no_take_back = !on;
    return 0;
}

int hidp_context_set_stripes(hidp_context *ctx, int on)
{
    if (!ctx)
        return HIDP_EINVAL;
    ctx->no_stripes = !on;
    return 0;
}

int hidp_context_set_split(hidp_context *ctx, int split)
{
    if (!ctx)
        return HIDP_EINVAL;
    if (split != HIDP_SPLIT_CALIBRATED && split != HIDP_SPLIT_EQUAL)
        return hidp__ctx_fail(ctx, HIDP_EINVAL, "split must be HIDP_SPLIT_CALIBRATED or "
                              "HIDP_SPLIT_EQUAL, got %d", split);
    ctx->split = split;
    return 0;
}

const char *hidp_context_last_error(const hidp_context *ctx)
{
    return ctx ? ctx->err.msg : "";
}

void hidp_context_set_log(hidp_context *ctx, hidp_log_fn fn, void *user, int max_level)
{
    if (!ctx)
        return;
    ctx->log = fn;
    ctx->log_user = user;
    ctx->log_level = max_level;
}

int hidp_context_set_threads(hidp_context *ctx, int threads)
{
    if (!ctx)
        return HIDP_EINVAL;
    if (threads < 1 || threads > 256)
        return hidp__ctx_fail(ctx, HIDP_EINVAL, "threads must be between 1 and 256, got %d",
                              threads);
    ctx->threads = threads;
    return 0;
}

/* A log line's longest: the tuner's verdict lists every whole-run candidate and its median,
 * about 1 KB with the executor's stripes (an error message's 512 bytes cut it short). */
#define LOG_LINE_MAX 4096

static void vlog(hidp_context *ctx, int level, const char *fmt, va_list ap)
{
    char buf[LOG_LINE_MAX];
    if (!ctx || !ctx->log || level > ctx->log_level)
        return;
    vsnprintf(buf, sizeof buf, fmt, ap);
    ctx->log(ctx->log_user, level, buf);
}

void hidp__log(hidp_context *ctx, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(ctx, level, fmt, ap);
    va_end(ap);
}

int hidp__ctx_error(hidp_context *ctx, int code, const hidp__err *e)
{
    if (!ctx)
        return code;
    if (e->msg[0])
        return hidp__ctx_fail(ctx, code, "%s", e->msg);
    return hidp__ctx_fail(ctx, code, "%s", hidp_strerror(code));
}

int hidp__ctx_fail(hidp_context *ctx, int code, const char *fmt, ...)
{
    if (!ctx)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err.msg, sizeof ctx->err.msg, fmt, ap);
    va_end(ap);
    ctx->err.code = code;
    hidp__log(ctx, HIDP_LOG_ERROR, "%s", ctx->err.msg);
    return code;
}

int hidp_npy_load(hidp_context *ctx, const char *path, hidp_array *out)
{
    hidp__err err = {0, ""};
    if (!path || !out)
        return hidp__ctx_fail(ctx, HIDP_EINVAL, "hidp_npy_load: path and out must not be NULL");
    int rc = hidp__npy_load(path, out, &err);
    return rc ? hidp__ctx_error(ctx, rc, &err) : 0;
}

int hidp_npy_save(hidp_context *ctx, const char *path, const float *data, const int64_t *dims,
                  int32_t ndim)
{
    hidp__err err = {0, ""};
    if (!path || !data || (!dims && ndim > 0) || ndim < 0 || ndim > HIDP_MAX_DIMS)
        return hidp__ctx_fail(ctx, HIDP_EINVAL, "hidp_npy_save: bad arguments (path %s, "
                              "ndim %d)", path ? path : "NULL", (int)ndim);
    int rc = hidp__npy_save(path, data, dims, ndim, &err);
    return rc ? hidp__ctx_error(ctx, rc, &err) : 0;
}
