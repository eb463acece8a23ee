/*
 * topo_data.h - the hwloc XML topologies of test/data/topo, for the tests that load them: where
 * they are (HIDP_SRCDIR, else the current directory) and a diagnostic for a list of PUs.
 */
#ifndef HIDP_TEST_TOPO_DATA_H
#define HIDP_TEST_TOPO_DATA_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"

static char topo_datadir[1024];

static inline void topo_data_init(void)
{
    const char *src = getenv("HIDP_SRCDIR");
    snprintf(topo_datadir, sizeof topo_datadir, "%s/test/data/topo", src ? src : ".");
}

/* The path of file in test/data/topo into buf; whether it is readable. */
static inline int path_of(char *buf, size_t len, const char *file)
{
    snprintf(buf, len, "%s/%s", topo_datadir, file);
    return access(buf, R_OK) == 0;
}

static inline void list_diag(const char *what, const int *pus, int n)
{
    char buf[256];
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && at + 12 < sizeof buf; i++)
        at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%d", i ? "," : "", pus[i]);
    tap_diag("  %s: [%s]", what, buf);
}

#endif
