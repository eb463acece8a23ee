/*
 * plan_check.h - a check shared by the tests that hand the executor plans of their own
 * (test_tune on equal cores, test_topo on a slower core): random plans, where each worker waits,
 * and outputs that must not move.
 */
#ifndef HIDP_TEST_PLAN_CHECK_H
#define HIDP_TEST_PLAN_CHECK_H

#include <stddef.h>

#include "../engine/model.h"

/* Whether worker w of m's executor should wait at the barrier after node: at the last node,
 * worker 0 only; elsewhere a worker of the fastest kind always, a slower one when it has a slice
 * in a node after this one up to the next barrier. 0 where there is no barrier. */
int plan_check_should_wait(const hidp_model *m, int node, int w);

/* The zoo models the tests build run at 64x64 and give 1000 scores. */
enum { PLAN_CHECK_IMG = 3 * 64 * 64, PLAN_CHECK_SCORES = 1000 };

/* Runs the prepared m once on input (PLAN_CHECK_IMG floats) and copies its PLAN_CHECK_SCORES
 * scores to scores. 0, or the failing call's code (HIDP_ESHAPE for another count). */
int plan_check_scores(hidp_model *m, const float *input, float *scores);

/* Builds zoo model `name` at 64x64 in ctx (seed 1), fills in (PLAN_CHECK_IMG floats) with the
 * test pattern, runs the model once with the reference kernels on it and keeps its scores in
 * ref; *m stays loaded (the caller destroys it), back on the optimized kernels for its next
 * prepare. 0, or the failing call's code. */
int plan_check_reference(hidp_context *ctx, const char *name, float *in, float *ref,
                         hidp_model **m);

/* The largest |a[i] - b[i]| over n floats. (Written out: fmax() in such a loop made Debian 12's
 * aarch64 cross GCC crash.) */
double plan_check_max_diff(const float *a, const float *b, size_t n);

typedef struct plan_check_result {
    int plans;    /* plans made and run */
    int wrong;    /* (node, worker) pairs where the executor's waits differ from the rule */
    int waits;    /* waits, and arrivals that go on without waiting, over all plans */
    int passes;
    double worst; /* largest |output - reference| over every run, INFINITY if one failed */
} plan_check_result;

/* Gives m's executor `plans` random plans (each node split or on worker 0 alone, from seed)
 * and runs each four times, alternating in[0] and in[1] (count floats each) against their
 * reference outputs ref[0] and ref[1] (ref_count floats). Alternating matters: with one input,
 * a worker that read a value before its producer finished would still find the right numbers
 * there, left by the run before. */
plan_check_result plan_check_random(hidp_model *m, int plans, unsigned seed,
                                    const float *const in[2], size_t count,
                                    const float *const ref[2], size_t ref_count);

#endif
