/*
 * bench_kernels_im2col.c - `bench_kernels im2col`: how fast hidp__im2col_pack lays the patches
 * of a conv's input out as packed GEMM panels, against packing an explicit patch matrix and
 * against a memcpy of as many bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "../ops/im2col.h"
#include "bench_kernels.h"

/* The packers run block by block as hidp__sgemm calls them: for each NC columns, for each KC
 * rows, one kc x nc block into a buffer that stays in cache. KC and NC mirror ops/sgemm.c's
 * SGEMM_KC and SGEMM_NC (--block changes them). */
#define KB_KC 256
#define KB_NC 288

typedef struct pack_job {
    hidp__conv_geom g;
    const float *x;       /* the conv's input [c, h, w] */
    hidp__sgemm_matrix mat; /* the same patch matrix, explicit ([K, pixels]) */
    const float *src;     /* memcpy source: K x pixels floats */
    float *dst;           /* one packed block */
    int64_t k, pix, kc, nc;
    int nr, which;        /* 0: im2col, 1: plain matrix, 2: memcpy */
} pack_job;

static void pack_work(void *arg, long count)
{
    const pack_job *j = arg;
    hidp__im2col_src isrc = {&j->g, j->x, 0};
    for (long r = 0; r < count; r++)
        for (int64_t n0 = 0; n0 < j->pix; n0 += j->nc) {
            const int64_t nc = j->pix - n0 < j->nc ? j->pix - n0 : j->nc;
            for (int64_t k0 = 0; k0 < j->k; k0 += j->kc) {
                const int64_t kc = j->k - k0 < j->kc ? j->k - k0 : j->kc;
                if (j->which == 0)
                    hidp__im2col_pack(&isrc, k0, kc, n0, nc, j->nr, j->dst);
                else if (j->which == 1)
                    hidp__sgemm_pack_b_matrix(&j->mat, k0, kc, n0, nc, j->nr, j->dst);
                else
                    memcpy(j->dst, j->src + (n0 * j->k + k0 * nc), (size_t)(kc * nc) * 4);
            }
        }
}

int kb_im2col_main(const kb_opts *o)
{
    enum { MAXS = 64 };
    /* C, H, W, kernel, stride: ResNet's 3x3 convs (stride 2 where a stage starts) and its 7x7
     * stem; pads are kernel / 2. */
    int64_t v[MAXS][6] = {{64, 56, 56, 3, 1},  {128, 56, 56, 3, 2}, {128, 28, 28, 3, 1},
                          {256, 28, 28, 3, 2}, {256, 14, 14, 3, 1}, {512, 14, 14, 3, 2},
                          {512, 7, 7, 3, 1},   {3, 224, 224, 7, 2}};
    int ns = 8;
    if (o->shapes && (ns = kb_parse_lists("--shapes", o->shapes, 5, v, MAXS)) < 0)
        return 2;
    int64_t kcb = o->block_kc > 0 ? o->block_kc : KB_KC, ncb = o->block_nc > 0 ? o->block_nc
                                                                               : KB_NC;
    static const kb_col cols[] = {
        {"c", 4, 0},          {"h", 4, 0},          {"w", 4, 0},           {"k", 2, 0},
        {"s", 2, 0},          {"pixels", 6, 0},     {"cols_mb", 7, 2},     {"im2col_ms", 9, 3},
        {"im2col_gbs", 10, 2}, {"pack_gbs", 8, 2},  {"memcpy_gbs", 10, 2}, {"ratio", 6, 3},
    };
    const int nc = (int)(sizeof cols / sizeof cols[0]);
    kb_meta(o, "im2col");
    kb_note(o, "GB/s of packed B panels written (K x pixels floats, nr=%d), %lld x %lld blocks "
            "as hidp__sgemm packs them: hidp__im2col_pack from the conv input, "
            "hidp__sgemm_pack_b_matrix from an explicit patch matrix (pack_gbs), and a memcpy "
            "of as many bytes; ratio = im2col / memcpy; one thread", o->kern->nr,
            (long long)kcb, (long long)ncb);
    kb_header(o, cols, nc);
    for (int i = 0; i < ns; i++) {
        pack_job j;
        memset(&j, 0, sizeof j);
        hidp__conv_geom *g = &j.g;
        g->n = 1, g->c = g->cg = v[i][0], g->h = v[i][1], g->w = v[i][2];
        g->kh = g->kw = v[i][3], g->sh = g->sw = v[i][4], g->dh = g->dw = 1;
        g->pt = g->pl = g->pb = g->pr = v[i][3] / 2;
        g->oh = (g->h + 2 * g->pt - g->kh) / g->sh + 1;
        g->ow = (g->w + 2 * g->pl - g->kw) / g->sw + 1;
        g->group = 1, g->m = g->mg = 1;
        if (g->oh < 1 || g->ow < 1) {
            fprintf(stderr, "bench_kernels: im2col shape %d: kernel larger than the input\n", i);
            return 2;
        }
        j.k = g->c * g->kh * g->kw, j.pix = g->oh * g->ow, j.nr = o->kern->nr;
        j.kc = kcb, j.nc = ncb;
        size_t nx = (size_t)(g->c * g->h * g->w), nm = (size_t)(j.k * j.pix);
        size_t nd = (size_t)(j.kc * ((j.nc + j.nr - 1) / j.nr * j.nr));
        float *x = malloc(nx * sizeof *x), *m = malloc(nm * sizeof *m);
        float *dst = malloc(nd * sizeof *dst);
        if (!x || !m || !dst) {
            free(x), free(m), free(dst);
            fprintf(stderr, "bench_kernels: out of memory for im2col shape %d\n", i);
            return 1;
        }
        kb_fill(x, nx, 3);
        kb_fill(m, nm, 4);
        j.x = x, j.src = m, j.dst = dst, j.mat = (hidp__sgemm_matrix){m, j.pix};
        double ms[3];
        for (j.which = 0; j.which < 3; j.which++)
            ms[j.which] = kb_time_ms(o, pack_work, &j);
        double bytes = (double)nm * sizeof(float);
        double gi = bytes / (ms[0] * 1e6), gp = bytes / (ms[1] * 1e6), gm = bytes / (ms[2] * 1e6);
        kb_val r[] = {{NULL, (double)g->c}, {NULL, (double)g->h}, {NULL, (double)g->w},
                      {NULL, (double)g->kh}, {NULL, (double)g->sh}, {NULL, (double)j.pix},
                      {NULL, bytes / 1e6}, {NULL, ms[0]}, {NULL, gi}, {NULL, gp}, {NULL, gm},
                      {NULL, gi / gm}};
        kb_row(o, "im2col", cols, nc, r);
        free(x), free(m), free(dst);
    }
    return 0;
}
