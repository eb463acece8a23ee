/*
 * bench_kernels.c - kernel microbenchmarks: hidp's sgemm against OpenBLAS's cblas_sgemm on conv
 * GEMM shapes, im2col against memcpy, every conv layer of a model alone (bench_kernels_conv.c),
 * the core's measured FMA peak (peak.c), memory bandwidth alone and on every core at once
 * (bench_kernels_stream.c), and what one core pays to read another's writes
 * (bench_kernels_xcore.c). Figures are printed, never checked: this is a tool
 * for a person tuning a board, not a test (test/test_bench_kernels.sh only checks it runs).
 *
 * usage: bench_kernels sgemm|im2col|conv MODEL|peak|stream|xcore [options]; see usage() below.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "bench_kernels.h"
#include "peak.h"

#define KB_MAX_REPS 10000

/* ---- sgemm ---- */

typedef struct named_shape {
    const char *name;
    int64_t m, n, k;
} named_shape;

/* ResNet-50's conv GEMM shapes at 224x224 (M = output channels, N = output pixels,
 * K = input channels x kernel area), each once, then three squares. */
static const named_shape resnet50_shapes[] = {
    {"conv1", 64, 12544, 147},           {"l1.1x1.64-64", 64, 3136, 64},
    {"l1.3x3", 64, 3136, 576},           {"l1.1x1.64-256", 256, 3136, 64},
    {"l1.1x1.256-64", 64, 3136, 256},    {"l2.1x1.256-128", 128, 3136, 256},
    {"l2.3x3", 128, 784, 1152},          {"l2.1x1.128-512", 512, 784, 128},
    {"l2.ds", 512, 784, 256},            {"l2.1x1.512-128", 128, 784, 512},
    {"l3.1x1.512-256", 256, 784, 512},   {"l3.3x3", 256, 196, 2304},
    {"l3.1x1.256-1024", 1024, 196, 256}, {"l3.ds", 1024, 196, 512},
    {"l3.1x1.1024-256", 256, 196, 1024}, {"l4.1x1.1024-512", 512, 196, 1024},
    {"l4.3x3", 512, 49, 4608},           {"l4.1x1.512-2048", 2048, 49, 512},
    {"l4.ds", 2048, 49, 1024},           {"l4.1x1.2048-512", 512, 49, 2048},
    {"sq256", 256, 256, 256},            {"sq512", 512, 512, 512},
    {"sq1024", 1024, 1024, 1024},
};

static int sgemm_main(const kb_opts *o)
{
    enum { MAXS = 64 };
    named_shape shapes[MAXS];
    char names[MAXS][48];
    int ns = 0;
    if (o->shapes) {
        int64_t v[MAXS][6];
        if ((ns = kb_parse_lists("--shapes", o->shapes, 3, v, MAXS)) < 0)
            return 2;
        for (int i = 0; i < ns; i++) {
            snprintf(names[i], sizeof names[i], "%lldx%lldx%lld", (long long)v[i][0],
                     (long long)v[i][1], (long long)v[i][2]);
            shapes[i] = (named_shape){names[i], v[i][0], v[i][1], v[i][2]};
        }
    } else {
        ns = (int)(sizeof resnet50_shapes / sizeof resnet50_shapes[0]);
        memcpy(shapes, resnet50_shapes, sizeof resnet50_shapes);
    }
    static const kb_col cols[] = {
        {"shape", 16, -1},      {"m", 5, 0},           {"n", 6, 0},
        {"k", 5, 0},            {"isa", 7, -1},        {"mflop", 8, 1},
        {"hidp_ms", 8, 3},      {"hidp_gflops", 11, 1}, {"cblas_gflops", 12, 1},
        {"ratio", 6, 3},        {"hidp_peak", 9, 3},   {"cblas_peak", 10, 3},
        {"peak_gflops", 11, 1}, {"max_err", 8, 1},
    };
    const int nc = (int)(sizeof cols / sizeof cols[0]);
    kb_meta(o, "sgemm");
    kb_note(o, "hidp = hidp__sgemm_plain (packs A on every call, as cblas_sgemm does); ratio = "
            "hidp / cblas; *_peak = fraction of peak_gflops (per-core peak x threads)");
    kb_header(o, cols, nc);
    double peak = o->peak * o->threads, lh = 0, lc = 0;
    int counted = 0;
    /* --isa all: every kernel this CPU runs, one row each. */
    static const char *const isas[] = {"avx512", "avx2", "generic"};
    const hidp__sgemm_kernel *kerns[3] = {o->kern};
    int nk = 1;
    if (o->all_isas)
        for (int i = nk = 0; i < 3; i++)
            if ((kerns[nk] = hidp__sgemm_find(isas[i])) != NULL)
                nk++;
    for (int i = 0; i < ns * nk; i++) {
        const named_shape *s = &shapes[i / nk];
        kb_opts ok = *o;
        ok.kern = kerns[i % nk];
        kb_gemm_times t;
        if (kb_gemm_time(&ok, s->m, s->n, s->k, 1, &t) != 0) {
            fprintf(stderr, "bench_kernels: out of memory for %s\n", s->name);
            return 1;
        }
        double fl = 2.0 * (double)s->m * (double)s->n * (double)s->k;
        double gh = kb_gflops(fl, t.hidp_ms), gc = kb_gflops(fl, t.cblas_ms);
        kb_val v[] = {{s->name, 0},   {NULL, (double)s->m}, {NULL, (double)s->n},
                      {NULL, (double)s->k}, {ok.kern->isa, 0}, {NULL, fl / 1e6},
                      {NULL, t.hidp_ms}, {NULL, gh}, {NULL, gc},
                      {NULL, gh / gc}, {NULL, gh / peak}, {NULL, gc / peak},
                      {NULL, peak}, {NULL, t.max_err}};
        /* Scientific notation reads better for an error; the table keeps fixed columns. */
        char err[32];
        snprintf(err, sizeof err, "%.1e", t.max_err);
        if (o->format == KB_TABLE)
            v[13] = (kb_val){err, 0};
        kb_row(o, "sgemm", cols, nc, v);
        if (gh > 0 && gc > 0 && ok.kern == o->kern)
            lh += log(gh), lc += log(gc), counted++;
    }
    if (counted) { /* of the default kernel's rows */
        double gh = exp(lh / counted), gc = exp(lc / counted);
        kb_val v[] = {{"geomean", 0}, {NULL, NAN}, {NULL, NAN}, {NULL, NAN},
                      {o->kern->isa, 0}, {NULL, NAN}, {NULL, NAN}, {NULL, gh}, {NULL, gc},
                      {NULL, gh / gc}, {NULL, gh / peak}, {NULL, gc / peak}, {NULL, peak},
                      {NULL, NAN}};
        kb_row(o, "geomean", cols, nc, v);
    }
    return 0;
}

/* ---- peak ---- */

static int peak_main(const kb_opts *o)
{
    kb_peak all[4];
    int n = kb_peak_measure_all(all, 4, 0.2);
    static const kb_col cols[] = {{"isa", 8, -1}, {"lanes", 5, 0}, {"gflops", 8, 1}};
    kb_meta(o, "peak");
    kb_header(o, cols, 3);
    for (int i = 0; i < n; i++) {
        kb_val v[] = {{all[i].isa, 0}, {NULL, all[i].lanes}, {NULL, all[i].gflops}};
        kb_row(o, "peak", cols, 3, v);
    }
    return 0;
}

/* ---- main ---- */

static void usage(FILE *f)
{
    fputs("usage: bench_kernels COMMAND [options]\n"
          "commands:\n"
          "  sgemm          hidp's sgemm vs cblas_sgemm on ResNet-50's conv GEMM shapes\n"
          "  im2col         hidp__im2col vs memcpy of as many bytes, ResNet 3x3 shapes\n"
          "  conv MODEL     every Conv of MODEL (an .onnx file or a zoo name) run alone vs\n"
          "                 cblas_sgemm and hidp's sgemm on the conv's GEMM shape\n"
          "  peak           the measured FMA peak of this core, per instruction set\n"
          "  stream         memory bandwidth of one core and of all cores at once (-t N: N\n"
          "                 of them), working sets in L2, L3 and DRAM\n"
          "  xcore          what one core pays to read another's writes: a cache line's\n"
          "                 handoff, and reads of data the other core has just written\n"
          "options:\n"
          "  -t, --threads N   hidp workers and OpenBLAS threads (default 1)\n"
          "  -r, --reps N      timed samples per item, median reported (default 10)\n"
          "      --time S      stop sampling an item after S seconds (default 0.2)\n"
          "      --csv         CSV (a header line, '# ' comment lines) instead of a table\n"
          "      --json        one JSON object per line (the first has kind \"meta\")\n"
          "      --peak G      per-core peak in GFLOP/s instead of measuring it\n"
          "      --isa NAME    hidp sgemm kernel: avx512, avx2 or generic (default: the best\n"
          "                    this CPU runs); sgemm also takes 'all': a row per kernel\n"
          "      --shapes L    sgemm: \"M,N,K;...\"; im2col: \"C,H,W,K,S;...\"\n"
          "      --block KC,NC im2col: rows and columns per packed block (default 256,288)\n"
          "      --seed N      conv on a zoo name: weight seed (default 1)\n"
          "      --image N     conv on a zoo name: input height and width (default 224)\n"
          "  -h, --help        this text\n"
          "OPENBLAS_CORETYPE (e.g. Haswell, SkylakeX) forces OpenBLAS's kernel; the figures\n"
          "say which one ran.\n",
          f);
}

static int parse_num(const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !(v >= lo && v <= hi)) {
        fprintf(stderr, "bench_kernels: %s: '%s' is not a number in [%g, %g]\n", opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    kb_opts o = {.threads = 1, .reps = 10, .budget_s = 0.2, .format = KB_TABLE,
                 .seed = 1, .out = stdout};
    double peak_given = 0, d;
    const char *isa = NULL;
    enum { O_TIME = 256, O_CSV, O_JSON, O_PEAK, O_ISA, O_SHAPES, O_BLOCK, O_SEED, O_IMAGE };
    static const struct option opts[] = {
        {"threads", required_argument, NULL, 't'}, {"reps", required_argument, NULL, 'r'},
        {"time", required_argument, NULL, O_TIME}, {"csv", no_argument, NULL, O_CSV},
        {"json", no_argument, NULL, O_JSON},       {"peak", required_argument, NULL, O_PEAK},
        {"isa", required_argument, NULL, O_ISA},   {"shapes", required_argument, NULL, O_SHAPES},
        {"block", required_argument, NULL, O_BLOCK}, {"seed", required_argument, NULL, O_SEED},
        {"image", required_argument, NULL, O_IMAGE}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "t:r:h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (parse_num("-t", optarg, 1, 64, &d))
                return 2;
            o.threads = (int)d;
            break;
        case 'r':
            if (parse_num("-r", optarg, 1, KB_MAX_REPS, &d))
                return 2;
            o.reps = (int)d;
            break;
        case O_TIME:
            if (parse_num("--time", optarg, 0, 3600, &o.budget_s))
                return 2;
            break;
        case O_CSV: o.format = KB_CSV; break;
        case O_JSON: o.format = KB_JSON; break;
        case O_PEAK:
            if (parse_num("--peak", optarg, 1e-3, 1e7, &peak_given))
                return 2;
            break;
        case O_ISA: isa = optarg; break;
        case O_SHAPES: o.shapes = optarg; break;
        case O_BLOCK: {
            int64_t bl[1][6];
            if (kb_parse_lists("--block", optarg, 2, bl, 1) != 1)
                return 2;
            o.block_kc = bl[0][0], o.block_nc = bl[0][1];
            break;
        }
        case O_SEED:
            if (parse_num("--seed", optarg, 0, 1e15, &d))
                return 2;
            o.seed = (uint64_t)d;
            break;
        case O_IMAGE:
            if (parse_num("--image", optarg, 1, 8192, &d))
                return 2;
            o.image = (int)d;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[optind++];
    int is_conv = !strcmp(cmd, "conv");
    if (!is_conv && strcmp(cmd, "sgemm") && strcmp(cmd, "im2col") && strcmp(cmd, "peak") &&
        strcmp(cmd, "stream") && strcmp(cmd, "xcore")) {
        fprintf(stderr, "bench_kernels: unknown command '%s' (sgemm, im2col, conv, peak, "
                "stream, xcore)\n", cmd);
        return 2;
    }
    if (argc - optind != is_conv) {
        fprintf(stderr, "bench_kernels: %s\n", is_conv ? "conv needs one MODEL (.onnx or a zoo "
                "name)" : "unexpected argument");
        return 2;
    }
    o.all_isas = isa && !strcmp(isa, "all") && !strcmp(cmd, "sgemm");
    o.kern = isa && !o.all_isas ? hidp__sgemm_find(isa) : hidp__sgemm_best();
    if (!o.kern) {
        fprintf(stderr, "bench_kernels: --isa %s: not built or this CPU cannot run it "
                "(avx512, avx2, generic)\n", isa);
        return 2;
    }
#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
    openblas_set_num_threads(o.threads);
#endif
    if (peak_given > 0) {
        o.peak = peak_given, o.peak_isa = "given";
    } else if (strcmp(cmd, "peak") && strcmp(cmd, "stream") && strcmp(cmd, "xcore")) {
        kb_peak p = kb_peak_best(0.1);
        o.peak = p.gflops, o.peak_isa = p.isa;
    } else {
        o.peak = NAN, o.peak_isa = "measured below";
    }
    if (!strcmp(cmd, "sgemm"))
        return sgemm_main(&o);
    if (!strcmp(cmd, "im2col"))
        return kb_im2col_main(&o);
    if (!strcmp(cmd, "peak"))
        return peak_main(&o);
    if (!strcmp(cmd, "stream"))
        return kb_stream_main(&o);
    if (!strcmp(cmd, "xcore"))
        return kb_xcore_main(&o);
    return kb_conv_main(&o, argv[optind]);
}
