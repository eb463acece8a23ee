/*
 * backoff.h - the slower cores' shares backing off while their CPU is taken from them.
 *
 * A core under a CPU quota (a container's cgroup, bench/little_core.sh) runs a worker's slice at
 * full speed, then not at all for milliseconds once the quota is spent; so does a core another
 * process preempts. A share sized by calibrated speed (or by the tuner, in runs that happened to
 * fit the quota) then stalls the fastest worker at the next barrier, run after run. The executor
 * measures, per run, how long the slower workers were off their CPU in the middle of a slice
 * (wall time minus the thread's CPU time) and feeds it here; the answer is a factor on their
 * shares: down at once, in proportion to what was lost, when they lost more than a little of the
 * run; back up slowly toward 1 (the plan's own shares) after a streak of runs that lost nothing.
 * Time a core loses while its worker sleeps at a barrier does not count: only work delayed does.
 */
#ifndef HIDP_BACKOFF_H
#define HIDP_BACKOFF_H

typedef struct hidp__backoff {
    double factor; /* on the slower workers' shares, in [HIDP__BACKOFF_MIN, 1] */
    int clean;     /* runs in a row that lost no more than the threshold */
} hidp__backoff;

/* The least factor: a core that keeps losing time still gets a fifth of its share, so that the
 * loss stays measured and the share can grow back. */
#define HIDP__BACKOFF_MIN 0.2

void hidp__backoff_init(hidp__backoff *b);

/* One run: its slower workers lost lost_s seconds off their CPU within slices, and the run took
 * run_s. Returns 1 when b->factor changed (the plan must follow), else 0. */
int hidp__backoff_feed(hidp__backoff *b, double lost_s, double run_s);

#endif
