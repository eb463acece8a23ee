/*
 * emulated.h - whether the test programs run under an emulator: a cross build's make check
 * sets HIDP_EMULATED=1 (Makefile.am, qemu-user), where the checks that take minutes run
 * smaller or skip, and timing bounds are wider. The native build runs them all.
 */
#ifndef HIDP_TEST_EMULATED_H
#define HIDP_TEST_EMULATED_H

#include <stdlib.h>
#include <string.h>

static inline int test_emulated(void)
{
    const char *e = getenv("HIDP_EMULATED");
    return e && strcmp(e, "1") == 0;
}

#endif
