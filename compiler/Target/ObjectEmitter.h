//===- ObjectEmitter.h - LLVM dialect -> LLVM IR -> object file ---*- C++ -*-===//
#ifndef SNNC_COMPILER_TARGET_OBJECTEMITTER_H
#define SNNC_COMPILER_TARGET_OBJECTEMITTER_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

#include <memory>
#include <vector>
#include <string>

namespace mlir::snn {

/// A step the object exports in its `snnc_entries` table
/// (runtime/include/snnrt/model.h): `name` ("train:na", "eval") and the
/// function it calls ("train_step", "eval_step").
struct EntryPoint {
  std::string name, function;
};

/// Translates a module in the LLVM dialect to LLVM IR for the host, adds the
/// packed entry points `snnc_<function>(void **)` of `entries` (argument i
/// is read from args[i], the f32 result written to args[n]), the table
/// `snnc_entries` of them (with the `:cuda` ones of the CUDA side and their
/// workspace sizes) and
/// the `snnc_model_info` string, the table `snnc_param_init` (one pointer
/// per parameter to its initial f32 values, null for Kaiming initialization
/// at train time), the source model `snnc_onnx_model` / `snnc_onnx_model_size`
/// (binary ONNX, empty when compiled from MLIR; the trainer's --export
/// writes it back with the learned weights), and optimizes it at O3.
/// `cudaModule` (may be null) is the CUDA side after its host LLVM stage; it
/// is linked in, with packed wrappers `snnc_<name>_cuda` too.
/// `cpu` is the processor the code is tuned for: "host" (this machine's CPU
/// and features), or an LLVM CPU name (x86-64, x86-64-v3, skylake-avx512,
/// znver4, ...) for trainers carried to other machines.
std::unique_ptr<llvm::Module>
translateForHost(ModuleOp module, ModuleOp cudaModule, llvm::LLVMContext &ctx,
                 llvm::ArrayRef<EntryPoint> entries,
                 const std::string &modelInfo,
                 llvm::ArrayRef<DenseElementsAttr> paramInits,
                 const std::string &onnxModel, std::string &error,
                 const std::string &cpu = "host");

/// Writes `module` as a host object file with LLVM's TargetMachine.
LogicalResult emitObjectFile(llvm::Module &module, const std::string &path,
                             std::string &error,
                             const std::string &cpu = "host");

/// Whether LLVM's host target knows the CPU name `cpu` ("host" too).
bool isKnownCPU(const std::string &cpu);

} // namespace mlir::snn

#endif
