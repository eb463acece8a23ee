/*
 * backoff.c - the slower cores' share factor, multiplicative decrease and slow increase
 * (backoff.h), as TCP backs off a congested link: a lost stretch says the core had less to give
 * than its share asked, and a long clean streak that it may have more again.
 */
#include "backoff.h"

/* A run counts as lossy when the slower workers lost more than this fraction of it: a timer tick
 * or a short preemption costs some microseconds, a spent quota milliseconds. */
#define LOSS_FRACTION 0.02
/* The largest single cut: one run that lost most of itself (a long stall unrelated to the share)
 * must not wipe the share out. */
#define MAX_CUT 0.3
/* Clean runs in a row before the factor grows, and by how much: growing back from 0.5 to 1
 * takes about 15 steps, so a quota core is probed again every few hundred runs at the most. */
#define CLEAN_RUNS 16
#define GROWTH 1.05

void hidp__backoff_init(hidp__backoff *b)
{
    b->factor = 1.0;
    b->clean = 0;
}

int hidp__backoff_feed(hidp__backoff *b, double lost_s, double run_s)
{
    if (!(run_s > 0) || !(lost_s >= 0))
        return 0;
    const double lost = lost_s / run_s;
    const double before = b->factor;
    if (lost > LOSS_FRACTION) {
        /* cut by what was lost: a core that lost 10% of the run gives back 10% of its share */
        const double cut = lost < MAX_CUT ? lost : MAX_CUT;
        b->factor *= 1.0 - cut;
        if (b->factor < HIDP__BACKOFF_MIN)
            b->factor = HIDP__BACKOFF_MIN;
        b->clean = 0;
    } else if (b->factor < 1.0 && ++b->clean >= CLEAN_RUNS) {
        b->factor *= GROWTH;
        if (b->factor > 1.0)
            b->factor = 1.0;
        b->clean = 0;
    }
    return b->factor != before;
}
