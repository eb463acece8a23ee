/*
 * handoff.c - a cache line passed between two CPUs (handoff.h).
 *
 * On the 2-vCPU EPYC VM the line took either 42-51 ns or 220-255 ns one way, switching every
 * few minutes or seconds: the host runs the two vCPUs on cores that share a cache or on cores
 * that do not, and every layer split between them pays for it (doc/local-level.md).
 */
#include "handoff.h"
#include "stats.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

typedef struct line {
    _Alignas(64) atomic_int turn; /* odd: the other CPU's move; -1: stop */
    int cpu;
} line;

int bench_bind_to(int cpu)
{
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return pthread_setaffinity_np(pthread_self(), sizeof one, &one);
}

/* Waits until *turn is want or -1; returns what it saw. Yields now and then: the other side
 * may not be running (more threads than CPUs, a CPU quota). */
static int wait_for(atomic_int *turn, int want)
{
    for (unsigned polls = 1;; polls++) {
        const int v = atomic_load_explicit(turn, memory_order_acquire);
        if (v == want || v == -1)
            return v;
        if (polls % 4096 == 0)
            sched_yield();
    }
}

static void *other_side(void *arg)
{
    line *l = arg;
    atomic_store(&l->turn, bench_bind_to(l->cpu) == 0 ? 0 : -1);
    for (int i = 0; wait_for(&l->turn, 2 * i + 1) != -1; i++)
        atomic_store_explicit(&l->turn, 2 * i + 2, memory_order_release);
    return NULL;
}

double bench_handoff_ns(int a, int b, int max_trips, double budget_s)
{
    static line l; /* one measurement at a time */
    cpu_set_t saved;
    if (max_trips < 1 || pthread_getaffinity_np(pthread_self(), sizeof saved, &saved) != 0 ||
        bench_bind_to(a) != 0)
        return -1;
    atomic_init(&l.turn, -2); /* until the other side is bound */
    l.cpu = b;
    pthread_t tid;
    double ns = -1;
    if (pthread_create(&tid, NULL, other_side, &l) == 0) {
        while (atomic_load(&l.turn) == -2)
            sched_yield();
        if (atomic_load(&l.turn) == 0) {
            const double t0 = bench_now_ms();
            int trips = 0, out_of_time = 0;
            while (trips < max_trips && !out_of_time) {
                atomic_store_explicit(&l.turn, 2 * trips + 1, memory_order_release);
                wait_for(&l.turn, 2 * trips + 2);
                if (++trips % 256 == 0 && budget_s > 0)
                    out_of_time = (bench_now_ms() - t0) * 1e-3 >= budget_s;
            }
            ns = (bench_now_ms() - t0) / trips / 2 * 1e6;
        }
        atomic_store_explicit(&l.turn, -1, memory_order_release);
        pthread_join(tid, NULL);
    }
    pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
    return ns;
}
