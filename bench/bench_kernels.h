/*
 * bench_kernels.h - what the parts of the kernel microbenchmark (bench/bench_kernels*.c) share:
 * the options, the timer, the GEMM timings both subcommands use, and the output in three
 * formats (a table for people, CSV, and JSON with one object per line).
 */
#ifndef HIDP_BENCH_KERNELS_H
#define HIDP_BENCH_KERNELS_H

#include <stdint.h>
#include <stdio.h>

#include "../ops/sgemm.h"

enum { KB_TABLE = 0, KB_CSV, KB_JSON };

typedef struct kb_opts {
    int threads;        /* -t: hidp workers and OpenBLAS threads */
    int reps;           /* -r: timed samples per item (the median is reported) */
    double budget_s;    /* --time: stop sampling an item after this long (at least 1 sample) */
    int format;         /* KB_TABLE, KB_CSV or KB_JSON */
    double peak;        /* GFLOP/s of one core (measured or --peak) */
    const char *peak_isa; /* the ISA that reached it, or "given" */
    const hidp__sgemm_kernel *kern; /* hidp's micro-kernel to time */
    int all_isas;       /* sgemm --isa all: time every kernel the CPU runs */
    const char *shapes; /* --shapes: the subcommand's own list, or NULL for the defaults */
    int64_t block_kc, block_nc; /* im2col --block: packed block size (0: the defaults) */
    uint64_t seed;      /* zoo models' weights */
    int image;          /* zoo models' input size (0: 224) */
    FILE *out;
} kb_opts;

/* A function timed by kb_time_ms: performs `count` repetitions of the work item. */
typedef void (*kb_work_fn)(void *arg, long count);

/* Median milliseconds of one repetition: a warm-up call, then up to o->reps samples, each long
 * enough (several repetitions when one is short) for the clock, stopping early once
 * o->budget_s has passed. */
double kb_time_ms(const kb_opts *o, kb_work_fn fn, void *arg);

/* CLOCK_MONOTONIC in seconds. */
double kb_now_s(void);

/* The CPUs this process may run on, up to max, in order; how many. */
int kb_allowed_cpus(int *cpus, int max);

/* Fills n floats with a fixed pseudo-random sequence in [-1, 1). */
void kb_fill(float *x, size_t n, uint64_t seed);

/* Timings of `batch` independent products C = A x B of one shape (a grouped conv's groups
 * times its batch), on o->threads threads: OpenBLAS's cblas_sgemm and hidp's sgemm (o->kern).
 * *max_err (may be NULL) gets max |hidp - cblas| / max |cblas| over the outputs. Returns 0, or
 * -1 if out of memory. */
typedef struct kb_gemm_times {
    double cblas_ms, hidp_ms, max_err;
} kb_gemm_times;
int kb_gemm_time(const kb_opts *o, int64_t m, int64_t n, int64_t k, int64_t batch,
                 kb_gemm_times *t);

/* ---- output ---- */

/* A column: JSON/CSV key, table width and decimals (-1: a string, 0: an integer). */
typedef struct kb_col {
    const char *key;
    int width, prec;
} kb_col;
/* A cell: s for string columns, v for numbers (NaN: no value). */
typedef struct kb_val {
    const char *s;
    double v;
} kb_val;

/* Prints what the figures depend on: the peak, threads, kernels, BLAS build and its core type
 * (table and CSV: "# " lines; JSON: one object with kind "meta"). */
void kb_meta(const kb_opts *o, const char *bench);
/* The column heads (table, CSV; nothing for JSON). */
void kb_header(const kb_opts *o, const kb_col *cols, int n);
/* One row; the first CSV/JSON field is "kind": kind. */
void kb_row(const kb_opts *o, const char *kind, const kb_col *cols, int n, const kb_val *vals);
/* A free-form note: "# text" in table and CSV, nothing in JSON (whose objects say it all). */
void kb_note(const kb_opts *o, const char *fmt, ...) HIDP__PRINTF(2, 3);

/* GFLOP/s for flops done in ms milliseconds (NaN if ms is not positive). */
double kb_gflops(double flops, double ms);

/* Parses text, up to max lists of `want` positive integers (separated by ';', the numbers by
 * ',' or 'x'), into out. Returns the count, or -1 after a message on stderr naming opt. */
int kb_parse_lists(const char *opt, const char *text, int want, int64_t (*out)[6], int max);

/* The subcommands that live in their own files; each returns the exit status. */
int kb_conv_main(const kb_opts *o, const char *model);   /* bench_kernels_conv.c */
int kb_im2col_main(const kb_opts *o);                    /* bench_kernels_im2col.c */
int kb_stream_main(const kb_opts *o);                    /* bench_kernels_stream.c */
int kb_xcore_main(const kb_opts *o);                     /* bench_kernels_xcore.c */

#endif
