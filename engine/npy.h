/*
 * npy.h - NumPy .npy files (little-endian float32, C order) and the whole-file helpers the
 * model readers and writers share.
 *
 * The public hidp_npy_load / hidp_npy_save (engine/context.c) wrap these and keep the message
 * in the context; hidp_array_free lives in npy.c.
 */
#ifndef HIDP_NPY_H
#define HIDP_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Largest .npy header hidp reads (numpy writes about 128 bytes). */
#define HIDP__NPY_MAX_HEADER (1 << 20)

/* Parses a whole .npy file held in buf[0, size). source names it in messages. On success out
 * owns a malloc'd copy of the data (hidp_array_free); on failure out is zeroed. Versions 1.0,
 * 2.0 and 3.0; only '<f4' in C order (or an array whose C and Fortran layouts coincide), and the
 * data must be exactly the shape's size. Errors: HIDP_EFORMAT, HIDP_ENOMEM. */
int hidp__npy_parse(const void *buf, size_t size, const char *source, hidp_array *out,
                    hidp__err *err);

/* Reads and parses the file at path (HIDP_EIO when it cannot be read). */
int hidp__npy_load(const char *path, hidp_array *out, hidp__err *err);

/* Writes a version 1.0 .npy file of ndim (0..HIDP_MAX_DIMS) dims, atomically. */
int hidp__npy_save(const char *path, const float *data, const int64_t *dims, int32_t ndim,
                   hidp__err *err);

/* Reads the whole file at path into *data (malloc'd, caller frees) of *size bytes. A file larger
 * than max fails with HIDP_EFORMAT; a file that cannot be opened or read, HIDP_EIO. */
int hidp__read_file(const char *path, size_t max, void **data, size_t *size, hidp__err *err);

/* Maps the regular file at path read-only (*data, *size; hidp__unmap_file releases it). A file
 * that cannot be mapped (a pipe, an empty file) returns 1 with nothing mapped, so the caller can
 * fall back on hidp__read_file, which reports the reason; errors as hidp__read_file otherwise. */
int hidp__map_file(const char *path, size_t max, const void **data, size_t *size,
                   hidp__err *err);
void hidp__unmap_file(const void *data, size_t size);
/* Drops from memory the whole pages inside [p, p + n) of a mapping made by hidp__map_file, once
 * they have been read for good (a later read would fetch them from the file again). */
void hidp__release_pages(const void *p, size_t n);

/* Writes data to path through a temporary file in the same directory that is renamed into
 * place, so readers never see a partial file and a failure leaves nothing behind. Errors name
 * the path and the system's reason (HIDP_EIO). */
int hidp__write_file_atomic(const char *path, const void *data, size_t size, hidp__err *err);

#endif
