/*
 * cli_run.c - `hidp run MODEL.onnx -i IN.npy -o OUT.npy`: one forward pass (or several, timed).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_measure.h"
#include "cli_profile.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: hidp run MODEL.onnx -i INPUT.npy [-o OUTPUT.npy] [-t THREADS] [-n RUNS]\n"
               "                [--cores C] [--split calibrated|equal] [--tune] [--profile]\n"
               "                [--profile-json F] [--events LIST] [--trace F] [--energy]\n\n"
               "Runs the model on INPUT.npy (float32, C order; its shape binds dynamic dims) and\n"
               "writes the first output to OUTPUT.npy. Without -o it prints the output's shape\n"
               "and largest values. Nothing is written if anything fails.\n\n"
               "  -i, --input FILE    input tensor (.npy)\n"
               "  -o, --output FILE   where to write the first output (.npy)\n"
               "  -t, --threads N     worker threads splitting each layer (default 1)\n"
               "      --cores C       cores the workers run on: all (default), big, little, or\n"
               "                      PU numbers like 0,2-3 (see 'hidp topo')\n"
               "      --split S       calibrated (default: shares follow each core kind's\n"
               "                      measured speed) or equal\n"
               "      --tune          make the plan's tuning runs first (each layer timed split\n"
               "                      and solo; see hidp bench), untimed and unprofiled\n"
               "  -n, --runs N        run N times and print latency min/median/max on stderr\n");
    cli_profile_usage(f);
    fprintf(f, "  -h, --help          this text\n");
}

/* Prints the shape and the five largest values with their flat indices (class scores). */
static void print_summary(const hidp_tensor_info *ti, const float *out, size_t count)
{
    char dims[128];
    cli_format_dims(dims, sizeof dims, ti->dims, ti->ndim);
    printf("output %s: %s\n", ti->name, dims);
    size_t best[5];
    int nb = 0;
    for (size_t i = 0; i < count; i++) {
        int at = nb < 5 ? nb++ : 5;
        while (at > 0 && out[i] > out[best[at - 1]]) {
            if (at < 5)
                best[at] = best[at - 1];
            at--;
        }
        if (at < 5)
            best[at] = i;
    }
    for (int k = 0; k < nb; k++)
        printf("  [%zu] %.6g\n", best[k], out[best[k]]);
}

int cli_run_main(int argc, char **argv)
{
    static const struct option opts[] = {{"input", required_argument, NULL, 'i'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"threads", required_argument, NULL, 't'},
                                         {"runs", required_argument, NULL, 'n'},
                                         {"cores", required_argument, NULL, 'C'},
                                         {"split", required_argument, NULL, 'S'},
                                         {"tune", no_argument, NULL, 'T'},
                                         CLI_PROFILE_LONG_OPTIONS,
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    const char *in_path = NULL, *out_path = NULL, *cores = NULL, *split = NULL;
    int threads = 1, runs = 1, tune = 0, c, status = 1;
    cli_profile prof = {0};
    optind = 1;
    while ((c = getopt_long(argc, argv, "i:o:t:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'i': in_path = optarg; break;
        case 'o': out_path = optarg; break;
        case 'C': cores = optarg; break;
        case 'S': split = optarg; break;
        case 't':
            if (cli_parse_int("run", "--threads", optarg, 1, 256, &threads))
                return 2;
            break;
        case 'n':
            if (cli_parse_int("run", "--runs", optarg, 1, 1000000, &runs))
                return 2;
            break;
        case 'T': tune = 1; break;
        case 'h': usage(stdout); return 0;
        default:
            if (cli_profile_option(&prof, c, optarg))
                break;
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1 || !in_path) {
        if (!in_path && optind == argc - 1)
            cli_fail("run", "an input is needed: -i INPUT.npy");
        usage(stderr);
        return 2;
    }
    const char *model_path = argv[optind];
    hidp_context *ctx = NULL;
    hidp_model *m = NULL;
    hidp_array in = {0};
    double *times = NULL;
    if (hidp_context_create(&ctx, 0) != 0)
        return cli_fail("run", "out of memory");
    if (hidp_context_set_threads(ctx, threads) != 0) {
        cli_fail("run", "%s", hidp_context_last_error(ctx));
        goto done;
    }
    if ((status = cli_set_placement("run", ctx, cores, split)) != 0)
        goto done;
    hidp_context_set_tuning(ctx, tune); /* one inference should not pay for trials */
    status = 1;
    if (cli_load_model("run", ctx, model_path, &m) != 0)
        goto done;
    if (hidp_npy_load(ctx, in_path, &in) != 0) {
        cli_fail("run", "%s", hidp_context_last_error(ctx));
        goto done;
    }
    if (hidp_model_num_inputs(m) != 1) {
        cli_fail("run", "%s has %d inputs; hidp run feeds exactly one", model_path,
                 hidp_model_num_inputs(m));
        goto done;
    }
    size_t count = 1;
    for (int i = 0; i < in.ndim; i++)
        count *= (size_t)in.dims[i];
    if (hidp_model_set_input_shape(m, 0, in.dims, in.ndim) != 0 || hidp_model_prepare(m) != 0 ||
        hidp_model_set_input(m, 0, in.data, count) != 0) {
        cli_fail("run", "%s", hidp_context_last_error(ctx));
        goto done;
    }
    times = malloc((size_t)runs * sizeof *times);
    if (!times) {
        cli_fail("run", "out of memory");
        goto done;
    }
    if (tune && hidp_model_tune(m) < 0) {
        cli_fail("run", "%s", hidp_context_last_error(ctx));
        goto done;
    }
    const int profiling = cli_profile_wanted(&prof);
    if (profiling && cli_profile_begin(&prof, "run", ctx, m) != 0)
        goto done;
    for (int r = 0; r < runs; r++) {
        if (profiling)
            cli_profile_run_start(&prof);
        double t0 = cli_now_ms();
        if (hidp_model_run(m) != 0) {
            cli_fail("run", "%s", hidp_context_last_error(ctx));
            goto done;
        }
        times[r] = cli_now_ms() - t0;
        if (profiling && cli_profile_run_end(&prof, "run", m) != 0)
            goto done;
    }
    /* the profile's files first: if they fail, no output is written either */
    if (profiling && cli_profile_end(&prof, "run", m, model_path) != 0)
        goto done;
    const float *out;
    size_t out_count;
    hidp_tensor_info ti;
    if (hidp_model_output(m, 0, &out, &out_count) != 0 || hidp_model_output_info(m, 0, &ti) != 0) {
        cli_fail("run", "%s", hidp_context_last_error(ctx));
        goto done;
    }
    if (out_path) {
        if (hidp_npy_save(ctx, out_path, out, ti.dims, ti.ndim) != 0) {
            cli_fail("run", "%s", hidp_context_last_error(ctx));
            goto done;
        }
    } else {
        print_summary(&ti, out, out_count);
    }
    cli_latency lat;
    cli_latency_stats(times, runs, &lat);
    if (runs > 1)
        fprintf(stderr, "hidp run: %d runs, %d thread%s: min %.3f ms, median %.3f ms, max %.3f ms\n",
                runs, threads, threads > 1 ? "s" : "", lat.min, lat.median, lat.max);
    else
        fprintf(stderr, "hidp run: %.3f ms, %d thread%s\n", times[0], threads,
                threads > 1 ? "s" : "");
    status = 0;
done:
    cli_profile_abort(&prof);
    free(times);
    hidp_array_free(&in);
    hidp_model_destroy(m);
    hidp_context_destroy(ctx);
    return status;
}
