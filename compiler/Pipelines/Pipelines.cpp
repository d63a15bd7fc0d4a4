//===- Pipelines.cpp - registration of every snn pass and pipeline ---------===//
#include "compiler/Pipelines/Pipelines.h"
#include "compiler/Conversion/Passes.h"
#include "compiler/Neighborhood/Passes.h"
#include "compiler/Training/Passes.h"
#include "compiler/Transforms/Passes.h"

void mlir::snn::registerAllSNNPasses() {
  registerTrainingPasses();
  registerNeighborhoodPasses();
  registerTransformsPasses();
  registerConversionPasses();
}
