/*
 * smoke_main.c - runs the fuzz harnesses without libFuzzer, as part of `make check`.
 *
 * Every file in test/fuzz/corpus (found through $HIDP_SRCDIR) is fed to both harnesses, then a
 * fixed number of mutations of them (bit flips, truncations, inserted and deleted bytes,
 * corrupted length fields, copied chunks) from a fixed seed, so a failure repeats. The check is
 * that nothing crashes; under --enable-sanitizers ASan and UBSan also catch any bad access.
 * Each input is copied into a buffer of exactly its size so that an overread is caught.
 * HIDP_FUZZ_ITERS overrides the number of mutations per harness (default 3000).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tap.h"

int hidp_fuzz_onnx(const uint8_t *data, size_t size);
int hidp_fuzz_npy(const uint8_t *data, size_t size);

typedef struct blob {
    uint8_t *p;
    size_t n;
    int is_npy;
} blob;

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static size_t below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

static int load_corpus(const char *dir, blob *seeds, int max)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && n < max && (e = readdir(d))) {
        char path[1400];
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        uint8_t *buf = malloc(1 << 20);
        size_t len = buf ? fread(buf, 1, 1 << 20, f) : 0;
        fclose(f);
        if (!buf)
            continue;
        seeds[n].p = buf;
        seeds[n].n = len;
        seeds[n].is_npy = len >= 6 && !memcmp(buf, "\x93NUMPY", 6);
        n++;
    }
    if (d)
        closedir(d);
    return n;
}

/* One random edit of b (capacity cap) in place. */
static void mutate(uint8_t *b, size_t *n, size_t cap)
{
    size_t at = below(*n), k;
    /* Edits that keep the size come first and most often: in protobuf, a size change breaks
     * the enclosing lengths and is refused at the top level. */
    switch (rnd() % 11) {
    case 0: case 8: case 9: /* flip a bit */
        if (*n)
            b[at] ^= (uint8_t)(1u << (rnd() % 8));
        break;
    case 1: /* truncate (size changes from here on) */
        *n = below(*n + 1);
        break;
    case 2: /* insert random bytes */
        k = 1 + below(8);
        if (*n + k <= cap) {
            memmove(b + at + k, b + at, *n - at);
            for (size_t i = 0; i < k; i++)
                b[at + i] = (uint8_t)rnd();
            *n += k;
        }
        break;
    case 3: { /* a value that is special to varints and lengths */
        static const uint8_t special[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0x08, 0x0a, 0x12};
        if (*n)
            b[at] = special[below(sizeof special)];
        break;
    }
    case 4: case 10: /* corrupt what follows a length-delimited key (wire type 2) */
        for (size_t i = 0; i < *n; i++) {
            size_t p = (at + i) % *n;
            if ((b[p] & 7) == 2 && p + 1 < *n) {
                size_t len = 1 + below(5);
                for (size_t j = 0; j < len && p + 1 + j < *n; j++)
                    b[p + 1 + j] = j + 1 < len ? (uint8_t)(0x80 | rnd()) : (uint8_t)(rnd() & 0x7f);
                break;
            }
        }
        break;
    case 5: /* delete a range */
        k = below(*n - at + 1);
        memmove(b + at, b + at + k, *n - at - k);
        *n -= k;
        break;
    case 6: /* copy a chunk over another place */
        if (*n) {
            size_t from = below(*n);
            k = below(*n - (at > from ? at : from) + 1);
            memmove(b + at, b + from, k);
        }
        break;
    default: /* change a digit or a punctuation mark (the .npy header) */
        for (size_t i = 0; i < *n; i++) {
            size_t p = (at + i) % *n;
            if ((b[p] >= '0' && b[p] <= '9') || b[p] == ',' || b[p] == ')' || b[p] == '\'') {
                b[p] = "0123456789,)('} 9L"[below(18)];
                break;
            }
        }
        break;
    }
}

/* Feeds the corpus, then iters mutations: 7 in 8 of seeds of the harness's own kind, the
 * rest of any kind. */
static void run(const char *name, int (*fn)(const uint8_t *, size_t), const blob *seeds,
                int n_seeds, long iters, int want_npy)
{
    int own[64], n_own = 0;
    for (int i = 0; i < n_seeds; i++)
        if (seeds[i].is_npy == want_npy)
            own[n_own++] = i;
    for (int i = 0; i < n_seeds; i++) {
        uint8_t *copy = malloc(seeds[i].n ? seeds[i].n : 1);
        memcpy(copy, seeds[i].p, seeds[i].n);
        fn(copy, seeds[i].n);
        free(copy);
    }
    tap_ok(1, "%s harness: %d corpus files, no crash", name, n_seeds);
    for (long it = 0; it < iters; it++) {
        const blob *s = &seeds[n_own && rnd() % 8 ? own[below((size_t)n_own)]
                                                  : (int)below((size_t)n_seeds)];
        size_t cap = s->n + 64, n = s->n;
        uint8_t *work = malloc(cap);
        memcpy(work, s->p, s->n);
        int edits = 1 + (int)below(3);
        for (int e = 0; e < edits; e++)
            mutate(work, &n, cap);
        uint8_t *exact = malloc(n ? n : 1);
        memcpy(exact, work, n);
        fn(exact, n);
        free(exact);
        free(work);
    }
    tap_ok(1, "%s harness: %ld mutations, no crash", name, iters);
}

int main(void)
{
    blob seeds[64];
    char dir[1024];
    const char *src = getenv("HIDP_SRCDIR");
    snprintf(dir, sizeof dir, "%s/test/fuzz/corpus", src && *src ? src : ".");
    int n = load_corpus(dir, seeds, 63);
    if (n == 0) {
        tap_skip("corpus not found", "%s (set HIDP_SRCDIR)", dir);
        /* Still mutate something: a minimal .npy. */
        static uint8_t npy[] = "\x93NUMPY\x01\x00\x3d\x00{'descr': '<f4', 'fortran_order': "
                               "False, 'shape': (1,), }   \n\0\0\x80\x3f";
        seeds[0].p = malloc(sizeof npy - 1);
        memcpy(seeds[0].p, npy, sizeof npy - 1);
        seeds[0].n = sizeof npy - 1;
        seeds[0].is_npy = 1;
        n = 1;
    }
    const char *it = getenv("HIDP_FUZZ_ITERS");
    long iters = it && *it ? strtol(it, NULL, 10) : 3000;
    run("onnx", hidp_fuzz_onnx, seeds, n, iters, 0);
    rng = 0x9e3779b97f4a7c15u;
    run("npy", hidp_fuzz_npy, seeds, n, iters, 1);
    for (int i = 0; i < n; i++)
        free(seeds[i].p);
    return tap_done();
}
