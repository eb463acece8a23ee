/*
 * tune.c - the tuner's two phases (tune.h): per-layer split or solo, then the slower cores' trim.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "median.h"
#include "tune.h"
#include "../engine/exec.h"

/* Factors on the slower cores' calibrated shares. Below 1: the core is slower in a real run
 * than in the calibration (a cache shared with the fast core, a wake-up per layer). Above 1: it
 * is faster in the short bursts of one layer than over the calibration's seconds (a core under
 * a CPU quota runs at full speed until the quota is spent: bench/little_core.sh's MobileNet-V2
 * picks x2.0 there, 0.2-0.5 ms faster than x1). The executor caps a share at the fastest's. */
static const double trims[] = {1.0, 0.8, 0.6, 1.25, 1.6, 2.0, 2.5};
#define N_TRIMS ((int)(sizeof trims / sizeof trims[0]))
/* The whole-run candidates: the measured modes at each trim (with the executor's stripes on and
 * off, when it has any), the plan estimated at prepare, and the fastest worker alone. */
#define MAX_CANDIDATES (2 * N_TRIMS + 2)
/* Runs of a candidate that count: rounds x (block - 1). */
#define MAX_KEPT (HIDP__TUNE_MAX_WHOLE_ROUNDS * (HIDP__TUNE_MAX_BLOCK - 1))

/* When every layer alone or the estimate won, the best measured modes at a trim other than 1
 * within this of it have their layers measured again at that trim (choose_whole). */
#define RETRIM_MARGIN 1.10

/* Candidates whose medians lie within this of the fastest's are not told apart by the runs
 * they had: between those of measured modes, the trim nearest 1 wins, the calibrated shares,
 * which a trim corrects only for what the calibration missed. On bench/little_core.sh's
 * ResNet-50, with medians of 3 runs each 5-7% apart run to run, tunings of one engine picked
 * x0.6 to x2.0, and the far ones ran 82% of the ideal against 86-88% at x1-x1.25. */
#define TRIM_BAND 1.02

/* A split must beat solo by this much. On a tie the layer stays on one core, which leaves the
 * others idle (cooler, and free for a slow core's quota). And a split layer costs the layers
 * after it, outside its own time, which is all the layer phase measures: its output is left in
 * two cores' caches, and the next layer reads the other core's part from there (a 1x1 conv's
 * GEMM took 7-23% longer on an input written half by each of two vCPUs that share no cache,
 * doc/local-level.md). Splits that gain little are lost that way: on bench/little_core.sh's
 * MobileNet-V2, a margin of 8% (0.97 before) split 14-35 layers instead of 27-51 and was
 * 1.01-1.08x faster in four runs of the A/B (-e); ResNet-50, whose layers gain more, 0.99-1.03x. */
#define SPLIT_MARGIN 0.92

enum { PHASE_LAYERS, PHASE_WHOLE, PHASE_DONE };

/* A whole-run candidate: the modes of a layer phase (or the estimate's, all AUTO, or every layer
 * solo) and a trim. */
typedef struct candidate {
    int modes; /* which layer phase's verdict (0, 1), ESTIMATE or ALONE */
    double trim;
    int chunks; /* the executor's stripes off: every layer split on its own */
} candidate;
#define ESTIMATE (-1)
#define ALONE (-2)

struct hidp__tuner {
    int n, unequal, striped, phase, trial, made;
    int pass;               /* 0, or 1 in the second round of both phases */
    double layer_trim;      /* the trim of the layer phase's split trials */
    int layer_chunks;       /* and whether the second's candidates run without stripes */
    char *splittable;       /* [n] */
    signed char *chosen[2]; /* [n] each layer phase's verdict */
    double *split_s;        /* [round * n + layer] */
    double *solo_s;
    double split_total[HIDP__TUNE_LAYER_ROUNDS]; /* whole split trials, to size the blocks */
    candidate cand[MAX_CANDIDATES];
    int n_cand, chosen_cand;
    double block_min_s;     /* a block's least duration */
    int block;              /* runs of one candidate in a row; the first is dropped */
    int live[MAX_CANDIDATES], n_live; /* the candidates still in the running, in order */
    int round, slot;        /* whole-run round, and the trial's place in it */
    int pruned;             /* rounds of the phase that have dropped candidates (or could) */
    double *kept;           /* [cand][up to MAX_KEPT] whole-run seconds */
    int n_kept[MAX_CANDIDATES];
    char medians[1024];     /* each whole-run phase's candidates and medians (tuner_medians) */
    int rival;              /* the first whole-run phase's winner when it was not measured
                             * modes (every layer alone, the estimate), 0 none: it runs again
                             * in the second */
    candidate final[HIDP__TUNE_FINALISTS]; /* the finalists (hidp__tuner_finalists) */
    double final_s[HIDP__TUNE_FINALISTS];  /* their median runs, NAN when not timed */
    int n_final;
};

/* Median of v[0], v[stride], ... (count of them, at most MAX_KEPT). */
static double median(const double *v, int count, int stride)
{
    double tmp[MAX_KEPT];
    return hidp__median(v, count, stride, tmp);
}

int hidp__tuner_create(hidp__tuner **out, int n, const char *splittable, int unequal,
                       int striped, double block_min_s, hidp__err *err)
{
    *out = NULL;
    hidp__tuner *t = calloc(1, sizeof *t);
    const size_t nn = (size_t)(n > 0 ? n : 1);
    if (!t || !(t->splittable = malloc(nn)) || !(t->chosen[0] = malloc(nn)) ||
        !(t->chosen[1] = malloc(nn)) ||
        !(t->split_s = calloc(nn * HIDP__TUNE_LAYER_ROUNDS, sizeof *t->split_s)) ||
        !(t->solo_s = calloc(nn * HIDP__TUNE_LAYER_ROUNDS, sizeof *t->solo_s))) {
        hidp__tuner_destroy(t);
        return hidp__fail(err, HIDP_ENOMEM, "out of memory for the plan tuner");
    }
    t->n = n;
    t->unequal = unequal;
    t->striped = striped;
    t->block_min_s = block_min_s;
    t->layer_trim = 1.0;
    int any = 0;
    for (int i = 0; i < n; i++) {
        t->splittable[i] = splittable[i] != 0;
        t->chosen[0][i] = t->chosen[1][i] = HIDP__PLAN_SOLO;
        any |= t->splittable[i];
    }
    t->cand[0] = (candidate){ESTIMATE, 1.0, 0}; /* nothing to tune: the estimate stays */
    t->n_cand = 1;
    t->phase = any ? PHASE_LAYERS : PHASE_DONE;
    *out = t;
    return 0;
}

void hidp__tuner_destroy(hidp__tuner *t)
{
    if (!t)
        return;
    free(t->splittable);
    free(t->chosen[0]);
    free(t->chosen[1]);
    free(t->split_s);
    free(t->solo_s);
    free(t->kept);
    free(t);
}

/* Candidate c's plan, as hidp__tuner_next gives it. */
static void fill_plan(const hidp__tuner *t, const candidate *c, signed char *mode, double *trim,
                      int *stripes)
{
    if (c->modes == ESTIMATE)
        memset(mode, HIDP__PLAN_AUTO, (size_t)t->n);
    else if (c->modes == ALONE)
        memset(mode, HIDP__PLAN_SOLO, (size_t)t->n);
    else
        memcpy(mode, t->chosen[c->modes], (size_t)t->n);
    *trim = c->trim;
    *stripes = t->striped ? !c->chunks : -1;
}

int hidp__tuner_next(hidp__tuner *t, signed char *mode, double *trim, int *stripes)
{
    *stripes = t->striped ? 1 : -1;
    if (t->phase == PHASE_LAYERS) {
        const int split = t->trial % 2 == 0;
        for (int i = 0; i < t->n; i++)
            mode[i] = split && t->splittable[i] ? HIDP__PLAN_SPLIT : HIDP__PLAN_SOLO;
        *trim = t->layer_trim;
        return 1;
    }
    fill_plan(t, &t->cand[t->phase == PHASE_WHOLE ? t->live[t->slot / t->block] : t->chosen_cand],
              mode, trim, stripes);
    return t->phase == PHASE_WHOLE;
}

/* Ends a layer phase: each splittable layer keeps the faster of its two medians. Then come
 * the whole-run candidates. After the first: those modes at every trim (at 1 only on equal
 * cores, or when nothing is split, where shares do not matter), each with the executor's stripes
 * and without (a stripe is one long chunk: on a core whose quota runs out in every period, as
 * bench/little_core.sh's does on ResNet-50, a third of them were taken back; on MobileNet-V2,
 * where it does not, they ran 1.2x the layers split one by one); the plan estimated at prepare,
 * so that tuning never ends on a plan slower than where it started; and, when anything is
 * split, every layer solo, so that it never ends slower than the fastest core by itself (a core
 * whose wake-ups cost more than its share saves, layers that each gain measured one by one and
 * lose together). After the second (run at the trim the first chose): the two phases' modes at
 * that trim, stripes on or off as chosen. */
static void choose_layers(hidp__tuner *t)
{
    signed char *chosen = t->chosen[t->pass];
    int any = 0;
    for (int i = 0; i < t->n; i++) {
        if (!t->splittable[i])
            continue;
        const double split = median(t->split_s + i, HIDP__TUNE_LAYER_ROUNDS, t->n);
        const double solo = median(t->solo_s + i, HIDP__TUNE_LAYER_ROUNDS, t->n);
        chosen[i] = split < solo * SPLIT_MARGIN ? HIDP__PLAN_SPLIT : HIDP__PLAN_SOLO;
        any |= chosen[i] == HIDP__PLAN_SPLIT;
    }
    t->n_cand = 0;
    if (t->pass == 0) {
        for (int k = 0; k < (t->unequal && any ? N_TRIMS : 1); k++) {
            t->cand[t->n_cand++] = (candidate){0, trims[k], 0};
            if (t->striped && any)
                t->cand[t->n_cand++] = (candidate){0, trims[k], 1};
        }
        t->cand[t->n_cand++] = (candidate){ESTIMATE, 1.0, 0};
        if (any)
            t->cand[t->n_cand++] = (candidate){ALONE, 1.0, 0};
    } else {
        t->cand[t->n_cand++] = (candidate){0, t->layer_trim, t->layer_chunks};
        t->cand[t->n_cand++] = (candidate){1, t->layer_trim, t->layer_chunks};
        if (t->rival)
            t->cand[t->n_cand++] = (candidate){t->rival, 1.0, 0};
    }
    /* Blocks long enough for block_min_s, judged by the split trials' median run. */
    const double run = median(t->split_total, HIDP__TUNE_LAYER_ROUNDS, 1);
    t->block = 2;
    while (t->block < HIDP__TUNE_MAX_BLOCK && (t->block - 1) * run < t->block_min_s)
        t->block++;
    free(t->kept);
    t->kept = malloc((size_t)t->n_cand * MAX_KEPT * sizeof *t->kept);
    for (int k = 0; k < t->n_cand; k++) {
        t->live[k] = k;
        t->n_kept[k] = 0;
    }
    t->n_live = t->n_cand;
    t->round = t->slot = t->pruned = 0;
    t->chosen_cand = 0;
    t->phase = t->kept ? PHASE_WHOLE : PHASE_DONE; /* out of memory: the first candidate */
}

static double kept_median(const hidp__tuner *t, int cand)
{
    return median(t->kept + (size_t)cand * MAX_KEPT, t->n_kept[cand], 1);
}

/* The live candidates' medians so far, in medians[candidate]. */
static void live_medians(const hidp__tuner *t, double *medians)
{
    for (int k = 0; k < t->n_live; k++)
        medians[t->live[k]] = kept_median(t, t->live[k]);
}

/* Appends the phase's candidates and their medians to t->medians, e.g. "modes0 x1 14.20 ms (9),
 * estimate 13.95 ms (9), alone 18.01 ms (3)" (runs kept in brackets; "; then " before a second
 * phase's): what a verdict rests on, for the debug log. */
static void note_medians(hidp__tuner *t)
{
    size_t used = strlen(t->medians);
    const char *sep = used ? "; then " : "";
    for (int k = 0; k < t->n_cand && used + 64 < sizeof t->medians; k++) {
        const candidate *c = &t->cand[k];
        char name[32];
        if (t->n_kept[k] == 0)
            continue;
        if (c->modes == ESTIMATE)
            snprintf(name, sizeof name, "estimate");
        else if (c->modes == ALONE)
            snprintf(name, sizeof name, "alone");
        else
            snprintf(name, sizeof name, "modes%d x%.2g%s", c->modes, c->trim,
                     c->chunks ? " chunks" : "");
        used += (size_t)snprintf(t->medians + used, sizeof t->medians - used, "%s%s %.2f ms (%d)",
                                 sep, name, kept_median(t, k) * 1e3, t->n_kept[k]);
        sep = ", ";
    }
}

/* The phase's verdict: the live candidate with the lowest median (hidp__fastest_live), unless it is
 * of measured modes and another of them with a trim nearer 1 came within TRIM_BAND of it (the
 * nearest such; on a tie of distance the faster). Its median in *median. */
static int verdict(const hidp__tuner *t, double *median)
{
    double best, medians[MAX_CANDIDATES];
    live_medians(t, medians);
    int chosen = hidp__fastest_live(t->live, t->n_live, medians, &best);
    *median = best;
    if (t->cand[chosen].modes < 0)
        return chosen;
    for (int k = 0; k < t->n_live; k++) {
        const int c = t->live[k];
        const double m = kept_median(t, c);
        const double dist = fabs(log(t->cand[c].trim)), held = fabs(log(t->cand[chosen].trim));
        if (t->cand[c].modes >= 0 && m <= best * TRIM_BAND &&
            (dist < held || (dist == held && m < *median))) {
            chosen = c;
            *median = m;
        }
    }
    return chosen;
}

/* The measured-modes candidate (modes 0) with the lowest median latency, or -1 when none was
 * timed. */
static int fastest_modes(const hidp__tuner *t)
{
    int fastest = -1;
    for (int k = 0; k < t->n_cand; k++)
        if (t->cand[k].modes == 0 && t->n_kept[k] > 0 &&
            (fastest < 0 || kept_median(t, k) < kept_median(t, fastest)))
            fastest = k;
    return fastest;
}

/* Adds candidate c to the finalists unless one with the same modes, trim and stripes is there
 * already; median_s as timed in the last phase (NAN: it was not a candidate there). */
static void add_finalist(hidp__tuner *t, candidate c, double median_s)
{
    for (int k = 0; k < t->n_final; k++)
        if (t->final[k].modes == c.modes && t->final[k].trim == c.trim &&
            t->final[k].chunks == c.chunks)
            return;
    t->final[t->n_final] = c;
    t->final_s[t->n_final++] = median_s;
}

/* The last phase's median of the candidate with these modes (trim 1, stripes on), NAN if none. */
static double median_of(const hidp__tuner *t, int modes)
{
    for (int k = 0; k < t->n_cand; k++)
        if (t->cand[k].modes == modes && t->n_kept[k] > 0)
            return kept_median(t, k);
    return NAN;
}

/* The finalists: the chosen plan, the runner-up of the last phase, and the two plans that stand
 * without the layer phases' verdicts, the one estimated at prepare and every layer alone (the
 * plan to fall back on should the slower cores stop being worth their wake-ups). */
static void choose_finalists(hidp__tuner *t)
{
    t->n_final = 0;
    const int chosen = t->chosen_cand;
    add_finalist(t, t->cand[chosen], kept_median(t, chosen));
    int second = -1;
    for (int k = 0; k < t->n_live; k++) {
        const int c = t->live[k];
        if (c != chosen && (second < 0 || kept_median(t, c) < kept_median(t, second)))
            second = c;
    }
    if (second >= 0)
        add_finalist(t, t->cand[second], kept_median(t, second));
    add_finalist(t, (candidate){ESTIMATE, 1.0, 0}, median_of(t, ESTIMATE));
    add_finalist(t, (candidate){ALONE, 1.0, 0}, median_of(t, ALONE));
}

/* Ends a whole-run phase: the live candidate with the lowest median latency (the earlier on a
 * tie: measured modes before the estimate, the estimate before every layer solo, and trims in
 * the order of trims[]). When the first pass chose measured modes at a trim other than 1, the
 * layers are measured again at that trim: a layer that did not repay sharing at the calibrated
 * shares may at the trimmed ones. So they are too when every layer alone or the estimate won
 * and the fastest measured modes, at a trim other than 1, came within RETRIM_MARGIN of it; the
 * winner then runs again beside the new modes. (On bench/little_core.sh's quota core, every
 * layer alone beat MobileNet-V2's layers measured at x1 at every trim, 8.25 ms against 8.24
 * to 8.93; measured again at x2 they split 29 of 55 layers and took 7.81 ms.) */
static void choose_whole(hidp__tuner *t)
{
    double best;
    t->chosen_cand = verdict(t, &best);
    note_medians(t);
    const candidate c = t->cand[t->chosen_cand];
    int again = c.modes == 0 && c.trim != 1.0 ? t->chosen_cand : -1;
    if (c.modes < 0) {
        const int m = fastest_modes(t);
        if (m >= 0 && t->cand[m].trim != 1.0 && kept_median(t, m) <= best * RETRIM_MARGIN)
            again = m;
    }
    if (t->pass == 0 && again >= 0) {
        t->pass = 1;
        t->layer_trim = t->cand[again].trim;
        t->layer_chunks = t->cand[again].chunks;
        t->rival = c.modes < 0 ? c.modes : 0;
        t->trial = 0;
        t->phase = PHASE_LAYERS;
        return;
    }
    choose_finalists(t);
    t->phase = PHASE_DONE;
}

/* Ends a round of whole runs (hidp__end_round): the candidates far behind the best drop out,
 * and once the rounds are over the phase ends. */
static void end_round(hidp__tuner *t)
{
    t->round++;
    t->slot = 0;
    double medians[MAX_CANDIDATES];
    live_medians(t, medians);
    if (hidp__end_round(t->live, &t->n_live, medians, t->n_kept, t->round, &t->pruned))
        choose_whole(t);
}

void hidp__tuner_feed(hidp__tuner *t, const double *layer_s, double total_s)
{
    t->made += t->phase != PHASE_DONE;
    if (t->phase == PHASE_LAYERS) {
        const int round = t->trial / 2;
        double *row = (t->trial % 2 == 0 ? t->split_s : t->solo_s) + (size_t)round * (size_t)t->n;
        memcpy(row, layer_s, (size_t)t->n * sizeof *row);
        if (t->trial % 2 == 0)
            t->split_total[round] = total_s;
        if (++t->trial == 2 * HIDP__TUNE_LAYER_ROUNDS)
            choose_layers(t);
    } else if (t->phase == PHASE_WHOLE) {
        /* a block's first run still pays for the run before (a cache, a spent CPU quota) */
        const int cand = t->live[t->slot / t->block];
        if (t->slot % t->block > 0)
            t->kept[(size_t)cand * MAX_KEPT + (size_t)t->n_kept[cand]++] = total_s;
        if (++t->slot == t->n_live * t->block)
            end_round(t);
    }
}

int hidp__tuner_times_layers(const hidp__tuner *t)
{
    return t->phase == PHASE_LAYERS;
}

int hidp__tuner_split_layers(const hidp__tuner *t)
{
    const candidate *c = &t->cand[t->chosen_cand];
    if (c->modes == ESTIMATE)
        return -1;
    if (c->modes == ALONE)
        return 0;
    int count = 0;
    for (int i = 0; i < t->n; i++)
        count += t->chosen[c->modes][i] == HIDP__PLAN_SPLIT;
    return count;
}

double hidp__tuner_trim(const hidp__tuner *t)
{
    return t->cand[t->chosen_cand].trim;
}

const char *hidp__tuner_medians(const hidp__tuner *t)
{
    return t->medians;
}

int hidp__tuner_trials(const hidp__tuner *t)
{
    return t->made;
}

int hidp__tuner_solo_times(const hidp__tuner *t, double *solo_s)
{
    if (t->phase == PHASE_LAYERS)
        return 0;
    for (int i = 0; i < t->n; i++)
        solo_s[i] = t->splittable[i] ? median(t->solo_s + i, HIDP__TUNE_LAYER_ROUNDS, t->n) : 0;
    return 1;
}

int hidp__tuner_finalists(const hidp__tuner *t)
{
    return t->phase == PHASE_DONE ? t->n_final : 0;
}

double hidp__tuner_finalist(const hidp__tuner *t, int i, signed char *mode, double *trim,
                            int *stripes)
{
    fill_plan(t, &t->final[i], mode, trim, stripes);
    return t->final_s[i];
}

int hidp__tuner_block(const hidp__tuner *t)
{
    return t->block;
}
