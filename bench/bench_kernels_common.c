/*
 * bench_kernels_common.c - what the kernel benchmarks share (bench_kernels.h): the timer, the
 * GEMM timings (cblas_sgemm and hidp's sgemm on o->threads threads) and the three output
 * formats.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "bench_kernels.h"
#include "stats.h"

/* Shortest timed sample: shorter items are repeated within a sample so the clock's resolution
 * and the call overhead of the clock itself stay far below the figure. */
#define KB_MIN_SAMPLE_S 1e-3

/* A -O0 build (--enable-debug) runs the kernels several times slower than a release one. */
#ifdef __OPTIMIZE__
#define KB_OPTIMIZED 1
#else
#define KB_OPTIMIZED 0
#endif

double kb_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The CPUs this process may run on, up to max, in order. */
int kb_allowed_cpus(int *cpus, int max)
{
    cpu_set_t set;
    int n = 0;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 0;
    for (int c = 0; c < CPU_SETSIZE && n < max; c++)
        if (CPU_ISSET(c, &set))
            cpus[n++] = c;
    return n;
}

double kb_time_ms(const kb_opts *o, kb_work_fn fn, void *arg)
{
    double t0 = kb_now_s();
    fn(arg, 1); /* warm-up: page faults, caches, the workers' first wake-up */
    double tw = kb_now_s() - t0;
    long count = 1;
    if (tw < KB_MIN_SAMPLE_S)
        count = (long)ceil(KB_MIN_SAMPLE_S / (tw > 1e-8 ? tw : 1e-8));
    double local[64], *s = o->reps > 64 ? malloc((size_t)o->reps * sizeof *s) : NULL;
    int cap = s ? o->reps : o->reps < 64 ? o->reps : 64, ns = 0;
    if (!s)
        s = local;
    double start = kb_now_s();
    while (ns < cap) {
        t0 = kb_now_s();
        fn(arg, count);
        s[ns++] = (kb_now_s() - t0) / (double)count;
        if (kb_now_s() - start >= o->budget_s)
            break;
    }
    const double med = bench_median(s, ns);
    if (s != local)
        free(s);
    return med * 1e3;
}

void kb_fill(float *x, size_t n, uint64_t seed)
{
    uint64_t st = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        st ^= st << 13, st ^= st >> 7, st ^= st << 17;
        x[i] = (float)(st >> 40) / 8388608.0f - 1.0f;
    }
}

double kb_gflops(double flops, double ms)
{
    return ms > 0 ? flops / (ms * 1e6) : NAN;
}

/* ---- GEMM timings ---- */

typedef struct gemm_job {
    const kb_opts *o;
    int64_t m, n, k, batch;
    const float *a, *b;
    float *c;
} gemm_job;

/* One thread's share of hidp's products: items [b0, b1), rows [m0, m1) of each. */
typedef struct gemm_part {
    const gemm_job *j;
    int64_t b0, b1, m0, m1;
    float *scratch;
    long count;
} gemm_part;

static void *hidp_part_run(void *arg)
{
    const gemm_part *p = arg;
    const gemm_job *j = p->j;
    for (long r = 0; r < p->count; r++)
        for (int64_t bi = p->b0; bi < p->b1; bi++)
            if (p->m1 > p->m0)
                hidp__sgemm_plain(j->o->kern, p->m1 - p->m0, j->n, j->k,
                                  j->a + (bi * j->m + p->m0) * j->k, j->b + bi * j->k * j->n,
                                  j->c + (bi * j->m + p->m0) * j->n, p->scratch);
    return NULL;
}

typedef struct hidp_gemm {
    gemm_job j;
    gemm_part parts[64];
    int nparts;
} hidp_gemm;

/* The threads each loop over `count` repetitions of their part on their own: spawning once per
 * sample keeps the pthread start-up out of short products. */
static void hidp_gemm_work(void *arg, long count)
{
    hidp_gemm *h = arg;
    pthread_t tid[64];
    char started[64] = {0};
    for (int i = 0; i < h->nparts; i++)
        h->parts[i].count = count;
    for (int i = 1; i < h->nparts; i++) {
        started[i] = pthread_create(&tid[i], NULL, hidp_part_run, &h->parts[i]) == 0;
        if (!started[i])
            hidp_part_run(&h->parts[i]); /* no thread: do its share here */
    }
    hidp_part_run(&h->parts[0]);
    for (int i = 1; i < h->nparts; i++)
        if (started[i])
            pthread_join(tid[i], NULL);
}

static void cblas_gemm_work(void *arg, long count)
{
    const gemm_job *j = arg;
    for (long r = 0; r < count; r++)
        for (int64_t bi = 0; bi < j->batch; bi++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)j->m, (int)j->n,
                        (int)j->k, 1.0f, j->a + bi * j->m * j->k, (int)j->k,
                        j->b + bi * j->k * j->n, (int)j->n, 0.0f, j->c + bi * j->m * j->n,
                        (int)j->n);
}

/* Splits the products over the threads: whole items when there are enough of them, else row
 * ranges (multiples of the kernel's MR) of every item. */
static void split(hidp_gemm *h, int threads)
{
    const gemm_job *j = &h->j;
    int t = threads < 1 ? 1 : threads > 64 ? 64 : threads;
    int64_t mr = j->o->kern->mr;
    h->nparts = 0;
    for (int i = 0; i < t; i++) {
        gemm_part *p = &h->parts[h->nparts];
        p->j = j;
        if (j->batch >= t) {
            p->b0 = j->batch * i / t, p->b1 = j->batch * (i + 1) / t;
            p->m0 = 0, p->m1 = j->m;
        } else {
            int64_t tiles = (j->m + mr - 1) / mr;
            p->b0 = 0, p->b1 = j->batch;
            p->m0 = tiles * i / t * mr, p->m1 = tiles * (i + 1) / t * mr;
            p->m1 = p->m1 < j->m ? p->m1 : j->m;
            p->m0 = p->m0 < p->m1 ? p->m0 : p->m1;
        }
        if (p->b1 > p->b0 && p->m1 > p->m0)
            h->nparts++;
    }
}

int kb_gemm_time(const kb_opts *o, int64_t m, int64_t n, int64_t k, int64_t batch,
                 kb_gemm_times *t)
{
    size_t na = (size_t)(batch * m * k), nb = (size_t)(batch * k * n), nc = (size_t)(batch * m * n);
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b);
    float *c1 = calloc(nc, sizeof *c1), *c2 = calloc(nc, sizeof *c2);
    hidp_gemm *h = calloc(1, sizeof *h);
    int rc = -1;
    if (!a || !b || !c1 || !c2 || !h)
        goto done;
    kb_fill(a, na, 1);
    kb_fill(b, nb, 2);
    h->j = (gemm_job){o, m, n, k, batch, a, b, c1};
    split(h, o->threads);
    for (int i = 0; i < h->nparts; i++) {
        gemm_part *p = &h->parts[i];
        size_t sf = hidp__sgemm_plain_scratch_floats(o->kern, p->m1 - p->m0, n, k);
        if (!(p->scratch = malloc(sf * sizeof(float))))
            goto done;
    }
#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
    openblas_set_num_threads(o->threads); /* a hidp context created since resets it to 1 */
#endif
    gemm_job cj = {o, m, n, k, batch, a, b, c2};
    t->cblas_ms = kb_time_ms(o, cblas_gemm_work, &cj);
    t->hidp_ms = kb_time_ms(o, hidp_gemm_work, h);
    double md = 0, mx = 0;
    for (size_t i = 0; i < nc; i++) {
        double d = fabs((double)c1[i] - (double)c2[i]);
        md = d > md || d != d ? d : md;
        mx = fabs((double)c2[i]) > mx ? fabs((double)c2[i]) : mx;
    }
    t->max_err = md / (mx > 0 ? mx : 1);
    rc = 0;
done:
    if (h)
        for (int i = 0; i < h->nparts; i++)
            free(h->parts[i].scratch);
    free(h);
    free(a);
    free(b);
    free(c1);
    free(c2);
    return rc;
}

/* ---- output ---- */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void csv_str(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void num(FILE *f, double v, int prec)
{
    if (prec == 0)
        fprintf(f, "%.0f", v);
    else
        fprintf(f, "%.6g", v);
}

void kb_note(const kb_opts *o, const char *fmt, ...)
{
    if (o->format == KB_JSON)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("# ", o->out);
    vfprintf(o->out, fmt, ap);
    fputc('\n', o->out);
    va_end(ap);
}

void kb_header(const kb_opts *o, const kb_col *cols, int n)
{
    if (o->format == KB_JSON)
        return;
    if (o->format == KB_CSV)
        fputs("kind", o->out);
    for (int i = 0; i < n; i++) {
        if (o->format == KB_CSV)
            fprintf(o->out, ",%s", cols[i].key);
        else
            fprintf(o->out, cols[i].prec < 0 ? "%-*s " : "%*s ", cols[i].width, cols[i].key);
    }
    fputc('\n', o->out);
}

void kb_row(const kb_opts *o, const char *kind, const kb_col *cols, int n, const kb_val *vals)
{
    FILE *f = o->out;
    if (o->format == KB_JSON)
        fputs("{\"kind\":", f), json_str(f, kind);
    else if (o->format == KB_CSV)
        fputs(kind, f);
    for (int i = 0; i < n; i++) {
        const kb_col *c = &cols[i];
        const kb_val *v = &vals[i];
        int missing = !v->s && !isfinite(v->v);
        if (o->format == KB_JSON) {
            fputc(',', f);
            json_str(f, c->key);
            fputc(':', f);
            if (v->s)
                json_str(f, v->s);
            else if (missing)
                fputs("null", f);
            else
                num(f, v->v, c->prec);
        } else if (o->format == KB_CSV) {
            fputc(',', f);
            if (v->s)
                csv_str(f, v->s);
            else if (!missing)
                num(f, v->v, c->prec);
        } else if (v->s) {
            /* Long names (ONNX paths like /layer1/layer1.0/conv1/Conv) keep their tail. */
            size_t len = strlen(v->s);
            if (len > (size_t)c->width && c->width > 1)
                fprintf(f, "~%s ", v->s + len - (size_t)(c->width - 1));
            else
                fprintf(f, "%-*s ", c->width, v->s);
        } else if (missing) {
            fprintf(f, "%*s ", c->width, "-");
        } else {
            fprintf(f, "%*.*f ", c->width, c->prec, v->v);
        }
    }
    fputs(o->format == KB_JSON ? "}\n" : "\n", f);
    fflush(f);
}

static const char *blas_config(void)
{
#ifdef HAVE_OPENBLAS_GET_CONFIG
    return openblas_get_config();
#else
    return "unknown BLAS";
#endif
}

void kb_meta(const kb_opts *o, const char *bench)
{
    const char *core = getenv("OPENBLAS_CORETYPE");
    if (o->format == KB_JSON) {
        FILE *f = o->out;
        fputs("{\"kind\":\"meta\",\"bench\":", f);
        json_str(f, bench);
        fputs(",\"peak_gflops\":", f);
        if (isfinite(o->peak))
            fprintf(f, "%.6g", o->peak);
        else
            fputs("null", f);
        fprintf(f, ",\"optimized\":%s,\"peak_isa\":", KB_OPTIMIZED ? "true" : "false");
        json_str(f, o->peak_isa);
        fprintf(f, ",\"threads\":%d,\"reps\":%d,\"hidp_isa\":", o->threads, o->reps);
        json_str(f, o->kern->isa);
        fputs(",\"blas\":", f);
        json_str(f, blas_config());
        fputs(",\"openblas_coretype\":", f);
        if (core)
            json_str(f, core);
        else
            fputs("null", f);
        fputs("}\n", f);
        return;
    }
    if (isfinite(o->peak))
        kb_note(o, "bench_kernels %s: peak %.1f GFLOP/s per core (%s), %d thread%s (peak x %d), "
                "median of up to %d samples or %.2g s per item", bench, o->peak, o->peak_isa,
                o->threads, o->threads > 1 ? "s" : "", o->threads, o->reps, o->budget_s);
    else
        kb_note(o, "bench_kernels %s", bench);
    if (!KB_OPTIMIZED)
        kb_note(o, "WARNING: built without optimization (-O0): these figures mean nothing");
    kb_note(o, "hidp sgemm kernel %s (%dx%d); %s; OPENBLAS_CORETYPE=%s", o->kern->isa,
            o->kern->mr, o->kern->nr, blas_config(), core ? core : "(unset)");
}

/* ---- argument lists ---- */

/* Parses up to max lists of `want` positive integers separated by ';' (numbers by ',' or 'x').
 * Returns the count, or -1 with a message on stderr. */
int kb_parse_lists(const char *opt, const char *text, int want, int64_t (*out)[6], int max)
{
    int n = 0;
    const char *p = text;
    while (*p) {
        if (n == max) {
            fprintf(stderr, "bench_kernels: %s: more than %d lists\n", opt, max);
            return -1;
        }
        for (int i = 0; i < want; i++) {
            char *end;
            errno = 0;
            long long v = strtoll(p, &end, 10);
            if (end == p || errno || v < 1 || v > (1LL << 24)) {
                fprintf(stderr, "bench_kernels: %s: bad number at '%s' (each list is %d "
                        "positive integers)\n", opt, p, want);
                return -1;
            }
            out[n][i] = v;
            p = end;
            if (i + 1 < want) {
                if (*p != ',' && *p != 'x') {
                    fprintf(stderr, "bench_kernels: %s: expected %d numbers per list near "
                            "'%s'\n", opt, want, p);
                    return -1;
                }
                p++;
            }
        }
        if (*p == ';')
            p++;
        else if (*p) {
            fprintf(stderr, "bench_kernels: %s: expected ';' near '%s'\n", opt, p);
            return -1;
        }
        n++;
    }
    return n;
}
