/*
 * cli_zoo.c - `hidp zoo NAME -o FILE.onnx`: writes a built-in model (torchvision layer shapes,
 * seeded random weights, calibrated BatchNorm) as a standard ONNX file, and optionally a seeded
 * random input for it; `hidp zoo --list` names the models.
 *
 * Uses the public API only (the tool links the installed library). zoo.h is included for its
 * header-only table of torchvision's figures, which the tests check against the builders.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "zoo.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: hidp zoo NAME -o FILE.onnx [--seed N] [--size S] [--input FILE.npy]\n"
               "       hidp zoo --list\n\n"
               "Writes zoo model NAME as an ONNX file: torchvision's layer shapes (classifier of\n"
               "1000 classes), random weights drawn from seed N, BatchNorm statistics calibrated\n"
               "on a random input so activations stay near unit scale. The same seed gives the\n"
               "same bytes. Nothing is written if anything fails.\n\n"
               "  -o, --output FILE   where to write the model (.onnx)\n"
               "  -s, --seed N        seed of the weights, 0 to 2^64-1 (default 0)\n"
               "  -S, --size S        input height and width, 1 to %d (default 224)\n"
               "  -i, --input FILE    also write a random normal(0,1) input of shape\n"
               "                      1x3xSxS drawn from the seed (.npy), for hidp run\n"
               "  -l, --list          list the models with torchvision's parameter counts\n"
               "  -h, --help          this text\n",
               HIDP__ZOO_MAX_SIZE);
}

static int list(void)
{
    printf("%-16s %12s %8s  %s\n", "model", "params", "GMACs", "(at 224x224, as torchvision)");
    for (int i = 0; i < hidp_zoo_count(); i++) {
        hidp__zoo_ref r;
        const char *name = hidp_zoo_name(i);
        if (hidp__zoo_reference(name, &r))
            printf("%-16s %12lld %8.2f  %s\n", name, (long long)r.params, r.gmacs, r.what);
        else
            printf("%-16s %12s %8s\n", name, "?", "?");
    }
    return 0;
}

static int parse_seed(const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 0);
    if (errno || end == text || *end || text[0] == '-') {
        cli_fail("zoo", "--seed takes a whole number from 0 to 2^64-1, not '%s'", text);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

/* Writes size bytes to a temporary file next to path; *tmp receives its name (malloc'd). */
static int write_temp(const char *path, const void *data, size_t size, char **tmp)
{
    size_t len = strlen(path) + 16;
    char *name = malloc(len);
    if (!name)
        return cli_fail("zoo", "out of memory");
    snprintf(name, len, "%s.tmpXXXXXX", path);
    int fd = mkstemp(name);
    if (fd >= 0) {
        /* mkstemp makes the file 0600; the model should get the usual 0666 less the umask. */
        mode_t mask = umask(0);
        umask(mask);
        fchmod(fd, 0666 & ~mask);
    }
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        cli_fail("zoo", "cannot create %s: %s", name, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(name);
        }
        free(name);
        return 1;
    }
    int bad = fwrite(data, 1, size, f) != size;
    bad |= fflush(f) != 0;
    bad |= fclose(f) != 0;
    if (bad) {
        cli_fail("zoo", "cannot write %s: %s", path, strerror(errno));
        unlink(name);
        free(name);
        return 1;
    }
    *tmp = name;
    return 0;
}

/* A normal(0,1) input [1,3,size,size] from seed (splitmix64 and polar Box-Muller, on a stream
 * of its own so it differs from the calibration input the library drew). */
static float *random_input(uint64_t seed, int size, size_t *count)
{
    *count = (size_t)3 * (size_t)size * (size_t)size;
    float *x = malloc(*count * sizeof *x);
    uint64_t state = seed ^ 0x3c6ef372fe94f82bull;
    for (size_t i = 0; x && i < *count; i += 2) {
        double u, v, s;
        do {
            uint64_t r[2];
            for (int k = 0; k < 2; k++) {
                uint64_t z = (state += 0x9e3779b97f4a7c15ull);
                z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
                z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
                r[k] = z ^ (z >> 31);
            }
            u = (double)(r[0] >> 11) * 0x1p-52 - 1.0;
            v = (double)(r[1] >> 11) * 0x1p-52 - 1.0;
            s = u * u + v * v;
        } while (s >= 1.0 || s == 0.0);
        double f = sqrt(-2.0 * log(s) / s);
        x[i] = (float)(u * f);
        if (i + 1 < *count)
            x[i + 1] = (float)(v * f);
    }
    return x;
}

int cli_zoo_main(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"size", required_argument, NULL, 'S'},
                                         {"input", required_argument, NULL, 'i'},
                                         {"list", no_argument, NULL, 'l'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    const char *out_path = NULL, *in_path = NULL;
    uint64_t seed = 0;
    int size = 224, c, do_list = 0, status = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:s:S:i:lh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out_path = optarg; break;
        case 'i': in_path = optarg; break;
        case 's':
            if (parse_seed(optarg, &seed))
                return 2;
            break;
        case 'S':
            if (cli_parse_int("zoo", "--size", optarg, 1, HIDP__ZOO_MAX_SIZE, &size))
                return 2;
            break;
        case 'l': do_list = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (do_list)
        return optind == argc ? list() : (usage(stderr), 2);
    if (optind != argc - 1 || !out_path) {
        if (optind == argc - 1)
            cli_fail("zoo", "an output is needed: -o FILE.onnx");
        else if (optind == argc)
            cli_fail("zoo", "a model name is needed (hidp zoo --list names them)");
        else
            cli_fail("zoo", "one model name at a time, got %d", argc - optind);
        usage(stderr);
        return 2;
    }
    if (in_path && strcmp(in_path, out_path) == 0) {
        cli_fail("zoo", "--input and -o name the same file %s", out_path);
        return 2;
    }
    const char *name = argv[optind];
    hidp_context *ctx = NULL;
    void *onnx = NULL;
    size_t onnx_size = 0, count = 0;
    char *tmp = NULL;
    float *x = NULL;
    if (hidp_context_create(&ctx, 0) != 0)
        return cli_fail("zoo", "out of memory");
    if (hidp_zoo_build(ctx, name, seed, size, &onnx, &onnx_size) != 0) {
        cli_fail("zoo", "%s", hidp_context_last_error(ctx));
        goto done;
    }
    /* The model goes to a temporary file first and is renamed into place last, after the
     * input, so a failure at any step leaves neither file. */
    if (write_temp(out_path, onnx, onnx_size, &tmp) != 0)
        goto done;
    if (in_path) {
        const int64_t dims[4] = {1, 3, size, size};
        if (!(x = random_input(seed, size, &count))) {
            cli_fail("zoo", "out of memory");
            goto done;
        }
        if (hidp_npy_save(ctx, in_path, x, dims, 4) != 0) {
            cli_fail("zoo", "%s", hidp_context_last_error(ctx));
            goto done;
        }
    }
    if (rename(tmp, out_path) != 0) {
        cli_fail("zoo", "cannot write %s: %s", out_path, strerror(errno));
        if (in_path)
            unlink(in_path);
        goto done;
    }
    free(tmp);
    tmp = NULL;
    printf("%s: %s, input 1x3x%dx%d, seed %llu, %.1f MB\n", out_path, name, size, size,
           (unsigned long long)seed, (double)onnx_size / 1e6);
    status = 0;
done:
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    free(x);
    hidp_free(onnx);
    hidp_context_destroy(ctx);
    return status;
}
