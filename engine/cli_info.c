/*
 * cli_info.c - `hidp info MODEL.onnx`: inputs, outputs, one line per layer, totals.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: hidp info MODEL.onnx [--shape DIMS]\n\n"
               "Describes a model: its inputs and outputs, then one line per layer (op, output\n"
               "shape, parameters, MFLOPs) and totals. Ops hidp does not implement are listed\n"
               "by name and node, and the exit status is then 1.\n\n"
               "  -s, --shape DIMS  bind the first input to DIMS, e.g. 1x3x320x320 (default: the\n"
               "                    declared shape, dynamic dims as 1)\n"
               "  -h, --help        this text\n");
}

/* Parses "1x3x224x224" into dims; returns ndim or -1. */
static int parse_dims(const char *text, int64_t *dims)
{
    int n = 0;
    const char *p = text;
    while (*p) {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p || v <= 0 || n == HIDP_MAX_DIMS)
            return -1;
        dims[n++] = v;
        p = end;
        if (*p == 'x' || *p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return n > 0 ? n : -1;
}

static void print_io(const char *kind, const hidp_tensor_info *ti)
{
    char dims[128];
    cli_format_dims(dims, sizeof dims, ti->dims, ti->ndim);
    printf("%-7s %-24s %s\n", kind, ti->name, dims);
}

int cli_info_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"shape", required_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
    int64_t shape[HIDP_MAX_DIMS];
    int shape_n = 0, c, status = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if ((shape_n = parse_dims(optarg, shape)) < 0)
                return cli_fail("info", "--shape takes dims like 1x3x224x224, not '%s'", optarg), 2;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    const char *path = argv[optind];
    hidp_context *ctx = NULL;
    hidp_model *m = NULL;
    if (hidp_context_create(&ctx, 0) != 0)
        return cli_fail("info", "out of memory");
    if (cli_load_model("info", ctx, path, &m) != 0)
        goto done;

    printf("model   %s\n", path);
    hidp_tensor_info ti;
    for (int i = 0; i < hidp_model_num_inputs(m); i++)
        if (hidp_model_input_info(m, i, &ti) == 0)
            print_io("input", &ti);
    if (shape_n > 0 && hidp_model_set_input_shape(m, 0, shape, shape_n) != 0) {
        cli_fail("info", "%s", hidp_context_last_error(ctx));
        goto done;
    }
    if (hidp_model_prepare(m) != 0) {
        /* An unsupported op is the common case here: the message lists each one and its node. */
        cli_fail("info", "%s", hidp_context_last_error(ctx));
        goto done;
    }
    /* Output shapes are known once prepare has inferred them. */
    for (int i = 0; i < hidp_model_num_outputs(m); i++)
        if (hidp_model_output_info(m, i, &ti) == 0)
            print_io("output", &ti);
    printf("\n%4s  %-28s %-18s %-10s %-18s %12s %10s  %s\n", "#", "node", "op", "fused",
           "output", "params", "MFLOPs", "detail");
    double total_mflops = 0;
    int64_t total_params = 0;
    int layers = hidp_model_num_layers(m);
    for (int i = 0; i < layers; i++) {
        hidp_layer_info li;
        if (hidp_model_layer_info(m, i, &li) != 0)
            continue;
        char dims[64];
        cli_format_dims(dims, sizeof dims, li.dims, li.ndim);
        printf("%4d  %-28.28s %-18.18s %-10.10s %-18s %12lld %10.2f  %s\n", i, li.name, li.op_type,
               li.fused[0] ? li.fused : "-", dims, (long long)li.params, li.mflops, li.detail);
        total_mflops += li.mflops;
        total_params += li.params;
    }
    printf("\ntotal   %d layers, %lld parameters (%.1f MB fp32), %.1f MFLOPs\n", layers,
           (long long)total_params, total_params * 4.0 / 1e6, total_mflops);
    status = 0;
done:
    hidp_model_destroy(m);
    hidp_context_destroy(ctx);
    return status;
}
