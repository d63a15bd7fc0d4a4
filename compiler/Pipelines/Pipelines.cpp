#include "compiler/Pipelines/Pipelines.h"

void mlir::snn::registerAllSNNPasses() {}
