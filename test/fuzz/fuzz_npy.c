/*
 * fuzz_npy.c - fuzz harness for the .npy parser. Built with -DHIDP_LIBFUZZER it is a libFuzzer
 * target; otherwise the body is exported as hidp_fuzz_npy for the smoke driver (smoke_main.c).
 * An accepted array must have the element count its shape says (checked by touching it all).
 */
#include <stdint.h>
#include <stdlib.h>

#include "npy.h"

#ifdef HIDP_LIBFUZZER
#define HIDP_FUZZ_NPY LLVMFuzzerTestOneInput
#else
#define HIDP_FUZZ_NPY hidp_fuzz_npy
#endif

int HIDP_FUZZ_NPY(const uint8_t *data, size_t size);

int HIDP_FUZZ_NPY(const uint8_t *data, size_t size)
{
    hidp_array a;
    hidp__err err = {0};
    if (hidp__npy_parse(data, size, "fuzz.npy", &a, &err) == 0) {
        size_t count = 1;
        volatile float sink = 0;
        for (int i = 0; i < a.ndim; i++)
            count *= (size_t)a.dims[i];
        if (a.ndim < 0 || a.ndim > HIDP_MAX_DIMS || count * 4 > size)
            abort();
        for (size_t i = 0; i < count; i++)
            sink += a.data[i];
        (void)sink;
        hidp_array_free(&a);
    }
    return 0;
}
