/*
 * test_hugemem.c - the large buffers' allocator (engine/hugemem.h): alignment, every byte
 * usable, and the huge-page advice as the kernel reports it in /proc/self/smaps.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hugemem.h"
#include "emulated.h"
#include "tap.h"

#define MB ((size_t)1 << 20)

/* Whether every byte of p[0, bytes) holds what was written there, byte by byte. */
static int fill_and_check(unsigned char *p, size_t bytes)
{
    for (size_t i = 0; i < bytes; i++)
        p[i] = (unsigned char)(i * 131 + 7);
    for (size_t i = 0; i < bytes; i++)
        if (p[i] != (unsigned char)(i * 131 + 7))
            return 0;
    return 1;
}

/* The THPeligible field of the mapping that holds address a in /proc/self/smaps: 1 or 0, -1
 * when the file, the mapping or the field is missing (older kernels, emulators). */
static int thp_eligible(const void *a)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int inside = 0, found = -1;
    const uintptr_t at = (uintptr_t)a;
    while (f && found < 0 && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        int flag;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
            inside = at >= lo && at < hi;
        else if (inside && sscanf(line, "THPeligible: %d", &flag) == 1)
            found = flag;
    }
    if (f)
        fclose(f);
    return found;
}

/* The system's THP mode, "always", "madvise" or "never" (the bracketed word), or "" when
 * unknown. */
static const char *thp_mode(char *buf, size_t size)
{
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    buf[0] = '\0';
    char line[128];
    if (f && fgets(line, sizeof line, f)) {
        const char *open = strchr(line, '['), *close = open ? strchr(open, ']') : NULL;
        if (close && (size_t)(close - open) < size) {
            memcpy(buf, open + 1, (size_t)(close - open - 1));
            buf[close - open - 1] = '\0';
        }
    }
    if (f)
        fclose(f);
    return buf;
}

int main(void)
{
    unsigned char *small = hidp__huge_alloc(1000), *none = hidp__huge_alloc(0);
    tap_ok(small && (uintptr_t)small % 64 == 0 && fill_and_check(small, 1000),
           "1000 bytes: aligned to 64, every byte usable");
    tap_ok(none && (uintptr_t)none % 64 == 0, "0 bytes: a buffer all the same (64-aligned)");
    free(small);
    free(none);

    const size_t bytes = 5 * MB + 123; /* two whole huge pages and a tail */
    unsigned char *big = hidp__huge_alloc(bytes);
    tap_ok(big && (uintptr_t)big % (2 * MB) == 0 && fill_and_check(big, bytes),
           "5 MB and 123 bytes: aligned to 2 MB, every byte usable");

    char mode[32];
    const int eligible = big ? thp_eligible(big) : -1;
    if (test_emulated())
        tap_skip("under emulation (/proc/self/smaps is the emulator's)", "huge pages advised");
    else if (!strcmp(thp_mode(mode, sizeof mode), "never") || !mode[0])
        tap_skip("transparent huge pages are off on this system", "huge pages advised");
    else if (eligible < 0)
        tap_skip("no THPeligible field in /proc/self/smaps", "huge pages advised");
    else
        tap_ok(eligible == 1,
               "huge pages advised: the kernel counts the buffer eligible (THP "
               "'%s', THPeligible %d)",
               mode, eligible);
    free(big);
    return tap_done();
}
