/*
 * npy_diff.c - compares two .npy files for the shell tests: prints
 *   max_abs_diff MAX_ABS_DIFF max_abs_ref MAX_ABS_REF rel RELATIVE
 * where RELATIVE = max |a - b| / max(1e-30, max |ref|) and ref is the second file. With a
 * tolerance, exits 1 when RELATIVE exceeds it; exits 2 when a file cannot be read or the shapes
 * differ (NaN anywhere counts as an infinite difference).
 *
 * usage: npy_diff A.npy REF.npy [TOLERANCE]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "hidp.h"

int main(int argc, char **argv)
{
    hidp_array a = {0}, b = {0};
    int status = 2;
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: npy_diff A.npy REF.npy [TOLERANCE]\n");
        return 2;
    }
    if (hidp_npy_load(NULL, argv[1], &a) != 0 || hidp_npy_load(NULL, argv[2], &b) != 0) {
        fprintf(stderr, "npy_diff: cannot read %s\n", a.data ? argv[2] : argv[1]);
        goto done;
    }
    size_t n = 1;
    int same = a.ndim == b.ndim;
    for (int i = 0; same && i < a.ndim; i++) {
        same = a.dims[i] == b.dims[i];
        n *= (size_t)a.dims[i];
    }
    if (!same) {
        fprintf(stderr, "npy_diff: %s and %s have different shapes\n", argv[1], argv[2]);
        goto done;
    }
    double md = 0, mr = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a.data[i] - (double)b.data[i]);
        md = (d > md || d != d) ? (d != d ? INFINITY : d) : md;
        if (fabs((double)b.data[i]) > mr)
            mr = fabs((double)b.data[i]);
    }
    double rel = md / (mr > 1e-30 ? mr : 1e-30);
    printf("max_abs_diff %.3g max_abs_ref %.4g rel %.3g\n", md, mr, rel);
    status = argc == 4 && !(rel <= atof(argv[3])) ? 1 : 0;
done:
    hidp_array_free(&a);
    hidp_array_free(&b);
    return status;
}
