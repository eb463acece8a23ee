/*
 * counters.c - the profiler's event counters (counters.h): names resolved once at create, then
 * opened per worker on the worker's own thread at its first read.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/perf_event.h>
#include <sys/syscall.h>
#endif
#ifdef HAVE_PAPI
#include <papi.h>
#endif

#include "counters.h"

enum source { SRC_PERF, SRC_PAPI };

typedef struct event {
    char name[64];
    enum source src;
    unsigned long long perf_config; /* PERF_COUNT_SW_* */
    int papi_code;
} event;

typedef struct worker_state {
    int opened;                          /* 1 opened, -1 tried and failed */
    int fd[HIDP__EXEC_MAX_COUNTERS];     /* perf events, -1 none */
    int papi_set;                        /* PAPI event set (PAPI_NULL: none) */
} worker_state;

struct hidp__counters {
    event ev[HIDP__EXEC_MAX_COUNTERS];
    int n, n_papi, workers;
    worker_state *ws;                    /* [workers] */
    hidp__exec_probe probe;
    char missing[512];
};

/* Linux's software events under the names perf(1) gives them. */
static const struct {
    const char *name;
    unsigned long long config;
} software[] = {
#if defined(__linux__)
    {"task-clock", PERF_COUNT_SW_TASK_CLOCK},     {"cpu-clock", PERF_COUNT_SW_CPU_CLOCK},
    {"page-faults", PERF_COUNT_SW_PAGE_FAULTS},   {"context-switches", PERF_COUNT_SW_CONTEXT_SWITCHES},
    {"cpu-migrations", PERF_COUNT_SW_CPU_MIGRATIONS},
#else
    {"", 0},
#endif
};

/* "perf::TASK-CLOCK", "task_clock" and "task-clock" all name the same software event. */
static int software_event(const char *name, unsigned long long *config)
{
    if (!strncmp(name, "perf::", 6))
        name += 6;
    for (size_t i = 0; i < sizeof software / sizeof software[0]; i++) {
        const char *a = name, *b = software[i].name;
        while (*a && *b && (tolower((unsigned char)*a) == *b || (*a == '_' && *b == '-'))) {
            a++;
            b++;
        }
        if (!*a && !*b && *software[i].name) {
            *config = software[i].config;
            return 1;
        }
    }
    return 0;
}

#if defined(__linux__)
/* A software counter of the calling thread, counting from now. -1 and errno on failure. */
static int perf_open(unsigned long long config)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    a.config = config;
    a.exclude_kernel = 0;
    return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}
#else
static int perf_open(unsigned long long config)
{
    (void)config;
    errno = ENOSYS;
    return -1;
}
#endif

#ifdef HAVE_PAPI
static pthread_once_t papi_once = PTHREAD_ONCE_INIT;
static int papi_ready; /* written once under papi_once */

static unsigned long papi_thread_id(void)
{
    return (unsigned long)pthread_self();
}

static void papi_init(void)
{
    papi_ready = PAPI_library_init(PAPI_VER_CURRENT) == PAPI_VER_CURRENT &&
                 PAPI_thread_init(papi_thread_id) == PAPI_OK;
}

/* Whether PAPI can count `name` here; why not in why. */
static int papi_event(const char *name, int *code, char *why, size_t len)
{
    pthread_once(&papi_once, papi_init);
    if (!papi_ready) {
        snprintf(why, len, "PAPI did not initialise");
        return 0;
    }
    int set = PAPI_NULL, rc = PAPI_event_name_to_code(name, code);
    if (rc == PAPI_OK && (rc = PAPI_create_eventset(&set)) == PAPI_OK) {
        rc = PAPI_add_event(set, *code);
        PAPI_cleanup_eventset(set);
        PAPI_destroy_eventset(&set);
    }
    if (rc != PAPI_OK)
        snprintf(why, len, "%s", PAPI_strerror(rc));
    return rc == PAPI_OK;
}
#else
static int papi_event(const char *name, int *code, char *why, size_t len)
{
    (void)name;
    *code = 0;
    snprintf(why, len, "hidp was built without PAPI");
    return 0;
}
#endif

static void add_missing(hidp__counters *c, const char *name, const char *why)
{
    const size_t at = strlen(c->missing);
    snprintf(c->missing + at, sizeof c->missing - at, "%s%s (%s)", at ? ", " : "", name, why);
}

/* Opens worker w's counters on the calling thread (the worker's). */
static void open_worker(hidp__counters *c, worker_state *s)
{
    s->opened = 1;
    for (int k = 0; k < c->n; k++)
        s->fd[k] = c->ev[k].src == SRC_PERF ? perf_open(c->ev[k].perf_config) : -1;
#ifdef HAVE_PAPI
    s->papi_set = PAPI_NULL;
    if (c->n_papi && PAPI_register_thread() == PAPI_OK &&
        PAPI_create_eventset(&s->papi_set) == PAPI_OK) {
        int ok = 1;
        for (int k = 0; k < c->n && ok; k++)
            if (c->ev[k].src == SRC_PAPI)
                ok = PAPI_add_event(s->papi_set, c->ev[k].papi_code) == PAPI_OK;
        if (!ok || PAPI_start(s->papi_set) != PAPI_OK) {
            PAPI_cleanup_eventset(s->papi_set);
            PAPI_destroy_eventset(&s->papi_set);
            s->papi_set = PAPI_NULL;
        }
    }
#endif
}

/* The probe: worker w's counters now (0 for those that failed to open on its thread). */
static void read_counters(void *user, int w, long long *values)
{
    hidp__counters *c = user;
    if (w < 0 || w >= c->workers)
        return;
    worker_state *s = &c->ws[w];
    if (!s->opened)
        open_worker(c, s);
#ifdef HAVE_PAPI
    long long papi_vals[HIDP__EXEC_MAX_COUNTERS] = {0};
    if (s->papi_set != PAPI_NULL)
        PAPI_read(s->papi_set, papi_vals);
    int p = 0;
#endif
    for (int k = 0; k < c->n; k++) {
        values[k] = 0;
        if (c->ev[k].src == SRC_PERF) {
            uint64_t v = 0;
            if (s->fd[k] >= 0 && read(s->fd[k], &v, sizeof v) == (ssize_t)sizeof v)
                values[k] = (long long)v;
        }
#ifdef HAVE_PAPI
        else
            values[k] = papi_vals[p++];
#endif
    }
}

int hidp__counters_create(hidp__counters **out, const char *events, int workers,
                          hidp__err *err)
{
    *out = NULL;
    if (!events)
        events = "";
    if (!strcmp(events, "default"))
        events = HIDP__DEFAULT_EVENTS;
    hidp__counters *c = calloc(1, sizeof *c);
    if (!c || !(c->ws = calloc((size_t)(workers > 0 ? workers : 1), sizeof *c->ws))) {
        free(c);
        return hidp__fail(err, HIDP_ENOMEM, "out of memory for the event counters");
    }
    c->workers = workers;
    for (int w = 0; w < workers; w++)
        for (int k = 0; k < HIDP__EXEC_MAX_COUNTERS; k++)
            c->ws[w].fd[k] = -1;
    int asked = 0;
    for (const char *p = events; *p;) {
        const size_t len = strcspn(p, ",");
        char name[64];
        if (len == 0 || len >= sizeof name) {
            hidp__counters_destroy(c);
            return hidp__fail(err, HIDP_EINVAL, "--events: %s in '%s'", len ? "a name too long"
                              : "an empty name", events);
        }
        memcpy(name, p, len);
        name[len] = '\0';
        p += len + (p[len] == ',');
        if (++asked > HIDP__EXEC_MAX_COUNTERS) {
            hidp__counters_destroy(c);
            return hidp__fail(err, HIDP_EINVAL, "--events: at most %d events, '%s' has more",
                              HIDP__EXEC_MAX_COUNTERS, events);
        }
        event *e = &c->ev[c->n];
        snprintf(e->name, sizeof e->name, "%s", name);
        char why[160];
        if (software_event(name, &e->perf_config)) {
            const int fd = perf_open(e->perf_config);
            if (fd < 0) {
                snprintf(why, sizeof why, "perf_event_open: %s", strerror(errno));
                add_missing(c, name, why);
                continue;
            }
            close(fd);
            e->src = SRC_PERF;
        } else if (papi_event(name, &e->papi_code, why, sizeof why)) {
            e->src = SRC_PAPI;
            c->n_papi++;
        } else {
            add_missing(c, name, why);
            continue;
        }
        c->n++;
    }
    c->probe = (hidp__exec_probe){read_counters, c, c->n};
    *out = c;
    return 0;
}

void hidp__counters_destroy(hidp__counters *c)
{
    if (!c)
        return;
    for (int w = 0; c->ws && w < c->workers; w++) {
        for (int k = 0; k < HIDP__EXEC_MAX_COUNTERS; k++)
            if (c->ws[w].fd[k] >= 0)
                close(c->ws[w].fd[k]);
#ifdef HAVE_PAPI
        if (c->ws[w].opened && c->ws[w].papi_set != PAPI_NULL) {
            long long v[HIDP__EXEC_MAX_COUNTERS];
            PAPI_stop(c->ws[w].papi_set, v); /* best effort from another thread */
            PAPI_cleanup_eventset(c->ws[w].papi_set);
            PAPI_destroy_eventset(&c->ws[w].papi_set);
        }
#endif
    }
    free(c->ws);
    free(c);
}

int hidp__counters_count(const hidp__counters *c)
{
    return c ? c->n : 0;
}

const char *hidp__counters_name(const hidp__counters *c, int i)
{
    return c && i >= 0 && i < c->n ? c->ev[i].name : "";
}

const char *hidp__counters_missing(const hidp__counters *c)
{
    return c ? c->missing : "";
}

const hidp__exec_probe *hidp__counters_probe(const hidp__counters *c)
{
    return &c->probe;
}
