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

/// A row of the `snnc_entries` table: its name, the step it calls through
/// the packed wrapper `snnc_<function>`, and the CUDA side's workspace size.
struct EntryRow {
  std::string name, function;
  int64_t workspace = 0;
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

/// A trainer's model code as host object files, each side compiled on its
/// own: addSide translates a side in the LLVM dialect (the CPU side, or the
/// CUDA side's host code with its embedded PTX) to LLVM IR in a context of
/// its own, adds its packed entry points, optimizes it at O3 and writes its
/// objects (the code and, at -O0, the steps' glue); the two sides may be
/// added at once from two threads. addTables writes the tables of
/// translateForHost (entries of the sides added, model info, initial
/// values, the source model). The objects are temporaries, removed with
/// this; join writes them as one relocatable object.
class HostObjects {
public:
  HostObjects(llvm::ArrayRef<EntryPoint> entries, std::string cpu = "host");
  ~HostObjects();
  HostObjects(const HostObjects &) = delete;
  HostObjects &operator=(const HostObjects &) = delete;

  LogicalResult addSide(ModuleOp side, bool cudaSide, std::string &error);
  LogicalResult addTables(const std::string &modelInfo,
                          llvm::ArrayRef<DenseElementsAttr> paramInits,
                          const std::string &onnxModel, std::string &error);
  std::vector<std::string> objects() const;
  LogicalResult join(const std::string &path, std::string &error) const;

private:
  struct Side {
    bool added = false;
    std::vector<EntryRow> rows;
    std::vector<std::string> objects;
  };
  static LogicalResult temporary(std::vector<std::string> &into,
                                 std::string &error);
  std::vector<EntryPoint> entries;
  std::string cpu;
  Side sides[2];
  std::vector<std::string> tableObjects;
};

/// Whether LLVM's host target knows the CPU name `cpu` ("host" too).
bool isKnownCPU(const std::string &cpu);

} // namespace mlir::snn

#endif
