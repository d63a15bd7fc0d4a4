/*===- model.h - what a compiled model object exports --------------*- C -*-===
 *
 * snnc writes these symbols into every model object (compiler/Target/
 * ObjectEmitter.cpp); the trainer (runtime/trainer) and other drivers
 * (examples/single_neuron) read them. A step's calling convention is in
 * runtime/trainer/StepABI.h.
 *
 *===----------------------------------------------------------------------===*/
#ifndef SNNRT_MODEL_H
#define SNNRT_MODEL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A packed entry point: args[i] points at the i-th scalar of the lowered
   signature (a memref is allocated, aligned, offset, sizes, strides), and
   args[n] at the f32 result, if any. */
typedef void (*snnc_packed_fn)(void **args);

/* One compiled step. Names: "train:METHOD" (one per snnc --methods entry,
   e.g. "train:na", "train:stbp"), "eval", and the same with ":cuda" for the
   CUDA side, whose steps need a device workspace of `workspace_bytes`. */
typedef struct {
  const char *name;
  snnc_packed_fn fn;
  int64_t workspace_bytes;
} snnc_entry;

/* Every step of the object; the last entry has name == 0. */
extern const snnc_entry snnc_entries[];
/* The model description ("snnc-model 2", runtime/trainer/ModelDesc.h). */
extern const char snnc_model_info[];
/* Per parameter: its initial values, or 0 for Kaiming initialization. */
extern const float *const snnc_param_init[];
/* The source model as binary ONNX (size 0 when compiled from MLIR). */
extern const char snnc_onnx_model[];
extern const int64_t snnc_onnx_model_size;

#ifdef __cplusplus
}
#endif

#endif /* SNNRT_MODEL_H */
