/*
 * plan_check.c - random plans for the executor, checked (see plan_check.h).
 */
#include "plan_check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/exec.h"
#include "hidp.h"

int plan_check_should_wait(const hidp_model *m, int node, int w)
{
    const int n = m->g.n_nodes;
    if (!hidp__exec_barrier_after(m->exec, node))
        return 0;
    if (node == n - 1)
        return w == 0;
    if (!hidp__exec_slower(m->exec, w))
        return 1;
    for (int j = node + 1; j < n; j++) {
        const hidp__slice s = hidp__exec_slice(m->exec, j, w);
        if (s.c1 > s.c0 && s.h1 > s.h0)
            return 1;
        if (hidp__exec_barrier_after(m->exec, j))
            break;
    }
    return 0;
}

/* Runs m on input and returns the largest |output - want|, INFINITY if the run fails. */
static double diff_on(hidp_model *m, const float *input, size_t count, const float *want,
                      size_t want_count)
{
    const float *out = NULL;
    size_t got = 0;
    if (hidp_model_set_input(m, 0, input, count) != 0 || hidp_model_run(m) != 0 ||
        hidp_model_output(m, 0, &out, &got) != 0 || got != want_count)
        return INFINITY;
    return plan_check_max_diff(out, want, want_count);
}

double plan_check_max_diff(const float *a, const float *b, size_t n)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = fabs((double)a[i] - b[i]);
        worst = d > worst ? d : worst;
    }
    return worst;
}

plan_check_result plan_check_random(hidp_model *m, int plans, unsigned seed,
                                    const float *const in[2], size_t count,
                                    const float *const ref[2], size_t ref_count)
{
    plan_check_result r = {0, 0, 0, 0, 0};
    const int n = m->g.n_nodes, t = hidp__exec_threads(m->exec);
    signed char *mode = malloc(n > 0 ? (size_t)n : 1);
    if (!mode) {
        r.worst = INFINITY;
        return r;
    }
    for (int p = 0; p < plans; p++) {
        for (int i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            mode[i] = (seed >> 16) % 3 == 0 ? HIDP__PLAN_SPLIT : HIDP__PLAN_SOLO;
        }
        hidp__err err = {0, ""};
        if (hidp__exec_plan(m->exec, mode, 1.0, &err) != 0) {
            r.worst = INFINITY;
            break;
        }
        r.plans++;
        for (int i = 0; i < n; i++)
            for (int w = 0; w < t; w++) {
                const int want = plan_check_should_wait(m, i, w);
                const int got = hidp__exec_waits(m->exec, i, w);
                r.wrong += want != got;
                r.waits += got;
                r.passes += hidp__exec_barrier_after(m->exec, i) && !got;
            }
        for (int k = 0; k < 4; k++) {
            const double d = diff_on(m, in[k % 2], count, ref[k % 2], ref_count);
            r.worst = d > r.worst ? d : r.worst;
        }
    }
    free(mode);
    return r;
}

int plan_check_scores(hidp_model *m, const float *input, float *scores)
{
    const float *out = NULL;
    size_t count = 0;
    int rc = hidp_model_set_input(m, 0, input, PLAN_CHECK_IMG);
    if (rc == 0)
        rc = hidp_model_run(m);
    if (rc == 0)
        rc = hidp_model_output(m, 0, &out, &count);
    if (rc == 0 && count != PLAN_CHECK_SCORES)
        rc = HIDP_ESHAPE;
    if (rc == 0)
        memcpy(scores, out, PLAN_CHECK_SCORES * sizeof *scores);
    return rc;
}

int plan_check_reference(hidp_context *ctx, const char *name, float *in, float *ref, hidp_model **m)
{
    void *onnx = NULL;
    size_t size = 0;
    for (int i = 0; i < PLAN_CHECK_IMG; i++)
        in[i] = (float)((i * 7919) % 101) / 50.0f - 1.0f;
    int rc = hidp_zoo_build(ctx, name, 1, 64, &onnx, &size);
    if (rc == 0)
        rc = hidp_model_load_memory(ctx, onnx, size, m);
    hidp_free(onnx);
    if (rc == 0)
        rc = hidp__model_set_reference(*m, 1);
    if (rc == 0)
        rc = hidp_model_prepare(*m);
    if (rc == 0)
        rc = plan_check_scores(*m, in, ref);
    if (*m)
        hidp__model_set_reference(*m, 0);
    return rc;
}
