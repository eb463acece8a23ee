/*
 * cli_bench.c - `hidp bench MODEL`: warm-up, timed runs, latency statistics, throughput, memory.
 *
 * MODEL is an ONNX file or, when no file of that name exists, a zoo name built in memory. Each
 * thread count of -t gets its own context and model, so its load time and peak memory are its
 * own. Figures go to stdout (a block of text, or one JSON object per line with --json); the
 * progress line goes to stderr and only to a terminal.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "cli.h"
#include "cli_measure.h"
#include "cli_profile.h"

#define MAX_THREAD_COUNTS 32
#define AUTO_TARGET_MS 2000.0 /* timed runs fill about this much when -n is not given */
#define AUTO_MIN_RUNS 10
#define AUTO_MAX_RUNS 1000

struct bench_opts {
    const char *model;      /* as given on the command line */
    const char *input;      /* -i, or NULL for seeded random inputs */
    const char *save_input; /* --save-input */
    int threads[MAX_THREAD_COUNTS];
    int nthreads;
    int runs; /* 0: automatic */
    int warmup;
    int json;
    int size; /* zoo image size, 0: the zoo's default */
    uint64_t seed;
    int size_given;
    const char *cores, *split; /* --cores, --split (NULL: the library's defaults) */
    int no_tune;               /* --no-tune */
    int fixed_plan;            /* --fixed-plan */
    int no_take_back;          /* --no-take-back */
    int no_stripes;            /* --no-stripes */
    int verbose;               /* -v: the engine's log on stderr */
    cli_profile prof;          /* --profile, --trace, --events, --energy ... */
};

/* Where the model bytes come from: a file path, or a zoo build held in memory. */
struct model_src {
    const char *path;
    void *buf;
    size_t len;
};

struct bench_result {
    int threads;
    cli_latency lat;
    double load_ms, prepare_ms, mflops;
    double tune_ms;                    /* the plan's tuning runs (hidp_model_tune) */
    int tune_runs;
    double peak_rss_mb, rss_growth_mb; /* growth < 0: unknown */
    int64_t batch;
    char shape[128];
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hidp bench MODEL [-t THREADS] [-n RUNS] [-w WARMUP] [--json] [-i INPUT.npy]\n"
            "                  [--size S] [--seed N] [--save-input FILE] [--cores C] [--split S]\n"
            "                  [--no-tune | --fixed-plan] [--no-take-back] [--no-stripes] [-v]\n"
            "                  [--profile] [--profile-json F] [--events LIST] [--trace F]\n"
            "                  [--energy] [--sysfs-root DIR]\n\n"
            "Times the forward pass of MODEL: an ONNX file or, when no such file exists, the\n"
            "name of a built-in zoo model (see 'hidp zoo --help'), built in memory.\n"
            "After the warm-up runs, each timed run is measured with CLOCK_MONOTONIC, and it\n"
            "prints latency min / median / p90 / max / mean, throughput (batch x 1000 /\n"
            "median, inferences/s), GFLOP/s at the median, peak RSS (and its growth from\n"
            "before the load), and the load, prepare and tuning times. With several\n"
            "threads the plan's tuning runs come before the warm-up (see --no-tune).\n"
            "The median is the middle of\n"
            "the sorted runs (the mean of the two middle ones for an even count); p90 is the\n"
            "nearest rank, the ceil(0.9 x RUNS)-th fastest run.\n\n"
            "  -t, --threads LIST  worker threads, e.g. 2, or 1,2,4 for one result per count\n"
            "                      (default 1; -t may also be repeated)\n"
            "      --cores C       cores the workers run on: all (default), big, little, or PU\n"
            "                      numbers like 0,2-3 (see 'hidp topo')\n"
            "      --split S       calibrated (default: shares follow each core kind's measured\n"
            "                      speed) or equal\n"
            "      --no-tune       keep the plan estimated at prepare (no tuning runs, which\n"
            "                      otherwise time each layer split and solo, and trim the\n"
            "                      slower cores' shares)\n"
            "      --fixed-plan    tune, then keep the tuned plan: the slower cores' shares do\n"
            "                      not shrink when a run finds them off their CPU mid-layer\n"
            "                      (a CPU quota spent, another process), and the tuning's last\n"
            "                      candidates are not timed again when the runs drift, as they\n"
            "                      otherwise are\n"
            "      --no-take-back  with two cores of unequal speed, the faster one does not\n"
            "                      take back the slower one's unfinished share of a layer\n"
            "                      (it waits for it, as with more cores)\n"
            "      --no-stripes    with take-back, the slower core gets a share of each layer,\n"
            "                      not the bottom rows of a run of layers at once (stripes)\n"
            "  -v, --verbose       the engine's log on stderr: the plan the tuning chose, each\n"
            "                      candidate plan's median run it chose from, and each later\n"
            "                      check of the candidates (--fixed-plan)\n"
            "  -n, --runs N        timed runs (default: enough for about 2 s, 10 to 1000)\n"
            "  -w, --warmup N      untimed runs first (default 3)\n"
            "  -i, --input FILE    input tensor (.npy; its shape binds dynamic dims); default:\n"
            "                      seeded normal(0,1) values, dynamic dims as 1\n"
            "      --seed N        seed of the random input and of a zoo model's weights\n"
            "                      (default 0, as for hidp zoo)\n"
            "      --size S        image height and width of a zoo model (default 224)\n"
            "      --save-input F  also write the input used to F (.npy), e.g. to feed\n"
            "                      another engine the same values\n"
            "      --json          one JSON object per thread count, one per line: model,\n"
            "                      threads, runs, warmup, min_ms, median_ms, p90_ms, max_ms,\n"
            "                      mean_ms, stddev_ms, throughput_ips, mflops, gflops, load_ms,\n"
            "                      prepare_ms, tune_runs, tune_ms, peak_rss_mb, rss_growth_mb,\n"
            "                      input, batch, source, hidp_version (a --profile table\n"
            "                      then goes to stderr)\n");
    cli_profile_usage(f);
    fprintf(f,
            "  -h, --help          this text\n\n"
            "Profiling covers the timed runs. A progress line is shown on stderr when it is a terminal and the runs take more\n"
            "than about 2 s. Exit status: 0 done, 1 failure, 2 bad usage.\n");
}

/* The engine's log lines (bench -v), on stderr so that --json's stdout stays clean. */
static void log_to_stderr(void *user, int level, const char *message)
{
    (void)user;
    static const char *const names[] = {"error", "warning", "info", "debug"};
    fprintf(stderr, "hidp bench: [%s] %s\n", level >= 0 && level <= 3 ? names[level] : "log",
            message);
}

/* Appends the comma-separated thread counts of text to o; returns 0 or -1 (after printing). */
static int parse_threads(struct bench_opts *o, const char *text)
{
    char item[32];
    const char *p = text;
    for (;;) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof item || o->nthreads == MAX_THREAD_COUNTS) {
            cli_fail("bench", "--threads takes counts like 2 or 1,2,4 (at most %d), not '%s'",
                     MAX_THREAD_COUNTS, text);
            return -1;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        if (cli_parse_int("bench", "--threads", item, 1, 256, &o->threads[o->nthreads]) != 0)
            return -1;
        o->nthreads++;
        if (!p[len])
            return 0;
        p += len + 1;
    }
}

static int parse_seed(const char *text, uint64_t *out)
{
    char *end;
    if (!*text || *text == '-')
        return -1;
    unsigned long long v = strtoull(text, &end, 10);
    if (*end)
        return -1;
    *out = v;
    return 0;
}

/* One run, timed; profiled too when prof is given (the timed runs, not the warm-up). */
static int timed_run(hidp_context *ctx, hidp_model *m, double *ms, cli_profile *prof)
{
    if (prof)
        cli_profile_run_start(prof);
    double t0 = cli_now_ms();
    if (hidp_model_run(m) != 0)
        return cli_fail("bench", "%s", hidp_context_last_error(ctx)), -1;
    *ms = cli_now_ms() - t0;
    return prof && cli_profile_run_end(prof, "bench", m) != 0 ? -1 : 0;
}

/* Sets the -i tensor (its shape was bound before prepare), or seeded normal values for every
 * input at its bound shape; --save-input keeps the first of those. */
static int set_inputs(const struct bench_opts *o, hidp_context *ctx, hidp_model *m,
                      const hidp_array *in)
{
    uint64_t state = o->seed;
    if (in) {
        size_t count = 1;
        for (int i = 0; i < in->ndim; i++)
            count *= (size_t)in->dims[i];
        if (hidp_model_set_input(m, 0, in->data, count) != 0)
            return cli_fail("bench", "%s", hidp_context_last_error(ctx)), -1;
        return 0;
    }
    for (int k = 0; k < hidp_model_num_inputs(m); k++) {
        hidp_tensor_info ti;
        size_t count = 1;
        int rc = hidp_model_input_info(m, k, &ti);
        for (int i = 0; rc == 0 && i < ti.ndim; i++)
            count *= (size_t)ti.dims[i];
        float *x = rc == 0 ? malloc((count ? count : 1) * sizeof *x) : NULL;
        if (rc == 0 && !x)
            return cli_fail("bench", "out of memory for input %s", ti.name), -1;
        if (rc == 0) {
            cli_fill_normal(x, count, &state);
            rc = hidp_model_set_input(m, k, x, count);
        }
        if (rc == 0 && k == 0 && o->save_input)
            rc = hidp_npy_save(ctx, o->save_input, x, ti.dims, ti.ndim);
        free(x);
        if (rc != 0)
            return cli_fail("bench", "%s", hidp_context_last_error(ctx)), -1;
    }
    return 0;
}

static void print_json(const struct bench_opts *o, const struct model_src *src,
                       const struct bench_result *r);
static void print_human(const struct bench_opts *o, const struct model_src *src,
                        const struct bench_result *r, int first);

/* Loads, prepares and times the model with `threads` workers; fills r. Returns 0 or -1 (after
 * printing the reason). */
static int bench_one(struct bench_opts *o, const struct model_src *src, const hidp_array *in,
                     int threads, int first, struct bench_result *r)
{
    hidp_context *ctx = NULL;
    hidp_model *m = NULL;
    double *times = NULL;
    int status = -1, cap = o->runs ? o->runs : AUTO_MAX_RUNS;
    cli_progress prog;
    char label[80];
    const char *base = strrchr(o->model, '/');
    memset(r, 0, sizeof *r);
    r->threads = threads;
    snprintf(label, sizeof label, "%.50s, %d thread%s", base ? base + 1 : o->model, threads,
             threads > 1 ? "s" : "");
    cli_progress_start(&prog);

#ifdef __GLIBC__
    malloc_trim(0); /* give the previous thread count's model back before measuring the base */
#endif
    int hwm_ok = cli_reset_peak_rss() == 0;
    long rss_before = cli_status_kb("VmRSS");

    times = malloc((size_t)cap * sizeof *times);
    if (!times || hidp_context_create(&ctx, 0) != 0) {
        cli_fail("bench", "out of memory");
        goto done;
    }
    if (o->verbose)
        hidp_context_set_log(ctx, log_to_stderr, NULL, HIDP_LOG_DEBUG);
    /* --no-tune must switch tuning off, not only skip hidp_model_tune: the timed runs would
     * then be the tuner's trials, their plan changing as they go */
    hidp_context_set_tuning(ctx, o->no_tune      ? HIDP_TUNE_OFF
                                 : o->fixed_plan ? HIDP_TUNE_FIXED
                                                 : HIDP_TUNE_ON);
    hidp_context_set_take_back(ctx, !o->no_take_back);
    hidp_context_set_stripes(ctx, !o->no_stripes);
    if (hidp_context_set_threads(ctx, threads) != 0 ||
        cli_set_placement("bench", ctx, o->cores, o->split) != 0)
        goto lib_fail;
    double t0 = cli_now_ms();
    if (src->buf) {
        if (hidp_model_load_memory(ctx, src->buf, src->len, &m) != 0)
            goto lib_fail;
    } else if (cli_load_model("bench", ctx, src->path, &m) != 0) {
        goto done;
    }
    double t1 = cli_now_ms();
    if (in) {
        if (hidp_model_num_inputs(m) != 1) {
            cli_fail("bench", "%s has %d inputs; -i feeds exactly one", o->model,
                     hidp_model_num_inputs(m));
            goto done;
        }
        if (hidp_model_set_input_shape(m, 0, in->dims, in->ndim) != 0)
            goto lib_fail;
    }
    if (hidp_model_prepare(m) != 0)
        goto lib_fail;
    double t2 = cli_now_ms();
    r->load_ms = t1 - t0;
    r->prepare_ms = t2 - t1;
    if (set_inputs(o, ctx, m, in) != 0)
        goto done;

    hidp_tensor_info ti;
    if (hidp_model_input_info(m, 0, &ti) != 0)
        goto lib_fail;
    cli_format_dims(r->shape, sizeof r->shape, ti.dims, ti.ndim);
    r->batch = ti.ndim >= 2 && ti.dims[0] > 0 ? ti.dims[0] : 1;
    for (int i = 0; i < hidp_model_num_layers(m); i++) {
        hidp_layer_info li;
        if (hidp_model_layer_info(m, i, &li) == 0)
            r->mflops += li.mflops;
    }

    /* With several workers the plan's tuning runs come first (see hidp_context_set_tuning), so
     * that every timed run uses the tuned plan. */
    if (!o->no_tune) {
        const double t3 = cli_now_ms();
        if ((r->tune_runs = hidp_model_tune(m)) < 0)
            goto lib_fail;
        r->tune_ms = cli_now_ms() - t3;
    }

    /* Warm-up, whose last run (caches and page faults settled) sizes the automatic run count. */
    double est = 0;
    for (int w = 0; w < o->warmup; w++) {
        cli_progress_update(&prog, label, "warm-up", w, o->warmup, est * (o->warmup - w));
        if (timed_run(ctx, m, &est, NULL) != 0)
            goto done;
    }
    cli_profile *prof = cli_profile_wanted(&o->prof) ? &o->prof : NULL;
    if (prof && cli_profile_begin(prof, "bench", ctx, m) != 0)
        goto done;
    int runs = o->runs, k = 0;
    if (!runs && o->warmup == 0) { /* no warm-up to size the count: the first timed run does */
        if (timed_run(ctx, m, &times[k++], prof) != 0)
            goto done;
        est = times[0];
    }
    if (!runs) {
        double want = est > 0 ? ceil(AUTO_TARGET_MS / est) : AUTO_MAX_RUNS;
        runs = want < AUTO_MIN_RUNS   ? AUTO_MIN_RUNS
               : want > AUTO_MAX_RUNS ? AUTO_MAX_RUNS
                                      : (int)want;
    }
    for (; k < runs; k++) {
        cli_progress_update(&prog, label, "run", k, runs, (k ? times[k - 1] : est) * (runs - k));
        if (timed_run(ctx, m, &times[k], prof) != 0)
            goto done;
    }
    cli_progress_clear(&prog);
    cli_latency_stats(times, runs, &r->lat);

    /* Peak RSS: the kernel's high-water mark since the reset above when that worked, else the
     * process's whole-life maximum (which then includes earlier thread counts). */
    long hwm = hwm_ok ? cli_status_kb("VmHWM") : -1;
    if (hwm < 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        hwm = ru.ru_maxrss; /* kB on Linux */
        hwm_ok = 0;
    }
    r->peak_rss_mb = hwm / 1024.0;
    r->rss_growth_mb = hwm_ok && rss_before >= 0 ? (hwm - rss_before) / 1024.0 : -1;
    if (o->json)
        print_json(o, src, r);
    else
        print_human(o, src, r, first);
    if (prof && cli_profile_end(prof, "bench", m, o->model) != 0)
        goto done;
    fflush(stdout);
    status = 0;
    goto done;
lib_fail:
    cli_fail("bench", "%s", hidp_context_last_error(ctx));
done:
    cli_progress_clear(&prog);
    cli_profile_abort(&o->prof);
    free(times);
    hidp_model_destroy(m);
    hidp_context_destroy(ctx);
    return status;
}

static void print_json(const struct bench_opts *o, const struct model_src *src,
                       const struct bench_result *r)
{
    double ips = r->lat.median > 0 ? 1000.0 / r->lat.median * (double)r->batch : 0;
    double gflops = r->lat.median > 0 ? r->mflops / r->lat.median : 0;
    printf("{\"model\":");
    cli_json_string(stdout, o->model);
    printf(",\"source\":\"%s\",\"input\":", src->buf ? "zoo" : "file");
    cli_json_string(stdout, r->shape);
    printf(",\"batch\":%lld,\"threads\":%d,\"runs\":%d,\"warmup\":%d", (long long)r->batch,
           r->threads, r->lat.runs, o->warmup);
    /* Six significant digits (valid JSON numbers, exponent included) keep a sub-millisecond
     * model's figures as precise as a large one's. */
    printf(",\"min_ms\":%.6g,\"median_ms\":%.6g,\"p90_ms\":%.6g,\"max_ms\":%.6g", r->lat.min,
           r->lat.median, r->lat.p90, r->lat.max);
    printf(",\"mean_ms\":%.6g,\"stddev_ms\":%.6g,\"throughput_ips\":%.6g", r->lat.mean,
           r->lat.stddev, ips);
    printf(",\"mflops\":%.6g,\"gflops\":%.6g,\"load_ms\":%.6g,\"prepare_ms\":%.6g", r->mflops,
           gflops, r->load_ms, r->prepare_ms);
    printf(",\"tune_runs\":%d,\"tune_ms\":%.6g", r->tune_runs, r->tune_ms);
    printf(",\"peak_rss_mb\":%.2f,\"rss_growth_mb\":", r->peak_rss_mb);
    if (r->rss_growth_mb >= 0)
        printf("%.2f", r->rss_growth_mb);
    else
        printf("null");
    printf(",\"hidp_version\":\"%s\"}\n", hidp_version());
}

/* Three decimals, or four significant digits for a sub-millisecond model. */
static void put_ms(const char *label, double v, int small)
{
    if (small)
        printf("%s %.4g", label, v);
    else
        printf("%s %.3f", label, v);
}

static void print_human(const struct bench_opts *o, const struct model_src *src,
                        const struct bench_result *r, int first)
{
    double ips = r->lat.median > 0 ? 1000.0 / r->lat.median * (double)r->batch : 0;
    if (!first)
        putchar('\n');
    printf("model       %s%s (input %s, %.1f MFLOPs)\n", o->model, src->buf ? " [zoo]" : "",
           r->shape, r->mflops);
    printf("threads     %d\n", r->threads);
    printf("runs        %d timed, after %d warm-up\n", r->lat.runs, o->warmup);
    int small = r->lat.median < 1;
    printf("latency ms ");
    put_ms(" min", r->lat.min, small);
    put_ms("  median", r->lat.median, small);
    put_ms("  p90", r->lat.p90, small);
    put_ms("  max", r->lat.max, small);
    put_ms("  (mean", r->lat.mean, small);
    put_ms(", sd", r->lat.stddev, small);
    printf(")\n");
    printf("throughput  %.2f inferences/s (batch %lld), %.2f GFLOP/s at the median\n", ips,
           (long long)r->batch, r->lat.median > 0 ? r->mflops / r->lat.median : 0);
    if (r->rss_growth_mb >= 0)
        printf("memory      peak RSS %.1f MB (+%.1f MB from before the load)\n", r->peak_rss_mb,
               r->rss_growth_mb);
    else
        printf("memory      peak RSS %.1f MB (process lifetime)\n", r->peak_rss_mb);
    printf("load        %.2f ms, prepare %.2f ms", r->load_ms, r->prepare_ms);
    if (r->tune_runs > 0)
        printf(", tuning %d runs in %.1f ms", r->tune_runs, r->tune_ms);
    printf("\n");
    fflush(stdout);
}

/* MODEL names a file when one exists; otherwise it is built from the zoo. */
static int resolve_model(const struct bench_opts *o, struct model_src *src)
{
    struct stat st;
    memset(src, 0, sizeof *src);
    if (stat(o->model, &st) == 0) {
        if (o->size_given)
            return cli_fail("bench", "--size applies to zoo models; %s is a file", o->model), 2;
        src->path = o->model;
        return 0;
    }
    char names[512] = "";
    int known = 0;
    for (int i = 0; i < hidp_zoo_count(); i++) {
        const char *z = hidp_zoo_name(i);
        known |= !strcmp(z, o->model);
        size_t at = strlen(names);
        snprintf(names + at, sizeof names - at, "%s%s", i ? ", " : "", z);
    }
    if (!known) {
        /* A path-like name or a build without a zoo: the missing file is the news. */
        if (strpbrk(o->model, "/.") || !names[0])
            return cli_fail(
                "bench", "%s: no such file%s", o->model,
                names[0] || strpbrk(o->model, "/.") ? "" : " (and this build has no model zoo)");
        return cli_fail("bench",
                        "%s: no such file, and no zoo model of that name (the zoo has: %s)",
                        o->model, names);
    }
    hidp_context *ctx = NULL;
    if (hidp_context_create(&ctx, 0) != 0)
        return cli_fail("bench", "out of memory");
    int rc = hidp_zoo_build(ctx, o->model, o->seed, o->size, &src->buf, &src->len);
    if (rc != 0) {
        const char *msg = hidp_context_last_error(ctx);
        if (!strncmp(msg, o->model, strlen(o->model))) /* it names the model already */
            cli_fail("bench", "%s", msg);
        else
            cli_fail("bench", "zoo model %s: %s", o->model, *msg ? msg : hidp_strerror(rc));
    }
    hidp_context_destroy(ctx);
    return rc == 0 ? 0 : 1;
}

int cli_bench_main(int argc, char **argv)
{
    enum {
        OPT_JSON = 0x200, OPT_SIZE, OPT_SEED, OPT_SAVE_INPUT, OPT_CORES, OPT_SPLIT, OPT_NO_TUNE,
        OPT_FIXED_PLAN, OPT_NO_TAKE_BACK, OPT_NO_STRIPES
    };
    static const struct option opts[] = {{"threads", required_argument, NULL, 't'},
                                         {"runs", required_argument, NULL, 'n'},
                                         {"warmup", required_argument, NULL, 'w'},
                                         {"input", required_argument, NULL, 'i'},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"size", required_argument, NULL, OPT_SIZE},
                                         {"seed", required_argument, NULL, OPT_SEED},
                                         {"save-input", required_argument, NULL, OPT_SAVE_INPUT},
                                         {"cores", required_argument, NULL, OPT_CORES},
                                         {"split", required_argument, NULL, OPT_SPLIT},
                                         {"no-tune", no_argument, NULL, OPT_NO_TUNE},
                                         {"fixed-plan", no_argument, NULL, OPT_FIXED_PLAN},
                                         {"no-take-back", no_argument, NULL, OPT_NO_TAKE_BACK},
                                         {"no-stripes", no_argument, NULL, OPT_NO_STRIPES},
                                         {"verbose", no_argument, NULL, 'v'},
                                         CLI_PROFILE_LONG_OPTIONS,
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    struct bench_opts o = {.warmup = 3, .seed = 0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "t:n:w:i:vh", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (parse_threads(&o, optarg) != 0)
                return 2;
            break;
        case 'n':
            if (cli_parse_int("bench", "--runs", optarg, 1, 1000000, &o.runs))
                return 2;
            break;
        case 'w':
            if (cli_parse_int("bench", "--warmup", optarg, 0, 1000000, &o.warmup))
                return 2;
            break;
        case 'i':
            o.input = optarg;
            break;
        case OPT_JSON:
            o.json = 1;
            break;
        case OPT_SIZE:
            if (cli_parse_int("bench", "--size", optarg, 1, 65536, &o.size))
                return 2;
            o.size_given = 1;
            break;
        case OPT_SEED:
            if (parse_seed(optarg, &o.seed) != 0)
                return cli_fail("bench", "--seed takes a whole number >= 0, not '%s'", optarg), 2;
            break;
        case OPT_SAVE_INPUT:
            o.save_input = optarg;
            break;
        case OPT_CORES:
            o.cores = optarg;
            break;
        case OPT_SPLIT:
            if (strcmp(optarg, "calibrated") && strcmp(optarg, "equal"))
                return cli_fail("bench", "--split takes calibrated or equal, not '%s'", optarg), 2;
            o.split = optarg;
            break;
        case OPT_NO_TUNE:
            o.no_tune = 1;
            break;
        case OPT_FIXED_PLAN:
            o.fixed_plan = 1;
            break;
        case OPT_NO_TAKE_BACK:
            o.no_take_back = 1;
            break;
        case OPT_NO_STRIPES:
            o.no_stripes = 1;
            break;
        case 'v':
            o.verbose = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            if (cli_profile_option(&o.prof, c, optarg))
                break;
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1) {
        if (optind == argc)
            cli_fail("bench", "a MODEL (ONNX file or zoo name) is needed");
        else
            cli_fail("bench", "one MODEL only, got '%s' too", argv[optind + 1]);
        usage(stderr);
        return 2;
    }
    if (o.no_tune && o.fixed_plan) {
        cli_fail("bench", "--no-tune keeps the estimated plan, --fixed-plan the tuned one: give "
                 "one of them");
        return 2;
    }
    if (o.input && o.save_input) {
        cli_fail("bench", "--save-input saves a generated input, but -i gives one (%s)", o.input);
        return 2;
    }
    o.model = argv[optind];
    if (o.nthreads == 0)
        o.threads[o.nthreads++] = 1;
    if (o.nthreads > 1 && (o.prof.trace_path || o.prof.json_path)) {
        cli_fail("bench", "--trace and --profile-json write one file: give one thread count "
                 "(-t), not %d", o.nthreads);
        return 2;
    }
    if (o.json)
        o.prof.table_to_stderr = 1; /* stdout stays one JSON object per line */

    struct model_src src;
    hidp_array in = {0};
    int status = resolve_model(&o, &src);
    if (status != 0)
        return status;
    status = 1;
    if (o.input) {
        hidp_context *ctx = NULL;
        if (hidp_context_create(&ctx, 0) != 0) {
            cli_fail("bench", "out of memory");
            goto done;
        }
        int rc = hidp_npy_load(ctx, o.input, &in);
        if (rc != 0)
            cli_fail("bench", "%s", hidp_context_last_error(ctx));
        hidp_context_destroy(ctx);
        if (rc != 0)
            goto done;
    }
    for (int k = 0; k < o.nthreads; k++) {
        struct bench_result r;
        if (bench_one(&o, &src, o.input ? &in : NULL, o.threads[k], k == 0, &r) != 0)
            goto done;
        o.save_input = NULL; /* written once is enough */
    }
    status = 0;
done:
    hidp_array_free(&in);
    hidp_free(src.buf);
    return status;
}
