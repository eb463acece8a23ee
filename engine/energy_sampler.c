/*
 * energy_sampler.c - the thread that reads every rail each period and integrates (engine/energy.h).
 *
 * Start takes the first reading on the caller's thread and stop the last, after the thread has
 * been joined, so the integration covers the run from start to stop whatever the period (a power
 * rail's first and last values are held out to those two instants). Each
 * rail is stamped with the middle of its own read: on a board an INA read is an I2C transfer
 * taking a good fraction of a millisecond, and the rails of one round are read one after the
 * other. Between start and stop only the thread touches the integration state; start and stop
 * touch it only while no thread runs, so no lock guards it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "energy_impl.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Reads every readable rail once and adds what happened since its previous reading. */
static void sample_round(hidp__energy *e)
{
    for (int i = 0; i < e->n; i++) {
        hidp__rail_src *r = &e->rails[i];
        if (r->info.error[0])
            continue;
        double raw, t0 = now_s();
        if (hidp__rail_read_raw(r, &raw, NULL, 0) < 0) {
            r->errors++;
            continue;
        }
        double t = 0.5 * (t0 + now_s());
        if (r->have_prev) {
            double gap = t - r->prev_t;
            if (gap > r->max_gap)
                r->max_gap = gap;
            if (r->counter) {
                double d = raw - r->prev_raw;
                if (d < 0) /* wrapped past max_energy_range_uj back to 0 */
                    d += r->range;
                r->joules += d * r->scale;
            } else {
                r->joules += 0.5 * (raw + r->prev_raw) * r->scale * gap;
            }
        }
        if (!r->have_prev) {
            r->first_raw = raw;
            r->first_t = t;
        }
        r->prev_raw = raw;
        r->prev_t = t;
        r->have_prev = 1;
        r->samples++;
    }
    e->rounds++;
}

static void add_us(struct timespec *ts, unsigned us)
{
    ts->tv_nsec += (long)(us % 1000000u) * 1000;
    ts->tv_sec += (time_t)(us / 1000000u);
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_nsec -= 1000000000L;
        ts->tv_sec++;
    }
}

static void *sampler_main(void *arg)
{
    hidp__energy *e = arg;
    struct timespec next, now;
    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&e->mu);
    while (!e->stop) {
        add_us(&next, e->period_us);
        /* After a stall, start again from now instead of catching up with a burst. */
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (next.tv_sec < now.tv_sec || (next.tv_sec == now.tv_sec && next.tv_nsec < now.tv_nsec))
            next = now;
        while (!e->stop && pthread_cond_timedwait(&e->cv, &e->mu, &next) != ETIMEDOUT)
            ;
        if (e->stop)
            break;
        pthread_mutex_unlock(&e->mu);
        sample_round(e);
        pthread_mutex_lock(&e->mu);
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

/* The mutex and a condition variable timed on CLOCK_MONOTONIC, made at the first start. */
static int init_sync(hidp__energy *e, hidp__err *err)
{
    pthread_condattr_t ca;
    if (e->sync_ready)
        return 0;
    if (pthread_condattr_init(&ca))
        return hidp__fail(err, HIDP_ESYSTEM, "energy: cannot make the sampler's condition");
    int rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rc == 0 && (rc = pthread_cond_init(&e->cv, &ca)) == 0 &&
        (rc = pthread_mutex_init(&e->mu, NULL)) != 0)
        pthread_cond_destroy(&e->cv);
    pthread_condattr_destroy(&ca);
    if (rc)
        return hidp__fail(err, HIDP_ESYSTEM, "energy: cannot make the sampler's lock: %s",
                          strerror(rc));
    e->sync_ready = 1;
    return 0;
}

int hidp__energy_start(hidp__energy *e, unsigned period_us, hidp__err *err)
{
    int rc;
    if (e->running)
        return hidp__fail(err, HIDP_ESTATE, "energy: the sampler is already running");
    if ((rc = init_sync(e, err)) < 0)
        return rc;
    int readable = 0;
    for (int i = 0; i < e->n; i++) {
        hidp__rail_src *r = &e->rails[i];
        r->have_prev = 0;
        r->joules = r->max_gap = 0;
        r->samples = r->errors = 0;
        readable += !r->info.error[0];
    }
    e->period_us = period_us ? period_us : HIDP__ENERGY_PERIOD_US;
    e->stop = 0;
    e->rounds = 0;
    e->t_start = now_s();
    sample_round(e);
    if (readable) {
        if ((rc = pthread_create(&e->thread, NULL, sampler_main, e)) != 0)
            return hidp__fail(err, HIDP_ESYSTEM, "energy: cannot start the sampling thread: %s",
                              strerror(rc));
        e->thread_on = 1;
    }
    e->running = 1;
    return 0;
}

static void join_thread(hidp__energy *e)
{
    if (!e->thread_on)
        return;
    pthread_mutex_lock(&e->mu);
    e->stop = 1;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
    pthread_join(e->thread, NULL);
    e->thread_on = 0;
}

/* Joules of the rails the total counts, by the rule of energy.h; marks them in e->stat. */
static hidp__energy_total pick_total(hidp__energy *e, double *joules)
{
    static const struct {
        hidp__rail_role role;
        hidp__energy_total rule;
    } order[] = {{HIDP__ROLE_INPUT, HIDP__TOTAL_INPUT},
                 {HIDP__ROLE_PACKAGE, HIDP__TOTAL_PACKAGES},
                 {HIDP__ROLE_RAIL, HIDP__TOTAL_SUM}};
    *joules = 0;
    for (size_t k = 0; k < sizeof order / sizeof *order; k++) {
        int used = 0;
        for (int i = 0; i < e->n; i++) {
            const hidp__rail_src *r = &e->rails[i];
            if (r->info.role == order[k].role && !r->info.error[0] && r->samples > 0) {
                *joules += r->joules;
                e->stat[i].in_total = 1;
                used++;
            }
        }
        if (used)
            return order[k].rule;
    }
    return HIDP__TOTAL_NONE;
}

int hidp__energy_stop(hidp__energy *e, hidp__energy_report *r, hidp__err *err)
{
    if (!e->running)
        return hidp__fail(err, HIDP_ESTATE, "energy: the sampler was not started");
    join_thread(e);
    sample_round(e);
    e->running = 0;
    memset(r, 0, sizeof *r);
    r->t_start = e->t_start;
    r->t_end = now_s();
    /* A power rail holds its first and last readings out to the run's edges, so its joules
     * span the same time as the report's seconds (a counter cannot know what came before its
     * first reading: its few microseconds at each edge are left out). */
    for (int i = 0; i < e->n; i++) {
        hidp__rail_src *s = &e->rails[i];
        if (s->have_prev && !s->counter)
            s->joules += s->scale * (s->first_raw * (s->first_t - r->t_start) +
                                     s->prev_raw * (r->t_end - s->prev_t));
    }
    r->seconds = r->t_end - r->t_start;
    r->rounds = e->rounds;
    r->n_rails = e->n;
    r->rail = e->stat;
    for (int i = 0; i < e->n; i++) {
        const hidp__rail_src *s = &e->rails[i];
        hidp__rail_stat *st = &e->stat[i];
        st->joules = s->joules;
        st->watts = r->seconds > 0 ? s->joules / r->seconds : 0;
        st->samples = s->samples;
        st->errors = s->errors;
        st->in_total = 0;
        if (s->max_gap > r->max_gap)
            r->max_gap = s->max_gap;
    }
    r->total_rule = pick_total(e, &r->total_joules);
    r->total_watts = r->seconds > 0 ? r->total_joules / r->seconds : 0;
    return 0;
}

void hidp__energy_close(hidp__energy *e)
{
    if (!e)
        return;
    join_thread(e);
    if (e->sync_ready) {
        pthread_cond_destroy(&e->cv);
        pthread_mutex_destroy(&e->mu);
    }
    free(e->rails);
    free(e->stat);
    free(e);
}

const char *hidp__energy_total_name(hidp__energy_total rule)
{
    switch (rule) {
    case HIDP__TOTAL_NONE:
        return "none";
    case HIDP__TOTAL_INPUT:
        return "input rails";
    case HIDP__TOTAL_PACKAGES:
        return "RAPL packages";
    case HIDP__TOTAL_SUM:
        return "sum of rails";
    }
    return "?";
}
