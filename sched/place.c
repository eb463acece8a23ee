/*
 * place.c - the local level's placement (see place.h): which PUs the workers take and their
 * shares.
 */
#include <stdlib.h>
#include <string.h>

#include "place.h"

/* The kind holding PU pu, or -1. */
static int kind_of(const hidp__topo *t, int pu)
{
    for (int k = 0; k < t->n_kinds; k++)
        for (int i = 0; i < t->kinds[k].n_pus; i++)
            if (t->kinds[k].pus[i] == pu)
                return k;
    return -1;
}

/* Orders the chosen PUs by their kind's calibrated speed, fastest first; PUs of equal speed
 * keep their order (kind order, then their own). hwloc's efficiency rank is an order, not a
 * speed, and the two can disagree: on two equal cores described as two kinds (a big one and a
 * little one) the "little" one measured 86 GFLOP/s against 81. The executor counts on worker 0
 * being the fastest: it never sleeps between layers, and worker 1's shares allow for its
 * wake-up; with the order of the ranks, MobileNet-V2's plan as prepared left worker 0 idle on
 * its short layers while worker 1 woke up for each (9.3 ms, against 6.2 with equal shares). */
static void fastest_first(const hidp__topo *t, int *chosen, int n)
{
    for (int i = 1; i < n; i++) {
        const int pu = chosen[i];
        const double speed = t->kinds[kind_of(t, pu)].speed;
        int j = i;
        for (; j > 0 && t->kinds[kind_of(t, chosen[j - 1])].speed < speed; j--)
            chosen[j] = chosen[j - 1];
        chosen[j] = pu;
    }
}

/* Kinds whose calibrated speeds are this close to the fastest's count as its equals. Two equal
 * cores described as two kinds measured up to 21% apart, run to run, on the dev VMs (with one
 * round of calibration; 0-4% with five, sched/calib.c); with shares by those speeds the slower
 * worker's rules (sleeping at once, its shares taken back, sched/contention.h) cost more than
 * the imbalance they answer: bench/little_core.sh -q 100 ran the default at 0.89x (ResNet-50)
 * and 0.92x (MobileNet-V2) the speed of equal shares. Kinds of real boards lie further apart (a
 * Cortex-A55 runs at a third of an A76, an E core at half to two thirds of a P core). */
#define SAME_SPEED 0.10

/* Gives every worker the fastest's weight when all are within SAME_SPEED of it. */
static void same_speeds_equal(double *weight, int n)
{
    double fastest = 0;
    for (int w = 0; w < n; w++)
        fastest = weight[w] > fastest ? weight[w] : fastest;
    for (int w = 0; w < n; w++)
        if (weight[w] < fastest * (1.0 - SAME_SPEED))
            return;
    for (int w = 0; w < n; w++)
        weight[w] = fastest;
}

/* Parses "0,2-3" into chosen[] (PU OS indices, in t's kind order); count in *n. */
static int parse_list(const hidp__topo *t, const char *text, int *chosen, int *n,
                      hidp__err *err)
{
    char *want = calloc((size_t)t->n_pus + 1, 1); /* by position in kind order */
    if (!want)
        return hidp__fail(err, HIDP_ENOMEM, "placement: out of memory");
    const char *s = text;
    int rc = 0;
    while (*s) {
        char *end;
        long a = strtol(s, &end, 10), b = a;
        if (end == s || a < 0)
            goto bad;
        s = end;
        if (*s == '-') {
            b = strtol(s + 1, &end, 10);
            if (end == s + 1 || b < a)
                goto bad;
            s = end;
        }
        for (long pu = a; pu <= b; pu++) {
            if (pu > 1 << 20 || kind_of(t, (int)pu) < 0) {
                rc = hidp__fail(err, HIDP_EINVAL, "--cores: PU %ld is not one of this board's "
                                "(%s)", pu, t->source);
                goto done;
            }
            /* mark it at its position in kind order */
            for (int k = 0, at = 0; k < t->n_kinds; k++)
                for (int i = 0; i < t->kinds[k].n_pus; i++, at++)
                    if (t->kinds[k].pus[i] == pu)
                        want[at] = 1;
        }
        if (*s == ',')
            s++;
        else if (*s)
            goto bad;
    }
    *n = 0;
    for (int k = 0, at = 0; k < t->n_kinds; k++)
        for (int i = 0; i < t->kinds[k].n_pus; i++, at++)
            if (want[at])
                chosen[(*n)++] = t->kinds[k].pus[i];
    if (*n == 0)
        rc = hidp__fail(err, HIDP_EINVAL, "--cores: no PU in '%s'", text);
    goto done;
bad:
    rc = hidp__fail(err, HIDP_EINVAL, "--cores takes all, big, little or a PU list like 0,2-3, "
                    "not '%s'", text);
done:
    free(want);
    return rc;
}

int hidp__place(const hidp__topo *t, int threads, const char *cores, int split,
                hidp__placement *p, hidp__err *err)
{
    memset(p, 0, sizeof *p);
    if (threads < 1 || !t || t->n_kinds < 1)
        return hidp__fail(err, HIDP_EINVAL, "placement: no workers or no topology");
    int *chosen = malloc((size_t)t->n_pus * sizeof *chosen), n = 0, rc = 0;
    if (!chosen)
        return hidp__fail(err, HIDP_ENOMEM, "placement: out of memory");
    if (!cores || !strcmp(cores, "all") || !strcmp(cores, "big") || !strcmp(cores, "little")) {
        const int only = !cores || !strcmp(cores, "all") ? -1
                         : !strcmp(cores, "big")         ? 0
                                                         : t->n_kinds - 1;
        for (int k = 0; k < t->n_kinds; k++)
            for (int i = 0; (only < 0 || k == only) && i < t->kinds[k].n_pus; i++)
                chosen[n++] = t->kinds[k].pus[i];
    } else if ((rc = parse_list(t, cores, chosen, &n, err)) != 0) {
        free(chosen);
        return rc;
    }
    p->pus = malloc((size_t)threads * sizeof *p->pus);
    p->weight = malloc((size_t)threads * sizeof *p->weight);
    if (!p->pus || !p->weight) {
        free(chosen);
        hidp__placement_free(p);
        return hidp__fail(err, HIDP_ENOMEM, "placement: out of memory");
    }
    int calibrated = split == HIDP__SPLIT_CALIBRATED;
    for (int w = 0; w < threads; w++)
        calibrated &= t->kinds[kind_of(t, chosen[w % n])].speed > 0;
    if (calibrated)
        fastest_first(t, chosen, n);
    for (int w = 0; w < threads; w++) {
        const int pu = chosen[w % n];
        p->pus[w] = pu;
        p->weight[w] = calibrated ? t->kinds[kind_of(t, pu)].speed : 1.0;
    }
    if (calibrated)
        same_speeds_equal(p->weight, threads);
    p->workers = threads;
    p->bind = t->this_system;
    p->wake_s = t->wake_us * 1e-6;
    free(chosen);
    return 0;
}

void hidp__placement_free(hidp__placement *p)
{
    free(p->pus);
    free(p->weight);
    memset(p, 0, sizeof *p);
}
