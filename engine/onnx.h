/*
 * onnx.h - reading an ONNX model into the graph IR, and writing a graph back as ONNX.
 *
 * The reader fills the graph as the file says: it resolves no ops (node->op stays NULL), sorts
 * nothing and folds nothing; the engine does that after. Every error is HIDP_EFORMAT (malformed
 * file), HIDP_EUNSUPPORTED (valid, but outside what hidp takes: external data, non-float inputs,
 * opsets outside 7..22) or HIDP_EIO, with a message that starts with the source name, e.g.
 * "model.onnx: node 'conv1': attribute 'pads': truncated".
 */
#ifndef HIDP_ONNX_H
#define HIDP_ONNX_H

#include <stddef.h>

#include "graph.h"

/* Lowest and highest default-domain opset the reader accepts. */
#define HIDP__OPSET_MIN 7
#define HIDP__OPSET_MAX 22

/* Largest file the reader takes: protobuf itself limits a message to 2 GiB. */
#define HIDP__ONNX_MAX_BYTES ((size_t)2 << 30)

/* Reads the ModelProto in data[0, size) into g, which must be initialised (hidp__graph_init).
 * source_name names the data in messages. On failure g may hold part of the model; the caller
 * frees it with hidp__graph_free either way. data is not kept. */
int hidp__onnx_read(const void *data, size_t size, const char *source_name, hidp__graph *g,
                    hidp__err *err);

/* Reads the file at path (HIDP_EIO if it cannot be read) and then as hidp__onnx_read. */
int hidp__onnx_read_file(const char *path, hidp__graph *g, hidp__err *err);

/* Serialises g's live nodes, the constants they use (as initializers with raw_data), its inputs
 * (declared shapes, dynamic dims as named dim_params) and outputs (bound shapes when known).
 * ir_version 8, opset g->opset (13 if unset). *data is malloc'd: the caller frees it. */
int hidp__onnx_write(const hidp__graph *g, void **data, size_t *size, hidp__err *err);

/* Writes the serialised graph to path through a temporary file renamed into place, so a
 * failure leaves no partial file. */
int hidp__onnx_write_file(const hidp__graph *g, const char *path, hidp__err *err);

#endif
