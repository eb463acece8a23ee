/*
 * cli_main.c - `hidp`: dispatches to the subcommands and holds their shared helpers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct {
    const char *name;
    int (*main)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"info", cli_info_main, "describe a model: inputs, outputs, layers, FLOPs"},
    {"run", cli_run_main, "run a model on an input .npy and write the output .npy"},
    {"bench", cli_bench_main, "time a model (ONNX file or zoo name): latency, throughput, memory"},
    {"zoo", cli_zoo_main, "write a built-in model (resnet50, mobilenet_v2, ...) as ONNX"},
    {"topo", cli_topo_main, "this board's core kinds (hwloc): PUs, frequencies, speeds"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: hidp [--version] [--help] COMMAND [ARGS]\n\n"
               "hidp runs ONNX CNNs on Linux edge boards, splitting each layer over the cores.\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'hidp COMMAND --help' describes a command.\n");
}

int cli_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "hidp%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

int cli_parse_int(const char *cmd, const char *opt, const char *text, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < lo || v > hi) {
        cli_fail(cmd, "%s takes a whole number from %d to %d, not '%s'", opt, lo, hi, text);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int cli_load_model(const char *cmd, hidp_context *ctx, const char *path, hidp_model **out)
{
    if (hidp_model_load(ctx, path, out) != 0) {
        cli_fail(cmd, "%s", hidp_context_last_error(ctx));
        return -1;
    }
    return 0;
}

int cli_set_placement(const char *cmd, hidp_context *ctx, const char *cores, const char *split)
{
    if (split && strcmp(split, "calibrated") && strcmp(split, "equal")) {
        cli_fail(cmd, "--split takes calibrated or equal, not '%s'", split);
        return 2;
    }
    if (split)
        hidp_context_set_split(ctx, strcmp(split, "equal") ? HIDP_SPLIT_CALIBRATED
                                                           : HIDP_SPLIT_EQUAL);
    if (cores && hidp_context_set_cores(ctx, cores) != 0) {
        cli_fail(cmd, "%s", hidp_context_last_error(ctx));
        return 1;
    }
    return 0;
}

void cli_format_dims(char *buf, size_t len, const int64_t *dims, int ndim)
{
    size_t at = 0;
    buf[0] = '\0';
    if (ndim == 0)
        snprintf(buf, len, "scalar");
    for (int i = 0; i < ndim && at < len; i++) {
        int w = dims[i] < 0 ? snprintf(buf + at, len - at, i ? "x?" : "?")
                            : snprintf(buf + at, len - at, i ? "x%lld" : "%lld", (long long)dims[i]);
        if (w < 0)
            break;
        at += (size_t)w;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("hidp %s\n", hidp_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].main(argc - 1, argv + 1);
    cli_fail(NULL, "unknown command '%s' (try 'hidp --help')", argv[1]);
    return 2;
}
