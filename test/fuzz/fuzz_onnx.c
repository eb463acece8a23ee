/*
 * fuzz_onnx.c - fuzz harness for the ONNX reader (and, on what it accepts, the writer).
 *
 * Built with -DHIDP_LIBFUZZER it is a libFuzzer target (test/fuzz/run.sh); otherwise the same
 * body is exported as hidp_fuzz_onnx for the plain-C smoke driver that `make check` runs
 * (smoke_main.c). Any input must be refused cleanly or read; a graph that was read must write
 * and read back, or the harness aborts so the fuzzer reports it.
 */
#include <stdint.h>
#include <stdlib.h>

#include "graph.h"
#include "onnx.h"

#ifdef HIDP_LIBFUZZER
#define HIDP_FUZZ_ONNX LLVMFuzzerTestOneInput
#else
#define HIDP_FUZZ_ONNX hidp_fuzz_onnx
#endif

int HIDP_FUZZ_ONNX(const uint8_t *data, size_t size);

int HIDP_FUZZ_ONNX(const uint8_t *data, size_t size)
{
    hidp__graph g, back;
    hidp__err err = {0};
    void *out = NULL;
    size_t out_size = 0;
    hidp__graph_init(&g);
    hidp__graph_init(&back);
    if (hidp__onnx_read(data, size, "fuzz.onnx", &g, &err) == 0) {
        if (hidp__onnx_write(&g, &out, &out_size, &err) != 0 ||
            hidp__onnx_read(out, out_size, "fuzz-rewritten.onnx", &back, &err) != 0)
            abort();
    }
    free(out);
    hidp__graph_free(&g);
    hidp__graph_free(&back);
    return 0;
}
