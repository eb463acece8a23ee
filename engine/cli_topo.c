/*
 * cli_topo.c - `hidp topo [--json]`: the board's core kinds, their PUs and what is known of their
 * speed, plus where the topology came from and where calibration results are cached.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: hidp topo [--json] [--calibrate | --recalibrate]\n\n"
               "Lists the kinds of cores hwloc finds on this board, fastest first: their PUs (the\n"
               "CPU numbers Linux uses), core type, maximum frequency, Linux capacity, hwloc's\n"
               "efficiency rank (an order, not a speed) and the calibrated speed. HWLOC_XMLFILE\n"
               "describes another board from a saved hwloc XML topology.\n\n"
               "Speeds (GFLOP/s per PU of a convolution's GEMM, every PU busy; alone: one PU by\n"
               "itself) come from this board's calibration file in the cache directory.\n\n"
               "  -j, --json        one JSON object with a \"kinds\" array instead of the table\n"
               "  -c, --calibrate   measure the speeds if this board has no calibration file yet\n"
               "                    (about 40 ms per kind), and write it\n"
               "      --recalibrate measure again and rewrite the file\n"
               "  -h, --help        this text\n");
}

/* Writes PUs as ranges: "0-3", "0,2,4", "0-1,4-5". Truncates with "..." if buf is short. */
static void format_pus(char *buf, size_t len, const int32_t *pus, int n)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && pus[j + 1] == pus[j] + 1)
            j++;
        char part[32];
        if (j > i)
            snprintf(part, sizeof part, "%s%d-%d", i ? "," : "", (int)pus[i], (int)pus[j]);
        else
            snprintf(part, sizeof part, "%s%d", i ? "," : "", (int)pus[i]);
        size_t pl = strlen(part);
        if (at + pl + 4 > len) {
            snprintf(buf + at, len - at, "...");
            return;
        }
        memcpy(buf + at, part, pl + 1);
        at += pl;
        i = j + 1;
    }
}

/* Prints s as a JSON string. */
static void json_str(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

/* Prints key then v, or null when the value is unknown. */
static void json_int(const char *key, int32_t v, int known)
{
    if (known)
        printf("%s%d", key, (int)v);
    else
        printf("%snull", key);
}

static void print_json(const hidp_topology *topo, const char *cache)
{
    printf("{\"source\": ");
    json_str(hidp_topology_source(topo));
    printf(", \"cache_dir\": ");
    if (cache)
        json_str(cache);
    else
        printf("null");
    printf(", \"kinds\": [");
    int n = hidp_topology_num_kinds(topo);
    for (int i = 0; i < n; i++) {
        hidp_core_kind k;
        if (hidp_topology_kind(topo, i, &k) != 0)
            continue;
        printf("%s\n  {\"pus\": [", i ? "," : "");
        for (int j = 0; j < k.n_pus; j++)
            printf("%s%d", j ? ", " : "", (int)k.pus[j]);
        printf("], \"cores\": %d, \"core_type\": ", (int)k.cores);
        if (k.core_type[0])
            json_str(k.core_type);
        else
            printf("null");
        /* Unknown numbers are null rather than 0, so a reader cannot mistake them for values. */
        json_int(", \"frequency_max_mhz\": ", k.frequency_max_mhz, k.frequency_max_mhz > 0);
        json_int(", \"frequency_base_mhz\": ", k.frequency_base_mhz, k.frequency_base_mhz > 0);
        json_int(", \"linux_capacity\": ", k.linux_capacity, k.linux_capacity > 0);
        json_int(", \"efficiency\": ", k.efficiency, k.efficiency >= 0);
        if (k.speed > 0)
            printf(", \"speed\": %.6g, \"speed_alone\": %.6g", k.speed, k.speed_alone);
        else
            printf(", \"speed\": null, \"speed_alone\": null");
        printf("}");
    }
    printf("\n]}\n");
}

static void print_table(const hidp_topology *topo, const char *cache)
{
    int n = hidp_topology_num_kinds(topo);
    printf("topology  %s\n", hidp_topology_source(topo));
    printf("\n%-4s  %-14s %-16s %5s %8s %8s %10s  %s\n", "kind", "core type", "PUs", "cores",
           "max MHz", "capacity", "efficiency", "speed");
    int calibrated = 0;
    for (int i = 0; i < n; i++) {
        hidp_core_kind k;
        if (hidp_topology_kind(topo, i, &k) != 0)
            continue;
        char pus[128], mhz[16], cap[16], eff[16], speed[32];
        format_pus(pus, sizeof pus, k.pus, k.n_pus);
        snprintf(mhz, sizeof mhz, k.frequency_max_mhz ? "%d" : "-", (int)k.frequency_max_mhz);
        snprintf(cap, sizeof cap, k.linux_capacity ? "%d" : "-", (int)k.linux_capacity);
        snprintf(eff, sizeof eff, k.efficiency >= 0 ? "%d" : "-", (int)k.efficiency);
        if (k.speed > 0) {
            snprintf(speed, sizeof speed, "%.1f (alone %.1f)", k.speed, k.speed_alone);
            calibrated = 1;
        } else {
            snprintf(speed, sizeof speed, "not calibrated");
        }
        printf("%-4d  %-14.14s %-16s %5d %8s %8s %10s  %s\n", i, k.core_type[0] ? k.core_type : "-",
               pus, (int)k.cores, mhz, cap, eff, speed);
    }
    printf("\ncache     %s%s\n", cache ? cache : "(none: neither XDG_CACHE_HOME nor HOME is set)",
           calibrated ? "" : " (not calibrated yet)");
}

int cli_topo_main(int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                         {"calibrate", no_argument, NULL, 'c'},
                                         {"recalibrate", no_argument, NULL, 'R'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    int json = 0, c, status = 1, mode = HIDP_CALIB_CACHED;
    optind = 1;
    while ((c = getopt_long(argc, argv, "jch", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = 1;
            break;
        case 'c':
            mode = mode == HIDP_CALIB_FORCE ? mode : HIDP_CALIB_AUTO;
            break;
        case 'R':
            mode = HIDP_CALIB_FORCE;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    hidp_context *ctx = NULL;
    hidp_topology *topo = NULL;
    char cache[4096];
    if (hidp_context_create(&ctx, 0) != 0)
        return cli_fail("topo", "out of memory");
    if (hidp_topology_load(ctx, &topo) != 0) {
        cli_fail("topo", "%s", hidp_context_last_error(ctx));
        goto done;
    }
    if (hidp_topology_calibrate(ctx, topo, mode) != 0) {
        cli_fail("topo", "%s", hidp_context_last_error(ctx));
        goto done;
    }
    /* No cache directory is not an error here: calibration then simply is not cached. */
    int have_cache = hidp_topology_cache_dir(ctx, cache, sizeof cache) == 0;
    if (json)
        print_json(topo, have_cache ? cache : NULL);
    else
        print_table(topo, have_cache ? cache : NULL);
    status = 0;
done:
    hidp_topology_destroy(topo);
    hidp_context_destroy(ctx);
    return status;
}
