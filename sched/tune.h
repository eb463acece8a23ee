/*
 * tune.h - the local plan's measured refinement: which layers to split and how far to trust the
 * slower cores' calibrated shares, decided from the model's own first runs.
 *
 * Calibration gives each core kind a speed; from it and a size rule the executor makes a first
 * plan. The tuner then measures instead of estimating. It asks for trial plans, one per run, and
 * is fed each trial's wall time, and in step 1 (and 3) each layer's:
 *   1. layers: rounds of "every layer split" and "every layer on the fastest worker alone"; each
 *      layer keeps whichever had the lower median (a layer too short to repay a barrier and a
 *      wake-up stays solo, whatever its FLOP count);
 *   2. whole runs: rounds of those modes with the slower workers' shares times 1, 0.8, 0.6,
 *      1.25, 1.6, 2 and 2.5 (only with cores of unequal speed: a core whose speed varies within
 *      a run, one throttled by a CPU quota or a little core sharing its cluster's clock, is
 *      faster or slower in the short bursts of one layer than its calibrated average says),
 *      of the plan estimated at prepare and of every layer on the fastest worker alone (when
 *      step 1 split any); after the first round with two runs of each counted only those
 *      within 10% of the best go on, after later ones those within 5%, and the candidate with
 *      the lowest median latency stays, but for a tie: of the measured modes within 2% of it,
 *      the trim nearest 1 stays. Layers measured one by one can each gain and still lose
 *      together (a slow core's quota spent early), which only whole runs show;
 *   3. when 2 chose a trim other than 1, or chose every layer alone (or the estimate) with the
 *      best modes at a trim other than 1 within 10% of it: the layers again, split at that trim,
 *      then whole runs of both layer phases' modes at that trim, and of 2's winner when it was
 *      not modes (a layer not worth sharing at the calibrated shares may be at the trimmed
 *      ones).
 * It never sees the executor: the plan is a mode per layer (exec.h's HIDP__PLAN_*) and a trim.
 */
#ifndef HIDP_TUNE_H
#define HIDP_TUNE_H

#include "../engine/error.h"
#include "median.h"

typedef struct hidp__tuner hidp__tuner;

/* Rounds of each phase: enough for a median that one disturbed run cannot move. In the
 * whole-run phase each candidate runs a block of consecutive runs per round, long enough to last
 * block_min_s (at least 2, at most MAX_BLOCK runs), and the first run of each block is not
 * counted: it still pays for what the run before did (a spent CPU quota, caches), and on a
 * throttled core that would charge one candidate for another's appetite. Trials in all:
 * 2 x LAYER_ROUNDS, then a round of blocks of every candidate (2, or 8 with cores of unequal
 * speed, 15 when the executor has stripes, and one more for the fastest worker alone when a
 * layer is split; with blocks of 2, a second such round, as none is dropped on one run) and up
 * to WHOLE_ROUNDS - 1 more of those within the margin of the best (none when one is left), or
 * up to MAX_WHOLE_ROUNDS - 1 while they have fewer than MIN_KEPT runs counted; with step 3 as
 * much again for its 2 or 3 candidates. */
#define HIDP__TUNE_LAYER_ROUNDS 5
#define HIDP__TUNE_MAX_BLOCK 32
/* A whole-run phase goes on past WHOLE_ROUNDS, up to MAX_WHOLE_ROUNDS, until every candidate
 * still in it has MIN_KEPT runs counted (sched/median.h's rounds, the watch's too): a model whose
 * run outlasts block_min_s has blocks of 2, one run counted per round, and 3 runs of a noisy
 * machine do not tell candidates 2% apart. */
#define HIDP__TUNE_WHOLE_ROUNDS HIDP__ROUNDS_MIN
#define HIDP__TUNE_MAX_WHOLE_ROUNDS HIDP__ROUNDS_MAX
#define HIDP__TUNE_MIN_KEPT HIDP__ROUNDS_MIN_KEPT

/* A tuner for n layers; splittable[i] says whether layer i can be split at all (others stay
 * solo); unequal: the workers' shares differ, so trims are tried; striped: the executor has
 * stripes (engine/stripe.h), so each trim is tried with them and without (the layers split one
 * by one, in chunks); block_min_s: how long a block
 * of whole runs should last (0: blocks of 2). HIDP_ENOMEM. The caller
 * owns *out (hidp__tuner_destroy). */
int hidp__tuner_create(hidp__tuner **out, int n, const char *splittable, int unequal,
                       int striped, double block_min_s, hidp__err *err);
void hidp__tuner_destroy(hidp__tuner *t);

/* The plan for the next run: mode[0..n), *trim and whether the stripes are on (*stripes; -1
 * when the tuner was made without stripes: they stay as they are).
 * Returns 1 when this is a trial whose times must be fed back, 0 when tuning is over (mode,
 * trim and stripes then hold the chosen plan). */
int hidp__tuner_next(hidp__tuner *t, signed char *mode, double *trim, int *stripes);

/* Whether the trial hidp__tuner_next just gave needs each layer's time (the layer phase's
 * trials), or only the whole run's (the whole-run candidates), which can then be run and timed
 * as any other run: with the slower core's shares taken back, when they are. */
int hidp__tuner_times_layers(const hidp__tuner *t);

/* The trial's results: each layer's wall time (unused when hidp__tuner_times_layers said 0)
 * and the whole run's, in seconds. */
void hidp__tuner_feed(hidp__tuner *t, const double *layer_s, double total_s);

/* After tuning: how many layers are split (-1: the estimated plan won, the executor decides;
 * 0 also when every layer on the fastest worker alone won), and the chosen trim. */
int hidp__tuner_split_layers(const hidp__tuner *t);
double hidp__tuner_trim(const hidp__tuner *t);
/* After tuning, the finalists (at most HIDP__TUNE_FINALISTS; 0 when nothing was tuned): the
 * chosen plan first, then the runner-up of the last whole-run phase, the plan estimated at
 * prepare and every layer on the fastest worker alone, each once. What a later check
 * (watch.h) times again when the machine's speed drifts. */
#define HIDP__TUNE_FINALISTS 4
int hidp__tuner_finalists(const hidp__tuner *t);
/* Finalist i's plan (as hidp__tuner_next gives it), and its median whole run in seconds in the
 * last whole-run phase (NAN when it was not timed there). */
double hidp__tuner_finalist(const hidp__tuner *t, int i, signed char *mode, double *trim,
                            int *stripes);
/* Runs of one candidate in a row in the whole-run phase. */
int hidp__tuner_block(const hidp__tuner *t);
/* Once the layer phase is over (returns 1, else 0): each layer's median time alone on the
 * fastest worker (0 for layers that cannot be split). */
int hidp__tuner_solo_times(const hidp__tuner *t, double *solo_s);

/* The whole-run candidates measured so far and their medians, one phase after another ("" before
 * the first whole-run phase ends). */
const char *hidp__tuner_medians(const hidp__tuner *t);

/* The trials made so far (once done: in all). */
int hidp__tuner_trials(const hidp__tuner *t);

#endif
