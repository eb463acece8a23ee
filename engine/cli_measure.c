/*
 * cli_measure.c - clock, latency statistics, resident memory, seeded inputs and the progress
 * line of `hidp bench`.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_measure.h"

#define PROGRESS_AFTER_MS 2000.0

double cli_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void cli_latency_stats(double *t, int n, cli_latency *out)
{
    double sum = 0, sq = 0;
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    for (int i = 0; i < n; i++)
        sum += t[i];
    out->mean = sum / n;
    for (int i = 0; i < n; i++)
        sq += (t[i] - out->mean) * (t[i] - out->mean);
    out->stddev = n > 1 ? sqrt(sq / (n - 1)) : 0;
    out->min = t[0];
    out->max = t[n - 1];
    out->median = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
    out->p90 = t[(9 * n + 9) / 10 - 1]; /* rank ceil(0.9 n), counted from 1 */
    out->runs = n;
}

long cli_status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t klen = strlen(key);
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, klen) && line[klen] == ':') {
            kb = strtol(line + klen + 1, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

int cli_reset_peak_rss(void)
{
    /* "5" resets the peak; other values would clear the page reference bits instead. */
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return -1;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* splitmix64: tiny, with no state beyond one word, and good enough for test inputs. */
static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void cli_fill_normal(float *x, size_t n, uint64_t *state)
{
    const double two_pi = 6.283185307179586, two53 = 9007199254740992.0;
    for (size_t i = 0; i < n; i += 2) {
        /* Box-Muller on 53-bit uniforms; u1 is in (0, 1] so log() never sees 0. */
        double u1 = ((splitmix64(state) >> 11) + 1.0) / two53;
        double u2 = (splitmix64(state) >> 11) / two53;
        double r = sqrt(-2.0 * log(u1));
        x[i] = (float)(r * cos(two_pi * u2));
        if (i + 1 < n)
            x[i + 1] = (float)(r * sin(two_pi * u2));
    }
}

void cli_progress_start(cli_progress *p)
{
    p->tty = isatty(STDERR_FILENO);
    p->shown = 0;
    p->start = cli_now_ms();
    p->last = 0;
}

void cli_progress_update(cli_progress *p, const char *label, const char *what, int done, int total,
                         double est_left_ms)
{
    double t = cli_now_ms();
    if (!p->tty || (!p->shown && t - p->start + est_left_ms <= PROGRESS_AFTER_MS) ||
        t - p->last < 100)
        return;
    p->shown = 1;
    p->last = t;
    /* \r redraws one line only, so the label is cut short rather than allowed to wrap. */
    fprintf(stderr, "\rhidp bench: %.50s: %s %d/%d\033[K", label, what, done, total);
    fflush(stderr);
}

void cli_progress_clear(cli_progress *p)
{
    if (p->shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    p->shown = 0;
}
