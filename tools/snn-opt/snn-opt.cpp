//===- snn-opt.cpp - the snn optimizer driver -------------------------------===//
//
// mlir-opt with the snn dialect and every snn pass registered, plus the
// upstream dialects and passes that the lowering pipelines use.
// --load-pass-plugin and --load-dialect-plugin come with MlirOptMain.
//
//===----------------------------------------------------------------------===//
#include "compiler/Pipelines/Pipelines.h"
#include "dialects/SNN/IR/SNNDialect.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::snn::registerAllSNNPasses();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<mlir::snn::SNNDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "snn optimizer driver\n", registry));
}
