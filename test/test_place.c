/*
 * test_place.c - the local level's arithmetic, apart from any machine: the placement of workers
 * on the RK3588 XML's kinds (PUs fastest first, core policies, calibrated and equal shares, bad
 * policies refused), the shares that allow for a slow worker's wake-up, and whether a slower
 * core's CPU counts as scarce (sched/contention.h).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "topo_data.h"
#include "../sched/contention.h"
#include "../sched/place.h"
#include "../sched/split.h"
#include "../sched/topo.h"

/* Whether a slower core's CPU is scarce, from its wait for the CPU over windows of 100 ms
 * (sched/contention.h): scarce from the start, its own only after 10 windows in a row under 2%,
 * scarce again after one window at 2% or more. */
static void check_contention(void)
{
    const int64_t ms = 1000000;
    hidp__contention c;
    hidp__contention_init(&c);
    int ok = hidp__contention_scarce(&c) && hidp__contention_due(&c, 5 * ms);
    ok &= hidp__contention_feed(&c, 5 * ms, 0) == 0 && !hidp__contention_due(&c, 104 * ms);
    ok &= hidp__contention_feed(&c, 104 * ms, 0) == 0; /* the window is too short yet */
    int64_t t = 5 * ms, wait = 0;
    for (int k = 1; k <= 9 && ok; k++) { /* 1.9 ms waited of 100: clean, but not yet ten */
        t += 100 * ms, wait += 1900000;
        ok = hidp__contention_due(&c, t) && hidp__contention_feed(&c, t, wait) == 0 &&
             hidp__contention_scarce(&c);
    }
    t += 100 * ms, wait += 1900000;
    const int freed = hidp__contention_feed(&c, t, wait) == 1 && !hidp__contention_scarce(&c);
    t += 100 * ms, wait += 2100000; /* 2.1 ms of 100: scarce again at once */
    const int taken = hidp__contention_feed(&c, t, wait) == 1 && hidp__contention_scarce(&c);
    t += 100 * ms, wait += 0;
    const int stays = hidp__contention_feed(&c, t, wait) == 0 && hidp__contention_scarce(&c);
    const int back = hidp__contention_feed(&c, t - ms, wait) == 0; /* a clock gone back */
    tap_ok(ok && freed && taken && stays && back,
           "contention: scarce until 10 clean windows of 100 ms (%d), again after one window "
           "waiting 2%% (%d), not freed by one clean window (%d)",
           freed, taken, stays);
}

/* The placement arithmetic on the RK3588 XML: PUs fastest kind first, the core policies, the
 * calibrated and equal shares, and bad policies refused. */
static void check_placement(void)
{
    char xml[1200];
    hidp__err err = {0, ""};
    hidp__topo t = {0};
    hidp__placement p;
    if (!path_of(xml, sizeof xml, "rk3588.xml")) {
        tap_skip("test/data/topo/rk3588.xml missing", "placement");
        return;
    }
    setenv("HWLOC_XMLFILE", xml, 1);
    unsetenv("HWLOC_THISSYSTEM");
    if (!tap_ok(hidp__topo_load(&t, &err) == 0, "placement: rk3588 loads (%s)", err.msg))
        return;
    t.kinds[0].speed = 3.0; /* A76 */
    t.kinds[1].speed = 1.0; /* A55 */
    static const struct {
        const char *cores;
        int threads, split;
        int pus[8];
        double weight[8];
    } cases[] = {
        {"all", 8, HIDP__SPLIT_CALIBRATED, {4, 5, 6, 7, 0, 1, 2, 3}, {3, 3, 3, 3, 1, 1, 1, 1}},
        {NULL, 6, HIDP__SPLIT_CALIBRATED, {4, 5, 6, 7, 0, 1}, {3, 3, 3, 3, 1, 1}},
        {"all", 8, HIDP__SPLIT_EQUAL, {4, 5, 6, 7, 0, 1, 2, 3}, {1, 1, 1, 1, 1, 1, 1, 1}},
        {"big", 4, HIDP__SPLIT_CALIBRATED, {4, 5, 6, 7}, {3, 3, 3, 3}},
        {"little", 2, HIDP__SPLIT_CALIBRATED, {0, 1}, {1, 1}},
        {"0,2-3", 3, HIDP__SPLIT_CALIBRATED, {0, 2, 3}, {1, 1, 1}},
        {"1,5", 2, HIDP__SPLIT_CALIBRATED, {5, 1}, {3, 1}},
        {"big", 6, HIDP__SPLIT_CALIBRATED, {4, 5, 6, 7, 4, 5}, {3, 3, 3, 3, 3, 3}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = hidp__place(&t, cases[i].threads, cases[i].cores, cases[i].split, &p, &err);
        int same = rc == 0 && p.workers == cases[i].threads && !p.bind;
        for (int w = 0; same && w < p.workers; w++)
            same = p.pus[w] == cases[i].pus[w] && p.weight[w] == cases[i].weight[w];
        tap_ok(same,
               "placement: %d workers on cores '%s', %s shares: PUs and weights as "
               "expected (%s)",
               cases[i].threads, cases[i].cores ? cases[i].cores : "(default)",
               cases[i].split ? "equal" : "calibrated", rc ? err.msg : "");
        if (rc == 0 && !same)
            list_diag("got PUs", p.pus, p.workers);
        hidp__placement_free(&p);
    }
    /* Speeds that contradict the ranks (two equal cores described as big and little, the
     * "little" one measured faster): calibrated shares put the faster kind's PUs first, equal
     * shares keep the ranks' order. */
    t.kinds[0].speed = 1.0;
    t.kinds[1].speed = 3.0;
    static const struct {
        int split;
        int pus[4];
        double weight[4];
    } swapped[] = {
        {HIDP__SPLIT_CALIBRATED, {0, 1, 2, 3}, {3, 3, 3, 3}},
        {HIDP__SPLIT_EQUAL, {4, 5, 6, 7}, {1, 1, 1, 1}},
    };
    for (size_t i = 0; i < sizeof swapped / sizeof swapped[0]; i++) {
        int rc = hidp__place(&t, 4, "all", swapped[i].split, &p, &err);
        int same = rc == 0 && p.workers == 4;
        for (int w = 0; same && w < 4; w++)
            same = p.pus[w] == swapped[i].pus[w] && p.weight[w] == swapped[i].weight[w];
        tap_ok(same,
               "placement: the little kind measured faster than the big one, %s shares: "
               "workers on PUs %d-%d first (%s)",
               swapped[i].split ? "equal" : "calibrated", swapped[i].pus[0], swapped[i].pus[3],
               rc ? err.msg : "");
        if (rc == 0 && !same)
            list_diag("got PUs", p.pus, p.workers);
        hidp__placement_free(&p);
    }
    /* Speeds within 10% of each other (equal cores' calibration noise) count as equal; 15%
     * apart they do not. */
    static const struct {
        double little;
        double weight[2];
    } close[] = {{2.8, {3.0, 3.0}}, {2.55, {3.0, 2.55}}};
    t.kinds[0].speed = 3.0;
    for (size_t i = 0; i < sizeof close / sizeof close[0]; i++) {
        t.kinds[1].speed = close[i].little;
        int rc = hidp__place(&t, 2, "3,4", HIDP__SPLIT_CALIBRATED, &p, &err);
        tap_ok(rc == 0 && p.pus[0] == 4 && p.pus[1] == 3 && p.weight[0] == close[i].weight[0] &&
                   p.weight[1] == close[i].weight[1],
               "placement: speeds 3 and %.2f give weights %.2f and %.2f (got %.2f, %.2f)",
               close[i].little, close[i].weight[0], close[i].weight[1], rc ? 0 : p.weight[0],
               rc ? 0 : p.weight[1]);
        hidp__placement_free(&p);
    }
    t.kinds[1].speed = 1.0;
    static const char *const bad[] = {"9", "x", "3-1", "", "0,,1", "2-"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = hidp__place(&t, 2, bad[i], HIDP__SPLIT_CALIBRATED, &p, &err);
        tap_ok(rc == HIDP_EINVAL && strstr(err.msg, "--cores"),
               "placement: cores '%s' refused "
               "(%s)",
               bad[i], err.msg);
        hidp__placement_free(&p);
    }
    /* shares that allow for a slow worker's wake-up: speeds 3 and 1, a 60 us layer */
    static const struct {
        double wake_us, want0, want1;
    } wake[] = {
        {0, 3, 1},        /* no wake-up: the speeds */
        {10, 47.5, 12.5}, /* T = (60 + 10/3) / (4/3) = 47.5; the slow one r (T - d) = 12.5 */
        {50, 57.5, 2.5},  /* T = (60 + 50/3) / (4/3) = 57.5 */
        {70, 60, 0},      /* it would start after T = 62.5: the fast one does it all */
    };
    for (size_t i = 0; i < sizeof wake / sizeof wake[0]; i++) {
        double wt[2] = {3, 1};
        hidp__split_allow_wake(2, wt, 60e-6, wake[i].wake_us * 1e-6);
        const double r = wake[i].wake_us ? 1e6 : 1; /* in us, or the weights themselves */
        tap_ok(fabs(wt[0] * r - wake[i].want0) < 1e-6 && fabs(wt[1] * r - wake[i].want1) < 1e-6,
               "wake-up %.0f us, 60 us layer, speeds 3:1: shares %.2f : %.2f (want %.2f : %.2f)",
               wake[i].wake_us, wt[0] * r, wt[1] * r, wake[i].want0, wake[i].want1);
    }
    double eq[3] = {2, 2, 2};
    hidp__split_allow_wake(3, eq, 60e-6, 20e-6);
    tap_ok(eq[0] == eq[1] && eq[1] == eq[2] && eq[0] > 0, "equal speeds keep equal shares");
    check_contention();

    t.kinds[1].speed = 0; /* a kind without a speed: equal shares */
    int rc = hidp__place(&t, 8, "all", HIDP__SPLIT_CALIBRATED, &p, &err);
    tap_ok(rc == 0 && p.weight[0] == 1.0 && p.weight[7] == 1.0,
           "placement: an uncalibrated kind in use gives equal shares");
    hidp__placement_free(&p);
    hidp__topo_destroy(&t);
    unsetenv("HWLOC_XMLFILE");
}

int main(void)
{
    topo_data_init();
    check_placement();
    unsetenv("HWLOC_XMLFILE");
    return tap_done();
}
