/*
 * tap.h - a tiny TAP producer for the test programs (read by automake's tap-driver.sh).
 *
 * Every check prints one "ok N - what" or "not ok N - what" line; failed checks print both
 * values, file and line as TAP diagnostics. tap_skip() records a case that could not run here
 * and says why. tap_done() prints the plan and returns the exit status for main().
 */
#ifndef HIDP_TAP_H
#define HIDP_TAP_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap__n, tap__failed;

static void tap__line(int ok, const char *fmt, va_list ap)
{
    printf("%s %d - ", ok ? "ok" : "not ok", ++tap__n);
    vprintf(fmt, ap);
    printf("\n");
    if (!ok)
        tap__failed++;
    fflush(stdout);
}

/* Records a check; returns cond so callers can stop on failure. */
static inline int tap_ok(int cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tap__line(cond != 0, fmt, ap);
    va_end(ap);
    return cond != 0;
}

static inline void tap_skip(const char *why, const char *fmt, ...)
{
    va_list ap;
    printf("ok %d - ", ++tap__n);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf(" # SKIP %s\n", why);
    fflush(stdout);
}

static inline void tap_diag(const char *fmt, ...)
{
    va_list ap;
    printf("# ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

static inline int tap_done(void)
{
    printf("1..%d\n", tap__n);
    return tap__failed ? 1 : 0;
}

/* Checks two integers are equal, printing both on failure. */
#define TAP_EQ_INT(got, want, ...)                                                          \
    do {                                                                                    \
        long long tap__g = (long long)(got), tap__w = (long long)(want);                    \
        if (!tap_ok(tap__g == tap__w, __VA_ARGS__))                                         \
            tap_diag("  %s:%d: got %lld, want %lld (%s)", __FILE__, __LINE__, tap__g, tap__w, \
                     #got);                                                                 \
    } while (0)

/* Checks max |a - b| <= tol * max(1, max |b|) over n floats, printing the worst element. */
#define TAP_CLOSE(a, b, n, tol, ...)                                                        \
    do {                                                                                    \
        double tap__md = 0, tap__mr = 0;                                                    \
        size_t tap__at = 0;                                                                 \
        for (size_t tap__i = 0; tap__i < (size_t)(n); tap__i++) {                           \
            double tap__d = fabs((double)(a)[tap__i] - (double)(b)[tap__i]);                \
            if (tap__d > tap__md || tap__d != tap__d) {                                     \
                tap__md = tap__d;                                                           \
                tap__at = tap__i;                                                           \
            }                                                                               \
            if (fabs((double)(b)[tap__i]) > tap__mr)                                        \
                tap__mr = fabs((double)(b)[tap__i]);                                        \
        }                                                                                   \
        double tap__lim = (tol) * (tap__mr > 1 ? tap__mr : 1);                              \
        if (!tap_ok(tap__md <= tap__lim, __VA_ARGS__))                                      \
            tap_diag("  %s:%d: max |diff| %g > %g at [%zu]: got %g, want %g", __FILE__,     \
                     __LINE__, tap__md, tap__lim, tap__at, (double)(a)[tap__at],            \
                     (double)(b)[tap__at]);                                                 \
    } while (0)

#endif
