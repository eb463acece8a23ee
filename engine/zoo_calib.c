/*
 * zoo_calib.c - the zoo's calibration pass: one forward run of a freshly built graph on a seeded
 * normal(0,1) input, on the calling thread, with the ops' optimized kernels driven directly
 * (parse, reshape, run over the whole output) rather than through the model and memory plan, so
 * that each BatchNormalization's statistics can be filled from its actual input just before it
 * runs: every later layer then sees activations already normalized, as in a trained network.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "zoo.h"
#include "../ops/op.h"

static float *alloc_floats(int64_t count)
{
    size_t bytes = ((size_t)(count > 0 ? count : 1) * sizeof(float) + 63) / 64 * 64;
    return aligned_alloc(64, bytes);
}

/* Pseudo-count pulling per-channel statistics toward the whole layer's: negligible on real
 * feature maps (thousands of pixels per channel), but at the tiny sizes the tests use a 1x1 map
 * gives each channel a single value and a variance of 0, which would make the BatchNorm divide
 * by sqrt(eps) for every other input. */
#define SHRINK 4.0

/* Sets inputs 3 (mean) and 4 (var) of BatchNormalization n to its input's statistics per
 * channel (dim 1), over batch and pixels. */
static void fill_bn_stats(hidp__graph *g, const hidp__node *n)
{
    const hidp__value *x = hidp__in(g, n, 0);
    float *mean = (float *)g->vals[n->in[3]].data, *var = (float *)g->vals[n->in[4]].data;
    const float *d = x->data;
    hidp__view4 v = hidp__shape_view4(&x->shape);
    int64_t plane = v.h * v.w;
    double cnt = (double)(v.n * plane), all_s = 0, all_ss = 0;
    for (int64_t i = 0; i < v.n * v.c * plane; i++) {
        all_s += d[i];
        all_ss += (double)d[i] * d[i];
    }
    double total = cnt * (double)v.c, all_mean = all_s / total;
    double all_var = all_ss / total - all_mean * all_mean;
    for (int64_t c = 0; c < v.c; c++) {
        double s = 0, ss = 0;
        for (int64_t ni = 0; ni < v.n; ni++) {
            const float *p = d + (ni * v.c + c) * plane;
            for (int64_t i = 0; i < plane; i++)
                s += p[i];
        }
        double m = s / cnt;
        for (int64_t ni = 0; ni < v.n; ni++) {
            const float *p = d + (ni * v.c + c) * plane;
            for (int64_t i = 0; i < plane; i++)
                ss += (p[i] - m) * (p[i] - m);
        }
        double mc = (cnt * m + SHRINK * all_mean) / (cnt + SHRINK);
        double vc = (cnt * (ss / cnt + (m - mc) * (m - mc)) + SHRINK * all_var) / (cnt + SHRINK);
        mean[c] = (float)mc;
        var[c] = vc > 1e-8 ? (float)vc : 1.0f;
    }
}

/* Scales the weight and bias (inputs 1 and 2) of n and its output so that the output has unit
 * root mean square: the stand-in for BatchNorm in layers that have none. */
static void rescale(hidp__graph *g, const hidp__node *n)
{
    hidp__value *y = hidp__out(g, n, 0);
    int64_t count = hidp__shape_count(&y->shape);
    float *d = y->data;
    double ss = 0;
    for (int64_t i = 0; i < count; i++)
        ss += (double)d[i] * d[i];
    if (count < 1 || ss <= 0)
        return;
    float s = (float)(1.0 / sqrt(ss / (double)count));
    for (int i = 1; i < 3 && i < n->n_in; i++) {
        hidp__value *w = hidp__in(g, n, i);
        if (!w)
            continue;
        float *p = w->data;
        for (int64_t k = 0, m = hidp__shape_count(&w->shape); k < m; k++)
            p[k] *= s;
    }
    for (int64_t i = 0; i < count; i++)
        d[i] *= s;
}

static double std_of(const float *d, int64_t count)
{
    double s = 0, ss = 0;
    for (int64_t i = 0; i < count; i++)
        s += d[i];
    double m = s / (double)(count > 0 ? count : 1);
    for (int64_t i = 0; i < count; i++)
        ss += (d[i] - m) * (d[i] - m);
    return sqrt(ss / (double)(count > 0 ? count : 1));
}

static int is_runtime(const hidp__graph *g, int v)
{
    return v >= 0 && !(g->vals[v].flags & HIDP__VAL_CONST);
}

int hidp__zoo_calibrate(hidp__graph *g, const char *normalize, uint64_t seed, int64_t batch,
                        double *out_std, hidp__err *err)
{
    int rc = 0;
    float *scratch = NULL;
    size_t scratch_cap = 0;
    int *uses = calloc((size_t)g->n_vals + 1, sizeof *uses);
    if (!uses)
        return hidp__fail(err, HIDP_ENOMEM, "out of memory calibrating the model");
    for (int i = 0; i < g->n_nodes && rc == 0; i++) {
        hidp__node *n = &g->nodes[i];
        n->op = hidp__op_find(n->op_type);
        if (!n->op)
            rc = hidp__fail(err, HIDP_EUNSUPPORTED, "%s '%s': no such op", n->op_type, n->name);
        else if (n->op->parse)
            rc = n->op->parse(g, n, err);
        for (int k = 0; k < n->n_in; k++)
            if (is_runtime(g, n->in[k]))
                uses[n->in[k]]++;
    }
    if (rc)
        goto done;
    if (g->n_inputs != 1 || g->n_outputs < 1) {
        rc = hidp__fail(err, HIDP_EINVAL, "calibration needs one input and an output");
        goto done;
    }
    hidp__value *x = &g->vals[g->inputs[0]];
    x->shape = x->decl;
    x->shape.d[0] = batch;
    int64_t count = hidp__shape_count(&x->shape);
    if (count < 1 || !(x->data = alloc_floats(count))) {
        rc = hidp__fail(err, HIDP_ENOMEM, "out of memory calibrating the model");
        goto done;
    }
    uint64_t state = seed ^ 0x6a09e667f3bcc909ull; /* a stream apart from the weights' */
    double spare = 0;
    int has_spare = 0;
    for (int64_t i = 0; i < count; i++)
        ((float *)x->data)[i] = (float)hidp__zoo_normal(&state, &spare, &has_spare);

    for (int i = 0; i < g->n_nodes; i++) {
        hidp__node *n = &g->nodes[i];
        if (strcmp(n->op_type, "BatchNormalization") == 0)
            fill_bn_stats(g, n);
        if ((rc = n->op->reshape(g, n, err)) != 0)
            goto done;
        hidp__value *y = hidp__out(g, n, 0);
        if (!(y->data = alloc_floats(hidp__shape_count(&y->shape)))) {
            rc = hidp__fail(err, HIDP_ENOMEM, "out of memory calibrating the model");
            goto done;
        }
        if (n->scratch > scratch_cap) {
            free(scratch);
            scratch_cap = n->scratch;
            if (!(scratch = alloc_floats((int64_t)scratch_cap))) {
                rc = hidp__fail(err, HIDP_ENOMEM, "out of memory calibrating the model");
                goto done;
            }
        }
        hidp__slice all = hidp__slice_all(g, n);
        n->op->run(g, n, all, scratch);
        if (n->act.kind != HIDP__ACT_NONE && !(n->op->flags & HIDP__OP_FUSES_ACT))
            hidp__act_apply_slice(g, n, all);
        if (normalize && normalize[i])
            rescale(g, n);
        /* Activations are freed after their last reader, so the pass holds a few at a time. */
        for (int k = 0; k < n->n_in; k++) {
            int v = n->in[k];
            if (is_runtime(g, v) && --uses[v] == 0 && !(g->vals[v].flags & HIDP__VAL_OUTPUT)) {
                free(g->vals[v].data);
                g->vals[v].data = NULL;
            }
        }
    }
    hidp__value *out = &g->vals[g->outputs[0]];
    if (out_std)
        *out_std = std_of(out->data, hidp__shape_count(&out->shape));
    /* The file declares the output of one image. */
    for (int i = 0; i < g->n_outputs; i++)
        g->vals[g->outputs[i]].shape.d[0] = g->vals[g->inputs[0]].decl.d[0];
done:
    for (int v = 0; v < g->n_vals; v++)
        if (is_runtime(g, v)) {
            free(g->vals[v].data);
            g->vals[v].data = NULL;
        }
    free(scratch);
    free(uses);
    return rc;
}
