/*
 * peak.c - measured FMA peak of one core (see peak.h).
 *
 * Each loop updates N independent accumulators with acc = acc * m + a. N must be at least the
 * FMA latency times the FMA pipes (4 x 2 = 8 on Skylake-X and Zen 4, 5 x 2 = 10 on Haswell,
 * 4 x 4 = 16 on Neoverse V1), or the loop measures latency instead of throughput; it must also
 * fit the register file with the two constants, so: 16 of 32 zmm, 12 of 16 ymm, 16 of 32 NEON q.
 * m is just below 1 and a small, so the values settle near a / (1 - m): no overflow, no
 * denormals (which would slow some cores down).
 *
 * The x86 variants are compiled with target attributes and chosen with __builtin_cpu_supports,
 * so the program runs everywhere whatever -march it was built with. ISO C mode turns FMA
 * contraction off, hence intrinsics (NEON's vfmaq_f32 on aarch64) rather than a * b + c.
 */
#include <string.h>
#include <time.h>

#include "peak.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define KB_X86 1
#include <immintrin.h>
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
#define KB_NEON 1
#include <arm_neon.h>
#endif

/* The multiplier and addend of every update. */
#define KB_M 0.99999994f
#define KB_A 1e-6f

#define KB_REP12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define KB_REP16(X) KB_REP12(X) X(12) X(13) X(14) X(15)

/* A sink the compiler cannot see through, so the loops are not optimized away. */
static volatile float kb_sink;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#ifdef KB_X86
#define KB_DECL512(i) __m512 v##i = _mm512_set1_ps(1.0f + (float)(i) * 1e-3f);
#define KB_FMA512(i) v##i = _mm512_fmadd_ps(v##i, m, a);
#define KB_SUM512(i) s = _mm512_add_ps(s, v##i);
__attribute__((target("avx512f"))) static void loop_avx512(long iters)
{
    const __m512 m = _mm512_set1_ps(KB_M), a = _mm512_set1_ps(KB_A);
    KB_REP16(KB_DECL512)
    for (long it = 0; it < iters; it++) {
        KB_REP16(KB_FMA512)
    }
    __m512 s = _mm512_setzero_ps();
    KB_REP16(KB_SUM512)
    float out[16];
    _mm512_storeu_ps(out, s);
    kb_sink = out[0] + out[15];
}

#define KB_DECL256(i) __m256 v##i = _mm256_set1_ps(1.0f + (float)(i) * 1e-3f);
#define KB_FMA256(i) v##i = _mm256_fmadd_ps(v##i, m, a);
#define KB_SUM256(i) s = _mm256_add_ps(s, v##i);
__attribute__((target("avx2,fma"))) static void loop_avx2(long iters)
{
    const __m256 m = _mm256_set1_ps(KB_M), a = _mm256_set1_ps(KB_A);
    KB_REP12(KB_DECL256)
    for (long it = 0; it < iters; it++) {
        KB_REP12(KB_FMA256)
    }
    __m256 s = _mm256_setzero_ps();
    KB_REP12(KB_SUM256)
    float out[8];
    _mm256_storeu_ps(out, s);
    kb_sink = out[0] + out[7];
}
#endif

#ifdef KB_NEON
#define KB_DECLQ(i) float32x4_t v##i = vdupq_n_f32(1.0f + (float)(i) * 1e-3f);
#define KB_FMAQ(i) v##i = vfmaq_f32(a, v##i, m);
#define KB_SUMQ(i) s = vaddq_f32(s, v##i);
static void loop_neon(long iters)
{
    const float32x4_t m = vdupq_n_f32(KB_M), a = vdupq_n_f32(KB_A);
    KB_REP16(KB_DECLQ)
    for (long it = 0; it < iters; it++) {
        KB_REP16(KB_FMAQ)
    }
    float32x4_t s = vdupq_n_f32(0.0f);
    KB_REP16(KB_SUMQ)
    kb_sink = vgetq_lane_f32(s, 0) + vgetq_lane_f32(s, 3);
}
#endif

/* Portable fallback: 4-float vectors of plain C, a multiply and an add per update (ISO C does
 * not contract them into an FMA), which still counts 2 flops. */
#define KB_DECLG(i) float v##i[4] = {1.0f + (float)(i) * 1e-3f, 1.0f, 1.0f, 1.0f};
#define KB_FMAG(i) for (int l = 0; l < 4; l++) v##i[l] = v##i[l] * KB_M + KB_A;
#define KB_SUMG(i) s += v##i[0] + v##i[3];
static void loop_generic(long iters)
{
    KB_REP12(KB_DECLG)
    for (long it = 0; it < iters; it++) {
        KB_REP12(KB_FMAG)
    }
    float s = 0;
    KB_REP12(KB_SUMG)
    kb_sink = s;
}

typedef struct variant {
    const char *isa;
    int lanes, accs;
    void (*loop)(long iters);
} variant;

/* GFLOP/s of one variant: iterations doubled until a round takes about 5 ms, then the best of
 * as many rounds as fit in the budget (the best, not the median: nothing slows an FMA loop down
 * but other processes and interrupts, and short rounds find the quiet moments between them on a
 * shared machine). */
static double measure(const variant *v, double budget_s)
{
    long iters = 1 << 10;
    double t = 0, t_start = now_s();
    for (;;) {
        double t0 = now_s();
        v->loop(iters);
        t = now_s() - t0;
        if (t >= 5e-3 || iters > (1L << 40))
            break;
        iters *= 2;
    }
    double best = t;
    for (int r = 0; r < 1000 && now_s() - t_start < budget_s; r++) {
        double t0 = now_s();
        v->loop(iters);
        double tr = now_s() - t0;
        if (tr < best)
            best = tr;
    }
    if (best <= 0)
        return 0;
    return 2.0 * (double)v->lanes * (double)v->accs * (double)iters / best * 1e-9;
}

int kb_peak_measure_all(kb_peak *out, int max, double budget_s)
{
    variant vs[4];
    int nv = 0;
#ifdef KB_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        vs[nv++] = (variant){"avx512", 16, 16, loop_avx512};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        vs[nv++] = (variant){"avx2", 8, 12, loop_avx2};
#endif
#ifdef KB_NEON
    vs[nv++] = (variant){"neon", 4, 16, loop_neon};
#endif
    vs[nv++] = (variant){"generic", 4, 12, loop_generic};
    int n = 0;
    for (int i = 0; i < nv && n < max; i++) {
        out[n].isa = vs[i].isa;
        out[n].lanes = vs[i].lanes;
        out[n].gflops = measure(&vs[i], budget_s);
        n++;
    }
    return n;
}

kb_peak kb_peak_best(double budget_s)
{
    kb_peak all[4], best;
    memset(&best, 0, sizeof best);
    best.isa = "none";
    /* The widest ISA is measured first and is nearly always the fastest; the narrower ones
     * only matter where the wide units are split (Zen 4 runs AVX-512 as two 256-bit halves). */
    int n = kb_peak_measure_all(all, 4, budget_s);
    for (int i = 0; i < n; i++)
        if (all[i].gflops > best.gflops)
            best = all[i];
    return best;
}
